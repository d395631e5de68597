// The table of transaction kinds (node/ledger/tx_kinds.h) against tx.proto and
// docs/LEDGER.md. The cases are read from the protobuf descriptors, so a kind added to
// TxBody.action fails here until it has its entry, its CLI fields and its LEDGER.md
// section; nothing in this file lists the kinds.
#include "node/ledger/tx_kinds.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace reel::ledger {
namespace {

namespace pb = google::protobuf;
using Rule = SignerRole::Rule;

const pb::OneofDescriptor* Actions() {
  return v1::TxBody::descriptor()->FindOneofByName("action");
}

// "### Name" heading -> the section's text, for the sections under "## Transaction kinds".
std::map<std::string, std::string> KindSections() {
  std::ifstream file(REEL_LEDGER_MD);
  EXPECT_TRUE(file.good()) << "cannot read " << REEL_LEDGER_MD;
  std::map<std::string, std::string> sections;
  std::string line, current;
  bool inside = false;
  while (std::getline(file, line)) {
    if (line.rfind("## ", 0) == 0) {
      inside = line == "## Transaction kinds";
      current.clear();
    } else if (inside && line.rfind("### ", 0) == 0) {
      current = line.substr(4);
      sections[current];
    } else if (inside && !current.empty()) {
      sections[current] += line + "\n";
    }
  }
  return sections;
}

// How a kind's LEDGER.md section must say the role that the table gives.
std::string RoleWords(const SignerRole& role) {
  switch (role.rule) {
    case Rule::kNone:
      return "Needs no role";
    case Rule::kRole:
      return "Needs `" + v1::Role_Name(role.role).substr(5) + "`";  // without "ROLE_"
    case Rule::kAnyCustody:
      return "Needs a custody role";
    case Rule::kByBody:
      return "Needs the role of";
  }
  return "?";
}

std::string NameOf(const TxKindEntry& kind) {
  return kind.message()->name();
}

TEST(TxKindsTest, EveryActionCaseHasOneEntryInTheOrderOfTheOneof) {
  const pb::OneofDescriptor* actions = Actions();
  ASSERT_NE(actions, nullptr);
  for (int i = 0; i < actions->field_count(); ++i) {
    const pb::FieldDescriptor* field = actions->field(i);
    const auto action = static_cast<v1::TxBody::ActionCase>(field->number());
    const TxKindEntry* kind = FindTxKind(action);
    if (kind == nullptr) {
      ADD_FAILURE() << "TxBody." << field->name() << " has no entry in node/ledger/tx_kinds.cc";
      continue;
    }
    EXPECT_EQ(kind->action, action) << field->name();
    // The entry's functions read the message of its own case, not another one's.
    EXPECT_EQ(kind->message(), field->message_type()) << field->name();
    // In the oneof's order, which is the order of `reel tx --help`.
    EXPECT_EQ(kind - TxKinds().data(), i) << field->name() << " is not entry " << i;
  }
  EXPECT_EQ(TxKinds().size(), static_cast<size_t>(actions->field_count()));
  EXPECT_EQ(FindTxKind(v1::TxBody::ACTION_NOT_SET), nullptr);
}

TEST(TxKindsTest, EachEntryHasItsRulesAndARoleThatFitsItsRule) {
  for (const TxKindEntry& kind : TxKinds()) {
    SCOPED_TRACE(NameOf(kind));
    EXPECT_NE(kind.form, nullptr);
    EXPECT_NE(kind.apply, nullptr);
    EXPECT_NE(kind.event, nullptr);
    const SignerRole& role = kind.signer;
    if (role.rule == Rule::kRole) {
      EXPECT_NE(role.role, v1::ROLE_UNSPECIFIED);
      EXPECT_TRUE(v1::Role_IsValid(role.role));
    } else {
      EXPECT_EQ(role.role, v1::ROLE_UNSPECIFIED) << "a role given but not checked";
    }
    EXPECT_EQ(role.of != nullptr, role.rule == Rule::kByBody);
  }
}

// Every action has a required field, so a Form that accepts the empty action is a
// placeholder, not the kind's rules.
TEST(TxKindsTest, EachFormRefusesTheEmptyAction) {
  for (const TxKindEntry& kind : TxKinds()) {
    v1::TxBody body;
    const pb::FieldDescriptor* field = v1::TxBody::descriptor()->FindFieldByNumber(kind.action);
    ASSERT_NE(field, nullptr);
    body.GetReflection()->MutableMessage(&body, field);
    ASSERT_EQ(body.action_case(), kind.action);
    EXPECT_FALSE(kind.form(body).ok()) << NameOf(kind);
  }
}

TEST(TxKindsTest, CliDocsNameFieldsOfTheirAction) {
  std::set<std::string> subcommands;
  for (const TxKindEntry& kind : TxKinds()) {
    SCOPED_TRACE(NameOf(kind));
    const pb::FieldDescriptor* field = v1::TxBody::descriptor()->FindFieldByNumber(kind.action);
    ASSERT_NE(field, nullptr);
    EXPECT_FALSE(kind.cli.summary.empty());
    std::istringstream required{std::string(kind.cli.required)};
    for (std::string name; required >> name;) {
      EXPECT_NE(kind.message()->FindFieldByName(name), nullptr)
          << "required CLI field '" << name << "' is not a field of " << NameOf(kind);
    }
    // The subcommand is the field name in kebab case; it and the alias must be unique.
    std::string subcommand = field->name();
    std::replace(subcommand.begin(), subcommand.end(), '_', '-');
    EXPECT_TRUE(subcommands.insert(subcommand).second) << subcommand;
    if (!kind.cli.alias.empty()) {
      EXPECT_TRUE(subcommands.insert(std::string(kind.cli.alias)).second) << kind.cli.alias;
    }
  }
}

TEST(TxKindsTest, LedgerMdHasASectionForEachKindThatSaysItsRole) {
  const std::map<std::string, std::string> sections = KindSections();
  for (const TxKindEntry& kind : TxKinds()) {
    auto it = sections.find(NameOf(kind));
    if (it == sections.end()) {
      ADD_FAILURE() << "docs/LEDGER.md has no \"### " << NameOf(kind)
                    << "\" under \"## Transaction kinds\"";
      continue;
    }
    EXPECT_NE(it->second.find(RoleWords(kind.signer)), std::string::npos)
        << "the LEDGER.md section of " << NameOf(kind) << " should say \"" << RoleWords(kind.signer)
        << "\"";
  }
  EXPECT_EQ(sections.size(), TxKinds().size()) << "a section for a kind the table lacks";
}

}  // namespace
}  // namespace reel::ledger
