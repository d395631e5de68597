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
Refusal FormRegisterOrg(const v1::RegisterOrg& register_org);
Refusal ApplyRegisterOrg(TxContext& ctx, const v1::RegisterOrg& register_org);
void EventRegisterOrg(const v1::RegisterOrg& register_org, const TxOutcome& outcome, v1::Event* e);
Refusal FormUpdateOrg(const v1::UpdateOrg& update_org);
Refusal ApplyUpdateOrg(TxContext& ctx, const v1::UpdateOrg& update_org);
void EventUpdateOrg(const v1::UpdateOrg& update_org, const TxOutcome& outcome, v1::Event* e);
Refusal FormRegisterSite(const v1::RegisterSite& register_site);
Refusal ApplyRegisterSite(TxContext& ctx, const v1::RegisterSite& register_site);
void EventRegisterSite(const v1::RegisterSite& register_site, const TxOutcome& outcome,
                       v1::Event* e);
Refusal FormSetQuota(const v1::SetQuota& set_quota);
Refusal ApplySetQuota(TxContext& ctx, const v1::SetQuota& set_quota);
void EventSetQuota(const v1::SetQuota& set_quota, const TxOutcome& outcome, v1::Event* e);
Refusal FormRotateKeys(const v1::RotateKeys& rotate_keys);
Refusal ApplyRotateKeys(TxContext& ctx, const v1::RotateKeys& rotate_keys);
void EventRotateKeys(const v1::RotateKeys& rotate_keys, const TxOutcome& outcome, v1::Event* e);

// --- Custody (exec_custody.cc) ----------------------------------------------------------
Refusal FormExtract(const v1::Extract& extract);
Refusal ApplyExtract(TxContext& ctx, const v1::Extract& extract);
void EventExtract(const v1::Extract& extract, const TxOutcome& outcome, v1::Event* e);
Refusal FormImport(const v1::Import& import);
Refusal ApplyImport(TxContext& ctx, const v1::Import& import);
void EventImport(const v1::Import& import, const TxOutcome& outcome, v1::Event* e);
Refusal FormProcess(const v1::Process& process);
Refusal ApplyProcess(TxContext& ctx, const v1::Process& process);
void EventProcess(const v1::Process& process, const TxOutcome& outcome, v1::Event* e);
// The role a Process needs: that of its highest output form.
v1::Role ProcessRole(const v1::Process& process);
Refusal FormSplit(const v1::Split& split);
Refusal ApplySplit(TxContext& ctx, const v1::Split& split);
void EventSplit(const v1::Split& split, const TxOutcome& outcome, v1::Event* e);
Refusal FormMerge(const v1::Merge& merge);
Refusal ApplyMerge(TxContext& ctx, const v1::Merge& merge);
void EventMerge(const v1::Merge& merge, const TxOutcome& outcome, v1::Event* e);
Refusal FormTransferOffer(const v1::TransferOffer& transfer_offer);
Refusal ApplyTransferOffer(TxContext& ctx, const v1::TransferOffer& transfer_offer);
void EventTransferOffer(const v1::TransferOffer& transfer_offer, const TxOutcome& outcome,
                        v1::Event* e);
Refusal FormTransferAccept(const v1::TransferAccept& transfer_accept);
Refusal ApplyTransferAccept(TxContext& ctx, const v1::TransferAccept& transfer_accept);
void EventTransferAccept(const v1::TransferAccept& transfer_accept, const TxOutcome& outcome,
                         v1::Event* e);
Refusal FormTransferReject(const v1::TransferReject& transfer_reject);
Refusal ApplyTransferReject(TxContext& ctx, const v1::TransferReject& transfer_reject);
void EventTransferReject(const v1::TransferReject& transfer_reject, const TxOutcome& outcome,
                         v1::Event* e);
Refusal FormTransferCancel(const v1::TransferCancel& transfer_cancel);
Refusal ApplyTransferCancel(TxContext& ctx, const v1::TransferCancel& transfer_cancel);
void EventTransferCancel(const v1::TransferCancel& transfer_cancel, const TxOutcome& outcome,
                         v1::Event* e);

// --- Export (exec_export.cc) ------------------------------------------------------------
Refusal FormApplyExportLicense(const v1::ApplyExportLicense& apply_export_license);
Refusal ApplyApplyExportLicense(TxContext& ctx, const v1::ApplyExportLicense& apply_export_license);
void EventApplyExportLicense(const v1::ApplyExportLicense& apply_export_license,
                             const TxOutcome& outcome, v1::Event* e);
Refusal FormDecideExportLicense(const v1::DecideExportLicense& decide_export_license);
Refusal ApplyDecideExportLicense(TxContext& ctx,
                                 const v1::DecideExportLicense& decide_export_license);
void EventDecideExportLicense(const v1::DecideExportLicense& decide_export_license,
                              const TxOutcome& outcome, v1::Event* e);
Refusal FormSetExportRestriction(const v1::SetExportRestriction& set_export_restriction);
Refusal ApplySetExportRestriction(TxContext& ctx,
                                  const v1::SetExportRestriction& set_export_restriction);
void EventSetExportRestriction(const v1::SetExportRestriction& set_export_restriction,
                               const TxOutcome& outcome, v1::Event* e);
Refusal FormLiftExportRestriction(const v1::LiftExportRestriction& lift_export_restriction);
Refusal ApplyLiftExportRestriction(TxContext& ctx,
                                   const v1::LiftExportRestriction& lift_export_restriction);
void EventLiftExportRestriction(const v1::LiftExportRestriction& lift_export_restriction,
                                const TxOutcome& outcome, v1::Event* e);
Refusal FormClearExport(const v1::ClearExport& clear_export);
Refusal ApplyClearExport(TxContext& ctx, const v1::ClearExport& clear_export);
void EventClearExport(const v1::ClearExport& clear_export, const TxOutcome& outcome, v1::Event* e);
// The in-force restrictions at `time_ms` that match `terms`, split by effect, sorted.
void MatchingInForce(const State& state, const LicenceTerms& terms, uint64_t time_ms,
                     std::vector<std::string>* deny_ids, std::vector<std::string>* review_ids);

// --- Enforcement (exec_enforcement.cc) ----------------------------------------------------
Refusal FormRecordViolation(const v1::RecordViolation& record_violation);
Refusal ApplyRecordViolation(TxContext& ctx, const v1::RecordViolation& record_violation);
void EventRecordViolation(const v1::RecordViolation& record_violation, const TxOutcome& outcome,
                          v1::Event* e);
Refusal FormReinstate(const v1::Reinstate& reinstate);
Refusal ApplyReinstate(TxContext& ctx, const v1::Reinstate& reinstate);
void EventReinstate(const v1::Reinstate& reinstate, const TxOutcome& outcome, v1::Event* e);

// --- Validators (exec_validators.cc) -------------------------------------------------------
Refusal FormProposeValidatorChange(const v1::ProposeValidatorChange& propose_validator_change);
Refusal ApplyProposeValidatorChange(TxContext& ctx,
                                    const v1::ProposeValidatorChange& propose_validator_change);
void EventProposeValidatorChange(const v1::ProposeValidatorChange& propose_validator_change,
                                 const TxOutcome& outcome, v1::Event* e);
Refusal FormApproveValidatorChange(const v1::ApproveValidatorChange& approve_validator_change);
Refusal ApplyApproveValidatorChange(TxContext& ctx,
                                    const v1::ApproveValidatorChange& approve_validator_change);
void EventApproveValidatorChange(const v1::ApproveValidatorChange& approve_validator_change,
                                 const TxOutcome& outcome, v1::Event* e);
Refusal FormWithdrawValidatorChange(const v1::WithdrawValidatorChange& withdraw_validator_change);
Refusal ApplyWithdrawValidatorChange(TxContext& ctx,
                                     const v1::WithdrawValidatorChange& withdraw_validator_change);
void EventWithdrawValidatorChange(const v1::WithdrawValidatorChange& withdraw_validator_change,
                                  const TxOutcome& outcome, v1::Event* e);
// Genesis: the governance of the validator set and the validators of epoch 0.
void PutGenesisValidators(const v1::Genesis& genesis, State& state);
// At the end of a block, after its transactions: if any approved a validator change, the
// next set becomes current, as epoch current + 1 starting at `height` (validators.h).
void BeginApprovedEpoch(State& state, uint64_t height);

}  // namespace reel::ledger
