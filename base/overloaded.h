// Overloaded: one visitor made of several lambdas, for std::visit.
//
//   std::visit(Overloaded{
//                  [&](const Proposal& p) { ... },
//                  [&](const Vote& v) { ... },
//                  [&](const Timeout& t) { ... },
//              },
//              message);
//
// Why: a visit is exhaustive. When a variant gains an alternative, every visit that has
// no lambda for it fails to compile, where a chain of std::get_if would skip the new
// alternative in silence. So give each alternative its own lambda, and no catch-all
// `auto` lambda unless ignoring future alternatives is really meant.
#pragma once

namespace reel {

template <typename... Lambdas>
struct Overloaded : Lambdas... {
  using Lambdas::operator()...;
};
template <typename... Lambdas>
Overloaded(Lambdas...) -> Overloaded<Lambdas...>;

}  // namespace reel
