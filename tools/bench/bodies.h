// The custody transactions of reel-bench's mix, built so that the custody rules accept
// them (lane.h says in what order): a lane company's registration, site and quota; an
// extraction of one tonne of Bayan Obo ore; a transfer offer of lots and its acceptance;
// the separation of one lot into NdPr and La-Ce oxides; an export licence application.
//
// Pure builders, shared by reel-bench's lanes and the whole-node simulator's clients
// (tests/sim/whole_node.cc), so that the simulator runs the transactions the benchmark
// measures. Each Set* fills the action of a body whose chain id, signer and nonce the
// caller has set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "reel/v1/tx.pb.h"

namespace reel::bench {

namespace v1 = ::reel::v1;

// A lane company with one signatory key and a quorum of one.
v1::RegisterOrg LaneOrg(const std::string& org_id, const std::string& name, v1::OrgKind kind,
                        v1::Role role, const crypto::PublicKey& key);
// A lane company's site for its quota of `category`: a rock mine for a mining quota, a
// plant for the smelting and separation quota.
v1::RegisterSite LaneSite(const std::string& org_id, const std::string& site_id,
                          v1::QuotaCategory category);
// A quota of `category` for `year`, large enough never to run out.
v1::SetQuota LaneQuota(const std::string& org_id, v1::QuotaCategory category, uint32_t year);

void SetExtract(v1::TxBody* body, const std::string& mine, const std::string& lot_id);
void SetOffer(v1::TxBody* body, const std::string& offer_id,
              const std::vector<std::string>& lot_ids, const std::string& to_org);
void SetAccept(v1::TxBody* body, const std::string& offer_id);
// Separates `input_lot` (held by the signer) into `input_lot`.NDPR and `input_lot`.LACE.
void SetSeparation(v1::TxBody* body, const std::string& plant, const std::string& input_lot);
// `sequence` picks the buyer, so that applications cycle through a realistic spread.
void SetLicenceApplication(v1::TxBody* body, const std::string& licence_id, uint64_t sequence);

}  // namespace reel::bench
