// Graphviz DOT for a page of TraceLot: what TraceLotRequest.include_dot asks for.
//
// The ledger answers a trace as nodes and edges; drawing them is presentation, done
// here for API clients that want a picture (the `reel` CLI, the demo). Node ids are
// stable across pages, so the DOT of several pages joins into one graph.
//
// Thread safety: pure.
#pragma once

#include <string>

#include "reel/v1/api.pb.h"

namespace reel::api {

// `digraph trace { ... }` with the page's nodes (lots as boxes, mines as houses, the
// rest as ellipses, labelled with TraceNode.label) and edges (labelled with REO grams).
std::string TraceDot(const v1::TraceLotResponse& page);

}  // namespace reel::api
