// Small helpers shared by the replica's own files; not part of its interface.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "crypto/hash.h"

namespace reel::replica::internal {

// The raw 32 bytes of an id, as the storage keys take them.
inline std::string IdBytes(const crypto::Hash32& id) { return std::string(crypto::AsBytes(id)); }

// Called by Fatal, when set, before it aborts. Only the whole-node simulator sets
// one (tests/sim/whole_node.cc): it runs many replicas in one process, and a handler
// that throws lets it see one replica stop, as a violation, without losing the run.
// Nothing in the node sets it, so a node always aborts.
using FatalHandler = void (*)(const std::string& what);
inline FatalHandler fatal_handler_for_testing = nullptr;

// Stops the node when it cannot go on without risking its safety or its state (a
// write that did not reach the disk, a committed block it cannot execute): a
// restart resumes from the last committed height.
[[noreturn]] inline void Fatal(const std::string& what) {
  if (fatal_handler_for_testing != nullptr) fatal_handler_for_testing(what);  // may throw
  std::fprintf(stderr, "reel: fatal: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace reel::replica::internal
