// Named command-line flags made from a protobuf message's descriptor, so that every
// transaction and query of reel.v1 gets its flags, help and checks from one piece of
// code instead of one hand-written copy per message.
//
// Field -> flag: `mass_g` -> --mass-g. An id field also answers to its name without
// `_id` (`lot_id` -> --lot, `lot_ids` -> --lot), a repeated field to its singular
// (`outputs` -> --output, `countries` -> --country). Values:
//   integers   decimal, checked against the field's type (a gram amount is an int64)
//   enums      the value's name without its type prefix, any case (`ore` for
//              PRODUCT_FORM_ORE), or the full name; UNSPECIFIED is never accepted
//   bytes      hex; a key field also takes the path of a key file (its public key)
//   bool       a flag without a value
//   repeated   repeat the flag; ids and enums also take a comma-separated list
//   Composition                  EL=GRAMS,EL=GRAMS   (ND=9000000,PR=3000000)
//   a nested message             its fields as --SUBFIELD, or --FIELD-SUBFIELD where a
//                                name would clash or the message is a choice of a
//                                oneof (--add-name); a message with one field is that
//                                field (UpdateOrg.roles)
//   a repeated message of plain fields   one colon-separated value per item in field
//                                order (--output LOT_ID:PRODUCT:MASS_G:COMPOSITION);
//                                the first part may itself hold colons (lot ids do)
//
// Parsing happens in two steps: CLI11 collects the text of each flag, then Apply
// checks it and sets the fields; a bad value is an InvalidArgument that names the
// flag and says what it accepts.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace reel::cli {

struct FlagSpec {
  std::set<std::string> required;              // top-level fields that must be given
  std::set<std::string> skip;                  // top-level fields the command sets itself
  std::map<std::string, std::string> aliases;  // top-level field -> one more flag name
};

// "a b c" -> {a, b, c}: the required fields of a FlagSpec, written as one string.
std::set<std::string> FieldNames(const std::string& space_separated);

class MessageFlags {
 public:
  // Registers one flag per field of `type` on `command`.
  MessageFlags(CLI::App* command, const google::protobuf::Descriptor* type, const FlagSpec& spec);
  MessageFlags(const MessageFlags&) = delete;
  MessageFlags& operator=(const MessageFlags&) = delete;

  // Sets on `message` (of the type given above) the fields whose flags were given.
  Status Apply(google::protobuf::Message* message) const;

 private:
  struct Flag {
    std::vector<const google::protobuf::FieldDescriptor*> path;  // nested messages to the field
    const google::protobuf::FieldDescriptor* field = nullptr;
    std::string name;  // "--mass-g", for messages
    std::vector<std::string> values;
    bool on = false;  // a bool field's flag
    CLI::Option* option = nullptr;
  };

  void Bind(CLI::App* command, const google::protobuf::Descriptor* type,
            const std::vector<const google::protobuf::FieldDescriptor*>& path,
            const std::string& prefix, const FlagSpec& spec);
  void AddFlag(CLI::App* command, std::unique_ptr<Flag> flag, const std::vector<std::string>& names,
               bool required);
  Status ApplyFlag(const Flag& flag, google::protobuf::Message* message) const;

  std::vector<std::unique_ptr<Flag>> flags_;  // owned here: CLI11 writes into them
};

// The enum value's name without its type's prefix: PRODUCT_FORM_ORE -> ORE.
std::string EnumShortName(const google::protobuf::EnumValueDescriptor* value);

// `snake_case` -> `kebab-case`.
std::string Kebab(const std::string& snake);

}  // namespace reel::cli
