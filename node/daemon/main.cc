// reeld: the REEL node daemon's command line. Parses the command, loads the home
// folder and hands it to Node (node.h), the composition root. Exit codes: 0 after a
// clean shutdown (or a successful init/version), 1 when start-up is refused, and
// CLI11's codes for a bad command line.
#include <absl/synchronization/mutex.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/limits.h"
#include "crypto/keys.h"
#include "node/config/config.h"
#include "node/config/home.h"
#include "node/daemon/log.h"
#include "node/daemon/node.h"

// jemalloc's options, which it reads before main when reeld links it (node/daemon/
// CMakeLists.txt; unused with the C library's malloc): freed pages go back to the system
// within five seconds instead of ten, so that a burst (one peer's flood, flood_test.sh)
// does not leave the daemon's RSS at its high-water mark for long. Sooner costs CPU:
// every purge flushes the TLB of each core running the daemon, and at one second the
// purges took about 5% of a loaded machine. A background thread returns them: purged
// inline, a little at a time by whichever thread freed memory, the many small madvise
// calls ran on the hot threads' time; jemalloc's thread purges in fewer, larger steps
// off those threads (DECISIONS, "reeld links jemalloc").
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "dirty_decay_ms:5000,muzzy_decay_ms:0,background_thread:true";
}

namespace reel::daemon {
namespace {

constexpr std::string_view kVersion = "0.1.0-dev";
constexpr std::string_view kWhatItDoes =
    "this reeld orders blocks with its peers over mutual TLS, executes the custody ledger on "
    "LevelDB, serves the reel.v1 client API over gRPC and /healthz and /metrics over HTTP; "
    "observer nodes (no validator key) follow the chain by block sync";

int Refuse(const Status& status) {
  std::cerr << "reeld: start-up refused: " << status.message() << "\n";
  return 1;
}

int RunInit(const std::string& home, const std::string& moniker) {
  Status status = config::InitHome(home, moniker);
  if (!status.ok()) {
    std::cerr << "reeld init: " << status.message() << "\n";
    return 1;
  }
  config::HomePaths paths(home);
  std::cout << "initialised " << home << "\n"
            << "  wrote   " << paths.config_file << "\n"
            << "  created " << paths.keys_dir << "/ " << paths.tls_dir << "/ "
            << paths.default_data_dir << "/\n"
            << "next: put the chain's genesis at " << paths.genesis_file
            << " and this validator's key file (mode 0600) at " << paths.keys_dir
            << "/validator_key.json (`reel testnet init` makes both), then `reeld start --home "
            << home << "`\n";
  return 0;
}

int RunStart(const std::string& home, const config::ConfigOverrides& overrides) {
  if (home.empty()) return Refuse(Status::InvalidArgument("--home: a home folder is needed"));
  // Hold SIGINT and SIGTERM until the loop can handle them (Node::Run unblocks them), so
  // that a stop request during start-up still ends in a clean shutdown. Threads started
  // from here on inherit the mask, so the signals reach the loop's thread only.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A peer that closes a connection mid-write must cost an error code, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  Status sodium = crypto::EnsureSodiumInitialized();
  if (!sodium.ok()) return Refuse(sodium);
  Result<config::LoadedHome> loaded = config::LoadHome(config::HomePaths(home), overrides);
  if (!loaded.ok()) return Refuse(loaded.status());
  Status logging = ConfigureLogging(loaded->config.log.level, loaded->config.log.format);
  REEL_ASSERT(logging.ok());  // the level was checked with the config

  Log(LogLevel::kInfo, "daemon", "starting",
      {{"version", kVersion}, {"home", home}, {"moniker", loaded->config.moniker}});
  Result<std::unique_ptr<Node>> node = Node::Open(std::move(*loaded));
  if (!node.ok()) {
    Log(LogLevel::kError, "daemon", "start-up refused", {{"error", node.status().message()}});
    return Refuse(node.status());
  }
  Status run = (*node)->Run();
  if (!run.ok()) {
    Log(LogLevel::kError, "daemon", "stopped on error", {{"error", run.message()}});
    return 1;
  }
  return 0;
}

// Before any thread allocates (base/limits.h says why).
void LimitMallocArenas() {
  const size_t arenas =
      std::max<size_t>(limits::daemon_malloc_arenas_min,
                       limits::daemon_malloc_arenas_per_core * std::thread::hardware_concurrency());
  mallopt(M_ARENA_MAX, static_cast<int>(arenas));
}

int Main(int argc, char** argv) {
  LimitMallocArenas();
  CLI::App app{"reeld: the REEL node daemon.\nNOTE: " + std::string(kWhatItDoes) + "."};
  app.require_subcommand(1);

  std::string home;
  if (const char* env = std::getenv("REEL_HOME")) home = env;

  CLI::App* init = app.add_subcommand("init", "Create a home folder with a default node.toml.");
  std::string moniker = "reel-node";
  init->add_option("--home", home, "The home folder to create ($REEL_HOME).")
      ->required(home.empty());
  init->add_option("--moniker", moniker, "This node's name in logs and metrics.");

  CLI::App* start = app.add_subcommand(
      "start", "Load and check the home folder, then run until SIGINT or SIGTERM (" +
                   std::string(kWhatItDoes.substr(0, kWhatItDoes.find(':'))) + ").");
  start->add_option("--home", home, "The home folder ($REEL_HOME).")->required(home.empty());
  config::ConfigOverrides overrides;
  start->add_option("--set", overrides.set_assignments,
                    "Override any node.toml key: --set api.listen=127.0.0.1:9090 (repeatable; "
                    "named flags below win over --set).");
  // One flag per config key, from the same list the parser uses, so that every key
  // can be overridden and a new key needs no new flag code.
  std::map<std::string, std::string> flag_values;
  for (const config::ConfigKey& key : config::ConfigKeys()) {
    std::string name(key.name);
    start->add_option("--" + name, flag_values[name], std::string(key.doc));
  }

  CLI::App* version = app.add_subcommand("version", "Print the version.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }

  if (version->parsed()) {
    std::cout << "reeld " << kVersion << " (" << kWhatItDoes.substr(0, kWhatItDoes.find(':'))
              << ")\n";
    return 0;
  }
  if (init->parsed()) return RunInit(home, moniker);
  for (const config::ConfigKey& key : config::ConfigKeys()) {
    std::string name(key.name);
    if (start->count("--" + name) > 0) overrides.flags.emplace_back(name, flag_values[name]);
  }
  return RunStart(home, overrides);
}

}  // namespace
}  // namespace reel::daemon

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, so every absl::Mutex lock in gRPC ran the
  // deadlock detector, which takes one process-wide lock and walks a graph of every
  // mutex: a global point of contention on the threads that carry consensus messages
  // and gossip. Our own locks are checked by clang's thread-safety analysis instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return reel::daemon::Main(argc, argv);
}
