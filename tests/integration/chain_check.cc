// chain_check: after a run of the network tests, checks through the public API that
// every node holds one chain and every acknowledged transaction on it exactly once.
//
//   chain_check --nodes A,B,C,D [--committed FILE] [--min-height H] [--wait-s S]
//               [--max-gap-ms MS [--gap-from-height H]]
//
// --committed is reel-bench's --committed-out file (hex id and height of each
// transaction it saw committed). The check waits up to --wait-s for every node to reach
// the highest of those heights (and --min-height), then reads each node's blocks 1..H
// (H: the lowest height the nodes then report) over StreamBlocks and requires:
//   - the same block header at every height on every node (so the same block ids,
//     parents, transaction roots and state roots);
//   - no transaction recorded twice on one node (a later copy that the block marks
//     DUPLICATE_TX is allowed: it has no record and changes nothing);
//   - every transaction of the file on every node, at the height the file gives;
//   - nodes that report the same height report the same block id and state root;
//   - with --max-gap-ms, no two consecutive blocks from --gap-from-height (default 2)
//     on are further apart in block time than MS: commits never stopped for longer.
// Prints one summary line and exits 0; otherwise prints what differs and exits 1.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/signing.h"
#include "reel/v1/api.grpc.pb.h"

namespace reel {
namespace {

namespace v1 = ::reel::v1;
using Clock = std::chrono::steady_clock;

constexpr auto kRpcDeadline = std::chrono::seconds(10);
constexpr auto kStreamDeadline = std::chrono::seconds(120);
constexpr int kDifferencesShownMax = 5;

struct Node {
  std::string address;
  std::unique_ptr<v1::Api::Stub> stub;
  std::vector<std::string> headers;                      // index h - 1: serialized header at h
  std::unordered_map<std::string, uint64_t> tx_heights;  // id -> height
  uint64_t duplicate_copies = 0;
};

Result<v1::GetStatusResponse> StatusOf(Node& node) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  v1::GetStatusResponse status;
  grpc::Status s = node.stub->GetStatus(&context, {}, &status);
  if (!s.ok()) return Status::IoError(node.address + ": GetStatus: " + s.error_message());
  return status;
}

// Reads blocks 1..height; false with `why` when the node cannot serve them, or serves
// one transaction twice.
bool ReadChain(Node& node, const std::string& chain_id, uint64_t height, std::string* why) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kStreamDeadline);
  v1::StreamBlocksRequest request;
  request.set_from_height(1);
  request.set_include_results(true);
  auto reader = node.stub->StreamBlocks(&context, request);
  v1::StreamBlocksResponse response;
  while (node.headers.size() < height && reader->Read(&response)) {
    const v1::Block& block = response.block();
    if (block.header().height() != node.headers.size() + 1) {
      *why = "sent height " + std::to_string(block.header().height()) + " after " +
             std::to_string(node.headers.size());
      return false;
    }
    node.headers.push_back(block.header().SerializeAsString());
    for (int i = 0; i < block.txs_size(); ++i) {
      const std::string id(crypto::AsBytes(crypto::TransactionId(chain_id, block.txs(i).body())));
      // A copy proposed again after the first committed is in the block with
      // DUPLICATE_TX and no record of its own (docs/LEDGER.md, Execution).
      if (i < response.results_size() && response.results(i).code() == v1::DUPLICATE_TX) {
        ++node.duplicate_copies;
        continue;
      }
      auto [it, inserted] = node.tx_heights.emplace(id, block.header().height());
      if (!inserted) {
        *why = "transaction " + ToHex(id) + " has a record at height " +
               std::to_string(it->second) + " and again at " +
               std::to_string(block.header().height());
        return false;
      }
    }
  }
  context.TryCancel();
  if (node.headers.size() < height) {
    *why = "its block stream ended at height " + std::to_string(node.headers.size()) + ": " +
           reader->Finish().error_message();
    return false;
  }
  return true;
}

// id -> height, from reel-bench's --committed-out.
bool ReadCommitted(const std::string& path, std::unordered_map<std::string, uint64_t>* committed) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "chain_check: cannot read " << path << "\n";
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string hex;
    uint64_t height = 0;
    std::optional<std::string> id;
    if (!(fields >> hex >> height) || !(id = FromHex(hex)) || id->size() != 32) {
      std::cerr << "chain_check: " << path << ": malformed line \"" << line << "\"\n";
      return false;
    }
    committed->emplace(*id, height);
  }
  return true;
}

int Run(const std::vector<std::string>& addresses, const std::string& committed_path,
        uint64_t min_height, double wait_s, uint64_t max_gap_ms, uint64_t gap_from_height) {
  std::unordered_map<std::string, uint64_t> committed;
  if (!committed_path.empty() && !ReadCommitted(committed_path, &committed)) return 1;
  uint64_t target = min_height;
  for (const auto& [id, height] : committed) target = std::max(target, height);

  std::vector<Node> nodes;
  for (const std::string& address : addresses) {
    nodes.push_back(
        Node{address,
             v1::Api::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
             {},
             {},
             0});
  }
  // Every node must reach the target; the check then reads up to the lowest of them.
  const auto give_up =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000));
  std::string chain_id;
  uint64_t height = 0;
  for (;;) {
    height = UINT64_MAX;
    std::string behind;
    for (Node& node : nodes) {
      Result<v1::GetStatusResponse> status = StatusOf(node);
      const uint64_t h = status.ok() ? status->height() : 0;
      if (status.ok()) chain_id = status->chain_id();
      height = std::min(height, h);
      if (h < target) {
        behind += " " + node.address + " at " +
                  (status.ok() ? std::to_string(h) : "? (" + status.status().message() + ")");
      }
    }
    if (behind.empty()) break;
    if (Clock::now() >= give_up) {
      std::cerr << "chain_check: FAIL: not every node reached height " << target << " within "
                << wait_s << " s:" << behind << "\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  for (Node& node : nodes) {
    std::string why;
    if (!ReadChain(node, chain_id, height, &why)) {
      std::cerr << "chain_check: FAIL: " << node.address << ": " << why << "\n";
      return 1;
    }
  }

  int differences = 0;
  auto differ = [&](const std::string& what) {
    if (differences++ < kDifferencesShownMax) std::cerr << "chain_check: FAIL: " << what << "\n";
  };
  for (uint64_t h = 1; h <= height; ++h) {
    for (size_t i = 1; i < nodes.size(); ++i) {
      if (nodes[i].headers[h - 1] != nodes[0].headers[h - 1]) {
        differ(nodes[i].address + " and " + nodes[0].address + " differ at height " +
               std::to_string(h));
      }
    }
  }
  for (const auto& [id, height_seen] : committed) {
    for (const Node& node : nodes) {
      auto it = node.tx_heights.find(id);
      if (it == node.tx_heights.end()) {
        differ(node.address + " lacks transaction " + ToHex(id) + " (committed at " +
               std::to_string(height_seen) + ")");
      } else if (it->second != height_seen) {
        differ(node.address + " has transaction " + ToHex(id) + " at height " +
               std::to_string(it->second) + ", not " + std::to_string(height_seen));
      }
    }
  }
  // Nodes now at one height agree on its block and state root.
  std::unordered_map<uint64_t, std::pair<std::string, v1::GetStatusResponse>> at_height;
  for (Node& node : nodes) {
    Result<v1::GetStatusResponse> status = StatusOf(node);
    if (!status.ok()) continue;  // it answered before; the chain check above stands
    auto [it, inserted] = at_height.emplace(status->height(), std::pair{node.address, *status});
    if (!inserted && (it->second.second.block_id() != status->block_id() ||
                      it->second.second.state_root() != status->state_root())) {
      differ(node.address + " and " + it->second.first +
             " report different blocks or state roots " + "at height " +
             std::to_string(status->height()));
    }
  }
  // The longest pause in commits: block times are the proposers' clocks, which on one
  // machine are one clock.
  uint64_t gap_ms = 0;
  uint64_t gap_at = 0;
  for (uint64_t h = std::max<uint64_t>(gap_from_height, 2); h <= height; ++h) {
    v1::BlockHeader before;
    v1::BlockHeader after;
    if (!before.ParseFromString(nodes[0].headers[h - 2]) ||
        !after.ParseFromString(nodes[0].headers[h - 1])) {
      differ("a header does not parse at height " + std::to_string(h));
      break;
    }
    const uint64_t gap = after.timestamp_ms() > before.timestamp_ms()
                             ? after.timestamp_ms() - before.timestamp_ms()
                             : 0;
    if (gap > gap_ms) {
      gap_ms = gap;
      gap_at = h;
    }
  }
  if (max_gap_ms > 0 && gap_ms > max_gap_ms) {
    differ("commits stopped for " + std::to_string(gap_ms) + " ms before height " +
           std::to_string(gap_at) + " (at most " + std::to_string(max_gap_ms) + " allowed)");
  }
  if (differences > 0) {
    std::cerr << "chain_check: " << differences << " difference(s) in all\n";
    return 1;
  }
  std::cout << "chain_check: " << nodes.size() << " nodes agree on blocks 1.." << height
            << " (headers, so ids and state roots); " << committed.size()
            << " acknowledged transactions each once on every node, at their heights; "
            << nodes[0].tx_heights.size() << " transactions in all (and "
            << nodes[0].duplicate_copies << " later copies refused as DUPLICATE_TX); longest "
            << "pause between blocks " << gap_ms << " ms (before height " << gap_at << ")\n";
  return 0;
}

}  // namespace
}  // namespace reel

int main(int argc, char** argv) {
  std::vector<std::string> nodes;
  std::string committed;
  uint64_t min_height = 1;
  double wait_s = 60;
  uint64_t max_gap_ms = 0;
  uint64_t gap_from_height = 2;
  CLI::App app{"chain_check: every node holds one chain, and every acknowledged transaction once"};
  app.add_option("--nodes", nodes, "Client API addresses")->delimiter(',')->required();
  app.add_option("--committed", committed, "reel-bench --committed-out file");
  app.add_option("--min-height", min_height, "Height every node must reach")->capture_default_str();
  app.add_option("--wait-s", wait_s, "How long to wait for the nodes to reach it")
      ->capture_default_str();
  app.add_option("--max-gap-ms", max_gap_ms,
                 "Fail if consecutive blocks are further apart in block time (0: no check)");
  app.add_option("--gap-from-height", gap_from_height, "Where the --max-gap-ms check starts")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return reel::Run(nodes, committed, min_height, wait_s, max_gap_ms, gap_from_height);
}
