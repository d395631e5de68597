// TraceDot: a TraceLot page as Graphviz DOT.
#include "node/api/trace_dot.h"

#include <gtest/gtest.h>

namespace reel::api {
namespace {

TEST(TraceDotTest, NodesThenEdgesWithQuotesEscaped) {
  v1::TraceLotResponse page;
  v1::TraceNode* lot = page.add_nodes();
  lot->set_node_id("lot:L1");
  lot->set_kind(v1::TRACE_NODE_KIND_LOT);
  lot->set_label("L1\\nORE 100 g REO");
  v1::TraceNode* import = page.add_nodes();
  import->set_node_id("import:L1");
  import->set_kind(v1::TRACE_NODE_KIND_IMPORT);
  import->set_label("import from MM\\n\"Kachin\" Minerals");
  v1::TraceEdge* edge = page.add_edges();
  edge->set_from_node_id("import:L1");
  edge->set_to_node_id("lot:L1");
  edge->set_reo_g(100);
  EXPECT_EQ(TraceDot(page),
            "digraph trace {\n"
            "  rankdir=LR;\n"
            "  \"lot:L1\" [shape=box, label=\"L1\\nORE 100 g REO\"];\n"
            "  \"import:L1\" [shape=ellipse, label=\"import from MM\\n\\\"Kachin\\\" Minerals\"];\n"
            "  \"import:L1\" -> \"lot:L1\" [label=\"100 g\"];\n"
            "}\n");
  EXPECT_EQ(TraceDot(v1::TraceLotResponse()), "digraph trace {\n  rankdir=LR;\n}\n");
}

}  // namespace
}  // namespace reel::api
