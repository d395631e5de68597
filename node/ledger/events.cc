#include "node/ledger/events.h"

#include <algorithm>

#include "node/ledger/state.h"

namespace reel::ledger {
namespace {

void AddLots(v1::Event* e, const google::protobuf::RepeatedPtrField<std::string>& ids) {
  for (const std::string& id : ids) e->add_lot_ids(id);
}

// Lots and parties of a transfer, from the offer as the block left it.
void FromOffer(v1::Event* e, const std::string& offer_id, const Overlay& after) {
  e->set_offer_id(offer_id);
  std::optional<std::string> bytes = after.Get(layout::OfferKey(offer_id));
  if (!bytes.has_value()) return;
  std::optional<v1::TransferOfferRecord> offer(std::in_place);
  ParseOrThrow(*bytes, &*offer, layout::OfferKey(offer_id));
  AddLots(e, offer->lot_ids());
  for (const std::string* org : {&offer->from_org_id(), &offer->to_org_id()}) {
    if (*org != e->signer_org_id()) e->add_org_ids(*org);
  }
}

void FillCustody(v1::Event* e, const v1::TxBody& b, const Overlay& after) {
  using B = v1::TxBody;
  switch (b.action_case()) {
    case B::kExtract:
      e->add_lot_ids(b.extract().lot_id());
      e->set_site_id(b.extract().site_id());
      break;
    case B::kImportLot:
      e->add_lot_ids(b.import_lot().lot_id());
      e->set_site_id(b.import_lot().site_id());
      break;
    case B::kProcess:
      AddLots(e, b.process().input_lot_ids());
      for (const v1::LotOutput& o : b.process().outputs()) e->add_lot_ids(o.lot_id());
      e->set_site_id(b.process().site_id());
      break;
    case B::kSplit:
      e->add_lot_ids(b.split().lot_id());
      for (const v1::SplitPart& p : b.split().parts()) e->add_lot_ids(p.lot_id());
      break;
    case B::kMerge:
      AddLots(e, b.merge().input_lot_ids());
      e->add_lot_ids(b.merge().output_lot_id());
      e->set_site_id(b.merge().site_id());
      break;
    case B::kTransferOffer:
      AddLots(e, b.transfer_offer().lot_ids());
      e->add_org_ids(b.transfer_offer().to_org_id());
      e->set_offer_id(b.transfer_offer().offer_id());
      break;
    case B::kTransferAccept:
      FromOffer(e, b.transfer_accept().offer_id(), after);
      break;
    case B::kTransferReject:
      FromOffer(e, b.transfer_reject().offer_id(), after);
      break;
    case B::kTransferCancel:
      FromOffer(e, b.transfer_cancel().offer_id(), after);
      break;
    default:
      break;
  }
}

void FillOthers(v1::Event* e, const v1::TxBody& b, const v1::TxResult& r) {
  using B = v1::TxBody;
  switch (b.action_case()) {
    case B::kRegisterOrg:
      e->add_org_ids(b.register_org().org_id());
      break;
    case B::kUpdateOrg:
      e->add_org_ids(b.update_org().org_id());
      break;
    case B::kRegisterSite:
      e->add_org_ids(b.register_site().org_id());
      e->set_site_id(b.register_site().site_id());
      break;
    case B::kSetQuota:
      e->add_org_ids(b.set_quota().org_id());
      break;
    case B::kApplyExportLicense:
      e->add_licence_ids(b.apply_export_license().licence_id());
      break;
    case B::kDecideExportLicense:
      e->add_licence_ids(b.decide_export_license().licence_id());
      break;
    case B::kSetExportRestriction:
      e->add_restriction_ids(b.set_export_restriction().restriction_id());
      for (const std::string& id : r.revoked_licence_ids()) e->add_licence_ids(id);
      break;
    case B::kLiftExportRestriction:
      e->add_restriction_ids(b.lift_export_restriction().restriction_id());
      break;
    case B::kClearExport:
      e->add_licence_ids(b.clear_export().licence_id());
      AddLots(e, b.clear_export().lot_ids());
      break;
    case B::kRecordViolation:
      e->add_org_ids(b.record_violation().org_id());
      AddLots(e, b.record_violation().seize_lot_ids());
      e->set_violation_id(b.record_violation().violation_id());
      break;
    case B::kReinstate:
      e->add_org_ids(b.reinstate().org_id());
      break;
    default:
      break;
  }
  for (const std::string& id : r.restriction_ids()) {
    if (std::find(e->restriction_ids().begin(), e->restriction_ids().end(), id) ==
        e->restriction_ids().end()) {
      e->add_restriction_ids(id);
    }
  }
}

}  // namespace

v1::Event MakeEvent(const BlockContext& block, uint32_t index, const VerifiedTx& tx,
                    const v1::TxResult& result, const Overlay& after) {
  v1::Event e;
  e.set_height(block.height);
  e.set_tx_index(index);
  e.set_tx_id(std::string(crypto::AsBytes(tx.id)));
  e.set_time_ms(block.time_ms);
  e.set_kind(static_cast<v1::TxKind>(tx.body.action_case()));
  e.set_code(result.code());
  e.set_signer_org_id(tx.body.org_id());
  FillCustody(&e, tx.body, after);
  FillOthers(&e, tx.body, result);
  return e;
}

}  // namespace reel::ledger
