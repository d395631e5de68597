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
  return Status::Ok();
}

}  // namespace reel::api
