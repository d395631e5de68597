// Properties over random blocks of valid and invalid custody transactions (seeded;
// the seed is printed, and REEL_SEED replays one):
//   - conservation: for every element, REO extracted + imported = REO in ACTIVE,
//     IN_TRANSIT, EXPORTED and SEIZED lots + recorded process loss;
//   - determinism: two fresh stores that execute the same blocks hold byte-identical
//     state and the same root; so does a LevelDB store reopened halfway.
#include <cstdlib>
#include <iostream>

#include "base/bytes.h"
#include "node/storage/leveldb_store.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/test_util.h"

namespace reel::ledger::testing {
namespace {

uint64_t SeedFromEnv(uint64_t fallback) {
  const char* s = std::getenv("REEL_SEED");
  return s != nullptr && *s != '\0' ? std::strtoull(s, nullptr, 10) : fallback;
}

// splitmix64: one seed, the same numbers on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(int percent) { return Range(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Next() % v.size()];
  }

 private:
  uint64_t state_;
};

v1::Composition RandomComposition(Rng& rng, int64_t max_reo) {
  ElementGrams g{};
  const int n = static_cast<int>(rng.Range(1, 3));
  for (int i = 0; i < n; ++i)
    g[rng.Range(1, 17)] += rng.Range(1, std::max<int64_t>(1, max_reo / n));
  return FromGrams(g);
}

// Builds random blocks against the state of one world; the same bodies can then be
// executed by other worlds.
class Generator {
 public:
  Generator(CustodyWorld& w, uint64_t seed) : w_(w), rng_(seed) {}

  static void Setup(CustodyWorld& w) {
    w.SetupCast();
    for (auto [org, c] : {std::pair{"mineco", v1::QUOTA_CATEGORY_MINING_LIGHT},
                          {"mineco", v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY},
                          {"smelter", v1::QUOTA_CATEGORY_SMELTING_SEPARATION}}) {
      w.Ok(w.Quota(org, 2025, c, 1'000'000'000'000));
    }
    // One broad licence per downstream form, so that random clearings can succeed.
    std::vector<v1::Element> all;
    for (int e = 1; e <= 17; ++e) all.push_back(static_cast<v1::Element>(e));
    for (v1::ProductForm p :
         {v1::PRODUCT_FORM_SEPARATED_OXIDE, v1::PRODUCT_FORM_METAL, v1::PRODUCT_FORM_MAGNET}) {
      const std::string id = "LIC-" + FormName(p);
      w.Ok(w.Apply(id, "DE", "Acme", p, all, 1'000'000'000'000));
      w.Ok(w.Decide(id, v1::DECISION_GRANT, w.time_ms() + 1'000'000'000));
    }
  }

  std::vector<v1::TxBody> NextBlock(int txs) {
    std::vector<v1::TxBody> out;
    for (const std::string& offer : open_offers_) out.push_back(Resolve(offer));
    open_offers_.clear();
    for (int i = 0; i < txs; ++i) out.push_back(RandomTx());
    return out;
  }

 private:
  std::optional<v1::Lot> LotNow(const std::string& id) {
    Result<std::optional<std::string>> got = w_.store().Get(layout::LotKey(id));
    if (!got.ok() || !got->has_value()) return std::nullopt;
    v1::Lot lot;
    lot.ParseFromString(**got);
    return lot;
  }
  // A random known lot, preferring ACTIVE ones (a few tries).
  std::optional<v1::Lot> SomeLot() {
    if (lots_.empty()) return std::nullopt;
    std::optional<v1::Lot> lot;
    for (int i = 0; i < 6; ++i) {
      lot = LotNow(rng_.Pick(lots_));
      if (lot.has_value() && lot->status() == v1::LOT_STATUS_ACTIVE) return lot;
    }
    return lot;
  }
  std::string NewId(const char* prefix) { return prefix + std::to_string(++counter_); }

  v1::TxBody Resolve(const std::string& offer) {
    const auto& [from, to] = offers_[offer];
    const int64_t choice = rng_.Range(1, 10);
    if (choice <= 7) return w_.AcceptOffer(to, offer);
    v1::TxBody b = w_.Body(choice <= 9 ? to : from);
    if (choice <= 9) {
      b.mutable_transfer_reject()->set_offer_id(offer);
    } else {
      b.mutable_transfer_cancel()->set_offer_id(offer);
    }
    return b;
  }

  v1::TxBody RandomTx() {
    switch (rng_.Range(0, 19)) {
      case 0:
      case 1:
      case 2:
      case 3:
        return Extract();
      case 4:
      case 5:
        return Import();
      case 6:
      case 7:
      case 8:
      case 9:
        return Process();
      case 10:
      case 11:
        return Split();
      case 12:
        return Merge();
      case 13:
      case 14:
      case 15:
      case 16:
        return Offer();
      case 17:
      case 18:
        return Clear();
      default:
        return Seize();
    }
  }

  v1::TxBody Extract() {
    const std::string id = NewId("E");
    lots_.push_back(id);
    const int64_t mass = rng_.Range(1000, 100'000);
    const int64_t reo_max = rng_.Chance(5) ? mass * 2 : mass / 4;  // sometimes REO > mass
    return w_.Extract(id, rng_.Chance(50) ? "mine-a" : "mine-b", mass,
                      RandomComposition(rng_, reo_max),
                      rng_.Chance(50) ? v1::PRODUCT_FORM_ORE : v1::PRODUCT_FORM_CONCENTRATE);
  }
  v1::TxBody Import() {
    const std::string id = NewId("I");
    lots_.push_back(id);
    const int64_t mass = rng_.Range(1000, 100'000);
    return w_.Import(id, mass, RandomComposition(rng_, mass / 3));
  }
  v1::TxBody Process() {
    std::optional<v1::Lot> first = SomeLot();
    if (!first.has_value()) return Extract();
    const std::string holder = first->holder_org_id();
    std::vector<v1::Lot> inputs{*first};
    if (rng_.Chance(30)) {
      std::optional<v1::Lot> more = SomeLot();
      if (more.has_value() && more->lot_id() != first->lot_id()) inputs.push_back(*more);
    }
    int rank = 0;
    ElementGrams in{};
    for (const v1::Lot& l : inputs) {
      rank = std::max(rank, FormRank(l.product()));
      AddGrams(&in, ToGrams(l.composition()));
    }
    v1::ProductForm form =
        holder == "mineco" ? v1::PRODUCT_FORM_CONCENTRATE
        : holder == "smelter"
            ? (rng_.Chance(50) ? v1::PRODUCT_FORM_MIXED_OXIDE : v1::PRODUCT_FORM_SEPARATED_OXIDE)
            : (rng_.Chance(50) ? v1::PRODUCT_FORM_METAL : v1::PRODUCT_FORM_MAGNET);
    if (rng_.Chance(10)) form = v1::PRODUCT_FORM_ORE;  // often below the inputs
    const int outputs = static_cast<int>(rng_.Range(1, 2));
    std::vector<CustodyWorld::Out> outs;
    for (int o = 0; o < outputs; ++o) {
      ElementGrams g{};
      for (size_t e = 1; e < g.size(); ++e) g[e] = in[e] * rng_.Range(70, 100) / 100 / outputs;
      if (rng_.Chance(8)) g[rng_.Range(1, 17)] += rng_.Range(1, 50);  // conservation broken
      int64_t reo = SumGrams(g);
      if (reo == 0) g[1] = 1, reo = 1;
      const std::string id = NewId("P");
      lots_.push_back(id);
      outs.push_back({id, form, reo + rng_.Range(0, 1000), FromGrams(g)});
    }
    std::vector<std::string> ids;
    for (const v1::Lot& l : inputs) ids.push_back(l.lot_id());
    return w_.Process(holder, ids, outs);
  }
  v1::TxBody Split() {
    std::optional<v1::Lot> lot = SomeLot();
    if (!lot.has_value()) return Extract();
    v1::TxBody b = w_.Body(lot->holder_org_id());
    v1::Split* s = b.mutable_split();
    s->set_lot_id(lot->lot_id());
    const int parts = static_cast<int>(rng_.Range(2, 3));
    int64_t left = lot->mass_g() + (rng_.Chance(5) ? 1 : 0);
    for (int p = 0; p < parts; ++p) {
      v1::SplitPart* part = s->add_parts();
      part->set_lot_id(NewId("S"));
      lots_.push_back(part->lot_id());
      const int64_t m =
          p + 1 == parts ? left : std::max<int64_t>(1, left / (parts - p) - rng_.Range(0, 3));
      part->set_mass_g(m);
      left -= m;
    }
    return b;
  }
  v1::TxBody Merge() {
    std::optional<v1::Lot> a = SomeLot();
    std::optional<v1::Lot> b = SomeLot();
    if (!a.has_value() || !b.has_value()) return Extract();
    v1::TxBody body = w_.Body(a->holder_org_id());
    body.mutable_merge()->add_input_lot_ids(a->lot_id());
    body.mutable_merge()->add_input_lot_ids(b->lot_id());
    body.mutable_merge()->set_output_lot_id(NewId("M"));
    lots_.push_back(body.merge().output_lot_id());
    return body;
  }
  v1::TxBody Offer() {
    std::optional<v1::Lot> lot = SomeLot();
    if (!lot.has_value()) return Extract();
    const std::string& from = lot->holder_org_id();
    std::string to = from == "mineco"    ? "smelter"
                     : from == "smelter" ? (rng_.Chance(50) ? "magnets" : "exporter")
                                         : "exporter";
    if (rng_.Chance(5)) to = "mofcom";  // no custody role
    const std::string id = NewId("OF");
    offers_[id] = {from, to};
    if (to == "exporter") to_exporter_.push_back(lot->lot_id());
    open_offers_.push_back(id);
    return w_.Offer(from, id, {lot->lot_id()}, to);
  }
  // Mostly lots sent to the exporter, so that clearings often succeed.
  v1::TxBody Clear() {
    std::optional<v1::Lot> lot;
    if (!to_exporter_.empty() && rng_.Chance(80)) lot = LotNow(rng_.Pick(to_exporter_));
    if (!lot.has_value()) lot = SomeLot();
    if (!lot.has_value()) return Extract();
    return w_.Clear("LIC-" + FormName(rng_.Chance(90) ? lot->product() : v1::PRODUCT_FORM_METAL),
                    {lot->lot_id()});
  }
  v1::TxBody Seize() {
    std::optional<v1::Lot> lot = SomeLot();
    if (!lot.has_value()) return Extract();
    v1::TxBody b = w_.Body("miit");
    v1::RecordViolation* v = b.mutable_record_violation();
    v->set_violation_id(NewId("V"));
    v->set_org_id(lot->holder_org_id());
    v->set_kind(v1::VIOLATION_KIND_FALSE_RECORD);
    v->set_fine_fen(60'000'000);
    v->add_seize_lot_ids(lot->lot_id());
    return b;
  }

  CustodyWorld& w_;
  Rng rng_;
  std::vector<std::string> lots_;
  std::map<std::string, std::pair<std::string, std::string>> offers_;
  std::vector<std::string> open_offers_;
  std::vector<std::string> to_exporter_;
  uint64_t counter_ = 0;
};

// Per element: what came in, and where it is now.
struct Balance {
  ElementGrams in{};
  ElementGrams loss{};
  void Add(const std::vector<v1::TxBody>& bodies, const std::vector<v1::TxResult>& results) {
    for (size_t i = 0; i < bodies.size(); ++i) {
      if (results.at(i).code() != v1::OK) continue;
      if (bodies[i].has_extract()) AddGrams(&in, ToGrams(bodies[i].extract().composition()));
      if (bodies[i].has_import_lot()) AddGrams(&in, ToGrams(bodies[i].import_lot().composition()));
      AddGrams(&loss, ToGrams(results[i].process_loss()));
    }
  }
};

ElementGrams HeldReo(const storage::ReadView& view, std::map<v1::LotStatus, int>* counts) {
  ElementGrams held{};
  Status s = storage::ScanPrefix(
      view, layout::StatePrefix(layout::StateTag::kLot),
      [&](std::string_view, std::string_view value) {
        v1::Lot lot;
        EXPECT_TRUE(lot.ParseFromArray(value.data(), static_cast<int>(value.size())));
        (*counts)[lot.status()]++;
        if (lot.status() != v1::LOT_STATUS_CONSUMED) AddGrams(&held, ToGrams(lot.composition()));
        return true;
      });
  EXPECT_OK(s);
  return held;
}

// Every key and value of two stores, in order.
void ExpectSameStores(const storage::ReadView& a, const storage::ReadView& b) {
  std::unique_ptr<storage::Iterator> ia = a.NewIterator();
  std::unique_ptr<storage::Iterator> ib = b.NewIterator();
  ia->SeekToFirst();
  ib->SeekToFirst();
  size_t n = 0;
  for (; ia->Valid() && ib->Valid(); ia->Next(), ib->Next(), ++n) {
    ASSERT_EQ(reel::ToHex(ia->key()), reel::ToHex(ib->key())) << "at record " << n;
    ASSERT_EQ(ia->value(), ib->value()) << "value of " << reel::ToHex(ia->key());
  }
  EXPECT_FALSE(ia->Valid());
  EXPECT_FALSE(ib->Valid());
}

TEST(LedgerPropertyTest, ConservationOverRandomCustody) {
  const uint64_t seed = SeedFromEnv(20261128);
  std::cout << "seed " << seed << " (REEL_SEED=" << seed << " replays it)\n";
  CustodyWorld w;
  Generator::Setup(w);
  Generator gen(w, seed);
  Balance balance;
  size_t ok = 0, refused = 0;
  std::map<v1::ErrorCode, int> codes;
  for (int block = 0; block < 120; ++block) {
    std::vector<v1::TxBody> bodies = gen.NextBlock(30);
    std::vector<v1::TxResult> results = w.Block(bodies);
    ASSERT_EQ(results.size(), bodies.size());
    for (const v1::TxResult& r : results) {
      (r.code() == v1::OK ? ok : refused)++;
      codes[r.code()]++;
    }
    balance.Add(bodies, results);
    std::map<v1::LotStatus, int> counts;
    const ElementGrams held = HeldReo(w.store(), &counts);
    for (size_t e = 1; e < held.size(); ++e) {
      ASSERT_EQ(balance.in[e], held[e] + balance.loss[e])
          << "element " << ElementName(static_cast<v1::Element>(e)) << " at block " << block
          << " seed " << seed;
    }
    if (block == 119) {
      std::cout << "transactions applied " << ok << ", refused " << refused << "; lots by status:";
      for (auto [s, c] : counts) std::cout << " " << v1::LotStatus_Name(s) << "=" << c;
      std::cout << "\nrefusal codes:";
      for (auto [c, n] : codes) std::cout << " " << v1::ErrorCode_Name(c) << "=" << n;
      std::cout << "\n";
    }
  }
  EXPECT_GT(ok, 1000u);
  EXPECT_GT(refused, 300u);
}

TEST(LedgerPropertyTest, TwoStoresAndARestartAgree) {
  const uint64_t seed = SeedFromEnv(77);
  std::cout << "seed " << seed << "\n";
  ::reel::testing::TempDir dir("ledger-determinism");
  CustodyWorld a;
  CustodyWorld b;
  Result<std::unique_ptr<storage::KvStore>> disk = storage::OpenLevelDb(dir.Sub("db"));
  ASSERT_OK(disk);
  CustodyWorld c(std::move(disk).value());
  Generator::Setup(a);
  Generator::Setup(b);
  Generator::Setup(c);
  Generator gen(a, seed);
  for (int block = 0; block < 40; ++block) {
    std::vector<v1::TxBody> bodies = gen.NextBlock(25);
    a.Block(bodies);
    b.Block(bodies);
    c.Block(bodies);
    ASSERT_EQ(a.last().state_root, b.last().state_root) << "block " << block;
    ASSERT_EQ(a.last().state_root, c.last().state_root) << "block " << block;
    if (block == 20) {
      // Restart: close LevelDB and reopen it; execution continues from disk.
      c.ReplaceStore(nullptr);
      Result<std::unique_ptr<storage::KvStore>> reopened = storage::OpenLevelDb(dir.Sub("db"));
      ASSERT_OK(reopened);
      c.ReplaceStore(std::move(reopened).value());
    }
  }
  ExpectSameStores(a.store(), b.store());
  ExpectSameStores(a.store(), c.store());
  c.ReplaceStore(nullptr);
}

}  // namespace
}  // namespace reel::ledger::testing
