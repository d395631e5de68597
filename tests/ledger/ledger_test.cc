// The envelope, signatures, replay, expiry and the state root.
#include "node/ledger/ledger.h"

#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/ledger/ledger_test_util.h"
#include "tests/test_util.h"

namespace reel::ledger::testing {
namespace {

class LedgerTest : public ::testing::Test, public CustodyWorld {};

TEST(VerifyTest, AcceptsAWellSignedTransaction) {
  World w;
  v1::TxBody b = w.Body("miit");
  b.mutable_reinstate()->set_org_id("x1");
  Result<VerifiedTx> v = Verify(w.Sign(b), kChain);
  ASSERT_OK(v);
  EXPECT_EQ(v->signers.size(), 1u);
  EXPECT_EQ(v->id, crypto::TransactionId(kChain, b.SerializeAsString()));
}

TEST(VerifyTest, RefusesEachBrokenEnvelopeWithItsCode) {
  World w;
  v1::TxBody b = w.Body("miit");
  b.mutable_reinstate()->set_org_id("x1");
  v1::Transaction t = w.Sign(b);

  v1::Transaction altered = t;
  altered.mutable_body()->back() ^= 1;
  EXPECT_EQ(ErrorCodeOf(Verify(altered, kChain).status()), v1::INVALID_SIGNATURE);

  v1::Transaction garbage = t;
  garbage.set_body("\xff\xff\xff");
  EXPECT_EQ(ErrorCodeOf(Verify(garbage, kChain).status()), v1::MALFORMED);

  EXPECT_EQ(ErrorCodeOf(Verify(t, "other-chain").status()), v1::WRONG_CHAIN);

  v1::Transaction twice = t;
  *twice.add_signatures() = t.signatures(0);
  EXPECT_EQ(ErrorCodeOf(Verify(twice, kChain).status()), v1::DUPLICATE_ITEM);

  v1::Transaction short_key = t;
  short_key.mutable_signatures(0)->set_public_key("abc");
  EXPECT_EQ(ErrorCodeOf(Verify(short_key, kChain).status()), v1::INVALID_PUBLIC_KEY);

  v1::Transaction big = t;
  big.set_body(std::string(70 * 1024, 'x'));
  EXPECT_EQ(ErrorCodeOf(Verify(big, kChain).status()), v1::TOO_LARGE);
  // The code travels as a value: a message that merely starts with a code's name
  // carries none, and a copied status keeps it.
  EXPECT_EQ(ErrorCodeOf(Status::InvalidArgument("DUPLICATE_TX: looks like one")), v1::MALFORMED);
  const Status copied = Verify(big, kChain).status();
  EXPECT_EQ(ErrorCodeOf(copied), v1::TOO_LARGE);
}

TEST_F(LedgerTest, CheckAppliesSignerRulesAgainstCommittedState) {
  SetupCast();
  v1::TxBody b = Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 5);
  EXPECT_OK(Check(Verified(Sign(b)), store(), height() + 1));
  // Signed by another organisation's key.
  EXPECT_EQ(ErrorCodeOf(Check(Verified(Sign(b, 1, "mineco")), store(), height() + 1)),
            v1::UNKNOWN_SIGNATORY);
  // Not enough signatures.
  EXPECT_EQ(ErrorCodeOf(Check(Verified(Sign(b, 0)), store(), height() + 1)),
            v1::INSUFFICIENT_QUORUM);
  // Unknown signer.
  v1::TxBody ghost = b;
  ghost.set_org_id("ghost");
  EXPECT_EQ(ErrorCodeOf(Check(Verified(Sign(ghost)), store(), height() + 1)), v1::SIGNER_NOT_FOUND);
  // Wrong role.
  v1::TxBody by_miner = b;
  by_miner.set_org_id("mineco");
  EXPECT_EQ(ErrorCodeOf(Check(Verified(Sign(by_miner)), store(), height() + 1)),
            v1::UNAUTHORIZED_ROLE);
  // Expired.
  v1::TxBody old = b;
  old.set_expiry_height(height());
  EXPECT_EQ(ErrorCodeOf(Check(Verified(Sign(old)), store(), height() + 1)), v1::EXPIRED_TX);
  // Form.
  v1::TxBody bad = b;
  bad.mutable_set_quota()->set_amount_g(-1);
  EXPECT_EQ(ErrorCodeOf(Check(Verified(Sign(bad)), store(), height() + 1)), v1::INVALID_AMOUNT);
  // Replay of a committed transaction.
  VerifiedTx once = Verified(Sign(b));
  EXPECT_EQ(Execute({once}).at(0).code(), v1::OK);
  EXPECT_EQ(ErrorCodeOf(Check(once, store(), height() + 1)), v1::DUPLICATE_TX);
}

// One SignerCheck over a proposal's transactions answers each as CheckSigners alone
// would, whatever the transactions before it read (the voters' and leader's check).
TEST_F(LedgerTest, OneSignerCheckAnswersEachTransactionAsItsOwnCheck) {
  SetupCast();
  v1::TxBody b = Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 5);
  v1::TxBody ghost = b;
  ghost.set_org_id("ghost");
  const std::vector<VerifiedTx> txs = {Verified(Sign(b)),    Verified(Sign(b, 1, "mineco")),
                                       Verified(Sign(b, 0)), Verified(Sign(ghost)),
                                       Verified(Sign(b)),    Verified(Sign(Body("mineco")))};
  const std::vector<v1::ErrorCode> want = {
      v1::OK, v1::UNKNOWN_SIGNATORY, v1::INSUFFICIENT_QUORUM, v1::SIGNER_NOT_FOUND, v1::OK, v1::OK};
  SignerCheck check(store());
  for (size_t i = 0; i < txs.size(); ++i) {
    EXPECT_EQ(ErrorCodeOf(check.Check(txs[i])), want[i]) << "transaction " << i;
    EXPECT_EQ(ErrorCodeOf(CheckSigners(txs[i], store())), want[i]) << "transaction " << i;
  }
}

TEST_F(LedgerTest, ReplayIsRefusedInTheSameBlockAndLater) {
  SetupCast();
  VerifiedTx t = Verified(Sign(Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 7)));
  std::vector<v1::TxResult> r = Execute({t, t});
  EXPECT_EQ(r.at(0).code(), v1::OK);
  EXPECT_EQ(r.at(1).code(), v1::DUPLICATE_TX);
  r = Execute({t});
  EXPECT_EQ(r.at(0).code(), v1::DUPLICATE_TX);
  EXPECT_TRUE(LastStateWrites().empty());
  // The first record stands.
  v1::GetTransactionResponse rec =
      Get<v1::GetTransactionResponse>(storage::keys::TxKey(std::string(crypto::AsBytes(t.id))));
  EXPECT_EQ(rec.height(), height() - 1);
  EXPECT_EQ(rec.result().code(), v1::OK);
}

TEST_F(LedgerTest, ExpiryAndChainAreCheckedAtExecution) {
  SetupCast();
  v1::TxBody b = Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 7);
  b.set_expiry_height(height());
  Refused(b, v1::EXPIRED_TX);
  v1::TxBody ok = Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 7);
  ok.set_expiry_height(height() + 1);
  Ok(ok);
}

TEST_F(LedgerTest, SuspendedSignerIsRefused) {
  SetupCast();
  v1::TxBody b = Body("miit");
  b.mutable_update_org()->set_org_id("mineco");
  b.mutable_update_org()->set_status(v1::ORG_STATUS_SUSPENDED);
  Ok(b);
  Refused(Extract("L1", "mine-a", 1000, Comp({{v1::ELEMENT_ND, 10}})), v1::ORG_SUSPENDED);
}

TEST_F(LedgerTest, QuorumOfDistinctCurrentKeys) {
  Genesis({Org("multi", v1::ORG_KIND_STATE_ENTERPRISE, {v1::ROLE_MINER}, *this, 3, 2)});
  v1::TxBody b = Body("multi");
  b.mutable_rotate_keys()->add_signatory_keys(PublicKey("multi", 5));
  b.mutable_rotate_keys()->set_quorum(1);
  // One signature of a quorum of two.
  std::vector<v1::TxResult> r = Execute({Verified(Sign(b, 1))});
  EXPECT_EQ(r.at(0).code(), v1::INSUFFICIENT_QUORUM);
  // A committed id never commits again, even after a failure: sign a new body.
  r = Execute({Verified(Sign(b, 2))});
  EXPECT_EQ(r.at(0).code(), v1::DUPLICATE_TX);
  b.set_nonce(b.nonce() + 1000);
  r = Execute({Verified(Sign(b, 2))});
  EXPECT_EQ(r.at(0).code(), v1::OK) << r.at(0).message();
  EXPECT_EQ(OrgRecord("multi").key_generation(), 1u);
  // The old keys no longer sign.
  v1::TxBody again = Body("multi");
  again.mutable_rotate_keys()->add_signatory_keys(PublicKey("multi", 6));
  again.mutable_rotate_keys()->set_quorum(1);
  r = Execute({Verified(Sign(again, 2))});
  EXPECT_EQ(r.at(0).code(), v1::UNKNOWN_SIGNATORY);
}

TEST_F(LedgerTest, StateRootChainsAndIsStored) {
  SetupCast();
  Result<crypto::Hash32> before = StateRoot(store());
  ASSERT_OK(before);
  Ok(Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 9));
  Result<crypto::Hash32> after = StateRoot(store());
  ASSERT_OK(after);
  EXPECT_NE(*before, *after);
  EXPECT_EQ(*after, last().state_root);
  Result<uint64_t> h = ExecutedHeight(store());
  ASSERT_OK(h);
  EXPECT_EQ(*h, height());
}

TEST(GenesisTest, NeedsARegulatorAndAppliesTheRules) {
  World w;
  v1::Genesis g;
  g.set_chain_id(kChain);
  *g.add_orgs() = World::Org("mofcom", v1::ORG_KIND_MINISTRY, {v1::ROLE_EXPORT_AUTHORITY}, w);
  EXPECT_FALSE(ExecuteGenesis(g).ok());
  *g.add_orgs() = World::Org("miit", v1::ORG_KIND_MINISTRY, {v1::ROLE_REGULATOR}, w);
  *g.add_orgs() = World::Org("private-miner", v1::ORG_KIND_PRIVATE_ENTERPRISE, {v1::ROLE_MINER}, w);
  Result<BlockExecution> ex = ExecuteGenesis(g);
  ASSERT_FALSE(ex.ok());
  EXPECT_NE(ex.status().message().find("NOT_STATE_ENTERPRISE"), std::string::npos);
}

}  // namespace
}  // namespace reel::ledger::testing

namespace reel::ledger::testing {
namespace {

// The genesis example of proto/README.md, as operators copy it, builds a state.
TEST(GenesisTest, TheReadmeExampleApplies) {
  std::ifstream in(REEL_PROTO_README);
  ASSERT_TRUE(in.good()) << REEL_PROTO_README;
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const size_t start = readme.find("```json\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = readme.find("```", start + 8);
  v1::Genesis genesis;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(readme.substr(start + 8, end - start - 8),
                                                          &genesis, options)
                  .ok());
  Result<BlockExecution> ex = ExecuteGenesis(genesis);
  ASSERT_OK(ex);
  std::unique_ptr<storage::KvStore> store = storage::NewMemoryStore();
  ASSERT_OK(CommitForTest(*store, *ex, 0));
  Result<std::optional<std::string>> org = store->Get(layout::OrgKey("northern-re"));
  ASSERT_TRUE(org.ok() && org->has_value());
  Result<std::optional<std::string>> quota =
      store->Get(layout::QuotaKey("northern-re", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT));
  ASSERT_TRUE(quota.ok() && quota->has_value());
  EXPECT_EQ(*StateRoot(*store), ex->state_root);
}

TEST(LimitsTest, ListsTextsAndSumsAreBounded) {
  CustodyWorld w;
  w.SetupCast();
  // More lots than one transaction may name.
  v1::TxBody offer = w.Offer("mineco", "OF", {}, "smelter");
  for (int i = 0; i < 300; ++i)
    offer.mutable_transfer_offer()->add_lot_ids("L" + std::to_string(i));
  w.Refused(offer, v1::TOO_MANY_ITEMS);
  // Text too long, and not UTF-8.
  v1::TxBody site = w.Site("mine-z", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK);
  site.mutable_register_site()->set_name(std::string(2000, 'x'));
  w.Refused(site, v1::INVALID_TEXT);
  // Invalid UTF-8 in a proto3 string never parses: the envelope is refused first.
  site.mutable_register_site()->set_name("\xc3\x28");
  EXPECT_EQ(ErrorCodeOf(Verify(w.Sign(site), kChain).status()), v1::MALFORMED);
  // A composition whose sum overflows int64.
  w.Refused(
      w.Extract("L1", "mine-a", INT64_MAX,
                Comp({{v1::ELEMENT_LA, INT64_MAX / 2 + 1}, {v1::ELEMENT_CE, INT64_MAX / 2 + 1}})),
      v1::AMOUNT_OVERFLOW);
  // Revenue x multiplier overflows.
  v1::TxBody v = w.Body("miit");
  v.mutable_record_violation()->set_violation_id("V");
  v.mutable_record_violation()->set_org_id("mineco");
  v.mutable_record_violation()->set_kind(v1::VIOLATION_KIND_SMUGGLING);
  v.mutable_record_violation()->set_illegal_revenue_fen(INT64_MAX / 2);
  v.mutable_record_violation()->set_multiplier(5);
  v.mutable_record_violation()->set_fine_fen(1);
  w.Refused(v, v1::AMOUNT_OVERFLOW);
  // An action-less body.
  w.Refused(w.Body("miit"), v1::NO_ACTION);
}

TEST(TxRecordTest, EveryTransactionHasItsRecordWithItsResult) {
  CustodyWorld w;
  w.SetupCast();
  VerifiedTx bad = w.Verified(w.Sign(w.Extract("L1", "plant-s", 10, Comp({{v1::ELEMENT_CE, 1}}))));
  VerifiedTx good = w.Verified(w.Sign(w.Extract("L2", "mine-a", 10, Comp({{v1::ELEMENT_CE, 1}}))));
  w.Execute({bad, good});
  auto record = [&](const VerifiedTx& t) {
    return w.Get<v1::GetTransactionResponse>(
        storage::keys::TxKey(std::string(crypto::AsBytes(t.id))));
  };
  EXPECT_EQ(record(bad).result().code(), v1::NOT_OWN_SITE);
  EXPECT_FALSE(record(bad).result().message().empty());
  EXPECT_EQ(record(bad).tx_index(), 0u);
  EXPECT_EQ(record(good).result().code(), v1::OK);
  EXPECT_EQ(record(good).tx_index(), 1u);
  EXPECT_EQ(record(good).height(), w.height());
  EXPECT_EQ(record(good).time_ms(), w.time_ms());
}

}  // namespace
}  // namespace reel::ledger::testing

namespace reel::ledger::testing {
namespace {

// Two nodes that differ in one block differ in its root and in every root after it.
TEST(StateRootTest, DivergenceShowsAtTheFirstDifferingBlockAndStays) {
  CustodyWorld a, b;
  a.SetupCast();
  b.SetupCast();
  ASSERT_EQ(a.last().state_root, b.last().state_root);
  a.Ok(a.Quota("mineco", 2026, v1::QUOTA_CATEGORY_MINING_LIGHT, 10));
  b.Ok(b.Quota("mineco", 2026, v1::QUOTA_CATEGORY_MINING_LIGHT, 11));
  EXPECT_NE(a.last().state_root, b.last().state_root);
  v1::TxBody same = a.Extract("L1", "mine-a", 10, Comp({{v1::ELEMENT_CE, 1}}));
  a.Ok(same);
  b.Ok(same);
  EXPECT_NE(a.last().state_root, b.last().state_root);
}

// Verify is pure: many threads may verify at once and agree.
TEST(VerifyTest, IsSafeToRunInParallel) {
  World w;
  std::vector<v1::Transaction> txs;
  for (int i = 0; i < 64; ++i) {
    v1::TxBody b = w.Body("miit");
    b.mutable_reinstate()->set_org_id("org" + std::to_string(i));
    txs.push_back(w.Sign(b));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (const v1::Transaction& tx : txs) ok += Verify(tx, kChain).ok() ? 1 : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4 * 64);
}

}  // namespace
}  // namespace reel::ledger::testing

namespace reel::ledger::testing {
namespace {

TEST(EventTest, EachTransactionOfABlockHasItsEvent) {
  CustodyWorld w;
  w.SetupCast();
  w.Ok(w.Extract("L1", "mine-a", 100, Comp({{v1::ELEMENT_CE, 10}})));
  w.Ok(w.Offer("mineco", "OF", {"L1"}, "smelter"));
  w.Block({w.AcceptOffer("smelter", "OF"),
           w.Extract("L1", "mine-a", 100, Comp({{v1::ELEMENT_CE, 10}}))});
  v1::Event accept = w.Get<v1::Event>(layout::EventKey(w.height(), 0));
  EXPECT_EQ(accept.kind(), v1::TX_KIND_TRANSFER_ACCEPT);
  EXPECT_EQ(accept.code(), v1::OK);
  EXPECT_EQ(accept.signer_org_id(), "smelter");
  EXPECT_EQ(accept.offer_id(), "OF");
  ASSERT_EQ(accept.lot_ids_size(), 1);
  EXPECT_EQ(accept.lot_ids(0), "L1");
  ASSERT_EQ(accept.org_ids_size(), 1);
  EXPECT_EQ(accept.org_ids(0), "mineco");
  v1::Event failed = w.Get<v1::Event>(layout::EventKey(w.height(), 1));
  EXPECT_EQ(failed.code(), v1::LOT_EXISTS);
  EXPECT_EQ(failed.site_id(), "mine-a");
}

}  // namespace
}  // namespace reel::ledger::testing
