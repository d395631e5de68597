#include "tests/sim/sim.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "tests/sim/rng.h"

namespace reel::sim {
namespace {

using namespace consensus;

constexpr char kChainId[] = "reel-sim";
constexpr uint64_t kEpoch = 1;
constexpr uint64_t kTickMs = 20;
constexpr uint64_t kTimeoutInitialMs = 300;
constexpr uint64_t kTimeoutMaxMs = 2400;
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
    for (size_t i = committed_.size() > keep ? committed_.size() - keep : 0; i < committed_.size(); ++i) {
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

struct Event {
  enum class Kind { kDeliver, kTick, kRestart };
  Kind kind = Kind::kTick;
  uint32_t to = 0;
  uint32_t from = 0;  // replica
  uint64_t incarnation = 0;
  NetMessage message;
};

uint64_t RoundOf(const NetMessage& m) {
  if (auto* p = std::get_if<Proposal>(&m)) return p->block.header.round;
  if (auto* v = std::get_if<Vote>(&m)) return v->round;
  if (auto* t = std::get_if<Timeout>(&m)) return t->round;
  return 0;
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
    twin_validator_ = opt_.twins && f >= 1 ? std::optional<uint32_t>(order[0]) : std::nullopt;
    twins_scenario_left_ = opt_.seed;
    for (uint32_t v = 0; v < n; ++v) {
      Role role = faulty.count(v) != 0 ? Role::kByzantine : Role::kHonest;
      if (twin_validator_ == v) role = Role::kTwin;
      AddReplica(v, role);
      if (twin_validator_ == v) AddReplica(v, Role::kTwin);
    }
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
    Step step;
    if (auto* p = std::get_if<Proposal>(&e.message)) {
      step = r.core->OnProposal(from_validator, *p);
      if (r.role == Role::kByzantine) ByzantineVote(e.to, *p);
    } else if (auto* v = std::get_if<Vote>(&e.message)) {
      step = r.core->OnVote(from_validator, *v);
    } else if (auto* t = std::get_if<Timeout>(&e.message)) {
      step = r.core->OnTimeout(from_validator, *t);
    } else if (auto* req = std::get_if<FetchRequest>(&e.message)) {
      ServeFetch(e.to, e.from, *req);
      return;
    } else if (auto* resp = std::get_if<FetchResponse>(&e.message)) {
      step = r.core->OnBlocksFetched(from_validator, std::move(resp->blocks));
    }
    if (opt_.verbose && !step.status.ok()) {
      std::printf("  t=%llu r%u refused: %s\n", static_cast<unsigned long long>(now_), e.to,
                  step.status.ToString().c_str());
    }
    Execute(e.to, std::move(step));
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
      if (auto* persist = std::get_if<Persist>(&action)) {
        r.synced = persist->state;  // written, and the sync covers earlier writes too
        r.blocks_synced.merge(r.blocks_unsynced);
        r.blocks_unsynced.clear();
      } else if (auto* store = std::get_if<StoreBlock>(&action)) {
        r.blocks_unsynced.emplace(store->block.id, store->block);
      } else if (auto* send = std::get_if<Send>(&action)) {
        RecordSignature(index, send->message);
        SendToValidator(index, send->to, ToNet(send->message));
      } else if (auto* broadcast = std::get_if<Broadcast>(&action)) {
        RecordSignature(index, broadcast->message);
        BroadcastFrom(index, broadcast->message);
      } else if (auto* commit = std::get_if<Commit>(&action)) {
        CheckCommit(index, *commit);
        std::erase_if(r.blocks_synced,
                      [&](const auto& kv) { return kv.second.header.height <= r.app->height(); });
      } else if (auto* fetch = std::get_if<FetchBlocks>(&action)) {
        ++result_.fetches;
        SendToValidator(index, fetch->from_peer,
                        FetchRequest{fetch->block_id, fetch->above_height});
      }
    }
  }

  static NetMessage ToNet(const Message& m) {
    return std::visit([](const auto& x) -> NetMessage { return x; }, m);
  }

  // --- Network ------------------------------------------------------------------------

  void SendToValidator(uint32_t from, uint32_t validator, const NetMessage& m) {
    for (uint32_t to = 0; to < replicas_.size(); ++to) {
      if (replicas_[to].validator == validator) SendTo(from, to, m);
    }
  }

  void SendTo(uint32_t from, uint32_t to, const NetMessage& m) {
    if (from == to) {  // loopback: reliable and prompt
      Schedule(now_ + 1, Event{Event::Kind::kDeliver, to, from, 0, m});
      return;
    }
    if (chaos_ && (blocked_[from][to] || rng_.Chance(drop_probability_))) return;
    const int copies = chaos_ && rng_.Chance(duplicate_probability_) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      uint64_t delay = rng_.Uniform(1, 30);
      if (chaos_ && rng_.Chance(0.2)) delay += rng_.Uniform(0, 300);  // reorders
      Schedule(now_ + delay, Event{Event::Kind::kDeliver, to, from, 0, m});
    }
  }

  void BroadcastFrom(uint32_t from, const Message& m) {
    const auto* proposal = std::get_if<Proposal>(&m);
    if (proposal != nullptr && replicas_[from].role == Role::kByzantine && validators_.n() > 1) {
      Equivocate(from, *proposal);
      return;
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

  // --- Byzantine behaviour --------------------------------------------------------------

  // An equivocating leader: one block to half the validators, another to the
  // rest, and later each half gets the other block too.
  // The other block either carries other transactions on the same parent, or
  // forks one or two blocks lower, on an older QC (with the honest proposal's
  // TC, if any), which the voting rule must refuse unless the TC allows it.
  void Equivocate(uint32_t from, const Proposal& honest) {
    Proposal other = honest;
    Block& b = other.block;
    if (rng_.Chance(0.6)) ForkLower(from, b, static_cast<int>(rng_.Uniform(1, 2)));
    b.payload.push_back("equivocation/" + std::to_string(seq_));
    std::vector<Hash32> ids;
    for (const std::string& tx : b.payload) ids.push_back(crypto::Blake2b256(tx));
    b.header.tx_root = crypto::MerkleRoot(ids);
    b.header.tx_count = static_cast<uint32_t>(b.payload.size());
    b.Seal(kChainId);
    other.signature = ValidatorKey(replicas_[from].validator).SignDigest(b.id);
    ByzantineVote(from, other);  // its own core only ever sees the honest one
    // One random validator gets the honest block first, the rest the other
    // one: the split that gives the other block the most votes.
    const uint64_t later = rng_.Uniform(50, 400);
    const uint64_t lucky = rng_.Uniform(0, validators_.n() - 1);
    for (uint32_t v = 0; v < validators_.n(); ++v) {
      const bool first = v == replicas_[from].validator || v == lucky;
      SendToValidator(from, v, first ? NetMessage{honest} : NetMessage{other});
      for (uint32_t to = 0; to < replicas_.size(); ++to) {
        if (replicas_[to].validator != v || to == from) continue;
        Schedule(now_ + later, Event{Event::Kind::kDeliver, to, from, 0,
                                     first ? NetMessage{other} : NetMessage{honest}});
      }
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
    const bool commits_parent = g.height >= 1 && g.qc_round + 1 == g.round;
    const uint64_t committed = commits_parent ? g.height - 1 : g.committed_height;
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
    Vote v;
    v.epoch = kEpoch;
    v.round = b.header.round;
    v.height = b.header.height;
    v.block_id = b.id;
    v.signer = r.validator;
    v.signature = ValidatorKey(r.validator).SignDigest(VoteDigest(kChainId, kEpoch, b.id, v.round));
    // Its own core's view of the schedule: by committed history, like everyone's.
    const uint32_t leader =
        r.core != nullptr ? r.core->LeaderOf(v.round + 1, b.header.committed_height)
                          : static_cast<uint32_t>((v.round + 1) % validators_.n());
    SendToValidator(index, leader, v);
    SendToValidator(index, leader, v);
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
