// The `reel` CLI: shared pieces of every command group. Each group (keys, genesis,
// testnet, ca, node request, and the node commands tx, query, watch, status) registers its
// subcommands on the app with a Register* function; main.cc composes them.
//
// Errors: a command returns a Status; main prints "reel: <message>" to stderr
// and exits with a non-zero status that depends on the code (cli.cc, ExitCode).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace reel::cli {

struct Globals {
  bool json = false;  // --json: machine-readable output on stdout
};

// What a subcommand runs once parsed. Set by the Register* functions.
using Runner = std::function<Status()>;

// A subcommand registered with the runner that executes it.
void OnRun(CLI::App* command, Runner* selected, Runner runner);
// The same for a command that also has subcommands (reel tx --body, reel query
// METHOD): its runner is selected only when no subcommand was given.
void OnRunAlone(CLI::App* command, Runner* selected, Runner runner);

// Rows printed as an aligned table, or as a JSON array of objects with --json.
class Table {
 public:
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  void Add(std::vector<std::string> row);
  void Print(const Globals& globals) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// One record printed as "key: value" lines, or as a JSON object with --json.
void PrintRecord(const Globals& globals,
                 const std::vector<std::pair<std::string, std::string>>& fields);

// A passphrase from --passphrase-file or the environment variable named by
// --passphrase-env; nullopt when neither is given. The file's trailing newline is
// dropped.
Result<std::optional<std::string>> ReadPassphrase(const std::string& file, const std::string& env);

int ExitCode(const Status& status);

void RegisterKeys(CLI::App& app, Globals& globals, Runner* selected);
void RegisterTestnet(CLI::App& app, Globals& globals, Runner* selected);
void RegisterGenesis(CLI::App& app, Globals& globals, Runner* selected);
// A real chain's setup by its members: ca new|sign (ca_cmd.cc), node request
// (node_request_cmd.cc); genesis new|add-validator|add-org are in RegisterGenesis.
void RegisterCa(CLI::App& app, Globals& globals, Runner* selected);
void RegisterNodeSetup(CLI::App& app, Globals& globals, Runner* selected);
// tx, query, watch, validators and status; all but status each in their *_cmd.cc.
void RegisterNodeCommands(CLI::App& app, Globals& globals, Runner* selected);
void RegisterTx(CLI::App& app, Globals& globals, Runner* selected);
void RegisterQuery(CLI::App& app, Globals& globals, Runner* selected);
void RegisterWatch(CLI::App& app, Globals& globals, Runner* selected);
void RegisterValidators(CLI::App& app, Globals& globals, Runner* selected);

}  // namespace reel::cli
