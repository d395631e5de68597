// reel-bench: a load generator for a running REEL network. Before it measures, it
// registers, with the regulator's key file, one lane of organisations per client
// thread (a state miner with a mine, a state smelter-separator with a plant, a
// private exporter, each with its own key, and their quotas). Then each thread signs
// custody transactions in the mix it is told (extractions, two-step transfers,
// separations, licence applications; see lane.h for why each is valid), submits them
// round-robin to the nodes at its share of a fixed rate or as fast as admission takes
// them (one SubmitTransaction each, or with --batch N up to N per SubmitTransactions
// call), and the commit latency is measured from when each was due to be sent (with a
// rate, its slot; without, when the outstanding bound left room for it) to the block
// that commits it, seen on a StreamBlocks subscription.
// One line per kind comes first; the last line is exactly:
//   tps=T p50_ms=A p99_ms=B committed=C errors=E
// --committed-out FILE writes every transaction it saw committed (hex id, height), so
// that a test can look for each one on every node.
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "base/limits.h"
#include "crypto/keyfile.h"
#include "tools/bench/lane.h"
#include "tools/bench/mix.h"
#include "tools/bench/network.h"
#include "tools/bench/tracker.h"

namespace reel::bench {
namespace {

// After the measured phase, how long what was submitted may take to commit.
constexpr auto kDrainMax = std::chrono::seconds(10);

struct Options {
  std::vector<std::string> nodes = {"127.0.0.1:26601"};
  std::string regulator_key;
  std::string regulator_org = "miit";
  std::string mix = std::string(kDefaultMix);
  double seconds = 10;
  uint32_t rate = 0;  // transactions per second in all; 0 = as fast as possible
  uint32_t threads = 8;
  // As fast as possible means as fast as the network commits: beyond this many
  // submitted and uncommitted transactions the clients wait, so that latency measures
  // the chain and not a queue the clients built in the mempools.
  uint32_t max_outstanding = 750;
  // Transactions per call: 1 sends each with SubmitTransaction, more gathers what is
  // due (within the rate or the outstanding bound) into SubmitTransactions calls.
  uint32_t batch = 1;
  std::string committed_out;  // empty: not written
};

uint32_t CstYearNow() {
  const auto now = std::chrono::system_clock::now() + std::chrono::hours(8);
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(now)};
  return static_cast<uint32_t>(static_cast<int>(ymd.year()));
}

class Bench {
 public:
  Bench(const Options& o, const Mix& mix)
      : o_(o), mix_(mix), network_(o.nodes), tracker_(&network_) {}

  int Run() {
    if (Status s = Setup(); !s.ok()) {
      std::cerr << "reel-bench: setup failed: " << s.message() << "\n";
      std::cout << "tps=0 p50_ms=0 p99_ms=0 committed=0 errors=1\n";
      return 1;
    }
    std::cerr << "reel-bench: " << lanes_.size() << " lanes ready; mix " << FormatMix(mix_)
              << ", rate " << (o_.rate == 0 ? "as fast as possible" : std::to_string(o_.rate))
              << ", " << o_.seconds << " s\n";
    std::thread watcher([this] { tracker_.Watch(first_height_); });
    const auto start = Clock::now();
    const auto end = start + std::chrono::milliseconds(static_cast<int64_t>(o_.seconds * 1000));
    std::vector<std::thread> clients;
    for (uint32_t c = 0; c < o_.threads; ++c) {
      clients.emplace_back([this, c, end] { Client(c, end); });
    }
    for (std::thread& t : clients) t.join();
    tracker_.WaitDrained(kDrainMax);
    tracker_.Stop();
    watcher.join();
    const uint64_t errors = tracker_.Report(std::cout, start);
    if (!o_.committed_out.empty()) {
      std::ofstream out(o_.committed_out);
      tracker_.WriteCommitted(out);
      if (!out.flush()) {
        std::cerr << "reel-bench: cannot write " << o_.committed_out << "\n";
        return 1;
      }
    }
    return errors == 0 ? 0 : 1;
  }

 private:
  // Not measured: the lanes' organisations, then their sites and quotas.
  Status Setup() {
    REEL_RETURN_IF_ERROR(network_.Connect());
    Result<crypto::KeyPair> regulator = crypto::ReadKeyFile(o_.regulator_key, std::nullopt);
    if (!regulator.ok()) return regulator.status();
    const std::string run_tag = std::to_string(randombytes_random());
    for (uint32_t i = 0; i < o_.threads; ++i) {
      lanes_.push_back(std::make_unique<Lane>(&network_, run_tag, i));
    }
    std::vector<v1::Transaction> orgs, sites_and_quotas;
    for (auto& lane : lanes_) {
      for (auto& tx : lane->Organisations(*regulator, o_.regulator_org)) orgs.push_back(tx);
    }
    Result<uint64_t> height = network_.CommitAll(orgs);
    if (!height.ok()) return height.status();
    for (auto& lane : lanes_) {
      for (auto& tx : lane->SitesAndQuotas(*regulator, o_.regulator_org, CstYearNow())) {
        sites_and_quotas.push_back(tx);
      }
    }
    height = network_.CommitAll(sites_and_quotas);
    if (!height.ok()) return height.status();
    first_height_ = *height + 1;
    return Status::Ok();
  }

  // One client thread: its lane's transactions in the mix, paced to its share of
  // --rate. With a rate, latency counts from when a transaction was due, so a client
  // that falls behind does not hide the wait (no coordinated omission).
  void Client(uint32_t c, Clock::time_point end) {
    Lane& lane = *lanes_[c];
    MixScheduler scheduler(mix_);
    const double share = o_.rate == 0 ? 0 : static_cast<double>(o_.rate) / o_.threads;
    const auto begin = Clock::now();
    size_t node = c % network_.node_count();
    for (uint64_t sent = 0;;) {
      auto due = Clock::now();
      if (share > 0) {
        due = DueAt(begin, sent, share);
        std::this_thread::sleep_until(due);
      }
      if (share == 0) {
        // Without a rate a transaction is due once there is room for it: the wait for
        // room is the client's bound, not the chain's latency.
        while (tracker_.outstanding() + gathering_.load() >= o_.max_outstanding) {
          if (Clock::now() >= end) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        due = Clock::now();
      }
      if (Clock::now() >= end) return;
      // One call carries what is due now: with a rate, those whose time has come; without,
      // as many as the outstanding bound leaves room for.
      std::vector<Prepared> batch;
      std::vector<Clock::time_point> dues;
      do {
        batch.push_back(lane.Next(scheduler.Next([&lane](Kind k) { return lane.Ready(k); })));
        dues.push_back(due);
        gathering_.fetch_add(1);
        ++sent;
        if (share > 0) {
          due = DueAt(begin, sent, share);
          if (due > Clock::now()) break;
        } else if (tracker_.outstanding() + gathering_.load() >= o_.max_outstanding) {
          break;
        }
      } while (batch.size() < o_.batch);
      if (batch.size() == 1) {
        Send(node, std::move(batch[0]), dues[0]);
      } else {
        SendBatch(node, std::move(batch), dues);
      }
      node = (node + 1) % network_.node_count();
    }
  }

  static Clock::time_point DueAt(Clock::time_point begin, uint64_t sent, double share) {
    return begin +
           std::chrono::microseconds(static_cast<int64_t>(static_cast<double>(sent) * 1e6 / share));
  }

  void Send(size_t node, Prepared p, Clock::time_point due) {
    std::string id = network_.IdOf(p.tx);
    tracker_.Submitted(id, p.kind, due, std::move(p.on_commit));
    gathering_.fetch_sub(1);
    Result<v1::SubmitTransactionResponse> r = network_.Submit(node, p.tx);
    if (!r.ok()) {
      tracker_.Refused(id, p.kind, r.status().message());
    } else if (r->status() == v1::TX_STATUS_REJECTED) {
      tracker_.Refused(id, p.kind, r->result().message());
    }
  }

  void SendBatch(size_t node, std::vector<Prepared> batch,
                 const std::vector<Clock::time_point>& dues) {
    std::vector<std::string> ids;
    std::vector<v1::Transaction> txs;
    for (size_t i = 0; i < batch.size(); ++i) {
      ids.push_back(network_.IdOf(batch[i].tx));
      tracker_.Submitted(ids[i], batch[i].kind, dues[i], std::move(batch[i].on_commit));
      txs.push_back(std::move(batch[i].tx));
    }
    gathering_.fetch_sub(batch.size());
    Result<v1::SubmitTransactionsResponse> r = network_.SubmitBatch(node, txs);
    if (!r.ok()) {
      // A call that fails may have admitted some before its error (mempool full:
      // proto/CONTRACT.md). The node says which it holds: those stay pending, the rest
      // are refused (and free their room under --max-outstanding).
      for (size_t i = 0; i < batch.size(); ++i) {
        Result<bool> held = network_.Holds(node, ids[i]);
        if (!held.ok() || !*held) tracker_.Refused(ids[i], batch[i].kind, r.status().message());
      }
      return;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (r->results(static_cast<int>(i)).status() == v1::TX_STATUS_REJECTED) {
        tracker_.Refused(ids[i], batch[i].kind, r->results(static_cast<int>(i)).result().message());
      }
    }
  }

  const Options o_;
  const Mix mix_;
  Network network_;
  Tracker tracker_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  uint64_t first_height_ = 0;
  // Transactions the clients have signed and not yet handed to the tracker: without a
  // rate, they count against --max-outstanding too, so that clients gathering batches
  // at once do not overshoot it.
  std::atomic<size_t> gathering_{0};
};

}  // namespace
}  // namespace reel::bench

int main(int argc, char** argv) {
  reel::bench::Options o;
  CLI::App app{"reel-bench: load generator for a running REEL network (a custody transaction mix)"};
  app.add_option("--nodes", o.nodes, "Client API addresses, round-robin")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--regulator-key", o.regulator_key,
                 "Key file of the regulator (MIIT) that registers the benchmark organisations")
      ->required();
  app.add_option("--regulator-org", o.regulator_org, "The regulator's org id")
      ->capture_default_str();
  app.add_option("--mix", o.mix,
                 "Shares of transactions by kind (extract, transfer = offer or accept, "
                 "process = separation, licence = export licence application)")
      ->capture_default_str();
  app.add_option("--duration,--seconds", o.seconds, "How long to submit, in seconds")
      ->capture_default_str();
  app.add_option("--rate", o.rate, "Transactions per second in all; 0 = as fast as possible")
      ->capture_default_str();
  app.add_option("--max-outstanding", o.max_outstanding,
                 "Without --rate: submitted, uncommitted transactions beyond which clients wait")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--batch", o.batch,
                 "Transactions per call: 1 = one SubmitTransaction each, more = "
                 "SubmitTransactions calls of what is due at once")
      ->capture_default_str()
      ->check(CLI::Range(1u, static_cast<uint32_t>(reel::limits::api_submit_batch_txs_max)));
  app.add_option("--threads,--clients", o.threads, "Client threads, one lane of organisations each")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option(
      "--committed-out", o.committed_out,
      "File to write every transaction seen committed to: hex id and height, one a line");
  CLI11_PARSE(app, argc, argv);
  reel::Result<reel::bench::Mix> mix = reel::bench::ParseMix(o.mix);
  if (!mix.ok()) {
    std::cerr << "reel-bench: " << mix.status().message() << "\n";
    return 2;
  }
  if (sodium_init() < 0) return 1;
  return reel::bench::Bench(o, *mix).Run();
}
