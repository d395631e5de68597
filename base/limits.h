// Every limit in REEL, named in one place, units last (TigerBeetle style).
// Components include this header rather than inventing their own constants,
// and static_asserts below check how the limits relate.
#pragma once

#include <cstddef>
#include <cstdint>

namespace reel::limits {

// --- Identity and names -------------------------------------------------------
inline constexpr size_t chain_id_bytes_max = 64;
inline constexpr size_t org_id_bytes_max = 63;
inline constexpr size_t lot_id_bytes_max = 64;

// --- Transactions -------------------------------------------------------------
inline constexpr size_t tx_body_bytes_max = 64 * 1024;
inline constexpr size_t tx_signatures_max = 16;
inline constexpr size_t tx_envelope_bytes_max = tx_body_bytes_max + tx_signatures_max * 128;

// --- Blocks -------------------------------------------------------------------
inline constexpr size_t block_txs_max = 2000;
inline constexpr size_t block_bytes_max = 8 * 1024 * 1024;
// The smallest block_bytes_max a chain may set (ConsensusParams): the largest
// transaction and a block's framing must fit, or that transaction could never commit.
inline constexpr size_t block_bytes_min = 256 * 1024;

// --- Wire ---------------------------------------------------------------------
// gRPC max receive size: one full block plus its certificates and framing.
inline constexpr size_t grpc_message_bytes_max = block_bytes_max + 1024 * 1024;

// --- Validators ---------------------------------------------------------------
inline constexpr size_t validators_max = 100;

// --- Key files ----------------------------------------------------------------
inline constexpr size_t key_file_bytes_max = 4096;

// --- Consensus (consensus/, CONSENSUS.md) ----------------------------------------
// Round timer: starts at the initial value; a round gets its base grown x1.5 (the
// default of ConsensusParams.round_timeout_backoff_percent) for each round since the
// newest certified one short of the round before (consensus/pacemaker.h), never beyond
// the max; the base is set again after each QC.
inline constexpr uint64_t round_timeout_ms_initial = 1000;
inline constexpr uint64_t round_timeout_ms_max = 30000;
// The most a chain may set (ConsensusParams): a cap of ten minutes already leaves a
// chain waiting that long for a leader that is gone, and a growth of x10 per round
// reaches it in a few rounds; beyond these, timer arithmetic would be near overflow.
inline constexpr uint64_t round_timeout_ms_ceiling = 10 * 60 * 1000;
inline constexpr uint32_t round_timeout_backoff_percent_ceiling = 1000;
// The round timer adapts to observed rounds (consensus/pacemaker.h) but never below
// this: a few round trips and a block's execution on a loaded 2-core node.
inline constexpr uint64_t round_timeout_ms_floor = 250;
inline constexpr uint32_t round_timeout_backoff_percent = 150;
// How far a proposal's timestamp may run ahead of the voter's clock (the default of
// ConsensusParams.clock_drift_max_ms), and the least a chain may set: below a second,
// servers a few hundred milliseconds apart would refuse each other's blocks.
inline constexpr uint64_t block_timestamp_drift_ms_max = 5000;
inline constexpr uint64_t block_timestamp_drift_ms_min = 1000;
// The most a chain may set: an hour is already more skew than any clock should have, and
// a far larger drift would let a leader date blocks in another quota year.
inline constexpr uint64_t block_timestamp_drift_ms_ceiling = 60 * 60 * 1000;
// Votes and timeouts are kept only for rounds in [current - 1, current + this];
// anything further ahead is dropped, so a flood of future rounds costs nothing.
inline constexpr uint64_t consensus_future_rounds_max = 64;
// Proposals waiting for missing ancestors (oldest dropped first).
inline constexpr size_t consensus_pending_proposals_max = 16;
// QCs whose block is not yet here (oldest dropped first).
inline constexpr size_t consensus_pending_qcs_max = 16;
// Block fetches in flight at once.
inline constexpr size_t consensus_fetches_in_flight_max = 16;
// Blocks in one fetch answer (a longer gap is fetched in several answers).
inline constexpr size_t consensus_fetch_blocks_max = 64;
// Uncommitted blocks held in the block tree; a proposal beyond this is refused.
inline constexpr size_t consensus_block_tree_blocks_max = 4096;

static_assert(round_timeout_ms_initial <= round_timeout_ms_max);
static_assert(round_timeout_ms_max <= round_timeout_ms_ceiling);
static_assert(round_timeout_backoff_percent > 100 &&
              round_timeout_backoff_percent <= round_timeout_backoff_percent_ceiling);
static_assert(block_timestamp_drift_ms_min <= block_timestamp_drift_ms_max &&
              block_timestamp_drift_ms_max <= block_timestamp_drift_ms_ceiling);
static_assert(consensus_block_tree_blocks_max > consensus_fetch_blocks_max);

static_assert(tx_envelope_bytes_max < block_bytes_min && block_bytes_min <= block_bytes_max);
static_assert(block_bytes_max < grpc_message_bytes_max);

// --- Ledger (node/ledger/, docs/LEDGER.md) ---------------------------------------
// Lots named by one transaction (Process inputs and outputs, Split parts, offer and
// clearing lots, seized lots), so that one transaction's work and writes are bounded.
inline constexpr size_t ledger_tx_lots_max = 256;
// Roles in one list (there are 7 roles).
inline constexpr size_t ledger_roles_max = 16;
// Signatory keys of one organisation; a transaction can carry at most this many
// signatures anyway.
inline constexpr size_t ledger_org_keys_max = tx_signatures_max;
// Free text fields (names, addresses, reasons, purposes, descriptions), bytes.
inline constexpr size_t ledger_text_bytes_max = 1024;
// Entries of each list of a restriction match and elements of a licence.
inline constexpr size_t ledger_match_items_max = 64;
// Restrictions not yet lifted, at once: every application, grant and clearing reads
// all of them, so their number bounds that work.
inline constexpr size_t ledger_restrictions_open_max = 1000;
// Quota years the ledger accepts (SetQuota, and block times it can charge).
inline constexpr uint32_t ledger_quota_year_min = 2000;
inline constexpr uint32_t ledger_quota_year_max = 2200;
// Queries: page sizes (proto/README.md, "Paging"), and the keys one page may read
// before it returns what it has with a token to go on.
inline constexpr uint32_t query_page_size_default = 100;
inline constexpr uint32_t query_page_size_max = 1000;
inline constexpr size_t query_page_keys_scanned_max = 20000;
// The longest token the ledger writes. Most are a key; ExportStats' carries a pass in
// progress (its groups so far, trimmed to fit).
inline constexpr size_t query_page_token_bytes_max = 4000;
// Trace: nodes the server visits for one trace (a page recomputes the walk up to its
// end, so this bounds memory and work per page).
inline constexpr size_t query_trace_nodes_max = 100000;

static_assert(ledger_org_keys_max <= tx_signatures_max);
static_assert(query_page_size_default <= query_page_size_max);
static_assert(query_page_size_max < query_page_keys_scanned_max);
static_assert(ledger_quota_year_min < ledger_quota_year_max);

// --- Daemon (node/daemon/) -------------------------------------------------------
// Files read at start-up, checked before parsing: a config or genesis file larger
// than this is a mistake (or an attack on the parser), not a setting.
inline constexpr size_t daemon_config_file_bytes_max = 64 * 1024;
inline constexpr size_t daemon_genesis_file_bytes_max = 16 * 1024 * 1024;
inline constexpr size_t daemon_moniker_bytes_max = 64;
// [api] max_message_bytes: at least one full transaction, at most the gRPC bound.
inline constexpr uint64_t daemon_api_message_bytes_min = tx_envelope_bytes_max;
inline constexpr uint64_t daemon_api_message_bytes_max = grpc_message_bytes_max;
// The metrics/health HTTP server: worker threads, and how long a slow client may
// hold one (reads and writes), so that idle connections cannot starve scrapes.
inline constexpr size_t daemon_http_threads = 2;
inline constexpr uint64_t daemon_http_timeout_ms = 5000;
// Request bodies are never needed by /metrics or /healthz.
inline constexpr size_t daemon_http_body_bytes_max = 1024;

// glibc malloc arenas (M_ARENA_MAX): one per core, at least two. glibc's default, eight
// per core, lets every thread of the peer server that parses a large message keep its
// own arena's high-water mark resident: under one peer's flood (flood_test.sh) the
// victim's RSS reached ~700 MB with the default and ~340 MB with one per core, for the
// same live data.
inline constexpr size_t daemon_malloc_arenas_per_core = 1;
inline constexpr size_t daemon_malloc_arenas_min = 2;

static_assert(daemon_api_message_bytes_min < daemon_api_message_bytes_max);

// --- Peer transport (node/net/) ---------------------------------------------------
// A peer message (Push, GossipTxs, GetBlocks...) on the wire: the gRPC receive bound of
// the peer server and of peer clients.
inline constexpr size_t net_message_bytes_max = grpc_message_bytes_max;
// Transactions in one GossipTxs request, or one message of a GossipTxsStream.
inline constexpr size_t net_gossip_txs_max = 1000;
// Gossip (node/daemon/peer_glue.h): admitted transactions waiting for one peer, by
// count and by bytes (the newest is dropped beyond either). A batch carries at most
// gossip_batch_bytes_max, well under what a peer's server receives. A stream's open or
// write that has not returned after net_call_deadline_ms is cancelled (a peer that
// accepts and never reads holds no sender). A sender writes a batch to its peer's
// stream with gossip_batch_txs waiting, or else gossip_linger_ms after the later of the
// oldest's arrival and the previous write. Each batch costs both ends a wakeup and an admission
// pass whatever its size: 40 ms gave testnet/bench.sh 1,807 / 1,873 tx/s against
// 1,684 / 1,653 with 10 ms, at the same p50 (docs/DECISIONS.md, "Gossip streams").
inline constexpr size_t gossip_queue_txs_per_peer_max = 20000;
inline constexpr size_t gossip_queue_bytes_per_peer_max = 64 * 1024 * 1024;
inline constexpr size_t gossip_batch_bytes_max = net_message_bytes_max / 2;
inline constexpr size_t gossip_batch_txs = 200;
inline constexpr uint64_t gossip_linger_ms = 40;
// Blocks asked for in one GetBlocks request; a longer range is clamped (the server may
// answer fewer still, to stay under net_message_bytes_max).
inline constexpr uint64_t net_sync_blocks_per_request_max = 256;
// Bytes of blocks in one GetBlocks answer (at least one block is always sent).
inline constexpr size_t net_sync_response_bytes_max = block_bytes_max;
// Blocks a GetBlocks answer drops from its end looking for one whose commit proof is
// on disk, before it answers with none.
inline constexpr uint64_t net_sync_proof_tries_max = 8;
// Push streams one peer may hold open at once on a server: one in use, and a few that
// a reconnecting peer has given up on but the server has not yet seen close.
inline constexpr size_t net_push_streams_per_peer_max = 4;
// GossipTxsStream streams one peer may hold open at once on a server: one in use, and
// one a reconnecting peer has given up on but the server has not yet seen close.
inline constexpr size_t net_gossip_streams_per_peer_max = 2;
// Request/response calls (gossip, sync) one peer may have in flight on a server.
inline constexpr size_t net_calls_per_peer_max = 8;
// HTTP/2 streams on one connection; a peer's channel is one connection.
inline constexpr size_t net_connection_streams_max =
    net_push_streams_per_peer_max + net_gossip_streams_per_peer_max + net_calls_per_peer_max;
// Threads of the peer server (each open stream holds one): every validator's streams
// and calls, plus room for refusing the calls beyond that.
inline constexpr size_t net_server_threads_max = validators_max * net_connection_streams_max / 2;
// A TLS handshake that takes longer is abandoned, so idle half-open connections cost
// nothing for long.
inline constexpr uint64_t net_handshake_timeout_ms = 10000;
// Consensus messages waiting to be sent to one peer; beyond either bound the oldest is
// dropped (consensus tolerates loss, and a stale message is the least useful one).
inline constexpr size_t net_outbound_queue_messages_max = 1024;
inline constexpr size_t net_outbound_queue_bytes_max = 4 * grpc_message_bytes_max;
// Reconnecting a broken Push stream, and gRPC's own reconnect of the channel: the wait
// doubles from min to max while attempts fail, and resets after a success.
inline constexpr uint64_t net_reconnect_backoff_ms_min = 100;
inline constexpr uint64_t net_reconnect_backoff_ms_max = 5000;
// A connection without calls for this long is closed (a peer reconnects when it needs
// to), so that idle connections do not pile up.
inline constexpr uint64_t net_connection_idle_ms_max = 5 * 60 * 1000;
// Keepalive pings, so that a half-dead connection (peer gone without a FIN) is noticed.
inline constexpr uint64_t net_keepalive_interval_ms = 10000;
inline constexpr uint64_t net_keepalive_timeout_ms = 5000;
// Default deadline of a request/response call (sync, gossip).
inline constexpr uint64_t net_call_deadline_ms = 10000;
// A PEM certificate or key file read from disk.
inline constexpr size_t tls_pem_file_bytes_max = 64 * 1024;
// Certificate fingerprints remembered by PEM text (the validators', observers'): far
// more than a chain has, so the cache is cleared only by a flood of strangers.
inline constexpr size_t tls_fingerprint_cache_entries_max = 1024;

static_assert(net_message_bytes_max >= block_bytes_max);
static_assert(gossip_batch_bytes_max >= tx_envelope_bytes_max + 1024,
              "a gossip batch holds at least one transaction of any size");
static_assert(net_sync_response_bytes_max + 1024 * 1024 <= net_message_bytes_max,
              "a sync answer, its commit proof and QC fit in one message");

// --- Inbound peer work (node/daemon/peer_budget.h) -----------------------------------
// What one validator may have waiting on this node's loop at once. Beyond either bound a
// message or request is dropped and counted against that peer (reel_peer_dropped_total),
// so a flooding peer costs at most this much and never the budget of another.
//
// Consensus messages by count: an honest sender keeps at most
// net_outbound_queue_messages_max for us when we are slow, so it never has more waiting
// here. At 3,000 tx/s in blocks no closer than block_interval_ms_min_default (<= 20
// rounds/s) a peer sends us at most a proposal, a vote, a timeout, a QC and a TC per
// round: 100 a second, so this covers a loop stalled for ten seconds.
inline constexpr size_t inbound_consensus_messages_per_peer_max = net_outbound_queue_messages_max;
// Consensus messages by bytes of memory, measured as protobuf's SpaceUsedLong and not as
// wire bytes: a message of many empty repeated fields parses to ~25x its wire size. The
// largest honest proposal is block_bytes_max on the wire plus, in memory, one object per
// transaction and signature (block_txs_max * (1 + tx_signatures_max) objects of under
// 128 bytes: ~4 MiB); room for two of them, and every vote and timeout besides.
inline constexpr size_t inbound_consensus_bytes_per_peer_max = 4 * block_bytes_max;
// How long a message beyond either bound waits for the loop to make room in its peer's
// budget before it is dropped. Meanwhile that stream is not read, so flow control holds
// the sender back: a flooding peer is slowed to what the loop takes from it, instead of
// costing the node a TLS decrypt and a parse for every message it drops. An honest peer
// is never there; a loop that has not made room by then is stalled, and the message is
// likely stale anyway. Also bounds how long a node's shutdown waits for such a stream.
inline constexpr uint64_t inbound_consensus_wait_ms = 500;
// Block requests (GetBlock) waiting for the loop to answer. An honest peer asks one at a
// time (NetTransport's one fetch worker); the rest cover asks whose caller gave up
// waiting (peer_glue.cc) while the loop was busy, which stay queued until it runs them.
inline constexpr size_t inbound_block_requests_per_peer_max = 4;
// Committed blocks read from disk for one peer at once (GetBlock ancestry, GetBlocks
// ranges; observers share one such budget): each read is up to block_bytes_max read,
// parsed and sent. An honest validator reads with at most two threads at a time (its
// one fetch worker and its one sync thread), so two never hold it back; a flooding peer
// gets at most two such reads going, however many calls it makes.
inline constexpr size_t inbound_block_reads_per_peer_max = 2;
// How long a read beyond that bound waits for one of the peer's reads to finish before
// it is refused with RESOURCE_EXHAUSTED (the caller's thread waits, so the peer's calls
// in flight stay bounded by net_calls_per_peer_max).
inline constexpr uint64_t inbound_block_read_wait_ms = 1000;
// How fast one peer may make the node read and send committed blocks, sustained, and the
// burst it may take at once. Two reads at once still let a peer ask for block_bytes_max
// answers back to back (in flood_test.sh: ~60 a second, two busy cores); paced, a node
// that is behind syncs from each peer at two full blocks a second, ten times the chain's
// growth at 3,000 tx/s of ~500-byte transactions, and an occasional fetch (an honest
// validator's missing ancestor) never waits.
inline constexpr uint64_t inbound_block_read_bytes_per_second = 2 * block_bytes_max;
inline constexpr uint64_t inbound_block_read_burst_bytes = 4 * block_bytes_max;

static_assert(inbound_consensus_bytes_per_peer_max >=
                  2 * (block_bytes_max + block_txs_max * (1 + tx_signatures_max) * 128),
              "two of the largest honest proposals fit in one peer's budget");
static_assert(inbound_consensus_messages_per_peer_max >= 10 * 20 * 5,
              "ten seconds of one peer's messages at 20 rounds a second");
static_assert(inbound_block_requests_per_peer_max <= net_calls_per_peer_max);
static_assert(inbound_block_reads_per_peer_max >= 2 &&
              inbound_block_reads_per_peer_max <= net_calls_per_peer_max);
static_assert(inbound_block_read_wait_ms < net_call_deadline_ms);
static_assert(inbound_block_read_burst_bytes >= 2 * net_sync_response_bytes_max,
              "a range and a fetch answer fit in one burst");

// --- Block sync (node/replica/block_sync.h) ---------------------------------------
// How often a node asks its peers where they are.
inline constexpr uint64_t sync_poll_interval_ms = 500;
// A validator syncs by ranges only when this far behind its furthest peer; closer
// than that, consensus' own ancestor fetches are quicker. An observer always syncs.
inline constexpr uint64_t sync_validator_lag_blocks_min = 2 * consensus_fetch_blocks_max;
// How long a validator waits for its replica's loop to apply one range.
inline constexpr uint64_t sync_apply_wait_ms = 60000;
static_assert(net_server_threads_max >= 2 * validators_max);
static_assert(net_reconnect_backoff_ms_min > 0);
static_assert(net_reconnect_backoff_ms_min <= net_reconnect_backoff_ms_max);
static_assert(net_outbound_queue_bytes_max >= net_message_bytes_max,
              "the largest message must fit in an empty queue");

// --- Block pacing (node defaults; genesis consensus params may override) --------
// A leader proposes no sooner than this after its parent, and, with nothing to order,
// no sooner than the idle interval: an idle chain makes two blocks a second, not
// hundreds. The idle interval stays well inside the first round timeout.
inline constexpr uint64_t block_interval_ms_min_default = 50;
inline constexpr uint64_t idle_block_interval_ms_default = 500;
static_assert(idle_block_interval_ms_default * 2 <= round_timeout_ms_initial);
static_assert(block_interval_ms_min_default <= idle_block_interval_ms_default,
              "ConsensusParams of all defaults must pass CheckConsensusParams");

// --- Mempool (node/mempool/) ---------------------------------------------------
// Transactions waiting for a block, by count and by envelope bytes; beyond either the
// mempool refuses new ones with RESOURCE_EXHAUSTED rather than growing.
inline constexpr size_t mempool_txs_max = 50000;
inline constexpr size_t mempool_bytes_max = 256 * 1024 * 1024;
// Transactions waiting for a signature-check thread; a submit beyond it is refused.
// Clients' batches (SubmitTransactions) may hold at most half of it, so that no client
// load can keep the peers' gossip out.
inline constexpr size_t verify_queue_txs_max = 20000;
inline constexpr size_t verify_queue_client_txs_max = verify_queue_txs_max / 2;

static_assert(mempool_txs_max >= block_txs_max, "a full block must fit in the mempool");
static_assert(mempool_bytes_max >= block_bytes_max);

// --- Client API (node/api/) -----------------------------------------------------------
// Largest request the API server accepts (gRPC max receive size); a bigger one is refused
// with RESOURCE_EXHAUSTED before it is parsed. Responses may be as large as one block.
inline constexpr size_t api_message_bytes_max = grpc_message_bytes_max;
// Threads gRPC may use for API calls at once (each open stream holds one); calls beyond
// them wait or are refused with RESOURCE_EXHAUSTED, so a flood cannot spawn threads.
inline constexpr size_t api_server_threads_max = 64;
// Open StreamBlocks and StreamEvents calls at once; a stream beyond it is refused with
// RESOURCE_EXHAUSTED, so that streams cannot take every thread from unary calls.
inline constexpr size_t api_streams_max = 32;
// Transactions in one SubmitTransactions call: enough to amortise a call over a block's
// worth, few enough that one call holds a server thread for a bounded time.
inline constexpr size_t api_submit_batch_txs_max = 1000;
// The committed records one SubmitTransactions call may answer with, in bytes: a call that
// resends committed transactions gets their records back, and a record can be large (the
// licences a revocation named), so the answer is bounded well within a message.
inline constexpr size_t api_submit_batch_answer_bytes_max = api_message_bytes_max / 2;
static_assert(verify_queue_client_txs_max >= api_submit_batch_txs_max,
              "a whole batch must fit in the clients' share of the signature queue");
// SubmitTransaction with wait_for_commit waits at most this long (less if the call's
// deadline comes first), then answers PENDING.
inline constexpr uint64_t api_wait_for_commit_ms_max = 60000;
// A stream waiting for the next block wakes at least this often to notice a client
// that went away or a server that is stopping.
inline constexpr uint64_t api_stream_wait_slice_ms = 500;
// Headers a CommitProof may carry: committed blocks after the proven one searched for
// the two consecutive-round blocks that commit it.
inline constexpr size_t api_commit_proof_descendants_max = 64;
// Entries of each list of a StreamEvents filter.
inline constexpr size_t api_event_filter_items_max = 64;
// Epoch-change proofs in one GetEpochProofs answer: each carries two headers, QCs and a
// validator set (certificates included), up to a few hundred KB with validators_max
// validators, so a long chain of epochs is read in pages.
inline constexpr size_t api_epoch_proofs_page_max = 16;
// A page token the API passes on to the ledger; the ledger's own are at most
// query_page_token_bytes_max.
inline constexpr size_t api_page_token_bytes_max = 4096;
static_assert(query_page_token_bytes_max <= api_page_token_bytes_max);

static_assert(api_message_bytes_max >= tx_envelope_bytes_max,
              "a full transaction must fit in a request");
static_assert(api_streams_max < api_server_threads_max,
              "streams must leave threads for unary calls");

}  // namespace reel::limits
