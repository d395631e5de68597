// Fuzzes the transaction envelope as a peer or a client sends it: parse, ledger::Verify,
// and for what verifies, ledger::Check against committed state (the mempool's path)
// and ledger::ExecuteBlock (the path of a block from a leader that skipped Check).
//
// A fuzzer cannot forge a signature, so the body is also signed as its signer would
// sign it (the first key of the organisation it names), to reach the rules behind
// Verify with whatever bytes the body holds.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_world.h"
#include "tests/fuzz/protobuf_quiet.h"

namespace reel::fuzz {
namespace {

const LedgerWorld& World() {
  static const LedgerWorld* world = new LedgerWorld();
  return *world;
}

void VerifyCheckExecute(const v1::Transaction& envelope) {
  Result<ledger::VerifiedTx> verified = ledger::Verify(envelope, kChain);
  if (!verified.ok()) return;
  const LedgerWorld& world = World();
  (void)ledger::ErrorCodeOf(ledger::Check(*verified, *world.store, world.height + 1));
  const ledger::BlockContext context{kChain, world.height + 1, world.time_ms + 1000};
  Result<ledger::BlockExecution> executed =
      ledger::ExecuteBlock(*world.store, context, {*verified});
  // The store is in memory and whole: a rule failure is a result, never a Status.
  if (!executed.ok()) {
    Die("ExecuteBlock refused a verified transaction: " + executed.status().ToString());
  }
}

}  // namespace
}  // namespace reel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reel::fuzz;
  v1::Transaction envelope;
  if (!envelope.ParseFromArray(data, static_cast<int>(size))) return 0;
  VerifyCheckExecute(envelope);
  v1::TxBody body;
  if (body.ParseFromString(envelope.body())) {
    VerifyCheckExecute(SignTx(envelope.body(), body.org_id()));
  }
  return 0;
}
