#include "tests/sim/sim.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <variant>

#include "base/bytes.h"
#include "base/overloaded.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "tests/sim/epochs.h"
#include "tests/sim/forge.h"
#include "tests/sim/rng.h"

namespace reel::sim {
namespace {

using namespace consensus;

constexpr char kChainId[] = "reel-sim";
constexpr uint64_t kFirstEpoch = 1;
constexpr uint64_t kTickMs = 20;
constexpr uint64_t kTimeoutInitialMs = 300;
constexpr uint64_t kTimeoutMaxMs = 2400;
// What the Byzantine coalition remembers of rounds behind the newest it heard of.
constexpr uint64_t kHeardRoundsMax = 64;
// How long a scripted attack waits for one stage's certificates before giving up.
constexpr uint64_t kAttackStageMs = 4 * kTimeoutMaxMs;
constexpr uint64_t kChaosTimeMaxMs = 120'000;  // chaos ends by then even if rounds are slow
constexpr uint64_t kEventsMax = 3'000'000;
// Epochs: committed blocks one sync answer carries at most, how long a replica waits for
// one before it may ask again (whoever sends it a newer epoch's message next: a removed
// Byzantine member that never answers must not hold it back for long), and how often a
// removed Byzantine member speaks up.
constexpr size_t kSyncBlocksMax = 256;
constexpr uint64_t kSyncWaitMs = kTimeoutInitialMs / 2;
constexpr uint64_t kGhostEveryMs = 150;

struct FetchRequest {
  Hash32 block_id{};
  uint64_t above_height = 0;
};
struct FetchResponse {
  std::vector<Block> blocks;
};
// Block sync across epochs (the node's GetBlocks ranges): the committed blocks above a
// height, each with the QC that certifies it.
struct SyncRequest {
  uint64_t above_height = 0;
};
struct SyncResponse {
  std::vector<std::pair<Block, QuorumCert>> blocks;
};
using NetMessage =
    std::variant<Proposal, Vote, Timeout, FetchRequest, FetchResponse, SyncRequest, SyncResponse>;

// A replica's durable application: committed blocks with their QCs and state
// roots (root(h) = H(root(h-1) || id)). It survives crashes, like the node's
// synced batch per block. It checks that its own commits form one chain, and tells
// the simulation of each block it executes (the checks across replicas). Epochs end
// where the schedule says, by height alone.
class SimApp : public Application {
 public:
  using Executed = std::function<void(uint32_t replica, const Block& block, const QuorumCert& qc,
                                      const Hash32& root)>;

  SimApp(uint32_t replica, const EpochSchedule* schedule, std::vector<std::string>* violations,
         Executed executed)
      : replica_(replica),
        schedule_(schedule),
        violations_(violations),
        executed_(std::move(executed)) {
    Block genesis = MakeGenesisBlock(kChainId, kFirstEpoch);
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
    executed_(replica_, block, qc, committed_.back().root);
    return committed_.back().root;
  }
  std::optional<ValidatorSet> EpochEndedAt(uint64_t height) const override {
    const std::optional<uint64_t> ended = schedule_->EndedAt(height);
    if (!ended) return std::nullopt;
    return schedule_->Set(*ended + 1);
  }
  std::optional<Hash32> StateRootAt(uint64_t height) const override {
    if (height >= committed_.size()) return std::nullopt;
    return committed_[height].root;
  }
  std::vector<std::string> PayloadForProposal(const std::vector<const Block*>&,
                                              const PayloadLimits&) override {
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
  // The epoch the next block belongs to: the newest this replica's chain has reached.
  uint64_t epoch() const { return schedule_->EpochAt(height() + 1); }
  const Block& BlockAt(uint64_t height) const { return committed_.at(height).block; }
  const Block* FindCommitted(const Hash32& id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &committed_[it->second].block;
  }
  std::vector<std::pair<Block, QuorumCert>> Above(uint64_t height, size_t max) const {
    std::vector<std::pair<Block, QuorumCert>> out;
    for (uint64_t h = height + 1; h < committed_.size() && out.size() < max; ++h) {
      out.emplace_back(committed_[h].block, committed_[h].qc);
    }
    return out;
  }
  // What block sync gives a joining member: `other`'s chain up to `height`, without
  // executing it again.
  void CopyFrom(const SimApp& other, uint64_t height) {
    REEL_ASSERT(height < other.committed_.size());
    committed_.assign(other.committed_.begin(),
                      other.committed_.begin() + static_cast<ptrdiff_t>(height + 1));
    by_id_.clear();
    for (size_t h = 0; h < committed_.size(); ++h) by_id_[committed_[h].block.id] = h;
  }

 private:
  struct Entry {
    Block block;
    QuorumCert qc;
    Hash32 root;
  };
  uint32_t replica_;
  const EpochSchedule* schedule_;
  std::vector<std::string>* violations_;
  Executed executed_;
  std::vector<Entry> committed_;
  std::map<Hash32, size_t> by_id_;
  uint64_t next_tx_ = 0;
};

enum class Role { kHonest, kByzantine, kTwin };

struct Replica {
  uint32_t member = 0;  // its identity and key (epochs.h); its index differs by epoch
  Role role = Role::kHonest;
  std::unique_ptr<SimApp> app;
  // Null while crashed, and while it is no validator of its newest epoch (not joined
  // yet, or removed).
  std::unique_ptr<Core> core;
  std::optional<SafetyState> synced;        // what its disk holds
  std::map<Hash32, Block> blocks_synced;    // StoreBlock'd and synced since
  std::map<Hash32, Block> blocks_unsynced;  // StoreBlock'd, lost if it crashes now
  uint64_t incarnation = 0;
  std::set<Hash32> byzantine_votes;  // blocks its driver already double-voted for
  // Epochs.
  uint64_t rounds_before = 0;            // rounds of the epochs it has left (the run's progress)
  uint64_t sync_until_ms = 0;            // a sync request is out until then
  std::vector<uint64_t> epochs_entered;  // epochs it ran a core in, in order
  // A removed Byzantine member: its last core (ended: its tree, high QC and schedule),
  // from which its driver keeps sending (sim.h).
  std::unique_ptr<Core> removed_core;
  bool ghost = false;
  uint64_t ghost_epoch = 0;  // the last epoch it was a validator of
  uint64_t ghost_round = 0;  // the round of its next old-epoch timeout
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
  // Epochs.
  kOldEpochVote,       // a member of both sets: a vote for a block of epoch e with its index in
                       // e, signed over the digest of e - 1 and marked e - 1
  kRemovedKeyVote,     // a removed member's key signs a vote of the new epoch, relayed
  kRemovedKeyTimeout,  // a removed member's key signs a timeout of the new epoch, relayed
  kOldEpochTimeout,    // a removed member's timeout of its old epoch, relayed into the new
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
    case Crafted::kOldEpochVote:
      return "crafted_old_epoch_digest_vote";
    case Crafted::kRemovedKeyVote:
      return "crafted_removed_key_vote";
    case Crafted::kRemovedKeyTimeout:
      return "crafted_removed_key_timeout";
    case Crafted::kOldEpochTimeout:
      return "crafted_old_epoch_timeout";
  }
  return "?";
}

// Whether an honest core that received `m` (crafted as `kind`) must have refused
// it, given its epoch, round and high QC round before the event and its round after:
// the core may ignore a stale message without looking at it, but every check on
// the path to the flaw runs before anything that message could change. A message of
// another epoch than the receiver's is refused by its epoch first.
bool MustRefuse(Crafted kind, const NetMessage& m, uint64_t epoch, uint64_t round_before,
                uint64_t high_qc_before, uint64_t round_after) {
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
    case Crafted::kOldEpochVote:
      // In the vote's own epoch (a receiver still in it) it is valid where the signer kept
      // its index: only a receiver of another epoch must refuse it outright.
      return std::get<Vote>(m).epoch != epoch;
    case Crafted::kRemovedKeyVote: {
      const Vote& v = std::get<Vote>(m);
      return v.epoch != epoch || v.round + 1 >= round_before;
    }
    case Crafted::kRemovedKeyTimeout: {
      const Timeout& t = std::get<Timeout>(m);
      return t.epoch != epoch || t.round >= round_after;
    }
    case Crafted::kOldEpochTimeout:
      return std::get<Timeout>(m).epoch != epoch;
  }
  return false;
}

struct Event {
  enum class Kind { kDeliver, kTick, kRestart, kGhost };
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
                        [](const auto&) { return uint64_t{0}; },
                    },
                    m);
}

// The epoch a consensus message claims; 0 for the fetch and sync services.
uint64_t EpochOf(const NetMessage& m) {
  return std::visit(Overloaded{
                        [](const Proposal& p) { return p.block.header.epoch; },
                        [](const Vote& v) { return v.epoch; },
                        [](const Timeout& t) { return t.epoch; },
                        [](const auto&) { return uint64_t{0}; },
                    },
                    m);
}

uint64_t Prefix(const Hash32& h) {
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | h[i];
  return x;
}

// What identifies a QC's content, for the cache of QCs already verified.
Hash32 QcDigest(const QuorumCert& qc) {
  std::string bytes(crypto::AsBytes(qc.block_id));
  AppendU64BE(bytes, qc.round);
  AppendU64BE(bytes, qc.epoch);
  for (const SignerSignature& s : qc.signers) {
    AppendU32BE(bytes, s.index);
    bytes.append(reinterpret_cast<const char*>(s.signature.data()), s.signature.size());
  }
  return crypto::Blake2b256(bytes);
}

class Simulation {
 public:
  explicit Simulation(const SimOptions& options) : opt_(options), rng_(options.seed) {
    const uint32_t n = opt_.validators;
    REEL_ASSERT(n >= 1);
    const uint32_t f = (n - 1) / 3;
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
    twin_member_ = opt_.twins && f >= 1 ? std::optional<uint32_t>(order[0]) : std::nullopt;
    twins_scenario_left_ = opt_.seed;
    // The members of every epoch (epochs.h); without --epochs one that never ends.
    std::set<uint32_t> faulty_members = faulty;
    if (twin_member_) faulty_members.insert(*twin_member_);
    schedule_ = opt_.epochs == 0 ? EpochSchedule::Fixed(n)
                                 : EpochSchedule::Draw(opt_.seed, n, opt_.epochs, faulty_members);
    for (uint32_t m = 0; m < schedule_.pool(); ++m) {
      Role role = faulty.count(m) != 0 ? Role::kByzantine : Role::kHonest;
      if (twin_member_ == m) role = Role::kTwin;
      if (role == Role::kByzantine) {
        coalition_.emplace(m, Member{static_cast<uint32_t>(replicas_.size()), MemberKey(m)});
      }
      AddReplica(m, role);
      if (twin_member_ == m) AddReplica(m, Role::kTwin);
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
    roots_[kFirstEpoch] = {MakeGenesisBlock(kChainId, kFirstEpoch).id, 0};
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
    result_.epoch = newest_epoch_;
    result_.event_hash = hash_.value();
    return std::move(result_);
  }

 private:
  // --- Epochs: who is who ------------------------------------------------------------

  bool Epochs() const { return opt_.epochs != 0; }
  const ValidatorSet& SetOf(uint64_t epoch) const { return schedule_.Set(epoch); }
  std::optional<uint32_t> IndexIn(uint64_t epoch, uint32_t member) const {
    return schedule_.IndexOf(epoch, member);
  }
  uint32_t MemberAt(uint64_t epoch, uint32_t index) const {
    return schedule_.MemberAt(epoch, index);
  }
  // The epoch a replica runs, or would run after a restart: its chain's newest.
  uint64_t EpochOfReplica(const Replica& r) const {
    return r.core ? r.core->epoch() : r.app->epoch();
  }
  // What verifies a certificate of `epoch` (its set, and its root QC).
  VerifyContext Ctx(uint64_t epoch) const {
    VerifyContext ctx;
    ctx.chain_id = kChainId;
    ctx.epoch = epoch;
    ctx.validators = &SetOf(epoch);
    if (auto it = roots_.find(epoch); it != roots_.end()) ctx.epoch_root_id = it->second.first;
    return ctx;
  }
  QuorumCert RootQc(uint64_t epoch) const {
    auto it = roots_.find(epoch);
    REEL_ASSERT(it != roots_.end());
    return MakeRootQc(epoch, it->second.first, it->second.second);
  }
  void Cover(std::string_view what, uint64_t count = 1) {
    result_.epoch_coverage[std::string(what)] += count;
  }

  // --- Replicas -----------------------------------------------------------------------

  void AddReplica(uint32_t member, Role role) {
    Replica r;
    r.member = member;
    r.role = role;
    r.app = std::make_unique<SimApp>(
        static_cast<uint32_t>(replicas_.size()), &schedule_, &violations_,
        [this](uint32_t replica, const Block& block, const QuorumCert& qc, const Hash32& root) {
          OnExecuted(replica, block, qc, root);
        });
    replicas_.push_back(std::move(r));
  }

  // (Re)starts a replica in the newest epoch its chain has reached, from what its disk
  // holds (a safety state of an older epoch the core ignores), if it is a validator of
  // that epoch; else it runs no core (not joined yet, or removed).
  void StartReplica(uint32_t index) {
    Replica& r = replicas_[index];
    const uint64_t epoch = r.app->epoch();
    if (Epochs() && epoch > kFirstEpoch) OnEpochReached(epoch, index);
    const std::optional<uint32_t> self = IndexIn(epoch, r.member);
    if (!self) {
      r.core.reset();
      if (r.role == Role::kByzantine && epoch > kFirstEpoch && !r.removed_core &&
          IndexIn(epoch - 1, r.member)) {
        StartGhost(index, nullptr);
      }
      return;
    }
    Config config;
    config.chain_id = kChainId;
    config.epoch = epoch;
    config.validators = SetOf(epoch);
    config.self_index = *self;
    if (epoch > kFirstEpoch) {
      const Block& root = r.app->BlockAt(schedule_.Of(epoch - 1).end_height);
      config.epoch_root_id = root.id;
      config.epoch_root_height = root.header.height;
    }
    config.round_timeout_ms_initial = kTimeoutInitialMs;
    config.round_timeout_ms_max = kTimeoutMaxMs;
    config.bug = opt_.bug;
    config.leader_reputation = !opt_.round_robin;
    r.core = std::make_unique<Core>(std::move(config), MemberKey(r.member), r.app.get());
    ++r.incarnation;
    const uint64_t incarnation = r.incarnation;
    Log(index, 'S', index, 0, 0);
    if (Epochs()) EnterEpoch(index, epoch);
    StartState start = r.app->Start(r.synced);
    for (const auto& [id, block] : r.blocks_synced) start.stored_blocks.push_back(block);
    Execute(index, r.core->OnStart(start, now_));
    // Unless its start already ended the epoch and started the next core.
    if (replicas_[index].core && replicas_[index].incarnation == incarnation) ScheduleTick(index);
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

  // --- Epoch changes ------------------------------------------------------------------

  // The replica's core committed the block that ended its epoch (Commit::next_epoch):
  // it retires that core and starts the next epoch's, if it is a validator of it. Now
  // and then, during chaos, it crashes right there instead, and restarts later into the
  // new epoch from its disk.
  void EndEpoch(uint32_t index) {
    Replica& r = replicas_[index];
    REEL_ASSERT(r.core != nullptr);
    const uint64_t epoch = r.core->epoch();
    if (!r.core->ended()) {
      Violation("replica " + std::to_string(index) + " was handed the end of epoch " +
                std::to_string(epoch) + " by a core that did not stop");
    }
    r.rounds_before += r.core->round();
    Log(index, 'E', index, epoch + 1, r.app->height());
    OnEpochReached(epoch + 1, index);
    if (r.role == Role::kByzantine && !IndexIn(epoch + 1, r.member)) {
      StartGhost(index, std::move(r.core));
    }
    r.core.reset();
    if (chaos_ && rng_.Chance(0.1)) {
      Cover("crashes_at_an_epoch_end");
      Crash(index);
      return;
    }
    StartReplica(index);
  }

  // The first replica to reach `epoch` (by its own commit, a sync, or a restart) makes
  // it known: its root, and the members that join start on the state at the root, as
  // block sync gives a new node (their app is copied from this replica's).
  void OnEpochReached(uint64_t epoch, uint32_t by) {
    if (epoch <= newest_epoch_ || epoch <= kFirstEpoch) return;
    std::vector<uint32_t> joined;
    for (uint64_t e = newest_epoch_ + 1; e <= epoch; ++e) {
      const uint64_t height = schedule_.Of(e - 1).end_height;
      const Block& root = replicas_[by].app->BlockAt(height);
      roots_[e] = {root.id, height};
      newest_epoch_ = e;
      ++result_.epoch_changes;
      CoverChange(e);
      const std::vector<uint32_t>& before = schedule_.Of(e - 1).members;
      for (uint32_t j = 0; j < replicas_.size(); ++j) {
        Replica& joiner = replicas_[j];
        if (j == by || !IndexIn(e, joiner.member) ||
            std::find(before.begin(), before.end(), joiner.member) != before.end() ||
            joiner.app->height() >= height) {
          continue;
        }
        joiner.core.reset();
        joiner.app->CopyFrom(*replicas_[by].app, height);
        Cover(joiner.epochs_entered.empty() ? "members_joined" : "members_rejoined");
        Log(j, 'J', by, e, height);
        joined.push_back(j);
      }
    }
    for (uint32_t j : joined) StartReplica(j);
  }

  void CoverChange(uint64_t epoch) {
    const std::string& change = schedule_.Of(epoch).change;
    Cover("changes_" + change.substr(0, change.find(' ')));
    bool partitioned = false;
    for (const auto& row : blocked_)
      partitioned |= std::find(row.begin(), row.end(), true) != row.end();
    if (chaos_ && partitioned) Cover("changes_while_partitioned");
    bool crashed = false;
    for (const Replica& r : replicas_) {
      crashed |= r.core == nullptr && IndexIn(epoch - 1, r.member) && r.app->epoch() == epoch - 1;
    }
    if (crashed) Cover("changes_with_a_member_down");
    for (uint32_t m : schedule_.Of(epoch - 1).members) {
      if (!IndexIn(epoch, m) && coalition_.count(m) != 0)
        Cover("changes_removing_a_byzantine_member");
    }
  }

  // Check: an honest replica's epochs only go up. The set of each epoch comes from one
  // plan, which every core's Commit::next_epoch must match (CheckCommit), so honest
  // replicas pass through the same sets in the same order, skipping those a join or a
  // sync jumps over.
  void EnterEpoch(uint32_t index, uint64_t epoch) {
    Replica& r = replicas_[index];
    if (!r.epochs_entered.empty() && r.epochs_entered.back() == epoch) return;
    if (r.honest() && !r.epochs_entered.empty() && r.epochs_entered.back() > epoch) {
      Violation("replica " + std::to_string(index) + " went back from epoch " +
                std::to_string(r.epochs_entered.back()) + " to " + std::to_string(epoch));
    }
    r.epochs_entered.push_back(epoch);
  }

  // --- Events -------------------------------------------------------------------------

  void Schedule(uint64_t at, Event e) { queue_.emplace(std::make_pair(at, seq_++), std::move(e)); }

  void Process(Event& e) {
    Replica& r = replicas_[e.to];
    switch (e.kind) {
      case Event::Kind::kTick:
        if (!r.core || e.incarnation != r.incarnation) return;
        Execute(e.to, r.core->OnTick(now_));
        // Unless it crashed, or its epoch ended and the next core ticks on its own.
        if (replicas_[e.to].core && replicas_[e.to].incarnation == e.incarnation) {
          ScheduleTick(e.to);
        }
        return;
      case Event::Kind::kRestart:
        if (r.core || e.incarnation != r.incarnation) return;
        StartReplica(e.to);
        return;
      case Event::Kind::kDeliver:
        if (!r.core) return;  // a crashed replica hears nothing, nor one that runs no core
        Deliver(e);
        return;
      case Event::Kind::kGhost:
        Ghost(e.to);
        return;
    }
  }

  void Deliver(Event& e) {
    Replica& r = replicas_[e.to];
    Log(e.to, 'D', e.from, e.message.index(), RoundOf(e.message));
    // The node's block service answers anyone, validator or not.
    if (const auto* req = std::get_if<FetchRequest>(&e.message))
      return ServeFetch(e.to, e.from, *req);
    if (const auto* req = std::get_if<SyncRequest>(&e.message))
      return ServeSync(e.to, e.from, *req);
    if (auto* resp = std::get_if<SyncResponse>(&e.message))
      return ApplySync(e.to, std::move(*resp));
    const uint64_t epoch = r.core->epoch();
    // A peer of a newer epoch: this replica is behind it, and syncs from it.
    if (EpochOf(e.message) > epoch) MaybeSync(e.to, e.from);
    // The authenticated transport names the sender by its index in the receiver's epoch;
    // a sender that is no validator of it is dropped.
    const std::optional<uint32_t> from_index = IndexIn(epoch, replicas_[e.from].member);
    if (!from_index) {
      Cover(replicas_[e.from].role == Role::kByzantine ? "dropped_from_a_removed_byzantine_member"
                                                       : "dropped_from_a_non_member");
      return;
    }
    const uint64_t round_before = r.core->round();
    const uint64_t high_qc_before = r.core->safety_state().high_qc.round;
    if (r.role == Role::kByzantine) Overhear(e);
    Step step;
    std::visit(Overloaded{
                   [&](const Proposal& p) {
                     step = r.core->OnProposal(*from_index, p);
                     if (r.role == Role::kByzantine) ByzantineVote(e.to, p);
                   },
                   [&](const Vote& v) { step = r.core->OnVote(*from_index, v); },
                   [&](const Timeout& t) { step = r.core->OnTimeout(*from_index, t); },
                   [&](FetchResponse& resp) {
                     step = r.core->OnBlocksFetched(*from_index, std::move(resp.blocks));
                   },
                   [&](const auto&) {},
               },
               e.message);
    if (opt_.verbose && !step.status.ok()) {
      std::printf("  t=%llu r%u refused: %s\n", static_cast<unsigned long long>(now_), e.to,
                  step.status.ToString().c_str());
    }
    if (e.crafted != Crafted::kNone && r.honest()) {
      CheckRefused(e, step.status, epoch, round_before, high_qc_before);
    }
    Execute(e.to, std::move(step));
    if (replicas_[e.to].role == Role::kByzantine) AdvanceAttack();
  }

  // Carries out a step's actions in order; during chaos a crash may strike
  // between any two, which is exactly where unsynced state is lost. A step whose Commit
  // ended the epoch is carried out whole by the old core's driver, then the next starts.
  void Execute(uint32_t index, Step step) {
    bool epoch_ended = false;
    for (Action& action : step.actions) {
      Replica& r = replicas_[index];
      if (!r.core) return;
      if (chaos_ && rng_.Chance(crash_probability_)) {
        Crash(index);
        return;
      }
      const uint64_t epoch = r.core->epoch();
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
                       SendToIndex(index, epoch, send.to, ToNet(send.message));
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
                       epoch_ended |= commit.next_epoch.has_value();
                     },
                     [&](const FetchBlocks& fetch) {
                       ++result_.fetches;
                       SendToIndex(index, epoch, fetch.from_peer,
                                   FetchRequest{fetch.block_id, fetch.above_height});
                     },
                 },
                 action);
    }
    if (epoch_ended && replicas_[index].core) EndEpoch(index);
  }

  static NetMessage ToNet(const Message& m) {
    return std::visit([](const auto& x) -> NetMessage { return x; }, m);
  }

  // --- Network ------------------------------------------------------------------------

  // To validator `index` of `epoch`: every replica of that member (twins: both).
  void SendToIndex(uint32_t from, uint64_t epoch, uint32_t index, const NetMessage& m,
                   Crafted crafted = Crafted::kNone) {
    const uint32_t member = MemberAt(epoch, index);
    for (uint32_t to = 0; to < replicas_.size(); ++to) {
      if (replicas_[to].member == member) SendTo(from, to, m, crafted);
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
  void DeliverLater(uint32_t from, uint64_t epoch, uint32_t index, const NetMessage& m,
                    uint64_t delay) {
    const uint32_t member = MemberAt(epoch, index);
    for (uint32_t to = 0; to < replicas_.size(); ++to) {
      if (replicas_[to].member == member && to != from) {
        Schedule(now_ + delay, Delivery(to, from, m));
      }
    }
  }

  void BroadcastFrom(uint32_t from, const Message& m) {
    const uint64_t epoch = replicas_[from].core->epoch();
    if (replicas_[from].role == Role::kByzantine && SetOf(epoch).n() > 1) {
      if (const auto* proposal = std::get_if<Proposal>(&m)) return ByzantineLeader(from, *proposal);
      if (const auto* timeout = std::get_if<Timeout>(&m)) return ByzantineTimeout(from, *timeout);
    }
    for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) SendToIndex(from, epoch, v, ToNet(m));
  }

  void ChangePartitions() {
    next_partition_change_ms_ = now_ + rng_.Uniform(50, 600);
    ++result_.partition_changes;
    const size_t count = replicas_.size();
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    const uint64_t kind = rng_.Uniform(0, 9);
    if (twin_member_) {
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

  // --- Block sync across epochs ----------------------------------------------------------
  //
  // A replica that hears a peer of a newer epoch asks it for the committed blocks above
  // its own, checks each (it extends the chain, is of the epoch the chain is in, and its
  // QC verifies against that epoch's set), executes them through its application as the
  // node's block sync does, and restarts its core in the newest epoch reached (or
  // re-roots it, if still in its own).

  void MaybeSync(uint32_t index, uint32_t peer) {
    Replica& r = replicas_[index];
    if (now_ < r.sync_until_ms) return;
    r.sync_until_ms = now_ + kSyncWaitMs;
    Cover("syncs_asked");
    Log(index, 'Y', peer, r.app->height(), 0);
    SendTo(index, peer, SyncRequest{r.app->height()});
  }

  void ServeSync(uint32_t server, uint32_t client, const SyncRequest& req) {
    auto blocks = replicas_[server].app->Above(req.above_height, kSyncBlocksMax);
    if (!blocks.empty()) SendTo(server, client, SyncResponse{std::move(blocks)});
  }

  void ApplySync(uint32_t index, SyncResponse resp) {
    Replica& r = replicas_[index];
    r.sync_until_ms = 0;
    SimApp& app = *r.app;
    uint64_t executed = 0;
    for (auto& [block, qc] : resp.blocks) {
      if (block.header.height <= app.height()) continue;
      block.Seal(kChainId);
      const uint64_t epoch = app.epoch();
      VerifyContext ctx = Ctx(epoch);
      if (epoch > kFirstEpoch)
        ctx.epoch_root_id = app.BlockAt(schedule_.Of(epoch - 1).end_height).id;
      if (block.header.height != app.height() + 1 ||
          block.header.parent_id != app.BlockAt(app.height()).id || block.header.epoch != epoch ||
          qc.block_id != block.id || !VerifyQc(qc, ctx).ok()) {
        Cover("sync_blocks_refused");
        break;
      }
      app.ExecuteCommitted(block, qc);
      ++executed;
      if (app.EpochEndedAt(block.header.height)) OnEpochReached(epoch + 1, index);
    }
    if (executed == 0) return;
    Cover("sync_blocks_applied", executed);
    Log(index, 'Z', index, app.height(), app.epoch());
    if (app.epoch() != r.core->epoch()) {
      Cover("syncs_into_a_newer_epoch");
      r.rounds_before += r.core->round();
      if (r.role == Role::kByzantine && !IndexIn(app.epoch(), r.member) &&
          IndexIn(app.epoch() - 1, r.member)) {
        StartGhost(index, std::move(r.core));
      }
      r.core.reset();
      StartReplica(index);
      return;
    }
    StartState start = app.Start(r.synced);
    for (const auto& [id, block] : r.blocks_synced) start.stored_blocks.push_back(block);
    Execute(index, r.core->OnSynced(start, now_));
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

  // The coalition is a set of members (epochs.h); which indices it holds depends on the
  // epoch, so every lie names the epoch it is told in (its message's).
  forge::Chain Chain(uint64_t epoch) const { return {kChainId, epoch}; }

  void Count(std::string_view what) { ++result_.byzantine_actions[std::string(what)]; }

  bool InCoalition(uint64_t epoch, uint32_t index) const {
    return coalition_.count(MemberAt(epoch, index)) != 0;
  }
  bool HonestValidator(uint64_t epoch, uint32_t index) const {
    return !InCoalition(epoch, index) && twin_member_ != MemberAt(epoch, index);
  }
  const Member& MemberOf(uint32_t member) const {
    auto it = coalition_.find(member);
    REEL_ASSERT(it != coalition_.end());
    return it->second;
  }
  const crypto::KeyPair& Key(uint32_t member) const { return MemberOf(member).key; }
  // The key of validator `index` of `epoch`, a coalition member.
  const crypto::KeyPair& KeyAt(uint64_t epoch, uint32_t index) const {
    return Key(MemberAt(epoch, index));
  }
  uint32_t ReplicaAt(uint64_t epoch, uint32_t index) const {
    return MemberOf(MemberAt(epoch, index)).replica;
  }

  // A block any coalition member holds, or one the coalition made.
  const Block* FindBlock(const Hash32& id) const {
    for (const auto& [m, member] : coalition_) {
      const Replica& r = replicas_[member.replica];
      if (const Block* b = r.core ? r.core->tree().Find(id) : nullptr) return b;
      if (const Block* b = r.removed_core ? r.removed_core->tree().Find(id) : nullptr) return b;
      if (const Block* b = r.app->FindCommitted(id)) return b;
    }
    return nullptr;
  }

  std::optional<Hash32> CoalitionRootAt(uint64_t height) const {
    for (const auto& [m, member] : coalition_) {
      if (auto root = replicas_[member.replica].app->StateRootAt(height)) return root;
    }
    return std::nullopt;
  }

  // The leader the scripted attacks plan with: round-robin, exact only with
  // --round-robin (under reputation the plans rarely fit, and the attacks give up).
  uint32_t PlannedLeader(uint64_t epoch, uint64_t round) const {
    return static_cast<uint32_t>(round % SetOf(epoch).n());
  }
  // Who leads `round` of `epoch` on `parent` by the schedule, as an honest core reads it.
  uint32_t LeaderOn(uint64_t epoch, const Block& parent, uint64_t round) const {
    for (const Replica& r : replicas_) {
      if (r.honest() && r.core != nullptr && r.core->epoch() == epoch &&
          r.core->committed_height() >= parent.header.committed_height) {
        return r.core->LeaderOf(round, parent.header.committed_height);
      }
    }
    return PlannedLeader(epoch, round);
  }

  // A block the planned leader of `round` signs; nullopt when the schedule gives that
  // round on `parent` to someone else (the plan does not fit: the attack gives up).
  std::optional<Block> MakeBlock(uint64_t epoch, const Block& parent, const QuorumCert& qc,
                                 uint64_t round) {
    if (LeaderOn(epoch, parent, round) != PlannedLeader(epoch, round)) return std::nullopt;
    return forge::MakeBlock(Chain(epoch), parent, qc, round, PlannedLeader(epoch, round), now_,
                            {"byzantine/" + std::to_string(seq_)},
                            [this](uint64_t height) { return CoalitionRootAt(height); });
  }

  // Honest timeouts and votes sent to a coalition member: the coalition builds
  // certificates from them, those of the newest epoch it heard of.
  void Overhear(const Event& e) {
    if (!replicas_[e.from].honest()) return;
    const uint64_t epoch = EpochOf(e.message);
    if (epoch < heard_epoch_) return;
    if (epoch > heard_epoch_) {
      heard_epoch_ = epoch;
      heard_timeouts_.clear();
      heard_votes_.clear();
    }
    if (const auto* t = std::get_if<Timeout>(&e.message)) {
      auto& heard = heard_timeouts_[t->round];
      const bool fresh =
          heard.emplace(t->signer, TimeoutSignature{t->signer, t->high_qc.round, t->signature})
              .second;
      if (fresh && heard.size() + 1 == SetOf(epoch).quorum()) MaybeSendCraftedTc(e.to, t->round);
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

  // A valid TC of `round` of `epoch`: every member's entry (claiming the root QC) and the
  // honest entries heard with the lowest high QC rounds, a quorum in all. nullopt
  // unless enough were heard with high QC rounds of at most `bar_max`.
  std::optional<TimeoutCert> BuildTc(uint64_t epoch, uint64_t round, uint64_t bar_max) const {
    const ValidatorSet& set = SetOf(epoch);
    TimeoutCert tc{epoch, round, {}};
    for (const auto& [m, member] : coalition_) {
      if (auto index = IndexIn(epoch, m)) {
        tc.signers.push_back(forge::SignTimeoutEntry(Chain(epoch), member.key, *index, round, 0));
      }
    }
    REEL_ASSERT(tc.signers.size() < set.quorum());  // f < n - f
    std::vector<TimeoutSignature> heard;
    if (auto it = heard_timeouts_.find(round);
        epoch == heard_epoch_ && it != heard_timeouts_.end()) {
      for (const auto& [signer, entry] : it->second) heard.push_back(entry);
    }
    std::stable_sort(heard.begin(), heard.end(), [](const auto& a, const auto& b) {
      return a.high_qc_round < b.high_qc_round;
    });
    for (const TimeoutSignature& entry : heard) {
      if (tc.signers.size() >= set.quorum() || entry.high_qc_round > bar_max) break;
      tc.signers.push_back(entry);
    }
    if (tc.signers.size() < set.quorum()) return std::nullopt;
    return tc;
  }

  // A QC for `block` from the honest votes heard and the members' own.
  std::optional<QuorumCert> BuildQc(const Block& block) const {
    const uint64_t epoch = block.header.epoch;
    std::map<uint32_t, Signature> signers;
    if (auto it = heard_votes_.find({block.header.round, block.id});
        epoch == heard_epoch_ && it != heard_votes_.end()) {
      signers = it->second;
    }
    for (const auto& [m, member] : coalition_) {
      if (auto index = IndexIn(epoch, m)) {
        signers[*index] = forge::SignVote(Chain(epoch), member.key, *index, block).signature;
      }
    }
    const size_t quorum = SetOf(epoch).quorum();
    if (signers.size() < quorum) return std::nullopt;
    QuorumCert qc{block.id, block.header.round, block.header.height, epoch, {}};
    for (const auto& [index, signature] : signers) {
      if (qc.signers.size() < quorum) qc.signers.push_back({index, signature});
    }
    return qc;
  }

  // What a member shows in place of `qc` while the coalition hides it: the
  // certified block's own QC, which the honest replicas already hold.
  QuorumCert Shown(QuorumCert qc) const {
    while (hidden_qcs_.count({qc.round, qc.block_id}) != 0) {
      const Block* b = FindBlock(qc.block_id);
      if (b == nullptr) return RootQc(qc.epoch);
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
  void SendTwice(uint32_t from, uint64_t epoch, uint32_t index, const Proposal& p) {
    SendToIndex(from, epoch, index, p);
    SendToIndex(from, epoch, index, p);
  }

  // To the honest validators of `epoch`.
  void SendToHonest(uint32_t from, uint64_t epoch, const NetMessage& m, Crafted crafted) {
    for (uint32_t to = 0; to < replicas_.size(); ++to) {
      if (replicas_[to].honest() && IndexIn(epoch, replicas_[to].member)) {
        SendTo(from, to, m, crafted);
      }
    }
  }

  // --- Byzantine leaders -----------------------------------------------------------------

  enum class LeaderLie { kNone, kEquivocate, kSilent, kPartial, kLate, kStaleTc, kBadSignature };

  // A faulty leader's proposal: taken by a scripted attack, or one lie of the
  // seed's profile (or none).
  void ByzantineLeader(uint32_t from, const Proposal& p) {
    const uint64_t epoch = p.block.header.epoch;
    const uint32_t n = static_cast<uint32_t>(SetOf(epoch).n());
    if (AttackOwns(epoch, p.block.header.round)) {
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
        for (uint32_t v = 0; v < n; ++v) SendToIndex(from, epoch, v, p);
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
    const uint64_t epoch = p.block.header.epoch;
    const uint64_t delay = rng_.Uniform(1, 3) * kTimeoutInitialMs + rng_.Uniform(0, 100);
    for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) {
      if (MemberAt(epoch, v) == replicas_[from].member || rng_.Chance(0.5)) {
        SendToIndex(from, epoch, v, p);
      } else if (late) {
        DeliverLater(from, epoch, v, p, delay);
      }
    }
  }

  // First the proposal with a stale TC or a bad signature, which every honest
  // replica must refuse, then the real one.
  void ProposeFlawed(uint32_t from, const Proposal& p, bool stale_tc) {
    const uint64_t epoch = p.block.header.epoch;
    Proposal flawed = p;
    Crafted kind = Crafted::kBadProposalSignature;
    if (stale_tc && p.block.header.round >= 3) {
      const uint64_t round =
          p.block.header.round - rng_.Uniform(2, std::min<uint64_t>(4, p.block.header.round - 1));
      kind = Crafted::kStaleTcProposal;
      flawed.tc = BuildTc(epoch, round, UINT64_MAX);
      if (!flawed.tc) {
        flawed.tc = CraftTc(epoch, Crafted::kTcTooFew, p.block.header.proposer_index, round);
      }
    } else {
      forge::Corrupt(flawed.signature);
    }
    Count(CraftedName(kind));
    SendToHonest(from, epoch, flawed, kind);
    for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) SendToIndex(from, epoch, v, p);
  }

  // An equivocating leader: one block to half the validators, another to the
  // rest, and later each half gets the other block too.
  // The other block either carries other transactions on the same parent, or
  // forks one or two blocks lower, on an older QC (with the honest proposal's
  // TC, if any), which the voting rule must refuse unless the TC allows it.
  void Equivocate(uint32_t from, const Proposal& honest) {
    Count("equivocations");
    const uint64_t epoch = honest.block.header.epoch;
    const uint32_t n = static_cast<uint32_t>(SetOf(epoch).n());
    Proposal other = honest;
    Block& b = other.block;
    if (rng_.Chance(0.6)) ForkLower(from, b, static_cast<int>(rng_.Uniform(1, 2)));
    b.payload.push_back("equivocation/" + std::to_string(seq_));
    forge::Reseal(Chain(epoch), b);
    other = forge::SignProposal(Key(replicas_[from].member), b, other.tc);
    ByzantineVote(from, other);  // its own core only ever sees the honest one
    // One random validator gets the honest block first, the rest the other
    // one: the split that gives the other block the most votes.
    const uint64_t later = rng_.Uniform(50, 400);
    const uint64_t lucky = rng_.Uniform(0, n - 1);
    for (uint32_t v = 0; v < n; ++v) {
      const bool first = MemberAt(epoch, v) == replicas_[from].member || v == lucky;
      SendToIndex(from, epoch, v, first ? NetMessage{honest} : NetMessage{other});
      DeliverLater(from, epoch, v, first ? NetMessage{other} : NetMessage{honest}, later);
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
  // and sends each such vote twice. With epochs, a member of the epoch before too first
  // signs the vote over that epoch's digest, marked with it (the old-epoch vote that
  // PlantedBug::kOldEpochVote counts, in a QC that verifies nowhere else).
  void ByzantineVote(uint32_t index, const Proposal& p) {
    Replica& r = replicas_[index];
    Block b = p.block;
    b.Seal(kChainId);
    if (b.header.round == 0 || !r.byzantine_votes.insert(b.id).second) return;
    const uint64_t epoch = b.header.epoch;
    const std::optional<uint32_t> self = IndexIn(epoch, r.member);
    if (!self) return;
    Count("double_votes");
    const Vote v = forge::SignVote(Chain(epoch), Key(r.member), *self, b);
    // Its own core's view of the schedule, which every holder of the block shares.
    const uint32_t leader = r.core != nullptr && r.core->epoch() == epoch
                                ? r.core->LeaderOf(v.round + 1, b.header.committed_height)
                                : static_cast<uint32_t>((v.round + 1) % SetOf(epoch).n());
    if (Epochs() && epoch > kFirstEpoch && IndexIn(epoch - 1, r.member) &&
        HonestValidator(epoch, leader)) {
      Vote old = v;
      old.epoch = epoch - 1;
      old.signature = Key(r.member).SignDigest(VoteDigest(kChainId, old.epoch, b.id, old.round));
      Count(CraftedName(Crafted::kOldEpochVote));
      SendToIndex(index, epoch, leader, old, Crafted::kOldEpochVote);
      SendToIndex(index, epoch, leader, old, Crafted::kOldEpochVote);
      return;  // its core's own vote is the only valid one it sends
    }
    SendToIndex(index, epoch, leader, v);
    SendToIndex(index, epoch, leader, v);
  }

  // --- Byzantine timeouts and crafted messages ---------------------------------------------

  // A faulty replica's timeout: it never shows a QC the coalition hides, now
  // and then claims a lower high QC than it holds (a lie nobody can see), and
  // may bring a crafted message along.
  void ByzantineTimeout(uint32_t from, const Timeout& t) {
    const uint64_t epoch = t.epoch;
    const uint32_t member = replicas_[from].member;
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
      sent = forge::SignTimeout(Chain(epoch), Key(member), t.signer, t.round, shown, t.high_tc);
    }
    for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) SendToIndex(from, epoch, v, sent);
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
    const uint64_t epoch = r.core->epoch();
    const forge::Chain chain = Chain(epoch);
    const crypto::KeyPair& key = Key(r.member);
    const uint32_t v = r.core->config().self_index;
    const QuorumCert high = Shown(r.core->safety_state().high_qc);
    if (high.round >= round) return;  // the timeout would be refused for that instead
    const uint32_t leader = PlannedLeader(epoch, round + 1);
    if (kind == Crafted::kBadVoteSignature && !HonestValidator(epoch, leader)) return;
    Count(CraftedName(kind));
    Log(from, 'X', from, static_cast<uint64_t>(kind), round);
    Timeout t;
    switch (kind) {
      case Crafted::kBadVoteSignature: {
        Vote vote;
        vote.epoch = epoch;
        vote.round = round;
        vote.block_id = high.block_id;
        vote.signer = v;
        vote.signature = key.SignDigest(VoteDigest(kChainId, epoch, vote.block_id, round));
        forge::Corrupt(vote.signature);
        SendToIndex(from, epoch, leader, vote, kind);
        return;
      }
      case Crafted::kForgedHighQc: {
        QuorumCert forged = high;
        forged.round += rng_.Uniform(1, 3);
        t = forge::SignTimeout(chain, key, v, std::max(round, forged.round + 1), forged, {});
        break;
      }
      case Crafted::kFarFutureTimeout:
        t = forge::SignTimeout(chain, key, v,
                               round + limits::consensus_future_rounds_max + rng_.Uniform(1, 1000),
                               high, {});
        break;
      case Crafted::kBadTimeoutSignature:
        t = forge::SignTimeout(chain, key, v, round, high, {});
        forge::Corrupt(t.signature);
        break;
      default:
        t = forge::SignTimeout(chain, key, v, round, high, CraftTc(epoch, kind, v, round));
        break;
    }
    SendToHonest(from, epoch, t, kind);
  }

  // A TC of `round` with the flaw `kind`, built on the honest entries heard so
  // that, where there are enough, the flaw is the only thing wrong with it.
  // `index` is a coalition member's index in `epoch`.
  TimeoutCert CraftTc(uint64_t epoch, Crafted kind, uint32_t index, uint64_t round) const {
    const size_t quorum = SetOf(epoch).quorum();
    const size_t distinct =
        kind == Crafted::kTcTooFew || kind == Crafted::kTcDuplicateSigner ? quorum - 1 : quorum;
    const uint64_t claim = kind == Crafted::kTcHighQcNotBelowTc ? round : 0;
    TimeoutCert tc{epoch, round, {}};
    tc.signers.push_back(
        forge::SignTimeoutEntry(Chain(epoch), KeyAt(epoch, index), index, round, claim));
    if (auto it = heard_timeouts_.find(round);
        epoch == heard_epoch_ && it != heard_timeouts_.end()) {
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
  void CheckRefused(const Event& e, const Status& status, uint64_t epoch, uint64_t round_before,
                    uint64_t high_qc_before) {
    const uint64_t round_after = replicas_[e.to].core->round();
    if (!MustRefuse(e.crafted, e.message, epoch, round_before, high_qc_before, round_after)) {
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
    uint64_t epoch = 0;  // the attack's; it gives up at its deadline if the epoch ends
    uint64_t round = 0;  // r + 1
    Proposal withheld;   // the member's own proposal, carrying QC_r
    Block low;           // I
    QuorumCert low_qc;   // J's QC, certifying I
    uint32_t witness = 0;
    uint64_t deadline_ms = 0;
  };
  struct SkipRoundFork {
    uint64_t epoch = 0;
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

  bool AttackOwns(uint64_t epoch, uint64_t round) const {
    if (fork_below_tc_) return epoch == fork_below_tc_->epoch && round == fork_below_tc_->round;
    if (skip_round_fork_) {
      return epoch == skip_round_fork_->epoch && round >= skip_round_fork_->round &&
             round <= skip_round_fork_->round + 2;
    }
    return false;
  }

  // The honest validators that may be a witness: none of `busy`.
  std::optional<uint32_t> PickWitness(uint64_t epoch, std::initializer_list<uint32_t> busy) {
    std::vector<uint32_t> candidates;
    for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) {
      if (HonestValidator(epoch, v) && std::find(busy.begin(), busy.end(), v) == busy.end()) {
        candidates.push_back(v);
      }
    }
    if (candidates.empty()) return std::nullopt;
    return candidates[rng_.Uniform(0, candidates.size() - 1)];
  }

  bool StartForkBelowTc(uint32_t from, const Proposal& p) {
    if (fork_below_tc_ || skip_round_fork_) return false;
    const uint64_t epoch = p.block.header.epoch;
    const uint64_t round = p.block.header.round;
    const uint32_t next = PlannedLeader(epoch, round + 1), after = PlannedLeader(epoch, round + 2);
    if (!InCoalition(epoch, PlannedLeader(epoch, round)))
      return false;  // under reputation, a plan that does not fit
    if (p.block.qc.round + 1 != round || !HonestValidator(epoch, next) ||
        !HonestValidator(epoch, after)) {
      return false;
    }
    const Block* k = FindBlock(p.block.qc.block_id);
    const Block* j = k != nullptr ? FindBlock(k->header.parent_id) : nullptr;
    const Block* low = j != nullptr ? FindBlock(j->header.parent_id) : nullptr;
    if (low == nullptr || j->header.round + 1 != k->header.round) return false;  // QC_r commits J
    const std::optional<uint32_t> witness = PickWitness(epoch, {next, after});
    if (!witness) return false;
    Withhold(p);
    fork_below_tc_ = ForkBelowTc{epoch, round, p, *low, j->qc, *witness, now_ + kAttackStageMs};
    Count("fork_below_tc_started");
    Log(from, 'A', *witness, 1, round);  // 'A': attack steps, 1-2 ForkBelowTc, 3-6 SkipRoundFork
    return true;
  }

  void AdvanceForkBelowTc() {
    ForkBelowTc& a = *fork_below_tc_;
    const uint64_t epoch = a.epoch;
    const uint32_t leader = PlannedLeader(epoch, a.round);
    if (now_ > a.deadline_ms) {
      Count("fork_below_tc_abandoned");
      fork_below_tc_.reset();
      return;
    }
    if (!replicas_[ReplicaAt(epoch, leader)].core) return;
    const std::optional<TimeoutCert> tc = BuildTc(epoch, a.round - 1, UINT64_MAX);
    if (!tc) return;
    const std::optional<Block> fork = MakeBlock(epoch, a.low, a.low_qc, a.round);
    if (!fork) return;
    const Proposal x = forge::SignProposal(KeyAt(epoch, leader), *fork, tc);
    for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) {
      SendTwice(ReplicaAt(epoch, leader), epoch, v, v == a.witness ? a.withheld : x);
    }
    Count("fork_below_tc");
    Log(ReplicaAt(epoch, leader), 'A', a.witness, 2, a.round);
    fork_below_tc_.reset();
  }

  bool StartSkipRoundFork(uint32_t from, const Proposal& p) {
    if (fork_below_tc_ || skip_round_fork_) return false;
    const uint64_t epoch = p.block.header.epoch;
    const uint64_t round = p.block.header.round;
    const uint32_t fourth = PlannedLeader(epoch, round + 3);
    if (!InCoalition(epoch, PlannedLeader(epoch, round)))
      return false;  // under reputation, a plan that does not fit
    if (p.block.qc.round + 1 != round || !InCoalition(epoch, PlannedLeader(epoch, round + 1)) ||
        !InCoalition(epoch, PlannedLeader(epoch, round + 2)) || !HonestValidator(epoch, fourth)) {
      return false;
    }
    const Block* j = FindBlock(p.block.qc.block_id);
    const Block* low = j != nullptr ? FindBlock(j->header.parent_id) : nullptr;
    const std::optional<uint32_t> witness = PickWitness(epoch, {fourth});
    if (low == nullptr || !witness) return false;
    Withhold(p);
    SkipRoundFork a;
    a.epoch = epoch;
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
    const uint64_t epoch = a.epoch;
    if (now_ > a.deadline_ms) {
      Count("skip_round_fork_abandoned");
      skip_round_fork_.reset();
      return;
    }
    const uint64_t round = a.round + static_cast<uint64_t>(a.stage) - 1;
    const uint32_t leader = PlannedLeader(epoch, round);
    const uint32_t sender = ReplicaAt(epoch, leader);
    if (!replicas_[sender].core) return;
    if (a.stage == 1) {  // Z on I, beside the hidden J, after the TC of i - 1
      const std::optional<TimeoutCert> tc = BuildTc(epoch, round - 1, a.hidden.qc.round);
      const std::optional<Block> z =
          tc ? MakeBlock(epoch, a.low, a.hidden.qc, round) : std::nullopt;
      if (!z) return;
      a.conflict = *z;
      for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) {
        SendTwice(sender, epoch, v, forge::SignProposal(KeyAt(epoch, leader), *z, tc));
      }
    } else if (a.stage == 2) {  // K on J, once Z is certified (hidden) and round i timed out
      const std::optional<QuorumCert> qc_z = BuildQc(a.conflict);
      const std::optional<TimeoutCert> tc = BuildTc(epoch, round - 1, a.hidden.header.round);
      const std::optional<Block> k =
          qc_z && tc ? MakeBlock(epoch, a.hidden, a.hidden_qc, round) : std::nullopt;
      if (!k) return;
      a.conflict_qc = *qc_z;
      a.skip = *k;
      for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) {
        SendTwice(sender, epoch, v, forge::SignProposal(KeyAt(epoch, leader), *k, tc));
      }
    } else {  // M on Z to all but the witness, L on K to the witness
      const std::optional<QuorumCert> qc_k = BuildQc(a.skip);
      const std::optional<TimeoutCert> tc = BuildTc(epoch, round - 1, a.conflict.header.round);
      const std::optional<Block> m =
          qc_k && tc ? MakeBlock(epoch, a.conflict, a.conflict_qc, round) : std::nullopt;
      const std::optional<Block> l = m ? MakeBlock(epoch, a.skip, *qc_k, round) : std::nullopt;
      if (!l) return;
      for (uint32_t v = 0; v < SetOf(epoch).n(); ++v) {
        SendTwice(sender, epoch, v,
                  v == a.witness ? forge::SignProposal(KeyAt(epoch, leader), *l, std::nullopt)
                                 : forge::SignProposal(KeyAt(epoch, leader), *m, tc));
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

  // --- A removed Byzantine member that keeps sending -----------------------------------
  //
  // Once a change removes a coalition member, its driver goes on as if nothing happened.
  // Every kGhostEveryMs it sends, signed with its own key:
  //  - to the validators of its last epoch: a timeout of a round past its last, claiming
  //    its high QC, and a vote for its high QC's block (valid messages of that epoch:
  //    whoever still runs it takes them; whoever moved on drops them, for the transport
  //    no longer knows the sender);
  //  - to the validators of the newest epoch, a vote and a timeout of that epoch under the
  //    index it had (now another member's, or none), which their transport drops;
  //  - the same new-epoch vote and timeout, and its old-epoch timeout, relayed by a
  //    coalition member of the newest epoch, past the transport: the honest cores must
  //    refuse each (Crafted kRemovedKeyVote, kRemovedKeyTimeout, kOldEpochTimeout).

  void StartGhost(uint32_t index, std::unique_ptr<Core> last_core) {
    Replica& r = replicas_[index];
    if (r.ghost) return;
    r.ghost = true;
    r.removed_core = std::move(last_core);
    r.ghost_epoch = r.app->epoch();
    while (r.ghost_epoch > kFirstEpoch && !IndexIn(r.ghost_epoch, r.member)) --r.ghost_epoch;
    r.ghost_round = r.removed_core ? r.removed_core->round() + 1 : 1;
    Cover("byzantine_members_removed");
    Event e;
    e.kind = Event::Kind::kGhost;
    e.to = index;
    Schedule(now_ + rng_.Uniform(1, kGhostEveryMs), std::move(e));
  }

  void Ghost(uint32_t index) {
    Replica& r = replicas_[index];
    const uint64_t old = r.ghost_epoch;
    const uint32_t old_index = *IndexIn(old, r.member);
    const crypto::KeyPair& key = Key(r.member);
    // Old epoch.
    const QuorumCert high = r.removed_core ? r.removed_core->safety_state().high_qc : RootQc(old);
    const Timeout old_timeout =
        forge::SignTimeout(Chain(old), key, old_index, r.ghost_round++, high, std::nullopt);
    for (uint32_t v = 0; v < SetOf(old).n(); ++v) SendToIndex(index, old, v, old_timeout);
    Count("removed_member_old_epoch_timeouts");
    if (const Block* b = high.round > 0 ? FindBlock(high.block_id) : nullptr) {
      const Vote vote = forge::SignVote(Chain(old), key, old_index, *b);
      for (uint32_t v = 0; v < SetOf(old).n(); ++v) SendToIndex(index, old, v, vote);
      Count("removed_member_old_epoch_votes");
    }
    // The newest epoch, signed with its key.
    const uint64_t epoch = newest_epoch_;
    if (epoch > old) {
      const uint32_t n = static_cast<uint32_t>(SetOf(epoch).n());
      const uint32_t claimed =
          old_index < n ? old_index : static_cast<uint32_t>(rng_.Uniform(0, n - 1));
      std::optional<uint32_t> relay;
      for (const auto& [m, member] : coalition_) {
        const Replica& c = replicas_[member.replica];
        if (!relay && c.core && c.core->epoch() == epoch) relay = member.replica;
      }
      // What it votes for: the relay's high QC block, or the epoch's root.
      QuorumCert target = RootQc(epoch);
      if (relay) target = replicas_[*relay].core->safety_state().high_qc;
      const uint64_t round =
          std::max<uint64_t>(1, relay ? replicas_[*relay].core->round() : target.round + 1);
      Vote vote;
      vote.epoch = epoch;
      vote.round = std::max<uint64_t>(target.round, 1);
      vote.height = target.height;
      vote.block_id = target.block_id;
      vote.signer = claimed;
      vote.signature = key.SignDigest(VoteDigest(kChainId, epoch, vote.block_id, vote.round));
      const Timeout timeout =
          forge::SignTimeout(Chain(epoch), key, claimed, round, RootQc(epoch), std::nullopt);
      for (uint32_t v = 0; v < n; ++v) {
        SendToIndex(index, epoch, v, vote);
        SendToIndex(index, epoch, v, timeout);
      }
      Count("removed_member_new_epoch_messages");
      if (relay) {
        Count(CraftedName(Crafted::kRemovedKeyVote));
        Count(CraftedName(Crafted::kRemovedKeyTimeout));
        Count(CraftedName(Crafted::kOldEpochTimeout));
        SendToHonest(*relay, epoch, vote, Crafted::kRemovedKeyVote);
        SendToHonest(*relay, epoch, timeout, Crafted::kRemovedKeyTimeout);
        SendToHonest(*relay, epoch, old_timeout, Crafted::kOldEpochTimeout);
      }
    }
    Event e;
    e.kind = Event::Kind::kGhost;
    e.to = index;
    Schedule(now_ + kGhostEveryMs + rng_.Uniform(0, 50), std::move(e));
  }

  // --- Checks ---------------------------------------------------------------------------

  // A QC verified against its own epoch's set, once per distinct QC.
  Status VerifyCached(const QuorumCert& qc) {
    if (qc.epoch < kFirstEpoch || qc.epoch > newest_epoch_) {
      return Status::InvalidArgument("QC of an epoch not reached");
    }
    const Hash32 digest = QcDigest(qc);
    if (verified_qcs_.count(digest) != 0) return Status::Ok();
    Status s = VerifyQc(qc, Ctx(qc.epoch));
    if (s.ok()) verified_qcs_.insert(digest);
    return s;
  }

  // An honest replica never signs two different votes, or two different
  // proposals, in one round of one epoch (TESTING.md row 4), and every certificate in
  // a proposal it broadcasts verifies against the proposal's epoch's set.
  void RecordSignature(uint32_t index, const Message& m) {
    const Replica& r = replicas_[index];
    if (std::holds_alternative<Timeout>(m)) ++result_.timeouts_sent;
    Log(index, 'O', index, m.index(), RoundOf(ToNet(m)));
    if (!r.honest()) return;
    if (const auto* v = std::get_if<Vote>(&m)) {
      auto [it, fresh] = votes_.emplace(std::make_tuple(r.member, v->epoch, v->round), v->block_id);
      if (!fresh && it->second != v->block_id) {
        Violation("validator " + std::to_string(r.member) + " voted for two blocks in round " +
                  std::to_string(v->round) + EpochNote(v->epoch));
      }
    } else if (const auto* p = std::get_if<Proposal>(&m)) {
      Block b = p->block;
      b.Seal(kChainId);
      const uint64_t epoch = b.header.epoch;
      auto [it, fresh] = proposals_.emplace(std::make_tuple(r.member, epoch, b.header.round), b.id);
      if (!fresh && it->second != b.id) {
        Violation("validator " + std::to_string(r.member) + " proposed two blocks in round " +
                  std::to_string(b.header.round) + EpochNote(epoch));
      }
      if (Status s = VerifyCached(b.qc); !s.ok()) {
        Violation("replica " + std::to_string(index) + " proposed a block of round " +
                  std::to_string(b.header.round) + EpochNote(epoch) +
                  " whose QC does not verify against its epoch's set: " + s.ToString());
      }
      if (p->tc) {
        if (Status s = VerifyTc(*p->tc, Ctx(epoch)); !s.ok()) {
          Violation("replica " + std::to_string(index) + " proposed with a TC that does not " +
                    "verify against its epoch's set: " + s.ToString());
        }
      }
    }
  }

  std::string EpochNote(uint64_t epoch) const {
    return Epochs() ? " of epoch " + std::to_string(epoch) : "";
  }

  void CheckCommit(uint32_t index, const Commit& commit) {
    const Replica& r = replicas_[index];
    for (const CommittedBlock& cb : commit.blocks) {
      Log(index, 'K', index, cb.block.header.height, Prefix(cb.block.id));
    }
    if (!r.honest() || !commit.next_epoch || commit.blocks.empty()) return;
    // The set the core hands over is the next epoch's, at the block that ends this one.
    const BlockHeader& last = commit.blocks.back().block.header;
    if (schedule_.Of(last.epoch).end_height != last.height) {
      Violation("replica " + std::to_string(index) + " ended epoch " + std::to_string(last.epoch) +
                " at height " + std::to_string(last.height));
    } else if (commit.next_epoch->keys != SetOf(last.epoch + 1).keys) {
      Violation("replica " + std::to_string(index) + " was handed another set for epoch " +
                std::to_string(last.epoch + 1));
    }
  }

  // Every block an honest replica executes, by its core's commit or by sync.
  void OnExecuted(uint32_t index, const Block& block, const QuorumCert& qc, const Hash32& root) {
    if (!replicas_[index].honest()) return;
    const uint64_t h = block.header.height;
    auto [it, fresh] = canonical_.emplace(h, std::make_pair(block.id, root));
    if (!fresh && it->second.first != block.id) {
      Violation("fork: two blocks committed at height " + std::to_string(h));
    } else if (!fresh && it->second.second != root) {
      Violation("state roots differ at height " + std::to_string(h));
    }
    // Nothing of an epoch above the block that ended it, nor below its root.
    const uint64_t epoch = block.header.epoch;
    const uint64_t expected = schedule_.EpochAt(h);
    if (epoch < expected) {
      Violation("replica " + std::to_string(index) + " committed a block of epoch " +
                std::to_string(epoch) + " at height " + std::to_string(h) +
                ", above the block that ended it (height " +
                std::to_string(schedule_.Of(epoch).end_height) + ")");
      return;
    }
    if (epoch > expected) {
      Violation("replica " + std::to_string(index) + " committed a block of epoch " +
                std::to_string(epoch) + " at height " + std::to_string(h) +
                ", at or below its epoch's root");
      return;
    }
    // Every commit certificate holds a quorum of distinct validators, and verifies
    // against its own epoch's set.
    std::set<uint32_t> signers;
    for (const auto& s : qc.signers) signers.insert(s.index);
    if (qc.round != 0 && signers.size() < SetOf(epoch).quorum()) {
      Violation("block at height " + std::to_string(h) + " committed on a QC of " +
                std::to_string(signers.size()) + " distinct validators");
    }
    if (qc.block_id != block.id) {
      Violation("block at height " + std::to_string(h) + " committed on a QC of another block");
    } else if (Status s = VerifyCached(qc); !s.ok()) {
      Violation("block at height " + std::to_string(h) + EpochNote(epoch) +
                " committed on a QC that does not verify against its epoch's set: " + s.ToString());
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

  // Rounds start over in each epoch: a replica's progress counts the rounds of the
  // epochs it left too.
  uint64_t MaxHonestRound() const {
    uint64_t round = 0;
    for (const Replica& r : replicas_) {
      if (r.honest() && r.core) round = std::max(round, r.rounds_before + r.core->round());
    }
    return round;
  }

  // The first honest replica that has not yet progressed after healing: without
  // epochs, one whose height has not grown; with them, a validator of the newest epoch
  // that does not run it or has not committed in it. Empty when there is none.
  std::string Behind() const {
    for (uint32_t i = 0; i < replicas_.size(); ++i) {
      const Replica& r = replicas_[i];
      if (!r.honest()) continue;
      if (!Epochs()) {
        if (r.app->height() <= heal_height_) return "replica " + std::to_string(i);
        continue;
      }
      if (!IndexIn(newest_epoch_, r.member)) continue;
      const uint64_t root_height = roots_.at(newest_epoch_).second;
      if (!r.core || r.core->epoch() != newest_epoch_ ||
          r.app->height() <= std::max(heal_height_, root_height)) {
        return "replica " + std::to_string(i) + " (epoch " + std::to_string(EpochOfReplica(r)) +
               ", height " + std::to_string(r.app->height()) + ", newest epoch " +
               std::to_string(newest_epoch_) + ")";
      }
    }
    return "";
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
    // Each epoch reached after healing has its own bound: every honest validator of it
    // must run it and commit in it.
    if (Epochs() && newest_epoch_ != liveness_epoch_) {
      liveness_epoch_ = newest_epoch_;
      heal_round_ = round;
      heal_time_ = now_;
    }
    const std::string behind = Behind();
    const bool all_progressed = behind.empty();
    if (all_progressed && round >= opt_.rounds) {
      done_ = true;
    } else if (round > heal_round_ + ProgressRoundsMax() && !all_progressed) {
      Stall("no commit within " + std::to_string(ProgressRoundsMax()) + " rounds after healing" +
            (Epochs() ? ": " + behind : ""));
    } else if (now_ > heal_time_ + (ProgressRoundsMax() + 10) * kTimeoutMaxMs) {
      if (!all_progressed) {
        Stall("no commit within the time bound after healing" + (Epochs() ? ": " + behind : ""));
      } else {
        done_ = true;
      }
    }
  }

  // Two honest leaders in a row commit; with f faulty ones spread round-robin
  // that needs a few rounds, plus some to resynchronise after the storm.
  uint64_t ProgressRoundsMax() const {
    return 10 + 3 * std::max<uint64_t>(opt_.validators, SetOf(newest_epoch_).n());
  }

  void Heal() {
    chaos_ = false;
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    for (uint32_t i = 0; i < replicas_.size(); ++i) {
      if (!replicas_[i].core) StartReplica(i);
    }
    heal_round_ = MaxHonestRound();
    heal_time_ = now_;
    heal_height_ = 0;
    liveness_epoch_ = newest_epoch_;
    uint64_t top = 0;
    for (const Replica& r : replicas_) {
      if (r.honest()) heal_height_ = std::max(heal_height_, r.app->height());
      top = std::max(top, r.app->height());
    }
    // A few more changes while healing, then a final set that every honest validator of
    // it must reach and commit in.
    if (Epochs()) schedule_.StopAfter(top + std::min<uint64_t>(2 * opt_.epochs, 20));
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
  EpochSchedule schedule_;
  std::vector<Replica> replicas_;
  std::optional<uint32_t> twin_member_;
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
  // Epochs reached: the newest, each one's root (id, height), and the one whose
  // validators the liveness check waits for.
  uint64_t newest_epoch_ = kFirstEpoch;
  std::map<uint64_t, std::pair<Hash32, uint64_t>> roots_;
  uint64_t liveness_epoch_ = kFirstEpoch;
  // The Byzantine coalition.
  std::map<uint32_t, Member> coalition_;  // by member
  Profile profile_;
  uint64_t heard_epoch_ = kFirstEpoch;  // the epoch of the signatures heard below
  std::map<uint64_t, std::map<uint32_t, TimeoutSignature>> heard_timeouts_;  // round -> signer
  std::map<std::pair<uint64_t, Hash32>, std::map<uint32_t, Signature>> heard_votes_;
  std::set<std::pair<uint64_t, Hash32>> hidden_qcs_;  // (round, block) of QCs withheld
  std::optional<ForkBelowTc> fork_below_tc_;
  std::optional<SkipRoundFork> skip_round_fork_;
  uint64_t heal_round_ = 0;
  uint64_t heal_time_ = 0;
  uint64_t heal_height_ = 0;
  // (member, epoch, round) -> block
  std::map<std::tuple<uint32_t, uint64_t, uint64_t>, Hash32> votes_;
  std::map<std::tuple<uint32_t, uint64_t, uint64_t>, Hash32> proposals_;
  std::map<uint64_t, std::pair<Hash32, Hash32>> canonical_;  // height -> (block, root)
  std::set<Hash32> verified_qcs_;                            // QcDigest of QCs that verified
  std::vector<std::string> violations_;
  EventHash hash_;
  SimResult result_;
};

}  // namespace

SimResult RunSimulation(const SimOptions& options) {
  return Simulation(options).Run();
}

}  // namespace reel::sim
