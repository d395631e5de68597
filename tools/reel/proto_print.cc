#include "tools/reel/proto_print.h"

#include <ctime>
#include <iostream>
#include <map>

#include "base/bytes.h"
#include "tools/reel/cli.h"
#include "tools/reel/proto_flags.h"

namespace reel::cli {
namespace {

namespace pb = google::protobuf;
using Field = pb::FieldDescriptor;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kCellCharsMax = 64;   // longer text (PEM, long reasons) is cut
constexpr uint64_t kDateMsMin = 1e11;  // below this an `_ms` field is a duration

std::string Date(uint64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string Cut(std::string text) {
  if (text.find('\n') != std::string::npos)
    return "(" + std::to_string(text.size()) + " bytes of text)";
  if (text.size() > kCellCharsMax) text = text.substr(0, kCellCharsMax - 3) + "...";
  return text;
}

std::string Composition(const pb::Message& composition) {
  const pb::Reflection* r = composition.GetReflection();
  const Field* amounts = composition.GetDescriptor()->FindFieldByName("amounts");
  std::string text;
  for (int i = 0; i < r->FieldSize(composition, amounts); ++i) {
    const pb::Message& amount = r->GetRepeatedMessage(composition, amounts, i);
    const pb::Descriptor* type = amount.GetDescriptor();
    text += (text.empty() ? "" : " ") + FormatField(amount, type->FindFieldByName("element")) +
            "=" + FormatField(amount, type->FindFieldByName("reo_g"));
  }
  return text;
}

// A message inside a cell: "k=v k=v", or its composition.
std::string Inline(const pb::Message& message) {
  if (message.GetDescriptor()->full_name() == "reel.v1.Composition") return Composition(message);
  std::vector<const Field*> set;
  message.GetReflection()->ListFields(message, &set);
  std::string text;
  for (const Field* field : set) {
    text += (text.empty() ? "" : " ") + field->name() + "=" + FormatField(message, field);
  }
  return text;
}

std::string One(const pb::Message& m, const Field* field, int i) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case Field::CPPTYPE_INT32:
      return std::to_string(rep ? r->GetRepeatedInt32(m, field, i) : r->GetInt32(m, field));
    case Field::CPPTYPE_INT64:
      return std::to_string(rep ? r->GetRepeatedInt64(m, field, i) : r->GetInt64(m, field));
    case Field::CPPTYPE_UINT32:
      return std::to_string(rep ? r->GetRepeatedUInt32(m, field, i) : r->GetUInt32(m, field));
    case Field::CPPTYPE_UINT64: {
      const uint64_t value = rep ? r->GetRepeatedUInt64(m, field, i) : r->GetUInt64(m, field);
      const std::string& name = field->name();
      const bool date =
          name.size() > 3 && name.substr(name.size() - 3) == "_ms" && value >= kDateMsMin;
      return date ? Date(value) : std::to_string(value);
    }
    case Field::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, field, i) : r->GetBool(m, field)) ? "yes" : "no";
    case Field::CPPTYPE_ENUM:
      return EnumShortName(rep ? r->GetRepeatedEnum(m, field, i) : r->GetEnum(m, field));
    case Field::CPPTYPE_STRING: {
      const std::string value = rep ? r->GetRepeatedString(m, field, i) : r->GetString(m, field);
      return field->type() == Field::TYPE_BYTES ? ToHex(value) : Cut(value);
    }
    case Field::CPPTYPE_MESSAGE:
      return Inline(rep ? r->GetRepeatedMessage(m, field, i) : r->GetMessage(m, field));
    default:
      return "?";
  }
}

bool IsList(const Field* field) {
  return field->is_repeated() && field->message_type() != nullptr;
}

bool IsNested(const Field* field) {
  return !field->is_repeated() && field->message_type() != nullptr &&
         field->message_type()->full_name() != "reel.v1.Composition";
}

// The set fields of `message` as (name, text), nested messages flattened as prefix.name.
// Lists of messages are left out at the top (`top`: they print as tables), and
// inline in a cell below it.
void Flatten(const pb::Message& message, const std::string& prefix, Fields& out, bool top) {
  std::vector<const Field*> set;
  message.GetReflection()->ListFields(message, &set);
  for (const Field* field : set) {
    if (IsNested(field)) {
      Flatten(message.GetReflection()->GetMessage(message, field), prefix + field->name() + ".",
              out, false);
    } else if (!(top && IsList(field))) {
      out.emplace_back(prefix + field->name(), FormatField(message, field));
    }
  }
}

void PrintList(const pb::Message& message, const Field* field) {
  const pb::Reflection* r = message.GetReflection();
  std::vector<Fields> rows;
  std::vector<std::string> columns;  // in the order rows first set them
  std::map<std::string, bool> known;
  for (int i = 0; i < r->FieldSize(message, field); ++i) {
    Fields row;
    Flatten(r->GetRepeatedMessage(message, field, i), "", row, false);
    for (const auto& [name, value] : row) {
      if (!known[name]) columns.push_back(name);
      known[name] = true;
    }
    rows.push_back(std::move(row));
  }
  std::cout << "\n" << field->name() << " (" << rows.size() << ")\n";
  if (rows.empty()) return;
  Table table(columns);
  for (const Fields& row : rows) {
    std::map<std::string, std::string> cells(row.begin(), row.end());
    std::vector<std::string> line;
    for (const std::string& column : columns) line.push_back(cells[column]);
    table.Add(std::move(line));
  }
  table.Print(Globals{});
}

}  // namespace

std::string FormatField(const pb::Message& message, const Field* field) {
  if (!field->is_repeated()) return One(message, field, 0);
  std::string text;
  const std::string separator = field->message_type() != nullptr ? "; " : ",";
  for (int i = 0; i < message.GetReflection()->FieldSize(message, field); ++i) {
    text += (i == 0 ? "" : separator) + One(message, field, i);
  }
  return text;
}

void PrintReadable(const pb::Message& message) {
  Fields record;
  Flatten(message, "", record, true);
  if (!record.empty()) PrintRecord(Globals{}, record);
  const pb::Descriptor* type = message.GetDescriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    if (IsList(type->field(i))) PrintList(message, type->field(i));
  }
}

}  // namespace reel::cli
