#include "node/replica/chain_store.h"

#include "base/bytes.h"
#include "node/ledger/ledger.h"
#include "node/ledger/validators.h"
#include "node/replica/codec.h"
#include "node/replica/internal.h"
#include "node/storage/keys.h"

namespace reel::replica {

namespace keys = storage::keys;
using internal::IdBytes;

namespace {

std::string U32BE(uint32_t v) {
  std::string out;
  AppendU32BE(out, v);
  return out;
}

template <typename Message>
Result<std::optional<Message>> ReadProto(const storage::ReadView& store, const std::string& key,
                                         const char* what) {
  Result<std::optional<std::string>> raw = store.Get(key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<Message>();
  Message message;
  if (!message.ParseFromString(**raw)) {
    return Status::Corruption(std::string("stored ") + what + " does not decode");
  }
  return std::optional<Message>(std::move(message));
}

}  // namespace

Result<uint64_t> CommittedHeight(const storage::ReadView& store) {
  Result<std::optional<std::string>> raw = store.Get(keys::CommitHeightKey());
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return Status::Corruption("the store has no commit height");
  return keys::DecodeHeight(**raw);
}

Status Initialize(storage::KvStore& store, const v1::Genesis& genesis, uint64_t epoch) {
  Result<std::optional<std::string>> chain = store.Get(keys::ChainIdKey());
  if (!chain.ok()) return chain.status();
  if (chain->has_value()) {
    if (**chain != genesis.chain_id()) {
      return Status::FailedPrecondition("the data folder holds chain '" + **chain +
                                        "' but genesis names chain '" + genesis.chain_id() +
                                        "': point the node at its own data folder");
    }
    Result<std::optional<std::string>> schema = store.Get(keys::SchemaVersionKey());
    if (!schema.ok()) return schema.status();
    if (!schema->has_value() || **schema != U32BE(keys::kSchemaVersion)) {
      return Status::FailedPrecondition("the data folder was written with another schema version");
    }
    return CommittedHeight(store).status();
  }

  Result<ledger::BlockExecution> state = ledger::ExecuteGenesis(genesis);
  if (!state.ok()) return state.status();
  const consensus::Block block0 = consensus::MakeGenesisBlock(genesis.chain_id(), epoch);
  storage::WriteBatch batch = std::move(state->batch);
  batch.Put(keys::BlockKey(0), ToProto(block0).SerializeAsString());
  batch.Put(keys::BlockHeightByIdKey(IdBytes(block0.id)), keys::EncodeHeight(0));
  batch.Put(keys::CommitQcKey(0), ToProto(consensus::MakeGenesisQc(block0)).SerializeAsString());
  batch.Put(keys::StateRootKey(0), crypto::AsBytes(state->state_root));
  batch.Put(keys::ChainIdKey(), genesis.chain_id());
  batch.Put(keys::SchemaVersionKey(), U32BE(keys::kSchemaVersion));
  batch.Put(keys::CommitHeightKey(), keys::EncodeHeight(0));
  return store.Write(batch, /*sync=*/true);
}

Result<v1::Block> ReadCommittedBlock(const storage::ReadView& store, uint64_t height) {
  Result<std::optional<v1::Block>> block =
      ReadProto<v1::Block>(store, keys::BlockKey(height), "block");
  if (!block.ok()) return block.status();
  if (!block->has_value())
    return Status::NotFound("no committed block at height " + std::to_string(height));
  return std::move(**block);
}

Result<consensus::StartState> LoadStartState(const storage::ReadView& store,
                                             const std::string& chain_id, size_t history_blocks) {
  consensus::StartState start;
  Result<uint64_t> height = CommittedHeight(store);
  if (!height.ok()) return height.status();

  Result<v1::Block> stored = ReadCommittedBlock(store, *height);
  if (!stored.ok())
    return Status::Corruption("committed block " + std::to_string(*height) + ": " +
                              stored.status().message());
  Result<consensus::Block> block = FromProto(*stored, chain_id);
  if (!block.ok()) return Status::Corruption("committed block: " + block.status().message());
  start.committed_block = std::move(block).value();
  const uint64_t oldest = *height + 1 > history_blocks ? *height + 1 - history_blocks : 0;
  for (uint64_t h = oldest; h < *height; ++h) {
    Result<v1::Block> older = ReadCommittedBlock(store, h);
    if (!older.ok())
      return Status::Corruption("committed block " + std::to_string(h) + ": " +
                                older.status().message());
    Result<consensus::BlockHeader> header = FromProto(older->header());
    if (!header.ok())
      return Status::Corruption("committed block " + std::to_string(h) + ": " +
                                header.status().message());
    start.recent_committed.push_back(*header);
  }
  start.recent_committed.push_back(start.committed_block.header);

  Result<std::optional<v1::QuorumCert>> qc =
      ReadProto<v1::QuorumCert>(store, keys::CommitQcKey(*height), "commit QC");
  if (!qc.ok()) return qc.status();
  if (!qc->has_value())
    return Status::Corruption("no QC stored for committed height " + std::to_string(*height));
  Result<consensus::QuorumCert> decoded_qc = FromProto(**qc);
  if (!decoded_qc.ok()) return Status::Corruption("commit QC: " + decoded_qc.status().message());
  start.committed_qc = std::move(decoded_qc).value();

  Result<std::optional<v1::SafetyStateRecord>> safety =
      ReadProto<v1::SafetyStateRecord>(store, keys::SafetyStateKey(), "safety state");
  if (!safety.ok()) return safety.status();
  if (safety->has_value()) {
    const v1::SafetyStateRecord& r = **safety;
    consensus::SafetyState s;
    s.epoch = r.epoch();
    s.highest_voted_round = r.highest_voted_round();
    s.highest_timeout_round = r.highest_timeout_round();
    s.highest_proposed_round = r.highest_proposed_round();
    Result<consensus::QuorumCert> high_qc = FromProto(r.high_qc());
    if (!high_qc.ok()) return Status::Corruption("safety state: " + high_qc.status().message());
    s.high_qc = std::move(high_qc).value();
    if (r.has_high_tc()) {
      // Liveness only, and checked by the core before use: a damaged one is dropped.
      Result<consensus::TimeoutCert> high_tc = FromProto(r.high_tc());
      if (high_tc.ok()) s.high_tc = std::move(high_tc).value();
    }
    start.safety = std::move(s);
  }

  Status scan = storage::ScanPrefix(
      store, keys::PendingBlockPrefix(), [&](std::string_view, std::string_view value) {
        v1::Block pending;
        if (!pending.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
        Result<consensus::Block> b = FromProto(pending, chain_id);
        // A damaged pending block is only a cache miss:
        // the core fetches it again from peers.
        if (b.ok()) start.stored_blocks.push_back(std::move(b).value());
        return true;
      });
  if (!scan.ok()) return scan;
  return start;
}

void PutSafetyState(storage::WriteBatch& batch, const consensus::SafetyState& s) {
  v1::SafetyStateRecord r;
  r.set_epoch(s.epoch);
  r.set_highest_voted_round(s.highest_voted_round);
  r.set_highest_timeout_round(s.highest_timeout_round);
  r.set_highest_proposed_round(s.highest_proposed_round);
  *r.mutable_high_qc() = ToProto(s.high_qc);
  if (s.high_tc) *r.mutable_high_tc() = ToProto(*s.high_tc);
  batch.Put(keys::SafetyStateKey(), r.SerializeAsString());
}

Result<consensus::ValidatorSet> KeysOf(const v1::ValidatorSet& set) {
  consensus::ValidatorSet keys;
  for (const v1::Validator& v : set.validators()) {
    crypto::PublicKey key{};
    if (v.public_key().size() != key.size()) {
      return Status::InvalidArgument("validator '" + v.name() + "' has no 32-byte key");
    }
    std::copy(v.public_key().begin(), v.public_key().end(), key.begin());
    keys.keys.push_back(key);
  }
  if (keys.n() == 0 || keys.n() > limits::validators_max) {
    return Status::InvalidArgument("a set of " + std::to_string(keys.n()) + " validators");
  }
  return keys;
}

consensus::VerifyContext EpochState::Context(std::string_view chain_id) const {
  consensus::VerifyContext ctx;
  ctx.chain_id = chain_id;
  ctx.epoch = epoch;
  ctx.validators = &keys;
  ctx.epoch_root_id = root_id;
  return ctx;
}

std::optional<uint32_t> EpochState::IndexOf(const crypto::PublicKey& key) const {
  for (uint32_t i = 0; i < keys.keys.size(); ++i) {
    if (keys.keys[i] == key) return i;
  }
  return std::nullopt;
}

Result<EpochState> ReadEpoch(const storage::ReadView& store, const std::string& chain_id) {
  Result<v1::ValidatorSet> set = ledger::CurrentValidatorSet(store);
  if (!set.ok()) return set.status();
  EpochState e;
  e.epoch = set->epoch();
  e.root_height = set->start_height();
  Result<consensus::ValidatorSet> keys = KeysOf(*set);
  if (!keys.ok()) {
    return Status::Corruption("epoch " + std::to_string(e.epoch) + ": " + keys.status().message());
  }
  e.keys = *std::move(keys);
  e.set = *std::move(set);
  Result<v1::Block> root = ReadCommittedBlock(store, e.root_height);
  if (!root.ok()) return root.status();
  Result<consensus::Block> block = FromProto(*root, chain_id);
  if (!block.ok()) return Status::Corruption("epoch root block: " + block.status().message());
  e.root_id = block->id;
  return e;
}

void PutEpochEnd(storage::WriteBatch& batch, uint64_t epoch, uint64_t height,
                 const v1::CommitProof& proof, const v1::ValidatorSet& set) {
  REEL_ASSERT(set.epoch() == epoch);
  v1::EpochEnd end;
  end.set_epoch(epoch);
  end.set_height(height);
  *end.mutable_proof() = proof;
  *end.mutable_set() = set;
  batch.Put(keys::EpochEndKey(epoch), end.SerializeAsString());
}

Result<std::optional<v1::EpochEnd>> ReadEpochEnd(const storage::ReadView& store, uint64_t epoch) {
  return ReadProto<v1::EpochEnd>(store, keys::EpochEndKey(epoch), "epoch end");
}

Result<std::optional<EpochState>> ReadEndedEpoch(const storage::ReadView& store,
                                                 const std::string& chain_id, uint64_t epoch) {
  Result<std::optional<v1::EpochEnd>> end = ReadEpochEnd(store, epoch);
  if (!end.ok()) return end.status();
  if (!end->has_value() || !(*end)->has_set()) return std::optional<EpochState>();
  EpochState e;
  e.epoch = epoch;
  e.set = (*end)->set();
  e.root_height = e.set.start_height();
  Result<consensus::ValidatorSet> keys = KeysOf(e.set);
  if (!keys.ok()) {
    return Status::Corruption("the end of epoch " + std::to_string(epoch) + ": " +
                              keys.status().message());
  }
  e.keys = *std::move(keys);
  Result<v1::Block> root = ReadCommittedBlock(store, e.root_height);
  if (!root.ok()) return root.status();
  Result<consensus::Block> block = FromProto(*root, chain_id);
  if (!block.ok()) return Status::Corruption("epoch root block: " + block.status().message());
  e.root_id = block->id;
  return std::optional<EpochState>(std::move(e));
}

void PutEpochProof(storage::WriteBatch& batch, const v1::EpochChangeProof& proof) {
  batch.Put(keys::EpochProofKey(proof.epoch()), proof.SerializeAsString());
}

Result<std::optional<v1::EpochChangeProof>> ReadEpochProof(const storage::ReadView& store,
                                                           uint64_t epoch) {
  return ReadProto<v1::EpochChangeProof>(store, keys::EpochProofKey(epoch), "epoch-change proof");
}

Result<std::vector<v1::EpochChangeProof>> ReadEpochProofs(const storage::ReadView& store,
                                                          uint64_t from, uint64_t to, size_t max) {
  std::vector<v1::EpochChangeProof> out;
  for (uint64_t e = from; e < to && out.size() < max; ++e) {
    Result<std::optional<v1::EpochChangeProof>> proof = ReadEpochProof(store, e);
    if (!proof.ok()) return proof.status();
    if (!proof->has_value()) break;
    out.push_back(std::move(**proof));
  }
  return out;
}

Result<v1::QuorumCert> ReadCommitQc(const storage::ReadView& store, uint64_t height) {
  Result<std::optional<std::string>> raw = store.Get(keys::CommitQcKey(height));
  if (!raw.ok()) return raw.status();
  v1::QuorumCert qc;
  if (!raw->has_value() || !qc.ParseFromString(**raw)) {
    return Status::Corruption("no readable commit QC is stored for committed block " +
                              std::to_string(height));
  }
  return qc;
}

}  // namespace reel::replica
