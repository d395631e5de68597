// Tests of the reel.v1 wire and file formats, by reflection over the descriptors, so
// that a message, field or file added later is covered without editing this file:
// - every message survives serialise -> parse with every field set (oneof cases each in
//   turn), and serialises to the same bytes again;
// - no float or double and no map anywhere (determinism, DOMAIN.md "Units");
// - each case of TxBody's oneof is its own message of the package, and TxKind mirrors it;
// - list methods follow the paging contract of README.md;
// - the genesis example in README.md parses, and Genesis survives a JSON round trip.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "reel/v1/api.grpc.pb.h"
#include "reel/v1/api.pb.h"
#include "reel/v1/consensus.pb.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/peer.grpc.pb.h"
#include "reel/v1/peer.pb.h"
#include "reel/v1/tx.pb.h"
#include "reel/v1/types.pb.h"
#include "tests/test_util.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::MessageFactory;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;
using google::protobuf::ServiceDescriptor;
using google::protobuf::util::MessageDifferencer;

constexpr const char* kPackage = "reel.v1";

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream stream(list);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// The .proto files as CMake lists them for reel_proto (comma-separated). The test links reel_proto
// whole, so every generated file has registered itself in the generated pool.
std::vector<const FileDescriptor*> ReelFiles() {
  std::vector<const FileDescriptor*> files;
  for (const std::string& name : SplitList(REEL_PROTO_FILES)) {
    const FileDescriptor* file = DescriptorPool::generated_pool()->FindFileByName(name);
    EXPECT_NE(file, nullptr) << name << " is not in the generated pool";
    if (file != nullptr) files.push_back(file);
  }
  return files;
}

void AddWithNested(const Descriptor* type, std::vector<const Descriptor*>* out) {
  out->push_back(type);
  for (int i = 0; i < type->nested_type_count(); ++i) AddWithNested(type->nested_type(i), out);
}

// Every message type declared in the reel.v1 files, nested ones included.
std::vector<const Descriptor*> ReelMessages() {
  std::vector<const Descriptor*> types;
  for (const FileDescriptor* file : ReelFiles()) {
    for (int i = 0; i < file->message_type_count(); ++i)
      AddWithNested(file->message_type(i), &types);
  }
  return types;
}

std::vector<const EnumDescriptor*> ReelEnums() {
  std::vector<const EnumDescriptor*> enums;
  for (const FileDescriptor* file : ReelFiles()) {
    for (int i = 0; i < file->enum_type_count(); ++i) enums.push_back(file->enum_type(i));
  }
  for (const Descriptor* type : ReelMessages()) {
    for (int i = 0; i < type->enum_type_count(); ++i) enums.push_back(type->enum_type(i));
  }
  return enums;
}

std::vector<const ServiceDescriptor*> ReelServices() {
  std::vector<const ServiceDescriptor*> services;
  for (const FileDescriptor* file : ReelFiles()) {
    for (int i = 0; i < file->service_count(); ++i) services.push_back(file->service(i));
  }
  return services;
}

// How many fill variants a type needs so that each case of each of its oneofs is set in
// at least one of them.
int VariantCount(const Descriptor* type) {
  int count = 1;
  for (int i = 0; i < type->real_oneof_decl_count(); ++i) {
    count = std::max(count, type->oneof_decl(i)->field_count());
  }
  return count;
}

// Whether `field` is set in this variant: a field outside any oneof always, a oneof
// member only when it is the case that the variant picks.
bool ChosenInVariant(const FieldDescriptor* field, int variant) {
  const OneofDescriptor* oneof = field->real_containing_oneof();
  if (oneof == nullptr) return true;
  return field->index_in_oneof() == variant % oneof->field_count();
}

// Sets every field to a value other than its default, so that a field lost on the way
// would show up as a difference. Values vary with a counter so that two fields of one
// type never hold the same value by accident.
class Filler {
 public:
  void Fill(Message* message, int variant) {
    std::vector<const Descriptor*> stack;
    FillMessage(message, variant, &stack);
  }

 private:
  void FillMessage(Message* message, int variant, std::vector<const Descriptor*>* stack) {
    const Descriptor* type = message->GetDescriptor();
    stack->push_back(type);
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      if (!ChosenInVariant(field, variant)) continue;
      // A message type that contains itself would recurse forever; it stays unset below
      // the first level. None does today.
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
          std::count(stack->begin(), stack->end(), field->message_type()) > 0) {
        continue;
      }
      const int repeats = field->is_repeated() ? 2 : 1;
      for (int r = 0; r < repeats; ++r) FillField(message, field, variant, stack);
    }
    stack->pop_back();
  }

  void FillField(Message* message, const FieldDescriptor* field, int variant,
                 std::vector<const Descriptor*>* stack) {
    const Reflection* reflection = message->GetReflection();
    const bool repeated = field->is_repeated();
    const int64_t n = ++counter_;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        repeated ? reflection->AddInt32(message, field, static_cast<int32_t>(n))
                 : reflection->SetInt32(message, field, static_cast<int32_t>(n));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        // Large enough to need all varint bytes: catches a field narrowed by mistake.
        repeated ? reflection->AddInt64(message, field, (int64_t{1} << 40) + n)
                 : reflection->SetInt64(message, field, (int64_t{1} << 40) + n);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        repeated ? reflection->AddUInt32(message, field, static_cast<uint32_t>(n))
                 : reflection->SetUInt32(message, field, static_cast<uint32_t>(n));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        repeated ? reflection->AddUInt64(message, field, (uint64_t{1} << 60) + n)
                 : reflection->SetUInt64(message, field, (uint64_t{1} << 60) + n);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        repeated ? reflection->AddBool(message, field, true)
                 : reflection->SetBool(message, field, true);
        break;
      case FieldDescriptor::CPPTYPE_STRING: {
        // Valid UTF-8 for string fields (protobuf checks it when parsing); any bytes else.
        std::string value = field->type() == FieldDescriptor::TYPE_BYTES
                                ? std::string("\x00\xff\x01", 3) + std::to_string(n)
                                : field->name() + "-" + std::to_string(n);
        repeated ? reflection->AddString(message, field, value)
                 : reflection->SetString(message, field, value);
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        // Any value but the zero default, rotating through the enum's values.
        const EnumDescriptor* type = field->enum_type();
        int index = static_cast<int>(n % type->value_count());
        if (type->value(index)->number() == 0) index = (index + 1) % type->value_count();
        repeated ? reflection->AddEnum(message, field, type->value(index))
                 : reflection->SetEnum(message, field, type->value(index));
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        Message* child = repeated ? reflection->AddMessage(message, field)
                                  : reflection->MutableMessage(message, field);
        FillMessage(child, variant, stack);
        break;
      }
      default:
        ADD_FAILURE() << "field type the filler does not know: " << field->full_name();
    }
  }

  int64_t counter_ = 0;
};

// Every field the variant selects is present: repeated ones with two elements, singular
// ones set to a non-default value (proto3 HasField is false for a default scalar).
void ExpectFullyFilled(const Message& message, int variant) {
  const Descriptor* type = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (!ChosenInVariant(field, variant)) continue;
    if (field->is_repeated()) {
      EXPECT_EQ(reflection->FieldSize(message, field), 2) << field->full_name();
    } else {
      EXPECT_TRUE(reflection->HasField(message, field)) << field->full_name();
    }
  }
}

std::unique_ptr<Message> NewMessage(const Descriptor* type) {
  const Message* prototype = MessageFactory::generated_factory()->GetPrototype(type);
  EXPECT_NE(prototype, nullptr) << type->full_name();
  return std::unique_ptr<Message>(prototype->New());
}

TEST(ProtoFiles, AllInPackageReelV1) {
  const std::vector<const FileDescriptor*> files = ReelFiles();
  ASSERT_FALSE(files.empty());
  for (const FileDescriptor* file : files) {
    EXPECT_EQ(file->package(), kPackage) << file->name();
    EXPECT_EQ(file->syntax(), FileDescriptor::SYNTAX_PROTO3) << file->name();
  }
}

TEST(ProtoRoundTrip, EveryMessageWithEveryFieldSet) {
  const std::vector<const Descriptor*> types = ReelMessages();
  ASSERT_GT(types.size(), 50u);
  Filler filler;
  for (const Descriptor* type : types) {
    for (int variant = 0; variant < VariantCount(type); ++variant) {
      SCOPED_TRACE(type->full_name() + " variant " + std::to_string(variant));
      std::unique_ptr<Message> original = NewMessage(type);
      filler.Fill(original.get(), variant);
      ExpectFullyFilled(*original, variant);

      std::string bytes;
      ASSERT_TRUE(original->SerializeToString(&bytes));
      std::unique_ptr<Message> parsed = NewMessage(type);
      ASSERT_TRUE(parsed->ParseFromString(bytes));
      EXPECT_TRUE(parsed->GetReflection()->GetUnknownFields(*parsed).empty());

      std::string differences;
      MessageDifferencer differencer;
      differencer.ReportDifferencesToString(&differences);
      EXPECT_TRUE(differencer.Compare(*original, *parsed)) << differences;

      std::string again;
      ASSERT_TRUE(parsed->SerializeToString(&again));
      EXPECT_EQ(bytes, again) << "re-serialisation changed the bytes";
    }
  }
}

// The filler is only useful if a missing field makes the comparison fail.
TEST(ProtoRoundTrip, DifferencerSeesAClearedField) {
  Filler filler;
  reel::v1::Lot lot;
  filler.Fill(&lot, 0);
  reel::v1::Lot changed = lot;
  changed.clear_site_id();
  EXPECT_FALSE(MessageDifferencer::Equals(lot, changed));
}

void CollectReachable(const Descriptor* type, std::set<const Descriptor*>* seen) {
  if (!seen->insert(type).second) return;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->message_type() != nullptr) {
      CollectReachable(type->field(i)->message_type(), seen);
    }
  }
}

// Execution must be bit-exact on every node: no floating point in anything reel.v1
// carries, including types it would pull in from elsewhere (google.protobuf.Value has a
// double). Maps are out too: their wire order is not fixed.
TEST(ProtoDeterminism, NoFloatDoubleOrMapAnywhere) {
  std::set<const Descriptor*> reachable;
  for (const Descriptor* type : ReelMessages()) CollectReachable(type, &reachable);
  for (const Descriptor* type : reachable) {
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      EXPECT_NE(field->type(), FieldDescriptor::TYPE_FLOAT) << field->full_name();
      EXPECT_NE(field->type(), FieldDescriptor::TYPE_DOUBLE) << field->full_name();
      EXPECT_FALSE(field->is_map()) << field->full_name();
    }
  }
}

// Every enum has a zero value that means "not given", so a missing field is never read
// as a real choice. ErrorCode's zero is OK.
TEST(ProtoEnums, ZeroIsUnspecified) {
  for (const EnumDescriptor* type : ReelEnums()) {
    const auto* zero = type->FindValueByNumber(0);
    ASSERT_NE(zero, nullptr) << type->full_name();
    if (type == reel::v1::ErrorCode_descriptor()) {
      EXPECT_EQ(zero->name(), "OK");
    } else {
      EXPECT_TRUE(zero->name().ends_with("_UNSPECIFIED")) << zero->full_name();
    }
  }
}

TEST(ProtoEnums, SeventeenElements) {
  const EnumDescriptor* element = reel::v1::Element_descriptor();
  EXPECT_EQ(element->value_count(), 18);  // 17 rare earths and UNSPECIFIED
}

std::string ToUpperSnake(const std::string& camel) {
  std::string out;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c)) && !out.empty()) out += '_';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// Every case of TxBody.action is a message of this package, each its own: the kinds
// themselves are listed once, in tx.proto (and tx_kinds_test holds the ledger's table to
// them), not again here.
TEST(ProtoTxBody, EveryActionIsItsOwnMessageOfThePackage) {
  const OneofDescriptor* action = reel::v1::TxBody::descriptor()->FindOneofByName("action");
  ASSERT_NE(action, nullptr);
  ASSERT_GT(action->field_count(), 0);
  std::set<std::string> messages;
  for (int i = 0; i < action->field_count(); ++i) {
    const FieldDescriptor* field = action->field(i);
    ASSERT_EQ(field->cpp_type(), FieldDescriptor::CPPTYPE_MESSAGE) << field->name();
    EXPECT_EQ(field->message_type()->file()->package(), kPackage);
    EXPECT_TRUE(messages.insert(field->message_type()->name()).second)
        << field->message_type()->name() << " is the message of two cases";
  }
}

// TxKind(body.action_case()) must name the action, so each case's field number is the
// TxKind value of the same name, and TxKind has nothing else.
TEST(ProtoTxBody, TxKindMirrorsActionCases) {
  const OneofDescriptor* action = reel::v1::TxBody::descriptor()->FindOneofByName("action");
  ASSERT_NE(action, nullptr);
  const EnumDescriptor* kind = reel::v1::TxKind_descriptor();
  EXPECT_EQ(kind->value_count(), action->field_count() + 1);
  for (int i = 0; i < action->field_count(); ++i) {
    const FieldDescriptor* field = action->field(i);
    const auto* value = kind->FindValueByNumber(field->number());
    ASSERT_NE(value, nullptr) << field->name();
    EXPECT_EQ(value->name(), "TX_KIND_" + ToUpperSnake(field->message_type()->name()));
  }
  reel::v1::TxBody body;
  body.mutable_clear_export();
  EXPECT_EQ(static_cast<reel::v1::TxKind>(body.action_case()), reel::v1::TX_KIND_CLEAR_EXPORT);
}

TEST(ProtoTxResult, ErrorCodesTheLedgerNeeds) {
  const EnumDescriptor* codes = reel::v1::ErrorCode_descriptor();
  for (const char* name : {"OK",
                           "MALFORMED",
                           "WRONG_CHAIN",
                           "EXPIRED_TX",
                           "DUPLICATE_TX",
                           "INVALID_SIGNATURE",
                           "INSUFFICIENT_QUORUM",
                           "ORG_SUSPENDED",
                           "UNAUTHORIZED_ROLE",
                           "NOT_STATE_ENTERPRISE",
                           "QUOTA_EXCEEDED",
                           "CONSERVATION_VIOLATED",
                           "FORM_ORDER_VIOLATED",
                           "UPSTREAM_HOLDER_NOT_STATE",
                           "LOT_EXISTS",
                           "LOT_NOT_FOUND",
                           "LOT_NOT_ACTIVE",
                           "NOT_HOLDER",
                           "LICENCE_NOT_GRANTED",
                           "LICENCE_EXPIRED",
                           "LICENCE_EXCEEDED",
                           "RESTRICTED_BY_DENY",
                           "PENALTY_OUT_OF_RANGE",
                           "MULTIPLIER_OUT_OF_RANGE"}) {
    EXPECT_NE(codes->FindValueByName(name), nullptr) << name;
  }
  EXPECT_EQ(reel::v1::OK, 0);
}

// The block header message holds exactly the canonical layout's fields and the epoch,
// so nothing unsigned can ride along in a header.
TEST(ProtoConsensus, BlockHeaderFieldsAreTheCanonicalLayout) {
  const std::set<std::string> expected = {
      "epoch",          "round",        "height",           "parent_id",
      "qc_block_id",    "qc_round",     "tx_root",          "tx_count",
      "proposer_index", "timestamp_ms", "committed_height", "committed_state_root",
      "qc_signers",
  };
  const Descriptor* header = reel::v1::BlockHeader::descriptor();
  std::set<std::string> actual;
  for (int i = 0; i < header->field_count(); ++i) actual.insert(header->field(i)->name());
  EXPECT_EQ(actual, expected);
}

const FieldDescriptor* FieldOf(const Descriptor* type, const char* name) {
  return type->FindFieldByName(name);
}

// README.md "Paging": list requests carry page_size (1, uint32) and page_token (2,
// bytes); list responses carry next_page_token (1, bytes); one without the other is a
// mistake.
TEST(ProtoServices, PagingContract) {
  for (const ServiceDescriptor* service : ReelServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      SCOPED_TRACE(method->full_name());
      const FieldDescriptor* size = FieldOf(method->input_type(), "page_size");
      const FieldDescriptor* token = FieldOf(method->input_type(), "page_token");
      const FieldDescriptor* next = FieldOf(method->output_type(), "next_page_token");
      EXPECT_EQ(size != nullptr, next != nullptr);
      EXPECT_EQ(token != nullptr, next != nullptr);
      if (next == nullptr) continue;
      EXPECT_EQ(size->type(), FieldDescriptor::TYPE_UINT32);
      EXPECT_EQ(size->number(), 1);
      EXPECT_EQ(token->type(), FieldDescriptor::TYPE_BYTES);
      EXPECT_EQ(token->number(), 2);
      EXPECT_EQ(next->type(), FieldDescriptor::TYPE_BYTES);
      EXPECT_EQ(next->number(), 1);
    }
  }
}

void ExpectMethod(const ServiceDescriptor* service, const std::string& name, bool client_streaming,
                  bool server_streaming) {
  const auto* method = service->FindMethodByName(name);
  ASSERT_NE(method, nullptr) << service->name() << "." << name;
  EXPECT_EQ(method->client_streaming(), client_streaming) << name;
  EXPECT_EQ(method->server_streaming(), server_streaming) << name;
}

// Every query of DOMAIN.md "Queries" is a method of Api; the lists among them page.
TEST(ProtoServices, ApiAnswersEveryDomainQuery) {
  const ServiceDescriptor* api = DescriptorPool::generated_pool()->FindServiceByName("reel.v1.Api");
  ASSERT_NE(api, nullptr);
  for (const char* name : {"SubmitTransaction", "GetTransaction", "GetBlock", "GetStatus", "GetLot",
                           "GetOrg", "GetLicence", "LicenceVerdict", "GetValidatorChange"}) {
    ExpectMethod(api, name, false, false);
  }
  ExpectMethod(api, "StreamBlocks", false, true);
  ExpectMethod(api, "StreamEvents", false, true);
  for (const char* name :
       {"LotHistory", "TraceLot", "Holdings", "QuotaUse", "ListLicences", "MatchingRestrictions",
        "RestrictionImpact", "ExportStats", "MassBalance", "MonthlyFlowReport", "ListOrgs",
        "ListSites", "ListViolations", "ListRestrictions", "ListExports", "ListTransferOffers",
        "ListValidatorChanges"}) {
    ExpectMethod(api, name, false, false);
    const auto* method = api->FindMethodByName(name);
    if (method != nullptr) {
      EXPECT_NE(FieldOf(method->output_type(), "next_page_token"), nullptr) << name;
    }
  }
}

TEST(ProtoServices, PeerCarriesConsensusGossipAndSync) {
  const ServiceDescriptor* peer =
      DescriptorPool::generated_pool()->FindServiceByName("reel.v1.Peer");
  ASSERT_NE(peer, nullptr);
  ExpectMethod(peer, "Push", true, false);
  ExpectMethod(peer, "GossipTxs", false, false);
  ExpectMethod(peer, "GossipTxsStream", true, false);
  ExpectMethod(peer, "GetBlocks", false, false);
  ExpectMethod(peer, "GetBlock", false, false);
  ExpectMethod(peer, "GetSyncInfo", false, false);
}

// The example in README.md is the one operators copy: it must parse as it stands.
std::string ReadmeGenesisExample() {
  std::ifstream in(REEL_PROTO_README);
  EXPECT_TRUE(in.good()) << REEL_PROTO_README;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const std::string open = "```json\n";
  const size_t start = text.find(open);
  EXPECT_NE(start, std::string::npos) << "no ```json block in README.md";
  if (start == std::string::npos) return "";
  const size_t end = text.find("\n```", start + open.size());
  EXPECT_NE(end, std::string::npos);
  return text.substr(start + open.size(), end - start - open.size());
}

TEST(ProtoGenesis, ReadmeExampleParses) {
  reel::v1::Genesis genesis;
  google::protobuf::util::JsonParseOptions strict;  // unknown fields are errors
  const auto status =
      google::protobuf::util::JsonStringToMessage(ReadmeGenesisExample(), &genesis, strict);
  ASSERT_OK(status);
  EXPECT_FALSE(genesis.chain_id().empty());
  EXPECT_GT(genesis.genesis_time_ms(), 0u);
  ASSERT_EQ(genesis.validators_size(), 4);
  for (const auto& validator : genesis.validators()) {
    EXPECT_EQ(validator.public_key().size(), 32u) << validator.name();
  }
  bool has_regulator = false;
  for (const auto& org : genesis.orgs()) {
    for (int role : org.roles()) has_regulator |= role == reel::v1::ROLE_REGULATOR;
    for (const auto& key : org.signatory_keys()) EXPECT_EQ(key.size(), 32u) << org.org_id();
  }
  EXPECT_TRUE(has_regulator);
}

void ExpectJsonRoundTrip(const reel::v1::Genesis& original) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;  // genesis.json uses the .proto field names
  ASSERT_OK(google::protobuf::util::MessageToJsonString(original, &json, print));
  reel::v1::Genesis parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  ASSERT_OK(status) << status.ToString() << "\n" << json;
  std::string differences;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(original, parsed)) << differences;
}

TEST(ProtoGenesis, JsonRoundTripOfTheExample) {
  reel::v1::Genesis genesis;
  ASSERT_OK(google::protobuf::util::JsonStringToMessage(ReadmeGenesisExample(), &genesis));
  ExpectJsonRoundTrip(genesis);
}

TEST(ProtoGenesis, JsonRoundTripWithEveryFieldSet) {
  reel::v1::Genesis genesis;
  Filler filler;
  filler.Fill(&genesis, 0);
  ExpectFullyFilled(genesis, 0);
  ExpectJsonRoundTrip(genesis);
}

}  // namespace
