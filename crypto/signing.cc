#include "crypto/signing.h"

#include <string>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/limits.h"

namespace reel::crypto {

// The length prefixes are one byte each.
static_assert(limits::chain_id_bytes_max <= 255);

std::string_view DomainTag(Domain d) {
  switch (d) {
    case Domain::kTransaction:
      return "reel/tx/v1";
    case Domain::kProposal:
      return "reel/proposal/v1";
    case Domain::kVote:
      return "reel/vote/v1";
    case Domain::kTimeout:
      return "reel/timeout/v1";
    case Domain::kEnvelope:
      return "reel/envelope/v1";
    case Domain::kEpochChange:
      return "reel/epoch-change/v1";
  }
  REEL_ASSERT(false && "unknown Domain");
  return {};
}

bool IsValidChainId(std::string_view chain_id) {
  return !chain_id.empty() && chain_id.size() <= limits::chain_id_bytes_max;
}

Hash32 SigningDigest(Domain d, std::string_view chain_id, uint64_t epoch, std::string_view fields) {
  REEL_ASSERT(IsValidChainId(chain_id));
  std::string_view tag = DomainTag(d);
  REEL_ASSERT(!tag.empty() && tag.size() <= 255);

  // The prefix is small; `fields` (up to a whole transaction body) is hashed
  // in place rather than copied after it.
  std::string prefix;
  prefix.reserve(2 + tag.size() + chain_id.size() + 8);
  prefix.push_back(static_cast<char>(tag.size()));
  prefix.append(tag);
  prefix.push_back(static_cast<char>(chain_id.size()));
  prefix.append(chain_id);
  AppendU64BE(prefix, epoch);

  Blake2b256Hasher hasher;
  hasher.Update(prefix);
  hasher.Update(fields);
  return hasher.Final();
}

Hash32 TransactionId(std::string_view chain_id, std::string_view body_bytes) {
  return SigningDigest(Domain::kTransaction, chain_id, 0, body_bytes);
}

Hash32 EnvelopeDigest(std::string_view chain_id, const Hash32& tx_id,
                      const std::vector<EnvelopeSignature>& signatures) {
  std::string fields;
  size_t size = tx_id.size() + 4;
  for (const EnvelopeSignature& s : signatures)
    size += 8 + s.public_key.size() + s.signature.size();
  fields.reserve(size);
  fields.append(AsBytes(tx_id));
  AppendU32BE(fields, static_cast<uint32_t>(signatures.size()));
  for (const EnvelopeSignature& s : signatures) {
    AppendU32BE(fields, static_cast<uint32_t>(s.public_key.size()));
    fields.append(s.public_key);
    AppendU32BE(fields, static_cast<uint32_t>(s.signature.size()));
    fields.append(s.signature);
  }
  return SigningDigest(Domain::kEnvelope, chain_id, 0, fields);
}

}  // namespace reel::crypto
