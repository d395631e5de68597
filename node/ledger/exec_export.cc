// Export: licences (EXPORTER applies, EXPORT_AUTHORITY decides), restrictions
// (EXPORT_AUTHORITY) and clearing at the border (CUSTOMS).
#include <algorithm>
#include <set>

#include "base/limits.h"
#include "node/ledger/exec.h"

namespace reel::ledger {
namespace {

Refusal LoadLicence(const TxContext& ctx, const std::string& id, v1::Licence* licence) {
  std::optional<v1::Licence> found = ctx.state.GetLicence(id);
  if (!found.has_value())
    return Refuse(v1::LICENCE_NOT_FOUND, "licence '" + id + "' does not exist");
  *licence = std::move(*found);
  return Accept();
}

std::string Joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

// RESTRICTED_BY_DENY with the matching DENY restrictions in the result, if any match now.
Refusal CheckNoDeny(TxContext& ctx, const v1::Licence& licence, std::string_view doing) {
  std::vector<std::string> deny, review;
  MatchingInForce(ctx.state, TermsOf(licence), ctx.block.time_ms, &deny, &review);
  if (deny.empty()) return Accept();
  for (const std::string& id : deny) ctx.result.add_restriction_ids(id);
  return Refuse(v1::RESTRICTED_BY_DENY,
                std::string(doing) + " licence '" + licence.licence_id() +
                    "' is refused: DENY restriction(s) in force match it: " + Joined(deny));
}

// Revokes the GRANTED licences with unused mass that `a` matches, by licence id.
Refusal RevokeOutstanding(TxContext& ctx, const v1::SetExportRestriction& set_export_restriction) {
  // Ids first: the licences are rewritten in the layer being scanned.
  std::vector<std::string> granted;
  const std::string prefix = layout::IndexPrefix(layout::IndexTag::kGrantedLicence);
  ctx.state.overlay().Scan(prefix, "", [&](std::string_view key, std::string_view) {
    granted.emplace_back(key.substr(prefix.size()));
    return true;
  });
  for (const std::string& id : granted) {
    v1::Licence l;
    REEL_TRY(LoadLicence(ctx, id, &l));
    if (l.exported_mass_g() >= l.mass_g() || !Matches(set_export_restriction.match(), TermsOf(l)))
      continue;
    l.set_status(v1::LICENCE_STATUS_REVOKED);
    l.set_revoked_by_restriction_id(set_export_restriction.restriction_id());
    ctx.state.PutLicence(l);
    ctx.result.add_revoked_licence_ids(id);
  }
  return Accept();
}

}  // namespace

void MatchingInForce(const State& state, const LicenceTerms& terms, uint64_t time_ms,
                     std::vector<std::string>* deny_ids, std::vector<std::string>* review_ids) {
  state.ForEachOpenRestriction([&](const v1::Restriction& r) {
    if (!InForce(r, time_ms) || !Matches(r.match(), terms)) return;
    (r.effect() == v1::RESTRICTION_EFFECT_DENY ? deny_ids : review_ids)
        ->push_back(r.restriction_id());
  });
}

// --- ApplyExportLicense ----------------------------------------------------------------

Refusal FormApplyExportLicense(const v1::ApplyExportLicense& apply_export_license) {
  REEL_TRY(CheckObjectId(apply_export_license.licence_id(), "licence id"));
  REEL_TRY(CheckCountry(apply_export_license.destination_country(), "destination country"));
  REEL_TRY(CheckText(apply_export_license.consignee(), "consignee", true));
  REEL_TRY(CheckText(apply_export_license.end_user(), "end user", true));
  REEL_TRY(CheckText(apply_export_license.purpose(), "purpose", false));
  if (!IsKnownIndustry(apply_export_license.industry()))
    return Refuse(v1::INVALID_ENUM, "the application needs an industry");
  if (!IsKnownForm(apply_export_license.product()))
    return Refuse(v1::INVALID_ENUM, "the application needs a product form");
  if (apply_export_license.elements().empty())
    return Refuse(v1::INVALID_ENUM, "the application names no element");
  if (static_cast<size_t>(apply_export_license.elements_size()) > limits::ledger_match_items_max) {
    return Refuse(v1::TOO_MANY_ITEMS, "too many elements");
  }
  std::set<int> seen;
  for (int e : apply_export_license.elements()) {
    if (!IsKnownElement(e)) return Refuse(v1::INVALID_ENUM, "unknown element in the application");
    if (!seen.insert(e).second) return Refuse(v1::DUPLICATE_ITEM, "an element is named twice");
  }
  if (apply_export_license.mass_g() <= 0)
    return Refuse(v1::INVALID_AMOUNT, "the licence's mass_g must be positive");
  return Accept();
}

Refusal ApplyApplyExportLicense(TxContext& ctx,
                                const v1::ApplyExportLicense& apply_export_license) {
  if (ctx.state.GetLicence(apply_export_license.licence_id()).has_value()) {
    return Refuse(v1::LICENCE_EXISTS,
                  "licence '" + apply_export_license.licence_id() + "' already exists");
  }
  v1::Licence l;
  l.set_licence_id(apply_export_license.licence_id());
  l.set_applicant_org_id(ctx.signer_id());
  l.set_destination_country(apply_export_license.destination_country());
  l.set_consignee(apply_export_license.consignee());
  l.set_end_user(apply_export_license.end_user());
  l.set_industry(apply_export_license.industry());
  l.set_product(apply_export_license.product());
  *l.mutable_elements() = apply_export_license.elements();
  std::sort(l.mutable_elements()->begin(), l.mutable_elements()->end());
  l.set_mass_g(apply_export_license.mass_g());
  l.set_purpose(apply_export_license.purpose());
  l.set_applied_height(ctx.block.height);
  l.set_applied_time_ms(ctx.block.time_ms);
  std::vector<std::string> deny, review;
  MatchingInForce(ctx.state, TermsOf(l), ctx.block.time_ms, &deny, &review);
  if (!deny.empty()) {
    // Denied at once: the application is recorded, so the applicant sees why.
    l.set_status(v1::LICENCE_STATUS_DENIED);
    l.set_denied_by_restriction_id(deny.front());
    l.set_decided_height(ctx.block.height);
    l.set_decided_time_ms(ctx.block.time_ms);
    l.set_decision_reason("denied at application by restriction " + deny.front());
    // Every match is cited, DENY first: what LicenceVerdict shows for the same terms.
    for (const std::string& id : deny) ctx.result.add_restriction_ids(id);
    for (const std::string& id : review) {
      l.add_review_restriction_ids(id);
      ctx.result.add_restriction_ids(id);
    }
  } else if (!review.empty()) {
    l.set_status(v1::LICENCE_STATUS_PENDING_REVIEW);
    for (const std::string& id : review) {
      l.add_review_restriction_ids(id);
      ctx.result.add_restriction_ids(id);
    }
  } else {
    l.set_status(v1::LICENCE_STATUS_PENDING);
  }
  ctx.state.PutLicence(l);
  return Accept();
}

void EventApplyExportLicense(const v1::ApplyExportLicense& apply_export_license, const TxOutcome&,
                             v1::Event* e) {
  e->add_licence_ids(apply_export_license.licence_id());
}

// --- DecideExportLicense ----------------------------------------------------------------

Refusal FormDecideExportLicense(const v1::DecideExportLicense& decide_export_license) {
  REEL_TRY(CheckObjectId(decide_export_license.licence_id(), "licence id"));
  REEL_TRY(CheckText(decide_export_license.reason(), "reason", false));
  if (decide_export_license.decision() != v1::DECISION_GRANT &&
      decide_export_license.decision() != v1::DECISION_DENY) {
    return Refuse(v1::INVALID_ENUM, "decision must be GRANT or DENY");
  }
  if (decide_export_license.decision() == v1::DECISION_DENY &&
      decide_export_license.valid_until_ms() != 0) {
    return Refuse(v1::INVALID_VALIDITY, "a denial has no validity: valid_until_ms must be 0");
  }
  return Accept();
}

Refusal ApplyDecideExportLicense(TxContext& ctx,
                                 const v1::DecideExportLicense& decide_export_license) {
  v1::Licence l;
  REEL_TRY(LoadLicence(ctx, decide_export_license.licence_id(), &l));
  if (l.status() != v1::LICENCE_STATUS_PENDING && l.status() != v1::LICENCE_STATUS_PENDING_REVIEW) {
    return Refuse(v1::LICENCE_NOT_PENDING, "licence '" + l.licence_id() + "' is already " +
                                               v1::LicenceStatus_Name(l.status()));
  }
  if (decide_export_license.decision() == v1::DECISION_GRANT) {
    if (decide_export_license.valid_until_ms() <= ctx.block.time_ms) {
      return Refuse(v1::INVALID_VALIDITY, "a grant needs valid_until_ms after the block time " +
                                              std::to_string(ctx.block.time_ms));
    }
    REEL_TRY(CheckNoDeny(ctx, l, "granting"));
    l.set_status(v1::LICENCE_STATUS_GRANTED);
    l.set_valid_until_ms(decide_export_license.valid_until_ms());
  } else {
    l.set_status(v1::LICENCE_STATUS_DENIED);
  }
  l.set_decided_height(ctx.block.height);
  l.set_decided_time_ms(ctx.block.time_ms);
  l.set_decided_by_org_id(ctx.signer_id());
  l.set_decision_reason(decide_export_license.reason());
  ctx.state.PutLicence(l);
  return Accept();
}

void EventDecideExportLicense(const v1::DecideExportLicense& decide_export_license,
                              const TxOutcome&, v1::Event* e) {
  e->add_licence_ids(decide_export_license.licence_id());
}

// --- Restrictions -----------------------------------------------------------------------

Refusal FormSetExportRestriction(const v1::SetExportRestriction& set_export_restriction) {
  REEL_TRY(CheckObjectId(set_export_restriction.restriction_id(), "restriction id"));
  REEL_TRY(CheckMatch(set_export_restriction.match()));
  REEL_TRY(CheckText(set_export_restriction.reason(), "reason", true));
  if (set_export_restriction.effect() != v1::RESTRICTION_EFFECT_DENY &&
      set_export_restriction.effect() != v1::RESTRICTION_EFFECT_REVIEW) {
    return Refuse(v1::INVALID_ENUM, "effect must be DENY or REVIEW");
  }
  if (set_export_restriction.revoke_outstanding() &&
      set_export_restriction.effect() != v1::RESTRICTION_EFFECT_DENY) {
    return Refuse(v1::MALFORMED,
                  "revoke_outstanding needs effect DENY: a REVIEW restriction refuses nothing");
  }
  if (set_export_restriction.effective_until_ms() != 0 &&
      set_export_restriction.effective_until_ms() <= set_export_restriction.effective_from_ms()) {
    return Refuse(v1::INVALID_EFFECTIVE_PERIOD,
                  "effective_until_ms must be after effective_from_ms");
  }
  return Accept();
}

Refusal ApplySetExportRestriction(TxContext& ctx,
                                  const v1::SetExportRestriction& set_export_restriction) {
  if (ctx.state.GetRestriction(set_export_restriction.restriction_id()).has_value()) {
    return Refuse(v1::RESTRICTION_EXISTS,
                  "restriction '" + set_export_restriction.restriction_id() + "' already exists");
  }
  const uint64_t from = set_export_restriction.effective_from_ms() == 0
                            ? ctx.block.time_ms
                            : set_export_restriction.effective_from_ms();
  if (set_export_restriction.effective_until_ms() != 0 &&
      set_export_restriction.effective_until_ms() <= std::max(from, ctx.block.time_ms)) {
    return Refuse(v1::INVALID_EFFECTIVE_PERIOD, "the restriction would end before it is in force");
  }
  if (ctx.state.OpenRestrictionCount() >= limits::ledger_restrictions_open_max) {
    return Refuse(v1::TOO_MANY_ITEMS, "already " +
                                          std::to_string(limits::ledger_restrictions_open_max) +
                                          " restrictions not lifted; lift some first");
  }
  v1::Restriction r;
  r.set_restriction_id(set_export_restriction.restriction_id());
  *r.mutable_match() = set_export_restriction.match();
  r.set_effect(set_export_restriction.effect());
  r.set_reason(set_export_restriction.reason());
  r.set_revoke_outstanding(set_export_restriction.revoke_outstanding());
  r.set_effective_from_ms(from);
  r.set_effective_until_ms(set_export_restriction.effective_until_ms());
  r.set_set_by_org_id(ctx.signer_id());
  r.set_set_height(ctx.block.height);
  r.set_set_time_ms(ctx.block.time_ms);
  if (set_export_restriction.revoke_outstanding()) {
    REEL_TRY(RevokeOutstanding(ctx, set_export_restriction));
    r.set_revoked_licence_count(ctx.result.revoked_licence_ids_size());
  }
  ctx.state.PutRestriction(r);
  return Accept();
}

void EventSetExportRestriction(const v1::SetExportRestriction& set_export_restriction,
                               const TxOutcome& outcome, v1::Event* e) {
  e->add_restriction_ids(set_export_restriction.restriction_id());
  for (const std::string& id : outcome.result.revoked_licence_ids()) e->add_licence_ids(id);
}

Refusal FormLiftExportRestriction(const v1::LiftExportRestriction& lift_export_restriction) {
  REEL_TRY(CheckObjectId(lift_export_restriction.restriction_id(), "restriction id"));
  return CheckText(lift_export_restriction.reason(), "reason", false);
}

Refusal ApplyLiftExportRestriction(TxContext& ctx,
                                   const v1::LiftExportRestriction& lift_export_restriction) {
  std::optional<v1::Restriction> r =
      ctx.state.GetRestriction(lift_export_restriction.restriction_id());
  if (!r.has_value()) {
    return Refuse(v1::RESTRICTION_NOT_FOUND,
                  "restriction '" + lift_export_restriction.restriction_id() + "' does not exist");
  }
  if (r->lifted())
    return Refuse(
        v1::RESTRICTION_LIFTED,
        "restriction '" + lift_export_restriction.restriction_id() + "' is already lifted");
  r->set_lifted(true);
  r->set_lifted_height(ctx.block.height);
  r->set_lifted_time_ms(ctx.block.time_ms);
  r->set_lift_reason(lift_export_restriction.reason());
  ctx.state.PutRestriction(*r);
  return Accept();
}

void EventLiftExportRestriction(const v1::LiftExportRestriction& lift_export_restriction,
                                const TxOutcome&, v1::Event* e) {
  e->add_restriction_ids(lift_export_restriction.restriction_id());
}

// --- ClearExport ---------------------------------------------------------------------------

Refusal FormClearExport(const v1::ClearExport& clear_export) {
  REEL_TRY(CheckObjectId(clear_export.licence_id(), "licence id"));
  REEL_TRY(CheckIdList(clear_export.lot_ids(), "cleared lots", 1, v1::MALFORMED));
  return CheckText(clear_export.customs_declaration(), "customs declaration", true);
}

namespace {

Refusal CheckLicenceUsable(TxContext& ctx, const v1::Licence& l) {
  const std::string name = "licence '" + l.licence_id() + "'";
  if (l.status() == v1::LICENCE_STATUS_REVOKED) {
    return Refuse(v1::LICENCE_REVOKED,
                  name + " was revoked by restriction " + l.revoked_by_restriction_id());
  }
  if (l.status() != v1::LICENCE_STATUS_GRANTED) {
    return Refuse(v1::LICENCE_NOT_GRANTED, name + " is " + v1::LicenceStatus_Name(l.status()));
  }
  if (ctx.block.time_ms >= l.valid_until_ms()) {
    return Refuse(v1::LICENCE_EXPIRED,
                  name + " expired at " + std::to_string(l.valid_until_ms()) + " ms");
  }
  std::optional<v1::Org> licensee = ctx.state.GetOrg(l.applicant_org_id());
  if (!licensee.has_value() || licensee->status() != v1::ORG_STATUS_ACTIVE) {
    return Refuse(v1::ORG_SUSPENDED, "the licensee '" + l.applicant_org_id() + "' is suspended");
  }
  return CheckNoDeny(ctx, l, "clearing against");
}

Refusal CheckClearedLot(const v1::Licence& l, const v1::Lot& lot) {
  const std::string name = "lot '" + lot.lot_id() + "'";
  if (lot.holder_org_id() != l.applicant_org_id()) {
    return Refuse(v1::LOT_NOT_LICENSEE, name + " is held by '" + lot.holder_org_id() +
                                            "', not by the licensee '" + l.applicant_org_id() +
                                            "'");
  }
  if (lot.status() != v1::LOT_STATUS_ACTIVE) {
    return Refuse(v1::LOT_NOT_ACTIVE, name + " is " + v1::LotStatus_Name(lot.status()));
  }
  if (lot.product() != l.product()) {
    return Refuse(v1::LOT_PRODUCT_MISMATCH, name + " is " + FormName(lot.product()) +
                                                "; the licence is for " + FormName(l.product()));
  }
  for (const v1::ElementAmount& a : lot.composition().amounts()) {
    if (std::find(l.elements().begin(), l.elements().end(), a.element()) == l.elements().end()) {
      return Refuse(v1::LOT_ELEMENT_MISMATCH, name + " holds " + ElementName(a.element()) +
                                                  ", which the licence does not name");
    }
  }
  return Accept();
}

}  // namespace

Refusal ApplyClearExport(TxContext& ctx, const v1::ClearExport& clear_export) {
  v1::Licence l;
  REEL_TRY(LoadLicence(ctx, clear_export.licence_id(), &l));
  REEL_TRY(CheckLicenceUsable(ctx, l));
  std::vector<v1::Lot> lots;
  int64_t mass = l.exported_mass_g();
  ElementGrams grams{};
  for (const std::string& id : clear_export.lot_ids()) {
    std::optional<v1::Lot> lot = ctx.state.GetLot(id);
    if (!lot.has_value()) return Refuse(v1::LOT_NOT_FOUND, "lot '" + id + "' does not exist");
    REEL_TRY(CheckClearedLot(l, *lot));
    if (!AddChecked(mass, lot->mass_g(), &mass) || !AddGrams(&grams, ToGrams(lot->composition()))) {
      return Refuse(v1::AMOUNT_OVERFLOW, "cleared mass overflows");
    }
    lots.push_back(std::move(*lot));
  }
  if (mass > l.mass_g()) {
    return Refuse(v1::LICENCE_EXCEEDED, "clearing would bring licence '" + l.licence_id() +
                                            "' to " + std::to_string(mass) + " g of its " +
                                            std::to_string(l.mass_g()) + " g");
  }
  v1::ExportRecord x;
  x.set_tx_id(ctx.id);
  x.set_licence_id(l.licence_id());
  x.set_exporter_org_id(l.applicant_org_id());
  x.set_cleared_by_org_id(ctx.signer_id());
  x.set_destination_country(l.destination_country());
  x.set_consignee(l.consignee());
  x.set_end_user(l.end_user());
  x.set_industry(l.industry());
  x.set_product(l.product());
  *x.mutable_lot_ids() = clear_export.lot_ids();
  x.set_mass_g(mass - l.exported_mass_g());
  *x.mutable_composition() = FromGrams(grams);
  x.set_reo_g(SumGrams(grams));
  x.set_customs_declaration(clear_export.customs_declaration());
  x.set_height(ctx.block.height);
  x.set_time_ms(ctx.block.time_ms);
  ctx.state.PutExport(x, ctx.index);
  for (v1::Lot& lot : lots) {
    lot.set_status(v1::LOT_STATUS_EXPORTED);
    lot.set_licence_id(l.licence_id());
    lot.set_updated_height(ctx.block.height);
    ctx.state.PutLot(lot);
    v1::LotEvent e = NewEvent(ctx, lot, v1::BIZ_STEP_EXPORTING, v1::EPCIS_EVENT_TYPE_TRANSACTION,
                              v1::EPCIS_ACTION_DELETE);
    e.set_country(l.destination_country());
    e.set_from_org_id(l.applicant_org_id());
    e.set_reference(clear_export.customs_declaration());
    ctx.state.AddLotEvent(e, lot.lot_id());
  }
  std::vector<const v1::Lot*> exported;
  for (const v1::Lot& lot : lots) exported.push_back(&lot);
  v1::FlowEntry entry;
  entry.set_counterparty_org_id(ctx.signer_id());
  entry.set_country(l.destination_country());
  entry.set_licence_id(l.licence_id());
  RecordFlow(ctx, l.applicant_org_id(), kFlowExported, exported, entry);
  l.set_exported_mass_g(mass);
  if (mass == l.mass_g()) l.set_status(v1::LICENCE_STATUS_EXHAUSTED);
  ctx.state.PutLicence(l);
  return Accept();
}

void EventClearExport(const v1::ClearExport& clear_export, const TxOutcome&, v1::Event* e) {
  e->add_licence_ids(clear_export.licence_id());
  AddLotIds(clear_export.lot_ids(), e);
}

}  // namespace reel::ledger
