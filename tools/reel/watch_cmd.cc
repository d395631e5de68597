// reel watch: follow the events of committed transactions (reel.v1.Api StreamEvents),
// one line per event, or one JSON object per line with --json. Ctrl-C (or SIGTERM)
// ends it cleanly with exit 0; a node that goes away ends it with a message and a
// non-zero exit.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "tools/reel/cli.h"
#include "tools/reel/proto_flags.h"
#include "tools/reel/proto_print.h"
#include "tools/reel/rpc.h"

namespace reel::cli {
namespace {

namespace pb = google::protobuf;

constexpr long kSignalPollNs = 200'000'000;  // how soon the waiter sees the stream end

struct WatchOptions {
  NodeOptions node;
  uint64_t from_height = 0;
  std::unique_ptr<MessageFlags> filter;
};

// "12.0 2026-05-01T08:00:00Z EXTRACT OK baotou-mining lot_ids=BO-1 site_id=bayan-obo"
void PrintEvent(const Globals& globals, const v1::Event& event) {
  if (globals.json) {
    std::cout << ToJson(event, false) << std::endl;
    return;
  }
  const pb::Descriptor* type = event.GetDescriptor();
  std::string line = std::to_string(event.height()) + "." + std::to_string(event.tx_index()) + " " +
                     FormatField(event, type->FindFieldByName("time_ms")) + " " +
                     FormatField(event, type->FindFieldByName("kind")) + " " +
                     v1::ErrorCode_Name(event.code()) + " " + event.signer_org_id();
  std::vector<const pb::FieldDescriptor*> set;
  event.GetReflection()->ListFields(event, &set);
  for (const pb::FieldDescriptor* field : set) {
    if (field->number() >= v1::Event::kOrgIdsFieldNumber) {
      line += " " + field->name() + "=" + FormatField(event, field);
    }
  }
  std::cout << line << std::endl;  // flushed: a watcher is often piped
}

// Waits for SIGINT or SIGTERM (blocked in every thread) until `done`; on a signal,
// cancels the call so that the stream ends at once.
void WaitForSignal(const std::atomic<bool>& done, std::atomic<bool>& interrupted,
                   grpc::ClientContext& context) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  const timespec poll{0, kSignalPollNs};
  while (!done) {
    if (sigtimedwait(&signals, nullptr, &poll) > 0) {
      interrupted = true;
      context.TryCancel();
      return;
    }
  }
}

Status RunWatch(const Globals& globals, const WatchOptions& o) {
  v1::StreamEventsRequest request;
  request.set_from_height(o.from_height);
  REEL_RETURN_IF_ERROR(o.filter->Apply(request.mutable_filter()));

  // Blocked before gRPC starts its threads, so that only the waiter receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto stub = v1::Api::NewStub(Channel(o.node));
  grpc::ClientContext context;
  std::atomic<bool> done{false}, interrupted{false};
  std::thread waiter(WaitForSignal, std::cref(done), std::ref(interrupted), std::ref(context));
  std::unique_ptr<grpc::ClientReader<v1::StreamEventsResponse>> reader =
      stub->StreamEvents(&context, request);
  v1::StreamEventsResponse response;
  while (reader->Read(&response)) PrintEvent(globals, response.event());
  const grpc::Status end = reader->Finish();
  done = true;
  waiter.join();
  if (interrupted) return Status::Ok();
  if (end.ok()) return Status::IoError("node " + o.node.node + " ended the event stream");
  const Status status = FromGrpc(end, o.node.node);
  return Status::IoError("watch ended: " + status.message());
}

}  // namespace

void RegisterWatch(CLI::App& app, Globals& globals, Runner* selected) {
  auto o = std::make_shared<WatchOptions>();
  CLI::App* watch = app.add_subcommand(
      "watch", "Follow committed transactions as they commit, one line per event (Ctrl-C ends)");
  AddNodeFlag(watch, o->node);
  watch->add_flag("--json", globals.json, "One JSON object per line");
  watch->add_option("--from-height", o->from_height,
                    "First height to send (0 = from the next block to commit)");
  o->filter = std::make_unique<MessageFlags>(watch, v1::EventFilter::descriptor(), FlagSpec{});
  watch->footer(
      "Filters: lists are ANDed with each other and ORed within; e.g.\n"
      "  reel watch --kind extract,transfer-accept --org baotou-mining --include-failed\n");
  OnRun(watch, selected, [&globals, o] { return RunWatch(globals, *o); });
}

}  // namespace reel::cli
