#include "tools/bench/bodies.h"

#include <array>
#include <utility>

namespace reel::bench {
namespace {

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

}  // namespace

v1::RegisterOrg LaneOrg(const std::string& org_id, const std::string& name, v1::OrgKind kind,
                        v1::Role role, const crypto::PublicKey& key) {
  v1::RegisterOrg r;
  r.set_org_id(org_id);
  r.set_name(name);
  r.set_kind(kind);
  r.add_roles(role);
  r.add_signatory_keys(std::string(crypto::AsBytes(key)));
  r.set_quorum(1);
  return r;
}

v1::RegisterSite LaneSite(const std::string& org_id, const std::string& site_id,
                          v1::QuotaCategory category) {
  v1::RegisterSite s;
  s.set_site_id(site_id);
  s.set_org_id(org_id);
  s.set_name("Benchmark " + site_id);
  // A mining quota goes with a mine, the smelting and separation quota with a plant.
  const bool mine = category != v1::QUOTA_CATEGORY_SMELTING_SEPARATION;
  s.set_kind(mine ? v1::SITE_KIND_MINE : v1::SITE_KIND_PLANT);
  if (mine) s.set_deposit_type(v1::DEPOSIT_TYPE_ROCK), s.set_province("Inner Mongolia");
  return s;
}

v1::SetQuota LaneQuota(const std::string& org_id, v1::QuotaCategory category, uint32_t year) {
  v1::SetQuota q;
  q.set_org_id(org_id);
  q.set_year(year);
  q.set_category(category);
  q.set_amount_g(kQuotaG);
  return q;
}

void SetExtract(v1::TxBody* body, const std::string& mine, const std::string& lot_id) {
  v1::Extract* e = body->mutable_extract();
  e->set_site_id(mine);
  e->set_lot_id(lot_id);
  e->set_product(v1::PRODUCT_FORM_ORE);
  e->set_mass_g(kOreMassG);
  SetComposition(kOre, e->mutable_composition());
}

void SetOffer(v1::TxBody* body, const std::string& offer_id,
              const std::vector<std::string>& lot_ids, const std::string& to_org) {
  v1::TransferOffer* o = body->mutable_transfer_offer();
  o->set_offer_id(offer_id);
  for (const std::string& lot : lot_ids) o->add_lot_ids(lot);
  o->set_to_org_id(to_org);
}

void SetAccept(v1::TxBody* body, const std::string& offer_id) {
  body->mutable_transfer_accept()->set_offer_id(offer_id);
}

// The rest of the ore's rare earths is the recorded process loss, and the quota is
// charged by the ore's REO.
void SetSeparation(v1::TxBody* body, const std::string& plant, const std::string& input_lot) {
  v1::Process* p = body->mutable_process();
  p->set_site_id(plant);
  p->add_input_lot_ids(input_lot);
  v1::LotOutput* ndpr = p->add_outputs();
  ndpr->set_lot_id(input_lot + ".NDPR");
  ndpr->set_product(v1::PRODUCT_FORM_SEPARATED_OXIDE);
  ndpr->set_mass_g(12'000);
  SetComposition(kNdPrOxide, ndpr->mutable_composition());
  v1::LotOutput* lace = p->add_outputs();
  lace->set_lot_id(input_lot + ".LACE");
  lace->set_product(v1::PRODUCT_FORM_MIXED_OXIDE);
  lace->set_mass_g(38'000);
  SetComposition(kLaCeOxide, lace->mutable_composition());
}

void SetLicenceApplication(v1::TxBody* body, const std::string& licence_id, uint64_t sequence) {
  const Buyer& buyer = kBuyers[sequence % kBuyers.size()];
  v1::ApplyExportLicense* a = body->mutable_apply_export_license();
  a->set_licence_id(licence_id);
  a->set_destination_country(buyer.country);
  a->set_consignee(std::string("Importer for ") + buyer.end_user);
  a->set_end_user(buyer.end_user);
  a->set_industry(buyer.industry);
  a->set_product(v1::PRODUCT_FORM_MAGNET);
  for (v1::Element e : {v1::ELEMENT_PR, v1::ELEMENT_ND, v1::ELEMENT_DY}) a->add_elements(e);
  a->set_mass_g(500'000);
  a->set_purpose("NdFeB magnets for motors and generators");
}

}  // namespace reel::bench
