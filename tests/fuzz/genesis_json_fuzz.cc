// Fuzzes genesis.json, which an operator copies from whoever set up the chain:
// config::ParseGenesisJson, then config::ValidateGenesis on what parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "node/config/genesis.h"
#include "tests/fuzz/protobuf_quiet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reel;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<v1::Genesis> genesis = config::ParseGenesisJson(text, "genesis.json");
  if (genesis.ok()) (void)config::ValidateGenesis(*genesis, "genesis.json");
  return 0;
}
