#include "tools/bench/lane.h"

#include <utility>

#include "tools/bench/bodies.h"

namespace reel::bench {
namespace {

// Lots waiting in one queue. Beyond this the oldest is forgotten: it stays ACTIVE on
// the chain, and the lane's memory stays bounded however long it runs.
constexpr size_t kQueuedLotsMax = 10'000;
// Lots in one offer: a shipment of two extractions, so that the default mix's offers
// bring the separator more lots than its separations use.
constexpr size_t kLotsPerOffer = 2;

template <typename T>
void PushBounded(std::deque<T>* queue, T item) {
  if (queue->size() >= kQueuedLotsMax) queue->pop_front();
  queue->push_back(std::move(item));
}

template <typename T>
T PopFront(std::deque<T>* queue) {
  REEL_ASSERT(!queue->empty());
  T item = std::move(queue->front());
  queue->pop_front();
  return item;
}

// A lane company's site, and its quota of `category` for `year` (never used up in a run).
std::vector<v1::TxBody> SiteAndQuota(Network* network, const std::string& regulator_org,
                                     const std::string& org_id, const std::string& site_id,
                                     v1::QuotaCategory category, uint32_t year) {
  std::vector<v1::TxBody> bodies = {network->Body(regulator_org), network->Body(regulator_org)};
  *bodies[0].mutable_register_site() = LaneSite(org_id, site_id, category);
  *bodies[1].mutable_set_quota() = LaneQuota(org_id, category, year);
  return bodies;
}

}  // namespace

Lane::Lane(Network* network, const std::string& run_tag, uint32_t index)
    : network_(network),
      tag_(run_tag + "-" + std::to_string(index)),
      miner_("bench-" + tag_ + "-mining"),
      separator_("bench-" + tag_ + "-separation"),
      exporter_("bench-" + tag_ + "-export"),
      mine_("mine-" + tag_),
      plant_("plant-" + tag_),
      miner_key_(crypto::KeyPair::Generate()),
      separator_key_(crypto::KeyPair::Generate()),
      exporter_key_(crypto::KeyPair::Generate()) {}

std::vector<v1::Transaction> Lane::Organisations(const crypto::KeyPair& regulator,
                                                 const std::string& regulator_org) {
  struct Company {
    const std::string& id;
    const char* name;
    v1::OrgKind kind;
    v1::Role role;
    const crypto::KeyPair& key;
  };
  const Company companies[] = {
      {miner_, "Benchmark mining company", v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_MINER,
       miner_key_},
      {separator_, "Benchmark separation company", v1::ORG_KIND_STATE_ENTERPRISE,
       v1::ROLE_SMELTER_SEPARATOR, separator_key_},
      {exporter_, "Benchmark exporter", v1::ORG_KIND_PRIVATE_ENTERPRISE, v1::ROLE_EXPORTER,
       exporter_key_},
  };
  std::vector<v1::Transaction> txs;
  for (const Company& c : companies) {
    v1::TxBody body = network_->Body(regulator_org);
    *body.mutable_register_org() = LaneOrg(c.id, c.name, c.kind, c.role, c.key.public_key());
    txs.push_back(network_->Sign(body, regulator));
  }
  return txs;
}

std::vector<v1::Transaction> Lane::SitesAndQuotas(const crypto::KeyPair& regulator,
                                                  const std::string& regulator_org, uint32_t year) {
  std::vector<v1::Transaction> txs;
  for (const v1::TxBody& body : SiteAndQuota(network_, regulator_org, miner_, mine_,
                                             v1::QUOTA_CATEGORY_MINING_LIGHT, year)) {
    txs.push_back(network_->Sign(body, regulator));
  }
  for (const v1::TxBody& body : SiteAndQuota(network_, regulator_org, separator_, plant_,
                                             v1::QUOTA_CATEGORY_SMELTING_SEPARATION, year)) {
    txs.push_back(network_->Sign(body, regulator));
  }
  return txs;
}

bool Lane::Ready(Kind kind) const {
  MutexLock lock(&mu_);
  switch (kind) {
    case Kind::kExtract:
    case Kind::kLicence:
      return true;
    case Kind::kTransfer:
      return !open_offers_.empty() || !mined_lots_.empty();
    case Kind::kProcess:
      return !received_lots_.empty();
  }
  return false;
}

Prepared Lane::Next(Kind kind) {
  switch (kind) {
    case Kind::kExtract:
      return Extract();
    case Kind::kTransfer:
      return Transfer();
    case Kind::kProcess:
      return Process();
    case Kind::kLicence:
      return Licence();
  }
  REEL_ASSERT(false);
  return {};
}

std::string Lane::NextId(std::string_view prefix) {
  return std::string(prefix) + tag_ + "-" + std::to_string(sequence_++);
}

Prepared Lane::Extract() {
  const std::string lot_id = NextId("ORE-");
  v1::TxBody body = network_->Body(miner_);
  SetExtract(&body, mine_, lot_id);
  return {Kind::kExtract, network_->Sign(body, miner_key_), [this, lot_id] {
            MutexLock lock(&mu_);
            PushBounded(&mined_lots_, lot_id);
          }};
}

Prepared Lane::Transfer() {
  bool accept = false;
  {
    MutexLock lock(&mu_);
    accept = !open_offers_.empty();
  }
  return accept ? Accept() : Offer();
}

Prepared Lane::Offer() {
  OpenOffer offer{NextId("SHIP-"), {}};
  {
    MutexLock lock(&mu_);
    while (offer.lot_ids.size() < kLotsPerOffer && !mined_lots_.empty()) {
      offer.lot_ids.push_back(PopFront(&mined_lots_));
    }
  }
  REEL_ASSERT(!offer.lot_ids.empty());
  v1::TxBody body = network_->Body(miner_);
  SetOffer(&body, offer.offer_id, offer.lot_ids, separator_);
  return {Kind::kTransfer, network_->Sign(body, miner_key_), [this, offer] {
            MutexLock lock(&mu_);
            PushBounded(&open_offers_, offer);
          }};
}

Prepared Lane::Accept() {
  OpenOffer offer;
  {
    MutexLock lock(&mu_);
    offer = PopFront(&open_offers_);
  }
  v1::TxBody body = network_->Body(separator_);
  SetAccept(&body, offer.offer_id);
  return {Kind::kTransfer, network_->Sign(body, separator_key_),
          [this, lots = std::move(offer.lot_ids)] {
            MutexLock lock(&mu_);
            for (const std::string& lot : lots) PushBounded(&received_lots_, lot);
          }};
}

// Separation of one tonne of ore into an NdPr oxide and a La-Ce mixed oxide.
Prepared Lane::Process() {
  std::string input;
  {
    MutexLock lock(&mu_);
    input = PopFront(&received_lots_);
  }
  v1::TxBody body = network_->Body(separator_);
  SetSeparation(&body, plant_, input);
  return {Kind::kProcess, network_->Sign(body, separator_key_), nullptr};
}

Prepared Lane::Licence() {
  const uint64_t buyer = sequence_;
  v1::TxBody body = network_->Body(exporter_);
  SetLicenceApplication(&body, NextId("LIC-"), buyer);
  return {Kind::kLicence, network_->Sign(body, exporter_key_), nullptr};
}

}  // namespace reel::bench
