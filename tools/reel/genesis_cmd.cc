// reel genesis show|validate: read a chain's genesis.json (reel.v1.Genesis) as a
// summary, or check it the way reeld does before it starts (node/config/genesis.h).
#include <fstream>
#include <iostream>
#include <sstream>

#include "node/config/genesis.h"
#include "tools/reel/cli.h"
#include "tools/reel/proto_print.h"
#include "tools/reel/rpc.h"

namespace reel::cli {
namespace {

Result<v1::Genesis> Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + " (give --file PATH to a genesis.json)");
  std::stringstream text;
  text << in.rdbuf();
  return config::ParseGenesisJson(text.str(), path);
}

Status RunShow(const Globals& globals, const std::string& path) {
  Result<v1::Genesis> genesis = Read(path);
  if (!genesis.ok()) return genesis.status();
  if (globals.json) {
    std::cout << ToJson(*genesis) << "\n";
  } else {
    PrintReadable(*genesis);
  }
  return Status::Ok();
}

Status RunValidate(const Globals& globals, const std::string& path) {
  Result<v1::Genesis> genesis = config::LoadGenesis(path);
  if (!genesis.ok()) return genesis.status();
  PrintRecord(globals, {{"file", path},
                        {"valid", "yes"},
                        {"chain_id", genesis->chain_id()},
                        {"validators", std::to_string(genesis->validators_size())},
                        {"orgs", std::to_string(genesis->orgs_size())},
                        {"sites", std::to_string(genesis->sites_size())},
                        {"quotas", std::to_string(genesis->quotas_size())}});
  return Status::Ok();
}

}  // namespace

void RegisterGenesis(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* genesis = app.add_subcommand("genesis", "Show or check a chain's genesis.json");
  genesis->require_subcommand(1);
  auto file = std::make_shared<std::string>();

  CLI::App* show =
      genesis->add_subcommand("show", "Chain id, validators, organisations, sites, quotas");
  show->add_option("--file", *file, "The genesis.json")->required();
  show->add_flag("--json", globals.json, "Print it as JSON");
  OnRun(show, selected, [&globals, file] { return RunShow(globals, *file); });

  CLI::App* validate =
      genesis->add_subcommand("validate", "Check it as reeld does before it starts");
  validate->add_option("--file", *file, "The genesis.json")->required();
  validate->add_flag("--json", globals.json, "Print the result as JSON");
  OnRun(validate, selected, [&globals, file] { return RunValidate(globals, *file); });
}

}  // namespace reel::cli
