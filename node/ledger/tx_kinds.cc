// The table itself: one entry per transaction kind, in the order of TxBody.action.
#include "node/ledger/tx_kinds.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

#include "node/ledger/exec.h"

namespace reel::ledger {
namespace {

using B = v1::TxBody;

// The action message that `Get`, a TxBody accessor such as &TxBody::extract, returns.
template <auto Get>
using ActionOf = std::remove_cvref_t<decltype((std::declval<const B&>().*Get)())>;

// An entry whose functions take the body, made from the kind's own functions, which take
// its action message: `Get` reads that message from the body. The entry's `message` comes
// from `Get` too, so the tests can tell an accessor that does not match its case.
template <auto Get, auto Form, auto Apply, auto Event>
constexpr TxKindEntry Kind(B::ActionCase action, SignerRole signer, CliDoc cli) {
  return {
      .action = action,
      .message = &ActionOf<Get>::descriptor,
      .signer = signer,
      .form = [](const B& b) { return Form((b.*Get)()); },
      .apply = [](TxContext& ctx, const B& b) { return Apply(ctx, (b.*Get)()); },
      .event = [](const B& b, const TxOutcome& outcome,
                  v1::Event* e) { Event((b.*Get)(), outcome, e); },
      .cli = cli,
  };
}

constexpr SignerRole NoRole() {
  return {.rule = SignerRole::Rule::kNone};
}
constexpr SignerRole Needs(v1::Role role) {
  return {.rule = SignerRole::Rule::kRole, .role = role};
}
constexpr SignerRole AnyCustodyRole() {
  return {.rule = SignerRole::Rule::kAnyCustody};
}
// The role `RoleOf` reads from the action that `Get` returns.
template <auto Get, auto RoleOf>
constexpr SignerRole RoleBy() {
  return {.rule = SignerRole::Rule::kByBody, .of = [](const B& b) { return RoleOf((b.*Get)()); }};
}

constexpr TxKindEntry kTxKinds[] = {
    // --- Governance (exec_governance.cc) ---------------------------------------------------
    Kind<&B::register_org, FormRegisterOrg, ApplyRegisterOrg, EventRegisterOrg>(
        B::kRegisterOrg, Needs(v1::ROLE_REGULATOR),
        {.summary = "register an organisation with its keys and quorum",
         .required = "org_id name kind roles signatory_keys quorum"}),
    Kind<&B::update_org, FormUpdateOrg, ApplyUpdateOrg, EventUpdateOrg>(
        B::kUpdateOrg, Needs(v1::ROLE_REGULATOR),
        {.summary = "change an organisation's name, status or roles", .required = "org_id"}),
    Kind<&B::register_site, FormRegisterSite, ApplyRegisterSite, EventRegisterSite>(
        B::kRegisterSite, Needs(v1::ROLE_REGULATOR),
        {.summary = "register a mine or plant of an organisation",
         .required = "site_id org_id name kind"}),
    Kind<&B::set_quota, FormSetQuota, ApplySetQuota, EventSetQuota>(
        B::kSetQuota, Needs(v1::ROLE_REGULATOR),
        {.summary = "set a quota for a year and category",
         .required = "org_id year category amount_g"}),
    Kind<&B::rotate_keys, FormRotateKeys, ApplyRotateKeys, EventRotateKeys>(
        B::kRotateKeys, NoRole(),
        {.summary = "Replace the signer's own keys and quorum",
         .required = "signatory_keys quorum"}),

    // --- Custody (exec_custody.cc) ---------------------------------------------------------
    Kind<&B::extract, FormExtract, ApplyExtract, EventExtract>(
        B::kExtract, Needs(v1::ROLE_MINER),
        {.summary = "extract a lot at an own mine (uses mining quota)",
         .required = "site_id lot_id product mass_g composition"}),
    Kind<&B::import_lot, FormImport, ApplyImport, EventImport>(
        B::kImportLot, Needs(v1::ROLE_SMELTER_SEPARATOR),
        {.summary = "bring imported material into the ledger",
         .required = "lot_id product mass_g composition origin_country supplier "
                     "customs_declaration",
         .alias = "import"}),
    Kind<&B::process, FormProcess, ApplyProcess, EventProcess>(
        B::kProcess, RoleBy<&B::process, ProcessRole>(),
        {.summary = "Consume input lots and make output lots (loss recorded)",
         .required = "input_lot_ids outputs"}),
    Kind<&B::split, FormSplit, ApplySplit, EventSplit>(
        B::kSplit, AnyCustodyRole(),
        {.summary = "Divide a lot into parts of the same form", .required = "lot_id parts"}),
    Kind<&B::merge, FormMerge, ApplyMerge, EventMerge>(
        B::kMerge, AnyCustodyRole(),
        {.summary = "Combine lots of one form into one lot",
         .required = "input_lot_ids output_lot_id"}),
    Kind<&B::transfer_offer, FormTransferOffer, ApplyTransferOffer, EventTransferOffer>(
        B::kTransferOffer, AnyCustodyRole(),
        {.summary = "Offer lots to another organisation (they go IN_TRANSIT)",
         .required = "offer_id lot_ids to_org_id"}),
    Kind<&B::transfer_accept, FormTransferAccept, ApplyTransferAccept, EventTransferAccept>(
        B::kTransferAccept, AnyCustodyRole(),
        {.summary = "Recipient: accept an offer; custody moves", .required = "offer_id"}),
    Kind<&B::transfer_reject, FormTransferReject, ApplyTransferReject, EventTransferReject>(
        B::kTransferReject, NoRole(),
        {.summary = "Recipient: refuse an offer; the lots go back", .required = "offer_id"}),
    Kind<&B::transfer_cancel, FormTransferCancel, ApplyTransferCancel, EventTransferCancel>(
        B::kTransferCancel, NoRole(),
        {.summary = "Sender: withdraw an open offer", .required = "offer_id"}),

    // --- Export (exec_export.cc) -----------------------------------------------------------
    Kind<&B::apply_export_license, FormApplyExportLicense, ApplyApplyExportLicense,
         EventApplyExportLicense>(
        B::kApplyExportLicense, Needs(v1::ROLE_EXPORTER),
        {.summary = "apply for an export licence",
         .required = "licence_id destination_country consignee end_user industry product "
                     "elements mass_g"}),
    Kind<&B::decide_export_license, FormDecideExportLicense, ApplyDecideExportLicense,
         EventDecideExportLicense>(
        B::kDecideExportLicense, Needs(v1::ROLE_EXPORT_AUTHORITY),
        {.summary = "grant or deny a pending licence", .required = "licence_id decision"}),
    Kind<&B::set_export_restriction, FormSetExportRestriction, ApplySetExportRestriction,
         EventSetExportRestriction>(
        B::kSetExportRestriction, Needs(v1::ROLE_EXPORT_AUTHORITY),
        {.summary = "set an export restriction", .required = "restriction_id effect"}),
    Kind<&B::lift_export_restriction, FormLiftExportRestriction, ApplyLiftExportRestriction,
         EventLiftExportRestriction>(
        B::kLiftExportRestriction, Needs(v1::ROLE_EXPORT_AUTHORITY),
        {.summary = "lift a restriction", .required = "restriction_id"}),
    Kind<&B::clear_export, FormClearExport, ApplyClearExport, EventClearExport>(
        B::kClearExport, Needs(v1::ROLE_CUSTOMS),
        {.summary = "clear lots at the border against a licence",
         .required = "licence_id lot_ids"}),

    // --- Enforcement (exec_enforcement.cc) -------------------------------------------------
    Kind<&B::record_violation, FormRecordViolation, ApplyRecordViolation, EventRecordViolation>(
        B::kRecordViolation, Needs(v1::ROLE_REGULATOR),
        {.summary = "record a violation, fine, seizures, suspension",
         .required = "violation_id org_id kind"}),
    Kind<&B::reinstate, FormReinstate, ApplyReinstate, EventReinstate>(
        B::kReinstate, Needs(v1::ROLE_REGULATOR),
        {.summary = "end an organisation's suspension", .required = "org_id"}),

    // --- Validators (exec_validators.cc): the signer must be a governing organisation -------
    Kind<&B::propose_validator_change, FormProposeValidatorChange, ApplyProposeValidatorChange,
         EventProposeValidatorChange>(
        B::kProposeValidatorChange, NoRole(),
        {.summary = "Governing org: propose adding, removing or re-keying a validator, or "
                    "new consensus timings (counts as its approval)",
         .required = "change_id"}),
    Kind<&B::approve_validator_change, FormApproveValidatorChange, ApplyApproveValidatorChange,
         EventApproveValidatorChange>(
        B::kApproveValidatorChange, NoRole(),
        {.summary = "Governing org: approve a pending validator change", .required = "change_id"}),
    Kind<&B::withdraw_validator_change, FormWithdrawValidatorChange, ApplyWithdrawValidatorChange,
         EventWithdrawValidatorChange>(
        B::kWithdrawValidatorChange, NoRole(),
        {.summary = "Proposer: withdraw its pending validator change", .required = "change_id"}),
};

// --- Lookup by case, built at compile time ------------------------------------------------

constexpr int kCaseMax = [] {
  int max = 0;
  for (const TxKindEntry& kind : kTxKinds) max = std::max(max, static_cast<int>(kind.action));
  return max;
}();

constexpr bool CasesAreSetAndDistinct() {
  std::array<bool, kCaseMax + 1> seen{};
  for (const TxKindEntry& kind : kTxKinds) {
    if (kind.action == B::ACTION_NOT_SET || seen[kind.action]) return false;
    seen[kind.action] = true;
  }
  return true;
}
static_assert(CasesAreSetAndDistinct(), "each entry needs its own case of TxBody.action");
static_assert(std::size(kTxKinds) < 128, "the index below holds positions in an int8_t");

// The position in kTxKinds of each case; -1 where the table has none.
constexpr std::array<int8_t, kCaseMax + 1> kPositionOfCase = [] {
  std::array<int8_t, kCaseMax + 1> position{};
  position.fill(-1);
  for (size_t i = 0; i < std::size(kTxKinds); ++i) {
    position[kTxKinds[i].action] = static_cast<int8_t>(i);
  }
  return position;
}();

}  // namespace

std::span<const TxKindEntry> TxKinds() {
  return kTxKinds;
}

const TxKindEntry* FindTxKind(v1::TxBody::ActionCase action) {
  if (action <= 0 || action > kCaseMax) return nullptr;
  const int8_t position = kPositionOfCase[action];
  return position < 0 ? nullptr : &kTxKinds[position];
}

Refusal CheckRole(const v1::Org& signer, const v1::TxBody& body, const TxKindEntry& kind) {
  using Rule = SignerRole::Rule;
  const std::string& name = v1::TxKind_Name(static_cast<v1::TxKind>(body.action_case()));
  if (kind.signer.rule == Rule::kNone) return Accept();
  if (kind.signer.rule == Rule::kAnyCustody) {
    if (HasCustodyRole(signer)) return Accept();
    return Refuse(v1::UNAUTHORIZED_ROLE, "'" + signer.org_id() +
                                             "' holds no custody role (MINER, "
                                             "SMELTER_SEPARATOR, PROCESSOR or EXPORTER) for " +
                                             name);
  }
  const v1::Role role = kind.signer.rule == Rule::kRole ? kind.signer.role : kind.signer.of(body);
  if (role == v1::ROLE_UNSPECIFIED || HasRole(signer, role)) return Accept();
  return Refuse(v1::UNAUTHORIZED_ROLE, name + " needs " + v1::Role_Name(role) + ", which '" +
                                           signer.org_id() + "' does not hold");
}

}  // namespace reel::ledger
