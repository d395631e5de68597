// Enforcement (REGULATOR): violations with their penalties, and reinstatement.
#include <set>

#include "base/limits.h"
#include "node/ledger/exec.h"

namespace reel::ledger {
namespace {

// 500,000 to 2,000,000 yuan, in fen.
constexpr int64_t kFixedFineMinFen = 50'000'000;
constexpr int64_t kFixedFineMaxFen = 200'000'000;
constexpr uint32_t kMultiplierMin = 5;
constexpr uint32_t kMultiplierMax = 10;

Refusal CheckPenalty(const v1::RecordViolation& record_violation) {
  if (record_violation.illegal_revenue_fen() < 0 || record_violation.fine_fen() < 0) {
    return Refuse(v1::INVALID_AMOUNT, "revenue and fine must not be negative");
  }
  if (record_violation.illegal_revenue_fen() > 0) {
    if (record_violation.multiplier() < kMultiplierMin ||
        record_violation.multiplier() > kMultiplierMax) {
      return Refuse(v1::MULTIPLIER_OUT_OF_RANGE,
                    "with illegal revenue the multiplier must be 5 to 10, not " +
                        std::to_string(record_violation.multiplier()));
    }
    int64_t fine = 0;
    if (__builtin_mul_overflow(record_violation.illegal_revenue_fen(),
                               static_cast<int64_t>(record_violation.multiplier()), &fine)) {
      return Refuse(v1::AMOUNT_OVERFLOW, "revenue x multiplier overflows");
    }
    if (fine != record_violation.fine_fen()) {
      return Refuse(v1::FINE_MISMATCH,
                    "the fine must be revenue x multiplier = " + std::to_string(fine) +
                        " fen, not " + std::to_string(record_violation.fine_fen()));
    }
    return Accept();
  }
  if (record_violation.multiplier() != 0) {
    return Refuse(v1::MULTIPLIER_OUT_OF_RANGE,
                  "without illegal revenue there is no multiplier (0)");
  }
  if (record_violation.fine_fen() < kFixedFineMinFen ||
      record_violation.fine_fen() > kFixedFineMaxFen) {
    return Refuse(v1::PENALTY_OUT_OF_RANGE,
                  "without illegal revenue the fine must be 500,000 to 2,000,000 "
                  "yuan (50,000,000 to 200,000,000 fen), not " +
                      std::to_string(record_violation.fine_fen()) + " fen");
  }
  return Accept();
}

// Lowers every quota of `org` for `year` by `cut_g` more, including those set later.
void CutQuotas(TxContext& ctx, const std::string& org, uint32_t year, int64_t cut_g) {
  int64_t total = 0;
  if (!AddChecked(ctx.state.QuotaCut(org, year), cut_g, &total)) total = INT64_MAX;
  ctx.state.SetQuotaCut(org, year, total);
  for (int c = v1::QUOTA_CATEGORY_MINING_LIGHT; c <= v1::QUOTA_CATEGORY_SMELTING_SEPARATION; ++c) {
    std::optional<v1::Quota> q = ctx.state.GetQuota(org, year, static_cast<v1::QuotaCategory>(c));
    if (!q.has_value()) continue;
    q->set_cut_g(total);
    q->set_updated_height(ctx.block.height);
    ctx.state.PutQuota(*q);
  }
}

}  // namespace

Refusal FormRecordViolation(const v1::RecordViolation& record_violation) {
  REEL_TRY(CheckObjectId(record_violation.violation_id(), "violation id"));
  REEL_TRY(CheckOrgId(record_violation.org_id(), "offender"));
  if (record_violation.kind() == v1::VIOLATION_KIND_UNSPECIFIED ||
      !v1::ViolationKind_IsValid(record_violation.kind())) {
    return Refuse(v1::INVALID_ENUM, "violation kind is required");
  }
  REEL_TRY(CheckPenalty(record_violation));
  if (record_violation.quota_cut_g() < 0)
    return Refuse(v1::INVALID_AMOUNT, "quota_cut_g must not be negative");
  if (!record_violation.seize_lot_ids().empty())
    REEL_TRY(CheckIdList(record_violation.seize_lot_ids(), "seized lots", 0, v1::MALFORMED));
  return CheckText(record_violation.description(), "description", false);
}

Refusal ApplyRecordViolation(TxContext& ctx, const v1::RecordViolation& record_violation) {
  if (ctx.state.GetViolation(record_violation.violation_id()).has_value()) {
    return Refuse(v1::VIOLATION_EXISTS,
                  "violation '" + record_violation.violation_id() + "' already exists");
  }
  std::optional<v1::Org> offender = ctx.state.GetOrg(record_violation.org_id());
  if (!offender.has_value())
    return Refuse(v1::ORG_NOT_FOUND,
                  "organisation '" + record_violation.org_id() + "' is not registered");
  std::vector<v1::Lot> lots;
  for (const std::string& id : record_violation.seize_lot_ids()) {
    std::optional<v1::Lot> lot = ctx.state.GetLot(id);
    if (!lot.has_value()) return Refuse(v1::LOT_NOT_FOUND, "lot '" + id + "' does not exist");
    const bool held =
        lot->status() == v1::LOT_STATUS_ACTIVE || lot->status() == v1::LOT_STATUS_IN_TRANSIT;
    if (!held || lot->holder_org_id() != record_violation.org_id()) {
      return Refuse(v1::LOT_NOT_SEIZABLE,
                    "lot '" + id + "' is " + v1::LotStatus_Name(lot->status()) + " and held by '" +
                        lot->holder_org_id() +
                        "': only ACTIVE or IN_TRANSIT lots of the offender can be seized");
    }
    lots.push_back(std::move(*lot));
  }
  if (record_violation.suspend() && offender->status() == v1::ORG_STATUS_ACTIVE &&
      HasRole(*offender, v1::ROLE_REGULATOR) &&
      !ctx.state.OtherActiveRegulatorExists(record_violation.org_id())) {
    return Refuse(v1::LAST_REGULATOR,
                  "suspending '" + record_violation.org_id() + "' would leave no ACTIVE REGULATOR");
  }
  const uint32_t cut_year = ctx.year() + 1;
  v1::Violation v;
  v.set_violation_id(record_violation.violation_id());
  v.set_org_id(record_violation.org_id());
  v.set_kind(record_violation.kind());
  v.set_illegal_revenue_fen(record_violation.illegal_revenue_fen());
  v.set_multiplier(record_violation.multiplier());
  v.set_fine_fen(record_violation.fine_fen());
  *v.mutable_seized_lot_ids() = record_violation.seize_lot_ids();
  v.set_suspended(record_violation.suspend());
  v.set_quota_cut_g(record_violation.quota_cut_g());
  if (record_violation.quota_cut_g() > 0) v.set_quota_cut_year(cut_year);
  v.set_description(record_violation.description());
  v.set_recorded_by_org_id(ctx.signer_id());
  v.set_height(ctx.block.height);
  v.set_time_ms(ctx.block.time_ms);
  v.set_tx_id(ctx.id);
  ctx.state.PutViolation(v, ctx.index);
  for (v1::Lot& lot : lots) {
    lot.set_status(v1::LOT_STATUS_SEIZED);
    lot.set_violation_id(record_violation.violation_id());
    lot.set_updated_height(ctx.block.height);
    ctx.state.PutLot(lot);
    v1::LotEvent e = NewEvent(ctx, lot, v1::BIZ_STEP_SEIZING, v1::EPCIS_EVENT_TYPE_OBJECT,
                              v1::EPCIS_ACTION_DELETE);
    e.set_from_org_id(record_violation.org_id());
    e.set_reference(record_violation.violation_id());
    e.set_reason(record_violation.description());
    ctx.state.AddLotEvent(e, lot.lot_id());
  }
  if (!lots.empty()) {
    std::vector<const v1::Lot*> seized;
    for (const v1::Lot& lot : lots) seized.push_back(&lot);
    v1::FlowEntry entry;
    entry.set_counterparty_org_id(ctx.signer_id());
    RecordFlow(ctx, record_violation.org_id(), kFlowSeized, seized, entry);
  }
  if (record_violation.suspend() && offender->status() == v1::ORG_STATUS_ACTIVE) {
    offender->set_status(v1::ORG_STATUS_SUSPENDED);
    offender->set_suspended_by_violation_id(record_violation.violation_id());
    offender->set_updated_height(ctx.block.height);
    ctx.state.PutOrg(*offender);
  }
  if (record_violation.quota_cut_g() > 0)
    CutQuotas(ctx, record_violation.org_id(), cut_year, record_violation.quota_cut_g());
  return Accept();
}

void EventRecordViolation(const v1::RecordViolation& record_violation, const TxOutcome&,
                          v1::Event* e) {
  e->add_org_ids(record_violation.org_id());
  AddLotIds(record_violation.seize_lot_ids(), e);
  e->set_violation_id(record_violation.violation_id());
}

Refusal FormReinstate(const v1::Reinstate& reinstate) {
  REEL_TRY(CheckOrgId(reinstate.org_id(), "organisation id"));
  return CheckText(reinstate.reason(), "reason", false);
}

Refusal ApplyReinstate(TxContext& ctx, const v1::Reinstate& reinstate) {
  std::optional<v1::Org> org = ctx.state.GetOrg(reinstate.org_id());
  if (!org.has_value())
    return Refuse(v1::ORG_NOT_FOUND, "organisation '" + reinstate.org_id() + "' is not registered");
  if (org->status() != v1::ORG_STATUS_SUSPENDED) {
    return Refuse(v1::ORG_NOT_SUSPENDED, "'" + reinstate.org_id() + "' is not suspended");
  }
  org->set_status(v1::ORG_STATUS_ACTIVE);
  org->clear_suspended_by_violation_id();
  org->set_updated_height(ctx.block.height);
  ctx.state.PutOrg(*org);
  return Accept();
}

void EventReinstate(const v1::Reinstate& reinstate, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(reinstate.org_id());
}

}  // namespace reel::ledger
