// Application: the custody state machine as consensus sees it (an ABCI-like
// boundary). The core calls it synchronously from its single thread; it never
// sees peers, votes or rounds.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consensus/types.h"

namespace reel::consensus {

// How much one block may carry (Config::block_txs_max, block_bytes_max).
struct PayloadLimits {
  size_t txs_max = 0;
  size_t bytes_max = 0;
};

class Application {
 public:
  virtual ~Application() = default;

  // Executes a committed block and returns the state root after it. Called
  // exactly once per height, in height order, starting above the height the
  // core was started at. `qc` certifies `block`: store it with the block, for
  // a restart roots its block tree on the last committed block and its QC
  // (StartState). Durable when it returns (the node writes one synced batch
  // per block), so a restart resumes after the last executed block; or, where
  // the driver defers the write to after the step's messages (the replica:
  // node/replica/ledger_app.h), before the driver's next event, with every later
  // call answering as if it were.
  virtual Hash32 ExecuteCommitted(const Block& block, const QuorumCert& qc) = 0;

  // The validators of the next epoch if the committed block at `height`, just executed,
  // ended the epoch (CONSENSUS.md "Epochs"), else nullopt. Asked right after each
  // ExecuteCommitted; deterministic, from committed state alone.
  virtual std::optional<ValidatorSet> EpochEndedAt(uint64_t height) const { return std::nullopt; }

  // The state root after the committed block at `height`, if still known.
  virtual std::optional<Hash32> StateRootAt(uint64_t height) const = 0;

  // The transactions of a new block this replica leads. `uncommitted` are the
  // blocks between the committed one and the new block's parent (inclusive),
  // oldest first: their transactions must be left out. At most `block_limits.txs_max`
  // transactions and `block_limits.bytes_max` bytes of them (the epoch's, which voters
  // check: a larger block gets no vote).
  virtual std::vector<std::string> PayloadForProposal(const std::vector<const Block*>& uncommitted,
                                                      const PayloadLimits& block_limits) = 0;

  // The Merkle leaf datum of one payload entry (for the header's tx_root). It must
  // cover every byte that execution depends on: for REEL the envelope digest, over the
  // transaction id and its signatures (proto/README.md), so that a QC on the header
  // also certifies who signed.
  virtual Hash32 PayloadLeaf(std::string_view tx_bytes) const = 0;

  // Form, size and signature checks of a proposed payload before voting.
  virtual Status ValidatePayload(const Block& block) { return Status::Ok(); }
};

}  // namespace reel::consensus
