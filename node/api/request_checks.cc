#include "node/api/request_checks.h"

#include <google/protobuf/descriptor.h>

#include <string>

#include "base/limits.h"

namespace reel::api {
namespace {

using google::protobuf::FieldDescriptor;

bool IsIdField(const FieldDescriptor& field) {
  if (field.type() != FieldDescriptor::TYPE_STRING) return false;
  const std::string& name = field.name();
  return name.ends_with(field.is_repeated() ? "_ids" : "_id");
}

Status CheckId(const FieldDescriptor& field, const std::string& value) {
  if (value.size() <= limits::lot_id_bytes_max) return Status::Ok();
  return Status::InvalidArgument(field.name() + " is " + std::to_string(value.size()) +
                                 " bytes; no id is longer than " +
                                 std::to_string(limits::lot_id_bytes_max));
}

// An enum value this node's proto does not name (a newer client, or a typo through the
// raw API): refused, in every request alike, rather than read as "no match" by one
// query and as a default by another.
Status CheckEnums(const google::protobuf::Message& message, const std::string& path) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor& field = *descriptor->field(i);
    const std::string name = path.empty() ? field.name() : path + "." + field.name();
    if (field.type() == FieldDescriptor::TYPE_ENUM) {
      const int count = field.is_repeated() ? reflection->FieldSize(message, &field) : 1;
      for (int j = 0; j < count; ++j) {
        const int value = field.is_repeated() ? reflection->GetRepeatedEnumValue(message, &field, j)
                                              : reflection->GetEnumValue(message, &field);
        if (field.enum_type()->FindValueByNumber(value) == nullptr) {
          return Status::InvalidArgument(name + " is " + std::to_string(value) +
                                         ", not a value of " + field.enum_type()->full_name());
        }
      }
    } else if (field.type() == FieldDescriptor::TYPE_MESSAGE) {
      if (field.is_repeated()) {
        for (int j = 0; j < reflection->FieldSize(message, &field); ++j) {
          REEL_RETURN_IF_ERROR(
              CheckEnums(reflection->GetRepeatedMessage(message, &field, j), name));
        }
      } else if (reflection->HasField(message, &field)) {
        REEL_RETURN_IF_ERROR(CheckEnums(reflection->GetMessage(message, &field), name));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckQueryRequest(const google::protobuf::Message& request) {
  const google::protobuf::Descriptor* descriptor = request.GetDescriptor();
  const google::protobuf::Reflection* reflection = request.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor& field = *descriptor->field(i);
    if (field.name() == "page_token" && field.type() == FieldDescriptor::TYPE_BYTES) {
      const std::string token = reflection->GetString(request, &field);
      if (token.size() > limits::api_page_token_bytes_max) {
        return Status::InvalidArgument("page_token is " + std::to_string(token.size()) +
                                       " bytes; pass back next_page_token unchanged");
      }
      continue;
    }
    if (!IsIdField(field)) continue;
    if (field.is_repeated()) {
      const int count = reflection->FieldSize(request, &field);
      for (int j = 0; j < count; ++j) {
        REEL_RETURN_IF_ERROR(CheckId(field, reflection->GetRepeatedString(request, &field, j)));
      }
    } else {
      REEL_RETURN_IF_ERROR(CheckId(field, reflection->GetString(request, &field)));
    }
  }
  return CheckEnums(request, "");
}

}  // namespace reel::api
