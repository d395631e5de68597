// The client API end to end: a real gRPC server on loopback, a real client stub, over a
// TestNode (real LevelDB store, blocks executed by the ledger, real mempool admission).
#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "crypto/merkle.h"
#include "tests/api/api_fixture.h"
#include "tests/test_util.h"

namespace reel::api::testing {
namespace {

// --- SubmitTransaction -------------------------------------------------------------------------

TEST_F(ApiTest, SubmitValidIsPendingWithItsId) {
  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 500));
  v1::SubmitTransactionResponse response;
  grpc::Status status = Submit(tx, &response);
  ASSERT_OK(status);
  EXPECT_EQ(response.tx_id(), Bytes(TestNode::Id(tx)));
  EXPECT_EQ(response.status(), v1::TX_STATUS_PENDING);
  EXPECT_TRUE(node_.IsPending(TestNode::Id(tx)));

  // Resending it (after a lost answer, say) is safe: the same id, still pending.
  v1::SubmitTransactionResponse again;
  ASSERT_OK(Submit(tx, &again));
  EXPECT_EQ(again.status(), v1::TX_STATUS_PENDING);
  EXPECT_EQ(again.tx_id(), response.tx_id());
  EXPECT_EQ(node_.pool().size(), 1u);
}

// api.proto: a transaction the node refuses, a body that is not a TxBody included, is an
// OK RPC with status REJECTED and its code; a request with no transaction is itself
// malformed: INVALID_ARGUMENT.
TEST_F(ApiTest, SubmitMalformedBodyIsRejectedAsMalformed) {
  v1::Transaction tx = node_.Sign(node_.Quota(2026, 500));
  tx.set_body("\xff\xff\xff not a TxBody");
  v1::SubmitTransactionResponse response;
  ASSERT_OK(Submit(tx, &response));
  EXPECT_EQ(response.status(), v1::TX_STATUS_REJECTED);
  EXPECT_EQ(response.result().code(), v1::MALFORMED);
  EXPECT_NE(response.result().message().find("reel.v1.TxBody"), std::string::npos)
      << response.result().message();

  grpc::ClientContext context;
  Deadline(context);
  grpc::Status status =
      stub_->SubmitTransaction(&context, v1::SubmitTransactionRequest(), &response);
  EXPECT_CODE(status, INVALID_ARGUMENT);
  EXPECT_EQ(node_.pool().size(), 0u);
}

TEST_F(ApiTest, SubmitBadSignatureIsRejectedWithItsErrorCode) {
  v1::Transaction tx = node_.Sign(node_.Quota(2026, 500));
  std::string* signature = tx.mutable_signatures(0)->mutable_signature();
  (*signature)[10] = static_cast<char>((*signature)[10] ^ 0x01);
  v1::SubmitTransactionResponse response;
  grpc::Status status = Submit(tx, &response);
  // api.proto: a refused transaction is an OK RPC, REJECTED with the code in result.
  ASSERT_OK(status);
  EXPECT_EQ(response.status(), v1::TX_STATUS_REJECTED);
  EXPECT_EQ(v1::ErrorCode_Name(response.result().code()), "INVALID_SIGNATURE");
  EXPECT_NE(response.result().message().find("INVALID_SIGNATURE"), std::string::npos)
      << response.result().message();
  EXPECT_EQ(response.tx_id(), Bytes(TestNode::Id(tx)));
  EXPECT_EQ(node_.pool().size(), 0u);
}

TEST_F(ApiTest, SubmitSignedByAnotherOrgIsRejectedAsUnknownSignatory) {
  // A valid signature, by a key that is not miit's.
  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 500), /*key_org=*/"mineco");
  v1::SubmitTransactionResponse response;
  ASSERT_OK(Submit(tx, &response));
  EXPECT_EQ(response.status(), v1::TX_STATUS_REJECTED);
  EXPECT_EQ(v1::ErrorCode_Name(response.result().code()), "UNKNOWN_SIGNATORY")
      << response.result().message();
}

TEST_F(ApiTest, OversizedRequestsAreResourceExhaustedAndTheServerKeepsServing) {
  v1::Transaction huge = node_.Sign(node_.Quota(2026, 500));
  huge.mutable_signatures(0)->set_signature(std::string(limits::api_message_bytes_max + 1, 'x'));
  v1::SubmitTransactionResponse response;
  EXPECT_CODE(Submit(huge, &response), RESOURCE_EXHAUSTED);

  // Under gRPC's bound but over a transaction's: refused at the boundary, named.
  v1::Transaction large = node_.Sign(node_.Quota(2026, 500));
  large.mutable_signatures(0)->set_signature(std::string(limits::tx_envelope_bytes_max, 'x'));
  grpc::Status status = Submit(large, &response);
  EXPECT_CODE(status, RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("TOO_LARGE"), std::string::npos) << status.error_message();

  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 500));
  ASSERT_OK(Submit(tx, &response));
  EXPECT_EQ(response.status(), v1::TX_STATUS_PENDING);
}

TEST_F(ApiTest, SubmitToASyncingNodeIsUnavailable) {
  node_.set_syncing(true);
  v1::SubmitTransactionResponse response;
  grpc::Status status = Submit(node_.Sign(node_.Quota(2026, 1)), &response);
  EXPECT_CODE(status, UNAVAILABLE);
  EXPECT_NE(status.error_message().find("catching up"), std::string::npos);
  EXPECT_EQ(node_.pool().size(), 0u);
}

TEST_F(ApiTest, ConcurrentSubmitsAreEachAdmittedOnce) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::vector<v1::Transaction>> txs(kThreads);
  for (auto& list : txs) {
    for (int i = 0; i < kEach; ++i) list.push_back(node_.Sign(node_.Quota(2026, i)));
  }
  std::atomic<int> pending{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (const v1::Transaction& tx : txs[t]) {
        v1::SubmitTransactionResponse response;
        if (Submit(tx, &response).ok() && response.status() == v1::TX_STATUS_PENDING) ++pending;
      }
    });
  }
  for (std::thread& c : clients) c.join();
  EXPECT_EQ(pending.load(), kThreads * kEach);
  EXPECT_EQ(node_.pool().size(), static_cast<size_t>(kThreads * kEach));
}

TEST(ApiServerTest, AnAddressItCannotBindIsRefusedWithItsName) {
  TestNode node;
  Result<std::unique_ptr<ApiServer>> server =
      ApiServer::Start(&node, ApiServerOptions{.listen = "256.1.1.1:1"});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(server.status().message().find("256.1.1.1:1"), std::string::npos);
}

TEST(ApiServerTest, APortInUseIsRefused) {
  TestNode node;
  Result<std::unique_ptr<ApiServer>> first = ApiServer::Start(&node, ApiServerOptions{});
  ASSERT_OK(first);
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  Result<std::unique_ptr<ApiServer>> second =
      ApiServer::Start(&node, ApiServerOptions{.listen = taken});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(taken), std::string::npos);
}

TEST(ApiFullMempoolTest, AFullMempoolIsResourceExhausted) {
  TestNode node(mempool::MempoolLimits{.txs_max = 1});
  node.Genesis();
  Result<std::unique_ptr<ApiServer>> server = ApiServer::Start(&node, ApiServerOptions{});
  ASSERT_OK(server);
  auto stub = v1::Api::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                                   grpc::InsecureChannelCredentials()));
  grpc::Status statuses[2];
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    context.set_deadline(In(10000));
    v1::SubmitTransactionRequest request;
    *request.mutable_transaction() = node.Sign(node.Quota(2026, i));
    v1::SubmitTransactionResponse response;
    statuses[i] = stub->SubmitTransaction(&context, request, &response);
  }
  EXPECT_OK(statuses[0]);
  EXPECT_CODE(statuses[1], RESOURCE_EXHAUSTED);
  EXPECT_FALSE(statuses[1].error_message().empty());
}

// api.proto: resending any envelope of a committed transaction answers its original
// outcome (COMMITTED, result, height, index), not a refusal, and queues nothing.
TEST_F(ApiTest, ResentCommittedTransactionAnswersItsOriginalOutcome) {
  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 500));
  v1::SubmitTransactionResponse response;
  ASSERT_OK(Submit(tx, &response));
  ASSERT_EQ(response.status(), v1::TX_STATUS_PENDING);
  node_.CommitPending();
  ASSERT_FALSE(node_.IsPending(TestNode::Id(tx)));
  v1::GetTransactionResponse committed;
  {
    grpc::ClientContext context;
    Deadline(context);
    v1::GetTransactionRequest request;
    request.set_tx_id(Bytes(TestNode::Id(tx)));
    ASSERT_OK(stub_->GetTransaction(&context, request, &committed));
    ASSERT_EQ(committed.status(), v1::TX_STATUS_COMMITTED);
  }

  v1::Transaction other_envelope = tx;  // the same body, its signature given twice
  *other_envelope.add_signatures() = tx.signatures(0);
  for (const v1::Transaction& resent : {tx, other_envelope}) {
    v1::SubmitTransactionResponse replay;
    ASSERT_OK(Submit(resent, &replay));
    EXPECT_EQ(replay.status(), v1::TX_STATUS_COMMITTED) << replay.result().message();
    EXPECT_EQ(replay.tx_id(), Bytes(TestNode::Id(tx)));
    EXPECT_EQ(replay.height(), committed.height());
    EXPECT_EQ(replay.tx_index(), committed.tx_index());
    EXPECT_EQ(replay.result().SerializeAsString(), committed.result().SerializeAsString());
  }
  EXPECT_EQ(node_.pool().size(), 0u);
}

TEST_F(ApiTest, WaitForCommitAnswersWithTheResultAndHeight) {
  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 500));
  v1::SubmitTransactionResponse response;
  grpc::Status status;
  std::thread client([&] { status = Submit(tx, &response, /*wait=*/true); });
  for (int i = 0; i < 500 && !node_.IsPending(TestNode::Id(tx)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(node_.IsPending(TestNode::Id(tx)));
  node_.CommitBlock({});  // an unrelated block first: the wait goes on
  node_.CommitPending();
  client.join();
  ASSERT_OK(status);
  EXPECT_EQ(response.status(), v1::TX_STATUS_COMMITTED);
  EXPECT_EQ(response.height(), node_.height());
  EXPECT_EQ(response.tx_index(), 0u);
  EXPECT_EQ(response.result().code(), v1::OK) << response.result().message();
}

TEST_F(ApiTest, WaitForCommitAnswersPendingAtTheDeadline) {
  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 500));
  v1::SubmitTransactionResponse response;
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = Submit(tx, &response, /*wait=*/true, /*deadline_ms=*/1500);
  // The server answers just before the client's deadline, or the client gives up; both
  // leave the transaction pending, never refused.
  if (status.ok()) {
    EXPECT_EQ(response.status(), v1::TX_STATUS_PENDING);
  } else {
    EXPECT_CODE(status, DEADLINE_EXCEEDED);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(node_.IsPending(TestNode::Id(tx)));
}

// --- SubmitTransactions ------------------------------------------------------------------------

// SubmitTransactions through the fixture's stub; `txs` in the request's order.
grpc::Status SubmitAll(v1::Api::Stub& stub, const std::vector<v1::Transaction>& txs,
                       v1::SubmitTransactionsResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(In(20000));
  v1::SubmitTransactionsRequest request;
  for (const v1::Transaction& tx : txs) *request.add_transactions() = tx;
  return stub.SubmitTransactions(&context, request, response);
}

// One result per transaction, in the request's order: results(i) carries the id of
// txs[i]. The ids must differ, so that an answer given at another index shows.
::testing::AssertionResult OnePerTransactionInOrder(
    const std::vector<v1::Transaction>& txs, const v1::SubmitTransactionsResponse& response) {
  std::set<std::string> ids;
  for (const v1::Transaction& tx : txs) ids.insert(Bytes(TestNode::Id(tx)));
  if (ids.size() != txs.size()) {
    return ::testing::AssertionFailure() << "the test's transactions do not have distinct ids";
  }
  if (response.results_size() != static_cast<int>(txs.size())) {
    return ::testing::AssertionFailure()
           << response.results_size() << " results for " << txs.size() << " transactions";
  }
  for (size_t i = 0; i < txs.size(); ++i) {
    if (response.results(static_cast<int>(i)).tx_id() != Bytes(TestNode::Id(txs[i]))) {
      return ::testing::AssertionFailure()
             << "results[" << i << "] is not transactions[" << i << "]'s answer";
    }
  }
  return ::testing::AssertionSuccess();
}

// A REJECTED answer with `code`, its message starting with the code's name.
::testing::AssertionResult RejectedWith(const v1::SubmitTransactionResponse& answer,
                                        v1::ErrorCode code) {
  if (answer.status() != v1::TX_STATUS_REJECTED || answer.result().code() != code) {
    return ::testing::AssertionFailure() << "expected REJECTED " << v1::ErrorCode_Name(code)
                                         << ", got " << answer.ShortDebugString();
  }
  if (!answer.result().message().starts_with(v1::ErrorCode_Name(code) + ":")) {
    return ::testing::AssertionFailure()
           << "the message does not start with the code: " << answer.result().message();
  }
  return ::testing::AssertionSuccess();
}

TEST_F(ApiTest, SubmitTransactionsAnswersEachTransactionInTheRequestsOrder) {
  const v1::Transaction waiting = node_.Sign(node_.Quota(2026, 1));
  v1::SubmitTransactionResponse single;
  ASSERT_OK(Submit(waiting, &single));
  ASSERT_EQ(single.status(), v1::TX_STATUS_PENDING);

  v1::Transaction bad_signature = node_.Sign(node_.Quota(2026, 3));
  std::string* signature = bad_signature.mutable_signatures(0)->mutable_signature();
  (*signature)[10] = static_cast<char>((*signature)[10] ^ 0x01);
  v1::TxBody other_chain = node_.Quota(2026, 5);
  other_chain.set_chain_id("another-chain");
  v1::Transaction waiting_bare = waiting;  // the waiting body, in an envelope admission refuses
  waiting_bare.clear_signatures();
  const v1::Transaction first = node_.Sign(node_.Quota(2026, 2));
  const v1::Transaction second = node_.Sign(node_.Quota(2026, 4));
  const v1::Transaction third = node_.Sign(node_.Quota(2026, 6));
  const std::vector<v1::Transaction> txs = {
      first, bad_signature, second, node_.Sign(other_chain), waiting_bare, third};
  v1::SubmitTransactionsResponse response;
  ASSERT_OK(SubmitAll(*stub_, txs, &response));
  ASSERT_TRUE(OnePerTransactionInOrder(txs, response));
  EXPECT_EQ(response.results(0).status(), v1::TX_STATUS_PENDING);
  EXPECT_TRUE(RejectedWith(response.results(1), v1::INVALID_SIGNATURE));
  EXPECT_EQ(response.results(2).status(), v1::TX_STATUS_PENDING);
  EXPECT_TRUE(RejectedWith(response.results(3), v1::WRONG_CHAIN));
  EXPECT_EQ(response.results(4).status(), v1::TX_STATUS_PENDING) << "a resend of a waiting body";
  EXPECT_EQ(response.results(4).tx_id(), single.tx_id());
  EXPECT_EQ(response.results(5).status(), v1::TX_STATUS_PENDING);
  for (int i : {0, 2, 4, 5}) {
    EXPECT_EQ(response.results(i).result().code(), v1::OK) << i;
    EXPECT_EQ(response.results(i).height(), 0u) << i;
  }
  // A refused transaction does not hold the others back.
  for (const v1::Transaction& tx : {first, second, third, waiting}) {
    EXPECT_TRUE(node_.IsPending(TestNode::Id(tx)));
  }
  EXPECT_FALSE(node_.IsPending(TestNode::Id(bad_signature)));
  EXPECT_EQ(node_.pool().size(), 4u);
}

TEST_F(ApiTest, SubmitTransactionsTakesOneBodyTwiceInACallOnce) {
  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 1));
  const v1::Transaction other = node_.Sign(node_.Quota(2026, 2));
  v1::SubmitTransactionsResponse response;
  ASSERT_OK(SubmitAll(*stub_, {tx, other, tx}, &response));
  ASSERT_EQ(response.results_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(response.results(i).status(), v1::TX_STATUS_PENDING) << i;
  EXPECT_EQ(response.results(0).tx_id(), Bytes(TestNode::Id(tx)));
  EXPECT_EQ(response.results(1).tx_id(), Bytes(TestNode::Id(other)));
  EXPECT_EQ(response.results(2).tx_id(), Bytes(TestNode::Id(tx)));
  EXPECT_EQ(node_.pool().size(), 2u);

  // A copy that admission alone would refuse answers PENDING too once the call has
  // admitted its body, before it or after it in the request.
  const v1::Transaction third = node_.Sign(node_.Quota(2026, 3));
  v1::Transaction third_bare = third;
  third_bare.clear_signatures();
  const std::vector<v1::Transaction> copies = {third_bare, third, third_bare};
  v1::SubmitTransactionsResponse again;
  ASSERT_OK(SubmitAll(*stub_, copies, &again));
  ASSERT_EQ(again.results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(again.results(i).tx_id(), Bytes(TestNode::Id(third))) << i;
    EXPECT_EQ(again.results(i).status(), v1::TX_STATUS_PENDING) << i;
    EXPECT_EQ(again.results(i).result().code(), v1::OK) << i;
  }
  EXPECT_EQ(node_.pool().size(), 3u);
}

// api.proto: resending the same call is safe. Admitted ones answer PENDING while they
// wait, then COMMITTED with their record; refused ones are checked again.
TEST_F(ApiTest, SubmitTransactionsResentAnswersPendingThenTheCommittedRecords) {
  v1::Transaction refused = node_.Sign(node_.Quota(2026, 500), /*key_org=*/"mineco");
  const std::vector<v1::Transaction> txs = {node_.Sign(node_.Quota(2026, 100)), refused,
                                            node_.Sign(node_.Extract("lot-1", 1000, 100)),
                                            node_.Sign(node_.Quota(2026, 200))};
  v1::SubmitTransactionsResponse first;
  ASSERT_OK(SubmitAll(*stub_, txs, &first));
  ASSERT_TRUE(OnePerTransactionInOrder(txs, first));
  v1::SubmitTransactionsResponse again;
  ASSERT_OK(SubmitAll(*stub_, txs, &again));
  ASSERT_TRUE(OnePerTransactionInOrder(txs, again));
  for (const v1::SubmitTransactionsResponse* answers : {&first, &again}) {
    for (int i : {0, 2, 3}) EXPECT_EQ(answers->results(i).status(), v1::TX_STATUS_PENDING) << i;
    EXPECT_TRUE(RejectedWith(answers->results(1), v1::UNKNOWN_SIGNATORY));
  }
  EXPECT_EQ(node_.pool().size(), 3u) << "a resend admitted a transaction twice";

  node_.CommitPending();
  ASSERT_EQ(node_.pool().size(), 0u);
  const uint64_t height = node_.height();
  v1::SubmitTransactionsResponse committed;
  ASSERT_OK(SubmitAll(*stub_, txs, &committed));
  ASSERT_TRUE(OnePerTransactionInOrder(txs, committed));
  EXPECT_TRUE(RejectedWith(committed.results(1), v1::UNKNOWN_SIGNATORY));
  std::set<uint32_t> indexes;
  for (int i : {0, 2, 3}) {
    const v1::SubmitTransactionResponse& answer = committed.results(i);
    v1::GetTransactionResponse record;
    ASSERT_OK(GetTx(Bytes(TestNode::Id(txs[i])), &record));
    ASSERT_EQ(record.status(), v1::TX_STATUS_COMMITTED);
    EXPECT_EQ(answer.status(), v1::TX_STATUS_COMMITTED) << i << ": " << answer.ShortDebugString();
    EXPECT_EQ(answer.height(), height) << i;
    EXPECT_EQ(answer.height(), record.height()) << i;
    EXPECT_EQ(answer.tx_index(), record.tx_index()) << i;
    EXPECT_EQ(answer.result().code(), v1::OK) << i << ": " << answer.result().message();
    EXPECT_EQ(answer.result().SerializeAsString(), record.result().SerializeAsString()) << i;
    indexes.insert(answer.tx_index());
  }
  EXPECT_EQ(indexes, (std::set<uint32_t>{0, 1, 2}));
  EXPECT_EQ(node_.pool().size(), 0u) << "a committed transaction was admitted again";
}

TEST_F(ApiTest, SubmitTransactionsTakesOneToAThousand) {
  v1::SubmitTransactionsResponse response;
  grpc::Status status = SubmitAll(*stub_, {}, &response);
  EXPECT_CODE(status, INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "transactions has 0; give 1 to 1000 per call");

  std::vector<v1::Transaction> txs;
  for (size_t i = 0; i <= limits::api_submit_batch_txs_max; ++i) {
    txs.push_back(node_.Sign(node_.Quota(2026, static_cast<int64_t>(i))));
  }
  status = SubmitAll(*stub_, txs, &response);
  EXPECT_CODE(status, INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "transactions has 1001; give 1 to 1000 per call");
  EXPECT_EQ(node_.pool().size(), 0u);

  txs.pop_back();
  ASSERT_OK(SubmitAll(*stub_, txs, &response));
  ASSERT_TRUE(OnePerTransactionInOrder(txs, response));
  for (const v1::SubmitTransactionResponse& answer : response.results()) {
    EXPECT_EQ(answer.status(), v1::TX_STATUS_PENDING) << answer.ShortDebugString();
  }
  EXPECT_EQ(node_.pool().size(), limits::api_submit_batch_txs_max);
}

TEST_F(ApiTest, SubmitTransactionsWithAnOversizedOneAdmitsNone) {
  std::vector<v1::Transaction> txs;
  for (int i = 0; i < 5; ++i) txs.push_back(node_.Sign(node_.Quota(2026, i)));
  txs[3].mutable_signatures(0)->set_signature(std::string(limits::tx_envelope_bytes_max, 'x'));
  v1::SubmitTransactionsResponse response;
  grpc::Status status = SubmitAll(*stub_, txs, &response);
  EXPECT_CODE(status, RESOURCE_EXHAUSTED);
  EXPECT_TRUE(status.error_message().starts_with("TOO_LARGE: transactions[3] is "))
      << status.error_message();

  // A body over its own bound, before another oversized one: the first is named.
  v1::Transaction big_body;
  big_body.set_body(std::string(limits::tx_body_bytes_max + 1, 'b'));
  txs[1] = big_body;
  status = SubmitAll(*stub_, txs, &response);
  EXPECT_CODE(status, RESOURCE_EXHAUSTED);
  EXPECT_TRUE(status.error_message().starts_with("TOO_LARGE: transactions[1] is "))
      << status.error_message();
  for (const v1::Transaction& tx : txs) EXPECT_FALSE(node_.IsPending(TestNode::Id(tx)));
  EXPECT_EQ(node_.pool().size(), 0u);
}

TEST_F(ApiTest, SubmitTransactionsToASyncingNodeIsUnavailable) {
  const v1::Transaction committed = node_.Sign(node_.Quota(2026, 1));
  node_.CommitBlock({committed});
  node_.set_syncing(true);
  v1::SubmitTransactionsResponse response;
  // Committed resends too: the whole call is refused.
  grpc::Status status = SubmitAll(*stub_, {committed, node_.Sign(node_.Quota(2026, 2))}, &response);
  EXPECT_CODE(status, UNAVAILABLE);
  EXPECT_NE(status.error_message().find("catching up"), std::string::npos);
  EXPECT_EQ(node_.pool().size(), 0u);
}

// A node that refuses every admission as an observer does (node/daemon/api_glue.cc): it
// has no validator key, and always follows by block sync.
class ObserverNode : public TestNode {
 public:
  NodeInfo Info() const override {
    NodeInfo info = TestNode::Info();
    info.self_public_key.clear();
    info.syncing = true;
    return info;
  }
  std::vector<Result<crypto::Hash32>> Submit(const std::vector<v1::Transaction>& txs) override {
    ++submits_;
    return std::vector<Result<crypto::Hash32>>(
        txs.size(), Result<crypto::Hash32>(Status::FailedPrecondition(
                        "this node is an observer and does not order transactions")));
  }
  int submits() const { return submits_.load(); }

 private:
  std::atomic<int> submits_{0};
};

TEST(ApiObserverTest, SubmitTransactionsAnswersWhatCommittedAndRefusesTheRest) {
  ObserverNode node;
  node.Genesis();
  const v1::Transaction committed = node.Sign(node.Quota(2026, 1));
  node.CommitBlock({node.Sign(node.Quota(2026, 2)), committed});
  Result<std::unique_ptr<ApiServer>> server = ApiServer::Start(&node, ApiServerOptions{});
  ASSERT_OK(server);
  auto stub = v1::Api::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                                   grpc::InsecureChannelCredentials()));
  v1::Transaction bare = committed;  // any envelope of the committed body
  bare.clear_signatures();
  const std::vector<v1::Transaction> known = {committed, bare};
  v1::SubmitTransactionsResponse response;
  ASSERT_OK(SubmitAll(*stub, known, &response));
  ASSERT_EQ(response.results_size(), 2);
  for (const v1::SubmitTransactionResponse& answer : response.results()) {
    EXPECT_EQ(answer.status(), v1::TX_STATUS_COMMITTED) << answer.ShortDebugString();
    EXPECT_EQ(answer.tx_id(), Bytes(TestNode::Id(committed)));
    EXPECT_EQ(answer.height(), 1u);
    EXPECT_EQ(answer.tx_index(), 1u);
  }
  EXPECT_EQ(node.submits(), 0) << "what it committed went to admission";

  grpc::Status status =
      SubmitAll(*stub, {committed, node.Sign(node.Quota(2026, 3)), bare}, &response);
  EXPECT_CODE(status, FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("is an observer"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(node.pool().size(), 0u);
}

// A full mempool fails the call after it admitted what fitted; resending the same call
// is safe: the admitted ones answer PENDING, then COMMITTED, and the rest get their turn.
TEST(ApiFullMempoolTest, SubmitTransactionsIntoAFullMempoolIsResourceExhaustedAndSafeToResend) {
  TestNode node(mempool::MempoolLimits{.txs_max = 2});
  node.Genesis();
  Result<std::unique_ptr<ApiServer>> server = ApiServer::Start(&node, ApiServerOptions{});
  ASSERT_OK(server);
  auto stub = v1::Api::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                                   grpc::InsecureChannelCredentials()));
  std::vector<v1::Transaction> txs;
  for (int i = 0; i < 4; ++i) txs.push_back(node.Sign(node.Quota(2026, i)));
  v1::SubmitTransactionsResponse response;
  grpc::Status status = SubmitAll(*stub, txs, &response);
  EXPECT_CODE(status, RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("mempool full"), std::string::npos)
      << status.error_message();
  ASSERT_EQ(node.pool().size(), 2u);
  std::set<std::string> admitted;
  for (const v1::Transaction& tx : txs) {
    if (node.IsPending(TestNode::Id(tx))) admitted.insert(Bytes(TestNode::Id(tx)));
  }
  ASSERT_EQ(admitted.size(), 2u);
  status = SubmitAll(*stub, txs, &response);  // still full: the same answer, nothing lost
  EXPECT_CODE(status, RESOURCE_EXHAUSTED);
  EXPECT_EQ(node.pool().size(), 2u);

  node.CommitPending();
  const uint64_t height = node.height();
  ASSERT_OK(SubmitAll(*stub, txs, &response));
  ASSERT_TRUE(OnePerTransactionInOrder(txs, response));
  for (const v1::SubmitTransactionResponse& answer : response.results()) {
    if (admitted.count(answer.tx_id()) != 0) {
      EXPECT_EQ(answer.status(), v1::TX_STATUS_COMMITTED) << answer.ShortDebugString();
      EXPECT_EQ(answer.height(), height);
    } else {
      EXPECT_EQ(answer.status(), v1::TX_STATUS_PENDING) << answer.ShortDebugString();
    }
  }
  EXPECT_EQ(node.pool().size(), 2u);
}

// --- GetTransaction ---------------------------------------------------------------------------

TEST_F(ApiTest, GetTransactionReturnsAPathThatVerifiesAgainstTheHeader) {
  std::vector<v1::Transaction> txs;
  for (int i = 0; i < 5; ++i) txs.push_back(node_.Sign(node_.Quota(2026, 100 + i)));
  node_.CommitBlock(txs);
  const uint64_t height = node_.height();
  node_.CommitBlock({});
  node_.CommitBlock({});

  for (uint32_t index : {0u, 3u, 4u}) {
    const crypto::Hash32 id = TestNode::Id(txs[index]);
    v1::GetTransactionResponse response;
    grpc::Status status = GetTx(Bytes(id), &response);
    ASSERT_OK(status);
    EXPECT_EQ(response.status(), v1::TX_STATUS_COMMITTED);
    EXPECT_EQ(response.result().code(), v1::OK);
    EXPECT_EQ(response.height(), height);
    EXPECT_EQ(response.tx_index(), index);
    EXPECT_EQ(response.transaction().body(), txs[index].body());
    EXPECT_EQ(response.header().height(), height);
    EXPECT_EQ(response.header().tx_count(), 5u);

    // Checked as a wallet would, without trusting the node.
    EXPECT_EQ(crypto::TransactionId(kChain, response.transaction().body()), id);
    std::vector<crypto::Hash32> path;
    for (const std::string& sibling : response.merkle_path()) {
      ASSERT_EQ(sibling.size(), 32u);
      crypto::Hash32 h{};
      std::copy(sibling.begin(), sibling.end(), h.begin());
      path.push_back(h);
    }
    crypto::Hash32 root{};
    ASSERT_EQ(response.header().tx_root().size(), 32u);
    std::copy(response.header().tx_root().begin(), response.header().tx_root().end(), root.begin());
    // The leaf is the envelope digest: the path proves who signed, too.
    const crypto::Hash32 leaf = ledger::EnvelopeDigestOf(response.transaction(), kChain);
    EXPECT_TRUE(crypto::VerifyMerklePath(leaf, index, response.header().tx_count(), path, root));
    EXPECT_FALSE(crypto::VerifyMerklePath(id, index, response.header().tx_count(), path, root));
    EXPECT_FALSE(crypto::VerifyMerklePath(leaf, (index + 1) % 5, 5, path, root));
    v1::Transaction resigned = response.transaction();
    resigned.mutable_signatures(0)->mutable_signature()->at(0) ^= 1;
    EXPECT_FALSE(crypto::VerifyMerklePath(ledger::EnvelopeDigestOf(resigned, kChain), index,
                                          response.header().tx_count(), path, root));
    Result<crypto::Hash32> block_id = BlockIdOf(kChain, response.header());
    ASSERT_OK(block_id);
    EXPECT_EQ(*block_id, node_.block_id(height));

    // Block h is committed by the QC on h (in h + 1) and the QC on h + 1 (in h + 2).
    const v1::CommitProof& proof = response.commit_proof();
    ASSERT_EQ(proof.descendants_size(), 1);
    EXPECT_EQ(proof.descendants(0).height(), height + 1);
    EXPECT_EQ(proof.descendants(0).parent_id(), Bytes(node_.block_id(height)));
    EXPECT_EQ(proof.block_qc().block_id(), Bytes(node_.block_id(height)));
    EXPECT_EQ(proof.child_qc().block_id(), Bytes(node_.block_id(height + 1)));
    EXPECT_EQ(proof.child_qc().round(), proof.block_qc().round() + 1);
  }
}

TEST_F(ApiTest, CommitProofSpansRoundsWithoutABlock) {
  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 1));
  node_.CommitBlock({tx});
  const uint64_t height = node_.height();
  v1::GetTransactionResponse response;
  ASSERT_OK(GetTx(Bytes(TestNode::Id(tx)), &response));
  // The newest block: the QC on its child is still with consensus.
  EXPECT_FALSE(response.has_commit_proof());

  node_.CommitBlock({}, /*round_gap=*/3);  // two rounds timed out: h + 1 does not commit h
  ASSERT_OK(GetTx(Bytes(TestNode::Id(tx)), &response));
  EXPECT_FALSE(response.has_commit_proof());

  node_.CommitBlock({});  // h + 2 is one round after h + 1: h + 1, and so h, commit
  ASSERT_OK(GetTx(Bytes(TestNode::Id(tx)), &response));
  const v1::CommitProof& proof = response.commit_proof();
  ASSERT_EQ(proof.descendants_size(), 2);
  EXPECT_EQ(proof.descendants(0).height(), height + 1);
  EXPECT_EQ(proof.descendants(0).parent_id(), Bytes(node_.block_id(height)));
  EXPECT_EQ(proof.descendants(1).height(), height + 2);
  EXPECT_EQ(proof.descendants(1).parent_id(), Bytes(node_.block_id(height + 1)));
  EXPECT_EQ(proof.block_qc().block_id(), Bytes(node_.block_id(height + 1)));
  EXPECT_EQ(proof.child_qc().block_id(), Bytes(node_.block_id(height + 2)));
  EXPECT_EQ(proof.block_qc().round(), proof.descendants(0).round());
  EXPECT_EQ(proof.child_qc().round(), proof.descendants(1).round());
  EXPECT_EQ(proof.descendants(1).round(), proof.descendants(0).round() + 1);

  v1::GetBlockRequest request;
  request.set_height(height);
  request.set_include_proof(true);
  v1::GetBlockResponse block;
  ASSERT_OK(GetBlock(request, &block));
  EXPECT_EQ(block.commit_proof().SerializeAsString(), proof.SerializeAsString());
  request.set_include_proof(false);
  ASSERT_OK(GetBlock(request, &block));
  EXPECT_FALSE(block.has_commit_proof());
}

TEST_F(ApiTest, GetTransactionRefusesBadIdsAndKnowsPendingOnes) {
  v1::GetTransactionResponse response;
  EXPECT_CODE(GetTx("short", &response), INVALID_ARGUMENT);
  grpc::Status status = GetTx(std::string(32, 'u'), &response);
  EXPECT_CODE(status, NOT_FOUND);
  EXPECT_NE(status.error_message().find("not committed"), std::string::npos);

  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 5));
  v1::SubmitTransactionResponse submitted;
  ASSERT_OK(Submit(tx, &submitted));
  ASSERT_OK(GetTx(Bytes(TestNode::Id(tx)), &response));
  EXPECT_EQ(response.status(), v1::TX_STATUS_PENDING);
}

// --- GetBlock ---------------------------------------------------------------------------------

TEST_F(ApiTest, GetBlockByHeightAndById) {
  const v1::Transaction ok = node_.Sign(node_.Quota(2026, 7));
  const v1::Transaction bad = node_.Sign(node_.Extract("lot-1", 100, 500));  // REO > mass
  node_.CommitBlock({ok, bad, ok});
  const uint64_t height = node_.height();

  v1::GetBlockRequest request;
  request.set_height(height);
  request.set_include_results(true);
  v1::GetBlockResponse by_height;
  ASSERT_OK(GetBlock(request, &by_height));
  EXPECT_EQ(by_height.block().header().height(), height);
  ASSERT_EQ(by_height.block().txs_size(), 3);
  ASSERT_EQ(by_height.results_size(), 3);
  EXPECT_EQ(by_height.results(0).code(), v1::OK);
  EXPECT_EQ(v1::ErrorCode_Name(by_height.results(1).code()), "REO_EXCEEDS_MASS");
  EXPECT_EQ(v1::ErrorCode_Name(by_height.results(2).code()), "DUPLICATE_TX");

  request.set_block_id(Bytes(node_.block_id(height)));
  request.set_include_results(false);
  v1::GetBlockResponse by_id;
  ASSERT_OK(GetBlock(request, &by_id));
  EXPECT_EQ(by_id.block().SerializeAsString(), by_height.block().SerializeAsString());
  EXPECT_EQ(by_id.results_size(), 0);

  request.set_block_id(Bytes(node_.block_id(0)));
  ASSERT_OK(GetBlock(request, &by_id));
  EXPECT_EQ(by_id.block().header().height(), 0u);
}

TEST_F(ApiTest, GetBlockRefusesWhatIsNotThere) {
  v1::GetBlockResponse response;
  v1::GetBlockRequest request;
  EXPECT_CODE(GetBlock(request, &response), INVALID_ARGUMENT);
  request.set_height(node_.height() + 1);
  grpc::Status status = GetBlock(request, &response);
  EXPECT_CODE(status, NOT_FOUND);
  EXPECT_NE(status.error_message().find("committed height is 0"), std::string::npos)
      << status.error_message();
  request.set_block_id("0123");
  EXPECT_CODE(GetBlock(request, &response), INVALID_ARGUMENT);
  request.set_block_id(std::string(32, 'b'));
  EXPECT_CODE(GetBlock(request, &response), NOT_FOUND);
}

// --- Streams ----------------------------------------------------------------------------------

TEST_F(ApiTest, StreamBlocksSendsStoredBlocksInOrderThenNewOnes) {
  for (int i = 0; i < 3; ++i) node_.CommitBlock({node_.Sign(node_.Quota(2026, 10 + i))});
  grpc::ClientContext context;
  Deadline(context, 20000);
  v1::StreamBlocksRequest request;
  request.set_from_height(2);
  request.set_include_results(true);
  auto reader = stub_->StreamBlocks(&context, request);
  v1::StreamBlocksResponse message;
  for (uint64_t expected : {2u, 3u}) {
    ASSERT_TRUE(reader->Read(&message));
    EXPECT_EQ(message.block().header().height(), expected);
    ASSERT_EQ(message.results_size(), 1);
    EXPECT_EQ(message.results(0).code(), v1::OK);
  }
  // Nothing newer yet: the stream waits; new commits arrive in order.
  node_.CommitBlock({});
  node_.CommitBlock({node_.Sign(node_.Quota(2026, 99))});
  for (uint64_t expected : {4u, 5u}) {
    ASSERT_TRUE(reader->Read(&message));
    EXPECT_EQ(message.block().header().height(), expected);
  }
  context.TryCancel();
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_CODE(reader->Finish(), CANCELLED);
}

TEST_F(ApiTest, StreamBlocksFromZeroStartsAtTheNextCommit) {
  node_.CommitBlock({});
  grpc::ClientContext context;
  Deadline(context, 20000);
  auto reader = stub_->StreamBlocks(&context, v1::StreamBlocksRequest());
  ASSERT_TRUE(node_.AwaitWaiters(1));  // the stream waits at the tip, height 1
  node_.CommitBlock({});
  v1::StreamBlocksResponse message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.block().header().height(), 2u);
  context.TryCancel();
  reader->Finish();
}

TEST_F(ApiTest, StreamsBeyondTheLimitAreRefusedUntilOneCloses) {
  node_.CommitBlock({});
  struct Open {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::StreamBlocksResponse>> reader;
  };
  std::vector<std::unique_ptr<Open>> streams;
  v1::StreamBlocksRequest request;
  request.set_from_height(1);
  for (size_t i = 0; i < limits::api_streams_max; ++i) {
    auto open = std::make_unique<Open>();
    Deadline(open->context, 20000);
    open->reader = stub_->StreamBlocks(&open->context, request);
    v1::StreamBlocksResponse message;
    ASSERT_TRUE(open->reader->Read(&message)) << "stream " << i;  // its handler runs
    streams.push_back(std::move(open));
  }
  {
    grpc::ClientContext context;
    Deadline(context);
    auto reader = stub_->StreamBlocks(&context, request);
    v1::StreamBlocksResponse message;
    EXPECT_FALSE(reader->Read(&message));
    grpc::Status status = reader->Finish();
    EXPECT_CODE(status, RESOURCE_EXHAUSTED);
    EXPECT_NE(status.error_message().find("streams"), std::string::npos);
  }
  // Unary calls still have threads.
  grpc::ClientContext status_context;
  Deadline(status_context);
  v1::GetStatusResponse node_status;
  EXPECT_OK(stub_->GetStatus(&status_context, v1::GetStatusRequest(), &node_status));

  streams[0]->context.TryCancel();
  streams[0]->reader->Finish();
  bool reopened = false;
  for (int attempt = 0; attempt < 50 && !reopened; ++attempt) {
    grpc::ClientContext context;
    Deadline(context);
    auto reader = stub_->StreamBlocks(&context, request);
    v1::StreamBlocksResponse message;
    reopened = reader->Read(&message);
    context.TryCancel();
    reader->Finish();
    if (!reopened) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(reopened);
  for (auto& open : streams) open->context.TryCancel();
  for (size_t i = 1; i < streams.size(); ++i) streams[i]->reader->Finish();
}

TEST_F(ApiTest, AStreamClientThatDoesNotReadHoldsUpNothingElse) {
  // Blocks of about 60 KiB for a client that reads nothing: once HTTP/2 flow control
  // stops the stream, its handler waits in Write, holding one block; commits, other
  // calls and the cancel still go through.
  for (int i = 0; i < 20; ++i) {
    // A body padded with an unknown field: still a TxBody, still signed as it travels.
    v1::Transaction tx;
    tx.set_body(node_.Quota(2026, i).SerializeAsString() +
                StringField(1000, std::string(60000, 'p')));
    const crypto::KeyPair& key = node_.Key("miit");
    v1::Signature* signature = tx.add_signatures();
    signature->set_public_key(Bytes(key.public_key()));
    signature->set_signature(std::string(crypto::AsBytes(key.SignDigest(TestNode::Id(tx)))));
    node_.CommitBlock({tx});
  }
  grpc::ClientContext stalled;
  Deadline(stalled, 20000);
  v1::StreamBlocksRequest request;
  request.set_from_height(1);
  auto reader = stub_->StreamBlocks(&stalled, request);
  v1::StreamBlocksResponse first;
  ASSERT_TRUE(reader->Read(&first));                  // streaming; from here on it reads nothing
  for (int i = 0; i < 5; ++i) node_.CommitBlock({});  // commits go on
  grpc::ClientContext context;
  Deadline(context);
  v1::GetStatusResponse status;
  ASSERT_OK(stub_->GetStatus(&context, v1::GetStatusRequest(), &status));
  EXPECT_EQ(status.height(), node_.height());
  stalled.TryCancel();
  EXPECT_CODE(reader->Finish(), CANCELLED);
}

TEST_F(ApiTest, StreamEventsSendsTheMatchingOnes) {
  node_.CommitBlock({node_.Sign(node_.Extract("lot-1", 1000, 100)),
                     node_.Sign(node_.Quota(2026, 1)),
                     node_.Sign(node_.Extract("lot-2", 10, 100))});  // fails: REO > mass
  grpc::ClientContext context;
  Deadline(context, 20000);
  v1::StreamEventsRequest request;
  request.set_from_height(1);
  request.mutable_filter()->add_kinds(v1::TX_KIND_EXTRACT);
  request.mutable_filter()->set_include_failed(true);
  auto reader = stub_->StreamEvents(&context, request);
  v1::StreamEventsResponse message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.event().kind(), v1::TX_KIND_EXTRACT);
  EXPECT_EQ(message.event().code(), v1::OK);
  EXPECT_EQ(message.event().signer_org_id(), "mineco");
  ASSERT_EQ(message.event().lot_ids_size(), 1);
  EXPECT_EQ(message.event().lot_ids(0), "lot-1");
  EXPECT_EQ(message.event().site_id(), "mine-a");
  EXPECT_EQ(message.event().height(), 1u);
  EXPECT_EQ(message.event().tx_index(), 0u);
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.event().tx_index(), 2u);
  EXPECT_EQ(v1::ErrorCode_Name(message.event().code()), "REO_EXCEEDS_MASS");

  node_.CommitBlock({node_.Sign(node_.Quota(2026, 2)), node_.Sign(node_.Extract("lot-3", 50, 5))});
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.event().height(), 2u);
  EXPECT_EQ(message.event().tx_index(), 1u);
  EXPECT_EQ(message.event().lot_ids(0), "lot-3");
  context.TryCancel();
  reader->Finish();
}

TEST_F(ApiTest, StreamEventsRefusesAnOversizedFilter) {
  grpc::ClientContext context;
  Deadline(context);
  v1::StreamEventsRequest request;
  for (size_t i = 0; i <= limits::api_event_filter_items_max; ++i) {
    request.mutable_filter()->add_lot_ids("lot-" + std::to_string(i));
  }
  auto reader = stub_->StreamEvents(&context, request);
  v1::StreamEventsResponse message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_CODE(reader->Finish(), INVALID_ARGUMENT);
}

// --- Status, health, reflection, queries --------------------------------------------------------

TEST_F(ApiTest, GetStatusReportsTheCommittedTip) {
  node_.CommitBlock({node_.Sign(node_.Quota(2026, 3))});
  grpc::ClientContext context;
  Deadline(context);
  v1::GetStatusResponse response;
  ASSERT_OK(stub_->GetStatus(&context, v1::GetStatusRequest(), &response));
  EXPECT_EQ(response.chain_id(), kChain);
  EXPECT_EQ(response.height(), 1u);
  EXPECT_EQ(response.block_id(), Bytes(node_.block_id(1)));
  EXPECT_EQ(response.state_root().size(), 32u);
  EXPECT_NE(response.state_root(), std::string(32, '\0'));
  EXPECT_EQ(response.validators_size(), 1);
  EXPECT_EQ(response.self_validator_index(), 0);
}

// In epoch 0 no epoch has ended: the answer is empty and complete; an epoch that has not
// begun is NOT_FOUND (chains of proofs: tests/replica and integration.epoch).
TEST_F(ApiTest, GetEpochProofsInTheFirstEpochIsEmptyAndComplete) {
  node_.CommitBlock({node_.Sign(node_.Quota(2026, 3))});
  grpc::ClientContext context;
  Deadline(context);
  v1::GetEpochProofsResponse response;
  ASSERT_OK(stub_->GetEpochProofs(&context, v1::GetEpochProofsRequest(), &response));
  EXPECT_EQ(response.proofs_size(), 0);
  EXPECT_EQ(response.current_epoch(), 0u);
  EXPECT_EQ(response.next_from_epoch(), 0u);
  EXPECT_TRUE(response.complete());

  grpc::ClientContext later;
  Deadline(later);
  v1::GetEpochProofsRequest ahead;
  ahead.set_from_epoch(1);
  grpc::Status status = stub_->GetEpochProofs(&later, ahead, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("has not begun"), std::string::npos)
      << status.error_message();
}

TEST_F(ApiTest, HealthServiceAnswersServing) {
  int serving = -1;
  grpc::Status status = HealthCheck(channel_, "", &serving);
  ASSERT_OK(status);
  EXPECT_EQ(serving, 1);
  serving = -1;
  ASSERT_OK(HealthCheck(channel_, "reel.v1.Api", &serving));
  EXPECT_EQ(serving, 1);
  EXPECT_CODE(HealthCheck(channel_, "no.such.Service", &serving), NOT_FOUND);

  server_->Shutdown(/*grace_ms=*/0);
  EXPECT_FALSE(HealthCheck(channel_, "", &serving).ok());
}

TEST_F(ApiTest, ReflectionListsTheServices) {
  std::vector<std::string> names = ReflectionServices(channel_);
  auto has = [&](const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  EXPECT_TRUE(has("reel.v1.Api")) << names.size() << " services";
  EXPECT_TRUE(has("grpc.health.v1.Health"));
  EXPECT_TRUE(has("grpc.reflection.v1alpha.ServerReflection"));
}

TEST_F(ApiTest, GetLotAnswersFromTheLedger) {
  node_.CommitBlock({node_.Sign(node_.Extract("lot-1", 1000, 120))});
  grpc::ClientContext context;
  Deadline(context);
  v1::GetLotRequest request;
  request.set_lot_id("lot-1");
  v1::GetLotResponse response;
  grpc::Status status = stub_->GetLot(&context, request, &response);
  ASSERT_OK(status);
  EXPECT_EQ(response.lot().lot_id(), "lot-1");
  EXPECT_EQ(response.lot().mass_g(), 1000);
  EXPECT_EQ(response.lot().reo_g(), 120);
  EXPECT_EQ(response.lot().holder_org_id(), "mineco");

  grpc::ClientContext missing_context;
  Deadline(missing_context);
  request.set_lot_id("lot-404");
  status = stub_->GetLot(&missing_context, request, &response);
  EXPECT_CODE(status, NOT_FOUND);
  EXPECT_NE(status.error_message().find("lot-404"), std::string::npos);

  grpc::ClientContext long_context;
  Deadline(long_context);
  request.set_lot_id(std::string(limits::lot_id_bytes_max + 1, 'l'));
  EXPECT_CODE(stub_->GetLot(&long_context, request, &response), INVALID_ARGUMENT);
}

TEST_F(ApiTest, HoldingsPagesThroughEveryLotOnce) {
  std::vector<v1::Transaction> txs;
  for (int i = 0; i < 5; ++i) {
    txs.push_back(node_.Sign(node_.Extract("lot-" + std::to_string(i), 100, 10 + i)));
  }
  node_.CommitBlock(txs);
  v1::HoldingsRequest request;
  request.set_org_id("mineco");
  request.set_page_size(2);
  std::vector<std::string> seen;
  std::vector<size_t> page_sizes;
  for (int page = 0; page < 10; ++page) {
    grpc::ClientContext context;
    Deadline(context);
    v1::HoldingsResponse response;
    grpc::Status status = stub_->Holdings(&context, request, &response);
    ASSERT_OK(status);
    ASSERT_EQ(response.summaries_size(), 1);  // complete on every page
    EXPECT_EQ(response.summaries(0).lot_count(), 5u);
    EXPECT_EQ(response.summaries(0).reo_g(), 10 + 11 + 12 + 13 + 14);
    page_sizes.push_back(static_cast<size_t>(response.lots_size()));
    for (const v1::Lot& lot : response.lots()) seen.push_back(lot.lot_id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"lot-0", "lot-1", "lot-2", "lot-3", "lot-4"}));
  EXPECT_EQ(page_sizes, (std::vector<size_t>{2, 2, 1}));

  // A token is only good with the filters it came from.
  grpc::ClientContext context;
  Deadline(context);
  request.set_org_id("miit");
  v1::HoldingsResponse response;
  EXPECT_CODE(stub_->Holdings(&context, request, &response), INVALID_ARGUMENT);
}

TEST_F(ApiTest, MassBalanceAnswersFromTheLedger) {
  node_.CommitBlock({node_.Sign(node_.Extract("lot-1", 1000, 120)),
                     node_.Sign(node_.Extract("lot-2", 1000, 30))});
  grpc::ClientContext context;
  Deadline(context);
  v1::MassBalanceRequest request;
  request.set_org_id("mineco");
  v1::MassBalanceResponse response;
  grpc::Status status = stub_->MassBalance(&context, request, &response);
  ASSERT_OK(status);
  EXPECT_EQ(response.org_id(), "mineco");
  EXPECT_EQ(response.extracted_reo_g(), 150);
  EXPECT_EQ(response.in_reo_g(), 150);

  grpc::ClientContext unknown_context;
  Deadline(unknown_context);
  request.set_org_id("nobody");
  EXPECT_CODE(stub_->MassBalance(&unknown_context, request, &response), NOT_FOUND);
}

// --- A store that fails (tests/storage/faulty_store.h) ----------------------------------------

using Fault = storage::testing::FaultyStore::Fault;
using FaultOp = storage::testing::FaultyStore::Op;

class ApiStoreFaultTest : public ApiTest {
 protected:
  // Calls `method` with `request`, failing the first read it makes, then (in a second
  // call) the second, and so on, until a call makes fewer reads than that: every answer
  // must be UNAVAILABLE with a message that says the node could not read its store,
  // never an answer made of what was read before the error; the call past the last read
  // answers as a fault-free one does.
  template <typename Request, typename Response>
  void ExpectEveryReadErrorIsUnavailable(grpc::Status (v1::Api::Stub::*method)(grpc::ClientContext*,
                                                                               const Request&,
                                                                               Response*),
                                         const Request& request) {
    auto call = [&](Response* response) {
      grpc::ClientContext context;
      Deadline(context);
      return (stub_.get()->*method)(&context, request, response);
    };
    Response healthy;
    const grpc::Status fine = call(&healthy);
    ASSERT_OK(fine);
    for (uint64_t read = 0;; ++read) {
      const uint64_t failures = node_.faults().failures();
      node_.faults().Arm(Fault(FaultOp::kRead).After(read));
      Response response;
      const grpc::Status status = call(&response);
      node_.faults().Heal();
      if (node_.faults().failures() == failures) {
        ASSERT_GT(read, 0u) << "the call read nothing from the store";
        ASSERT_OK(status);
        EXPECT_EQ(response.SerializeAsString(), healthy.SerializeAsString());
        return;
      }
      EXPECT_CODE(status, UNAVAILABLE) << "with read " << read << " failing";
      EXPECT_NE(status.error_message().find("could not read its store"), std::string::npos)
          << status.error_message();
    }
  }
};

TEST_F(ApiStoreFaultTest, EveryReadErrorOfAReadMethodIsUnavailable) {
  const v1::Transaction tx = node_.Sign(node_.Extract("lot-1", 1000, 120));
  node_.CommitBlock({tx, node_.Sign(node_.Extract("lot-2", 500, 30))});
  node_.CommitBlock({node_.Sign(node_.Quota(2026, 7))});
  node_.CommitBlock({});

  v1::GetTransactionRequest get_transaction;
  get_transaction.set_tx_id(Bytes(TestNode::Id(tx)));
  v1::GetBlockRequest get_block;
  get_block.set_height(1);
  get_block.set_include_results(true);
  get_block.set_include_proof(true);
  v1::GetLotRequest get_lot;
  get_lot.set_lot_id("lot-1");
  v1::HoldingsRequest holdings;
  holdings.set_org_id("mineco");
  v1::MassBalanceRequest mass_balance;
  mass_balance.set_org_id("mineco");
  using Stub = v1::Api::Stub;
  ExpectEveryReadErrorIsUnavailable(&Stub::GetTransaction, get_transaction);
  ExpectEveryReadErrorIsUnavailable(&Stub::GetBlock, get_block);
  ExpectEveryReadErrorIsUnavailable(&Stub::GetStatus, v1::GetStatusRequest());
  ExpectEveryReadErrorIsUnavailable(&Stub::GetLot, get_lot);
  ExpectEveryReadErrorIsUnavailable(&Stub::Holdings, holdings);
  ExpectEveryReadErrorIsUnavailable(&Stub::MassBalance, mass_balance);
}

TEST_F(ApiStoreFaultTest, ASubmissionThatCannotReadTheStateIsUnavailableAndNotPooled) {
  const v1::Transaction tx = node_.Sign(node_.Quota(2026, 500));
  node_.faults().Arm(Fault(FaultOp::kRead).Forever());
  v1::SubmitTransactionResponse response;
  const grpc::Status status = Submit(tx, &response);
  EXPECT_CODE(status, UNAVAILABLE);
  EXPECT_FALSE(node_.IsPending(TestNode::Id(tx))) << "admitted without the rules checked";
  // The server goes on: healed, the same submission is admitted.
  node_.faults().Heal();
  ASSERT_OK(Submit(tx, &response));
  EXPECT_EQ(response.status(), v1::TX_STATUS_PENDING);
}

TEST_F(ApiStoreFaultTest, ABatchThatCannotReadTheStateIsUnavailableAndNothingIsPooled) {
  const std::vector<v1::Transaction> txs = {node_.Sign(node_.Quota(2026, 500)),
                                            node_.Sign(node_.Quota(2026, 501))};
  node_.faults().Arm(Fault(FaultOp::kRead).Forever());
  v1::SubmitTransactionsResponse response;
  const grpc::Status status = SubmitAll(*stub_, txs, &response);
  EXPECT_CODE(status, UNAVAILABLE);
  EXPECT_NE(status.error_message().find("could not read its store"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(node_.pool().size(), 0u) << "admitted without the rules checked";
  node_.faults().Heal();
  ASSERT_OK(SubmitAll(*stub_, txs, &response));
  ASSERT_TRUE(OnePerTransactionInOrder(txs, response));
  for (const v1::SubmitTransactionResponse& answer : response.results()) {
    EXPECT_EQ(answer.status(), v1::TX_STATUS_PENDING);
  }
}

TEST_F(ApiStoreFaultTest, AStreamThatCannotReadABlockEndsUnavailable) {
  node_.CommitBlock({node_.Sign(node_.Quota(2026, 10))});
  node_.CommitBlock({node_.Sign(node_.Quota(2026, 11))});
  node_.faults().Arm(Fault(FaultOp::kRead).Prefix(storage::keys::BlockKey(2)));
  grpc::ClientContext context;
  Deadline(context, 20000);
  v1::StreamBlocksRequest request;
  request.set_from_height(1);
  auto reader = stub_->StreamBlocks(&context, request);
  v1::StreamBlocksResponse message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.block().header().height(), 1u);
  EXPECT_FALSE(reader->Read(&message)) << "a block it could not read was skipped";
  EXPECT_CODE(reader->Finish(), UNAVAILABLE);
}

}  // namespace
}  // namespace reel::api::testing
