// reel: the REEL wallet and operator CLI. The one place that composes the command
// groups; each lives in its own *_cmd.cc.
#include <iostream>

#include "tools/reel/cli.h"

int main(int argc, char** argv) {
  CLI::App app{"reel: wallet and operator CLI of the Rare Earth Element Ledger"};
  app.require_subcommand(1);
  reel::cli::Globals globals;
  app.add_flag("--json", globals.json, "Print machine-readable JSON instead of tables");
  // Also accepted before the command; a command's own --node wins (rpc.cc, AddNodeFlag).
  std::string node_before;
  app.add_option("--node", node_before,
                 "Client API address HOST:PORT for commands that talk to a node (env REEL_NODE)");

  reel::cli::Runner selected;
  reel::cli::RegisterKeys(app, globals, &selected);
  reel::cli::RegisterGenesis(app, globals, &selected);
  reel::cli::RegisterTestnet(app, globals, &selected);
  reel::cli::RegisterCa(app, globals, &selected);
  reel::cli::RegisterNodeSetup(app, globals, &selected);
  reel::cli::RegisterNodeCommands(app, globals, &selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!selected) {
    std::cerr << "reel: nothing to do; see reel --help\n";
    return 2;
  }
  reel::Status status = selected();
  if (!status.ok()) {
    std::cerr << "reel: " << status.message() << "\n";
    return reel::cli::ExitCode(status);
  }
  return 0;
}
