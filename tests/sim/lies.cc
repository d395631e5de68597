#include "tests/sim/lies.h"

#include <algorithm>
#include <array>

#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "node/ledger/ledger.h"
#include "node/replica/codec.h"

namespace reel::sim {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Lie::kCount)> kLieNames = {
    "alter-signature",
    "remove-signatures",
    "extra-signature",
    "repeat-in-block",
    "repeat-committed",
    "equivocate",
    "withhold-proposal",
    "withhold-vote",
    "bad-signature-timeout",
    "wrong-round-timeout",
    "other-epoch-timeout",
    "crafted-tc",
    "crafted-qc",
    "stale-timeout",
    "spoofed-sender",
    "flood",
    "range-signature",
    "range-drop-tx",
    "range-header",
    "range-height",
    "fetch-signature",
    "fetch-drop-tx",
    "fetch-header"};

template <typename T>
T RandomBytes(Rng& rng) {
  T bytes{};
  for (auto& b : bytes) b = static_cast<uint8_t>(rng.Next());
  return bytes;
}

std::string Bytes(const auto& array) {
  return std::string(array.begin(), array.end());
}

std::vector<v1::Transaction> Envelopes(const consensus::Block& block) {
  std::vector<v1::Transaction> txs(block.payload.size());
  for (size_t i = 0; i < txs.size(); ++i) REEL_ASSERT(txs[i].ParseFromString(block.payload[i]));
  return txs;
}

// Puts `txs` in the block, with the header that commits to them, a new id, and the
// liar's signature as leader.
void Reseal(consensus::Proposal* p, const std::vector<v1::Transaction>& txs, const Liar& liar) {
  consensus::Block& b = p->block;
  b.payload.clear();
  std::vector<crypto::Hash32> leaves;
  for (const v1::Transaction& tx : txs) {
    b.payload.push_back(tx.SerializeAsString());
    leaves.push_back(ledger::EnvelopeDigestOf(tx, liar.chain_id));
  }
  b.header.tx_count = static_cast<uint32_t>(txs.size());
  b.header.tx_root = crypto::MerkleRoot(leaves);
  b.Seal(liar.chain_id);
  p->signature = liar.key->SignDigest(b.id);
}

// The index of a random transaction of `txs` that satisfies `fits`, after adding
// `known` when none does; nullopt when there is still none.
template <typename Fits>
std::optional<size_t> PickTx(std::vector<v1::Transaction>* txs,
                             const std::optional<v1::Transaction>& known, Rng& rng, Fits fits) {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < txs->size(); ++i) {
    if (fits((*txs)[i])) candidates.push_back(i);
  }
  if (candidates.empty() && known && fits(*known)) {
    txs->push_back(*known);
    candidates.push_back(txs->size() - 1);
  }
  if (candidates.empty()) return std::nullopt;
  return candidates[rng.Uniform(0, candidates.size() - 1)];
}

void FlipByte(std::string* bytes, Rng& rng) {
  REEL_ASSERT(!bytes->empty());
  (*bytes)[rng.Uniform(0, bytes->size() - 1)] ^= static_cast<char>(1 << rng.Uniform(0, 7));
}

consensus::Timeout SignedTimeout(uint64_t epoch, uint64_t round, const Liar& liar) {
  consensus::Timeout t;
  t.epoch = epoch;
  t.round = round;
  t.high_qc = consensus::MakeGenesisQc(consensus::MakeGenesisBlock(liar.chain_id, liar.epoch));
  t.signer = liar.index;
  t.signature = liar.key->SignDigest(consensus::TimeoutDigest(liar.chain_id, epoch, round, 0));
  return t;
}

// `count` distinct validators' signatures, the liar's own genuine one among them and
// the rest junk; or the liar's alone, repeated (a certificate that counts one signer
// many times).
template <typename Entry, typename Make>
std::vector<Entry> ForgedSigners(const Liar& liar, Rng& rng, Make make) {
  const size_t quorum = liar.validators->quorum();
  std::vector<Entry> signers;
  const bool repeat = rng.Chance(0.5);
  for (uint32_t k = 0; signers.size() < quorum; ++k) {
    const uint32_t index = repeat ? liar.index : k % static_cast<uint32_t>(liar.validators->n());
    signers.push_back(make(index, index == liar.index));
  }
  return signers;
}

// Alters one of `blocks` (a range or a fetch answer): a signature byte flipped (0), a
// transaction dropped (1), or a header field changed (2, also when no block has a
// transaction).
int AlterBlocks(const std::vector<v1::Block*>& blocks, Rng& rng) {
  std::vector<v1::Block*> with_txs;
  for (v1::Block* b : blocks) {
    if (b->txs_size() > 0) with_txs.push_back(b);
  }
  const int kind = with_txs.empty() ? 2 : static_cast<int>(rng.Uniform(0, 2));
  if (kind == 2) {
    v1::BlockHeader* h = blocks[rng.Uniform(0, blocks.size() - 1)]->mutable_header();
    h->set_timestamp_ms(h->timestamp_ms() + 1);
    return kind;
  }
  v1::Block* b = with_txs[rng.Uniform(0, with_txs.size() - 1)];
  const int j = static_cast<int>(rng.Uniform(0, b->txs_size() - 1));
  if (kind == 0 && b->txs(j).signatures_size() > 0) {
    FlipByte(b->mutable_txs(j)->mutable_signatures(0)->mutable_signature(), rng);
    return 0;
  }
  b->mutable_txs()->DeleteSubrange(j, 1);
  return 1;
}

}  // namespace

std::string_view LieName(Lie lie) {
  return kLieNames[static_cast<size_t>(lie)];
}

std::optional<consensus::Proposal> ForgeEnvelopes(const consensus::Proposal& honest, Lie lie,
                                                  const std::optional<v1::Transaction>& known,
                                                  const std::optional<v1::Transaction>& committed,
                                                  const Liar& liar, Rng& rng) {
  std::vector<v1::Transaction> txs = Envelopes(honest.block);
  auto any = [](const v1::Transaction&) { return true; };
  auto signed_tx = [](const v1::Transaction& tx) { return tx.signatures_size() > 0; };
  std::optional<size_t> i;
  switch (lie) {
    case Lie::kAlterSignature:
      if (!(i = PickTx(&txs, known, rng, signed_tx))) return std::nullopt;
      FlipByte(txs[*i].mutable_signatures(0)->mutable_signature(), rng);
      break;
    case Lie::kRemoveSignatures:
      if (!(i = PickTx(&txs, known, rng, signed_tx))) return std::nullopt;
      txs[*i].clear_signatures();
      break;
    case Lie::kExtraSignature: {
      if (!(i = PickTx(&txs, known, rng, any))) return std::nullopt;
      v1::Signature* extra = txs[*i].add_signatures();
      extra->set_public_key(Bytes(liar.key->public_key()));
      if (rng.Chance(0.5)) {
        extra->set_signature(Bytes(RandomBytes<crypto::Signature>(rng)));
      } else {  // valid, by a key that is no signatory of the organisation
        const crypto::Hash32 id = crypto::TransactionId(liar.chain_id, txs[*i].body());
        extra->set_signature(Bytes(liar.key->SignDigest(id)));
      }
      break;
    }
    case Lie::kRepeatInBlock:
      if (!(i = PickTx(&txs, known, rng, any))) return std::nullopt;
      txs.push_back(txs[*i]);
      break;
    case Lie::kRepeatCommitted:
      if (!committed) return std::nullopt;
      txs.insert(txs.begin() + static_cast<ptrdiff_t>(rng.Uniform(0, txs.size())), *committed);
      break;
    default:
      REEL_ASSERT(false);
  }
  consensus::Proposal forged = honest;
  Reseal(&forged, txs, liar);
  return forged;
}

consensus::Proposal OtherBlock(const consensus::Proposal& honest,
                               const std::optional<v1::Transaction>& known, const Liar& liar,
                               Rng& rng) {
  std::vector<v1::Transaction> txs = Envelopes(honest.block);
  consensus::Proposal other = honest;
  auto holds = [&](const v1::Transaction& tx) {
    return std::any_of(txs.begin(), txs.end(),
                       [&](const v1::Transaction& t) { return t.body() == tx.body(); });
  };
  const uint64_t variant = rng.Uniform(0, 3);
  if (variant == 0 && txs.size() >= 2) {
    std::reverse(txs.begin(), txs.end());
  } else if (variant == 1 && !txs.empty()) {
    txs.pop_back();
  } else if (variant == 2 && known && !holds(*known)) {
    txs.push_back(*known);
  } else {
    other.block.header.timestamp_ms += rng.Uniform(1, 5);
  }
  Reseal(&other, txs, liar);
  return other;
}

consensus::Timeout CraftTimeout(Lie lie, uint64_t round, const Liar& liar, Rng& rng) {
  consensus::Timeout t = SignedTimeout(liar.epoch, round, liar);
  switch (lie) {
    case Lie::kBadSignatureTimeout:
      t.signature = RandomBytes<crypto::Signature>(rng);
      break;
    case Lie::kWrongRoundTimeout: {
      const uint64_t wrong =
          rng.Chance(0.5) || round < 3
              ? round + limits::consensus_future_rounds_max + rng.Uniform(1, 1000)
              : rng.Uniform(0, round - 3);
      t = SignedTimeout(liar.epoch, wrong, liar);
      break;
    }
    case Lie::kOtherEpochTimeout:
      t = SignedTimeout(liar.epoch + rng.Uniform(1, 3), round, liar);
      break;
    case Lie::kCraftedTc: {
      consensus::TimeoutCert tc;
      tc.epoch = liar.epoch;
      tc.round = round + rng.Uniform(1, 10);
      const crypto::Hash32 digest =
          consensus::TimeoutDigest(liar.chain_id, liar.epoch, tc.round, 0);
      tc.signers =
          ForgedSigners<consensus::TimeoutSignature>(liar, rng, [&](uint32_t index, bool own) {
            return consensus::TimeoutSignature{
                index, 0, own ? liar.key->SignDigest(digest) : RandomBytes<crypto::Signature>(rng)};
          });
      t.high_tc = std::move(tc);
      break;
    }
    case Lie::kCraftedQc: {
      consensus::QuorumCert qc;
      qc.epoch = liar.epoch;
      qc.block_id = RandomBytes<crypto::Hash32>(rng);
      qc.round = round + rng.Uniform(0, 5);
      qc.height = qc.round;
      const crypto::Hash32 digest =
          consensus::VoteDigest(liar.chain_id, liar.epoch, qc.block_id, qc.round);
      qc.signers =
          ForgedSigners<consensus::SignerSignature>(liar, rng, [&](uint32_t index, bool own) {
            return consensus::SignerSignature{
                index, own ? liar.key->SignDigest(digest) : RandomBytes<crypto::Signature>(rng)};
          });
      t.high_qc = std::move(qc);
      t.signature = liar.key->SignDigest(
          consensus::TimeoutDigest(liar.chain_id, liar.epoch, round, t.high_qc.round));
      break;
    }
    default:
      REEL_ASSERT(false);
  }
  return t;
}

std::vector<std::pair<uint32_t, v1::ConsensusMessage>> Flood(uint64_t round, size_t count,
                                                             const Liar& liar, Rng& rng) {
  const uint32_t n = static_cast<uint32_t>(liar.validators->n());
  std::vector<std::pair<uint32_t, v1::ConsensusMessage>> out;
  for (size_t k = 0; k < count; ++k) {
    const uint64_t ahead = rng.Uniform(0, 2 * limits::consensus_future_rounds_max);
    switch (rng.Uniform(0, 2)) {
      case 0: {  // a vote for a block nobody proposed (kept by whoever gets it: the
                 // block's leader cannot be known without the block)
        consensus::Vote v;
        v.epoch = liar.epoch;
        v.round = round + ahead;
        v.block_id = RandomBytes<crypto::Hash32>(rng);
        v.signer = liar.index;
        v.signature = liar.key->SignDigest(
            consensus::VoteDigest(liar.chain_id, liar.epoch, v.block_id, v.round));
        out.emplace_back(static_cast<uint32_t>(rng.Uniform(0, n - 1)),
                         replica::ToProto(liar.index, liar.epoch, v));
        break;
      }
      case 1:  // its own timeout of a later round
        out.emplace_back(static_cast<uint32_t>(rng.Uniform(0, n - 1)),
                         replica::ToProto(liar.index, liar.epoch,
                                          SignedTimeout(liar.epoch, round + 1 + ahead, liar)));
        break;
      default: {  // bytes that do not decode: an id of the wrong length
        v1::ConsensusMessage junk;
        junk.set_sender_index(liar.index);
        junk.set_epoch(liar.epoch);
        junk.mutable_vote()->set_block_id(std::string(rng.Uniform(1, 31), 'x'));
        junk.mutable_vote()->set_round(round + ahead);
        out.emplace_back(static_cast<uint32_t>(rng.Uniform(0, n - 1)), std::move(junk));
        break;
      }
    }
  }
  return out;
}

std::optional<Lie> AlterRange(v1::GetBlocksResponse* range, Rng& rng) {
  if (range->blocks_size() == 0) return std::nullopt;
  std::vector<v1::Block*> blocks;
  for (v1::Block& b : *range->mutable_blocks()) blocks.push_back(&b);
  constexpr std::array<Lie, 3> kKinds = {Lie::kRangeSignature, Lie::kRangeDropTx,
                                         Lie::kRangeHeader};
  return kKinds[AlterBlocks(blocks, rng)];
}

std::optional<Lie> AlterFetchAnswer(std::vector<v1::Block>* answer, Rng& rng) {
  if (answer->empty()) return std::nullopt;
  std::vector<v1::Block*> blocks;
  for (v1::Block& b : *answer) blocks.push_back(&b);
  constexpr std::array<Lie, 3> kKinds = {Lie::kFetchSignature, Lie::kFetchDropTx,
                                         Lie::kFetchHeader};
  return kKinds[AlterBlocks(blocks, rng)];
}

}  // namespace reel::sim
