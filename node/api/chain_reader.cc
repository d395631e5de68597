#include "node/api/chain_reader.h"

#include <algorithm>

#include "base/bytes.h"
#include "base/limits.h"
#include "consensus/types.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "node/ledger/ledger.h"
#include "node/ledger/state.h"
#include "node/ledger/validators.h"
#include "node/replica/chain_store.h"
#include "node/replica/commit_proof.h"
#include "node/storage/keys.h"

namespace reel::api {
namespace {

namespace keys = storage::keys;

template <typename Message>
Result<std::optional<Message>> ReadRecord(const storage::ReadView& view, const std::string& key,
                                          std::string_view what) {
  Result<std::optional<std::string>> got = view.Get(key);
  if (!got.ok()) return got.status();
  if (!got->has_value()) return std::optional<Message>();
  Message message;
  if (!message.ParseFromString(**got)) {
    return Status::Corruption("stored " + std::string(what) + " does not parse");
  }
  return std::optional<Message>(std::move(message));
}

}  // namespace

std::vector<crypto::Hash32> TxIds(std::string_view chain_id, const v1::Block& block) {
  std::vector<crypto::Hash32> ids;
  ids.reserve(block.txs_size());
  for (const v1::Transaction& tx : block.txs()) {
    ids.push_back(crypto::TransactionId(chain_id, tx.body()));
  }
  return ids;
}

std::vector<crypto::Hash32> TxLeaves(std::string_view chain_id, const v1::Block& block) {
  std::vector<crypto::Hash32> leaves;
  leaves.reserve(block.txs_size());
  for (const v1::Transaction& tx : block.txs()) {
    leaves.push_back(ledger::EnvelopeDigestOf(tx, chain_id));
  }
  return leaves;
}

Result<crypto::Hash32> BlockIdOf(std::string_view chain_id, const v1::BlockHeader& header) {
  Result<crypto::Hash32> id = replica::HeaderId(header, chain_id);
  if (!id.ok()) return Status::Corruption("stored block header: " + id.status().message());
  return id;
}

Result<ChainReader> ChainReader::Open(const storage::ReadView& view, std::string chain_id) {
  Result<std::optional<std::string>> got = view.Get(keys::CommitHeightKey());
  if (!got.ok()) return got.status();
  if (!got->has_value()) {
    return Status::FailedPrecondition(
        "the node has no committed chain yet (genesis is not written); retry once it has started");
  }
  Result<uint64_t> height = keys::DecodeHeight(**got);
  if (!height.ok()) return height.status();
  return ChainReader(view, std::move(chain_id), *height);
}

Result<v1::Block> ChainReader::BlockAt(uint64_t height) const {
  if (height > committed_height_) {
    return Status::NotFound("block " + std::to_string(height) + " is not committed; the " +
                            "committed height is " + std::to_string(committed_height_));
  }
  Result<std::optional<v1::Block>> block =
      ReadRecord<v1::Block>(*view_, keys::BlockKey(height), "block");
  if (!block.ok()) return block.status();
  if (!block->has_value()) {
    return Status::Corruption("block " + std::to_string(height) + " is missing below the " +
                              "committed height " + std::to_string(committed_height_));
  }
  return std::move(**block);
}

Result<uint64_t> ChainReader::HeightOfBlock(std::string_view block_id) const {
  REEL_ASSERT(block_id.size() == keys::kIdBytes);
  Result<std::optional<std::string>> got = view_->Get(keys::BlockHeightByIdKey(block_id));
  if (!got.ok()) return got.status();
  if (!got->has_value()) {
    return Status::NotFound("no committed block has id " + ToHex(block_id) + " (as of height " +
                            std::to_string(committed_height_) + ")");
  }
  return keys::DecodeHeight(**got);
}

Result<std::optional<v1::GetTransactionResponse>> ChainReader::TxRecord(
    const crypto::Hash32& tx_id) const {
  return ReadRecord<v1::GetTransactionResponse>(*view_, keys::TxKey(crypto::AsBytes(tx_id)),
                                                "transaction record");
}

Result<std::vector<v1::TxResult>> ChainReader::BlockResults(const v1::Block& block) const {
  const uint64_t height = block.header().height();
  std::vector<v1::TxResult> results;
  results.reserve(block.txs_size());
  const std::vector<crypto::Hash32> ids = TxIds(chain_id_, block);
  for (uint32_t i = 0; i < ids.size(); ++i) {
    Result<std::optional<v1::GetTransactionResponse>> record = TxRecord(ids[i]);
    if (!record.ok()) return record.status();
    if (!record->has_value()) {
      return Status::Corruption("block " + std::to_string(height) + " transaction " +
                                std::to_string(i) + " has no transaction record");
    }
    const v1::GetTransactionResponse& r = **record;
    if (r.height() == height && r.tx_index() == i) {
      results.push_back(r.result());
      continue;
    }
    // The ledger keeps the first record of an id; a repeat of it only failed.
    v1::TxResult duplicate;
    duplicate.set_code(v1::DUPLICATE_TX);
    duplicate.set_message("transaction " + crypto::HashToHex(ids[i]) +
                          " was already committed at height " + std::to_string(r.height()) +
                          ", index " + std::to_string(r.tx_index()));
    results.push_back(std::move(duplicate));
  }
  return results;
}

Result<std::vector<v1::Event>> ChainReader::EventsOf(const v1::Block& block) const {
  const uint64_t height = block.header().height();
  std::vector<v1::Event> events;
  events.reserve(block.txs_size());
  bool parsed = true;
  Status scan = storage::ScanRange(
      *view_, ledger::layout::EventKey(height, 0), ledger::layout::EventKey(height + 1, 0),
      [&](std::string_view, std::string_view value) {
        parsed = events.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()));
        return parsed;
      });
  if (!scan.ok()) return scan;
  if (!parsed)
    return Status::Corruption("an event of block " + std::to_string(height) + " does not parse");
  if (events.size() != static_cast<size_t>(block.txs_size())) {
    return Status::Corruption("block " + std::to_string(height) + " has " +
                              std::to_string(block.txs_size()) + " transactions but " +
                              std::to_string(events.size()) + " indexed events");
  }
  return events;
}

Result<v1::GetTransactionResponse> ChainReader::CommittedTransaction(
    const crypto::Hash32& tx_id) const {
  Result<std::optional<v1::GetTransactionResponse>> record = TxRecord(tx_id);
  if (!record.ok()) return record.status();
  if (!record->has_value()) {
    return Status::NotFound("transaction " + crypto::HashToHex(tx_id) + " is not committed " +
                            "(as of height " + std::to_string(committed_height_) + ")");
  }
  v1::GetTransactionResponse response = std::move(**record);
  Result<v1::Block> block = BlockAt(response.height());
  if (!block.ok()) return block.status();
  const std::vector<crypto::Hash32> ids = TxIds(chain_id_, *block);
  const uint32_t index = response.tx_index();
  if (index >= ids.size() || ids[index] != tx_id) {
    return Status::Corruption("the record of transaction " + crypto::HashToHex(tx_id) +
                              " points at block " + std::to_string(response.height()) + " index " +
                              std::to_string(index) + ", which holds another");
  }
  response.set_status(v1::TX_STATUS_COMMITTED);
  *response.mutable_transaction() = block->txs(static_cast<int>(index));
  for (const crypto::Hash32& sibling : crypto::MerklePath(TxLeaves(chain_id_, *block), index)) {
    response.add_merkle_path(std::string(crypto::AsBytes(sibling)));
  }
  *response.mutable_header() = block->header();
  Result<std::optional<v1::CommitProof>> proof = CommitProofOf(response.height());
  if (!proof.ok()) return proof.status();
  if (proof->has_value()) *response.mutable_commit_proof() = std::move(**proof);
  return response;
}

Result<v1::GetEpochProofsResponse> ChainReader::EpochProofs(uint64_t from_epoch) const {
  Result<v1::ValidatorSet> set = ledger::CurrentValidatorSet(*view_);
  if (!set.ok()) return set.status();
  const uint64_t current = set->epoch();
  if (from_epoch > current) {
    return Status::NotFound("epoch " + std::to_string(from_epoch) +
                            " has not begun: the current epoch is " + std::to_string(current));
  }
  Result<std::vector<v1::EpochChangeProof>> proofs =
      replica::ReadEpochProofs(*view_, from_epoch, current, limits::api_epoch_proofs_page_max);
  if (!proofs.ok()) return proofs.status();
  v1::GetEpochProofsResponse response;
  response.set_current_epoch(current);
  response.set_next_from_epoch(from_epoch + proofs->size());
  response.set_complete(response.next_from_epoch() == current);
  for (v1::EpochChangeProof& proof : *proofs) *response.add_proofs() = std::move(proof);
  return response;
}

Result<std::optional<v1::CommitProof>> ChainReader::CommitProofOf(uint64_t height) const {
  return replica::ReadCommitProof(*view_, chain_id_, height, committed_height_);
}

}  // namespace reel::api
