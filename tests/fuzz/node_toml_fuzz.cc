// Fuzzes node.toml: config::ParseNodeConfig, and for what parses, the default-file
// writer on the result (a parsed config must print back without trouble).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "node/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reel;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<config::NodeConfig> config = config::ParseNodeConfig(text, "node.toml");
  if (config.ok()) (void)config::NodeConfigToml(*config);
  return 0;
}
