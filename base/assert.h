// REEL_ASSERT: invariants that must hold whatever the input. On in every build
// type (NDEBUG does not remove it): a broken invariant in a ledger must stop
// the process, not corrupt state. Never assert on what a peer or client sent:
// validate it at the boundary and return a Status instead.
#pragma once

namespace reel::internal {
[[noreturn]] void AssertFailed(const char* expr, const char* file, int line);
}  // namespace reel::internal

#define REEL_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::reel::internal::AssertFailed(#cond, __FILE__, __LINE__))
