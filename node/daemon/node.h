// Node: the composition root of reeld. The one place that builds the node's parts,
// wires them together and owns them; everything else receives what it needs.
//
// It owns: the LevelDB store (checked against genesis), the metrics registry, the
// HTTP status server (/metrics, /healthz), the mempool and admission, the ledger
// application, the peer transport (clients, server, gossip), the replica (consensus
// core and execution), block sync, the client API, one event loop (asio::io_context)
// and the signal handling that stops it. Open builds them in that dependency order.
// The consensus core and execution run on the loop, in order, on one thread, so that
// nothing in them needs a lock; the other parts post to the loop.
//
// Threads
//   - Run() runs the loop on the calling thread until SIGINT/SIGTERM or RequestStop.
//     It unblocks SIGINT and SIGTERM on that thread: reeld blocks them during start-up
//     so that a stop requested then is held, and handled by the loop.
//   - Post(fn) may be called from any thread; fn runs on the loop thread, in order
//     of posting. Work posted after shutdown began is dropped.
//   - The status server has its own threads and reads only atomics.
//
// Shutdown (a signal or RequestStop): health turns 503, the status server stops and
// joins, the loop stops, the store is closed; Run returns OK and reeld exits 0.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "node/config/home.h"
#include "node/daemon/metrics.h"
#include "node/storage/kv.h"

namespace reel::daemon {

// Refuses a store that belongs to another chain or another schema version, with a
// message naming the data folder. A fresh store (no chain id yet) passes: the
// genesis batch that writes the chain id belongs to the ledger (KEYS.md).
Status CheckStoreIdentity(const storage::ReadView& store, const std::string& chain_id,
                          const std::string& data_dir);

class Node {
 public:
  // Opens the store (FailedPrecondition if another reeld holds it), checks it against
  // genesis, and binds the status server. Nothing runs until Run.
  static Result<std::unique_ptr<Node>> Open(config::LoadedHome home);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Serves until SIGINT, SIGTERM or RequestStop, then shuts down as above.
  Status Run();
  // Thread-safe: runs `fn` on the loop thread.
  void Post(std::function<void()> fn);
  // Thread-safe: begins the shutdown that a SIGTERM would.
  void RequestStop();

  NodeMetrics& metrics();
  uint16_t status_port() const;

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace reel::daemon
