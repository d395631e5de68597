// reel status, and the composition of the commands that talk to a node: tx
// (tx_cmd.cc), query (query_cmd.cc), watch (watch_cmd.cc) and validators
// (validators_cmd.cc).
#include <iostream>

#include "tools/reel/cli.h"
#include "tools/reel/rpc.h"

namespace reel::cli {
namespace {

Status RunStatus(const Globals& globals, const NodeOptions& o) {
  Result<v1::GetStatusResponse> status = FetchStatus(o);
  if (!status.ok()) return status.status();
  if (globals.json) {
    std::cout << ToJson(*status) << "\n";
    return Status::Ok();
  }
  PrintRecord(globals, {{"chain_id", status->chain_id()},
                        {"height", std::to_string(status->height())},
                        {"epoch", std::to_string(status->epoch())},
                        {"round", std::to_string(status->round())},
                        {"syncing", status->syncing() ? "yes" : "no"},
                        {"validators", std::to_string(status->validators_size())},
                        {"self_validator_index", std::to_string(status->self_validator_index())},
                        {"mempool_txs", std::to_string(status->mempool_txs())},
                        {"version", status->version()}});
  return Status::Ok();
}

}  // namespace

void RegisterNodeCommands(CLI::App& app, Globals& globals, Runner* selected) {
  RegisterTx(app, globals, selected);
  RegisterQuery(app, globals, selected);
  RegisterWatch(app, globals, selected);
  RegisterValidators(app, globals, selected);

  auto status = std::make_shared<NodeOptions>();
  CLI::App* status_cmd =
      app.add_subcommand("status", "A node's chain id, height, epoch and validators");
  AddNodeFlag(status_cmd, *status);
  status_cmd->add_flag("--json", globals.json, "Print the answer as JSON");
  OnRun(status_cmd, selected, [&globals, status] { return RunStatus(globals, *status); });
}

}  // namespace reel::cli
