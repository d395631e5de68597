#include "tools/reel/proto_flags.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "base/bytes.h"
#include "tools/reel/chain_setup.h"

namespace reel::cli {
namespace {

namespace pb = google::protobuf;
using Field = pb::FieldDescriptor;

constexpr const char* kCompositionType = "reel.v1.Composition";

bool IsComposition(const Field* field) {
  return field->message_type() != nullptr && field->message_type()->full_name() == kCompositionType;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return c == '-' ? '_' : static_cast<char>(std::toupper(c));
  });
  return text;
}

std::string EnumPrefix(const pb::EnumDescriptor* type) {
  const std::string& first = type->value(0)->name();
  return EndsWith(first, "UNSPECIFIED") ? first.substr(0, first.size() - 11) : "";
}

std::string EnumChoices(const pb::EnumDescriptor* type) {
  std::string names;
  for (int i = 1; i < type->value_count(); ++i) {
    names += (names.empty() ? "" : "|") + EnumShortName(type->value(i));
  }
  return names;
}

// The fields of a repeated message given as one colon-separated value, in order.
std::string RecordFormat(const pb::Descriptor* type) {
  std::string format;
  for (int i = 0; i < type->field_count(); ++i) {
    format += (i == 0 ? "" : ":") + Upper(type->field(i)->name());
  }
  return format;
}

// A message given as one value per item: every field is plain or a Composition.
bool IsRecord(const Field* field) {
  if (!field->is_repeated() || field->message_type() == nullptr || IsComposition(field)) {
    return false;
  }
  const pb::Descriptor* type = field->message_type();
  for (int i = 0; i < type->field_count(); ++i) {
    const Field* f = type->field(i);
    if (f->is_repeated() || (f->message_type() != nullptr && !IsComposition(f))) return false;
  }
  return true;
}

// Lists of codes also take commas; names (consignees, end users) may hold commas.
bool CommaSeparated(const Field* field) {
  return field->is_repeated() && (field->enum_type() != nullptr ||
                                  EndsWith(field->name(), "_ids") || field->name() == "countries");
}

std::string TypeName(const Field* field) {
  const std::string& name = field->name();
  if (IsComposition(field)) return "EL=GRAMS,...";
  if (IsRecord(field)) return RecordFormat(field->message_type());
  switch (field->cpp_type()) {
    case Field::CPPTYPE_ENUM:
      return "ENUM";
    case Field::CPPTYPE_BOOL:
      return "";
    case Field::CPPTYPE_STRING:
      return field->type() == Field::TYPE_BYTES ? "HEX" : "TEXT";
    default:
      if (EndsWith(name, "_g")) return "GRAMS";
      if (EndsWith(name, "_fen")) return "FEN";
      if (EndsWith(name, "_ms")) return "MS";
      return "N";
  }
}

std::string Help(const Field* field) {
  std::string help;
  if (field->enum_type() != nullptr) help = "one of " + EnumChoices(field->enum_type());
  if (IsComposition(field)) help = "REO grams per element, e.g. ND=9000000,PR=3000000";
  if (IsRecord(field)) help = "one item as " + RecordFormat(field->message_type());
  if (field->type() == Field::TYPE_BYTES) {
    help = field->name().find("key") != std::string::npos ? "hex, base64, a key file or a .pub file"
                                                          : "hex";
  }
  const std::string& name = field->name();
  if (EndsWith(name, "_pem")) help = "PEM, or a PEM file";
  if (field->cpp_type() != Field::CPPTYPE_STRING && field->cpp_type() != Field::CPPTYPE_ENUM) {
    if (EndsWith(name, "_g")) help = "grams (integer)";
    if (EndsWith(name, "_fen")) help = "fen, CNY x 100 (integer)";
    if (EndsWith(name, "_ms")) {
      // Durations (timers, intervals, drift) are not instants.
      const bool duration = name.find("timeout") != std::string::npos ||
                            name.find("interval") != std::string::npos ||
                            name.find("drift") != std::string::npos;
      help = duration ? "milliseconds" : "milliseconds since the Unix epoch";
    }
  }
  if (field->is_repeated()) {
    help += std::string(help.empty() ? "" : "; ") +
            (CommaSeparated(field) ? "comma-separated or repeated" : "repeatable");
  }
  return help;
}

// Other names a field answers to: without `_id`/`_ids`, and the singular of a list.
std::vector<std::string> AliasStems(const Field* field) {
  const std::string& name = field->name();
  if (EndsWith(name, "_ids")) return {name.substr(0, name.size() - 4)};
  if (EndsWith(name, "_id")) return {name.substr(0, name.size() - 3)};
  if (!field->is_repeated()) return {};
  if (EndsWith(name, "ies")) return {name.substr(0, name.size() - 3) + "y"};
  if (EndsWith(name, "ses")) return {name.substr(0, name.size() - 2)};
  if (EndsWith(name, "s")) return {name.substr(0, name.size() - 1)};
  return {};
}

// A nested message's flags go without its field's prefix (--country rather than
// --match-country) unless one of them would then take the name of another field of
// the outer message. A wrapper of one field (UpdateOrg.roles) is thus that field.
bool SharesAName(const pb::Descriptor* outer, const Field* field) {
  const pb::Descriptor* nested = field->message_type();
  for (int i = 0; i < nested->field_count(); ++i) {
    const Field* same = outer->FindFieldByName(nested->field(i)->name());
    if (same != nullptr && same != field) return true;
  }
  return false;
}

template <typename Int>
Result<Int> ParseInteger(const std::string& flag, const std::string& text) {
  int64_t wide = 0;
  uint64_t uwide = 0;
  const char* end = text.data() + text.size();
  std::from_chars_result parsed;
  if constexpr (std::is_signed_v<Int>) {
    parsed = std::from_chars(text.data(), end, wide);
  } else {
    parsed = std::from_chars(text.data(), end, uwide);
  }
  if (text.empty() || parsed.ptr != end) {
    return Status::InvalidArgument(flag + ": '" + text + "' is not a whole number" +
                                   (std::is_signed_v<Int> ? "" : " (0 or more)"));
  }
  const bool fits = std::is_signed_v<Int> ? wide >= std::numeric_limits<Int>::min() &&
                                                wide <= std::numeric_limits<Int>::max()
                                          : uwide <= std::numeric_limits<Int>::max();
  if (parsed.ec == std::errc::result_out_of_range || !fits) {
    return Status::InvalidArgument(flag + ": " + text + " is out of range");
  }
  return static_cast<Int>(std::is_signed_v<Int> ? static_cast<Int>(wide) : static_cast<Int>(uwide));
}

Result<const pb::EnumValueDescriptor*> ParseEnum(const std::string& flag,
                                                 const pb::EnumDescriptor* type,
                                                 const std::string& text) {
  const std::string wanted = Upper(text);
  const pb::EnumValueDescriptor* value = type->FindValueByName(wanted);
  if (value == nullptr) value = type->FindValueByName(EnumPrefix(type) + wanted);
  if (value == nullptr || value->index() == 0) {
    return Status::InvalidArgument(flag + ": '" + text + "' is not one of " + EnumChoices(type));
  }
  return value;
}

// Hex, or (for a key) base64, a key file or a public key file (chain_setup.h).
Result<std::string> ParseBytes(const std::string& flag, const std::string& text) {
  if (std::optional<std::string> bytes = FromHex(text)) return *bytes;
  if (flag.find("key") != std::string::npos) {
    Result<std::string> key = ReadPublicKey(text);
    if (!key.ok()) return Status(key.status().code(), flag + ": " + key.status().message());
    return key;
  }
  return Status::InvalidArgument(flag + ": '" + text + "' is not hex");
}

// PEM text, or the file that holds it (a certificate does not fit on a command line).
Result<std::string> ReadPemText(const std::string& flag, const std::string& text) {
  if (text.find("-----BEGIN ") != std::string::npos) return text;
  std::ifstream in(text, std::ios::binary);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.bad() && pem.find("-----BEGIN ") != std::string::npos && pem.size() <= 64 * 1024) {
    return pem;
  }
  return Status::InvalidArgument(flag + ": '" + text + "' is neither PEM text nor a PEM file");
}

// Sets (or adds to, when repeated) one plain field from its text.
Status Store(pb::Message* message, const Field* field, const std::string& flag,
             const std::string& text) {
  const pb::Reflection* r = message->GetReflection();
  const bool add = field->is_repeated();
#define REEL_STORE(Kind, Type)                                                         \
  {                                                                                    \
    Result<Type> value = ParseInteger<Type>(flag, text);                               \
    if (!value.ok()) return value.status();                                            \
    add ? r->Add##Kind(message, field, *value) : r->Set##Kind(message, field, *value); \
    return Status::Ok();                                                               \
  }
  switch (field->cpp_type()) {
    case Field::CPPTYPE_INT32:
      REEL_STORE(Int32, int32_t)
    case Field::CPPTYPE_INT64:
      REEL_STORE(Int64, int64_t)
    case Field::CPPTYPE_UINT32:
      REEL_STORE(UInt32, uint32_t)
    case Field::CPPTYPE_UINT64:
      REEL_STORE(UInt64, uint64_t)
    case Field::CPPTYPE_ENUM: {
      Result<const pb::EnumValueDescriptor*> value = ParseEnum(flag, field->enum_type(), text);
      if (!value.ok()) return value.status();
      add ? r->AddEnum(message, field, *value) : r->SetEnum(message, field, *value);
      return Status::Ok();
    }
    case Field::CPPTYPE_STRING: {
      std::string value = text;
      if (field->type() == Field::TYPE_BYTES) {
        Result<std::string> bytes = ParseBytes(flag, text);
        if (!bytes.ok()) return bytes.status();
        value = *bytes;
      } else if (EndsWith(field->name(), "_pem")) {
        Result<std::string> pem = ReadPemText(flag, text);
        if (!pem.ok()) return pem.status();
        value = *pem;
      }
      add ? r->AddString(message, field, value) : r->SetString(message, field, value);
      return Status::Ok();
    }
    case Field::CPPTYPE_BOOL: {
      const std::string value = Upper(text);
      if (value != "TRUE" && value != "FALSE") {
        return Status::InvalidArgument(flag + ": '" + text + "' is not true or false");
      }
      add ? r->AddBool(message, field, value == "TRUE")
          : r->SetBool(message, field, value == "TRUE");
      return Status::Ok();
    }
    default:
      return Status::Internal(flag + ": field type not supported by the CLI");
  }
#undef REEL_STORE
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at = text.find(separator); at != std::string::npos;
       at = text.find(separator, start)) {
    parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
  parts.push_back(text.substr(start));
  return parts;
}

// EL=GRAMS,EL=GRAMS into a Composition; the ledger checks order and amounts.
Status ParseComposition(const std::string& flag, const std::string& text,
                        pb::Message* composition) {
  const Field* amounts = composition->GetDescriptor()->FindFieldByName("amounts");
  for (const std::string& pair : Split(text, ',')) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument(flag + ": '" + pair +
                                     "' is not ELEMENT=GRAMS (e.g. ND=9000000)");
    }
    pb::Message* amount = composition->GetReflection()->AddMessage(composition, amounts);
    const pb::Descriptor* type = amount->GetDescriptor();
    REEL_RETURN_IF_ERROR(Store(amount, type->FindFieldByName("element"), flag, pair.substr(0, eq)));
    REEL_RETURN_IF_ERROR(Store(amount, type->FindFieldByName("reo_g"), flag, pair.substr(eq + 1)));
  }
  return Status::Ok();
}

Status StoreAny(pb::Message* message, const Field* field, const std::string& flag,
                const std::string& text) {
  if (!IsComposition(field)) return Store(message, field, flag, text);
  return ParseComposition(flag, text, message->GetReflection()->MutableMessage(message, field));
}

// One item of a repeated message from A:B:C; extra colons belong to the first part.
Status ParseRecord(const std::string& flag, const std::string& text, pb::Message* item) {
  const pb::Descriptor* type = item->GetDescriptor();
  std::vector<std::string> parts = Split(text, ':');
  const size_t n = static_cast<size_t>(type->field_count());
  if (parts.size() < n) {
    return Status::InvalidArgument(flag + ": '" + text + "' has " + std::to_string(parts.size()) +
                                   " parts; give " + RecordFormat(type));
  }
  while (parts.size() > n) {
    parts[0] += ":" + parts[1];
    parts.erase(parts.begin() + 1);
  }
  for (size_t i = 0; i < n; ++i) {
    if (parts[i].empty()) continue;  // left at its default, for the ledger to judge
    const Field* field = type->field(static_cast<int>(i));
    REEL_RETURN_IF_ERROR(StoreAny(item, field, flag + " " + Upper(field->name()), parts[i]));
  }
  return Status::Ok();
}

}  // namespace

std::string EnumShortName(const pb::EnumValueDescriptor* value) {
  const std::string prefix = EnumPrefix(value->type());
  const std::string& name = value->name();
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

std::set<std::string> FieldNames(const std::string& space_separated) {
  std::set<std::string> names;
  std::istringstream in(space_separated);
  for (std::string name; in >> name;) names.insert(name);
  return names;
}

std::string Kebab(const std::string& snake) {
  std::string kebab = snake;
  std::replace(kebab.begin(), kebab.end(), '_', '-');
  return kebab;
}

MessageFlags::MessageFlags(CLI::App* command, const pb::Descriptor* type, const FlagSpec& spec) {
  Bind(command, type, {}, "", spec);
}

void MessageFlags::Bind(CLI::App* command, const pb::Descriptor* type,
                        const std::vector<const Field*>& path, const std::string& prefix,
                        const FlagSpec& spec) {
  const bool top = path.empty();
  std::set<std::string> primary;  // an alias never takes the name of another field
  for (int i = 0; i < type->field_count(); ++i) primary.insert(prefix + type->field(i)->name());
  for (int i = 0; i < type->field_count(); ++i) {
    const Field* field = type->field(i);
    if (top && spec.skip.count(field->name()) > 0) continue;
    if (field->message_type() != nullptr && !IsComposition(field) && !IsRecord(field)) {
      std::vector<const Field*> inner = path;
      inner.push_back(field);
      // A message that is one choice of a oneof keeps its name in front (--add-name,
      // --remove-name): the choices of one oneof often share field names.
      const bool named = SharesAName(type, field) || field->real_containing_oneof() != nullptr;
      Bind(command, field->message_type(), inner, named ? prefix + field->name() + "_" : prefix,
           FlagSpec{});
      continue;
    }
    auto flag = std::make_unique<Flag>();
    flag->path = path;
    flag->field = field;
    flag->name = "--" + Kebab(prefix + field->name());
    std::vector<std::string> names = {prefix + field->name()};
    for (const std::string& stem : AliasStems(field)) {
      if (primary.count(prefix + stem) == 0) names.push_back(prefix + stem);
    }
    if (top && spec.aliases.count(field->name()) > 0)
      names.push_back(spec.aliases.at(field->name()));
    AddFlag(command, std::move(flag), names, top && spec.required.count(field->name()) > 0);
  }
}

void MessageFlags::AddFlag(CLI::App* command, std::unique_ptr<Flag> flag,
                           const std::vector<std::string>& names, bool required) {
  std::string spelled;  // "--mass-g,--mass": names no other flag of the command has
  for (const std::string& name : names) {
    const std::string dashed = "--" + Kebab(name);
    if (command->get_option_no_throw(dashed) != nullptr ||
        spelled.find(dashed + ",") != std::string::npos) {
      continue;
    }
    spelled += dashed + ",";
  }
  REEL_ASSERT(!spelled.empty());  // two fields of one command with one flag name
  spelled.pop_back();
  const Field* field = flag->field;
  if (field->cpp_type() == Field::CPPTYPE_BOOL && !field->is_repeated()) {
    flag->option = command->add_flag(spelled, flag->on, Help(field));
  } else {
    flag->option = command->add_option(spelled, flag->values, Help(field))
                       ->type_name(TypeName(field))
                       ->expected(1)
                       ->allow_extra_args(false);
    if (!field->is_repeated()) {
      flag->option->multi_option_policy(CLI::MultiOptionPolicy::Throw);
    } else {
      flag->option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
      if (CommaSeparated(field)) flag->option->delimiter(',');
    }
  }
  if (required) flag->option->required();
  flags_.push_back(std::move(flag));
}

Status MessageFlags::Apply(pb::Message* message) const {
  for (const auto& flag : flags_) {
    if (flag->option->count() == 0) continue;
    pb::Message* target = message;
    for (const Field* step : flag->path) {
      target = target->GetReflection()->MutableMessage(target, step);
    }
    REEL_RETURN_IF_ERROR(ApplyFlag(*flag, target));
  }
  return Status::Ok();
}

Status MessageFlags::ApplyFlag(const Flag& flag, pb::Message* message) const {
  const Field* field = flag.field;
  if (field->cpp_type() == Field::CPPTYPE_BOOL && !field->is_repeated()) {
    message->GetReflection()->SetBool(message, field, flag.on);
    return Status::Ok();
  }
  for (const std::string& text : flag.values) {
    if (field->is_repeated() && text.empty()) continue;  // `--roles ''`: an empty list
    if (IsRecord(field)) {
      REEL_RETURN_IF_ERROR(
          ParseRecord(flag.name, text, message->GetReflection()->AddMessage(message, field)));
    } else {
      REEL_RETURN_IF_ERROR(StoreAny(message, field, flag.name, text));
    }
  }
  return Status::Ok();
}

}  // namespace reel::cli
