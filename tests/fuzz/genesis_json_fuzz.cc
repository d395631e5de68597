// Fuzzes genesis.json, which an operator copies from whoever set up the chain:
// daemon::ParseGenesisJson, then daemon::ValidateGenesis on what parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "node/daemon/genesis.h"
#include "tests/fuzz/protobuf_quiet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reel;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<v1::Genesis> genesis = daemon::ParseGenesisJson(text, "genesis.json");
  if (genesis.ok()) (void)daemon::ValidateGenesis(*genesis, "genesis.json");
  return 0;
}
