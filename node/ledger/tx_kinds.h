// The table of transaction kinds: one entry per case of TxBody.action (tx.proto), and in
// it everything the node and the tools need to know about that kind: the role its signer
// needs, its rules (form and apply), the ids its event carries, and what `reel tx` says
// about it. The ledger's Check and ExecuteBlock, its events, and the `reel tx` commands
// all read this table; none of them has a list of kinds of its own.
//
// Promises (tests/ledger/tx_kinds_test.cc checks them through the protobuf descriptors,
// so a kind added to tx.proto without an entry fails a test, never falls to a default):
// - every case of TxBody.action has exactly one entry, in the order of the oneof, and
//   each entry's functions read the action message of its own case;
// - each kind's CLI fields exist in its message, and docs/LEDGER.md has a section
//   "### <message name>" under "## Transaction kinds" that names its role.
//
// Adding a kind: its message and case in tx.proto (and its TxKind value), its entry in
// tx_kinds.cc, its Form, Apply and Event functions in the exec_*.cc of its area
// (declared in exec.h), its LEDGER.md section, and its tests.
//
// The table is constant, built at compile time; any thread may read it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "node/ledger/rules.h"
#include "reel/v1/api.pb.h"
#include "reel/v1/tx.pb.h"

namespace reel::ledger {

struct TxContext;  // exec.h: what one transaction's execution sees
struct TxOutcome;  // exec.h: what an event is made from besides the body

// The role a kind needs of its signer. Checked before the form of the action (docs/LEDGER.md,
// "Execution"), so a signer without it learns UNAUTHORIZED_ROLE whatever else is wrong.
struct SignerRole {
  enum class Rule : uint8_t {
    kNone,        // any ACTIVE organisation may sign it
    kRole,        // the signer must hold `role`
    kAnyCustody,  // MINER, SMELTER_SEPARATOR, PROCESSOR or EXPORTER
    kByBody,      // `of(body)`, which may be UNSPECIFIED (no role: the form refuses it)
  };
  Rule rule = Rule::kNone;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  v1::Role (*of)(const v1::TxBody& body) = nullptr;
};

// What `reel tx --help` and `reel tx ACTION --help` say about a kind. The subcommand is
// the TxBody field name in kebab case (`import_lot` -> `import-lot`).
struct CliDoc {
  // One line. For a kind that needs one role the CLI puts it in front ("REGULATOR: ...").
  std::string_view summary = {};
  // Space-separated fields of the action that the CLI will not go without; the ledger
  // checks the rest (a mine needs a deposit type, a grant a validity, ...).
  std::string_view required = {};
  // One more subcommand name, or empty.
  std::string_view alias = {};
};

struct TxKindEntry {
  v1::TxBody::ActionCase action;  // its case of TxBody.action; TxKind(action) names it
  // The descriptor of the message its functions read (the tests match it to `action`).
  const google::protobuf::Descriptor* (*message)();
  SignerRole signer;
  // The rules that need no state; Check runs them as well as ExecuteBlock.
  Refusal (*form)(const v1::TxBody& body);
  // The rules against state, and the writes; runs only after form accepted.
  Refusal (*apply)(TxContext& ctx, const v1::TxBody& body);
  // Adds to its Event (events.h) the organisations, lots, site, offer, licences,
  // restrictions and violation it touched; for a refused transaction too.
  void (*event)(const v1::TxBody& body, const TxOutcome& outcome, v1::Event* event);
  CliDoc cli;
};

// Whether `signer` holds the role `kind` needs for `body` (its SignerRole):
// UNAUTHORIZED_ROLE naming the kind and the role otherwise. What the ledger checks before
// an action's form, and what a query that answers "would this be accepted" asks too.
Refusal CheckRole(const v1::Org& signer, const v1::TxBody& body, const TxKindEntry& kind);

// Every entry, in the order of the cases of TxBody.action.
std::span<const TxKindEntry> TxKinds();

// The entry of `action`; null for ACTION_NOT_SET (and for a case without an entry, which
// the tests rule out: the ledger refuses such a transaction rather than guess).
const TxKindEntry* FindTxKind(v1::TxBody::ActionCase action);

}  // namespace reel::ledger
