// Any reel.v1 message printed for a person, from its descriptor: its plain fields
// (nested messages flattened as a.b) as a "key: value" record, then each list of
// messages as a table with one column per field that some row sets. Values read
// the way the domain writes them: enums without their type prefix (ORE), a
// Composition as ND=9000000 PR=3000000, times (`*_ms`) as UTC dates, bytes in hex.
// `--json` output does not come here: commands print ToJson (rpc.h) instead.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace reel::cli {

void PrintReadable(const google::protobuf::Message& message);

// One field of `message` as the text of a table cell or record value.
std::string FormatField(const google::protobuf::Message& message,
                        const google::protobuf::FieldDescriptor* field);

}  // namespace reel::cli
