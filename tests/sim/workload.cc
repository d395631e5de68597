#include "tests/sim/workload.h"

#include "crypto/signing.h"
#include "tools/bench/bodies.h"

namespace reel::sim {
namespace {

constexpr char kRegulator[] = "miit";
// Lots in one offer, as reel-bench ships them.
constexpr size_t kLotsPerOffer = 2;

crypto::KeyPair OrgKey(const std::string& org) {
  return crypto::KeyPair::FromSeed(crypto::AsBytes(crypto::Blake2b256("reel-sim/org/" + org)))
      .value();
}

template <typename T>
T PopFront(std::deque<T>* queue) {
  REEL_ASSERT(!queue->empty());
  T item = std::move(queue->front());
  queue->pop_front();
  return item;
}

}  // namespace

Workload::Workload(std::string chain_id, uint32_t lanes) : chain_id_(std::move(chain_id)) {
  const bench::Mix mix = bench::ParseMix(bench::kDefaultMix).value();
  for (uint32_t k = 0; k < lanes; ++k) lanes_.emplace_back("lane" + std::to_string(k), mix);
  keys_.emplace(kRegulator, OrgKey(kRegulator));
  for (const Lane& lane : lanes_) {
    for (const std::string& org : {lane.miner, lane.separator, lane.exporter}) {
      keys_.emplace(org, OrgKey(org));
    }
  }
}

void Workload::AddToGenesis(v1::Genesis* genesis, uint32_t year) const {
  v1::RegisterOrg* regulator = genesis->add_orgs();
  *regulator =
      bench::LaneOrg(kRegulator, "Ministry of Industry and Information Technology",
                     v1::ORG_KIND_MINISTRY, v1::ROLE_REGULATOR, keys_.at(kRegulator).public_key());
  for (const Lane& lane : lanes_) {
    *genesis->add_orgs() =
        bench::LaneOrg(lane.miner, "Mining " + lane.miner, v1::ORG_KIND_STATE_ENTERPRISE,
                       v1::ROLE_MINER, keys_.at(lane.miner).public_key());
    *genesis->add_orgs() = bench::LaneOrg(lane.separator, "Separation " + lane.separator,
                                          v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_SMELTER_SEPARATOR,
                                          keys_.at(lane.separator).public_key());
    *genesis->add_orgs() =
        bench::LaneOrg(lane.exporter, "Export " + lane.exporter, v1::ORG_KIND_PRIVATE_ENTERPRISE,
                       v1::ROLE_EXPORTER, keys_.at(lane.exporter).public_key());
    *genesis->add_sites() = bench::LaneSite(lane.miner, lane.mine, v1::QUOTA_CATEGORY_MINING_LIGHT);
    *genesis->add_sites() =
        bench::LaneSite(lane.separator, lane.plant, v1::QUOTA_CATEGORY_SMELTING_SEPARATION);
    *genesis->add_quotas() = bench::LaneQuota(lane.miner, v1::QUOTA_CATEGORY_MINING_LIGHT, year);
    *genesis->add_quotas() =
        bench::LaneQuota(lane.separator, v1::QUOTA_CATEGORY_SMELTING_SEPARATION, year);
  }
}

bool Workload::Ready(const Lane& lane, bench::Kind kind) const {
  switch (kind) {
    case bench::Kind::kExtract:
    case bench::Kind::kLicence:
      return true;
    case bench::Kind::kTransfer:
      return !lane.offers.empty() || !lane.mined.empty();
    case bench::Kind::kProcess:
      return !lane.received.empty();
  }
  return false;
}

v1::TxBody Workload::Body(const std::string& signer) {
  v1::TxBody body;
  body.set_chain_id(chain_id_);
  body.set_org_id(signer);
  body.set_nonce(++nonce_);
  return body;
}

std::string Workload::NextId(Lane& lane, const std::string& prefix) {
  return prefix + lane.miner + "-" + std::to_string(lane.sequence++);
}

Workload::Tx Workload::Signed(uint32_t lane, bench::Kind kind, const v1::TxBody& body) {
  Tx tx;
  tx.lane = lane;
  tx.kind = kind;
  tx.envelope.set_body(body.SerializeAsString());
  tx.id = crypto::TransactionId(chain_id_, tx.envelope.body());
  const crypto::KeyPair& key = keys_.at(body.org_id());
  v1::Signature* s = tx.envelope.add_signatures();
  s->set_public_key(std::string(crypto::AsBytes(key.public_key())));
  s->set_signature(std::string(crypto::AsBytes(key.SignDigest(tx.id))));
  return tx;
}

Workload::Tx Workload::Next(uint32_t index) {
  Lane& lane = lanes_.at(index);
  const bench::Kind kind = lane.scheduler.Next([&](bench::Kind k) { return Ready(lane, k); });
  std::string offer_id;
  std::vector<std::string> lots;
  v1::TxBody body;
  switch (kind) {
    case bench::Kind::kExtract:
      lots.push_back(NextId(lane, "ORE-"));
      body = Body(lane.miner);
      bench::SetExtract(&body, lane.mine, lots.back());
      break;
    case bench::Kind::kTransfer:
      if (!lane.offers.empty()) {
        Offer offer = PopFront(&lane.offers);
        body = Body(lane.separator);
        bench::SetAccept(&body, offer.offer_id);
        lots = std::move(offer.lots);
      } else {
        offer_id = NextId(lane, "SHIP-");
        while (lots.size() < kLotsPerOffer && !lane.mined.empty())
          lots.push_back(PopFront(&lane.mined));
        body = Body(lane.miner);
        bench::SetOffer(&body, offer_id, lots, lane.separator);
      }
      break;
    case bench::Kind::kProcess:
      body = Body(lane.separator);
      bench::SetSeparation(&body, lane.plant, PopFront(&lane.received));
      break;
    case bench::Kind::kLicence:
      body = Body(lane.exporter);
      bench::SetLicenceApplication(&body, NextId(lane, "LIC-"), lane.sequence);
      break;
  }
  Tx tx = Signed(index, kind, body);
  tx.offer_id = std::move(offer_id);
  tx.lots = std::move(lots);
  return tx;
}

Workload::Tx Workload::TimingsChange(uint64_t round_timeout_ms, uint64_t idle_block_interval_ms,
                                     uint32_t block_txs_max) {
  v1::TxBody body = Body(kRegulator);
  v1::ProposeValidatorChange* change = body.mutable_propose_validator_change();
  change->set_change_id("timings-" + std::to_string(nonce_));
  change->mutable_consensus()->set_round_timeout_ms(round_timeout_ms);
  change->mutable_consensus()->set_idle_block_interval_ms(idle_block_interval_ms);
  change->mutable_consensus()->set_block_txs_max(block_txs_max);
  Tx tx = Signed(0, bench::Kind::kLicence, body);
  tx.governance = true;
  return tx;
}

void Workload::OnCommitted(const Tx& tx, v1::ErrorCode code) {
  if (code != v1::OK || tx.governance) return;
  Lane& lane = lanes_.at(tx.lane);
  if (tx.kind == bench::Kind::kExtract) {
    lane.mined.push_back(tx.lots.at(0));
  } else if (tx.kind == bench::Kind::kTransfer && !tx.offer_id.empty()) {
    lane.offers.push_back({tx.offer_id, tx.lots});
  } else if (tx.kind == bench::Kind::kTransfer) {
    for (const std::string& lot : tx.lots) lane.received.push_back(lot);
  }
}

}  // namespace reel::sim
