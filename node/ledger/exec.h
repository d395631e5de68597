// Private to node/ledger: what one transaction's execution sees, and the per-kind
// functions that the table of kinds (tx_kinds.cc) binds to their case of TxBody.action.
// Each kind has
// - a Form function: the rules that need no state, also run by Check;
// - an Apply function: the rules against state, and the writes. It runs only after Form
//   accepted, on the transaction's own overlay: whatever it wrote is dropped if it refuses;
// - an Event function: the ids its Event carries (events.h), from the action, the result
//   and the block's state after it; it runs for refused transactions too.
#pragma once

#include <cstdint>
#include <string>

#include "node/ledger/ledger.h"
#include "node/ledger/rules.h"
#include "node/ledger/state.h"
#include "reel/v1/api.pb.h"

namespace reel::ledger {

struct TxContext {
  const BlockContext& block;
  uint32_t index = 0;  // position in the block
  std::string id;      // the 32 id bytes
  const v1::TxBody& body;
  const v1::Org* signer;  // null while applying genesis: the chain itself acts
  State& state;
  v1::TxResult& result;

  const std::string& signer_id() const;
  uint32_t year() const;  // quota year of the block (UTC+8)
};

// What an Event function reads besides its action.
struct TxOutcome {
  const v1::TxResult& result;
  const Overlay& after;  // the block's state after the transaction
};

// --- Shared helpers (ledger.cc) ------------------------------------------------------
// An event of `lot` by this transaction with its when/who/what filled in.
v1::LotEvent NewEvent(const TxContext& ctx, const v1::Lot& lot, v1::BizStep step,
                      v1::EpcisEventType type, v1::EpcisAction action);
// A new ACTIVE lot held by the signer, created by this transaction.
v1::Lot NewLot(const TxContext& ctx, std::string_view lot_id, v1::ProductForm product,
               int64_t mass_g, const v1::Composition& composition, int64_t reo_g,
               std::string_view site_id);
// Refuses LOT_EXISTS if the id is taken (lot ids are unique forever).
Refusal CheckLotIdFree(const TxContext& ctx, std::string_view lot_id);
// Loads a lot that must exist, be ACTIVE and be held by the signer.
Refusal LoadOwnActiveLot(const TxContext& ctx, std::string_view lot_id, v1::Lot* lot);
// Charges `grams` to the organisation's quota of the block's year.
Refusal ChargeQuota(TxContext& ctx, std::string_view org_id, v1::QuotaCategory category,
                    int64_t grams);
// Records a flow of `org` made of `lots` (their mass and REO summed) in the flow
// indexes; the entry's other fields come from `entry` (counterparty, country, ...).
void RecordFlow(TxContext& ctx, std::string_view org_id, Flow flow,
                const std::vector<const v1::Lot*>& lots, v1::FlowEntry entry = {});
// Lists of ids: bounded, valid, distinct.
Refusal CheckIdList(const google::protobuf::RepeatedPtrField<std::string>& ids,
                    std::string_view what, size_t min_count, v1::ErrorCode too_few_code);
// Appends `ids` to the event's lot ids (for the Event functions).
void AddLotIds(const google::protobuf::RepeatedPtrField<std::string>& ids, v1::Event* e);

// --- Governance (exec_governance.cc) ---------------------------------------------------
Refusal FormRegisterOrg(const v1::RegisterOrg& a);
Refusal ApplyRegisterOrg(TxContext& ctx, const v1::RegisterOrg& a);
void EventRegisterOrg(const v1::RegisterOrg& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormUpdateOrg(const v1::UpdateOrg& a);
Refusal ApplyUpdateOrg(TxContext& ctx, const v1::UpdateOrg& a);
void EventUpdateOrg(const v1::UpdateOrg& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormRegisterSite(const v1::RegisterSite& a);
Refusal ApplyRegisterSite(TxContext& ctx, const v1::RegisterSite& a);
void EventRegisterSite(const v1::RegisterSite& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormSetQuota(const v1::SetQuota& a);
Refusal ApplySetQuota(TxContext& ctx, const v1::SetQuota& a);
void EventSetQuota(const v1::SetQuota& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormRotateKeys(const v1::RotateKeys& a);
Refusal ApplyRotateKeys(TxContext& ctx, const v1::RotateKeys& a);
void EventRotateKeys(const v1::RotateKeys& a, const TxOutcome& outcome, v1::Event* e);

// --- Custody (exec_custody.cc) ----------------------------------------------------------
Refusal FormExtract(const v1::Extract& a);
Refusal ApplyExtract(TxContext& ctx, const v1::Extract& a);
void EventExtract(const v1::Extract& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormImport(const v1::Import& a);
Refusal ApplyImport(TxContext& ctx, const v1::Import& a);
void EventImport(const v1::Import& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormProcess(const v1::Process& a);
Refusal ApplyProcess(TxContext& ctx, const v1::Process& a);
void EventProcess(const v1::Process& a, const TxOutcome& outcome, v1::Event* e);
// The role a Process needs: that of its highest output form.
v1::Role ProcessRole(const v1::Process& a);
Refusal FormSplit(const v1::Split& a);
Refusal ApplySplit(TxContext& ctx, const v1::Split& a);
void EventSplit(const v1::Split& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormMerge(const v1::Merge& a);
Refusal ApplyMerge(TxContext& ctx, const v1::Merge& a);
void EventMerge(const v1::Merge& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormTransferOffer(const v1::TransferOffer& a);
Refusal ApplyTransferOffer(TxContext& ctx, const v1::TransferOffer& a);
void EventTransferOffer(const v1::TransferOffer& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormTransferAccept(const v1::TransferAccept& a);
Refusal ApplyTransferAccept(TxContext& ctx, const v1::TransferAccept& a);
void EventTransferAccept(const v1::TransferAccept& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormTransferReject(const v1::TransferReject& a);
Refusal ApplyTransferReject(TxContext& ctx, const v1::TransferReject& a);
void EventTransferReject(const v1::TransferReject& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormTransferCancel(const v1::TransferCancel& a);
Refusal ApplyTransferCancel(TxContext& ctx, const v1::TransferCancel& a);
void EventTransferCancel(const v1::TransferCancel& a, const TxOutcome& outcome, v1::Event* e);

// --- Export (exec_export.cc) ------------------------------------------------------------
Refusal FormApplyExportLicense(const v1::ApplyExportLicense& a);
Refusal ApplyApplyExportLicense(TxContext& ctx, const v1::ApplyExportLicense& a);
void EventApplyExportLicense(const v1::ApplyExportLicense& a, const TxOutcome& outcome,
                             v1::Event* e);
Refusal FormDecideExportLicense(const v1::DecideExportLicense& a);
Refusal ApplyDecideExportLicense(TxContext& ctx, const v1::DecideExportLicense& a);
void EventDecideExportLicense(const v1::DecideExportLicense& a, const TxOutcome& outcome,
                              v1::Event* e);
Refusal FormSetExportRestriction(const v1::SetExportRestriction& a);
Refusal ApplySetExportRestriction(TxContext& ctx, const v1::SetExportRestriction& a);
void EventSetExportRestriction(const v1::SetExportRestriction& a, const TxOutcome& outcome,
                               v1::Event* e);
Refusal FormLiftExportRestriction(const v1::LiftExportRestriction& a);
Refusal ApplyLiftExportRestriction(TxContext& ctx, const v1::LiftExportRestriction& a);
void EventLiftExportRestriction(const v1::LiftExportRestriction& a, const TxOutcome& outcome,
                                v1::Event* e);
Refusal FormClearExport(const v1::ClearExport& a);
Refusal ApplyClearExport(TxContext& ctx, const v1::ClearExport& a);
void EventClearExport(const v1::ClearExport& a, const TxOutcome& outcome, v1::Event* e);
// The in-force restrictions at `time_ms` that match `terms`, split by effect, sorted.
void MatchingInForce(const State& state, const LicenceTerms& terms, uint64_t time_ms,
                     std::vector<std::string>* deny_ids, std::vector<std::string>* review_ids);

// --- Enforcement (exec_enforcement.cc) ----------------------------------------------------
Refusal FormRecordViolation(const v1::RecordViolation& a);
Refusal ApplyRecordViolation(TxContext& ctx, const v1::RecordViolation& a);
void EventRecordViolation(const v1::RecordViolation& a, const TxOutcome& outcome, v1::Event* e);
Refusal FormReinstate(const v1::Reinstate& a);
Refusal ApplyReinstate(TxContext& ctx, const v1::Reinstate& a);
void EventReinstate(const v1::Reinstate& a, const TxOutcome& outcome, v1::Event* e);

// --- Validators (exec_validators.cc) -------------------------------------------------------
Refusal FormProposeValidatorChange(const v1::ProposeValidatorChange& a);
Refusal ApplyProposeValidatorChange(TxContext& ctx, const v1::ProposeValidatorChange& a);
void EventProposeValidatorChange(const v1::ProposeValidatorChange& a, const TxOutcome& outcome,
                                 v1::Event* e);
Refusal FormApproveValidatorChange(const v1::ApproveValidatorChange& a);
Refusal ApplyApproveValidatorChange(TxContext& ctx, const v1::ApproveValidatorChange& a);
void EventApproveValidatorChange(const v1::ApproveValidatorChange& a, const TxOutcome& outcome,
                                 v1::Event* e);
Refusal FormWithdrawValidatorChange(const v1::WithdrawValidatorChange& a);
Refusal ApplyWithdrawValidatorChange(TxContext& ctx, const v1::WithdrawValidatorChange& a);
void EventWithdrawValidatorChange(const v1::WithdrawValidatorChange& a, const TxOutcome& outcome,
                                  v1::Event* e);
// Genesis: the governance of the validator set and the validators of epoch 0.
void PutGenesisValidators(const v1::Genesis& genesis, State& state);
// At the end of a block, after its transactions: if any approved a validator change, the
// next set becomes current, as epoch current + 1 starting at `height` (validators.h).
void BeginApprovedEpoch(State& state, uint64_t height);

}  // namespace reel::ledger
