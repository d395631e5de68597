// Small helpers shared by the replica's own files; not part of its interface.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "crypto/hash.h"

namespace reel::replica::internal {

// The raw 32 bytes of an id, as the storage keys take them.
inline std::string IdBytes(const crypto::Hash32& id) { return std::string(crypto::AsBytes(id)); }

// Stops the node when it cannot go on without risking its safety or its state (a
// write that did not reach the disk, a committed block it cannot execute): a
// restart resumes from the last committed height.
[[noreturn]] inline void Fatal(const std::string& what) {
  std::fprintf(stderr, "reel: fatal: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace reel::replica::internal
