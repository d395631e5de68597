// The forgeries of the whole-node simulator's Byzantine validators (whole_node.h):
// pure functions of what a faulty validator holds (its own key, the honest message its
// own core produced, bytes it has seen) and the seed's Rng. The simulator decides when
// to lie and whom to tell; this file only says how each lie is made, so that every
// kind can be read on its own.
//
// A forged proposal is always re-sealed (tx_count and a tx_root over the altered
// envelopes, a new block id) and signed with the liar's own key as the round's
// leader: its header, QC and signature check, so that only the envelope checks
// (ValidatePayload, and execution) can catch it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "consensus/core.h"
#include "crypto/keys.h"
#include "reel/v1/peer.pb.h"
#include "reel/v1/tx.pb.h"
#include "tests/sim/rng.h"

namespace reel::sim {

enum class Lie : uint8_t {
  // A proposal of known bodies with other signatures than their senders gave.
  kAlterSignature,    // one byte of one signature flipped
  kRemoveSignatures,  // an envelope with its signatures stripped
  kExtraSignature,    // one more signature: junk, or a valid one by a key of no signatory
  // A proposal that repeats a transaction.
  kRepeatInBlock,     // one transaction twice in the block
  kRepeatCommitted,   // a transaction already committed
  kEquivocate,        // one block to some validators, another to the rest, then both to all
  kWithholdProposal,  // as leader, no proposal: the QC it formed goes nowhere
  kWithholdVote,      // its vote is not sent
  // Timeouts and certificates it crafts.
  kBadSignatureTimeout,  // a timeout whose signature is not the signer's
  kWrongRoundTimeout,    // a signed timeout for a round far ahead or long past
  kOtherEpochTimeout,    // a signed timeout of another epoch
  kCraftedTc,            // a timeout carrying a TC of a later round that no quorum signed
  kCraftedQc,            // a timeout carrying a high QC that no quorum signed
  kStaleTimeout,         // an honest validator's old timeout, sent again
  kSpoofedSender,        // a message that claims another validator sent it
  kFlood,                // a burst of junk and future-round messages
  // What it serves to peers that sync or fetch from it.
  kRangeSignature,  // a GetBlocks range with one signature byte flipped
  kRangeDropTx,     // a GetBlocks range with one transaction dropped
  kRangeHeader,     // a GetBlocks range with a header field changed
  kRangeHeight,     // a height claimed above what it holds
  kFetchSignature,  // a fetch answer with one signature byte flipped
  kFetchDropTx,     // a fetch answer with one transaction dropped
  kFetchHeader,     // a fetch answer with a header field changed
  kCount,
};

std::string_view LieName(Lie lie);

// What a liar needs to sign as itself.
struct Liar {
  std::string_view chain_id;
  uint64_t epoch = 0;
  uint32_t index = 0;
  const crypto::KeyPair* key = nullptr;
  const consensus::ValidatorSet* validators = nullptr;
};

// `honest` with its envelopes changed by `lie` (kAlterSignature to kRepeatCommitted),
// re-sealed and signed. `known` is a body the honest validators hold in their pools (it
// is added when the block has no transaction to change), `committed` one already
// committed (for kRepeatCommitted). nullopt when the lie needs a transaction and there
// is none.
std::optional<consensus::Proposal> ForgeEnvelopes(const consensus::Proposal& honest, Lie lie,
                                                  const std::optional<v1::Transaction>& known,
                                                  const std::optional<v1::Transaction>& committed,
                                                  const Liar& liar, Rng& rng);

// Another valid block for the same round and parent as `honest` (its transactions
// reordered, one left out, `known` added, or only its timestamp moved), re-sealed and
// signed: what an equivocating leader shows half the validators.
consensus::Proposal OtherBlock(const consensus::Proposal& honest,
                               const std::optional<v1::Transaction>& known, const Liar& liar,
                               Rng& rng);

// A crafted timeout of kind `lie` (kBadSignatureTimeout to kCraftedQc) around `round`.
consensus::Timeout CraftTimeout(Lie lie, uint64_t round, const Liar& liar, Rng& rng);

// A burst of messages from the liar: future-round votes and timeouts it signs, and
// messages that do not decode. Each comes with the validator it is for.
std::vector<std::pair<uint32_t, v1::ConsensusMessage>> Flood(uint64_t round, size_t count,
                                                             const Liar& liar, Rng& rng);

// Alters a GetBlocks answer in place; returns the kind done (kRangeHeader when the range
// holds no transaction to alter), nullopt for an empty range.
std::optional<Lie> AlterRange(v1::GetBlocksResponse* range, Rng& rng);
// Alters a FetchBlocks answer in place, likewise (kFetch*).
std::optional<Lie> AlterFetchAnswer(std::vector<v1::Block>* blocks, Rng& rng);

}  // namespace reel::sim
