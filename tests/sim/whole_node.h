// reel-sim --whole-node: n whole nodes in one process, driven from one seed (TESTING.md
// row 13), in the spirit of TigerBeetle's VOPR.
//
// Each replica is the node's own parts, not stand-ins: replica::Replica (the driver)
// on an asio::io_context of its own, LedgerApplication, mempool::Mempool and
// mempool::Admission, over a memory store that survives the replica's crashes and
// loses their unsynced writes (crash_store.h). The simulator owns time and the loops:
// ReplicaConfig::clock reads the simulated clock, the simulator ticks each replica
// (tick_ms = 0) and polls its loop after every event it hands it. Block sync is
// node/replica/block_sync.h's ReadRange on a peer's store, VerifyRange and
// Replica::PostSyncedRange (ApplyRange), driven the way BlockSync::SyncRound drives
// them: peers furthest first, the next one when a range is refused. No thread does
// any work (Admission's worker stays idle: the simulator admits one transaction at a
// time, which Admission checks on the caller's thread), no wall clock is read, no
// unordered container is iterated: a seed replays bit for bit, and the event-log
// hash shows it.
//
// A run has a chaos phase: seeded delays that reorder, drops, duplicates, symmetric
// and one-way partitions that form and heal, crashes and restarts from the store,
// and (in most seeds) one honest replica down long enough to need block sync when it
// is back; a client workload of real signed custody transactions (workload.h: the
// reel-bench mix) submitted to random honest replicas through Admission and gossiped
// to the others with seeded delays; a client resubmits a transaction that has not
// committed after a while, as a wallet does. Then a healing phase: the network is
// reliable, nothing crashes, every crashed replica restarts, clients only resubmit; it
// ends when every honest replica has committed past its height at the heal, the
// rounds are done, and every acknowledged transaction is committed everywhere.
//
// With --down-one (WholeNodeOptions::down_one) there is no chaos: one ordered stream
// per link, clients all along, and one validator crashes for good at a seeded time; the
// others must never pause longer than a few failed rounds without a commit while it is
// down, and commit every acknowledged transaction.
//
// f Byzantine validators run the same parts, but their driver lies (lies.h says how
// each lie is made): as leader it proposes known bodies with a signature byte
// flipped, signatures removed or one added, a transaction twice, or one already
// committed; it equivocates; it withholds proposals (and so the QC it formed) and
// votes; it sends crafted and stale timeouts, certificates no quorum signed, messages
// in another's name, and floods of junk and future-round messages; and it answers
// block sync (GetBlocks: ReadRange) and fetches (FetchBlocks: PostServeFetch) with
// altered ranges and claims heights it does not hold.
//
// Checks, after every event:
//   - honest replicas commit the same block ids and state roots at every height, and
//     the transactions each stores match its header's tx_root;
//   - no honest validator signs two votes or two proposals in one round;
//   - no honest replica stops: internal::Fatal would abort, so the simulator installs
//     internal::fatal_handler_for_testing, which throws an exception that it catches
//     around each replica's work (the node's own Fatal path runs unchanged up to the
//     abort; nothing else is changed for the simulator);
// and every few seconds, at the heal and at the end:
//   - a fresh replica that replays the committed chain from genesis, with an empty
//     mempool, as block sync does (ReadRange, VerifyRange, ApplyRange), reaches the
//     same state roots;
// and at the end:
//   - every transaction acknowledged to a client (admitted) is committed exactly
//     once on every honest replica: its record is the first occurrence of its id in
//     the chain, the same on all.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "node/replica/ledger_app.h"

namespace reel::sim {

struct WholeNodeOptions {
  uint64_t seed = 1;
  uint32_t validators = 4;
  uint32_t byzantine = 0;      // at most f
  uint64_t rounds = 100;       // chaos lasts until an honest replica reaches rounds / 2
  uint32_t transactions = 60;  // made by the clients during chaos
  // Validator-set changes (new consensus timings) among the clients' transactions: each
  // ends an epoch on every replica while the faults go on.
  uint32_t epoch_changes = 0;
  // No chaos but seeded delays: one validator crashes for good at a seeded time and the
  // others must keep committing, never pausing longer than a few failed rounds (issue 11:
  // leader reputation stops choosing it). Needs byzantine = 0.
  bool down_one = false;
  replica::PlantedBug bug = replica::PlantedBug::kNone;
  bool verbose = false;  // print the event log
};

struct WholeNodeResult {
  std::vector<std::string> violations;  // empty when every check held
  bool stalled = false;                 // healing did not finish in its time bound
  std::string stall_reason;
  uint64_t commits = 0;     // highest height committed by an honest replica
  uint64_t rounds = 0;      // highest round reached by an honest replica
  uint64_t events = 0;      // events processed
  uint64_t event_hash = 0;  // over the whole event log
  // What the seed exercised.
  uint64_t crashes = 0;
  uint64_t unsynced_writes_lost = 0;  // batches lost with crashes
  uint64_t far_behind = 0;            // replicas kept down long enough to need block sync
  uint64_t fetches = 0;               // FetchBlocks asked
  uint64_t ranges_applied = 0;        // by block sync
  uint64_t blocks_synced = 0;
  uint64_t ranges_refused = 0;  // from Byzantine peers, that failed VerifyRange
  uint64_t ranges_empty = 0;    // from honest peers with nothing provable to send yet
  uint64_t replays = 0;         // replays from genesis checked
  uint64_t epochs = 0;          // epoch changes committed (every honest replica passed them)
  uint64_t acknowledged = 0;    // transactions admitted for a client
  uint64_t resubmitted = 0;
  // Acknowledged transactions committed with a refusal, by ErrorCode name.
  std::map<std::string, uint64_t> committed_refused;
  std::map<std::string, uint64_t> lies;  // Byzantine actions by kind (lies.h names)
  // --down-one: who went down, the blocks the others committed after, and the longest
  // they went without one (simulated ms).
  uint32_t down_index = 0;
  uint64_t down_commits = 0;
  uint64_t down_gap_ms_max = 0;
};

WholeNodeResult RunWholeNode(const WholeNodeOptions& options);

// reel-sim's entry when its arguments hold --whole-node: parses them, runs the seeds,
// prints what they covered and the last line `seeds=N violations=V stalled=S
// commits=C`; returns the exit code (non-zero if any seed failed).
bool WantsWholeNode(int argc, char** argv);
int WholeNodeMain(int argc, char** argv);

}  // namespace reel::sim
