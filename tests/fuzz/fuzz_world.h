// The fixed world the fuzz targets and their seed maker share: a chain id, four
// validators and the organisations of a small custody chain, every key derived from
// its name, so that a seed signed by make_seeds verifies in the targets.
//
// Header-only on purpose: each target is one .cc linking only the libraries it
// fuzzes. A world that cannot be built is a harness bug: it aborts with the reason.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/types.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/signing.h"
#include "node/ledger/ledger.h"
#include "node/ledger/rules.h"
#include "node/storage/memory_store.h"

namespace reel::fuzz {

namespace v1 = ::reel::v1;

inline constexpr char kChain[] = "reel-fuzz";
inline constexpr uint32_t kValidators = 4;

[[noreturn]] inline void Die(const std::string& why) {
  std::fprintf(stderr, "fuzz harness: %s\n", why.c_str());
  std::abort();
}

// The key called `name` ("validator#2", "miit#0"), the same on every run.
inline const crypto::KeyPair& Key(const std::string& name) {
  static auto* keys = new std::map<std::string, crypto::KeyPair>();
  auto it = keys->find(name);
  if (it == keys->end()) {
    const crypto::Hash32 seed = crypto::Blake2b256(name);
    Result<crypto::KeyPair> pair = crypto::KeyPair::FromSeed(crypto::AsBytes(seed));
    if (!pair.ok()) Die("key " + name + ": " + pair.status().ToString());
    it = keys->emplace(name, std::move(pair).value()).first;
  }
  return it->second;
}
inline const crypto::KeyPair& ValidatorKey(uint32_t index) {
  return Key("validator#" + std::to_string(index));
}

// The organisations of genesis (MakeGenesis).
inline constexpr std::string_view kOrgs[] = {"miit",    "mofcom",  "gacc",    "mineco",
                                             "smelter", "magnets", "exporter"};

// The first signatory key of `org`, one of kOrgs; of "stranger" for any other name, so
// that fuzzed names do not grow the key cache.
inline const crypto::KeyPair& OrgKey(std::string_view org) {
  for (std::string_view known : kOrgs) {
    if (org == known) return Key(std::string(org) + "#0");
  }
  return Key("stranger#0");
}

// The four validators of epoch 0, as a verifier of consensus messages sees them.
inline const consensus::VerifyContext& Validators() {
  static const consensus::VerifyContext* context = [] {
    auto* set = new consensus::ValidatorSet();
    for (uint32_t i = 0; i < kValidators; ++i) set->keys.push_back(ValidatorKey(i).public_key());
    auto* c = new consensus::VerifyContext();
    c->chain_id = kChain;
    c->validators = set;
    c->epoch_root_id = consensus::MakeGenesisBlock(kChain, 0).id;
    return c;
  }();
  return *context;
}

// Signs `body_bytes` as it stands (whatever it holds) with the first key of `org`.
inline v1::Transaction SignTx(std::string body_bytes, std::string_view org) {
  v1::Transaction tx;
  tx.set_body(std::move(body_bytes));
  const crypto::KeyPair& key = OrgKey(org);
  v1::Signature* signature = tx.add_signatures();
  signature->set_public_key(std::string(crypto::AsBytes(key.public_key())));
  signature->set_signature(
      std::string(crypto::AsBytes(key.SignDigest(crypto::TransactionId(kChain, tx.body())))));
  return tx;
}

// The first block after genesis: 2025-06-01 in UTC+8, like the ledger tests.
inline uint64_t GenesisTimeMs() {
  return ledger::CstMonthStartMs(2025, 6);
}

inline v1::RegisterOrg Org(const std::string& id, v1::OrgKind kind, v1::Role role) {
  v1::RegisterOrg org;
  org.set_org_id(id);
  org.set_name("Org " + id);
  org.set_kind(kind);
  org.add_roles(role);
  org.add_signatory_keys(std::string(crypto::AsBytes(OrgKey(id).public_key())));
  org.set_quorum(1);
  return org;
}

// The ministries, a miner with a rock mine, a separator with a plant, a magnet maker
// and an exporter, with 2025 quotas.
inline v1::Genesis MakeGenesis() {
  v1::Genesis g;
  g.set_chain_id(kChain);
  g.set_genesis_time_ms(GenesisTimeMs());
  *g.add_orgs() = Org("miit", v1::ORG_KIND_MINISTRY, v1::ROLE_REGULATOR);
  *g.add_orgs() = Org("mofcom", v1::ORG_KIND_MINISTRY, v1::ROLE_EXPORT_AUTHORITY);
  *g.add_orgs() = Org("gacc", v1::ORG_KIND_MINISTRY, v1::ROLE_CUSTOMS);
  *g.add_orgs() = Org("mineco", v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_MINER);
  *g.add_orgs() = Org("smelter", v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_SMELTER_SEPARATOR);
  *g.add_orgs() = Org("magnets", v1::ORG_KIND_PRIVATE_ENTERPRISE, v1::ROLE_PROCESSOR);
  *g.add_orgs() = Org("exporter", v1::ORG_KIND_PRIVATE_ENTERPRISE, v1::ROLE_EXPORTER);
  auto site = [&](const char* id, const char* org, v1::SiteKind kind, v1::DepositType deposit) {
    v1::RegisterSite* s = g.add_sites();
    s->set_site_id(id);
    s->set_org_id(org);
    s->set_name(std::string("Site ") + id);
    s->set_kind(kind);
    s->set_deposit_type(deposit);
    if (kind == v1::SITE_KIND_MINE) s->set_province("Inner Mongolia");
  };
  site("mine-a", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK);
  site("plant-s", "smelter", v1::SITE_KIND_PLANT, v1::DEPOSIT_TYPE_UNSPECIFIED);
  site("plant-m", "magnets", v1::SITE_KIND_PLANT, v1::DEPOSIT_TYPE_UNSPECIFIED);
  auto quota = [&](const char* org, v1::QuotaCategory category) {
    v1::SetQuota* q = g.add_quotas();
    q->set_org_id(org);
    q->set_year(2025);
    q->set_category(category);
    q->set_amount_g(1'000'000'000);
  };
  quota("mineco", v1::QUOTA_CATEGORY_MINING_LIGHT);
  quota("smelter", v1::QUOTA_CATEGORY_SMELTING_SEPARATION);
  return g;
}

inline v1::TxBody Body(std::string_view org, uint64_t nonce) {
  v1::TxBody body;
  body.set_chain_id(kChain);
  body.set_org_id(std::string(org));
  body.set_nonce(nonce);
  return body;
}

inline v1::Composition Ore() {
  v1::Composition c;
  const std::pair<v1::Element, int64_t> amounts[] = {
      {v1::ELEMENT_LA, 10'000'000}, {v1::ELEMENT_CE, 20'000'000}, {v1::ELEMENT_ND, 9'000'000}};
  for (auto [element, grams] : amounts) {
    v1::ElementAmount* a = c.add_amounts();
    a->set_element(element);
    a->set_reo_g(grams);
  }
  return c;
}

// What block 1 holds, so that block 2 (where fuzzed transactions go) finds lots, an
// open transfer offer and a licence application to act on.
inline std::vector<v1::TxBody> FirstBlockBodies() {
  std::vector<v1::TxBody> bodies;
  for (const char* lot : {"ORE-1", "ORE-2"}) {
    v1::TxBody b = Body("mineco", bodies.size() + 1);
    v1::Extract* e = b.mutable_extract();
    e->set_site_id("mine-a");
    e->set_lot_id(lot);
    e->set_product(v1::PRODUCT_FORM_ORE);
    e->set_mass_g(500'000'000);
    *e->mutable_composition() = Ore();
    bodies.push_back(b);
  }
  v1::TxBody offer = Body("mineco", bodies.size() + 1);
  offer.mutable_transfer_offer()->set_offer_id("OFFER-1");
  offer.mutable_transfer_offer()->add_lot_ids("ORE-2");
  offer.mutable_transfer_offer()->set_to_org_id("smelter");
  bodies.push_back(offer);
  v1::TxBody apply = Body("exporter", bodies.size() + 1);
  v1::ApplyExportLicense* a = apply.mutable_apply_export_license();
  a->set_licence_id("LIC-1");
  a->set_destination_country("DE");
  a->set_consignee("Consignee");
  a->set_end_user("Wind GmbH");
  a->set_industry(v1::INDUSTRY_AUTOMOTIVE_EV);
  a->set_product(v1::PRODUCT_FORM_ORE);
  a->add_elements(v1::ELEMENT_ND);
  a->set_mass_g(1'000'000);
  a->set_purpose("motors");
  bodies.push_back(apply);
  return bodies;
}

// An in-memory store holding genesis and block 1 (FirstBlockBodies), built once.
struct LedgerWorld {
  std::unique_ptr<storage::KvStore> store = storage::NewMemoryStore();
  uint64_t height = 0;   // the last committed block
  uint64_t time_ms = 0;  // its time

  LedgerWorld() {
    Result<ledger::BlockExecution> genesis = ledger::ExecuteGenesis(MakeGenesis());
    if (!genesis.ok()) Die("genesis: " + genesis.status().ToString());
    if (Status s = ledger::CommitForTest(*store, *genesis, 0); !s.ok()) Die(s.ToString());
    std::vector<ledger::VerifiedTx> txs;
    for (const v1::TxBody& body : FirstBlockBodies()) {
      Result<ledger::VerifiedTx> tx =
          ledger::Verify(SignTx(body.SerializeAsString(), body.org_id()), kChain);
      if (!tx.ok()) Die("block 1: " + tx.status().ToString());
      txs.push_back(std::move(tx).value());
    }
    height = 1;
    time_ms = GenesisTimeMs() + 1000;
    Result<ledger::BlockExecution> block =
        ledger::ExecuteBlock(*store, {kChain, height, time_ms}, txs);
    if (!block.ok()) Die("block 1: " + block.status().ToString());
    for (const v1::TxResult& result : block->results) {
      if (result.code() != v1::OK)
        Die("block 1: " + v1::ErrorCode_Name(result.code()) + ": " + result.message());
    }
    if (Status s = ledger::CommitForTest(*store, *block, height); !s.ok()) Die(s.ToString());
  }
};

}  // namespace reel::fuzz
