// Clients for the two standard services that the API server carries, written against
// their public wire format with gRPC's GenericStub (Debian ships neither their generated
// stubs nor grpc::ProtoReflectionDescriptorDatabase): grpc.health.v1.Health/Check and
// grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo's list_services.
// Messages are encoded by hand and decoded as unknown fields, so these clients share no
// code with the server they probe.
#pragma once

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <string>
#include <vector>

namespace reel::api::testing {

// A length-delimited field `number` holding `value`.
inline std::string StringField(int number, const std::string& value) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(static_cast<uint32_t>(number) << 3 | 2);
    coded.WriteVarint32(static_cast<uint32_t>(value.size()));
    coded.WriteString(value);
  }
  return out;
}

inline grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Waits for the next completion; true if it is `tag` and succeeded.
inline bool Step(grpc::CompletionQueue& cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  if (!cq.Next(&got, &ok)) return false;
  return got == tag && ok;
}

inline std::chrono::system_clock::time_point In(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

// grpc.health.v1.Health/Check for `service`. On OK, *serving_status is the
// HealthCheckResponse.status number (1 = SERVING, 2 = NOT_SERVING).
inline grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& service, int* serving_status) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(In(5000));
  grpc::CompletionQueue cq;
  const std::string request = service.empty() ? std::string() : StringField(1, service);
  auto call =
      stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", ToBuffer(request), &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  int tag = 0;
  call->Finish(&response, &status, &tag);
  if (!Step(cq, &tag)) return grpc::Status(grpc::StatusCode::INTERNAL, "no completion");
  if (status.ok()) {
    google::protobuf::UnknownFieldSet fields;
    fields.ParseFromString(FromBuffer(response));
    *serving_status = 0;  // proto3 omits a zero (UNKNOWN)
    for (int i = 0; i < fields.field_count(); ++i) {
      if (fields.field(i).number() == 1)
        *serving_status = static_cast<int>(fields.field(i).varint());
    }
  }
  cq.Shutdown();
  void* ignored_tag;
  bool ignored_ok;
  while (cq.Next(&ignored_tag, &ignored_ok)) {
  }
  return status;
}

// The service names that server reflection lists (ServerReflectionRequest.list_services,
// field 7; the answer's list_services_response, field 6, holds ServiceResponse entries,
// field 1, whose name is field 1).
inline std::vector<std::string> ReflectionServices(const std::shared_ptr<grpc::Channel>& channel) {
  std::vector<std::string> names;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(In(5000));
  grpc::CompletionQueue cq;
  int start = 0, write = 0, done = 0, read = 0, finish = 0;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(&start);
  grpc::ByteBuffer response;
  grpc::Status status;
  if (Step(cq, &start)) {
    call->Write(ToBuffer(StringField(7, "*")), &write);
    if (Step(cq, &write)) {
      call->WritesDone(&done);
      if (Step(cq, &done)) {
        call->Read(&response, &read);
        if (Step(cq, &read)) {
          google::protobuf::UnknownFieldSet answer;
          answer.ParseFromString(FromBuffer(response));
          for (int i = 0; i < answer.field_count(); ++i) {
            if (answer.field(i).number() != 6) continue;
            google::protobuf::UnknownFieldSet list;
            list.ParseFromString(answer.field(i).length_delimited());
            for (int j = 0; j < list.field_count(); ++j) {
              if (list.field(j).number() != 1) continue;
              google::protobuf::UnknownFieldSet service;
              service.ParseFromString(list.field(j).length_delimited());
              for (int k = 0; k < service.field_count(); ++k) {
                if (service.field(k).number() == 1) {
                  names.push_back(service.field(k).length_delimited());
                }
              }
            }
          }
        }
      }
    }
  }
  call->Finish(&status, &finish);
  Step(cq, &finish);
  cq.Shutdown();
  void* ignored_tag;
  bool ignored_ok;
  while (cq.Next(&ignored_tag, &ignored_ok)) {
  }
  return names;
}

}  // namespace reel::api::testing
