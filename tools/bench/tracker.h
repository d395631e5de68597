// What reel-bench has submitted and not yet seen committed. It follows the committed
// blocks on the first node's StreamBlocks, and for each of its transactions records
// the commit latency (from when it was due to be sent), whether its result was OK,
// and runs its on_commit so that the lane's next step can use what it made.
//
// Errors counted: refused at submission, committed with a rule failure, or never seen
// committed by the end of the run.
// Thread safety: every method may be called from many threads; Watch runs on its own.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "tools/bench/mix.h"
#include "tools/bench/network.h"

namespace reel::bench {

using Clock = std::chrono::steady_clock;

class Tracker {
 public:
  explicit Tracker(const Network* network) : network_(network) {}

  // Before the transaction is sent: a commit may be seen before Submit returns.
  void Submitted(std::string id, Kind kind, Clock::time_point since,
                 std::function<void()> on_commit);
  void Refused(const std::string& id, Kind kind, const std::string& why);
  // Submitted and not yet seen committed (or refused).
  size_t outstanding();

  // Follows the blocks from `from_height` until Stop.
  void Watch(uint64_t from_height);
  void Stop();
  // Waits until nothing submitted is left uncommitted, or `max` has passed.
  void WaitDrained(Clock::duration max);

  // One line per kind, then the last line: tps=T p50_ms=A p99_ms=B committed=C errors=E.
  // `start` is when the measured phase began. Returns the error count.
  uint64_t Report(std::ostream& out, Clock::time_point start);
  // One line per transaction of this run seen committed (whatever its result): the id
  // in hex and the height of its block. For checking the nodes afterwards.
  void WriteCommitted(std::ostream& out);

 private:
  struct Pending {
    Kind kind;
    Clock::time_point since;
    std::function<void()> on_commit;
  };
  struct PerKind {
    uint64_t submitted = 0, refused = 0, failed = 0;
    std::vector<uint64_t> latencies_ms;
  };

  // What a block's commits lead to, done once the lock is released.
  struct Consequences {
    std::vector<std::function<void()>> on_commits;
    std::vector<std::string> failures;
  };
  // Records one committed transaction of a block, if it is ours.
  void Committed(const std::string& id, const v1::TxResult& result, uint64_t height,
                 Clock::time_point now, Consequences* then) REEL_REQUIRES(mu_);
  void Complain(const std::string& what);

  const Network* const network_;
  Mutex mu_;
  std::unordered_map<std::string, Pending> pending_ REEL_GUARDED_BY(mu_);
  std::array<PerKind, kKinds> kinds_ REEL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, uint64_t>> committed_ REEL_GUARDED_BY(mu_);  // id, height
  Clock::time_point last_commit_ REEL_GUARDED_BY(mu_){};
  uint64_t complaints_ REEL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext watch_context_;
};

}  // namespace reel::bench
