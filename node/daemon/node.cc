#include "node/daemon/node.h"

#include <pthread.h>
#include <signal.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <optional>

#include "base/bytes.h"
#include "node/daemon/log.h"
#include "node/daemon/status_server.h"
#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"

namespace reel::daemon {
namespace {

constexpr std::string_view kComponent = "daemon";

std::string SignalName(int signal_number) {
  switch (signal_number) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return std::to_string(signal_number);
  }
}

}  // namespace

Status CheckStoreIdentity(const storage::ReadView& store, const std::string& chain_id,
                          const std::string& data_dir) {
  Result<std::optional<std::string>> stored_chain = store.Get(storage::keys::ChainIdKey());
  if (!stored_chain.ok()) return stored_chain.status();
  Result<std::optional<std::string>> stored_schema = store.Get(storage::keys::SchemaVersionKey());
  if (!stored_schema.ok()) return stored_schema.status();
  if (!stored_chain->has_value() && !stored_schema->has_value()) return Status::Ok();  // fresh
  if (!stored_chain->has_value() || !stored_schema->has_value()) {
    return Status::Corruption("the store at " + data_dir +
                              " has a chain id or a schema version but not both; it was not "
                              "written by reeld, or is damaged");
  }
  if (**stored_chain != chain_id) {
    return Status::FailedPrecondition(
        "the store at " + data_dir + " belongs to chain \"" + **stored_chain +
        "\", but genesis says \"" + chain_id +
        "\"; use the genesis of that chain, or another [storage] data_dir");
  }
  const std::string& schema = **stored_schema;
  if (schema.size() != 4) {
    return Status::Corruption("the store at " + data_dir + " has a malformed schema version (" +
                              std::to_string(schema.size()) + " bytes, expected 4)");
  }
  uint32_t version = 0;
  for (char c : schema) version = (version << 8) | static_cast<unsigned char>(c);
  if (version != storage::keys::kSchemaVersion) {
    return Status::FailedPrecondition("the store at " + data_dir + " has schema version " +
                                      std::to_string(version) + "; this reeld reads version " +
                                      std::to_string(storage::keys::kSchemaVersion));
  }
  return Status::Ok();
}

struct Node::Impl {
  LoadedHome home;
  std::unique_ptr<storage::KvStore> store;
  MetricsRegistry registry;
  NodeMetrics metrics{registry};
  std::atomic<NodeState> state{NodeState::kStarting};
  std::unique_ptr<StatusServer> status_server;

  asio::io_context loop{1};  // concurrency hint: one thread runs it
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  asio::signal_set signals{loop, SIGINT, SIGTERM};
  std::atomic<bool> stopping{false};

  // On the loop thread: the shutdown sequence, once.
  void Shutdown(std::string_view reason) {
    if (stopping.exchange(true)) return;
    Log(LogLevel::kInfo, kComponent, "shutting down", {{"reason", reason}});
    state.store(NodeState::kStopping, std::memory_order_release);
    status_server->Stop();
    signals.cancel();
    keep_running.reset();
    loop.stop();
  }
};

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  if (impl_->status_server) impl_->status_server->Stop();
  impl_->store.reset();
}

Result<std::unique_ptr<Node>> Node::Open(LoadedHome home) {
  auto impl = std::make_unique<Impl>();
  impl->home = std::move(home);
  const NodeConfig& config = impl->home.config;
  const std::string& data_dir = impl->home.data_dir;

  Result<std::unique_ptr<storage::KvStore>> store = storage::OpenLevelDb(data_dir);
  if (!store.ok()) {
    return Status(store.status().code(), "[storage] data_dir: " + store.status().message());
  }
  impl->store = std::move(*store);
  REEL_RETURN_IF_ERROR(CheckStoreIdentity(*impl->store, impl->home.genesis.chain_id(), data_dir));
  Result<std::optional<std::string>> height = impl->store->Get(storage::keys::CommitHeightKey());
  if (!height.ok()) return height.status();
  if (height->has_value()) {
    Result<uint64_t> decoded = storage::keys::DecodeHeight(**height);
    if (!decoded.ok()) return decoded.status();
    impl->metrics.height.Set(static_cast<int64_t>(*decoded));
    Log(LogLevel::kInfo, kComponent, "store opened",
        {{"data_dir", data_dir}, {"height", *decoded}});
  } else {
    Log(LogLevel::kInfo, kComponent, "store opened, empty: genesis not applied (ledger not wired)",
        {{"data_dir", data_dir}});
  }

  impl->metrics.start_time.Set(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
  Result<HostPort> metrics_address = ParseHostPort(config.metrics.listen);
  REEL_ASSERT(metrics_address.ok());  // checked when the config was loaded
  impl->status_server =
      std::make_unique<StatusServer>(config.moniker, impl->registry, impl->metrics, impl->state);
  Status started = impl->status_server->Start(*metrics_address);
  if (!started.ok()) {
    return Status(started.code(), "[metrics] listen: " + started.message());
  }
  Log(LogLevel::kInfo, "metrics", "serving /metrics and /healthz",
      {{"address", metrics_address->host + ":" + std::to_string(impl->status_server->port())}});
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Status Node::Run() {
  Impl& impl = *impl_;
  impl.keep_running.emplace(impl.loop.get_executor());
  impl.signals.async_wait([&impl](const asio::error_code& error, int signal_number) {
    if (error) return;  // cancelled during shutdown
    impl.Shutdown(SignalName(signal_number));
  });
  // reeld's main blocks these during start-up (main.cc); from here the loop handles them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  asio::post(impl.loop, [&impl] {
    if (impl.stopping.load()) return;  // a signal held during start-up came first
    impl.state.store(NodeState::kServing, std::memory_order_release);
    const NodeConfig& config = impl.home.config;
    Log(LogLevel::kInfo, kComponent, "started",
        {{"moniker", config.moniker},
         {"chain_id", impl.home.genesis.chain_id()},
         {"validator_index", impl.home.validator_index.has_value()
                                 ? std::to_string(*impl.home.validator_index)
                                 : std::string("none (observer)")}});
    Log(LogLevel::kWarn, kComponent,
        "consensus not wired yet: this reeld serves /healthz and /metrics only; it does not "
        "run consensus, the ledger, the mempool, the client API or peer networking",
        {{"api_listen", config.api.listen}, {"p2p_listen", config.p2p.listen}});
  });
  impl.loop.run();
  impl.status_server->Stop();
  impl.store.reset();  // closes LevelDB and releases its lock
  Log(LogLevel::kInfo, kComponent, "stopped cleanly");
  return Status::Ok();
}

void Node::Post(std::function<void()> fn) {
  if (impl_->stopping.load()) return;
  asio::post(impl_->loop, std::move(fn));
}

void Node::RequestStop() {
  Impl* impl = impl_.get();
  asio::post(impl->loop, [impl] { impl->Shutdown("requested"); });
}

NodeMetrics& Node::metrics() {
  return impl_->metrics;
}

uint16_t Node::status_port() const {
  return impl_->status_server->port();
}

}  // namespace reel::daemon
