// The key layout of a node's LevelDB store; KEYS.md documents it in full.
//
// Every key starts with one prefix byte naming its record kind; integers inside
// keys are fixed-width big-endian, so that the store's bytewise order is their
// numeric order (blocks iterate by height). Values are protobuf bytes defined in
// proto/, except the few meta values documented in KEYS.md.
//
// Key builders assert on what only a bug could get wrong (an id of the wrong
// length): validate ids from clients and peers at the boundary first. Decoders
// read bytes from disk and return kCorruption for a malformed one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace reel::storage::keys {

enum class Prefix : uint8_t {
  kMeta = 0x01,             // committed height, chain id, schema version
  kBlockByHeight = 0x02,    // u64 height -> block
  kBlockHeightById = 0x03,  // block id -> u64 height
  kTxById = 0x04,           // tx id -> (height, index, result)
  kState = 0x05,            // ledger-owned sub-layout: custody state records
  kIndex = 0x06,            // ledger-owned sub-layout: query indexes
  kConsensus = 0x07,        // consensus-owned: the safety state
};

// Written in the genesis batch; a node refuses a store of another version.
// 2: tx_root commits to envelope digests (proto/README.md), so blocks of 1 do not verify.
inline constexpr uint32_t kSchemaVersion = 2;
inline constexpr size_t kHeightBytes = 8;
inline constexpr size_t kIdBytes = 32;  // block and transaction ids: BLAKE2b-256

// The one-byte key every key of this kind starts with: a prefix for ScanPrefix.
std::string PrefixKey(Prefix prefix);

// Heights as 8 big-endian bytes: bytewise order of encodings = numeric order.
std::string EncodeHeight(uint64_t height);
// kCorruption unless `bytes` is exactly 8 bytes.
Result<uint64_t> DecodeHeight(std::string_view bytes);

// --- Meta ---------------------------------------------------------------------
// The height of the last committed block, written in the same batch as the block:
// the store holds exactly the blocks 0..this height. Value: EncodeHeight.
std::string CommitHeightKey();
// Value: the UTF-8 chain id from genesis.
std::string ChainIdKey();
// Value: u32 big-endian, kSchemaVersion when written.
std::string SchemaVersionKey();

// --- Blocks and transactions --------------------------------------------------
std::string BlockKey(uint64_t height);
// The height inside a BlockKey; kCorruption if `key` is not one.
Result<uint64_t> HeightFromBlockKey(std::string_view key);
std::string BlockHeightByIdKey(std::string_view block_id);  // block_id: kIdBytes
std::string TxKey(std::string_view tx_id);                  // tx_id: kIdBytes

// --- Ledger-owned and consensus-owned spaces ----------------------------------
// The ledger lays out its records below these prefixes (its own doc says how).
std::string StateKey(std::string_view ledger_key);
std::string IndexKey(std::string_view ledger_key);
// The consensus safety state: highest voted round, highest timed-out round, highest QC.
std::string SafetyStateKey();
// The QC that certifies the committed block at `height` (with the next block's QC,
// it proves the commit). Value: reel.v1.QuorumCert.
std::string CommitQcKey(uint64_t height);
// A block accepted into the consensus block tree but not committed yet, so that a
// restarted replica resumes with it. Value: reel.v1.Block. Deleted once committed.
std::string PendingBlockKey(std::string_view block_id);  // block_id: kIdBytes
// The ledger's state root after the committed block at `height`, which later block
// headers carry and voters check. Value: 32 bytes.
std::string StateRootKey(uint64_t height);
std::string PendingBlockPrefix();
// The commit proof of the newest committed block (its child is not committed yet, so
// the QCs that prove it are nowhere else on disk). Value: reel.v1.CommitProof;
// replaced after every commit.
std::string CommitTipKey();
// The end of epoch `epoch`: the height of the block that ended it and that block's
// commit proof by the epoch it ends (its descendants are of no later epoch, so no
// committed record holds them). Value: reel.v1.EpochEnd; written once.
std::string EpochEndKey(uint64_t epoch);
std::string EpochEndPrefix();
// The epoch-change proof of epoch `epoch`'s end (a quorum of that epoch signed the next
// set), once this node holds one it verified. Value: reel.v1.EpochChangeProof; written
// once.
std::string EpochProofKey(uint64_t epoch);
std::string EpochProofPrefix();

}  // namespace reel::storage::keys
