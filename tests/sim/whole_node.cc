#include "tests/sim/whole_node.h"

#include <algorithm>
#include <asio.hpp>
#include <cstdio>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <variant>

#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "node/ledger/ledger.h"
#include "node/ledger/rules.h"
#include "node/mempool/admission.h"
#include "node/mempool/mempool.h"
#include "node/replica/block_sync.h"
#include "node/replica/chain_store.h"
#include "node/replica/codec.h"
#include "node/replica/commit_proof.h"
#include "node/replica/internal.h"
#include "node/replica/replica.h"
#include "node/storage/keys.h"
#include "node/storage/memory_store.h"
#include "tests/sim/crash_store.h"
#include "tests/sim/lies.h"
#include "tests/sim/rng.h"
#include "tests/sim/workload.h"

namespace reel::sim {
namespace {

namespace keys = storage::keys;
using crypto::Hash32;

// --- The limits of a run (times in simulated ms) ----------------------------------
constexpr char kChainId[] = "reel-sim-node";
constexpr uint64_t kEpoch = 0;
constexpr uint32_t kQuotaYear = 2025;  // the simulated clock starts in June 2025
constexpr uint64_t kTickMs = 20;
constexpr uint64_t kRoundTimeoutInitialMs = 250;
constexpr uint64_t kRoundTimeoutMaxMs = 2000;
// The node's pacing, scaled to the simulator's round timer (the node requires the
// idle interval to be at most half of it).
constexpr uint64_t kBlockIntervalMinMs = 20;
constexpr uint64_t kIdleBlockIntervalMs = 100;
static_assert(kIdleBlockIntervalMs * 2 <= kRoundTimeoutInitialMs);
constexpr uint64_t kChaosTimeMaxMs = 60'000;  // chaos ends by then even if rounds are slow
constexpr uint64_t kHealTimeMaxMs = 60'000;   // healing must be done within this, or stall
constexpr uint64_t kEventsMax = 3'000'000;
// Block sync: as BlockSync polls, but it syncs once a peer is a few blocks ahead (a
// validator's BlockSync waits for limits::sync_validator_lag_blocks_min) so that runs
// of a few hundred blocks exercise it.
constexpr uint64_t kSyncPollMs = limits::sync_poll_interval_ms;
constexpr uint64_t kSyncLagBlocksMin = 3;
constexpr uint64_t kSyncCallTimeoutMs = 1000;  // an unanswered GetBlocks fails after this
constexpr uint64_t kReplayEveryMs = 4000;      // a replay from genesis is checked this often
// Clients: a new transaction every few tens of ms; one not committed this long after it
// was last sent is sent again, to a random honest replica.
constexpr uint64_t kClientGapMsMax = 150;
constexpr uint64_t kWatchEveryMs = 200;
constexpr uint64_t kResubmitAfterMs = 3000;
constexpr uint32_t kLanes = 2;
// A replica kept down this long misses more blocks than kSyncLagBlocksMin.
constexpr uint64_t kFarBehindMsMin = 4000;
constexpr uint64_t kFarBehindMsMax = 10000;
constexpr uint64_t kAttackGapMsMax = 400;  // a Byzantine validator's crafted messages
constexpr size_t kFloodMessagesMax = 30;
constexpr size_t kRecentMax = 32;  // committed envelopes and honest timeouts a liar replays
constexpr size_t kViolationsMax = 20;
// --down-one: one validator crashes for good at a seeded time, once the leader schedule
// has a full window of history; the run then goes on this long, and the others must
// never go longer than kDownOneGapMsMax without a commit: a few failed rounds (the
// backed-off timer of three dead-leader rounds in a row is 250 + 375 + 562 ms) while
// reputation still draws the dead one, none once it has left the window.
constexpr uint64_t kDownOneAtMsMin = 1500;
constexpr uint64_t kDownOneAtMsMax = 3000;
constexpr uint64_t kDownOneWatchMs = 20'000;
constexpr uint64_t kDownOneGapMsMax = 3000;

crypto::KeyPair ValidatorKey(uint32_t index) {
  return crypto::KeyPair::FromSeed(
             crypto::AsBytes(crypto::Blake2b256("reel-sim/validator#" + std::to_string(index))))
      .value();
}

uint64_t Prefix(std::string_view bytes) {
  uint64_t x = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) x = (x << 8) | static_cast<uint8_t>(bytes[i]);
  return x;
}

// What internal::Fatal throws in the simulator instead of aborting the process.
struct ReplicaStopped {
  std::string what;
};
[[noreturn]] void ThrowStopped(const std::string& what) {
  throw ReplicaStopped{what};
}

class FatalHandlerScope {
 public:
  FatalHandlerScope() { replica::internal::fatal_handler_for_testing = &ThrowStopped; }
  ~FatalHandlerScope() { replica::internal::fatal_handler_for_testing = nullptr; }
};

// --- Events -------------------------------------------------------------------------

struct Deliver {
  v1::ConsensusMessage message;
};
struct TickEvent {};
struct RestartEvent {};
struct CrashEvent {};      // chaos: a random replica crashes
struct FarBehindEvent {};  // chaos: replica `to` goes down for long
struct DownOneEvent {};    // --down-one: replica `to` crashes for good
struct FetchRequest {
  Hash32 block_id{};
  uint64_t above_height = 0;
};
struct FetchReply {
  std::vector<v1::Block> blocks;
};
struct Gossip {
  v1::Transaction tx;
};
struct SyncPoll {};
struct SyncRequest {
  uint64_t from_height = 0;
  uint64_t to_height = 0;
  uint64_t incarnation = 0;  // the asker's, whose session the answer is for
};
struct SyncReply {
  std::optional<v1::GetBlocksResponse> range;  // nullopt: the call failed
};
struct ClientEvent {};
struct WatchEvent {};
struct AttackEvent {};  // Byzantine `to` sends something crafted
struct PartitionEvent {};
struct ReplayEvent {};
using Payload =
    std::variant<Deliver, TickEvent, RestartEvent, CrashEvent, FarBehindEvent, DownOneEvent,
                 FetchRequest, FetchReply, Gossip, SyncPoll, SyncRequest, SyncReply, ClientEvent,
                 WatchEvent, AttackEvent, PartitionEvent, ReplayEvent>;

struct Event {
  uint32_t to = 0;
  uint32_t from = 0;
  // Non-zero: only for this incarnation of `to` (its ticks, its sync calls, its
  // restart); a crash makes them void.
  uint64_t incarnation = 0;
  Payload payload;
};

class Simulation;

class SimTransport final : public replica::Transport {
 public:
  SimTransport(Simulation* sim, uint32_t self) : sim_(sim), self_(self) {}
  void Send(uint32_t to, const v1::ConsensusMessage& message) override;
  void Broadcast(const v1::ConsensusMessage& message) override;
  void FetchBlocks(uint32_t peer, const Hash32& block_id, uint64_t above_height) override;

 private:
  Simulation* sim_;
  uint32_t self_;
};

// BlockSync::SyncRound's state, for one replica, between the simulator's events.
struct SyncSession {
  bool active = false;
  std::vector<std::pair<uint64_t, uint32_t>> ahead;  // (claimed height, peer), furthest first
  size_t next = 0;                                   // the peer asked now
  replica::ChainPoint here;                          // what the range in flight must start above
  replica::EpochState epoch;                         // the epoch `here` is in: checks the range
};

struct Node {
  uint32_t index = 0;
  bool byzantine = false;
  std::unique_ptr<CrashStore> store;  // the disk: survives crashes
  // The process: made at each start, gone while crashed.
  std::unique_ptr<mempool::Mempool> pool;
  std::unique_ptr<mempool::Admission> admission;
  std::unique_ptr<replica::LedgerApplication> app;
  std::unique_ptr<asio::io_context> io;
  std::unique_ptr<SimTransport> transport;
  std::unique_ptr<replica::Replica> replica;
  uint64_t incarnation = 0;
  bool halted = false;          // stopped by Fatal; never restarted
  bool gone = false;            // crashed for good (--down-one): the checks leave it out
  uint64_t checked_height = 0;  // committed heights compared with the canonical chain
  SyncSession sync;
  bool running() const { return replica != nullptr; }
  // Rounds of the epochs this replica left, and what it was seen at in its current one
  // (MaxHonestRound); kept across crashes.
  uint64_t rounds_before = 0;
  uint64_t seen_epoch = 0;
  uint64_t seen_round = 0;
};

// A client's transaction and what the client knows of it.
struct ClientTx {
  Workload::Tx tx;
  bool acknowledged = false;  // a replica admitted it
  bool committed = false;     // the client saw it committed
  v1::ErrorCode code = v1::OK;
  uint64_t height = 0;  // where it committed
  uint64_t last_sent_ms = 0;
};

// A replica that starts from genesis with an empty mempool and executes the committed
// chain as block sync does: what it reaches must be what the others reached.
struct Replayer {
  std::unique_ptr<storage::KvStore> store = storage::NewMemoryStore();
  mempool::Mempool pool;  // stays empty
  std::unique_ptr<replica::LedgerApplication> app;
  bool stopped = false;
  uint64_t checked_height = 0;
};

class Simulation {
 public:
  explicit Simulation(const WholeNodeOptions& options)
      : opt_(options),
        rng_(options.seed),
        time_base_ms_(ledger::CstMonthStartMs(kQuotaYear, 6)),
        workload_(kChainId, kLanes) {
    const uint32_t n = opt_.validators;
    REEL_ASSERT(n >= 1);
    for (uint32_t i = 0; i < n; ++i) {
      keys_.push_back(ValidatorKey(i));
      validators_.keys.push_back(keys_.back().public_key());
    }
    REEL_ASSERT(opt_.byzantine <= validators_.f());

    genesis_.set_chain_id(kChainId);
    genesis_.set_genesis_time_ms(time_base_ms_ - 1000);
    workload_.AddToGenesis(&genesis_, kQuotaYear);
    // The replicas run the validators the committed state names (chain_store.h ReadEpoch).
    for (uint32_t i = 0; i < n; ++i) {
      v1::Validator* v = genesis_.add_validators();
      v->set_name("validator-" + std::to_string(i));
      v->set_org_id(genesis_.orgs(0).org_id());
      v->set_public_key(std::string(crypto::AsBytes(validators_.keys[i])));
      v->set_address("sim:" + std::to_string(i));
      v->set_tls_cert_sha256(std::string(32, static_cast<char>(i + 1)));
    }

    // Which validators lie is part of the seed's scenario.
    std::vector<uint32_t> order(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    for (uint32_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng_.Uniform(0, i - 1)]);
    for (uint32_t i = 0; i < n; ++i) {
      Node node;
      node.index = i;
      node.byzantine = std::find(order.begin(), order.begin() + opt_.byzantine, i) !=
                       order.begin() + opt_.byzantine;
      node.store = std::make_unique<CrashStore>();
      REEL_ASSERT(replica::Initialize(*node.store, genesis_, kEpoch).ok());
      nodes_.push_back(std::move(node));
    }
    replayer_.app = std::make_unique<replica::LedgerApplication>(kChainId, replayer_.store.get(),
                                                                 &replayer_.pool, opt_.bug);
    REEL_ASSERT(replica::Initialize(*replayer_.store, genesis_, kEpoch).ok());
    REEL_ASSERT(replayer_.app->Open().ok());

    // Fault intensities vary by seed.
    drop_probability_ = std::vector<double>{0.0, 0.02, 0.05, 0.1}[rng_.Uniform(0, 3)];
    duplicate_probability_ = std::vector<double>{0.0, 0.02, 0.05}[rng_.Uniform(0, 2)];
    crash_gap_ms_ = std::vector<uint64_t>{0, 3000, 1500}[rng_.Uniform(0, 2)];
    withhold_vote_probability_ = std::vector<double>{0.0, 0.1, 0.3}[rng_.Uniform(0, 2)];
    if (opt_.down_one) {
      // A sound network and no other fault: what is measured is the cost of the one down.
      REEL_ASSERT(opt_.byzantine == 0);
      drop_probability_ = duplicate_probability_ = withhold_vote_probability_ = 0;
      crash_gap_ms_ = 0;
    }
    blocked_.assign(n, std::vector<bool>(n, false));
  }

  WholeNodeResult Run() {
    FatalHandlerScope fatal_throws;
    for (uint32_t i = 0; i < nodes_.size(); ++i) StartNode(i);
    if (opt_.down_one) {
      const uint32_t who = static_cast<uint32_t>(rng_.Uniform(0, nodes_.size() - 1));
      Schedule(rng_.Uniform(kDownOneAtMsMin, kDownOneAtMsMax), who, DownOneEvent{});
    } else {
      Schedule(rng_.Uniform(0, 300), 0, PartitionEvent{});
    }
    Schedule(rng_.Uniform(0, 100), 0, ClientEvent{});
    Schedule(kWatchEveryMs, 0, WatchEvent{});
    Schedule(kReplayEveryMs, 0, ReplayEvent{});
    if (crash_gap_ms_ != 0) Schedule(rng_.Uniform(0, 2 * crash_gap_ms_), 0, CrashEvent{});
    for (const Node& node : nodes_) {
      if (node.byzantine) Schedule(rng_.Uniform(0, kAttackGapMsMax), node.index, AttackEvent{});
    }
    // Most seeds keep one honest replica down long enough to need block sync.
    std::vector<uint32_t> honest = HonestIndexes();
    if (!opt_.down_one && !honest.empty() && nodes_.size() > 1 && rng_.Chance(0.7)) {
      const uint32_t who = honest[rng_.Uniform(0, honest.size() - 1)];
      const uint64_t at = rng_.Uniform(200, 1500);
      far_behind_until_ = at + kFarBehindMsMax + 1;
      Schedule(at, who, FarBehindEvent{});
    }
    while (!queue_.empty() && !done_) {
      auto it = queue_.begin();
      now_ = it->first.first;
      Event e = std::move(it->second);
      queue_.erase(it);
      ++result_.events;
      Process(e);
      ObserveCommits();
      CheckPhase();
      if (result_.events >= kEventsMax && !done_) Stall("event budget exhausted");
    }
    TearDownAll();
    result_.violations = violations_;
    result_.event_hash = hash_.value();
    return std::move(result_);
  }

  // --- The transport's calls, from replica `from`'s loop --------------------------

  void OnSend(uint32_t from, uint32_t to, const v1::ConsensusMessage& message) {
    if (nodes_[from].byzantine) {
      if (message.has_vote() && rng_.Chance(withhold_vote_probability_)) {
        CountLie(Lie::kWithholdVote);
        return;
      }
    } else {
      RecordSigned(from, message);
    }
    Transmit(from, to, Deliver{message});
  }

  void OnBroadcast(uint32_t from, const v1::ConsensusMessage& message) {
    if (nodes_[from].byzantine && message.has_proposal()) {
      ProposeAsLiar(from, message);
      return;
    }
    if (!nodes_[from].byzantine) RecordSigned(from, message);
    for (uint32_t to = 0; to < nodes_.size(); ++to) {
      if (to != from) Transmit(from, to, Deliver{message});
    }
  }

  void OnFetch(uint32_t from, uint32_t peer, const Hash32& block_id, uint64_t above_height) {
    ++result_.fetches;
    Transmit(from, peer, FetchRequest{block_id, above_height});
  }

 private:
  // --- Replicas -------------------------------------------------------------------

  std::vector<uint32_t> HonestIndexes() const {
    std::vector<uint32_t> out;
    for (const Node& node : nodes_) {
      if (!node.byzantine) out.push_back(node.index);
    }
    return out;
  }

  void StartNode(uint32_t i) {
    Node& n = nodes_[i];
    REEL_ASSERT(!n.running() && !n.halted && !n.gone);
    ++n.incarnation;
    n.pool = std::make_unique<mempool::Mempool>();
    // One worker, never used: the simulator admits one transaction at a time, which
    // Admission checks on the calling thread.
    n.admission = std::make_unique<mempool::Admission>(kChainId, n.pool.get(), 1);
    n.app = std::make_unique<replica::LedgerApplication>(kChainId, n.store.get(), n.pool.get(),
                                                         opt_.bug);
    REEL_ASSERT(n.app->Open().ok());
    n.io = std::make_unique<asio::io_context>();
    n.transport = std::make_unique<SimTransport>(this, i);
    replica::ReplicaConfig config;
    config.consensus.chain_id = kChainId;
    config.consensus.epoch = kEpoch;
    config.consensus.validators = validators_;
    config.consensus.self_index = i;
    config.consensus.round_timeout_ms_initial = kRoundTimeoutInitialMs;
    config.consensus.round_timeout_ms_max = kRoundTimeoutMaxMs;
    config.consensus.block_interval_ms_min = kBlockIntervalMinMs;
    config.consensus.idle_block_interval_ms = kIdleBlockIntervalMs;
    config.tick_ms = 0;  // the simulator ticks
    config.clock = [this] { return time_base_ms_ + now_; };
    n.replica = std::make_unique<replica::Replica>(std::move(config), ValidatorKey(i), n.io.get(),
                                                   n.store.get(), n.app.get(), n.transport.get());
    Log(i, 'S', i, n.incarnation, n.app->committed_height());
    OnNode(i, [&] { REEL_ASSERT(n.replica->Start().ok()); });
    if (!n.running()) return;
    Schedule(now_ + kTickMs, i, TickEvent{}, n.incarnation);
    // A node's BlockSync starts with it: a replica back from far behind syncs at once.
    Schedule(now_, i, SyncPoll{}, n.incarnation);
  }

  // The process is gone: memory, mempool, loop and in-flight work; the store stays.
  void TearDown(uint32_t i) {
    Node& n = nodes_[i];
    n.replica.reset();  // before what it uses
    n.transport.reset();
    n.io.reset();
    n.app.reset();
    n.admission.reset();
    n.pool.reset();
    n.sync = SyncSession{};
    ++n.incarnation;  // what was bound to the old process is void
  }

  void TearDownAll() {
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].running()) TearDown(i);
    }
  }

  // A machine crash: unsynced writes are lost too.
  void Crash(uint32_t i, uint64_t downtime_ms) {
    TearDown(i);
    result_.unsynced_writes_lost += nodes_[i].store->LoseUnsyncedWrites();
    ++result_.crashes;
    Log(i, 'C', i, downtime_ms, 0);
    Schedule(now_ + downtime_ms, i, RestartEvent{}, nodes_[i].incarnation);
  }

  // Runs `work` on replica i's thread, then everything it queued on the loop. A
  // Fatal in there stops the replica.
  template <typename Work>
  void OnNode(uint32_t i, Work work) {
    Node& n = nodes_[i];
    try {
      work();
      if (!n.running()) return;
      n.io->restart();
      n.io->poll();
    } catch (const ReplicaStopped& stopped) {
      Stopped(i, stopped.what);
    }
  }

  void Stopped(uint32_t i, const std::string& what) {
    Log(i, 'X', i, 0, 0);
    if (!nodes_[i].byzantine) {
      Violation("honest replica " + std::to_string(i) + " stopped: " + what);
    }
    TearDown(i);
    nodes_[i].halted = true;
  }

  // --- Events -------------------------------------------------------------------------

  void Schedule(uint64_t at, uint32_t to, Payload payload, uint64_t incarnation = 0,
                uint32_t from = 0) {
    queue_.emplace(std::make_pair(at, seq_++), Event{to, from, incarnation, std::move(payload)});
  }

  void Process(Event& e) {
    Node& n = nodes_[e.to];
    if (e.incarnation != 0 && e.incarnation != n.incarnation) return;  // for a process gone
    std::visit([&](auto& payload) { Handle(e, payload); }, e.payload);
  }

  void Handle(const Event& e, Deliver& d) {
    if (!nodes_[e.to].running()) return;  // a crashed replica hears nothing
    Log(e.to, 'D', e.from, static_cast<uint64_t>(d.message.message_case()), RoundOf(d.message));
    OnNode(e.to, [&] { nodes_[e.to].replica->PostMessage(e.from, std::move(d.message)); });
  }

  void Handle(const Event& e, TickEvent&) {
    OnNode(e.to, [&] { nodes_[e.to].replica->Tick(); });
    if (nodes_[e.to].running())
      Schedule(now_ + kTickMs, e.to, TickEvent{}, nodes_[e.to].incarnation);
  }

  void Handle(const Event& e, RestartEvent&) {
    if (!nodes_[e.to].running() && !nodes_[e.to].halted && !nodes_[e.to].gone) StartNode(e.to);
  }

  void Handle(const Event&, CrashEvent&) {
    if (!chaos_) return;
    std::vector<uint32_t> up;
    for (const Node& node : nodes_) {
      if (node.running()) up.push_back(node.index);
    }
    // While one replica is far behind the rest crash no more: they must commit enough
    // blocks for it to need block sync.
    const bool far_behind_down = now_ >= far_behind_from_ && now_ < far_behind_until_;
    if (!up.empty() && !far_behind_down)
      Crash(up[rng_.Uniform(0, up.size() - 1)], rng_.Uniform(50, 1500));
    Schedule(now_ + rng_.Uniform(crash_gap_ms_ / 2, 3 * crash_gap_ms_ / 2), 0, CrashEvent{});
  }

  void Handle(const Event& e, FarBehindEvent&) {
    if (!chaos_ || !nodes_[e.to].running()) return;
    ++result_.far_behind;
    const uint64_t downtime = rng_.Uniform(kFarBehindMsMin, kFarBehindMsMax);
    far_behind_from_ = now_;
    far_behind_until_ = now_ + downtime;
    Crash(e.to, downtime);
  }

  void Handle(const Event& e, FetchRequest& request) {
    if (!nodes_[e.to].running()) return;
    const uint32_t server = e.to, asker = e.from;
    const bool lie = nodes_[server].byzantine && !nodes_[asker].byzantine && rng_.Chance(0.7);
    OnNode(server, [&] {
      nodes_[server].replica->PostServeFetch(
          request.block_id, request.above_height,
          [this, server, asker, lie](std::vector<v1::Block> blocks) {
            if (lie) {
              if (std::optional<Lie> done = AlterFetchAnswer(&blocks, rng_)) CountLie(*done);
            }
            if (!blocks.empty()) Transmit(server, asker, FetchReply{std::move(blocks)});
          });
    });
  }

  void Handle(const Event& e, FetchReply& reply) {
    if (!nodes_[e.to].running()) return;
    Log(e.to, 'F', e.from, reply.blocks.size(), 0);
    OnNode(e.to, [&] { nodes_[e.to].replica->PostBlocksFetched(e.from, std::move(reply.blocks)); });
  }

  void Handle(const Event& e, Gossip& gossip) {
    // A gossiped transaction the node refuses is as good as lost: it may come in a block.
    if (nodes_[e.to].running()) (void)Admit(e.to, gossip.tx);
  }

  void Handle(const Event&, PartitionEvent&) {
    if (!chaos_) return;
    ChangePartitions();
    Schedule(now_ + rng_.Uniform(50, 600), 0, PartitionEvent{});
  }

  void Handle(const Event&, ReplayEvent&) {
    ReplayCheck();
    Schedule(now_ + kReplayEveryMs, 0, ReplayEvent{});
  }

  // --- Network ------------------------------------------------------------------------

  // Sends `payload` from replica `from` to `to` over the simulated network; false if
  // the network lost it. During chaos a link may be cut, drop, duplicate (unless
  // `once`: a request and its answer are one call) and delay long enough to reorder.
  bool Transmit(uint32_t from, uint32_t to, Payload payload, uint64_t incarnation = 0,
                bool once = false) {
    REEL_ASSERT(from != to);
    if (chaos_ && (blocked_[from][to] || rng_.Chance(drop_probability_))) return false;
    const int copies = chaos_ && !once && rng_.Chance(duplicate_probability_) ? 2 : 1;
    for (int k = 0; k < copies; ++k) {
      uint64_t delay = rng_.Uniform(1, 30);
      if (chaos_ && !opt_.down_one && rng_.Chance(0.2)) delay += rng_.Uniform(0, 300);
      uint64_t at = now_ + delay;
      if (opt_.down_one) {
        // One ordered stream per link, as the node's peer transport has (TCP): a
        // message never overtakes one sent before it on the same link.
        uint64_t& last = link_last_ms_[{from, to}];
        at = std::max(at, last);
        last = at;
      }
      Schedule(at, to, k + 1 < copies ? payload : std::move(payload), incarnation, from);
    }
    return true;
  }

  bool Reachable(uint32_t a, uint32_t b) const {
    return !chaos_ || (!blocked_[a][b] && !blocked_[b][a]);
  }

  void ChangePartitions() {
    const size_t count = nodes_.size();
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    const uint64_t kind = rng_.Uniform(0, 9);
    if (kind < 5) return;  // no partition this period
    if (kind < 8) {        // symmetric split
      std::vector<uint64_t> side(count);
      for (size_t i = 0; i < count; ++i) side[i] = rng_.Uniform(0, 1);
      for (size_t a = 0; a < count; ++a) {
        for (size_t b = 0; b < count; ++b) blocked_[a][b] = side[a] != side[b];
      }
    } else {  // one-way links down
      for (size_t a = 0; a < count; ++a) {
        for (size_t b = 0; b < count; ++b) blocked_[a][b] = a != b && rng_.Chance(0.3);
      }
    }
    Log(0, 'P', 0, kind, 0);
  }

  void Handle(const Event& e, DownOneEvent&) {
    if (!nodes_[e.to].running()) return;
    Crash(e.to, 0);
    nodes_[e.to].gone = true;
    down_since_ = now_;
    down_progress_ms_ = now_;
    down_height_ = LiveHeight();
    result_.down_index = e.to;
  }

  // The highest height a replica that still runs has committed.
  uint64_t LiveHeight() const {
    uint64_t height = 0;
    for (const Node& node : nodes_) {
      if (Counted(node)) height = std::max(height, Height(node));
    }
    return height;
  }

  // With one down for good: the longest time the others went without a commit.
  void WatchDownOne() {
    if (!down_since_) return;
    const uint64_t height = LiveHeight();
    const uint64_t gap = now_ - down_progress_ms_;
    if (height > down_height_) {
      result_.down_gap_ms_max = std::max(result_.down_gap_ms_max, gap);
      result_.down_commits += height - down_height_;
      down_height_ = height;
      down_progress_ms_ = now_;
    } else if (chaos_ && gap > kDownOneGapMsMax) {
      result_.down_gap_ms_max = gap;
      Violation("with replica " + std::to_string(result_.down_index) + " down since t=" +
                std::to_string(*down_since_) + " ms, the others committed nothing for " +
                std::to_string(gap) + " ms (height " + std::to_string(height) + ")");
    }
  }

  // A replica whose state the end-of-run checks read: honest, and not down for good.
  static bool Counted(const Node& node) { return !node.byzantine && !node.gone; }

  static uint64_t RoundOf(const v1::ConsensusMessage& m) {
    if (m.has_proposal()) return m.proposal().block().header().round();
    if (m.has_vote()) return m.vote().round();
    if (m.has_timeout()) return m.timeout().round();
    return 0;
  }

  // --- Clients --------------------------------------------------------------------------

  std::vector<uint32_t> HonestRunning() const {
    std::vector<uint32_t> out;
    for (const Node& node : nodes_) {
      if (!node.byzantine && node.running()) out.push_back(node.index);
    }
    return out;
  }

  // Replica i's Admission, against its committed state, as its API would.
  Result<Hash32> Admit(uint32_t i, const v1::Transaction& tx) {
    Node& n = nodes_[i];
    std::unique_ptr<storage::Snapshot> snapshot = n.store->GetSnapshot();
    const Result<uint64_t> height = replica::CommittedHeight(*snapshot);
    REEL_ASSERT(height.ok());
    return n.admission->Admit({tx}, *snapshot, *height + 1).at(0);
  }

  void Handle(const Event&, ClientEvent&) {
    // With one down, clients go on as long as the watch does.
    if (!chaos_ || (!opt_.down_one && client_.size() >= opt_.transactions)) return;
    // The epoch changes are spread evenly among the clients' transactions.
    const uint64_t slot = opt_.transactions / (uint64_t{opt_.epoch_changes} + 1);
    if (epoch_changes_sent_ < opt_.epoch_changes && slot > 0 &&
        client_.size() == slot * (epoch_changes_sent_ + 1)) {
      ++epoch_changes_sent_;
      // Timers near the simulator's own (kRoundTimeoutInitialMs), a little different each
      // time; every other epoch, small blocks (leaders leave transactions for later blocks).
      const uint32_t block_txs_max = epoch_changes_sent_ % 2 == 1 ? 3 : 0;
      client_.push_back(ClientTx{workload_.TimingsChange(
          kRoundTimeoutInitialMs + 10 * epoch_changes_sent_, kIdleBlockIntervalMs, block_txs_max)});
      Submit(client_.size() - 1);
      Schedule(now_ + rng_.Uniform(10, kClientGapMsMax), 0, ClientEvent{});
      return;
    }
    client_.push_back(ClientTx{workload_.Next(static_cast<uint32_t>(rng_.Uniform(0, kLanes - 1)))});
    Submit(client_.size() - 1);
    Schedule(now_ + rng_.Uniform(10, kClientGapMsMax), 0, ClientEvent{});
  }

  // To a random honest replica; what it admits, it gossips to every other validator.
  void Submit(size_t k) {
    ClientTx& c = client_[k];
    c.last_sent_ms = now_;
    const std::vector<uint32_t> up = HonestRunning();
    if (up.empty()) return;
    const uint32_t i = up[rng_.Uniform(0, up.size() - 1)];
    const Result<Hash32> admitted = Admit(i, c.tx.envelope);
    Log(i, 'A', i, k, static_cast<uint64_t>(ledger::ErrorCodeOf(admitted.status())));
    if (!admitted.ok() && admitted.status().code() != Code::kAlreadyExists)
      return;  // sent again later
    if (!c.acknowledged) ++result_.acknowledged;
    c.acknowledged = true;
    for (uint32_t to = 0; to < nodes_.size(); ++to) {
      if (to != i) Transmit(i, to, Gossip{c.tx.envelope});
    }
  }

  // What a client sees: its transactions' records on the honest replica furthest
  // ahead; it sends again what has not committed for a while.
  void Handle(const Event&, WatchEvent&) {
    const Node& ahead = HonestFurthest();
    for (size_t k = 0; k < client_.size(); ++k) {
      ClientTx& c = client_[k];
      if (c.committed) continue;
      if (c.acknowledged) {
        if (std::optional<v1::GetTransactionResponse> record = TxRecord(ahead, c.tx.id)) {
          c.committed = true;
          c.code = record->result().code();
          c.height = record->height();
          // A leader that strips an envelope's signatures, or adds one by a key of no
          // signatory, gets its body committed as refused: counted, by code.
          if (c.code != v1::OK) ++result_.committed_refused[v1::ErrorCode_Name(c.code)];
          workload_.OnCommitted(c.tx, c.code);
          continue;
        }
      }
      if (now_ >= c.last_sent_ms + kResubmitAfterMs) {
        if (c.acknowledged) ++result_.resubmitted;
        Submit(k);
      }
    }
    if (!chaos_) all_committed_ = AcknowledgedCommittedEverywhere();
    Schedule(now_ + kWatchEveryMs, 0, WatchEvent{});
  }

  const Node& HonestFurthest() const {
    const Node* best = nullptr;
    for (const Node& node : nodes_) {
      if (!node.byzantine && (best == nullptr || Height(node) > Height(*best))) best = &node;
    }
    REEL_ASSERT(best != nullptr);
    return *best;
  }

  static uint64_t Height(const Node& node) {
    const Result<uint64_t> h = replica::CommittedHeight(*node.store);
    REEL_ASSERT(h.ok());
    return *h;
  }

  static std::optional<v1::GetTransactionResponse> TxRecord(const Node& node, const Hash32& id) {
    const Result<std::optional<std::string>> raw =
        node.store->Get(keys::TxKey(crypto::AsBytes(id)));
    REEL_ASSERT(raw.ok());
    if (!raw->has_value()) return std::nullopt;
    v1::GetTransactionResponse record;
    REEL_ASSERT(record.ParseFromString(**raw));
    return record;
  }

  bool AcknowledgedCommittedEverywhere() const {
    for (const ClientTx& c : client_) {
      if (!c.acknowledged) continue;
      for (const Node& node : nodes_) {
        if (Counted(node) && !TxRecord(node, c.tx.id)) return false;
      }
    }
    return true;
  }

  // --- Block sync (BlockSync::SyncRound, one call at a time) ---------------------------

  void Handle(const Event& e, SyncPoll&) {
    Node& n = nodes_[e.to];
    if (!n.running()) return;
    Schedule(now_ + kSyncPollMs, e.to, SyncPoll{}, n.incarnation);
    if (!n.sync.active) StartSync(e.to);
  }

  // Asks every reachable peer where it is (GetSyncInfo), furthest first.
  void StartSync(uint32_t i) {
    SyncSession& s = nodes_[i].sync;
    s = SyncSession{};
    for (uint32_t peer = 0; peer < nodes_.size(); ++peer) {
      if (peer == i || !nodes_[peer].running() || !Reachable(i, peer)) continue;
      uint64_t claimed = Height(nodes_[peer]);
      if (nodes_[peer].byzantine && !nodes_[i].byzantine && rng_.Chance(0.5)) {
        claimed += rng_.Uniform(1, 2 * kSyncLagBlocksMin);
        CountLie(Lie::kRangeHeight);
      }
      s.ahead.emplace_back(claimed, peer);
    }
    std::sort(s.ahead.begin(), s.ahead.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    s.active = true;
    SyncNext(i);
  }

  // Asks the current peer for the next range while it claims to be far enough ahead;
  // the next peer once one cannot be reached or refuses.
  void SyncNext(uint32_t i) {
    Node& n = nodes_[i];
    SyncSession& s = n.sync;
    while (s.next < s.ahead.size()) {
      const auto [claimed, peer] = s.ahead[s.next];
      const Result<replica::ChainPoint> here = replica::CommittedPoint(*n.store, kChainId);
      REEL_ASSERT(here.ok());
      // A peer in a later epoch is followed even one block ahead: the block that ended
      // this replica's epoch may be all it misses, and the others cannot go on without it.
      const bool later_epoch = EpochOf(nodes_[peer]).epoch > EpochOf(n).epoch;
      if (claimed <= here->height ||
          (claimed <= here->height + kSyncLagBlocksMin && !later_epoch)) {
        break;  // caught up: the rest claim no more
      }
      s.here = *here;
      s.epoch = EpochOf(n);  // read with `here`, as BlockSync reads both from one snapshot
      const SyncRequest request{
          here->height + 1,
          std::min(claimed, here->height + limits::net_sync_blocks_per_request_max), n.incarnation};
      if (Transmit(i, peer, request, 0, /*once=*/true)) return;  // the answer comes as a SyncReply
      ++s.next;
    }
    s.active = false;
  }

  // At the peer: GetBlocks, answered from its store (ReadRange), or a lie.
  void Handle(const Event& e, SyncRequest& request) {
    const uint32_t server = e.to, asker = e.from;
    const uint64_t asker_incarnation = request.incarnation;
    std::optional<v1::GetBlocksResponse> range;
    if (nodes_[server].running()) {
      Result<v1::GetBlocksResponse> read = replica::ReadRange(
          *nodes_[server].store->GetSnapshot(), kChainId, request.from_height, request.to_height);
      if (read.ok()) range = std::move(read).value();
    }
    if (range && nodes_[server].byzantine && !nodes_[asker].byzantine && rng_.Chance(0.8)) {
      if (std::optional<Lie> done = AlterRange(&*range, rng_)) CountLie(*done);
    }
    const bool failed = !range.has_value();
    if (failed || !Transmit(server, asker, SyncReply{std::move(range)}, asker_incarnation, true)) {
      Schedule(now_ + kSyncCallTimeoutMs, asker, SyncReply{}, asker_incarnation, server);
    }
  }

  // At the asker: VerifyRange, then Replica::PostSyncedRange (ApplyRange) on its loop.
  void Handle(const Event& e, SyncReply& reply) {
    Node& n = nodes_[e.to];
    SyncSession& s = n.sync;
    if (!n.running() || !s.active || s.next >= s.ahead.size() || s.ahead[s.next].second != e.from) {
      return;
    }
    if (!reply.range) {  // unreachable or failed: the next peer
      ++s.next;
      SyncNext(e.to);
      return;
    }
    // Checked with the keys of the epoch the asker was in when it asked, as BlockSync does.
    Result<replica::SyncedRange> range =
        replica::VerifyRange(s.epoch.Context(kChainId), s.here, *reply.range, opt_.bug);
    if (!range.ok()) {
      // An honest peer's range may only be empty (its newest blocks not provable yet):
      // anything else it serves is the canonical chain, with its proofs.
      if (nodes_[e.from].byzantine) {
        ++result_.ranges_refused;
      } else if (range.status().code() == Code::kNotFound) {
        ++result_.ranges_empty;
      } else {
        Violation("replica " + std::to_string(e.to) + " refused a range from honest replica " +
                  std::to_string(e.from) + ": " + range.status().ToString());
      }
      Log(e.to, 'R', e.from, s.here.height, 0);
      ++s.next;
      SyncNext(e.to);
      return;
    }
    const size_t blocks = range->blocks.size();
    std::optional<Status> applied;
    OnNode(e.to, [&] {
      n.replica->PostSyncedRange(std::move(range).value(), [&applied](Status st) { applied = st; });
    });
    if (!n.running()) return;  // it stopped applying the range
    REEL_ASSERT(applied.has_value());
    Log(e.to, 'Y', e.from, blocks, applied->ok() ? 1 : 0);
    if (!applied->ok()) {
      s.active = false;  // consensus moved the node meanwhile; the next poll starts again
      return;
    }
    ++result_.ranges_applied;
    result_.blocks_synced += blocks;
    SyncNext(e.to);
  }

  // --- Byzantine validators ------------------------------------------------------------

  // A liar lies in the epoch its own committed state is in (the set does not change here).
  uint64_t EpochNow(uint32_t i) const {
    return nodes_[i].store == nullptr ? kEpoch : EpochOf(nodes_[i]).epoch;
  }
  Liar LiarOf(uint32_t i) const { return Liar{kChainId, EpochNow(i), i, &keys_[i], &validators_}; }

  void CountLie(Lie lie) {
    ++result_.lies[std::string(LieName(lie))];
    Log(0, 'L', 0, static_cast<uint64_t>(lie), 0);
  }

  // A body the honest validators hold in their pools: an acknowledged transaction not
  // seen committed yet, else any acknowledged one.
  std::optional<v1::Transaction> KnownBody() {
    std::vector<size_t> pending, any;
    for (size_t k = 0; k < client_.size(); ++k) {
      if (!client_[k].acknowledged) continue;
      any.push_back(k);
      if (!client_[k].committed) pending.push_back(k);
    }
    const std::vector<size_t>& from = pending.empty() ? any : pending;
    if (from.empty()) return std::nullopt;
    return client_[from[rng_.Uniform(0, from.size() - 1)]].tx.envelope;
  }

  std::optional<v1::Transaction> CommittedBody() {
    if (recent_committed_.empty()) return std::nullopt;
    return recent_committed_[rng_.Uniform(0, recent_committed_.size() - 1)];
  }

  // Replica i's core proposed; its driver lies about it, or now and then does not.
  void ProposeAsLiar(uint32_t i, const v1::ConsensusMessage& message) {
    constexpr Lie kProposalLies[] = {
        Lie::kAlterSignature,  Lie::kRemoveSignatures, Lie::kExtraSignature,  Lie::kRepeatInBlock,
        Lie::kRepeatCommitted, Lie::kEquivocate,       Lie::kWithholdProposal};
    auto send_to_all = [&](const v1::ConsensusMessage& m) {
      for (uint32_t to = 0; to < nodes_.size(); ++to) {
        if (to != i) Transmit(i, to, Deliver{m});
      }
    };
    if (rng_.Chance(0.2)) {
      send_to_all(message);
      return;
    }
    const Lie lie = kProposalLies[rng_.Uniform(0, std::size(kProposalLies) - 1)];
    Result<consensus::Proposal> honest = replica::FromProto(message.proposal(), kChainId);
    REEL_ASSERT(honest.ok());
    const Liar liar = LiarOf(i);
    if (lie == Lie::kWithholdProposal) {
      CountLie(lie);
      return;
    }
    if (lie == Lie::kEquivocate) {
      CountLie(lie);
      Equivocate(i, message,
                 replica::ToProto(i, EpochNow(i), OtherBlock(*honest, KnownBody(), liar, rng_)));
      return;
    }
    std::optional<consensus::Proposal> forged =
        ForgeEnvelopes(*honest, lie, KnownBody(), CommittedBody(), liar, rng_);
    if (!forged) {
      send_to_all(message);
      return;
    }
    CountLie(lie);
    send_to_all(replica::ToProto(i, EpochNow(i), *forged));
  }

  // One validator gets the honest block first and the rest the other one (the split
  // that gives the other block the most votes); later each gets the other block too.
  void Equivocate(uint32_t i, const v1::ConsensusMessage& honest,
                  const v1::ConsensusMessage& other) {
    const uint64_t later = rng_.Uniform(50, 400);
    const uint64_t lucky = rng_.Uniform(0, nodes_.size() - 1);
    for (uint32_t to = 0; to < nodes_.size(); ++to) {
      if (to == i) continue;
      const bool first = to == lucky;
      Transmit(i, to, Deliver{first ? honest : other});
      Schedule(now_ + later, to, Deliver{first ? other : honest}, 0, i);
    }
  }

  // Crafted and stale timeouts and certificates, messages in another's name, floods.
  void Handle(const Event& e, AttackEvent&) {
    if (!chaos_) return;
    Schedule(now_ + rng_.Uniform(50, kAttackGapMsMax), e.to, AttackEvent{});
    Node& n = nodes_[e.to];
    if (!n.running()) return;
    constexpr Lie kAttacks[] = {Lie::kBadSignatureTimeout, Lie::kWrongRoundTimeout,
                                Lie::kOtherEpochTimeout,   Lie::kCraftedTc,
                                Lie::kCraftedQc,           Lie::kStaleTimeout,
                                Lie::kSpoofedSender,       Lie::kFlood};
    const Lie lie = kAttacks[rng_.Uniform(0, std::size(kAttacks) - 1)];
    const uint64_t round = n.replica->round();
    const Liar liar = LiarOf(e.to);
    std::vector<std::pair<uint32_t, v1::ConsensusMessage>> out;
    auto to_all = [&](const v1::ConsensusMessage& m) {
      for (uint32_t to = 0; to < nodes_.size(); ++to) out.emplace_back(to, m);
    };
    switch (lie) {
      case Lie::kStaleTimeout: {
        if (recent_timeouts_.empty()) return;
        v1::ConsensusMessage m = recent_timeouts_[rng_.Uniform(0, recent_timeouts_.size() - 1)];
        m.set_sender_index(e.to);  // relayed as its own: the signer inside is honest
        to_all(m);
        break;
      }
      case Lie::kSpoofedSender: {
        v1::ConsensusMessage m = replica::ToProto(
            e.to, EpochNow(e.to), CraftTimeout(Lie::kWrongRoundTimeout, round, liar, rng_));
        m.set_sender_index(static_cast<uint32_t>(rng_.Uniform(0, nodes_.size() - 1)));
        to_all(m);
        break;
      }
      case Lie::kFlood:
        out = Flood(round, rng_.Uniform(5, kFloodMessagesMax), liar, rng_);
        break;
      default:
        to_all(replica::ToProto(e.to, EpochNow(e.to), CraftTimeout(lie, round, liar, rng_)));
        break;
    }
    CountLie(lie);
    for (auto& [to, m] : out) {
      if (to != e.to) Transmit(e.to, to, Deliver{std::move(m)});
    }
  }

  // --- Checks ---------------------------------------------------------------------------

  // An honest validator never signs two votes, or two proposals, in one round of an epoch.
  void RecordSigned(uint32_t i, const v1::ConsensusMessage& m) {
    if (m.has_vote()) {
      auto [it, fresh] = votes_.emplace(std::make_tuple(i, m.vote().epoch(), m.vote().round()),
                                        m.vote().block_id());
      if (!fresh && it->second != m.vote().block_id()) {
        Violation("validator " + std::to_string(i) + " voted for two blocks in round " +
                  std::to_string(m.vote().round()) + " of epoch " +
                  std::to_string(m.vote().epoch()));
      }
    } else if (m.has_proposal()) {
      const v1::BlockHeader& h = m.proposal().block().header();
      const Result<Hash32> id = replica::HeaderId(h, kChainId);
      REEL_ASSERT(id.ok());
      auto [it, fresh] = proposals_.emplace(std::make_tuple(i, h.epoch(), h.round()), *id);
      if (!fresh && it->second != *id) {
        Violation("validator " + std::to_string(i) + " proposed two blocks in round " +
                  std::to_string(h.round()) + " of epoch " + std::to_string(h.epoch()));
      }
    } else if (m.has_timeout()) {
      if (recent_timeouts_.size() >= kRecentMax) recent_timeouts_.pop_front();
      recent_timeouts_.push_back(m);
    }
  }

  // Compares what each honest replica committed since the last look with the chain
  // the first to commit each height committed.
  void ObserveCommits() {
    for (Node& node : nodes_) {
      if (node.byzantine) continue;
      const uint64_t height = Height(node);
      for (uint64_t h = node.checked_height + 1; h <= height; ++h) CheckCommitted(node.index, h);
      node.checked_height = std::max(node.checked_height, height);
    }
  }

  void CheckCommitted(uint32_t i, uint64_t h) {
    const Node& n = nodes_[i];
    const Result<v1::Block> block = replica::ReadCommittedBlock(*n.store, h);
    REEL_ASSERT(block.ok());
    const Result<Hash32> id = replica::HeaderId(block->header(), kChainId);
    REEL_ASSERT(id.ok());
    const Result<std::optional<std::string>> root = n.store->Get(keys::StateRootKey(h));
    REEL_ASSERT(root.ok() && root->has_value());
    std::vector<Hash32> leaves;
    for (const v1::Transaction& tx : block->txs())
      leaves.push_back(ledger::EnvelopeDigestOf(tx, kChainId));
    if (crypto::AsBytes(crypto::MerkleRoot(leaves)) != block->header().tx_root()) {
      Violation("replica " + std::to_string(i) + " holds block " + std::to_string(h) +
                " with transactions that do not match its header's tx_root");
    }
    auto [it, fresh] = canonical_.emplace(h, std::make_pair(*id, **root));
    if (!fresh) {
      if (it->second.first != *id) {
        Violation("fork: replicas committed two blocks at height " + std::to_string(h) +
                  " (replica " + std::to_string(i) + "'s is of epoch " +
                  std::to_string(block->header().epoch()) + ", round " +
                  std::to_string(block->header().round()) + ")");
      } else if (it->second.second != **root) {
        Violation("state roots differ at height " + std::to_string(h) + " (replica " +
                  std::to_string(i) + ")");
      }
      return;
    }
    Log(i, 'K', i, h, Prefix(crypto::AsBytes(*id)) ^ Prefix(**root));
    result_.commits = std::max(result_.commits, h);
    for (int k = 0; k < block->txs_size(); ++k) {
      const Hash32 tx_id = crypto::TransactionId(kChainId, block->txs(k).body());
      first_committed_.emplace(tx_id, std::make_pair(h, static_cast<uint32_t>(k)));
      if (recent_committed_.size() >= kRecentMax) recent_committed_.pop_front();
      recent_committed_.push_back(block->txs(k));
    }
  }

  // Executes the committed chain from genesis with an empty mempool, as block sync
  // does, up to what the honest replica furthest ahead can prove; its roots must be
  // the chain's.
  void ReplayCheck() {
    if (replayer_.stopped) return;
    ObserveCommits();  // every height it replays is in canonical_
    ++result_.replays;
    const Node& source = HonestFurthest();
    const uint64_t top = Height(source);
    for (;;) {
      const Result<replica::ChainPoint> here = replica::CommittedPoint(*replayer_.store, kChainId);
      REEL_ASSERT(here.ok());
      if (here->height >= top) break;
      const Result<v1::GetBlocksResponse> read =
          replica::ReadRange(*source.store->GetSnapshot(), kChainId, here->height + 1, top);
      REEL_ASSERT(read.ok());
      if (read->blocks_size() == 0) break;  // its newest blocks are not provable yet
      const Result<replica::EpochState> epoch = replica::ReadEpoch(*replayer_.store, kChainId);
      REEL_ASSERT(epoch.ok());
      Result<replica::SyncedRange> range =
          replica::VerifyRange(epoch->Context(kChainId), *here, *read, opt_.bug);
      if (!range.ok()) {
        Violation("honest replica " + std::to_string(source.index) +
                  " holds a range that fails verification: " + range.status().ToString());
        replayer_.stopped = true;
        return;
      }
      try {
        const Status applied = replica::ApplyRange(*replayer_.app, *replayer_.store, *range);
        REEL_ASSERT(applied.ok());
      } catch (const ReplicaStopped& stopped) {
        Violation("a replica replaying the chain from genesis with an empty mempool stopped: " +
                  stopped.what);
        replayer_.stopped = true;
        return;
      }
    }
    const uint64_t replayed = replayer_.app->committed_height();
    for (uint64_t h = replayer_.checked_height + 1; h <= replayed; ++h) {
      const Result<std::optional<std::string>> root = replayer_.store->Get(keys::StateRootKey(h));
      REEL_ASSERT(root.ok() && root->has_value());
      auto it = canonical_.find(h);
      REEL_ASSERT(it != canonical_.end());
      if (it->second.second != **root) {
        Violation(
            "a replica replaying the chain from genesis reaches another state root at height " +
            std::to_string(h));
        replayer_.stopped = true;
        return;
      }
    }
    replayer_.checked_height = replayed;
  }

  // Every block that committed validator-set changes ended one epoch, on every honest
  // replica: each is in the epoch those blocks count, and the replayer from genesis too.
  void CheckEpochs() {
    // Changes approved in one block end one epoch together.
    std::set<uint64_t> ending_heights;
    for (const ClientTx& c : client_) {
      if (c.tx.governance && c.committed && c.code == v1::OK) ending_heights.insert(c.height);
    }
    const uint64_t changes = ending_heights.size();
    result_.epochs = changes;
    for (const Node& node : nodes_) {
      if (!Counted(node) || node.store == nullptr) continue;
      const uint64_t epoch = EpochOf(node).epoch;
      if (epoch != changes) {
        Violation("honest replica " + std::to_string(node.index) + " is in epoch " +
                  std::to_string(epoch) + " after " + std::to_string(changes) +
                  " committed validator-set changes");
      }
    }
    if (!replayer_.stopped) {
      const Result<replica::EpochState> replayed = replica::ReadEpoch(*replayer_.store, kChainId);
      REEL_ASSERT(replayed.ok());
      if (replayed->epoch != changes) {
        Violation("the replica replaying from genesis is in epoch " +
                  std::to_string(replayed->epoch) + ", not " + std::to_string(changes));
      }
    }
  }

  // The epoch replica `node`'s committed state is in.
  replica::EpochState EpochOf(const Node& node) const {
    Result<replica::EpochState> epoch = replica::ReadEpoch(*node.store, kChainId);
    REEL_ASSERT(epoch.ok());
    return *std::move(epoch);
  }

  // Every acknowledged transaction is committed once on every honest replica: its
  // record is the first occurrence of its id in the chain, and the same on all.
  void CheckExactlyOnce() {
    for (const ClientTx& c : client_) {
      if (!c.acknowledged) continue;
      const std::string name = crypto::HashToHex(c.tx.id).substr(0, 16);
      auto first = first_committed_.find(c.tx.id);
      if (first == first_committed_.end()) {
        Violation("acknowledged transaction " + name + " was never committed");
        continue;
      }
      std::optional<std::string> agreed;
      for (const Node& node : nodes_) {
        if (!Counted(node)) continue;
        std::optional<v1::GetTransactionResponse> record = TxRecord(node, c.tx.id);
        if (!record) {
          Violation("acknowledged transaction " + name + " is not committed on replica " +
                    std::to_string(node.index));
          continue;
        }
        if (record->height() != first->second.first || record->tx_index() != first->second.second) {
          Violation("replica " + std::to_string(node.index) + " records transaction " + name +
                    " at " + std::to_string(record->height()) + "/" +
                    std::to_string(record->tx_index()) + ", but it first committed at " +
                    std::to_string(first->second.first) + "/" +
                    std::to_string(first->second.second));
        }
        const std::string bytes = record->SerializeAsString();
        if (agreed && *agreed != bytes) {
          Violation("honest replicas record transaction " + name + " differently");
        }
        agreed = bytes;
      }
    }
  }

  void Violation(std::string what) {
    if (violations_.size() < kViolationsMax) violations_.push_back(std::move(what));
  }

  void Stall(std::string why) {
    result_.stalled = true;
    result_.stall_reason = std::move(why);
    done_ = true;
  }

  // --- Phases -----------------------------------------------------------------------------

  // Rounds start over in each epoch: a replica's rounds are those of the epochs it left
  // plus the current one's, so that the run's goal (opt_.rounds) means the same with
  // epoch changes as without.
  uint64_t MaxHonestRound() {
    uint64_t round = 0;
    for (Node& node : nodes_) {
      if (node.byzantine || !node.running()) continue;
      const uint64_t epoch = node.replica->epoch();
      if (epoch > node.seen_epoch) {
        node.rounds_before += node.seen_round;
        node.seen_epoch = epoch;
        node.seen_round = 0;
      }
      if (opt_.verbose && node.replica->round() != node.seen_round) {
        std::printf("t=%llu R r%u round %llu\n", static_cast<unsigned long long>(now_), node.index,
                    static_cast<unsigned long long>(node.replica->round()));
      }
      node.seen_round = std::max(node.seen_round, node.replica->round());
      round = std::max(round, node.rounds_before + node.seen_round);
    }
    return round;
  }

  void CheckPhase() {
    if (!violations_.empty()) {
      done_ = true;
      return;
    }
    const uint64_t round = MaxHonestRound();
    result_.rounds = std::max(result_.rounds, round);
    WatchDownOne();
    if (chaos_ && opt_.down_one) {
      if (down_since_ && now_ >= *down_since_ + kDownOneWatchMs) Heal();
      return;
    }
    if (chaos_) {
      const bool rounds_done = round >= std::max<uint64_t>(opt_.rounds / 2, 1);
      if ((rounds_done && now_ >= far_behind_until_) || now_ >= kChaosTimeMaxMs) Heal();
      return;
    }
    bool progressed = true;
    for (const Node& node : nodes_) {
      if (Counted(node) && Height(node) <= heal_height_) progressed = false;
    }
    if (progressed && round >= opt_.rounds && all_committed_) {
      ReplayCheck();
      CheckExactlyOnce();
      CheckEpochs();
      done_ = true;
    } else if (now_ > heal_time_ + kHealTimeMaxMs) {
      Stall(StallReason(progressed, round));
    }
  }

  std::string StallReason(bool progressed, uint64_t round) const {
    std::string why = !progressed           ? "an honest replica made no progress after healing"
                      : round < opt_.rounds ? "the rounds were not reached after healing"
                                            : "acknowledged transactions did not all commit";
    why += " (heights";
    for (const Node& node : nodes_) {
      if (!node.byzantine)
        why += " " + std::to_string(node.index) + ":" + std::to_string(Height(node));
    }
    return why + ", heal height " + std::to_string(heal_height_) + ")";
  }

  void Heal() {
    chaos_ = false;
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].running() && !nodes_[i].halted && !nodes_[i].gone) StartNode(i);
    }
    heal_time_ = now_;
    heal_height_ = 0;
    for (const Node& node : nodes_) {
      if (!node.byzantine) heal_height_ = std::max(heal_height_, Height(node));
    }
    Log(0, 'H', 0, MaxHonestRound(), heal_height_);
    ReplayCheck();
  }

  // --- Event log --------------------------------------------------------------------------

  void Log(uint32_t replica, char kind, uint32_t other, uint64_t a, uint64_t b) {
    hash_.Add({now_, static_cast<uint64_t>(replica), static_cast<uint64_t>(kind),
               static_cast<uint64_t>(other), a, b});
    if (opt_.verbose) {
      std::printf("t=%llu %c r%u <- r%u %llu %llu\n", static_cast<unsigned long long>(now_), kind,
                  replica, other, static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b));
    }
  }

  const WholeNodeOptions opt_;
  Rng rng_;
  const uint64_t time_base_ms_;  // the simulated clock's 0, as calendar ms
  std::vector<crypto::KeyPair> keys_;
  consensus::ValidatorSet validators_;
  v1::Genesis genesis_;
  Workload workload_;
  std::vector<Node> nodes_;
  Replayer replayer_;
  std::vector<ClientTx> client_;
  std::map<std::pair<uint64_t, uint64_t>, Event> queue_;  // (time, sequence) -> event
  uint64_t seq_ = 0;
  uint64_t now_ = 0;
  bool chaos_ = true;
  bool done_ = false;
  bool all_committed_ = false;  // every acknowledged transaction on every honest replica
  uint32_t epoch_changes_sent_ = 0;
  double drop_probability_ = 0;
  double duplicate_probability_ = 0;
  uint64_t crash_gap_ms_ = 0;
  std::optional<uint64_t> down_since_;  // --down-one: when the one went down
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> link_last_ms_;  // (from, to): last arrival
  uint64_t down_progress_ms_ = 0;  // the others' last commit since then
  uint64_t down_height_ = 0;       // and its height  // 0: no crashes but the far-behind one
  double withhold_vote_probability_ = 0;
  uint64_t far_behind_from_ = UINT64_MAX;  // while in [from, until) a replica is far behind
  uint64_t far_behind_until_ = 0;
  std::vector<std::vector<bool>> blocked_;  // [from][to]
  uint64_t heal_time_ = 0;
  uint64_t heal_height_ = 0;
  // (validator, epoch, round) -> block
  std::map<std::tuple<uint32_t, uint64_t, uint64_t>, std::string> votes_;
  std::map<std::tuple<uint32_t, uint64_t, uint64_t>, Hash32> proposals_;
  std::map<uint64_t, std::pair<Hash32, std::string>> canonical_;     // height -> (block, root)
  std::map<Hash32, std::pair<uint64_t, uint32_t>> first_committed_;  // tx id -> (height, index)
  std::deque<v1::Transaction> recent_committed_;
  std::deque<v1::ConsensusMessage> recent_timeouts_;  // honest ones, for stale replays
  std::vector<std::string> violations_;
  EventHash hash_;
  WholeNodeResult result_;
};

void SimTransport::Send(uint32_t to, const v1::ConsensusMessage& message) {
  sim_->OnSend(self_, to, message);
}
void SimTransport::Broadcast(const v1::ConsensusMessage& message) {
  sim_->OnBroadcast(self_, message);
}
void SimTransport::FetchBlocks(uint32_t peer, const Hash32& block_id, uint64_t above_height) {
  sim_->OnFetch(self_, peer, block_id, above_height);
}

}  // namespace

WholeNodeResult RunWholeNode(const WholeNodeOptions& options) {
  return Simulation(options).Run();
}

}  // namespace reel::sim
