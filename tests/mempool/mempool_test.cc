// The mempool's bounds and order, and admission through the real ledger checks
// (signatures, chain id, replay against committed state) on a pool of threads.
#include "node/mempool/mempool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "node/mempool/admission.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/test_util.h"

namespace reel::mempool {
namespace {

using ledger::testing::kChain;
using ledger::testing::World;

// A pooled transaction with a made-up id, size and expiry: enough for the pool,
// which never looks inside.
PooledTx Fake(uint8_t tag, size_t bytes = 100, uint64_t expiry_height = 0) {
  auto verified = std::make_shared<ledger::VerifiedTx>();
  verified->id.fill(tag);
  verified->envelope_bytes = bytes;
  verified->body.set_expiry_height(expiry_height);
  return PooledTx{verified, std::make_shared<const v1::Transaction>()};
}

crypto::Hash32 Id(uint8_t tag) {
  crypto::Hash32 id;
  id.fill(tag);
  return id;
}

std::vector<uint8_t> Tags(const std::vector<PooledTx>& txs) {
  std::vector<uint8_t> out;
  for (const PooledTx& tx : txs) out.push_back(tx.id()[0]);
  return out;
}

TEST(MempoolTest, RefusesDuplicates) {
  Mempool pool;
  ASSERT_OK(pool.Add(Fake(1)));
  Status again = pool.Add(Fake(1));
  EXPECT_EQ(again.code(), Code::kAlreadyExists);
  EXPECT_EQ(pool.size(), 1u);
}

TEST(MempoolTest, FullByCountSaysSoAndDoesNotGrow) {
  Mempool pool(MempoolLimits{3, 1'000'000});
  for (uint8_t i = 1; i <= 3; ++i) ASSERT_OK(pool.Add(Fake(i)));
  Status full = pool.Add(Fake(4));
  EXPECT_EQ(full.code(), Code::kResourceExhausted);
  EXPECT_NE(full.message().find("3 of 3 transactions"), std::string::npos) << full.message();
  EXPECT_EQ(pool.size(), 3u);
}

TEST(MempoolTest, FullByBytes) {
  Mempool pool(MempoolLimits{100, 250});
  ASSERT_OK(pool.Add(Fake(1, 200)));
  EXPECT_EQ(pool.Add(Fake(2, 51)).code(), Code::kResourceExhausted);
  EXPECT_OK(pool.Add(Fake(3, 50)));
  EXPECT_EQ(pool.bytes(), 250u);
}

TEST(MempoolTest, ReapsOldestFirstWithinBoundsSkippingExcluded) {
  Mempool pool;
  for (uint8_t i = 1; i <= 5; ++i) ASSERT_OK(pool.Add(Fake(i, i == 2 ? 500 : 100)));
  EXPECT_EQ(Tags(pool.Reap(3, 10'000, {})), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(Tags(pool.Reap(10, 10'000, {Id(1), Id(3)})), (std::vector<uint8_t>{2, 4, 5}));
  // Too large for what is left is skipped, and smaller ones behind it still fit.
  EXPECT_EQ(Tags(pool.Reap(10, 350, {})), (std::vector<uint8_t>{1, 3, 4}));
  EXPECT_EQ(pool.size(), 5u) << "reaping must not remove";
}

TEST(MempoolTest, CommittedAndExpiredLeave) {
  Mempool pool;
  ASSERT_OK(pool.Add(Fake(1)));
  ASSERT_OK(pool.Add(Fake(2, 100, /*expiry_height=*/10)));
  ASSERT_OK(pool.Add(Fake(3, 100, /*expiry_height=*/11)));
  ASSERT_OK(pool.Add(Fake(4)));
  pool.OnCommitted(10, {Id(4)});
  EXPECT_EQ(Tags(pool.Reap(10, 10'000, {})), (std::vector<uint8_t>{1, 3}));
  EXPECT_EQ(pool.bytes(), 200u);
  pool.OnCommitted(11, {});
  EXPECT_EQ(Tags(pool.Reap(10, 10'000, {})), (std::vector<uint8_t>{1}));
}

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world_.Genesis({World::Org("mineco", v1::ORG_KIND_STATE_ENTERPRISE, {v1::ROLE_MINER}, world_)});
  }

  v1::TxBody QuotaBody(uint32_t year, int64_t amount_g = 5000) {
    v1::TxBody body = world_.Body("miit");
    v1::SetQuota* quota = body.mutable_set_quota();
    quota->set_org_id("mineco");
    quota->set_year(year);
    quota->set_category(v1::QUOTA_CATEGORY_MINING_LIGHT);
    quota->set_amount_g(amount_g);
    return body;
  }
  v1::Transaction QuotaTx(uint32_t year, int64_t amount_g = 5000) {
    return world_.Sign(QuotaBody(year, amount_g));
  }

  World world_;
  Mempool pool_;
};

TEST_F(AdmissionTest, AdmitsValidAndRefusesBadSignatureWrongChainAndReplay) {
  Admission admission(kChain, &pool_, 2);
  v1::Transaction good = QuotaTx(2026);

  v1::Transaction bad_sig = QuotaTx(2027);
  std::string sig = bad_sig.signatures(0).signature();
  sig[5] ^= 0x01;
  bad_sig.mutable_signatures(0)->set_signature(sig);

  v1::TxBody other_chain_body = QuotaBody(2028);
  other_chain_body.set_chain_id("another-chain");
  v1::Transaction other_chain = world_.Sign(other_chain_body);

  auto answers = admission.Admit({good, bad_sig, other_chain}, world_.store(), world_.height() + 1);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_OK(answers[0]);
  ASSERT_FALSE(answers[1].ok());
  EXPECT_EQ(ledger::ErrorCodeOf(answers[1].status()), v1::INVALID_SIGNATURE)
      << answers[1].status().ToString();
  ASSERT_FALSE(answers[2].ok());
  EXPECT_EQ(ledger::ErrorCodeOf(answers[2].status()), v1::WRONG_CHAIN)
      << answers[2].status().ToString();
  EXPECT_EQ(pool_.size(), 1u);

  // The same transaction again, while pooled: refused by the pool.
  auto again = admission.Admit({good}, world_.store(), world_.height() + 1);
  EXPECT_EQ(again[0].status().code(), Code::kAlreadyExists);

  // Once committed it leaves the pool, and a replay is refused against the ledger.
  world_.Execute({world_.Verified(good)});
  pool_.OnCommitted(world_.height(), {*answers[0]});
  EXPECT_EQ(pool_.size(), 0u);
  auto replay = admission.Admit({good}, world_.store(), world_.height() + 1);
  ASSERT_FALSE(replay[0].ok());
  EXPECT_EQ(ledger::ErrorCodeOf(replay[0].status()), v1::DUPLICATE_TX)
      << replay[0].status().ToString();
}

TEST_F(AdmissionTest, ABatchBeyondTheQueueBoundIsRefusedWholeUnchecked) {
  Admission admission(kChain, &pool_, 2);
  const std::vector<v1::Transaction> batch(limits::verify_queue_txs_max + 1, QuotaTx(2026));
  auto answers = admission.Admit(batch, world_.store(), world_.height() + 1);
  ASSERT_EQ(answers.size(), batch.size());
  for (const auto& answer : answers) {
    ASSERT_EQ(answer.status().code(), Code::kResourceExhausted) << answer.status().ToString();
  }
  EXPECT_EQ(admission.verified(), 0u);
  EXPECT_EQ(pool_.size(), 0u);
  // The refusal took no room: a batch within the bound then goes through.
  answers =
      admission.Admit({QuotaTx(2026, 1), QuotaTx(2026, 2)}, world_.store(), world_.height() + 1);
  EXPECT_OK(answers[0]);
  EXPECT_OK(answers[1]);
  EXPECT_EQ(admission.verified(), 2u);
}

// Clients' batches may hold half the queue, so that gossip always has room: a client's
// batch beyond its share is refused whole and unchecked, the same batch from a peer is
// checked.
TEST_F(AdmissionTest, AClientsBatchBeyondItsShareOfTheQueueIsRefusedAPeersIsNot) {
  Admission admission(kChain, &pool_, 2);
  const std::vector<v1::Transaction> batch(limits::verify_queue_client_txs_max + 1,
                                           v1::Transaction());
  auto answers =
      admission.Admit(batch, world_.store(), world_.height() + 1, Admission::Source::kClient);
  ASSERT_EQ(answers.size(), batch.size());
  for (const auto& answer : answers) {
    ASSERT_EQ(answer.status().code(), Code::kResourceExhausted) << answer.status().ToString();
    ASSERT_THAT(answer.status().message(), ::testing::HasSubstr("from clients"));
  }
  EXPECT_EQ(admission.verified(), 0u);
  answers = admission.Admit(batch, world_.store(), world_.height() + 1);
  for (const auto& answer : answers) {
    ASSERT_NE(answer.status().code(), Code::kResourceExhausted) << answer.status().ToString();
  }
  EXPECT_EQ(admission.verified(), batch.size());
}

TEST_F(AdmissionTest, ManyThreadsAdmitEveryTransactionOnce) {
  Admission admission(kChain, &pool_, 2);
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::vector<v1::Transaction>> batches(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i)
      batches[t].push_back(QuotaTx(2026, 1000 + t * kPerThread + i));
  }
  std::vector<std::thread> threads;
  std::atomic<int> admitted{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (auto& r : admission.Admit(batches[t], world_.store(), world_.height() + 1)) {
        if (r.ok()) {
          ++admitted;
        } else {
          ADD_FAILURE() << r.status().ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), kThreads * kPerThread);
  EXPECT_EQ(pool_.size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace reel::mempool
