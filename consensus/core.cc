#include "consensus/core.h"

#include <algorithm>

#include "crypto/merkle.h"

namespace reel::consensus {

Core::Core(Config config, crypto::KeyPair key, Application* app)
    : config_(std::move(config)),
      key_(std::move(key)),
      app_(app),
      pacemaker_(config_.round_timeout_ms_initial, config_.round_timeout_ms_max,
                 config_.round_timeout_ms_floor, config_.round_timeout_backoff_percent),
      leaders_(config_.epoch, config_.validators.n(), config_.leader_reputation),
      safety_(SafetyState{}, config_.bug == PlantedBug::kWeakVoteRule,
              config_.bug == PlantedBug::kWeakTcRule) {
  REEL_ASSERT(app_ != nullptr);
  REEL_ASSERT(config_.validators.n() >= 1 && config_.validators.n() <= limits::validators_max);
  REEL_ASSERT(config_.self_index < config_.validators.n());
  REEL_ASSERT(config_.block_txs_max >= 1 && config_.block_txs_max <= limits::block_txs_max);
  REEL_ASSERT(config_.block_bytes_max >= limits::block_bytes_min &&
              config_.block_bytes_max <= limits::block_bytes_max);
  REEL_ASSERT(key_.public_key() == config_.validators.keys[config_.self_index]);
  heard_round_.assign(config_.validators.n(), 0);
  const bool first_epoch = config_.epoch_root_id == Hash32{};
  REEL_ASSERT(!first_epoch || config_.epoch_root_height == 0);
  root_qc_ = MakeRootQc(
      config_.epoch,
      first_epoch ? MakeGenesisBlock(config_.chain_id, config_.epoch).id : config_.epoch_root_id,
      config_.epoch_root_height);
  ctx_.chain_id = config_.chain_id;
  ctx_.epoch = config_.epoch;
  ctx_.validators = &config_.validators;
  ctx_.epoch_root_id = root_qc_.block_id;
  ctx_.count_duplicate_signers = config_.bug == PlantedBug::kDoubleCount;
}

Step Core::Finish(Status status) {
  if (!ended_) MaybePropose();
  Step step{std::move(status), std::move(out_)};
  out_.clear();
  return step;
}

// Every signature leaves through here, after its Persist (unless the planted
// bug reverses them).
void Core::SignedSend(Action send) {
  // Nothing is signed in an epoch that has ended: its last block is committed, and a
  // vote or timeout now could only help the old set certify blocks after it.
  if (ended_) return;
  if (config_.bug == PlantedBug::kVoteBeforePersist) {
    out_.push_back(std::move(send));
    out_.push_back(Persist{safety_.state()});
  } else {
    out_.push_back(Persist{safety_.state()});
    out_.push_back(std::move(send));
  }
}

// --- Start -----------------------------------------------------------------------

Step Core::OnStart(const StartState& start, uint64_t now_ms) {
  REEL_ASSERT(tree_ == nullptr);
  SafetyState state;
  state.epoch = config_.epoch;
  state.high_qc = root_qc_;
  // A state of an earlier epoch promises nothing about this one: its rounds start over.
  if (start.safety && start.safety->epoch == config_.epoch) state = *start.safety;
  REEL_ASSERT(!start.safety || start.safety->epoch <= config_.epoch);
  safety_ = SafetyRules(state, config_.bug == PlantedBug::kWeakVoteRule,
                        config_.bug == PlantedBug::kWeakTcRule);
  Root(start, now_ms, 1);
  return Finish(Status::Ok());
}

Step Core::OnSynced(const StartState& start, uint64_t now_ms) {
  REEL_ASSERT(tree_ != nullptr);
  if (ended_) return Finish(Status::FailedPrecondition("this core's epoch has ended"));
  REEL_ASSERT(start.committed_block.header.height >= committed_height_);
  // What is in memory is at least as new as the disk's safety state: keep it.
  tree_.reset();
  pending_proposals_.clear();
  pending_qcs_.clear();
  fetches_.clear();
  Root(start, now_ms, pacemaker_.round());
  return Finish(Status::Ok());
}

// Roots the block tree on the committed block, enters the round the safety state
// allows (at least `round_min`) and puts back the blocks stored above it.
void Core::Root(const StartState& start, uint64_t now_ms, uint64_t round_min) {
  now_ms_ = now_ms;
  const Block& committed = start.committed_block;  // sealed by the driver
  const bool at_root = committed.id == root_qc_.block_id;
  REEL_ASSERT(at_root || committed.header.epoch == config_.epoch);
  const QuorumCert& committed_qc = at_root ? root_qc_ : start.committed_qc;
  tree_ = std::make_unique<BlockTree>(committed, committed_qc);
  committed_height_ = committed.header.height;
  if (start.recent_committed.empty()) {
    leaders_.Reset({start.committed_block.header});
  } else {
    REEL_ASSERT(start.recent_committed.back().height == committed_height_);
    leaders_.Reset(start.recent_committed);
  }
  REEL_ASSERT(app_->StateRootAt(committed_height_).has_value());
  safety_.ObserveQc(committed_qc);
  const SafetyState& s = safety_.state();
  const uint64_t round =
      std::max({s.high_qc.round + 1, s.highest_voted_round, s.highest_timeout_round, round_min});
  pacemaker_.Start(round, now_ms, s.high_qc.round);
  // The TC that took this replica into its round, from its own disk (checked: the disk
  // may be damaged), so that its timeouts can show it again.
  if (s.high_tc && s.high_tc->epoch == config_.epoch && VerifyTc(*s.high_tc, ctx_).ok()) {
    (void)pacemaker_.AdvanceOnTc(*s.high_tc, now_ms);  // a TC justifies the round after it
  }
  RestoreBlocks(start.stored_blocks);
  // A persisted high QC may name a block lost with memory: fetch it.
  if (tree_->Find(s.high_qc.block_id) == nullptr) {
    ProcessQc(s.high_qc, (config_.self_index + 1) % config_.validators.n());
  }
}

// Re-inserts blocks from the driver's store, oldest first, checking them like
// fetched ones: our own disk may be damaged, and nothing unverified enters.
void Core::RestoreBlocks(std::vector<Block> blocks) {
  std::sort(blocks.begin(), blocks.end(),
            [](const Block& a, const Block& b) { return a.header.height < b.header.height; });
  for (Block& block : blocks) {
    block.Seal(config_.chain_id);
    const BlockHeader& h = block.header;
    if (h.height <= committed_height_ || tree_->Find(block.id) != nullptr) continue;
    if (h.epoch != config_.epoch) continue;  // of an epoch that has ended
    if (tree_->Find(h.parent_id) == nullptr || h.parent_id != block.qc.block_id ||
        h.qc_round != block.qc.round || !VerifyQcCached(block.qc).ok()) {
      continue;
    }
    ProcessQc(block.qc, config_.self_index);
    // A block the tree refuses is left out, as a fetched one would be: peers resend it.
    (void)InsertBlock(block, /*store=*/false);
  }
}

// --- Certificates ----------------------------------------------------------------

Status Core::VerifyQcCached(const QuorumCert& qc) const {
  const QuorumCert* known = tree_->QcFor(qc.block_id);
  if (known != nullptr && known->round == qc.round && qc.epoch == config_.epoch &&
      qc.block_id == known->block_id) {
    return Status::Ok();  // a QC for this block was verified already
  }
  return VerifyQc(qc, ctx_);
}

// `qc` is verified. Enters the next round, raises the high QC and applies the
// commit rule: a QC for B' whose parent B has round B'.round - 1 commits B.
void Core::ProcessQc(const QuorumCert& qc, uint32_t from) {
  // Once a commit has ended the epoch, the rest of the event that made it (more fetched
  // blocks, pending QCs, a QC formed on insertion) must not commit what lies above it.
  if (ended_) return;
  const Block* block = tree_->Find(qc.block_id);
  // The next leader waits on purpose while the chain is idle (MaybePropose): the
  // timer of the next round allows for it.
  uint64_t leader_wait_ms = 0;
  if (block != nullptr && block->payload.empty()) {
    const Block* parent = tree_->Parent(*block);
    if (parent == nullptr || parent->payload.empty())
      leader_wait_ms = config_.idle_block_interval_ms;
  }
  if (pacemaker_.AdvanceOnQc(qc.round, now_ms_, leader_wait_ms)) {
    votes_.PruneBelow(pacemaker_.round() - 1);
    timeouts_.PruneBelow(pacemaker_.round());
    last_timeout_.reset();
  }
  if (block == nullptr) {
    if (qc.height > committed_height_ || qc.round > tree_->root().header.round) {
      if (pending_qcs_.size() >= limits::consensus_pending_qcs_max) pending_qcs_.pop_front();
      pending_qcs_.emplace_back(from, qc);
      RequestFetch(qc.block_id, from);
    }
    return;
  }
  QuorumCert fixed = qc;
  fixed.height = block->header.height;  // the unsigned hint, corrected from the block
  tree_->Certify(fixed);
  safety_.ObserveQc(fixed);
  const Block* parent = tree_->Parent(*block);
  // The two-chain rule needs consecutive rounds: then no other block of round
  // r + 1 can be certified, and every later TC names a high QC of round r or
  // more (a voter of the child signed it), so every later certified block extends
  // the parent. With a round skipped, a block of that round may be certified on
  // another branch, and its QC outranks the parent's.
  const bool consecutive = parent != nullptr && parent->header.round + 1 == block->header.round;
  if (parent != nullptr && (consecutive || config_.bug == PlantedBug::kWeakCommitRule) &&
      parent->header.height > committed_height_) {
    CommitUpTo(*block, fixed);
  }
}

void Core::ProcessTc(const TimeoutCert& tc) {
  safety_.ObserveTc(tc);  // persisted with the next signature
  for (const TimeoutSignature& signer : tc.signers) Heard(signer.index, tc.round);
  if (pacemaker_.AdvanceOnTc(tc, now_ms_)) {
    ++view_changes_;
    votes_.PruneBelow(pacemaker_.round() - 1);
    timeouts_.PruneBelow(pacemaker_.round());
    last_timeout_.reset();
  }
}

void Core::OnQcFormed(const QuorumCert& qc) {
  ProcessQc(qc, config_.self_index);
}

// `child` is certified by `child_qc` and is one round above its parent: that
// commits the parent and every ancestor above the committed height.
void Core::CommitUpTo(const Block& child, const QuorumCert& child_qc) {
  const Hash32 block_id = child.header.parent_id;
  const QuorumCert& certifying_qc = child.qc;
  const std::vector<const Block*> path = tree_->PathFromRoot(block_id);
  REEL_ASSERT(!path.empty());
  Commit commit;
  size_t last = path.size() - 1;
  for (size_t i = 0; i < path.size(); ++i) {
    const Block& b = *path[i];
    REEL_ASSERT(b.header.height == committed_height_ + 1);
    QuorumCert qc = i + 1 < path.size() ? path[i + 1]->qc : certifying_qc;
    REEL_ASSERT(qc.block_id == b.id);
    qc.height = b.header.height;  // the unsigned hint, from the block itself
    const Hash32 root = app_->ExecuteCommitted(b, qc);
    committed_height_ = b.header.height;
    leaders_.OnCommitted(b.header);
    commit.blocks.push_back({b, qc, root});
    if (std::optional<ValidatorSet> next = app_->EpochEndedAt(b.header.height)) {
      // The epoch ends here: what the path holds above this block is of no epoch now.
      REEL_ASSERT(next->n() >= 1 && next->n() <= limits::validators_max);
      commit.next_epoch = std::move(next);
      last = i;
      break;
    }
  }
  if (commit.next_epoch) {
    // Before the commit that ends it, the last thing this core signs: a timeout of its
    // round carrying the QC that committed the ending block. The others may not have
    // that QC (votes go to one leader); from the timeout they commit the block too and
    // move on, instead of waiting for a TC in an epoch that is over. It comes before
    // the Commit so that the driver has it on disk before it starts the next epoch.
    LocalTimeout(/*with_vote=*/false);  // no help for a block past the end
    ended_ = true;
  }
  // The proof of the last executed block: the path above it, then the child.
  for (size_t i = last + 1; i < path.size(); ++i) commit.descendants.push_back(path[i]->header);
  commit.descendants.push_back(child.header);
  commit.block_qc = certifying_qc;
  commit.child_qc = child_qc;
  tree_->PruneTo(path[last]->id);
  out_.push_back(std::move(commit));
}

// --- Blocks ----------------------------------------------------------------------

// What can be checked of a proposal without its parent.
Status Core::CheckProposalForm(const Proposal& p) const {
  const BlockHeader& h = p.block.header;
  if (h.epoch != config_.epoch) return Status::InvalidArgument("proposal of another epoch");
  if (h.round == 0) return Status::InvalidArgument("proposal for round 0");
  if (h.proposer_index >= config_.validators.n()) {
    return Status::InvalidArgument("proposer index is no validator's");
  }
  if (h.parent_id != h.qc_block_id || p.block.qc.block_id != h.qc_block_id ||
      p.block.qc.round != h.qc_round) {
    return Status::InvalidArgument("block QC does not certify its parent");
  }
  if (h.round <= h.qc_round) return Status::InvalidArgument("block round not above its QC");
  REEL_RETURN_IF_ERROR(VerifyProposalSignature(p, ctx_));
  REEL_RETURN_IF_ERROR(VerifyQcCached(p.block.qc));
  if (p.tc) {
    if (p.tc->round + 1 != h.round) return Status::InvalidArgument("TC not of round r-1");
    REEL_RETURN_IF_ERROR(VerifyTc(*p.tc, ctx_));
  }
  return Status::Ok();
}

// The header's committed block is the one the two-chain rule commits given the
// QCs up to the block's own QC: the grandparent if the parent's QC is of the
// round just before the parent's, else whatever the parent recorded.
Result<std::pair<uint64_t, Hash32>> Core::ExpectedCommitted(const Block& parent) const {
  const BlockHeader& p = parent.header;
  // The epoch's root is committed by every replica that runs the epoch: a block on it
  // records the root itself (its own header speaks of the epoch before).
  const bool parent_is_root = parent.id == root_qc_.block_id;
  const bool parent_commits_grandparent = p.height >= 1 && p.qc_round + 1 == p.round;
  const uint64_t height = parent_is_root               ? p.height
                          : parent_commits_grandparent ? p.height - 1
                                                       : p.committed_height;
  const std::optional<Hash32> root = app_->StateRootAt(height);
  if (!root) return Status::FailedPrecondition("state root of the committed height not known");
  return std::make_pair(height, *root);
}

Status Core::ValidateAgainstParent(const Block& block, const Block& parent) const {
  const BlockHeader& h = block.header;
  if (h.height != parent.header.height + 1) return Status::InvalidArgument("height not parent+1");
  if (h.timestamp_ms <= parent.header.timestamp_ms) {
    return Status::InvalidArgument("timestamp not after the parent's");
  }
  if (block.payload.size() != h.tx_count || block.payload.size() > config_.block_txs_max) {
    return Status::InvalidArgument("tx_count does not match the payload or is too large");
  }
  size_t bytes = 0;
  std::vector<Hash32> ids;
  for (const std::string& tx : block.payload) {
    bytes += tx.size();
    ids.push_back(app_->PayloadLeaf(tx));
  }
  if (bytes > config_.block_bytes_max) return Status::InvalidArgument("payload too large");
  if (crypto::MerkleRoot(ids) != h.tx_root) return Status::InvalidArgument("tx_root mismatch");
  auto expected = ExpectedCommitted(parent);
  if (!expected.ok()) return expected.status();
  if (h.committed_height != expected->first) {
    return Status::InvalidArgument("header committed_height is not the committed block's");
  }
  if (h.committed_state_root != expected->second) {
    return Status::FailedPrecondition("header state root differs from our own");
  }
  return Status::Ok();
}

// Inserts a block whose parent is here, QC processed. Forms any QC whose votes
// arrived before the block did.
Status Core::InsertBlock(const Block& block, bool store) {
  if (tree_->Find(block.id) != nullptr) return Status::Ok();
  const Block* parent = tree_->Find(block.header.parent_id);
  if (parent == nullptr) return Status::NotFound("parent pruned or unknown");
  REEL_RETURN_IF_ERROR(ValidateAgainstParent(block, *parent));
  if (tree_->size() >= limits::consensus_block_tree_blocks_max) {
    return Status::ResourceExhausted("block tree full");
  }
  tree_->Insert(block);
  if (store) out_.push_back(StoreBlock{block});
  // Votes that came before the block (to the next leader, or broadcast at a timeout).
  if (auto qc = votes_.TryForm(block.header.round, block.id, block.header.height, ctx_)) {
    OnQcFormed(*qc);
  }
  return Status::Ok();
}

// --- Proposals and votes -----------------------------------------------------------

Step Core::OnProposal(uint32_t from, const Proposal& received) {
  if (ended_) return Finish(Status::FailedPrecondition("this core's epoch has ended"));
  Proposal p = received;
  p.block.Seal(config_.chain_id);
  Status form = CheckProposalForm(p);
  if (!form.ok()) return Finish(form);
  Heard(p.block.header.proposer_index, p.block.header.round);
  // The certificates are self-verifying and checked: take them even from a proposer
  // this replica does not expect, so that a replica whose leader schedule lags (its
  // history is short of the others') catches up instead of staying behind.
  if (p.tc) ProcessTc(*p.tc);
  ProcessQc(p.block.qc, from);
  if (p.block.header.height <= committed_height_) return Finish(Status::Ok());  // old news
  if (tree_->Find(p.block.header.parent_id) == nullptr) {
    // Wait for the ancestors; ProcessQc has asked `from` for them. The leader check
    // needs the parent, so a proposal waits unchecked: one per sender at most, so
    // that a validator that is no leader cannot push the real leader's out.
    std::erase_if(pending_proposals_, [from](const auto& e) { return e.first == from; });
    if (pending_proposals_.size() >= limits::consensus_pending_proposals_max) {
      pending_proposals_.pop_front();
    }
    pending_proposals_.emplace_back(from, std::move(p));
    return Finish(Status::Ok());
  }
  return Finish(HandleProposalWithParent(p));
}

Status Core::HandleProposalWithParent(const Proposal& p) {
  // Judged by its own parent's history (leader_schedule.h), which every replica that
  // holds the parent reads alike.
  const Block* parent = tree_->Find(p.block.header.parent_id);
  REEL_ASSERT(parent != nullptr);
  if (p.block.header.proposer_index !=
      leaders_.LeaderOf(p.block.header.round, parent->header.committed_height)) {
    return Status::PermissionDenied("proposer is not the leader of the round");
  }
  REEL_RETURN_IF_ERROR(InsertBlock(p.block));
  Status status;
  VoteIfAllowed(p, &status);
  return status;
}

void Core::VoteIfAllowed(const Proposal& p, Status* status) {
  const BlockHeader& h = p.block.header;
  if (h.round != pacemaker_.round()) return;  // not this round's: nothing to vote on
  if (h.timestamp_ms > now_ms_ + config_.timestamp_drift_ms_max) {
    *status = Status::InvalidArgument("block timestamp ahead of our clock");
    return;
  }
  if (Status s = app_->ValidatePayload(p.block); !s.ok()) {
    *status = s;
    return;
  }
  if (Status s = safety_.CheckVote(h, p.tc); !s.ok()) {
    *status = s;
    return;
  }
  Vote vote;
  vote.epoch = config_.epoch;
  vote.round = h.round;
  vote.height = h.height;
  vote.block_id = p.block.id;
  vote.signer = config_.self_index;
  vote.signature =
      key_.SignDigest(VoteDigest(config_.chain_id, config_.epoch, vote.block_id, vote.round));
  // To the leader of this block's child, which is drawn from this block's history;
  // to everyone if that leader has sent nothing since a round that timed out (it has
  // likely crashed): then every replica forms the QC at once and enters the next round,
  // instead of waiting for the timer and broadcasting it there (LocalTimeout). Votes
  // stay linear while every leader is heard.
  last_vote_ = vote;
  const uint32_t next_leader = leaders_.LeaderOf(h.round + 1, h.committed_height);
  const auto& high_tc = pacemaker_.high_tc();
  if (next_leader != config_.self_index && high_tc && heard_round_[next_leader] < high_tc->round) {
    ++votes_broadcast_;
    SignedSend(Broadcast{vote});
  } else {
    SignedSend(Send{next_leader, vote});
  }
}

void Core::Heard(uint32_t validator, uint64_t round) {
  if (validator < heard_round_.size())
    heard_round_[validator] = std::max(heard_round_[validator], round);
}

Step Core::OnVote(uint32_t from, const Vote& vote) {
  if (ended_) return Finish(Status::FailedPrecondition("this core's epoch has ended"));
  if (vote.epoch != config_.epoch && config_.bug != PlantedBug::kOldEpochVote) {
    return Finish(Status::InvalidArgument("vote of another epoch"));
  }
  // Taken whoever leads next: votes go to the next leader, and every voter broadcasts its
  // vote when the round times out (LocalTimeout), so that a quorum of them certifies the
  // block at every replica even when that leader is down. A vote for a block not here
  // yet is kept (bounded by rounds and validators): the block may follow.
  if (vote.round + 1 < pacemaker_.round()) return Finish(Status::Ok());  // stale
  if (vote.round > pacemaker_.round() + limits::consensus_future_rounds_max) {
    return Finish(Status::ResourceExhausted("vote too far in the future"));
  }
  VerifyContext vote_ctx = ctx_;
  if (config_.bug == PlantedBug::kOldEpochVote) vote_ctx.epoch = vote.epoch;
  Status s = VerifyVote(vote, vote_ctx);
  if (!s.ok()) return Finish(s);
  Heard(vote.signer, vote.round);
  if (!votes_.Add(vote, ctx_)) return Finish(Status::Ok());  // duplicate
  if (const Block* b = tree_->Find(vote.block_id)) {
    if (b->header.round != vote.round)
      return Finish(Status::InvalidArgument("vote round mismatch"));
    if (auto qc = votes_.TryForm(vote.round, vote.block_id, b->header.height, ctx_)) {
      OnQcFormed(*qc);
    }
  }
  return Finish(Status::Ok());
}

// --- Timeouts ------------------------------------------------------------------------

Step Core::OnTimeout(uint32_t from, const Timeout& t) {
  if (ended_) return Finish(Status::FailedPrecondition("this core's epoch has ended"));
  if (t.epoch != config_.epoch) return Finish(Status::InvalidArgument("timeout of another epoch"));
  // The attached certificates can move us on even when the timeout is old.
  if (t.high_tc && t.high_tc->round >= pacemaker_.round()) {
    Status s = VerifyTc(*t.high_tc, ctx_);
    if (!s.ok()) return Finish(s);
    ProcessTc(*t.high_tc);
  }
  // A high QC above ours must be real: it raises the TC's bar for every leader.
  if (t.high_qc.round > safety_.state().high_qc.round) {
    Status s = VerifyQcCached(t.high_qc);
    if (!s.ok()) return Finish(s);
    ProcessQc(t.high_qc, from);
  }
  if (t.round < pacemaker_.round()) return Finish(Status::Ok());
  if (t.round > pacemaker_.round() + limits::consensus_future_rounds_max) {
    return Finish(Status::ResourceExhausted("timeout too far in the future"));
  }
  Status s = VerifyTimeoutSignature(t, ctx_);
  if (!s.ok()) return Finish(s);
  Heard(t.signer, t.round);
  if (!timeouts_.Add(t, ctx_)) return Finish(Status::Ok());
  // f + 1 timeouts include an honest one: join rather than wait for our timer,
  // in a later round too (its senders may have restarted into it without the
  // TC that took them there).
  if (timeouts_.Count(t.round) >= config_.validators.f() + 1 &&
      !(last_timeout_ && last_timeout_->round == t.round)) {
    if (t.round > pacemaker_.round()) {
      pacemaker_.JoinRound(t.round, now_ms_);
      votes_.PruneBelow(pacemaker_.round() - 1);
      last_timeout_.reset();
    }
    LocalTimeout();
  }
  if (auto tc = timeouts_.TryForm(t.round, ctx_)) ProcessTc(*tc);
  return Finish(Status::Ok());
}

Step Core::OnTick(uint64_t now_ms) {
  if (ended_) return Finish(Status::FailedPrecondition("this core's epoch has ended"));
  now_ms_ = std::max(now_ms_, now_ms);
  if (pacemaker_.Expired(now_ms_)) {
    LocalTimeout();
    RetryFetches();
  }
  return Finish(Status::Ok());
}

// The round timer fired (or f + 1 others gave up): stop voting in this round
// and tell everyone, with our high QC and TC. Re-sent unchanged while the
// round lasts, so that a lossy network cannot starve the TC.
void Core::LocalTimeout(bool with_vote) {
  if (ended_) return;
  pacemaker_.Rearm(now_ms_);
  const uint64_t r = pacemaker_.round();
  // Our vote of this round went to the next leader only; if that leader is down, the
  // block it certifies is lost with it. Sent to everyone (as Aptos' timeout votes do),
  // a quorum of such votes certifies the block at every replica, which then enter the
  // next round by that QC: a dead leader costs its own round, not the round before it
  // too. Before the timeout, so that a receiver forms the QC first. Already signed and
  // persisted: no new signature.
  if (with_vote && last_vote_ && last_vote_->round == r) out_.push_back(Broadcast{*last_vote_});
  if (last_timeout_ && last_timeout_->round == r) {
    Timeout again = *last_timeout_;
    again.high_tc = pacemaker_.high_tc();
    out_.push_back(Broadcast{again});
    return;
  }
  if (!safety_.CheckTimeout(r).ok()) return;
  Timeout t;
  t.epoch = config_.epoch;
  t.round = r;
  t.high_qc = safety_.state().high_qc;
  t.signer = config_.self_index;
  t.signature = key_.SignDigest(TimeoutDigest(config_.chain_id, config_.epoch, r, t.high_qc.round));
  t.high_tc = pacemaker_.high_tc();
  last_timeout_ = t;
  SignedSend(Broadcast{t});
}

// --- Proposing -------------------------------------------------------------------------

void Core::MaybePropose() {
  if (tree_ == nullptr) return;
  const uint64_t r = pacemaker_.round();
  if (safety_.state().highest_proposed_round >= r) return;
  if (last_timeout_ && last_timeout_->round == r) return;  // we gave up on this round
  const QuorumCert hqc = safety_.state().high_qc;
  const Block* parent = tree_->Find(hqc.block_id);
  if (parent == nullptr) return;
  if (leaders_.LeaderOf(r, parent->header.committed_height) != config_.self_index) return;
  std::optional<TimeoutCert> tc;
  if (hqc.round + 1 != r) {
    const auto& high_tc = pacemaker_.high_tc();
    if (!high_tc || high_tc->round + 1 != r || hqc.round < high_tc->MaxHighQcRound()) return;
    tc = high_tc;
  }
  const uint64_t parent_time = parent->header.timestamp_ms;
  // A later tick proposes. With pacing off (0) never wait, not even for a
  // parent stamped ahead of our clock (timestamps only need to increase).
  if (config_.block_interval_ms_min > 0 && now_ms_ < parent_time + config_.block_interval_ms_min) {
    return;
  }
  auto committed = ExpectedCommitted(*parent);
  if (!committed.ok()) return;
  std::vector<std::string> payload =
      app_->PayloadForProposal(tree_->PathFromRoot(parent->id),
                               PayloadLimits{config_.block_txs_max, config_.block_bytes_max});
  if (payload.empty() && now_ms_ < parent_time + config_.idle_block_interval_ms) {
    // Idle only if the two blocks above the committed one carry nothing: their
    // transactions commit once two more blocks certify them.
    const Block* grandparent = tree_->Parent(*parent);
    const bool pending =
        !parent->payload.empty() || (grandparent != nullptr && !grandparent->payload.empty());
    if (!pending) return;
  }
  Block b;
  BlockHeader& h = b.header;
  h.epoch = config_.epoch;
  h.round = r;
  h.height = parent->header.height + 1;
  h.parent_id = parent->id;
  h.qc_block_id = hqc.block_id;
  h.qc_round = hqc.round;
  h.proposer_index = config_.self_index;
  h.timestamp_ms = std::max(now_ms_, parent->header.timestamp_ms + 1);
  h.committed_height = committed->first;
  h.committed_state_root = committed->second;
  b.qc = hqc;
  b.payload = std::move(payload);
  REEL_ASSERT(b.payload.size() <= config_.block_txs_max);
  std::vector<Hash32> ids;
  for (const std::string& tx : b.payload) ids.push_back(app_->PayloadLeaf(tx));
  h.tx_root = crypto::MerkleRoot(ids);
  h.tx_count = static_cast<uint32_t>(b.payload.size());
  b.Seal(config_.chain_id);
  REEL_ASSERT(safety_.CheckProposal(r).ok());
  Proposal p{std::move(b), std::move(tc), {}};
  p.signature = key_.SignDigest(p.block.id);
  SignedSend(Broadcast{std::move(p)});
}

// --- Fetching missing blocks -----------------------------------------------------------

void Core::RequestFetch(const Hash32& block_id, uint32_t peer) {
  if (fetches_.count(block_id) != 0) return;
  if (fetches_.size() >= limits::consensus_fetches_in_flight_max) return;
  if (peer == config_.self_index) peer = (peer + 1) % config_.validators.n();
  if (peer == config_.self_index) return;  // n = 1: nobody to ask
  fetches_[block_id] = 0;
  out_.push_back(FetchBlocks{peer, block_id, committed_height_});
}

// On each timer expiry, ask the next peer for whatever is still missing.
void Core::RetryFetches() {
  const uint32_t n = static_cast<uint32_t>(config_.validators.n());
  // Give up on a block after asking every peer twice: it may sit on a branch
  // nobody keeps, and the slot is needed for blocks that matter.
  std::erase_if(fetches_, [n](const auto& kv) { return kv.second >= 2 * n; });
  for (auto& [id, attempts] : fetches_) {
    ++attempts;
    uint32_t peer = (config_.self_index + attempts) % n;
    if (peer == config_.self_index) peer = (peer + 1) % n;
    if (peer != config_.self_index) out_.push_back(FetchBlocks{peer, id, committed_height_});
  }
}

Step Core::OnBlocksFetched(uint32_t from, std::vector<Block> blocks) {
  if (ended_) return Finish(Status::FailedPrecondition("this core's epoch has ended"));
  Status status;
  bool progress = false;
  if (blocks.size() > limits::consensus_fetch_blocks_max)
    blocks.resize(limits::consensus_fetch_blocks_max);
  for (Block& block : blocks) {
    block.Seal(config_.chain_id);
    const BlockHeader& h = block.header;
    if (h.height <= committed_height_ || tree_->Find(block.id) != nullptr) continue;
    if (tree_->Find(h.parent_id) == nullptr) {
      status = Status::NotFound("fetched block does not connect");
      break;
    }
    if (h.epoch != config_.epoch || h.parent_id != h.qc_block_id ||
        block.qc.block_id != h.qc_block_id || block.qc.round != h.qc_round ||
        h.round <= h.qc_round || h.proposer_index >= config_.validators.n()) {
      // No leader check: a fetched block counts only once a QC certifies it, and the
      // schedule of an old round may read another history by now.
      status = Status::InvalidArgument("fetched block malformed");
      break;
    }
    if (Status s = VerifyQcCached(block.qc); !s.ok()) {
      status = s;
      break;
    }
    ProcessQc(block.qc, from);
    if (Status s = InsertBlock(block); !s.ok()) {
      status = s;
      break;
    }
    progress = true;
  }
  ResumePending(from);
  if (progress) {
    // A long gap comes in several answers: ask again for what is still missing.
    std::vector<Hash32> still_missing;
    for (const auto& [id, attempts] : fetches_) still_missing.push_back(id);
    fetches_.clear();
    for (const Hash32& id : still_missing) {
      if (tree_->Find(id) == nullptr) RequestFetch(id, from);
    }
  }
  return Finish(status);
}

// Retries QCs and proposals that waited for blocks, and forgets fetches that
// are answered.
void Core::ResumePending(uint32_t from) {
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    it = tree_->Find(it->first) != nullptr ? fetches_.erase(it) : std::next(it);
  }
  std::deque<std::pair<uint32_t, QuorumCert>> qcs;
  qcs.swap(pending_qcs_);
  for (auto& [peer, qc] : qcs) {
    if (tree_->Find(qc.block_id) != nullptr) {
      ProcessQc(qc, peer);
    } else if (qc.height > committed_height_) {
      pending_qcs_.emplace_back(peer, qc);
    }
  }
  std::deque<std::pair<uint32_t, Proposal>> proposals;
  proposals.swap(pending_proposals_);
  for (auto& [peer, p] : proposals) {
    if (p.block.header.height <= committed_height_) continue;
    if (tree_->Find(p.block.header.parent_id) != nullptr) {
      // Its sender is long gone from this call: a refusal only means no vote.
      (void)HandleProposalWithParent(p);
    } else {
      pending_proposals_.emplace_back(peer, std::move(p));
    }
  }
}

}  // namespace reel::consensus
