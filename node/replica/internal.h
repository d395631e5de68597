// Small helpers shared by the replica's own files; not part of its interface.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "crypto/hash.h"

namespace reel::replica::internal {

// The raw 32 bytes of an id, as the storage keys take them.
inline std::string IdBytes(const crypto::Hash32& id) {
  return std::string(crypto::AsBytes(id));
}

// Called by Fatal, when set, before it aborts. Only tests set one: the whole-node
// simulator (tests/sim/whole_node.cc), which runs many replicas in one process, and
// the replica tests (tests/replica/test_network.h), which make a store fail on
// purpose. A handler that throws lets them see one replica stop without losing the
// run. Nothing in the node sets it, so a node always aborts.
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
