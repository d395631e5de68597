#include "node/storage/keys.h"

#include "base/assert.h"
#include "base/bytes.h"

namespace reel::storage::keys {
namespace {

std::string WithPrefix(Prefix prefix, std::string_view rest) {
  std::string key;
  key.reserve(1 + rest.size());
  key.push_back(static_cast<char>(prefix));
  key.append(rest);
  return key;
}

}  // namespace

std::string PrefixKey(Prefix prefix) {
  return WithPrefix(prefix, {});
}

std::string EncodeHeight(uint64_t height) {
  std::string out;
  out.reserve(kHeightBytes);
  AppendU64BE(out, height);
  return out;
}

Result<uint64_t> DecodeHeight(std::string_view bytes) {
  if (bytes.size() != kHeightBytes) {
    return Status::Corruption("a stored height has " + std::to_string(bytes.size()) +
                              " bytes, expected " + std::to_string(kHeightBytes));
  }
  return ReadU64BE(bytes);
}

std::string CommitHeightKey() {
  return WithPrefix(Prefix::kMeta, "commit_height");
}
std::string ChainIdKey() {
  return WithPrefix(Prefix::kMeta, "chain_id");
}
std::string SchemaVersionKey() {
  return WithPrefix(Prefix::kMeta, "schema_version");
}

std::string BlockKey(uint64_t height) {
  return WithPrefix(Prefix::kBlockByHeight, EncodeHeight(height));
}

Result<uint64_t> HeightFromBlockKey(std::string_view key) {
  if (key.empty() || static_cast<uint8_t>(key[0]) != static_cast<uint8_t>(Prefix::kBlockByHeight)) {
    return Status::Corruption("not a block key");
  }
  return DecodeHeight(key.substr(1));
}

std::string BlockHeightByIdKey(std::string_view block_id) {
  REEL_ASSERT(block_id.size() == kIdBytes);
  return WithPrefix(Prefix::kBlockHeightById, block_id);
}

std::string TxKey(std::string_view tx_id) {
  REEL_ASSERT(tx_id.size() == kIdBytes);
  return WithPrefix(Prefix::kTxById, tx_id);
}

std::string StateKey(std::string_view ledger_key) {
  return WithPrefix(Prefix::kState, ledger_key);
}
std::string IndexKey(std::string_view ledger_key) {
  return WithPrefix(Prefix::kIndex, ledger_key);
}
std::string SafetyStateKey() {
  return WithPrefix(Prefix::kConsensus, "safety_state");
}

std::string CommitQcKey(uint64_t height) {
  return WithPrefix(Prefix::kConsensus, "commit_qc/" + EncodeHeight(height));
}

std::string CommitTipKey() {
  return WithPrefix(Prefix::kConsensus, "commit_tip");
}

std::string EpochEndPrefix() {
  return WithPrefix(Prefix::kConsensus, "epoch_end/");
}

std::string EpochEndKey(uint64_t epoch) {
  return EpochEndPrefix() + EncodeHeight(epoch);
}

std::string EpochProofPrefix() {
  return WithPrefix(Prefix::kConsensus, "epoch_proof/");
}

std::string EpochProofKey(uint64_t epoch) {
  return EpochProofPrefix() + EncodeHeight(epoch);
}

std::string StateRootKey(uint64_t height) {
  return WithPrefix(Prefix::kConsensus, "state_root/" + EncodeHeight(height));
}

std::string PendingBlockPrefix() {
  return WithPrefix(Prefix::kConsensus, "pending/");
}

std::string PendingBlockKey(std::string_view block_id) {
  REEL_ASSERT(block_id.size() == kIdBytes);
  return PendingBlockPrefix() + std::string(block_id);
}

}  // namespace reel::storage::keys
