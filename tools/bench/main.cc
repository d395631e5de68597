// reel-bench: a load generator for a running REEL network. It registers a state
// mining company with its own keys, a mine and a quota (signed by the regulator's key
// file), then signs extractions (custody transactions, each a new lot) with many
// client threads, submits them to the nodes round-robin at a fixed rate or as fast as
// admission takes them, and measures commit latency from submission to the block
// that commits it, seen on a StreamBlocks subscription.
// Its last line is exactly: tps=T p50_ms=A p99_ms=B committed=C errors=E
#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "crypto/keyfile.h"
#include "crypto/signing.h"
#include "reel/v1/api.grpc.pb.h"

namespace reel::bench {
namespace {

namespace v1 = ::reel::v1;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> nodes = {"127.0.0.1:26601"};
  std::string regulator_key;
  std::string regulator_org = "miit";
  double seconds = 10;
  uint32_t rate = 0;  // transactions per second in all; 0 = as fast as possible
  uint32_t clients = 8;
  uint32_t batch = 50;  // transactions signed and sent per client step
};

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {
    for (const std::string& node : o_.nodes) {
      stubs_.push_back(v1::Api::NewStub(grpc::CreateChannel(node, grpc::InsecureChannelCredentials())));
    }
  }

  int Run() {
    if (Status s = Setup(); !s.ok()) {
      std::cerr << "reel-bench: setup failed: " << s.message() << "\n";
      std::cout << "tps=0 p50_ms=0 p99_ms=0 committed=0 errors=1\n";
      return 1;
    }
    std::thread watcher([this] { Watch(); });
    const auto start = Clock::now();
    const auto end = start + std::chrono::milliseconds(static_cast<int64_t>(o_.seconds * 1000));
    std::vector<std::thread> clients;
    for (uint32_t c = 0; c < o_.clients; ++c) clients.emplace_back([this, c, end] { Client(c, end); });
    for (auto& t : clients) t.join();
    // Let what was submitted commit, up to 10 s more.
    const auto drain_until = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < drain_until) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (submitted_.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop_ = true;
    watch_context_.TryCancel();
    watcher.join();
    const double elapsed =
        std::chrono::duration<double>(last_commit_ - start).count();
    std::sort(latencies_ms_.begin(), latencies_ms_.end());
    auto pct = [&](double p) -> uint64_t {
      if (latencies_ms_.empty()) return 0;
      return latencies_ms_[std::min(latencies_ms_.size() - 1,
                                    static_cast<size_t>(p * static_cast<double>(latencies_ms_.size())))];
    };
    const uint64_t committed = latencies_ms_.size();
    const uint64_t tps = elapsed > 0 ? static_cast<uint64_t>(static_cast<double>(committed) / elapsed) : 0;
    const uint64_t errors = errors_.load() + submitted_.size();  // never committed counts too
    std::cerr << "reel-bench: " << committed << " committed in " << elapsed << " s from "
              << o_.clients << " clients to " << o_.nodes.size() << " node(s); " << errors_.load()
              << " refused, " << submitted_.size() << " not committed\n";
    std::cout << "tps=" << tps << " p50_ms=" << pct(0.50) << " p99_ms=" << pct(0.99)
              << " committed=" << committed << " errors=" << errors << "\n";
    return errors == 0 ? 0 : 1;
  }

 private:
  Status Setup() {
    Result<crypto::KeyPair> regulator = crypto::ReadKeyFile(o_.regulator_key, std::nullopt);
    if (!regulator.ok()) return regulator.status();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetStatusResponse status;
    grpc::Status s = stubs_[0]->GetStatus(&context, {}, &status);
    if (!s.ok()) return Status::IoError("node " + o_.nodes[0] + ": " + s.error_message());
    chain_id_ = status.chain_id();
    tag_ = std::to_string(randombytes_random());
    org_ = "bench-mining-" + tag_;
    miner_ = std::make_unique<crypto::KeyPair>(crypto::KeyPair::Generate());
    year_ = CstYearNow();

    v1::TxBody org = Body(o_.regulator_org);
    v1::RegisterOrg* r = org.mutable_register_org();
    r->set_org_id(org_);
    r->set_name("Benchmark mining company");
    r->set_kind(v1::ORG_KIND_STATE_ENTERPRISE);
    r->add_roles(v1::ROLE_MINER);
    r->add_signatory_keys(std::string(crypto::AsBytes(miner_->public_key())));
    r->set_quorum(1);
    v1::TxBody site = Body(o_.regulator_org);
    v1::RegisterSite* m = site.mutable_register_site();
    m->set_site_id("mine-" + tag_);
    m->set_org_id(org_);
    m->set_name("Benchmark mine");
    m->set_kind(v1::SITE_KIND_MINE);
    m->set_deposit_type(v1::DEPOSIT_TYPE_ROCK);
    m->set_province("Inner Mongolia");
    v1::TxBody quota = Body(o_.regulator_org);
    v1::SetQuota* q = quota.mutable_set_quota();
    q->set_org_id(org_);
    q->set_year(year_);
    q->set_category(v1::QUOTA_CATEGORY_MINING_LIGHT);
    q->set_amount_g(int64_t{1} << 60);
    for (const v1::TxBody* body : {&org, &site, &quota}) {
      v1::SubmitTransactionResponse response;
      REEL_RETURN_IF_ERROR(SubmitOne(0, Sign(*body, *regulator), /*wait=*/true, &response));
      if (response.status() != v1::TX_STATUS_COMMITTED || response.result().code() != v1::OK) {
        return Status::FailedPrecondition("setup transaction refused: " +
                                          v1::ErrorCode_Name(response.result().code()) + ": " +
                                          response.result().message());
      }
      start_height_ = std::max(start_height_, response.height() + 1);
    }
    return Status::Ok();
  }

  static uint32_t CstYearNow() {
    const auto now = std::chrono::system_clock::now() + std::chrono::hours(8);
    const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(now)};
    return static_cast<uint32_t>(static_cast<int>(ymd.year()));
  }

  v1::TxBody Body(const std::string& signer) {
    v1::TxBody body;
    body.set_chain_id(chain_id_);
    body.set_org_id(signer);
    body.set_nonce(nonce_.fetch_add(1) + (uint64_t{randombytes_random()} << 32));
    return body;
  }

  v1::Transaction Sign(const v1::TxBody& body, const crypto::KeyPair& key) {
    v1::Transaction tx;
    tx.set_body(body.SerializeAsString());
    const crypto::Hash32 id = crypto::TransactionId(chain_id_, tx.body());
    v1::Signature* s = tx.add_signatures();
    s->set_public_key(std::string(crypto::AsBytes(key.public_key())));
    s->set_signature(std::string(crypto::AsBytes(key.SignDigest(id))));
    return tx;
  }

  Status SubmitOne(size_t node, const v1::Transaction& tx, bool wait,
                   v1::SubmitTransactionResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubmitTransactionRequest request;
    *request.mutable_transaction() = tx;
    request.set_wait_for_commit(wait);
    grpc::Status s = stubs_[node]->SubmitTransaction(&context, request, response);
    if (!s.ok()) return Status::IoError(o_.nodes[node] + ": " + s.error_message());
    return Status::Ok();
  }

  // One client: signs a batch of extractions, then submits them one by one (no wait),
  // pacing itself to its share of --rate.
  void Client(uint32_t c, Clock::time_point end) {
    const double share = o_.rate == 0 ? 0 : static_cast<double>(o_.rate) / o_.clients;
    const auto begin = Clock::now();
    uint64_t sent = 0;
    size_t node = c % stubs_.size();
    while (Clock::now() < end) {
      for (uint32_t i = 0; i < o_.batch && Clock::now() < end; ++i) {
        if (share > 0) {
          const auto due = begin + std::chrono::microseconds(
                                       static_cast<int64_t>(static_cast<double>(sent) * 1e6 / share));
          std::this_thread::sleep_until(due);
        }
        v1::TxBody body = Body(org_);
        v1::Extract* e = body.mutable_extract();
        e->set_site_id("mine-" + tag_);
        e->set_lot_id("B" + tag_ + "-" + std::to_string(c) + "-" + std::to_string(sent));
        e->set_product(v1::PRODUCT_FORM_ORE);
        e->set_mass_g(1'000'000);
        v1::ElementAmount* nd = e->mutable_composition()->add_amounts();
        nd->set_element(v1::ELEMENT_ND);
        nd->set_reo_g(30'000);
        v1::Transaction tx = Sign(body, *miner_);
        const std::string id(crypto::AsBytes(crypto::TransactionId(chain_id_, tx.body())));
        {
          std::lock_guard<std::mutex> lock(mu_);
          submitted_[id] = Clock::now();
        }
        v1::SubmitTransactionResponse response;
        Status s = SubmitOne(node, tx, /*wait=*/false, &response);
        if (!s.ok() || response.status() == v1::TX_STATUS_REJECTED) {
          ++errors_;
          std::lock_guard<std::mutex> lock(mu_);
          submitted_.erase(id);
        }
        ++sent;
        node = (node + 1) % stubs_.size();
      }
    }
  }

  // Follows committed blocks and records each submitted transaction's latency.
  void Watch() {
    v1::StreamBlocksRequest request;
    request.set_from_height(start_height_);
    request.set_include_results(true);
    auto reader = stubs_[0]->StreamBlocks(&watch_context_, request);
    v1::StreamBlocksResponse block;
    while (!stop_ && reader->Read(&block)) {
      const auto now = Clock::now();
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < block.block().txs_size(); ++i) {
        const std::string id(
            crypto::AsBytes(crypto::TransactionId(chain_id_, block.block().txs(i).body())));
        auto it = submitted_.find(id);
        if (it == submitted_.end()) continue;
        if (i < block.results_size() && block.results(i).code() != v1::OK) ++errors_;
        latencies_ms_.push_back(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second).count()));
        submitted_.erase(it);
        last_commit_ = now;
      }
    }
  }

  Options o_;
  std::vector<std::unique_ptr<v1::Api::Stub>> stubs_;
  std::string chain_id_, tag_, org_;
  uint32_t year_ = 0;
  std::unique_ptr<crypto::KeyPair> miner_;
  std::atomic<uint64_t> nonce_{1};
  uint64_t start_height_ = 0;
  std::mutex mu_;
  std::map<std::string, Clock::time_point> submitted_;
  std::vector<uint64_t> latencies_ms_;
  Clock::time_point last_commit_ = Clock::now();
  std::atomic<uint64_t> errors_{0};
  std::atomic<bool> stop_{false};
  grpc::ClientContext watch_context_;
};

}  // namespace
}  // namespace reel::bench

int main(int argc, char** argv) {
  reel::bench::Options o;
  CLI::App app{"reel-bench: load generator for a running REEL network (signs extractions)"};
  app.add_option("--nodes", o.nodes, "Client API addresses, round-robin")->delimiter(',')
      ->capture_default_str();
  app.add_option("--regulator-key", o.regulator_key, "Key file of the regulator (MIIT) that registers the benchmark company")
      ->required();
  app.add_option("--regulator-org", o.regulator_org, "The regulator's org id")->capture_default_str();
  app.add_option("--seconds", o.seconds, "How long to submit")->capture_default_str();
  app.add_option("--rate", o.rate, "Transactions per second in all; 0 = as fast as possible")
      ->capture_default_str();
  app.add_option("--clients", o.clients, "Client threads")->capture_default_str()->check(CLI::Range(1, 256));
  CLI11_PARSE(app, argc, argv);
  if (sodium_init() < 0) return 1;
  return reel::bench::Bench(o).Run();
}
