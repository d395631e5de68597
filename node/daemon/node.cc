#include "node/daemon/node.h"

#include <pthread.h>
#include <signal.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>

#include "base/bytes.h"
#include "base/limits.h"
#include "node/api/api_server.h"
#include "node/daemon/api_glue.h"
#include "node/daemon/log.h"
#include "node/daemon/peer_glue.h"
#include "node/daemon/status_server.h"
#include "node/ledger/validators.h"
#include "node/mempool/admission.h"
#include "node/net/peer_server.h"
#include "node/net/peers.h"
#include "node/net/tls.h"
#include "node/replica/block_sync.h"
#include "node/replica/chain_store.h"
#include "node/replica/commit_proof.h"
#include "node/replica/ledger_app.h"
#include "node/replica/replica.h"
#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"

namespace reel::daemon {
namespace {

constexpr std::string_view kComponent = "daemon";

// The `kind` label of reel_peer_dropped_total: what the node drops itself (DropKind,
// peer_budget.h), then what the peer server refuses (PeerRefusals, node/net).
constexpr size_t kDropKindPushStream = kDropKinds;
constexpr size_t kDropKindGossipStream = kDropKinds + 1;
constexpr size_t kDropKindCall = kDropKinds + 2;
std::vector<std::string_view> DropKindLabels() {
  std::vector<std::string_view> kinds;
  for (size_t kind = 0; kind < kDropKinds; ++kind) {
    kinds.push_back(DropKindName(static_cast<DropKind>(kind)));
  }
  kinds.push_back("push_stream");
  kinds.push_back("gossip_stream");
  kinds.push_back("call");
  return kinds;
}

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
  config::LoadedHome home;
  std::unique_ptr<storage::KvStore> store;
  MetricsRegistry registry;
  NodeMetrics metrics{registry};
  std::atomic<NodeState> state{NodeState::kStarting};
  std::unique_ptr<StatusServer> status_server;

  asio::io_context loop{1};  // concurrency hint: one thread runs it
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  asio::signal_set signals{loop, SIGINT, SIGTERM};
  asio::steady_timer metrics_timer{loop};
  std::atomic<bool> stopping{false};

  // The parts, in the order they are built; destroyed in reverse, so nothing
  // outlives what it points at.
  std::unique_ptr<mempool::Mempool> pool;
  std::unique_ptr<mempool::Admission> admission;
  std::unique_ptr<replica::LedgerApplication> app;
  // The current epoch's validators, as the peer server authenticates callers (a
  // validator's node only) and this node's clients reach them; both follow each epoch.
  std::shared_ptr<net::Membership> membership;
  std::unique_ptr<net::Peers> peers;
  std::unique_ptr<NetTransport> transport;
  std::unique_ptr<Gossip> gossip;
  std::unique_ptr<replica::Replica> replica;
  std::unique_ptr<NodePeerHandler> peer_handler;
  std::unique_ptr<net::PeerServer> peer_server;
  std::unique_ptr<DaemonNodeView> view;
  std::unique_ptr<api::ApiServer> api_server;
  std::unique_ptr<PeerSyncSource> sync_source;
  std::unique_ptr<replica::BlockSync> sync;  // last: stopped before what it uses

  std::unique_ptr<PeerMetrics> peer_metrics;
  std::atomic<uint64_t> followed_epoch{0};  // the epoch whose set the peers follow

  std::chrono::steady_clock::time_point last_refresh = std::chrono::steady_clock::now();
  uint64_t verified_at_last_refresh = 0;

  // On the loop thread, every half second: what /metrics and /healthz show.
  void RefreshMetrics() {
    if (replica != nullptr) {
      metrics.height.Set(static_cast<int64_t>(replica->committed_height()));
      metrics.round.Set(static_cast<int64_t>(replica->round()));
      const uint64_t changes = replica->view_changes();
      if (changes > metrics.view_changes.value()) {
        metrics.view_changes.Increment(changes - metrics.view_changes.value());
      }
    } else if (Result<uint64_t> h = replica::CommittedHeight(*store->GetSnapshot()); h.ok()) {
      metrics.height.Set(static_cast<int64_t>(*h));  // an observer: its sync thread commits
    }
    if (Result<v1::ValidatorSet> set = ledger::CurrentValidatorSet(*store->GetSnapshot());
        set.ok()) {
      metrics.epoch.Set(static_cast<int64_t>(set->epoch()));
    }
    if (peers != nullptr && !peers->observer()) {
      int64_t connected = 0;
      for (uint32_t i = 0; i < peers->size(); ++i) {
        if (i != peers->self_index() && peers->stats(i).connected) ++connected;
      }
      metrics.peers.Set(connected);
    }
    if (sync != nullptr) metrics.synced_blocks.Set(static_cast<int64_t>(sync->blocks_synced()));
    if (gossip != nullptr) metrics.gossip_dropped.Set(static_cast<int64_t>(gossip->dropped()));
    if (app != nullptr) metrics.prepared_commits.Set(static_cast<int64_t>(app->commits_prepared()));
    if (transport != nullptr && peer_server != nullptr) {
      metrics.epoch_unreachable.Set(static_cast<int64_t>(
          transport->unreachable() + peer_server->stats().refused_unauthenticated));
    }
    if (view != nullptr) {
      view->SetProgress(replica != nullptr ? replica->round() : 0,
                        sync != nullptr && sync->behind());
    }
    if (admission != nullptr) {
      // Signatures checked per second, over the time since the last refresh.
      const auto now = std::chrono::steady_clock::now();
      const uint64_t verified = admission->verified();
      const auto elapsed_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - last_refresh).count();
      if (elapsed_ms > 0) {
        metrics.verify_per_second.Set(
            static_cast<int64_t>((verified - verified_at_last_refresh) * 1000 / elapsed_ms));
      }
      verified_at_last_refresh = verified;
      last_refresh = now;
    }
    if (pool != nullptr) metrics.mempool_size.Set(static_cast<int64_t>(pool->size()));
    RefreshPeerMetrics();
    metrics_timer.expires_after(std::chrono::milliseconds(500));
    metrics_timer.async_wait([this](const asio::error_code& error) {
      if (!error && !stopping.load()) RefreshMetrics();
    });
  }

  // What each peer had dropped or refused, from the components that count it.
  void RefreshPeerMetrics() {
    if (peer_metrics == nullptr) return;
    const std::map<uint32_t, uint64_t> refused_ranges =
        sync != nullptr ? sync->refused_by_peer() : std::map<uint32_t, uint64_t>{};
    // Validator indexes of the epochs so far, then all observers together.
    for (uint32_t peer = 0; peer < net::kPeerSlots; ++peer) {
      if (peer_metrics->dropped(peer, 0) == nullptr) continue;  // not registered (or us)
      if (auto it = refused_ranges.find(peer); it != refused_ranges.end()) {
        if (Counter* ranges = peer_metrics->ranges_refused(peer)) AdvanceTo(*ranges, it->second);
      }
      if (peer_handler != nullptr) {
        if (Counter* throttled = peer_metrics->throttled(peer)) {
          AdvanceTo(*throttled, peer_handler->throttled(peer));
        }
        for (size_t kind = 0; kind < kDropKinds; ++kind) {
          AdvanceTo(*peer_metrics->dropped(peer, kind),
                    peer_handler->drops().count(peer, static_cast<DropKind>(kind)));
        }
      }
      if (peer_server != nullptr) {
        const net::PeerRefusals refused = peer_server->refusals(peer);
        AdvanceTo(*peer_metrics->dropped(peer, kDropKindPushStream), refused.push_streams);
        AdvanceTo(*peer_metrics->dropped(peer, kDropKindGossipStream), refused.gossip_streams);
        AdvanceTo(*peer_metrics->dropped(peer, kDropKindCall), refused.calls);
      }
    }
  }

  // On the loop thread, at start and at each epoch: the peer transport and the per-peer
  // metrics follow the epoch's validators (FollowValidatorSet).
  void FollowSet(const v1::ValidatorSet& set) {
    // The replica enters its epoch again after each synced range while it has no core;
    // the set of an epoch never changes within it.
    if (set.epoch() == followed_epoch.load()) return;
    Status followed =
        FollowValidatorSet(set, home.genesis.tls_ca_pem(), membership.get(), peers.get());
    if (!followed.ok()) {
      // The ledger admitted this set; nothing the transport can do with it but keep the
      // previous one (and say so loudly: this node may not reach the new validators).
      Log(LogLevel::kError, "p2p", "cannot follow the epoch's validators",
          {{"epoch", set.epoch()}, {"error", followed.ToString()}});
      return;
    }
    followed_epoch.store(set.epoch());
    const bool member = !peers->observer();
    if (peer_metrics != nullptr) {
      peer_metrics->Grow(peers->size(),
                         member ? std::optional<uint32_t>(peers->self_index()) : std::nullopt);
    }
    Log(LogLevel::kInfo, "p2p", "peers follow the epoch's validators",
        {{"epoch", set.epoch()},
         {"validators", peers->size()},
         {"validator_index", member ? std::to_string(peers->self_index())
                                    : std::string("none (not a validator of this epoch)")}});
  }

  // On the loop thread: the shutdown sequence, once.
  void Shutdown(std::string_view reason) {
    if (stopping.exchange(true)) return;
    Log(LogLevel::kInfo, kComponent, "shutting down", {{"reason", reason}});
    state.store(NodeState::kStopping, std::memory_order_release);
    if (replica != nullptr) replica->Stop();
    metrics_timer.cancel();
    // Clients and peers first: no handler may post to the loop once it is gone.
    if (api_server != nullptr) api_server->Shutdown();
    if (peer_server != nullptr) peer_server->Shutdown();
    status_server->Stop();
    signals.cancel();
    keep_running.reset();
    loop.stop();
  }
};

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  if (impl_->api_server) impl_->api_server->Shutdown();
  if (impl_->peer_server) impl_->peer_server->Shutdown();
  if (impl_->status_server) impl_->status_server->Stop();
}

namespace {

// This node's TLS certificate and key, as [p2p] names them.
Result<net::CertAndKey> ReadOwnTls(const config::LoadedHome& home) {
  net::CertAndKey own;
  Result<std::string> cert =
      net::ReadCertPemFile(config::ResolvePath(home.home_dir, home.config.p2p.tls_cert_file));
  if (!cert.ok())
    return Status(cert.status().code(), "[p2p] tls_cert_file: " + cert.status().message());
  Result<std::string> key =
      net::ReadKeyPemFile(config::ResolvePath(home.home_dir, home.config.p2p.tls_key_file));
  if (!key.ok())
    return Status(key.status().code(), "[p2p] tls_key_file: " + key.status().message());
  own.cert_pem = std::move(cert).value();
  own.key_pem = std::move(key).value();
  return own;
}

void LogSyncError(uint32_t peer, const Status& status) {
  Log(LogLevel::kDebug, "sync", "block sync attempt failed",
      {{"peer", peer}, {"error", status.ToString()}});
}

}  // namespace

Result<std::unique_ptr<Node>> Node::Open(config::LoadedHome home) {
  auto impl = std::make_unique<Impl>();
  impl->home = std::move(home);
  const config::NodeConfig& config = impl->home.config;
  const std::string& data_dir = impl->home.data_dir;

  Result<std::unique_ptr<storage::KvStore>> store = storage::OpenLevelDb(data_dir);
  if (!store.ok()) {
    return Status(store.status().code(), "[storage] data_dir: " + store.status().message());
  }
  impl->store = std::move(*store);
  REEL_RETURN_IF_ERROR(CheckStoreIdentity(*impl->store, impl->home.genesis.chain_id(), data_dir));
  const v1::Genesis& genesis = impl->home.genesis;
  REEL_RETURN_IF_ERROR(replica::Initialize(*impl->store, genesis, /*epoch=*/0));

  mempool::MempoolLimits pool_limits;
  pool_limits.txs_max = config.mempool.size_max;
  impl->pool = std::make_unique<mempool::Mempool>(pool_limits);
  Histogram* commit_latency = &impl->metrics.commit_latency;
  impl->pool->set_commit_wait_observer(
      [commit_latency](uint64_t ms) { commit_latency->Observe(ms); });
  impl->admission = std::make_unique<mempool::Admission>(genesis.chain_id(), impl->pool.get());
  impl->app = std::make_unique<replica::LedgerApplication>(genesis.chain_id(), impl->store.get(),
                                                           impl->pool.get());
  REEL_RETURN_IF_ERROR(impl->app->Open());
  impl->metrics.height.Set(static_cast<int64_t>(impl->app->committed_height()));
  Log(LogLevel::kInfo, kComponent, "store opened",
      {{"data_dir", data_dir}, {"height", impl->app->committed_height()}});

  // Every node talks to the validators over mutual TLS: a validator to take part in
  // consensus, an observer to sync the chain from them.
  Result<net::CertAndKey> own_tls = ReadOwnTls(impl->home);
  if (!own_tls.ok()) return own_tls.status();
  const net::CertAndKey& own = *own_tls;
  // Genesis' validators must make a peer set (a clear error at start, not a silent gap);
  // the peers follow the epoch the committed state is in, which after a restart may be
  // a later one.
  if (Result<net::PeerSet> genesis_peers = net::PeerSet::FromGenesis(genesis);
      !genesis_peers.ok()) {
    return genesis_peers.status();
  }
  Result<v1::ValidatorSet> current_set = ledger::CurrentValidatorSet(*impl->store->GetSnapshot());
  if (!current_set.ok()) return current_set.status();
  Result<net::PeerSet> peer_set =
      net::PeerSet::FromValidatorSet(*current_set, genesis.tls_ca_pem());
  if (!peer_set.ok()) return peer_set.status();
  auto initial_peers = std::make_shared<const net::PeerSet>(std::move(peer_set).value());
  impl->membership = std::make_shared<net::Membership>(initial_peers);
  impl->peer_metrics = std::make_unique<PeerMetrics>(impl->registry, DropKindLabels());
  replica::BlockSync::Options sync_options;
  Node::Impl* raw = impl.get();
  replica::BlockSync::Apply apply;

  api::NodeInfo info;
  info.chain_id = genesis.chain_id();
  if (impl->home.validator_key.has_value()) {
    const crypto::PublicKey& self_key = impl->home.validator_key->public_key();
    info.self_public_key.assign(reinterpret_cast<const char*>(self_key.data()), self_key.size());
    // A key the current set does not name is a validator to be (or one removed): its
    // node follows the chain by block sync and votes from the epoch that names it.
    Result<std::unique_ptr<net::Peers>> peers = net::Peers::CreateValidator(initial_peers, own);
    if (!peers.ok()) return peers.status();
    impl->peers = std::move(peers).value();
    impl->transport = std::make_unique<NetTransport>(
        impl->peers.get(), [raw](const v1::ValidatorSet& set) { raw->FollowSet(set); });
    impl->gossip = std::make_unique<Gossip>(impl->peers.get());

    // The defaults of every epoch: its set, self index and the timers its ConsensusParams
    // name come from the committed state (Replica::EnterEpoch, ApplyConsensusParams), so
    // a zero in an epoch's params means these defaults, as types.proto says.
    replica::ReplicaConfig replica_config;
    replica_config.consensus.chain_id = genesis.chain_id();
    replica_config.consensus.block_interval_ms_min = limits::block_interval_ms_min_default;
    replica_config.consensus.idle_block_interval_ms = limits::idle_block_interval_ms_default;
    impl->replica = std::make_unique<replica::Replica>(
        replica_config, std::move(*impl->home.validator_key), &impl->loop, impl->store.get(),
        impl->app.get(), impl->transport.get());
    impl->home.validator_key.reset();
    impl->transport->set_replica(impl->replica.get());
    impl->peer_handler = std::make_unique<NodePeerHandler>(
        impl->replica.get(), impl->admission.get(), impl->store.get(), genesis.chain_id());
    Result<std::unique_ptr<net::PeerServer>> server =
        net::PeerServer::Start(impl->membership, own, config.p2p.listen, impl->peer_handler.get());
    if (!server.ok()) {
      return Status(server.status().code(), "[p2p] listen: " + server.status().message());
    }
    impl->peer_server = std::move(server).value();
    Log(LogLevel::kInfo, "p2p", "peer service listening", {{"address", config.p2p.listen}});
    // Far behind (back from a long outage), ranges of committed blocks are quicker
    // than consensus' ancestor fetches.
    sync_options.lag_blocks_min = limits::sync_validator_lag_blocks_min;
    apply = [raw](replica::SyncedRange range) {
      return ApplyOnReplica(raw->replica.get(), std::move(range), raw->stopping);
    };
  } else {
    Result<std::unique_ptr<net::Peers>> peers = net::Peers::CreateObserver(initial_peers, own);
    if (!peers.ok()) return peers.status();
    impl->peers = std::move(peers).value();
    // No replica: the sync thread is the only one that executes blocks, and tells the
    // loop when they took the chain into another epoch.
    sync_options.lag_blocks_min = 0;
    apply = [raw](replica::SyncedRange range) {
      Status applied = replica::ApplyRange(*raw->app, *raw->store, range);
      Result<v1::ValidatorSet> set = ledger::CurrentValidatorSet(*raw->store->GetSnapshot());
      if (set.ok() && set->epoch() != raw->followed_epoch.load()) {
        asio::post(raw->loop, [raw, set = *std::move(set)] {
          if (!raw->stopping.load()) raw->FollowSet(set);
        });
      }
      return applied;
    };
  }
  impl->followed_epoch.store(current_set->epoch());
  impl->peer_metrics->Grow(
      impl->peers->size(),
      impl->peers->observer() ? std::nullopt : std::optional<uint32_t>(impl->peers->self_index()));
  impl->sync_source = std::make_unique<PeerSyncSource>(impl->peers.get());
  impl->sync = std::make_unique<replica::BlockSync>(genesis.chain_id(), impl->sync_source.get(),
                                                    impl->store.get(), std::move(apply),
                                                    sync_options, LogSyncError);

  info.version = "0.1.0-dev";
  impl->view = std::make_unique<DaemonNodeView>(info, impl->store.get(), impl->pool.get(),
                                                impl->admission.get(), impl->gossip.get(),
                                                impl->app->committed_height());
  DaemonNodeView* view = impl->view.get();
  impl->app->set_commit_listener(
      [view](uint64_t height, const std::vector<crypto::Hash32>&) { view->OnCommitted(height); });
  api::ApiServerOptions api_options;
  api_options.listen = config.api.listen;
  api_options.max_receive_message_bytes = config.api.max_message_bytes;
  Result<std::unique_ptr<api::ApiServer>> api_server = api::ApiServer::Start(view, api_options);
  if (!api_server.ok()) {
    return Status(api_server.status().code(), "[api] listen: " + api_server.status().message());
  }
  impl->api_server = std::move(api_server).value();
  Log(LogLevel::kInfo, "api", "client API listening",
      {{"address", config.api.listen}, {"port", impl->api_server->port()}});

  impl->metrics.start_time.Set(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
  Result<config::HostPort> metrics_address = config::ParseHostPort(config.metrics.listen);
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
    const config::NodeConfig& config = impl.home.config;
    Log(LogLevel::kInfo, kComponent, "started",
        {{"moniker", config.moniker},
         {"chain_id", impl.home.genesis.chain_id()},
         {"validator_key", impl.replica != nullptr ? "yes" : "none (observer)"}});
    if (impl.replica != nullptr) {
      Status started = impl.replica->Start();
      if (!started.ok()) {
        Log(LogLevel::kError, kComponent, "consensus could not start",
            {{"error", started.ToString()}});
        impl.Shutdown("consensus could not start");
        return;
      }
    } else {
      Log(LogLevel::kInfo, kComponent,
          "observer: no validator key; following the chain by block sync from the validators");
    }
    impl.sync->Start();
    impl.RefreshMetrics();
  });
  impl.loop.run();
  impl.sync->Stop();  // before the store closes; its waits end on `stopping`
  impl.status_server->Stop();
  // A prepare stopped between turns holds a snapshot of the store: released first.
  if (impl.app != nullptr) impl.app->DropPrepare();
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
