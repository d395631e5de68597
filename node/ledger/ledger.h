// The custody state machine (DOMAIN.md) as consensus and the mempool see it: an
// application boundary that never sees peers, votes or rounds.
//
// What it promises
//   - Verify is pure: it reads no state, so it may run on many threads at once.
//   - Check reads only the committed view it is given; it never writes.
//   - ExecuteBlock reads only the committed view, the block context and the
//     transactions, and returns every write the block makes in one WriteBatch; it
//     writes nothing itself. Two nodes that execute the same blocks from the same
//     genesis produce byte-identical batches and the same state root (no floating
//     point, no wall clock, no unordered iteration).
//   - A transaction that breaks a rule is kept with its ErrorCode and a message a
//     person can act on, and changes nothing but its own transaction record.
//
// Failure
//   Rule failures are values (TxResult.code). A storage read error during execution
//   is not a rule failure: ExecuteBlock then returns that Status and no batch, and
//   the node must stop rather than commit a block it could not execute.
//
// docs/LEDGER.md says how the state and indexes are laid out under the 0x05 and 0x06
// prefixes, how the state root is computed, and the rules decided where DOMAIN.md is
// silent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "node/storage/kv.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/tx.pb.h"

namespace reel::ledger {

namespace v1 = ::reel::v1;

// A transaction whose envelope is well formed, whose body parsed, whose chain id is
// ours, and whose every signature verifies over its id. Says nothing yet about whether
// the keys belong to the signer, or about any rule that needs state.
struct VerifiedTx {
  crypto::Hash32 id{};
  // The digest of the whole envelope (EnvelopeDigestOf): what a block commits to, and
  // what a cache of verified transactions must be keyed by, since one id can travel
  // with other signatures.
  crypto::Hash32 envelope_digest{};
  v1::TxBody body;
  // The distinct keys whose signatures verified, in the envelope's order.
  std::vector<crypto::PublicKey> signers;
  size_t envelope_bytes = 0;
};

// Size limits, parsing, chain id, id and signatures. Pure and thread-safe. A refusal
// is an InvalidArgument Status that carries its ErrorCode (ErrorCodeOf) and whose
// message starts with the code's name.
Result<VerifiedTx> Verify(const v1::Transaction& envelope, std::string_view chain_id);

// The envelope digest (crypto::EnvelopeDigest) of an envelope as it travels: its id and
// every signature's bytes. Defined for any envelope, valid or not: it is the leaf of a
// block's tx_root (proto/README.md).
crypto::Hash32 EnvelopeDigestOf(const v1::Transaction& envelope, std::string_view chain_id);

// The rules the mempool applies against committed state before admitting a
// transaction for a block of height `next_height`: replay by id, expiry, the signer's
// current keys and quorum, ACTIVE status, the role the action needs, and the form of
// the action (ids, amounts, compositions, enums, list sizes). Rules that depend on the
// block (its time, earlier transactions in it) are left to ExecuteBlock.
Status Check(const VerifiedTx& tx, const storage::ReadView& committed, uint64_t next_height);

// The signer part of Check alone: the signing organisation exists, is ACTIVE, and the
// envelope's verified keys are its current signatories, at least its quorum. Voters
// run it on every proposed transaction: a leader must not be able to strip or add
// signatures to a pooled transaction and so get it committed as refused, which would
// spend its id and shut out the genuine envelope.
Status CheckSigners(const VerifiedTx& tx, const storage::ReadView& committed);

// CheckSigners for many transactions against one committed view, reading each
// organisation once: a block's transactions share a few signers, and the leader and
// every voter check them all on the round's path. The view must outlive it.
class SignerCheck {
 public:
  explicit SignerCheck(const storage::ReadView& committed);
  ~SignerCheck();
  SignerCheck(const SignerCheck&) = delete;
  SignerCheck& operator=(const SignerCheck&) = delete;
  Status Check(const VerifiedTx& tx);

 private:
  struct View;
  std::unique_ptr<View> view_;
};

// The ErrorCode that Verify or Check put on a refusal (Status::detail); OK for an OK
// status, MALFORMED for a status that carries none.
v1::ErrorCode ErrorCodeOf(const Status& status);

struct BlockContext {
  std::string chain_id;
  uint64_t height = 0;   // > the committed height; the height of the block executed
  uint64_t time_ms = 0;  // the block timestamp (ms since the Unix epoch)
};

struct BlockExecution {
  std::vector<v1::TxResult> results;  // one per transaction, in block order
  crypto::Hash32 state_root{};        // after the block (docs/LEDGER.md, "State root")
  // Every state (0x05), index (0x06) and transaction record (0x04) write of the block,
  // sorted by key. The node adds the block and commit-height records and writes it
  // with sync = true.
  storage::WriteBatch batch;
};

// Executes the transactions of the block at ctx.height over `committed`, which must
// hold the state after ctx.height - 1 (asserted by the stored height).
Result<BlockExecution> ExecuteBlock(const storage::ReadView& committed, const BlockContext& ctx,
                                    const std::vector<VerifiedTx>& txs);

class Overlay;

// ExecuteBlock one transaction at a time, so that a caller can do other work between
// them (the replica prepares the next block between consensus messages). Begin, Add
// each transaction in block order, Finish: the same results, root and batch as
// ExecuteBlock of the same transactions. `committed` must not change and must outlive
// the executor (a snapshot, when other writes may come in between). After a Status
// that is not OK (a storage read failed), the executor is spent.
class BlockExecutor {
 public:
  static Result<std::unique_ptr<BlockExecutor>> Begin(const storage::ReadView& committed,
                                                      BlockContext ctx);
  ~BlockExecutor();
  BlockExecutor(const BlockExecutor&) = delete;
  BlockExecutor& operator=(const BlockExecutor&) = delete;

  Status Add(const VerifiedTx& tx);
  size_t added() const { return out_.results.size(); }
  // Call once, after the last Add.
  Result<BlockExecution> Finish();

 private:
  BlockExecutor(const storage::ReadView& committed, BlockContext ctx);

  const storage::ReadView& committed_;
  const BlockContext ctx_;
  std::unique_ptr<Overlay> block_;
  BlockExecution out_;
};

// The initial state from genesis: organisations, then sites, then quotas, each with the
// rules of its transaction (the signer is the chain itself). InvalidArgument naming the
// entry and its ErrorCode when one breaks a rule, or when no organisation holds
// ROLE_REGULATOR. Height 0; the batch holds the state and indexes and the root of
// height 0. The node adds block 0, chain id, schema version and commit height.
Result<BlockExecution> ExecuteGenesis(const v1::Genesis& genesis);

// The state root stored after the last executed height (all zero for an empty store).
Result<crypto::Hash32> StateRoot(const storage::ReadView& view);
// The last executed height and block time (0 for an empty store or after genesis).
Result<uint64_t> ExecutedHeight(const storage::ReadView& view);
Result<uint64_t> ExecutedTimeMs(const storage::ReadView& view);

// For tests and tools: writes `execution.batch` plus the commit-height record of
// `height` to `store`, synced.
Status CommitForTest(storage::KvStore& store, const BlockExecution& execution, uint64_t height);

}  // namespace reel::ledger
