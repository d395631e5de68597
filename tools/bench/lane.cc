#include "tools/bench/lane.h"

#include <array>
#include <utility>

namespace reel::bench {
namespace {

// Lots waiting in one queue. Beyond this the oldest is forgotten: it stays ACTIVE on
// the chain, and the lane's memory stays bounded however long it runs.
constexpr size_t kQueuedLotsMax = 10'000;
// Lots in one offer: a shipment of two extractions, so that the default mix's offers
// bring the separator more lots than its separations use.
constexpr size_t kLotsPerOffer = 2;
// Quotas large enough never to run out in a run.
constexpr int64_t kQuotaG = int64_t{1} << 60;

// One tonne of Bayan Obo ore, and what separating it yields (grams of REO).
constexpr int64_t kOreMassG = 1'000'000;
constexpr std::array<std::pair<v1::Element, int64_t>, 4> kOre = {{{v1::ELEMENT_LA, 12'000},
                                                                  {v1::ELEMENT_CE, 20'000},
                                                                  {v1::ELEMENT_PR, 2'500},
                                                                  {v1::ELEMENT_ND, 8'000}}};
constexpr std::array<std::pair<v1::Element, int64_t>, 2> kNdPrOxide = {
    {{v1::ELEMENT_PR, 2'400}, {v1::ELEMENT_ND, 7'800}}};
constexpr std::array<std::pair<v1::Element, int64_t>, 2> kLaCeOxide = {
    {{v1::ELEMENT_LA, 11'700}, {v1::ELEMENT_CE, 19'500}}};

// Licence applications cycle through these: a realistic spread of buyers.
struct Buyer {
  const char* country;
  const char* end_user;
  v1::Industry industry;
};
constexpr std::array<Buyer, 5> kBuyers = {{
    {"DE", "Nordwind Turbinen", v1::INDUSTRY_WIND_ENERGY},
    {"JP", "Sakura Motors", v1::INDUSTRY_AUTOMOTIVE_EV},
    {"KR", "Hanbit Electronics", v1::INDUSTRY_ELECTRONICS},
    {"FR", "Imagerie Medicale SA", v1::INDUSTRY_MEDICAL},
    {"US", "Prairie Wind Power", v1::INDUSTRY_WIND_ENERGY},
}};

template <size_t N>
void SetComposition(const std::array<std::pair<v1::Element, int64_t>, N>& grams,
                    v1::Composition* out) {
  for (const auto& [element, reo_g] : grams) {
    v1::ElementAmount* a = out->add_amounts();
    a->set_element(element);
    a->set_reo_g(reo_g);
  }
}

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

v1::TxBody RegisterOrg(Network* network, const std::string& regulator_org, const std::string& id,
                       const std::string& name, v1::OrgKind kind, v1::Role role,
                       const crypto::KeyPair& key) {
  v1::TxBody body = network->Body(regulator_org);
  v1::RegisterOrg* r = body.mutable_register_org();
  r->set_org_id(id);
  r->set_name(name);
  r->set_kind(kind);
  r->add_roles(role);
  r->add_signatory_keys(std::string(crypto::AsBytes(key.public_key())));
  r->set_quorum(1);
  return body;
}

// A lane company's site, and its quota of `category` for `year` (never used up in a run).
std::vector<v1::TxBody> SiteAndQuota(Network* network, const std::string& regulator_org,
                                     const std::string& org_id, const std::string& site_id,
                                     v1::QuotaCategory category, uint32_t year) {
  std::vector<v1::TxBody> bodies = {network->Body(regulator_org), network->Body(regulator_org)};
  v1::RegisterSite* s = bodies[0].mutable_register_site();
  s->set_site_id(site_id);
  s->set_org_id(org_id);
  s->set_name("Benchmark " + site_id);
  // A mining quota goes with a mine, the smelting and separation quota with a plant.
  const bool mine = category != v1::QUOTA_CATEGORY_SMELTING_SEPARATION;
  s->set_kind(mine ? v1::SITE_KIND_MINE : v1::SITE_KIND_PLANT);
  if (mine) s->set_deposit_type(v1::DEPOSIT_TYPE_ROCK), s->set_province("Inner Mongolia");
  v1::SetQuota* q = bodies[1].mutable_set_quota();
  q->set_org_id(org_id);
  q->set_year(year);
  q->set_category(category);
  q->set_amount_g(kQuotaG);
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
    txs.push_back(network_->Sign(
        RegisterOrg(network_, regulator_org, c.id, c.name, c.kind, c.role, c.key), regulator));
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
  std::lock_guard<std::mutex> lock(mu_);
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
  v1::Extract* e = body.mutable_extract();
  e->set_site_id(mine_);
  e->set_lot_id(lot_id);
  e->set_product(v1::PRODUCT_FORM_ORE);
  e->set_mass_g(kOreMassG);
  SetComposition(kOre, e->mutable_composition());
  return {Kind::kExtract, network_->Sign(body, miner_key_), [this, lot_id] {
            std::lock_guard<std::mutex> lock(mu_);
            PushBounded(&mined_lots_, lot_id);
          }};
}

Prepared Lane::Transfer() {
  bool accept = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    accept = !open_offers_.empty();
  }
  return accept ? Accept() : Offer();
}

Prepared Lane::Offer() {
  OpenOffer offer{NextId("SHIP-"), {}};
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (offer.lot_ids.size() < kLotsPerOffer && !mined_lots_.empty()) {
      offer.lot_ids.push_back(PopFront(&mined_lots_));
    }
  }
  REEL_ASSERT(!offer.lot_ids.empty());
  v1::TxBody body = network_->Body(miner_);
  v1::TransferOffer* o = body.mutable_transfer_offer();
  o->set_offer_id(offer.offer_id);
  for (const std::string& lot : offer.lot_ids) o->add_lot_ids(lot);
  o->set_to_org_id(separator_);
  return {Kind::kTransfer, network_->Sign(body, miner_key_), [this, offer] {
            std::lock_guard<std::mutex> lock(mu_);
            PushBounded(&open_offers_, offer);
          }};
}

Prepared Lane::Accept() {
  OpenOffer offer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    offer = PopFront(&open_offers_);
  }
  v1::TxBody body = network_->Body(separator_);
  body.mutable_transfer_accept()->set_offer_id(offer.offer_id);
  return {Kind::kTransfer, network_->Sign(body, separator_key_),
          [this, lots = std::move(offer.lot_ids)] {
            std::lock_guard<std::mutex> lock(mu_);
            for (const std::string& lot : lots) PushBounded(&received_lots_, lot);
          }};
}

// Separation of one tonne of ore into an NdPr oxide and a La-Ce mixed oxide; the rest
// of its rare earths is the recorded process loss, and the quota is charged by the ore's REO.
Prepared Lane::Process() {
  std::string input;
  {
    std::lock_guard<std::mutex> lock(mu_);
    input = PopFront(&received_lots_);
  }
  v1::TxBody body = network_->Body(separator_);
  v1::Process* p = body.mutable_process();
  p->set_site_id(plant_);
  p->add_input_lot_ids(input);
  v1::LotOutput* ndpr = p->add_outputs();
  ndpr->set_lot_id(input + ".NDPR");
  ndpr->set_product(v1::PRODUCT_FORM_SEPARATED_OXIDE);
  ndpr->set_mass_g(12'000);
  SetComposition(kNdPrOxide, ndpr->mutable_composition());
  v1::LotOutput* lace = p->add_outputs();
  lace->set_lot_id(input + ".LACE");
  lace->set_product(v1::PRODUCT_FORM_MIXED_OXIDE);
  lace->set_mass_g(38'000);
  SetComposition(kLaCeOxide, lace->mutable_composition());
  return {Kind::kProcess, network_->Sign(body, separator_key_), nullptr};
}

Prepared Lane::Licence() {
  const Buyer& buyer = kBuyers[sequence_ % kBuyers.size()];
  v1::TxBody body = network_->Body(exporter_);
  v1::ApplyExportLicense* a = body.mutable_apply_export_license();
  a->set_licence_id(NextId("LIC-"));
  a->set_destination_country(buyer.country);
  a->set_consignee(std::string("Importer for ") + buyer.end_user);
  a->set_end_user(buyer.end_user);
  a->set_industry(buyer.industry);
  a->set_product(v1::PRODUCT_FORM_MAGNET);
  for (v1::Element e : {v1::ELEMENT_PR, v1::ELEMENT_ND, v1::ELEMENT_DY}) a->add_elements(e);
  a->set_mass_g(500'000);
  a->set_purpose("NdFeB magnets for motors and generators");
  return {Kind::kLicence, network_->Sign(body, exporter_key_), nullptr};
}

}  // namespace reel::bench
