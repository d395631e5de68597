// A small world for ledger tests: a store (in memory or LevelDB), genesis, keys for
// every organisation, transaction builders, and blocks executed and committed one at a
// time. ExpectRefused is the strict check every rule test uses: the transaction gets
// its own ErrorCode and the block writes nothing under the state or index prefixes but
// the block's own height, time and root records.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "crypto/signing.h"
#include "node/ledger/ledger.h"
#include "node/ledger/rules.h"
#include "node/ledger/state.h"
#include "node/storage/keys.h"
#include "node/storage/memory_store.h"
#include "tests/test_util.h"

namespace reel::ledger::testing {

namespace v1 = ::reel::v1;

inline constexpr char kChain[] = "reel-test";

// 2025-06-01 00:00 in UTC+8.
inline uint64_t Jun2025() {
  return CstMonthStartMs(2025, 6);
}

inline v1::Composition Comp(std::initializer_list<std::pair<v1::Element, int64_t>> amounts) {
  v1::Composition c;
  for (auto [e, g] : amounts) {
    v1::ElementAmount* a = c.add_amounts();
    a->set_element(e);
    a->set_reo_g(g);
  }
  return c;
}

class World {
 public:
  explicit World(std::unique_ptr<storage::KvStore> store = storage::NewMemoryStore())
      : store_(std::move(store)) {}

  storage::KvStore& store() { return *store_; }
  // For restart tests: closes the store (nullptr) or swaps in a reopened one.
  void ReplaceStore(std::unique_ptr<storage::KvStore> store) { store_ = std::move(store); }
  uint64_t height() const { return height_; }
  uint64_t time_ms() const { return time_ms_; }
  void set_time_ms(uint64_t t) { time_ms_ = t; }
  const BlockExecution& last() const { return last_; }

  // The deterministic key `index` of an organisation.
  const crypto::KeyPair& Key(const std::string& org, int index = 0) {
    const std::string name = org + "#" + std::to_string(index);
    auto it = keys_.find(name);
    if (it == keys_.end()) {
      crypto::Hash32 seed = crypto::Blake2b256(name);
      it = keys_.emplace(name, std::move(crypto::KeyPair::FromSeed(crypto::AsBytes(seed)).value()))
               .first;
    }
    return it->second;
  }
  std::string PublicKey(const std::string& org, int index = 0) {
    return std::string(crypto::AsBytes(Key(org, index).public_key()));
  }

  static v1::RegisterOrg Org(const std::string& id, v1::OrgKind kind, std::vector<v1::Role> roles,
                             World& w, int keys = 1, uint32_t quorum = 1) {
    v1::RegisterOrg o;
    o.set_org_id(id);
    o.set_name("Org " + id);
    o.set_kind(kind);
    for (v1::Role r : roles) o.add_roles(r);
    for (int k = 0; k < keys; ++k) o.add_signatory_keys(w.PublicKey(id, k));
    o.set_quorum(quorum);
    return o;
  }

  // Genesis with MIIT (regulator), MOFCOM (export authority) and GACC (customs); `edit`
  // may add to it (validators, governance) before it is applied.
  void Genesis(std::vector<v1::RegisterOrg> more = {},
               const std::function<void(v1::Genesis&)>& edit = nullptr) {
    v1::Genesis g;
    g.set_chain_id(kChain);
    g.set_genesis_time_ms(time_ms_ - 1000);
    *g.add_orgs() = Org("miit", v1::ORG_KIND_MINISTRY, {v1::ROLE_REGULATOR}, *this);
    *g.add_orgs() = Org("mofcom", v1::ORG_KIND_MINISTRY, {v1::ROLE_EXPORT_AUTHORITY}, *this);
    *g.add_orgs() = Org("gacc", v1::ORG_KIND_MINISTRY, {v1::ROLE_CUSTOMS}, *this);
    for (auto& o : more) *g.add_orgs() = o;
    if (edit) edit(g);
    Result<BlockExecution> ex = ExecuteGenesis(g);
    ASSERT_OK(ex);
    ASSERT_OK(CommitForTest(*store_, *ex, 0));
  }

  v1::TxBody Body(const std::string& signer) {
    v1::TxBody b;
    b.set_chain_id(kChain);
    b.set_org_id(signer);
    b.set_nonce(++nonce_);
    return b;
  }

  // Signs with keys 0..count-1 of the signer (count -1: the signer's quorum of 1).
  v1::Transaction Sign(const v1::TxBody& body, int count = 1, const std::string& key_org = "") {
    v1::Transaction t;
    t.set_body(body.SerializeAsString());
    const crypto::Hash32 id = crypto::TransactionId(kChain, t.body());
    for (int k = 0; k < count; ++k) {
      const crypto::KeyPair& key = Key(key_org.empty() ? body.org_id() : key_org, k);
      v1::Signature* s = t.add_signatures();
      s->set_public_key(std::string(crypto::AsBytes(key.public_key())));
      s->set_signature(std::string(crypto::AsBytes(key.SignDigest(id))));
    }
    return t;
  }

  VerifiedTx Verified(const v1::Transaction& t) {
    Result<VerifiedTx> v = Verify(t, kChain);
    EXPECT_OK(v);
    return v.ok() ? std::move(v).value() : VerifiedTx{};
  }

  // Executes and commits one block of already verified transactions.
  std::vector<v1::TxResult> Execute(const std::vector<VerifiedTx>& txs) {
    time_ms_ += 1000;
    BlockContext ctx{kChain, height_ + 1, time_ms_};
    Result<BlockExecution> ex = ExecuteBlock(*store_, ctx, txs);
    EXPECT_OK(ex);
    if (!ex.ok()) return {};
    Status s = CommitForTest(*store_, *ex, ctx.height);
    EXPECT_OK(s);
    ++height_;
    last_ = std::move(ex).value();
    return last_.results;
  }

  std::vector<v1::TxResult> Block(const std::vector<v1::TxBody>& bodies) {
    std::vector<VerifiedTx> txs;
    for (const v1::TxBody& b : bodies) txs.push_back(Verified(Sign(b, quorum_of(b.org_id()))));
    return Execute(txs);
  }

  v1::TxResult Run(const v1::TxBody& body) { return Block({body}).at(0); }

  // Applies, or fails the test with the code and message.
  void Ok(const v1::TxBody& body) {
    v1::TxResult r = Run(body);
    EXPECT_EQ(r.code(), v1::OK) << v1::ErrorCode_Name(r.code()) << ": " << r.message();
  }

  // The writes of the last block under 0x05 and 0x06, except its meta records and the
  // per-transaction events (which every transaction gets, like its 0x04 record).
  std::vector<std::string> LastStateWrites() const {
    std::vector<std::string> keys;
    const std::string meta = layout::MetaKey("");
    const std::string events = layout::IndexPrefix(layout::IndexTag::kEvent);
    for (const auto& op : last_.batch.ops()) {
      const auto prefix = static_cast<uint8_t>(op.key[0]);
      if ((prefix == 0x05 || prefix == 0x06) && !op.key.starts_with(meta) &&
          !op.key.starts_with(events)) {
        keys.push_back(op.key);
      }
    }
    return keys;
  }

  // The transaction is refused with `code` and changes nothing.
  void Refused(const v1::TxBody& body, v1::ErrorCode code) {
    v1::TxResult r = Run(body);
    EXPECT_EQ(v1::ErrorCode_Name(r.code()), v1::ErrorCode_Name(code)) << r.message();
    EXPECT_FALSE(r.message().empty());
    EXPECT_TRUE(LastStateWrites().empty())
        << "a refused transaction wrote " << LastStateWrites().size() << " state or index records";
  }

  template <typename M>
  M Get(const std::string& key) {
    Result<std::optional<std::string>> got = store_->Get(key);
    EXPECT_TRUE(got.ok() && got->has_value()) << "no record " << key.substr(2);
    M m;
    if (got.ok() && got->has_value()) m.ParseFromString(**got);
    return m;
  }
  v1::Lot Lot(const std::string& id) { return Get<v1::Lot>(layout::LotKey(id)); }
  v1::Org OrgRecord(const std::string& id) { return Get<v1::Org>(layout::OrgKey(id)); }
  v1::Quota QuotaRecord(const std::string& org, uint32_t year, v1::QuotaCategory c) {
    return Get<v1::Quota>(layout::QuotaKey(org, year, c));
  }
  v1::Licence Licence(const std::string& id) { return Get<v1::Licence>(layout::LicenceKey(id)); }

  void set_quorum(const std::string& org, int q) { quorums_[org] = q; }

 private:
  int quorum_of(const std::string& org) const {
    auto it = quorums_.find(org);
    return it == quorums_.end() ? 1 : it->second;
  }

  std::unique_ptr<storage::KvStore> store_;
  std::map<std::string, crypto::KeyPair> keys_;
  std::map<std::string, int> quorums_;
  uint64_t height_ = 0;
  uint64_t time_ms_ = Jun2025();
  uint64_t nonce_ = 0;
  BlockExecution last_;
};

// The custody cast on top of genesis: a mining company with a rock mine and an
// ion-adsorption mine, a smelter-separator with a plant, a private magnet maker, a
// private exporter, and 2025 quotas for all.
class CustodyWorld : public World {
 public:
  using World::World;

  void SetupCast() {
    Genesis({Org("mineco", v1::ORG_KIND_STATE_ENTERPRISE, {v1::ROLE_MINER}, *this),
             Org("smelter", v1::ORG_KIND_STATE_ENTERPRISE, {v1::ROLE_SMELTER_SEPARATOR}, *this),
             Org("magnets", v1::ORG_KIND_PRIVATE_ENTERPRISE, {v1::ROLE_PROCESSOR}, *this),
             Org("exporter", v1::ORG_KIND_PRIVATE_ENTERPRISE, {v1::ROLE_EXPORTER}, *this)});
    Ok(Site("mine-a", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK));
    Ok(Site("mine-b", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ION_ADSORPTION));
    Ok(Site("plant-s", "smelter", v1::SITE_KIND_PLANT, v1::DEPOSIT_TYPE_UNSPECIFIED));
    Ok(Site("plant-m", "magnets", v1::SITE_KIND_PLANT, v1::DEPOSIT_TYPE_UNSPECIFIED));
    Ok(Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 1'000'000));
    Ok(Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY, 1'000'000));
    Ok(Quota("smelter", 2025, v1::QUOTA_CATEGORY_SMELTING_SEPARATION, 1'000'000));
  }

  v1::TxBody Site(const std::string& id, const std::string& org, v1::SiteKind kind,
                  v1::DepositType d) {
    v1::TxBody b = Body("miit");
    v1::RegisterSite* s = b.mutable_register_site();
    s->set_site_id(id);
    s->set_org_id(org);
    s->set_name("Site " + id);
    s->set_kind(kind);
    s->set_deposit_type(d);
    if (kind == v1::SITE_KIND_MINE)
      s->set_province(d == v1::DEPOSIT_TYPE_ROCK ? "Inner Mongolia" : "Jiangxi");
    return b;
  }
  v1::TxBody Quota(const std::string& org, uint32_t year, v1::QuotaCategory c, int64_t g) {
    v1::TxBody b = Body("miit");
    v1::SetQuota* q = b.mutable_set_quota();
    q->set_org_id(org);
    q->set_year(year);
    q->set_category(c);
    q->set_amount_g(g);
    return b;
  }
  v1::TxBody Extract(const std::string& lot, const std::string& site, int64_t mass,
                     const v1::Composition& c, v1::ProductForm p = v1::PRODUCT_FORM_ORE,
                     const std::string& signer = "mineco") {
    v1::TxBody b = Body(signer);
    v1::Extract* e = b.mutable_extract();
    e->set_site_id(site);
    e->set_lot_id(lot);
    e->set_product(p);
    e->set_mass_g(mass);
    *e->mutable_composition() = c;
    return b;
  }
  v1::TxBody Import(const std::string& lot, int64_t mass, const v1::Composition& c,
                    v1::ProductForm p = v1::PRODUCT_FORM_CONCENTRATE,
                    const std::string& signer = "smelter") {
    v1::TxBody b = Body(signer);
    v1::Import* i = b.mutable_import_lot();
    i->set_lot_id(lot);
    i->set_product(p);
    i->set_mass_g(mass);
    *i->mutable_composition() = c;
    i->set_origin_country("MM");
    i->set_supplier("Kachin Minerals");
    i->set_customs_declaration("IMP-001");
    return b;
  }
  struct Out {
    std::string id;
    v1::ProductForm product;
    int64_t mass;
    v1::Composition comp;
  };
  v1::TxBody Process(const std::string& signer, std::vector<std::string> inputs,
                     std::vector<Out> outputs, const std::string& site = "") {
    v1::TxBody b = Body(signer);
    v1::Process* p = b.mutable_process();
    for (auto& i : inputs) p->add_input_lot_ids(i);
    for (auto& o : outputs) {
      v1::LotOutput* lo = p->add_outputs();
      lo->set_lot_id(o.id);
      lo->set_product(o.product);
      lo->set_mass_g(o.mass);
      *lo->mutable_composition() = o.comp;
    }
    p->set_site_id(site);
    return b;
  }
  v1::TxBody Offer(const std::string& signer, const std::string& offer,
                   std::vector<std::string> lots, const std::string& to) {
    v1::TxBody b = Body(signer);
    v1::TransferOffer* o = b.mutable_transfer_offer();
    o->set_offer_id(offer);
    for (auto& l : lots) o->add_lot_ids(l);
    o->set_to_org_id(to);
    return b;
  }
  v1::TxBody AcceptOffer(const std::string& signer, const std::string& offer) {
    v1::TxBody b = Body(signer);
    b.mutable_transfer_accept()->set_offer_id(offer);
    return b;
  }
  // Offers and accepts in two blocks.
  void Transfer(const std::string& from, const std::string& offer, std::vector<std::string> lots,
                const std::string& to) {
    Ok(Offer(from, offer, lots, to));
    Ok(AcceptOffer(to, offer));
  }
  v1::TxBody Apply(const std::string& licence, const std::string& country,
                   const std::string& end_user, v1::ProductForm product,
                   std::vector<v1::Element> elements, int64_t mass,
                   v1::Industry industry = v1::INDUSTRY_AUTOMOTIVE_EV,
                   const std::string& signer = "exporter") {
    v1::TxBody b = Body(signer);
    v1::ApplyExportLicense* a = b.mutable_apply_export_license();
    a->set_licence_id(licence);
    a->set_destination_country(country);
    a->set_consignee("Consignee of " + end_user);
    a->set_end_user(end_user);
    a->set_industry(industry);
    a->set_product(product);
    for (v1::Element e : elements) a->add_elements(e);
    a->set_mass_g(mass);
    a->set_purpose("motors");
    return b;
  }
  v1::TxBody Decide(const std::string& licence, v1::Decision d, uint64_t valid_until) {
    v1::TxBody b = Body("mofcom");
    v1::DecideExportLicense* x = b.mutable_decide_export_license();
    x->set_licence_id(licence);
    x->set_decision(d);
    x->set_valid_until_ms(valid_until);
    x->set_reason("reviewed");
    return b;
  }
  v1::TxBody Restrict(const std::string& id, v1::RestrictionMatch match,
                      v1::RestrictionEffect effect, bool revoke = false) {
    v1::TxBody b = Body("mofcom");
    v1::SetExportRestriction* r = b.mutable_set_export_restriction();
    r->set_restriction_id(id);
    *r->mutable_match() = match;
    r->set_effect(effect);
    r->set_reason("national security");
    r->set_revoke_outstanding(revoke);
    return b;
  }
  v1::TxBody Clear(const std::string& licence, std::vector<std::string> lots) {
    v1::TxBody b = Body("gacc");
    v1::ClearExport* c = b.mutable_clear_export();
    c->set_licence_id(licence);
    for (auto& l : lots) c->add_lot_ids(l);
    c->set_customs_declaration("EXP-" + licence);
    return b;
  }
};

}  // namespace reel::ledger::testing
