#include "tests/sim/sim.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>

#include "base/overloaded.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "tests/sim/forge.h"
#include "tests/sim/rng.h"

namespace reel::sim {
namespace {

using namespace consensus;

constexpr char kChainId[] = "reel-sim";
constexpr uint64_t kEpoch = 1;
constexpr uint64_t kTickMs = 20;
constexpr uint64_t kTimeoutInitialMs = 300;
constexpr uint64_t kTimeoutMaxMs = 2400;
// What the Byzantine coalition remembers of rounds behind the newest it heard of.
constexpr uint64_t kHeardRoundsMax = 64;
// How long a scripted attack waits for one stage's certificates before giving up.
constexpr uint64_t kAttackStageMs = 4 * kTimeoutMaxMs;
constexpr uint64_t kChaosTimeMaxMs = 120'000;  // chaos ends by then even if rounds are slow
constexpr uint64_t kEventsMax = 3'000'000;

struct FetchRequest {
  Hash32 block_id{};
  uint64_t above_height = 0;
};
struct FetchResponse {
  std::vector<Block> blocks;
};
using NetMessage = std::variant<Proposal, Vote, Timeout, FetchRequest, FetchResponse>;

crypto::KeyPair ValidatorKey(uint32_t index) {
  std::string seed(32, 's');
  seed[0] = static_cast<char>(index);
  seed[1] = static_cast<char>(index >> 8);
  return std::move(crypto::KeyPair::FromSeed(seed).value());
}

// A replica's durable application: committed blocks with their QCs and state
// roots (root(h) = H(root(h-1) || id)). It survives crashes, like the node's
// synced batch per block. It checks that its own commits form one chain.
class SimApp : public Application {
 public:
  SimApp(uint32_t replica, std::vector<std::string>* violations)
      : replica_(replica), violations_(violations) {
    Block genesis = MakeGenesisBlock(kChainId, kEpoch);
    QuorumCert qc = MakeGenesisQc(genesis);
    by_id_[genesis.id] = 0;
    committed_.push_back({std::move(genesis), std::move(qc), crypto::Blake2b256("sim-genesis")});
  }

  Hash32 ExecuteCommitted(const Block& block, const QuorumCert& qc) override {
    const Entry& last = committed_.back();
    if (block.header.height != last.block.header.height + 1 ||
        block.header.parent_id != last.block.id) {
      violations_->push_back("replica " + std::to_string(replica_) +
                             " committed a block that does not extend its chain at height " +
                             std::to_string(block.header.height));
    }
    std::string in(crypto::AsBytes(last.root));
    in.append(crypto::AsBytes(block.id));
    by_id_[block.id] = committed_.size();
    committed_.push_back({block, qc, crypto::Blake2b256(in)});
    return committed_.back().root;
  }
  std::optional<Hash32> StateRootAt(uint64_t height) const override {
    if (height >= committed_.size()) return std::nullopt;
    return committed_[height].root;
  }
  std::vector<std::string> PayloadForProposal(const std::vector<const Block*>&) override {
    return {"tx/" + std::to_string(replica_) + "/" + std::to_string(next_tx_++)};
  }
  Hash32 PayloadLeaf(std::string_view tx) const override { return crypto::Blake2b256(tx); }

  StartState Start(std::optional<SafetyState> safety) const {
    StartState start;
    start.safety = std::move(safety);
    start.committed_block = committed_.back().block;
    start.committed_qc = committed_.back().qc;
    // The newest committed headers, as the node reads them from its store, so that a
    // restarted replica elects the leaders the others do.
    const size_t keep = LeaderSchedule::HistoryBlocksMax(limits::validators_max);
    for (size_t i = committed_.size() > keep ? committed_.size() - keep : 0; i < committed_.size();
         ++i) {
      start.recent_committed.push_back(committed_[i].block.header);
    }
    return start;
  }
  uint64_t height() const { return committed_.back().block.header.height; }
  const Block* FindCommitted(const Hash32& id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &committed_[it->second].block;
  }

 private:
  struct Entry {
    Block block;
    QuorumCert qc;
    Hash32 root;
  };
  uint32_t replica_;
  std::vector<std::string>* violations_;
  std::vector<Entry> committed_;
  std::map<Hash32, size_t> by_id_;
  uint64_t next_tx_ = 0;
};

enum class Role { kHonest, kByzantine, kTwin };

struct Replica {
  uint32_t validator = 0;
  Role role = Role::kHonest;
  std::unique_ptr<SimApp> app;
  std::unique_ptr<Core> core;               // null while crashed
  std::optional<SafetyState> synced;        // what its disk holds
  std::map<Hash32, Block> blocks_synced;    // StoreBlock'd and synced since
  std::map<Hash32, Block> blocks_unsynced;  // StoreBlock'd, lost if it crashes now
  uint64_t incarnation = 0;
  std::set<Hash32> byzantine_votes;  // blocks its driver already double-voted for
  bool honest() const { return role == Role::kHonest; }
};

// A message a Byzantine driver made with one flaw that honest replicas must
// refuse (MustRefuse says when the core's checks reach it).
enum class Crafted : uint8_t {
  kNone,
  kForgedHighQc,          // timeout claiming a high QC above the signer's, its signatures copied
  kFarFutureTimeout,      // timeout beyond limits::consensus_future_rounds_max
  kBadTimeoutSignature,   // timeout whose signature is not the signer's
  kTcTooFew,              // TC (in a timeout) of fewer than a quorum of distinct signers
  kTcDuplicateSigner,     // TC reaching a quorum only by naming a signer twice
  kTcHighQcNotBelowTc,    // TC with an entry's high QC round at the TC's round
  kTcBadSignature,        // TC with an entry that is not its signer's signature
  kStaleTcProposal,       // proposal carrying a TC of a round other than r - 1
  kBadProposalSignature,  // proposal not signed by its proposer
  kBadVoteSignature,      // vote not signed by its signer
};

std::string_view CraftedName(Crafted kind) {
  switch (kind) {
    case Crafted::kNone:
      return "none";
    case Crafted::kForgedHighQc:
      return "crafted_forged_high_qc";
    case Crafted::kFarFutureTimeout:
      return "crafted_far_future_timeout";
    case Crafted::kBadTimeoutSignature:
      return "crafted_bad_timeout_signature";
    case Crafted::kTcTooFew:
      return "crafted_tc_too_few_signers";
    case Crafted::kTcDuplicateSigner:
      return "crafted_tc_duplicate_signer";
    case Crafted::kTcHighQcNotBelowTc:
      return "crafted_tc_high_qc_not_below_round";
    case Crafted::kTcBadSignature:
      return "crafted_tc_bad_signature";
    case Crafted::kStaleTcProposal:
      return "crafted_stale_tc_proposal";
    case Crafted::kBadProposalSignature:
      return "crafted_bad_proposal_signature";
    case Crafted::kBadVoteSignature:
      return "crafted_bad_vote_signature";
  }
  return "?";
}

// Whether an honest core that received `m` (crafted as `kind`) must have refused
// it, given its round and high QC round before the event and its round after:
// the core may ignore a stale message without looking at it, but every check on
// the path to the flaw runs before anything that message could change.
bool MustRefuse(Crafted kind, const NetMessage& m, uint64_t round_before, uint64_t high_qc_before,
                uint64_t round_after) {
  switch (kind) {
    case Crafted::kNone:
      return false;
    case Crafted::kForgedHighQc:
      return std::get<Timeout>(m).high_qc.round > high_qc_before;
    case Crafted::kFarFutureTimeout:
      return std::get<Timeout>(m).round > round_after + limits::consensus_future_rounds_max;
    case Crafted::kBadTimeoutSignature:
      return std::get<Timeout>(m).round >= round_after;
    case Crafted::kTcTooFew:
    case Crafted::kTcDuplicateSigner:
    case Crafted::kTcHighQcNotBelowTc:
    case Crafted::kTcBadSignature:
      return std::get<Timeout>(m).high_tc->round >= round_before;
    case Crafted::kStaleTcProposal:
    case Crafted::kBadProposalSignature:
      return true;
    case Crafted::kBadVoteSignature:
      return std::get<Vote>(m).round + 1 >= round_before;
  }
  return false;
}

struct Event {
  enum class Kind { kDeliver, kTick, kRestart };
  Kind kind = Kind::kTick;
  uint32_t to = 0;
  uint32_t from = 0;  // replica
  uint64_t incarnation = 0;
  NetMessage message;
  Crafted crafted = Crafted::kNone;
};

Event Delivery(uint32_t to, uint32_t from, NetMessage m, Crafted crafted = Crafted::kNone) {
  return Event{Event::Kind::kDeliver, to, from, 0, std::move(m), crafted};
}

uint64_t RoundOf(const NetMessage& m) {
  return std::visit(Overloaded{
                        [](const Proposal& p) { return p.block.header.round; },
                        [](const Vote& v) { return v.round; },
                        [](const Timeout& t) { return t.round; },
                        [](const FetchRequest&) { return uint64_t{0}; },
                        [](const FetchResponse&) { return uint64_t{0}; },
                    },
                    m);
}

uint64_t Prefix(const Hash32& h) {
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | h[i];
  return x;
}

class Simulation {
 public:
  explicit Simulation(const SimOptions& options) : opt_(options), rng_(options.seed) {
    const uint32_t n = opt_.validators;
    REEL_ASSERT(n >= 1);
    validators_.keys.clear();
    for (uint32_t i = 0; i < n; ++i) validators_.keys.push_back(ValidatorKey(i).public_key());
    const uint32_t f = static_cast<uint32_t>(validators_.f());
    REEL_ASSERT(opt_.byzantine <= f);
    // Which validators are faulty is part of the seed's scenario.
    std::vector<uint32_t> order(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    for (uint32_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng_.Uniform(0, i - 1)]);
    std::set<uint32_t> faulty(order.begin(), order.begin() + opt_.byzantine);
    // Faulty validators that lead consecutive rounds are the worst case for the
    // round-robin schedule, and what the skip-round fork needs (three in a row).
    if (!opt_.twins && opt_.byzantine >= 2 && rng_.Chance(0.5)) {
      faulty.clear();
      for (uint32_t k = 0; k < opt_.byzantine; ++k) faulty.insert((order[0] + k) % n);
    }
    twin_validator_ = opt_.twins && f >= 1 ? std::optional<uint32_t>(order[0]) : std::nullopt;
    twins_scenario_left_ = opt_.seed;
    for (uint32_t v = 0; v < n; ++v) {
      Role role = faulty.count(v) != 0 ? Role::kByzantine : Role::kHonest;
      if (twin_validator_ == v) role = Role::kTwin;
      if (role == Role::kByzantine) {
        coalition_.emplace(v, Member{static_cast<uint32_t>(replicas_.size()), ValidatorKey(v)});
      }
      AddReplica(v, role);
      if (twin_validator_ == v) AddReplica(v, Role::kTwin);
    }
    // The lies the coalition tells this seed; every member double-votes.
    profile_.equivocate = rng_.Chance(0.75);
    profile_.withhold = rng_.Chance(0.5);
    profile_.craft = rng_.Chance(0.5);
    profile_.fork_below_tc = rng_.Chance(0.5);
    profile_.skip_round_fork = rng_.Chance(0.5);
    // Fault intensities vary by seed.
    drop_probability_ = std::vector<double>{0.0, 0.02, 0.05, 0.1}[rng_.Uniform(0, 3)];
    duplicate_probability_ = std::vector<double>{0.0, 0.02, 0.05, 0.1}[rng_.Uniform(0, 3)];
    crash_probability_ = std::vector<double>{0.0, 0.003, 0.01}[rng_.Uniform(0, 2)];
    if (opt_.bug == PlantedBug::kVoteBeforePersist) crash_probability_ = 0.02;
    blocked_.assign(replicas_.size(), std::vector<bool>(replicas_.size(), false));
  }

  SimResult Run() {
    for (uint32_t r = 0; r < replicas_.size(); ++r) StartReplica(r);
    next_partition_change_ms_ = rng_.Uniform(0, 300);
    while (!queue_.empty() && !done_) {
      auto it = queue_.begin();
      now_ = it->first.first;
      Event e = std::move(it->second);
      queue_.erase(it);
      ++result_.events;
      Process(e);
      if (chaos_ && now_ >= next_partition_change_ms_) ChangePartitions();
      CheckPhase();
      if (result_.events >= kEventsMax) {
        Stall("event budget exhausted");
        break;
      }
    }
    result_.violations = violations_;
    for (const Replica& r : replicas_) {
      if (r.honest()) result_.commits = std::max(result_.commits, r.app->height());
    }
    result_.event_hash = hash_.value();
    return std::move(result_);
  }

 private:
  // --- Replicas -----------------------------------------------------------------------

  void AddReplica(uint32_t validator, Role role) {
    Replica r;
    r.validator = validator;
    r.role = role;
    r.app = std::make_unique<SimApp>(static_cast<uint32_t>(replicas_.size()), &violations_);
    replicas_.push_back(std::move(r));
  }

  void StartReplica(uint32_t index) {
    Replica& r = replicas_[index];
    Config config;
    config.chain_id = kChainId;
    config.epoch = kEpoch;
    config.validators = validators_;
    config.self_index = r.validator;
    config.round_timeout_ms_initial = kTimeoutInitialMs;
    config.round_timeout_ms_max = kTimeoutMaxMs;
    config.bug = opt_.bug;
    config.leader_reputation = !opt_.round_robin;
    r.core = std::make_unique<Core>(std::move(config), ValidatorKey(r.validator), r.app.get());
    ++r.incarnation;
    Log(index, 'S', index, 0, 0);
    StartState start = r.app->Start(r.synced);
    for (const auto& [id, block] : r.blocks_synced) start.stored_blocks.push_back(block);
    Execute(index, r.core->OnStart(start, now_));
    if (r.core) ScheduleTick(index);
  }

  void Crash(uint32_t index) {
    Replica& r = replicas_[index];
    r.core.reset();  // memory, unsynced writes and in-flight self messages are gone
    r.blocks_unsynced.clear();
    ++r.incarnation;
    ++result_.crashes;
    Log(index, 'C', index, 0, 0);
    Event e;
    e.kind = Event::Kind::kRestart;
    e.to = index;
    e.incarnation = r.incarnation;
    Schedule(now_ + rng_.Uniform(50, 1500), std::move(e));
  }

  void ScheduleTick(uint32_t index) {
    Event e;
    e.kind = Event::Kind::kTick;
    e.to = index;
    e.incarnation = replicas_[index].incarnation;
    Schedule(now_ + kTickMs, std::move(e));
  }

  // --- Events -------------------------------------------------------------------------

  void Schedule(uint64_t at, Event e) { queue_.emplace(std::make_pair(at, seq_++), std::move(e)); }

  void Process(Event& e) {
    Replica& r = replicas_[e.to];
    switch (e.kind) {
      case Event::Kind::kTick:
        if (!r.core || e.incarnation != r.incarnation) return;
        Execute(e.to, r.core->OnTick(now_));
        if (r.core) ScheduleTick(e.to);
        return;
      case Event::Kind::kRestart:
        if (r.core || e.incarnation != r.incarnation) return;
        StartReplica(e.to);
        return;
      case Event::Kind::kDeliver:
        if (!r.core) return;  // a crashed replica hears nothing
        Deliver(e);
        return;
    }
  }

  void Deliver(Event& e) {
    Replica& r = replicas_[e.to];
    const uint32_t from_validator = replicas_[e.from].validator;
    Log(e.to, 'D', e.from, e.message.index(), RoundOf(e.message));
    const uint64_t round_before = r.core->round();
    const uint64_t high_qc_before = r.core->safety_state().high_qc.round;
    if (r.role == Role::kByzantine) Overhear(e);
    Step step;
    bool served = false;  // a fetch request is answered by the simulator, not a core
    std::visit(Overloaded{
                   [&](const Proposal& p) {
                     step = r.core->OnProposal(from_validator, p);
                     if (r.role == Role::kByzantine) ByzantineVote(e.to, p);
                   },
                   [&](const Vote& v) { step = r.core->OnVote(from_validator, v); },
                   [&](const Timeout& t) { step = r.core->OnTimeout(from_validator, t); },
                   [&](const FetchRequest& req) {
                     ServeFetch(e.to, e.from, req);
                     served = true;
                   },
                   [&](FetchResponse& resp) {
                     step = r.core->OnBlocksFetched(from_validator, std::move(resp.blocks));
                   },
               },
               e.message);
    if (served) return;
    if (opt_.verbose && !step.status.ok()) {
      std::printf("  t=%llu r%u refused: %s\n", static_cast<unsigned long long>(now_), e.to,
                  step.status.ToString().c_str());
    }
    if (e.crafted != Crafted::kNone && r.honest()) {
      CheckRefused(e, step.status, round_before, high_qc_before);
    }
    Execute(e.to, std::move(step));
    if (r.role == Role::kByzantine) AdvanceAttack();
  }

  // Carries out a step's actions in order; during chaos a crash may strike
  // between any two, which is exactly where unsynced state is lost.
  void Execute(uint32_t index, Step step) {
    for (Action& action : step.actions) {
      Replica& r = replicas_[index];
      if (!r.core) return;
      if (chaos_ && rng_.Chance(crash_probability_)) {
        Crash(index);
        return;
      }
      std::visit(Overloaded{
                     [&](const Persist& persist) {
                       r.synced = persist.state;  // written, and the sync covers earlier writes
                       r.blocks_synced.merge(r.blocks_unsynced);
                       r.blocks_unsynced.clear();
                     },
                     [&](const StoreBlock& store) {
                       r.blocks_unsynced.emplace(store.block.id, store.block);
                     },
                     [&](const Send& send) {
                       RecordSignature(index, send.message);
                       SendToValidator(index, send.to, ToNet(send.message));
                     },
                     [&](const Broadcast& broadcast) {
                       RecordSignature(index, broadcast.message);
                       BroadcastFrom(index, broadcast.message);
                     },
                     [&](const Commit& commit) {
                       CheckCommit(index, commit);
                       std::erase_if(r.blocks_synced, [&](const auto& kv) {
                         return kv.second.header.height <= r.app->height();
                       });
                     },
                     [&](const FetchBlocks& fetch) {
                       ++result_.fetches;
                       SendToValidator(index, fetch.from_peer,
                                       FetchRequest{fetch.block_id, fetch.above_height});
                     },
                 },
                 action);
    }
  }

  static NetMessage ToNet(const Message& m) {
    return std::visit([](const auto& x) -> NetMessage { return x; }, m);
  }

  // --- Network ------------------------------------------------------------------------

  void SendToValidator(uint32_t from, uint32_t validator, const NetMessage& m,
                       Crafted crafted = Crafted::kNone) {
    for (uint32_t to = 0; to < replicas_.size(); ++to) {
      if (replicas_[to].validator == validator) SendTo(from, to, m, crafted);
    }
  }

  void SendTo(uint32_t from, uint32_t to, const NetMessage& m, Crafted crafted = Crafted::kNone) {
    if (from == to) {  // loopback: reliable and prompt
      Schedule(now_ + 1, Delivery(to, from, m, crafted));
      return;
    }
    if (chaos_ && (blocked_[from][to] || rng_.Chance(drop_probability_))) return;
    const int copies = chaos_ && rng_.Chance(duplicate_probability_) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      uint64_t delay = rng_.Uniform(1, 30);
      if (chaos_ && rng_.Chance(0.2)) delay += rng_.Uniform(0, 300);  // reorders
      Schedule(now_ + delay, Delivery(to, from, m, crafted));
    }
  }

  // Past partitions and drops, `delay` from now: what a liar shows late.
  void DeliverLater(uint32_t from, uint32_t validator, const NetMessage& m, uint64_t delay) {
    for (uint32_t to = 0; to < replicas_.size(); ++to) {
      if (replicas_[to].validator == validator && to != from) {
        Schedule(now_ + delay, Delivery(to, from, m));
      }
    }
  }

  void BroadcastFrom(uint32_t from, const Message& m) {
    if (replicas_[from].role == Role::kByzantine && validators_.n() > 1) {
      if (const auto* proposal = std::get_if<Proposal>(&m)) return ByzantineLeader(from, *proposal);
      if (const auto* timeout = std::get_if<Timeout>(&m)) return ByzantineTimeout(from, *timeout);
    }
    for (uint32_t v = 0; v < validators_.n(); ++v) SendToValidator(from, v, ToNet(m));
  }

  void ChangePartitions() {
    next_partition_change_ms_ = now_ + rng_.Uniform(50, 600);
    ++result_.partition_changes;
    const size_t count = replicas_.size();
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    const uint64_t kind = rng_.Uniform(0, 9);
    if (twin_validator_) {
      TwinsPartition(kind);
      return;
    }
    if (kind < 4) return;  // no partition this period
    if (kind < 7) {        // symmetric split
      std::vector<int> side(count);
      for (size_t i = 0; i < count; ++i) side[i] = static_cast<int>(rng_.Uniform(0, 1));
      for (size_t a = 0; a < count; ++a) {
        for (size_t b = 0; b < count; ++b) blocked_[a][b] = side[a] != side[b];
      }
    } else {  // one-way links down
      for (size_t a = 0; a < count; ++a) {
        for (size_t b = 0; b < count; ++b) blocked_[a][b] = a != b && rng_.Chance(0.3);
      }
    }
    Log(0, 'P', 0, kind < 7 ? 0 : 1, kind);
  }

  // Twins: the two replicas with one key on either side of a split. The seed
  // enumerates scenarios: its digits, in base 2^(others) + 1, pick the split of
  // each of the first partition periods (digit 0: no partition), so seeds
  // 1..N cover every combination of the first few periods; later periods take
  // random splits.
  void TwinsPartition(uint64_t kind) {
    const size_t count = replicas_.size();
    std::vector<size_t> others;
    for (size_t i = 0; i < count; ++i) {
      if (replicas_[i].role != Role::kTwin) others.push_back(i);
    }
    const uint64_t splits = uint64_t{1} << std::min<size_t>(others.size(), 20);
    uint64_t digit;
    if (twins_scenario_left_ > 0) {
      digit = twins_scenario_left_ % (splits + 1);
      twins_scenario_left_ /= splits + 1;
    } else {
      digit = kind < 2 ? 0 : rng_.Uniform(1, splits);
    }
    if (digit == 0) return;
    std::vector<int> side(count, 0);
    bool first_twin = true;
    for (size_t i = 0; i < count; ++i) {
      if (replicas_[i].role == Role::kTwin) {
        side[i] = first_twin ? 0 : 1;
        first_twin = false;
      }
    }
    for (size_t k = 0; k < others.size(); ++k) side[others[k]] = ((digit - 1) >> k) & 1;
    for (size_t a = 0; a < count; ++a) {
      for (size_t b = 0; b < count; ++b) blocked_[a][b] = side[a] != side[b];
    }
    Log(0, 'P', 0, 2, digit);
  }

  // --- Fetch service (the node's block-sync, from its own stores) ------------------

  void ServeFetch(uint32_t server, uint32_t client, const FetchRequest& req) {
    const Replica& r = replicas_[server];
    std::vector<Block> chain;  // newest first
    Hash32 id = req.block_id;
    while (true) {
      const Block* b = r.core->tree().Find(id);
      if (b == nullptr) b = r.app->FindCommitted(id);
      if (b == nullptr || b->header.height <= req.above_height) break;
      chain.push_back(*b);
      id = b->header.parent_id;
    }
    std::reverse(chain.begin(), chain.end());
    if (chain.size() > limits::consensus_fetch_blocks_max)
      chain.resize(limits::consensus_fetch_blocks_max);
    if (!chain.empty()) SendTo(server, client, FetchResponse{std::move(chain)});
  }

  // --- Byzantine coalition --------------------------------------------------------------
  //
  // The Byzantine validators collude: one driver speaks for all of them, hears
  // what any of them is sent, and signs with any of their keys. It runs at most
  // one scripted attack at a time (ForkBelowTc, SkipRoundFork); otherwise each
  // faulty leader tells a lie of the seed's profile per proposal, every faulty
  // timeout hides the QCs the coalition withholds, and crafted messages follow.

  struct Member {
    uint32_t replica = 0;
    crypto::KeyPair key;
  };
  struct Profile {
    bool equivocate = false;       // a leader shows two blocks for its round
    bool withhold = false;         // a leader shows its proposal to nobody, some, or some late
    bool craft = false;            // crafted timeouts, TCs, votes and proposals
    bool fork_below_tc = false;    // the ForkBelowTc attack
    bool skip_round_fork = false;  // the SkipRoundFork attack, with three members in a row
  };

  forge::Chain Chain() const { return {kChainId, kEpoch}; }

  void Count(std::string_view what) { ++result_.byzantine_actions[std::string(what)]; }

  bool InCoalition(uint32_t validator) const { return coalition_.count(validator) != 0; }
  bool HonestValidator(uint32_t validator) const {
    return !InCoalition(validator) && twin_validator_ != validator;
  }
  const Member& MemberOf(uint32_t validator) const {
    auto it = coalition_.find(validator);
    REEL_ASSERT(it != coalition_.end());
    return it->second;
  }
  const crypto::KeyPair& Key(uint32_t validator) const { return MemberOf(validator).key; }
  uint32_t ReplicaOf(uint32_t validator) const { return MemberOf(validator).replica; }

  // A block any coalition member holds, or one the coalition made.
  const Block* FindBlock(const Hash32& id) const {
    for (const auto& [validator, member] : coalition_) {
      const Replica& r = replicas_[member.replica];
      if (const Block* b = r.core ? r.core->tree().Find(id) : nullptr) return b;
      if (const Block* b = r.app->FindCommitted(id)) return b;
    }
    return nullptr;
  }

  std::optional<Hash32> CoalitionRootAt(uint64_t height) const {
    for (const auto& [validator, member] : coalition_) {
      if (auto root = replicas_[member.replica].app->StateRootAt(height)) return root;
    }
    return std::nullopt;
  }

  // The leader the scripted attacks plan with: round-robin, exact only with
  // --round-robin (under reputation the plans rarely fit, and the attacks give up).
  uint32_t PlannedLeader(uint64_t round) const {
    return static_cast<uint32_t>(round % validators_.n());
  }
  // Who leads `round` on `parent` by the schedule, as an honest core reads it.
  uint32_t LeaderOn(const Block& parent, uint64_t round) const {
    for (const Replica& r : replicas_) {
      if (r.honest() && r.core != nullptr &&
          r.core->committed_height() >= parent.header.committed_height) {
        return r.core->LeaderOf(round, parent.header.committed_height);
      }
    }
    return PlannedLeader(round);
  }

  // A block the planned leader of `round` signs; nullopt when the schedule gives that
  // round on `parent` to someone else (the plan does not fit: the attack gives up).
  std::optional<Block> MakeBlock(const Block& parent, const QuorumCert& qc, uint64_t round) {
    if (LeaderOn(parent, round) != PlannedLeader(round)) return std::nullopt;
    return forge::MakeBlock(Chain(), parent, qc, round, PlannedLeader(round), now_,
                            {"byzantine/" + std::to_string(seq_)},
                            [this](uint64_t height) { return CoalitionRootAt(height); });
  }

  // Honest timeouts and votes sent to a coalition member: the coalition builds
  // certificates from them.
  void Overhear(const Event& e) {
    if (!replicas_[e.from].honest()) return;
    if (const auto* t = std::get_if<Timeout>(&e.message)) {
      auto& heard = heard_timeouts_[t->round];
      const bool fresh =
          heard.emplace(t->signer, TimeoutSignature{t->signer, t->high_qc.round, t->signature})
              .second;
      if (fresh && heard.size() + 1 == validators_.quorum()) MaybeSendCraftedTc(e.to, t->round);
      while (heard_timeouts_.begin()->first + kHeardRoundsMax < t->round) {
        heard_timeouts_.erase(heard_timeouts_.begin());
      }
    } else if (const auto* v = std::get_if<Vote>(&e.message)) {
      heard_votes_[{v->round, v->block_id}].emplace(v->signer, v->signature);
      while (heard_votes_.begin()->first.first + kHeardRoundsMax < v->round) {
        heard_votes_.erase(heard_votes_.begin());
      }
    }
  }

  // A valid TC of `round`: every member's entry (claiming the genesis QC) and the
  // honest entries heard with the lowest high QC rounds, a quorum in all. nullopt
  // unless enough were heard with high QC rounds of at most `bar_max`.
  std::optional<TimeoutCert> BuildTc(uint64_t round, uint64_t bar_max) const {
    REEL_ASSERT(coalition_.size() < validators_.quorum());  // f < n - f
    TimeoutCert tc{kEpoch, round, {}};
    for (const auto& [validator, member] : coalition_) {
      tc.signers.push_back(forge::SignTimeoutEntry(Chain(), member.key, validator, round, 0));
    }
    std::vector<TimeoutSignature> heard;
    if (auto it = heard_timeouts_.find(round); it != heard_timeouts_.end()) {
      for (const auto& [signer, entry] : it->second) heard.push_back(entry);
    }
    std::stable_sort(heard.begin(), heard.end(), [](const auto& a, const auto& b) {
      return a.high_qc_round < b.high_qc_round;
    });
    for (const TimeoutSignature& entry : heard) {
      if (tc.signers.size() >= validators_.quorum() || entry.high_qc_round > bar_max) break;
      tc.signers.push_back(entry);
    }
    if (tc.signers.size() < validators_.quorum()) return std::nullopt;
    return tc;
  }

  // A QC for `block` from the honest votes heard and the members' own.
  std::optional<QuorumCert> BuildQc(const Block& block) const {
    std::map<uint32_t, Signature> signers;
    if (auto it = heard_votes_.find({block.header.round, block.id}); it != heard_votes_.end()) {
      signers = it->second;
    }
    for (const auto& [validator, member] : coalition_) {
      signers[validator] = forge::SignVote(Chain(), member.key, validator, block).signature;
    }
    if (signers.size() < validators_.quorum()) return std::nullopt;
    QuorumCert qc{block.id, block.header.round, block.header.height, kEpoch, {}};
    for (const auto& [index, signature] : signers) {
      if (qc.signers.size() < validators_.quorum()) qc.signers.push_back({index, signature});
    }
    return qc;
  }

  // What a member shows in place of `qc` while the coalition hides it: the
  // certified block's own QC, which the honest replicas already hold.
  QuorumCert Shown(QuorumCert qc) const {
    while (hidden_qcs_.count({qc.round, qc.block_id}) != 0) {
      const Block* b = FindBlock(qc.block_id);
      if (b == nullptr) return MakeGenesisQc(MakeGenesisBlock(kChainId, kEpoch));
      qc = b->qc;
    }
    return qc;
  }

  void Withhold(const Proposal& p) {
    hidden_qcs_.insert({p.block.qc.round, p.block.qc.block_id});
    while (hidden_qcs_.begin()->first + kHeardRoundsMax < p.block.qc.round) {
      hidden_qcs_.erase(hidden_qcs_.begin());
    }
  }

  // A scripted attack's proposal, sent twice: a liar retransmits what it needs
  // delivered, and a lossy network should not decide the attack.
  void SendTwice(uint32_t from, uint32_t validator, const Proposal& p) {
    SendToValidator(from, validator, p);
    SendToValidator(from, validator, p);
  }

  void SendToHonest(uint32_t from, const NetMessage& m, Crafted crafted) {
    for (uint32_t to = 0; to < replicas_.size(); ++to) {
      if (replicas_[to].honest()) SendTo(from, to, m, crafted);
    }
  }

  // --- Byzantine leaders -----------------------------------------------------------------

  enum class LeaderLie { kNone, kEquivocate, kSilent, kPartial, kLate, kStaleTc, kBadSignature };

  // A faulty leader's proposal: taken by a scripted attack, or one lie of the
  // seed's profile (or none).
  void ByzantineLeader(uint32_t from, const Proposal& p) {
    if (AttackOwns(p.block.header.round)) {
      Withhold(p);
      Count("proposals_withheld_for_attack");
      return;
    }
    if (profile_.skip_round_fork && StartSkipRoundFork(from, p)) return;
    if (profile_.fork_below_tc && rng_.Chance(0.5) && StartForkBelowTc(from, p)) return;
    std::vector<LeaderLie> lies = {LeaderLie::kNone};
    if (profile_.equivocate)
      lies.insert(lies.end(), {LeaderLie::kEquivocate, LeaderLie::kEquivocate});
    if (profile_.withhold)
      lies.insert(lies.end(), {LeaderLie::kSilent, LeaderLie::kPartial, LeaderLie::kLate});
    if (profile_.craft) lies.insert(lies.end(), {LeaderLie::kStaleTc, LeaderLie::kBadSignature});
    const LeaderLie lie = lies[rng_.Uniform(0, lies.size() - 1)];
    Log(from, 'L', from, static_cast<uint64_t>(lie), p.block.header.round);
    switch (lie) {
      case LeaderLie::kNone:
        for (uint32_t v = 0; v < validators_.n(); ++v) SendToValidator(from, v, p);
        return;
      case LeaderLie::kEquivocate:
        return Equivocate(from, p);
      case LeaderLie::kSilent:
        Withhold(p);  // and its timeouts hide the QC too: nobody learns it from this leader
        Count("proposals_withheld");
        return;
      case LeaderLie::kPartial:
      case LeaderLie::kLate:
        return ShowSome(from, p, lie == LeaderLie::kLate);
      case LeaderLie::kStaleTc:
      case LeaderLie::kBadSignature:
        return ProposeFlawed(from, p, lie == LeaderLie::kStaleTc);
    }
  }

  // The proposal, and so the QC it carries, to a random part of the validators;
  // the rest get it a few round timeouts later, or never.
  void ShowSome(uint32_t from, const Proposal& p, bool late) {
    Count(late ? "proposals_shown_late" : "proposals_shown_to_some");
    const uint64_t delay = rng_.Uniform(1, 3) * kTimeoutInitialMs + rng_.Uniform(0, 100);
    for (uint32_t v = 0; v < validators_.n(); ++v) {
      if (v == replicas_[from].validator || rng_.Chance(0.5)) {
        SendToValidator(from, v, p);
      } else if (late) {
        DeliverLater(from, v, p, delay);
      }
    }
  }

  // First the proposal with a stale TC or a bad signature, which every honest
  // replica must refuse, then the real one.
  void ProposeFlawed(uint32_t from, const Proposal& p, bool stale_tc) {
    Proposal flawed = p;
    Crafted kind = Crafted::kBadProposalSignature;
    if (stale_tc && p.block.header.round >= 3) {
      const uint64_t round =
          p.block.header.round - rng_.Uniform(2, std::min<uint64_t>(4, p.block.header.round - 1));
      kind = Crafted::kStaleTcProposal;
      flawed.tc = BuildTc(round, UINT64_MAX);
      if (!flawed.tc) flawed.tc = CraftTc(Crafted::kTcTooFew, replicas_[from].validator, round);
    } else {
      forge::Corrupt(flawed.signature);
    }
    Count(CraftedName(kind));
    SendToHonest(from, flawed, kind);
    for (uint32_t v = 0; v < validators_.n(); ++v) SendToValidator(from, v, p);
  }

  // An equivocating leader: one block to half the validators, another to the
  // rest, and later each half gets the other block too.
  // The other block either carries other transactions on the same parent, or
  // forks one or two blocks lower, on an older QC (with the honest proposal's
  // TC, if any), which the voting rule must refuse unless the TC allows it.
  void Equivocate(uint32_t from, const Proposal& honest) {
    Count("equivocations");
    Proposal other = honest;
    Block& b = other.block;
    if (rng_.Chance(0.6)) ForkLower(from, b, static_cast<int>(rng_.Uniform(1, 2)));
    b.payload.push_back("equivocation/" + std::to_string(seq_));
    forge::Reseal(Chain(), b);
    other = forge::SignProposal(Key(replicas_[from].validator), b, other.tc);
    ByzantineVote(from, other);  // its own core only ever sees the honest one
    // One random validator gets the honest block first, the rest the other
    // one: the split that gives the other block the most votes.
    const uint64_t later = rng_.Uniform(50, 400);
    const uint64_t lucky = rng_.Uniform(0, validators_.n() - 1);
    for (uint32_t v = 0; v < validators_.n(); ++v) {
      const bool first = v == replicas_[from].validator || v == lucky;
      SendToValidator(from, v, first ? NetMessage{honest} : NetMessage{other});
      DeliverLater(from, v, first ? NetMessage{other} : NetMessage{honest}, later);
    }
  }

  // Re-parents `b` `depth` blocks below its parent, on the certificate found
  // in the block above the new parent. The new parent may already be
  // committed: then `b` conflicts with a committed block.
  void ForkLower(uint32_t from, Block& b, int depth) {
    const Replica& r = replicas_[from];
    auto find = [&](const Hash32& id) {
      const Block* x = r.core->tree().Find(id);
      return x != nullptr ? x : r.app->FindCommitted(id);
    };
    const Block* above = find(b.header.parent_id);
    for (int i = 1; i < depth && above != nullptr; ++i) above = find(above->header.parent_id);
    if (above == nullptr || above->header.height == 0) return;
    const Block* parent = find(above->header.parent_id);
    if (parent == nullptr) return;
    const BlockHeader& g = parent->header;
    const uint64_t committed = forge::CommittedHeightForChild(g);
    const std::optional<Hash32> root = r.app->StateRootAt(committed);
    if (!root) return;
    b.qc = above->qc;
    b.header.parent_id = parent->id;
    b.header.qc_block_id = above->qc.block_id;
    b.header.qc_round = above->qc.round;
    b.header.height = g.height + 1;
    b.header.timestamp_ms = std::max(b.header.timestamp_ms, g.timestamp_ms + 1);
    b.header.committed_height = committed;
    b.header.committed_state_root = *root;
    Log(from, 'F', from, static_cast<uint64_t>(depth), b.header.round);
  }

  // A double voter: votes for every proposal it sees, whatever the rules say,
  // and sends each such vote twice.
  void ByzantineVote(uint32_t index, const Proposal& p) {
    Replica& r = replicas_[index];
    Block b = p.block;
    b.Seal(kChainId);
    if (b.header.round == 0 || !r.byzantine_votes.insert(b.id).second) return;
    Count("double_votes");
    const Vote v = forge::SignVote(Chain(), Key(r.validator), r.validator, b);
    // Its own core's view of the schedule, which every holder of the block shares.
    const uint32_t leader = r.core != nullptr
                                ? r.core->LeaderOf(v.round + 1, b.header.committed_height)
                                : static_cast<uint32_t>((v.round + 1) % validators_.n());
    SendToValidator(index, leader, v);
    SendToValidator(index, leader, v);
  }

  // --- Byzantine timeouts and crafted messages ---------------------------------------------

  // A faulty replica's timeout: it never shows a QC the coalition hides, now
  // and then claims a lower high QC than it holds (a lie nobody can see), and
  // may bring a crafted message along.
  void ByzantineTimeout(uint32_t from, const Timeout& t) {
    const uint32_t validator = replicas_[from].validator;
    QuorumCert shown = Shown(t.high_qc);
    if (shown.block_id != t.high_qc.block_id) {
      Count("timeouts_hiding_a_qc");
    } else if (profile_.craft && shown.round > 0 && rng_.Chance(0.2)) {
      if (const Block* b = FindBlock(shown.block_id)) {
        shown = b->qc;
        Count("timeouts_claiming_a_lower_high_qc");
      }
    }
    Timeout sent = t;
    if (shown.block_id != t.high_qc.block_id) {
      sent = forge::SignTimeout(Chain(), Key(validator), validator, t.round, shown, t.high_tc);
    }
    for (uint32_t v = 0; v < validators_.n(); ++v) SendToValidator(from, v, sent);
    if (profile_.craft && rng_.Chance(0.5)) SendCrafted(from);
  }

  // One crafted timeout or vote around the sender's round, to the honest
  // replicas (a vote to the next leader only).
  void SendCrafted(uint32_t from) {
    const Replica& r = replicas_[from];
    if (!r.core) return;
    static constexpr Crafted kKinds[] = {Crafted::kForgedHighQc, Crafted::kFarFutureTimeout,
                                         Crafted::kBadTimeoutSignature, Crafted::kBadVoteSignature};
    SendCraftedAs(from, kKinds[rng_.Uniform(0, std::size(kKinds) - 1)], r.core->round());
  }

  // Once the coalition has heard a quorum less one honest timeouts of `round`, a
  // crafted TC of that round can be valid but for its one flaw, and the honest
  // replicas are most likely still in the round: the moment to send it.
  void MaybeSendCraftedTc(uint32_t from, uint64_t round) {
    if (!profile_.craft || !replicas_[from].core || !rng_.Chance(0.5)) return;
    static constexpr Crafted kKinds[] = {Crafted::kTcTooFew, Crafted::kTcDuplicateSigner,
                                         Crafted::kTcHighQcNotBelowTc, Crafted::kTcBadSignature};
    SendCraftedAs(from, kKinds[rng_.Uniform(0, std::size(kKinds) - 1)], round);
  }

  void SendCraftedAs(uint32_t from, Crafted kind, uint64_t round) {
    const Replica& r = replicas_[from];
    const uint32_t v = r.validator;
    const QuorumCert high = Shown(r.core->safety_state().high_qc);
    if (high.round >= round) return;  // the timeout would be refused for that instead
    const uint32_t leader = PlannedLeader(round + 1);
    if (kind == Crafted::kBadVoteSignature && !HonestValidator(leader)) return;
    Count(CraftedName(kind));
    Log(from, 'X', from, static_cast<uint64_t>(kind), round);
    Timeout t;
    switch (kind) {
      case Crafted::kBadVoteSignature: {
        Vote vote;
        vote.epoch = kEpoch;
        vote.round = round;
        vote.block_id = high.block_id;
        vote.signer = v;
        vote.signature = Key(v).SignDigest(VoteDigest(kChainId, kEpoch, vote.block_id, round));
        forge::Corrupt(vote.signature);
        SendToValidator(from, leader, vote, kind);
        return;
      }
      case Crafted::kForgedHighQc: {
        QuorumCert forged = high;
        forged.round += rng_.Uniform(1, 3);
        t = forge::SignTimeout(Chain(), Key(v), v, std::max(round, forged.round + 1), forged, {});
        break;
      }
      case Crafted::kFarFutureTimeout:
        t = forge::SignTimeout(Chain(), Key(v), v,
                               round + limits::consensus_future_rounds_max + rng_.Uniform(1, 1000),
                               high, {});
        break;
      case Crafted::kBadTimeoutSignature:
        t = forge::SignTimeout(Chain(), Key(v), v, round, high, {});
        forge::Corrupt(t.signature);
        break;
      default:
        t = forge::SignTimeout(Chain(), Key(v), v, round, high, CraftTc(kind, v, round));
        break;
    }
    SendToHonest(from, t, kind);
  }

  // A TC of `round` with the flaw `kind`, built on the honest entries heard so
  // that, where there are enough, the flaw is the only thing wrong with it.
  TimeoutCert CraftTc(Crafted kind, uint32_t validator, uint64_t round) const {
    const size_t quorum = validators_.quorum();
    const size_t distinct =
        kind == Crafted::kTcTooFew || kind == Crafted::kTcDuplicateSigner ? quorum - 1 : quorum;
    const uint64_t claim = kind == Crafted::kTcHighQcNotBelowTc ? round : 0;
    TimeoutCert tc{kEpoch, round, {}};
    tc.signers.push_back(forge::SignTimeoutEntry(Chain(), Key(validator), validator, round, claim));
    if (auto it = heard_timeouts_.find(round); it != heard_timeouts_.end()) {
      for (const auto& [signer, entry] : it->second) {
        if (tc.signers.size() < distinct) tc.signers.push_back(entry);
      }
    }
    while (kind != Crafted::kTcTooFew && tc.signers.size() < quorum) {
      tc.signers.push_back(tc.signers.front());  // a duplicate, where too few were heard
    }
    if (kind == Crafted::kTcBadSignature) forge::Corrupt(tc.signers.back().signature);
    return tc;
  }

  // An honest replica got a crafted message: where the core's checks reach
  // the flaw, it must have refused it.
  void CheckRefused(const Event& e, const Status& status, uint64_t round_before,
                    uint64_t high_qc_before) {
    const uint64_t round_after = replicas_[e.to].core->round();
    if (!MustRefuse(e.crafted, e.message, round_before, high_qc_before, round_after)) {
      Count("crafted_deliveries_stale");
    } else if (status.ok()) {
      Violation("replica " + std::to_string(e.to) + " accepted a " +
                std::string(CraftedName(e.crafted)) + " from replica " + std::to_string(e.from));
    } else {
      Count("crafted_deliveries_refused");
    }
  }

  // --- Scripted attacks ------------------------------------------------------------------
  //
  // ForkBelowTc (any f >= 1): as leader of r + 1, a member forms QC_r, which
  // certifies K whose parent J is one round below, so whoever sees QC_r commits
  // J. It withholds QC_r (its timeouts show J's QC instead), waits for the TC of
  // round r, then proposes X for r + 1 with that TC on J's parent I, conflicting
  // with J, to everyone but one honest witness, and shows the witness QC_r.
  // Every K voter in the TC holds QC_J, so the TC's highest high QC round is J's
  // and X's QC is below it: honest replicas must refuse X. If they vote (the
  // planted weak TC rule), X is certified and its child commits X at J's height
  // while the witness commits J: a fork.
  //
  // SkipRoundFork (three members leading rounds i, i + 1, i + 2): QC chains that
  // skip rounds. The first withholds QC_J (J of round i - 1) and, after the TC of
  // i - 1, proposes Z on J's parent I; the second withholds QC_Z and, after the TC
  // of i, proposes K on J (two rounds above it); the third withholds QC_K, and
  // after the TC of i + 1 proposes M on Z to all but a witness, and L on K to the
  // witness. Every proposal is legal. QC_K certifies K whose parent J is two
  // rounds below, and QC_M certifies M whose parent Z is two rounds below: only
  // a commit rule that skips rounds (the planted weak commit rule) commits J at
  // the witness and Z everywhere else, at one height.

  struct ForkBelowTc {
    uint64_t round = 0;  // r + 1
    Proposal withheld;   // the member's own proposal, carrying QC_r
    Block low;           // I
    QuorumCert low_qc;   // J's QC, certifying I
    uint32_t witness = 0;
    uint64_t deadline_ms = 0;
  };
  struct SkipRoundFork {
    int stage = 1;
    uint64_t round = 0;  // i
    Block low;           // I
    Block hidden;        // J
    QuorumCert hidden_qc;
    Block conflict;  // Z
    QuorumCert conflict_qc;
    Block skip;  // K
    uint32_t witness = 0;
    uint64_t deadline_ms = 0;
  };

  bool AttackOwns(uint64_t round) const {
    if (fork_below_tc_) return round == fork_below_tc_->round;
    if (skip_round_fork_)
      return round >= skip_round_fork_->round && round <= skip_round_fork_->round + 2;
    return false;
  }

  // The honest validators that may be a witness: none of `busy`.
  std::optional<uint32_t> PickWitness(std::initializer_list<uint32_t> busy) {
    std::vector<uint32_t> candidates;
    for (uint32_t v = 0; v < validators_.n(); ++v) {
      if (HonestValidator(v) && std::find(busy.begin(), busy.end(), v) == busy.end()) {
        candidates.push_back(v);
      }
    }
    if (candidates.empty()) return std::nullopt;
    return candidates[rng_.Uniform(0, candidates.size() - 1)];
  }

  bool StartForkBelowTc(uint32_t from, const Proposal& p) {
    if (fork_below_tc_ || skip_round_fork_) return false;
    const uint64_t round = p.block.header.round;
    const uint32_t next = PlannedLeader(round + 1), after = PlannedLeader(round + 2);
    if (!InCoalition(PlannedLeader(round)))
      return false;  // under reputation, a plan that does not fit
    if (p.block.qc.round + 1 != round || !HonestValidator(next) || !HonestValidator(after)) {
      return false;
    }
    const Block* k = FindBlock(p.block.qc.block_id);
    const Block* j = k != nullptr ? FindBlock(k->header.parent_id) : nullptr;
    const Block* low = j != nullptr ? FindBlock(j->header.parent_id) : nullptr;
    if (low == nullptr || j->header.round + 1 != k->header.round) return false;  // QC_r commits J
    const std::optional<uint32_t> witness = PickWitness({next, after});
    if (!witness) return false;
    Withhold(p);
    fork_below_tc_ = ForkBelowTc{round, p, *low, j->qc, *witness, now_ + kAttackStageMs};
    Count("fork_below_tc_started");
    Log(from, 'A', *witness, 1, round);  // 'A': attack steps, 1-2 ForkBelowTc, 3-6 SkipRoundFork
    return true;
  }

  void AdvanceForkBelowTc() {
    ForkBelowTc& a = *fork_below_tc_;
    const uint32_t leader = PlannedLeader(a.round);
    if (now_ > a.deadline_ms) {
      Count("fork_below_tc_abandoned");
      fork_below_tc_.reset();
      return;
    }
    if (!replicas_[ReplicaOf(leader)].core) return;
    const std::optional<TimeoutCert> tc = BuildTc(a.round - 1, UINT64_MAX);
    if (!tc) return;
    const std::optional<Block> fork = MakeBlock(a.low, a.low_qc, a.round);
    if (!fork) return;
    const Proposal x = forge::SignProposal(Key(leader), *fork, tc);
    for (uint32_t v = 0; v < validators_.n(); ++v) {
      SendTwice(ReplicaOf(leader), v, v == a.witness ? a.withheld : x);
    }
    Count("fork_below_tc");
    Log(ReplicaOf(leader), 'A', a.witness, 2, a.round);
    fork_below_tc_.reset();
  }

  bool StartSkipRoundFork(uint32_t from, const Proposal& p) {
    if (fork_below_tc_ || skip_round_fork_) return false;
    const uint64_t round = p.block.header.round;
    const uint32_t fourth = PlannedLeader(round + 3);
    if (!InCoalition(PlannedLeader(round)))
      return false;  // under reputation, a plan that does not fit
    if (p.block.qc.round + 1 != round || !InCoalition(PlannedLeader(round + 1)) ||
        !InCoalition(PlannedLeader(round + 2)) || !HonestValidator(fourth)) {
      return false;
    }
    const Block* j = FindBlock(p.block.qc.block_id);
    const Block* low = j != nullptr ? FindBlock(j->header.parent_id) : nullptr;
    const std::optional<uint32_t> witness = PickWitness({fourth});
    if (low == nullptr || !witness) return false;
    Withhold(p);
    SkipRoundFork a;
    a.round = round;
    a.low = *low;
    a.hidden = *j;
    a.hidden_qc = p.block.qc;
    a.witness = *witness;
    a.deadline_ms = now_ + kAttackStageMs;
    skip_round_fork_ = std::move(a);
    Count("skip_round_fork_started");
    Log(from, 'A', *witness, 3, round);
    return true;
  }

  // Each stage waits for the certificates it needs, then proposes as the
  // round's leader (a member) to every validator, the members included.
  void AdvanceSkipRoundFork() {
    SkipRoundFork& a = *skip_round_fork_;
    if (now_ > a.deadline_ms) {
      Count("skip_round_fork_abandoned");
      skip_round_fork_.reset();
      return;
    }
    const uint64_t round = a.round + static_cast<uint64_t>(a.stage) - 1;
    const uint32_t leader = PlannedLeader(round);
    const uint32_t sender = ReplicaOf(leader);
    if (!replicas_[sender].core) return;
    if (a.stage == 1) {  // Z on I, beside the hidden J, after the TC of i - 1
      const std::optional<TimeoutCert> tc = BuildTc(round - 1, a.hidden.qc.round);
      const std::optional<Block> z = tc ? MakeBlock(a.low, a.hidden.qc, round) : std::nullopt;
      if (!z) return;
      a.conflict = *z;
      for (uint32_t v = 0; v < validators_.n(); ++v) {
        SendTwice(sender, v, forge::SignProposal(Key(leader), *z, tc));
      }
    } else if (a.stage == 2) {  // K on J, once Z is certified (hidden) and round i timed out
      const std::optional<QuorumCert> qc_z = BuildQc(a.conflict);
      const std::optional<TimeoutCert> tc = BuildTc(round - 1, a.hidden.header.round);
      const std::optional<Block> k =
          qc_z && tc ? MakeBlock(a.hidden, a.hidden_qc, round) : std::nullopt;
      if (!k) return;
      a.conflict_qc = *qc_z;
      a.skip = *k;
      for (uint32_t v = 0; v < validators_.n(); ++v) {
        SendTwice(sender, v, forge::SignProposal(Key(leader), *k, tc));
      }
    } else {  // M on Z to all but the witness, L on K to the witness
      const std::optional<QuorumCert> qc_k = BuildQc(a.skip);
      const std::optional<TimeoutCert> tc = BuildTc(round - 1, a.conflict.header.round);
      const std::optional<Block> m =
          qc_k && tc ? MakeBlock(a.conflict, a.conflict_qc, round) : std::nullopt;
      const std::optional<Block> l = m ? MakeBlock(a.skip, *qc_k, round) : std::nullopt;
      if (!l) return;
      for (uint32_t v = 0; v < validators_.n(); ++v) {
        SendTwice(sender, v,
                  v == a.witness ? forge::SignProposal(Key(leader), *l, std::nullopt)
                                 : forge::SignProposal(Key(leader), *m, tc));
      }
      Count("skip_round_fork");
      Log(sender, 'A', a.witness, 6, round);
      skip_round_fork_.reset();
      return;
    }
    Log(sender, 'A', a.witness, 3 + static_cast<uint64_t>(a.stage), round);
    ++a.stage;
    a.deadline_ms = now_ + kAttackStageMs;
  }

  void AdvanceAttack() {
    if (fork_below_tc_) AdvanceForkBelowTc();
    if (skip_round_fork_) AdvanceSkipRoundFork();
  }

  // --- Checks ---------------------------------------------------------------------------

  // An honest replica never signs two different votes, or two different
  // proposals, in one round (TESTING.md row 4).
  void RecordSignature(uint32_t index, const Message& m) {
    const Replica& r = replicas_[index];
    if (std::holds_alternative<Timeout>(m)) ++result_.timeouts_sent;
    Log(index, 'O', index, m.index(), RoundOf(ToNet(m)));
    if (!r.honest()) return;
    if (const auto* v = std::get_if<Vote>(&m)) {
      auto [it, fresh] = votes_.emplace(std::make_pair(r.validator, v->round), v->block_id);
      if (!fresh && it->second != v->block_id) {
        Violation("validator " + std::to_string(r.validator) + " voted for two blocks in round " +
                  std::to_string(v->round));
      }
    } else if (const auto* p = std::get_if<Proposal>(&m)) {
      Block b = p->block;
      b.Seal(kChainId);
      auto [it, fresh] = proposals_.emplace(std::make_pair(r.validator, b.header.round), b.id);
      if (!fresh && it->second != b.id) {
        Violation("validator " + std::to_string(r.validator) + " proposed two blocks in round " +
                  std::to_string(b.header.round));
      }
    }
  }

  void CheckCommit(uint32_t index, const Commit& commit) {
    const Replica& r = replicas_[index];
    for (const CommittedBlock& cb : commit.blocks) {
      Log(index, 'K', index, cb.block.header.height, Prefix(cb.block.id));
      if (!r.honest()) continue;
      const uint64_t h = cb.block.header.height;
      auto [it, fresh] = canonical_.emplace(h, std::make_pair(cb.block.id, cb.state_root));
      if (!fresh && it->second.first != cb.block.id) {
        Violation("fork: two blocks committed at height " + std::to_string(h));
      } else if (!fresh && it->second.second != cb.state_root) {
        Violation("state roots differ at height " + std::to_string(h));
      }
      // Every commit certificate holds a quorum of distinct validators.
      std::set<uint32_t> signers;
      for (const auto& s : cb.qc.signers) signers.insert(s.index);
      if (cb.qc.round != 0 && signers.size() < validators_.quorum()) {
        Violation("block at height " + std::to_string(h) + " committed on a QC of " +
                  std::to_string(signers.size()) + " distinct validators");
      }
    }
  }

  void Violation(std::string what) {
    if (violations_.size() < 20) violations_.push_back(std::move(what));
  }

  void Stall(std::string why) {
    result_.stalled = true;
    result_.stall_reason = std::move(why);
    done_ = true;
  }

  // --- Phases -----------------------------------------------------------------------------

  uint64_t MaxHonestRound() const {
    uint64_t round = 0;
    for (const Replica& r : replicas_) {
      if (r.honest() && r.core) round = std::max(round, r.core->round());
    }
    return round;
  }

  void CheckPhase() {
    const uint64_t round = MaxHonestRound();
    result_.rounds = std::max(result_.rounds, round);
    if (!violations_.empty()) {
      done_ = true;
      return;
    }
    if (chaos_) {
      if (round >= std::max<uint64_t>(opt_.rounds / 2, 1) || now_ >= kChaosTimeMaxMs) Heal();
      return;
    }
    bool all_progressed = true;
    for (const Replica& r : replicas_) {
      if (r.honest() && r.app->height() <= heal_height_) all_progressed = false;
    }
    if (all_progressed && round >= opt_.rounds) {
      done_ = true;
    } else if (round > heal_round_ + ProgressRoundsMax() && !all_progressed) {
      Stall("no commit within " + std::to_string(ProgressRoundsMax()) + " rounds after healing");
    } else if (now_ > heal_time_ + (ProgressRoundsMax() + 10) * kTimeoutMaxMs) {
      if (!all_progressed) {
        Stall("no commit within the time bound after healing");
      } else {
        done_ = true;
      }
    }
  }

  // Two honest leaders in a row commit; with f faulty ones spread round-robin
  // that needs a few rounds, plus some to resynchronise after the storm.
  uint64_t ProgressRoundsMax() const { return 10 + 3 * validators_.n(); }

  void Heal() {
    chaos_ = false;
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    for (uint32_t i = 0; i < replicas_.size(); ++i) {
      if (!replicas_[i].core) StartReplica(i);
    }
    heal_round_ = MaxHonestRound();
    heal_time_ = now_;
    heal_height_ = 0;
    for (const Replica& r : replicas_) {
      if (r.honest()) heal_height_ = std::max(heal_height_, r.app->height());
    }
    Log(0, 'H', 0, heal_round_, heal_height_);
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

  SimOptions opt_;
  Rng rng_;
  ValidatorSet validators_;
  std::vector<Replica> replicas_;
  std::optional<uint32_t> twin_validator_;
  uint64_t twins_scenario_left_ = 0;                      // undecoded digits of the twins scenario
  std::map<std::pair<uint64_t, uint64_t>, Event> queue_;  // (time, sequence) -> event
  uint64_t seq_ = 0;
  uint64_t now_ = 0;
  bool chaos_ = true;
  bool done_ = false;
  double drop_probability_ = 0;
  double duplicate_probability_ = 0;
  double crash_probability_ = 0;
  uint64_t next_partition_change_ms_ = 0;
  std::vector<std::vector<bool>> blocked_;  // [from][to]
  // The Byzantine coalition.
  std::map<uint32_t, Member> coalition_;  // by validator
  Profile profile_;
  std::map<uint64_t, std::map<uint32_t, TimeoutSignature>> heard_timeouts_;  // round -> signer
  std::map<std::pair<uint64_t, Hash32>, std::map<uint32_t, Signature>> heard_votes_;
  std::set<std::pair<uint64_t, Hash32>> hidden_qcs_;  // (round, block) of QCs withheld
  std::optional<ForkBelowTc> fork_below_tc_;
  std::optional<SkipRoundFork> skip_round_fork_;
  uint64_t heal_round_ = 0;
  uint64_t heal_time_ = 0;
  uint64_t heal_height_ = 0;
  std::map<std::pair<uint32_t, uint64_t>, Hash32> votes_;      // (validator, round) -> block
  std::map<std::pair<uint32_t, uint64_t>, Hash32> proposals_;  // (validator, round) -> block
  std::map<uint64_t, std::pair<Hash32, Hash32>> canonical_;    // height -> (block, root)
  std::vector<std::string> violations_;
  EventHash hash_;
  SimResult result_;
};

}  // namespace

SimResult RunSimulation(const SimOptions& options) {
  return Simulation(options).Run();
}

}  // namespace reel::sim
