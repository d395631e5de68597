#include "tools/bench/tracker.h"

#include <algorithm>
#include <iostream>
#include <thread>

#include "base/bytes.h"

namespace reel::bench {
namespace {

// Refusals and failures printed on stderr: enough to see why, not a flood.
constexpr uint64_t kComplaintsMax = 10;

uint64_t Percentile(const std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t at = static_cast<size_t>(p * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, at)];
}

}  // namespace

size_t Tracker::outstanding() {
  MutexLock lock(&mu_);
  return pending_.size();
}

void Tracker::Submitted(std::string id, Kind kind, Clock::time_point since,
                        std::function<void()> on_commit) {
  MutexLock lock(&mu_);
  ++kinds_[static_cast<size_t>(kind)].submitted;
  pending_[std::move(id)] = Pending{kind, since, std::move(on_commit)};
}

void Tracker::Refused(const std::string& id, Kind kind, const std::string& why) {
  {
    MutexLock lock(&mu_);
    ++kinds_[static_cast<size_t>(kind)].refused;
    pending_.erase(id);
  }
  Complain(std::string(KindName(kind)) + " refused: " + why);
}

void Tracker::Complain(const std::string& what) {
  MutexLock lock(&mu_);
  if (complaints_++ < kComplaintsMax) std::cerr << "reel-bench: " << what << "\n";
}

void Tracker::Committed(const std::string& id, const v1::TxResult& result, uint64_t height,
                        Clock::time_point now, Consequences* then) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // not ours, or from the setup
  PerKind& kind = kinds_[static_cast<size_t>(it->second.kind)];
  kind.latencies_ms.push_back(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second.since).count()));
  if (result.code() != v1::OK) {
    ++kind.failed;
    then->failures.push_back(std::string(KindName(it->second.kind)) + " failed in its block: " +
                             v1::ErrorCode_Name(result.code()) + ": " + result.message());
  } else if (it->second.on_commit) {
    then->on_commits.push_back(std::move(it->second.on_commit));
  }
  pending_.erase(it);
  committed_.emplace_back(id, height);
  last_commit_ = now;
}

void Tracker::Watch(uint64_t from_height) {
  auto reader = network_->StreamBlocks(&watch_context_, from_height);
  v1::StreamBlocksResponse block;
  while (reader->Read(&block)) {
    const auto now = Clock::now();
    Consequences then;
    {
      MutexLock lock(&mu_);
      for (int i = 0; i < block.block().txs_size(); ++i) {
        const v1::TxResult& result =
            i < block.results_size() ? block.results(i) : v1::TxResult::default_instance();
        Committed(network_->IdOf(block.block().txs(i)), result, block.block().header().height(),
                  now, &then);
      }
    }
    // Outside the lock: on_commit takes a lane's lock, Complain this one.
    for (auto& f : then.on_commits) f();
    for (const std::string& why : then.failures) Complain(why);
  }
}

void Tracker::Stop() {
  watch_context_.TryCancel();
}

void Tracker::WaitDrained(Clock::duration max) {
  const auto until = Clock::now() + max;
  while (Clock::now() < until) {
    {
      MutexLock lock(&mu_);
      if (pending_.empty()) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

uint64_t Tracker::Report(std::ostream& out, Clock::time_point start) {
  MutexLock lock(&mu_);
  std::array<uint64_t, kKinds> uncommitted{};
  for (const auto& [id, p] : pending_) ++uncommitted[static_cast<size_t>(p.kind)];
  if (!pending_.empty()) std::cerr << "reel-bench: " << pending_.size() << " never committed\n";
  std::vector<uint64_t> all;
  uint64_t errors = 0;
  for (Kind k : kAllKinds) {
    PerKind& kind = kinds_[static_cast<size_t>(k)];
    std::sort(kind.latencies_ms.begin(), kind.latencies_ms.end());
    all.insert(all.end(), kind.latencies_ms.begin(), kind.latencies_ms.end());
    const uint64_t kind_errors = kind.refused + kind.failed + uncommitted[static_cast<size_t>(k)];
    errors += kind_errors;
    out << "kind=" << KindName(k) << " submitted=" << kind.submitted
        << " committed=" << kind.latencies_ms.size() << " errors=" << kind_errors
        << " p50_ms=" << Percentile(kind.latencies_ms, 0.50)
        << " p99_ms=" << Percentile(kind.latencies_ms, 0.99) << "\n";
  }
  std::sort(all.begin(), all.end());
  const double seconds = std::chrono::duration<double>(last_commit_ - start).count();
  const uint64_t tps =
      seconds > 0 ? static_cast<uint64_t>(static_cast<double>(all.size()) / seconds) : 0;
  out << "tps=" << tps << " p50_ms=" << Percentile(all, 0.50) << " p99_ms=" << Percentile(all, 0.99)
      << " committed=" << all.size() << " errors=" << errors << "\n";
  return errors;
}

void Tracker::WriteCommitted(std::ostream& out) {
  MutexLock lock(&mu_);
  for (const auto& [id, height] : committed_) out << ToHex(id) << ' ' << height << '\n';
}

}  // namespace reel::bench
