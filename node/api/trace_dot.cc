#include "node/api/trace_dot.h"

namespace reel::api {
namespace {

// A DOT string literal. Labels keep their "\n" escapes, which DOT draws as line breaks.
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

const char* Shape(v1::TraceNodeKind kind) {
  switch (kind) {
    case v1::TRACE_NODE_KIND_LOT:
      return "box";
    case v1::TRACE_NODE_KIND_MINE:
      return "house";
    default:
      return "ellipse";
  }
}

}  // namespace

std::string TraceDot(const v1::TraceLotResponse& page) {
  std::string dot = "digraph trace {\n  rankdir=LR;\n";
  for (const v1::TraceNode& n : page.nodes()) {
    dot += "  " + Quoted(n.node_id()) + " [shape=" + Shape(n.kind()) +
           ", label=" + Quoted(n.label()) + "];\n";
  }
  for (const v1::TraceEdge& e : page.edges()) {
    dot += "  " + Quoted(e.from_node_id()) + " -> " + Quoted(e.to_node_id()) +
           " [label=" + Quoted(std::to_string(e.reo_g()) + " g") + "];\n";
  }
  return dot + "}\n";
}

}  // namespace reel::api
