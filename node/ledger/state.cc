#include "node/ledger/state.h"

#include "base/assert.h"
#include "base/bytes.h"
#include "node/ledger/rules.h"
#include "node/storage/keys.h"

namespace reel::ledger {
namespace layout {
namespace {

// Joins the parts of a composite id (docs/LEDGER.md); no id may contain it.
constexpr char kSep = '\0';

// 0x05, the record's tag, its id.
std::string Key(StateTag tag, std::string_view id) {
  std::string key(1, static_cast<char>(tag));
  key.append(id);
  return storage::keys::StateKey(key);
}
// 0x05, the tag, the owner's id, the separator, the rest (which may be empty: a prefix).
std::string Key(StateTag tag, std::string_view owner, std::string_view rest) {
  std::string id(owner);
  id.push_back(kSep);
  id.append(rest);
  return Key(tag, id);
}
// The same under 0x06.
std::string Key(IndexTag tag, std::string_view id) {
  std::string key(1, static_cast<char>(tag));
  key.append(id);
  return storage::keys::IndexKey(key);
}
std::string Key(IndexTag tag, std::string_view owner, std::string_view rest) {
  std::string id(owner);
  id.push_back(kSep);
  id.append(rest);
  return Key(tag, id);
}

// Height then position in the block: index keys in this order list by time.
std::string HeightIndex(uint64_t height, uint32_t tx_index) {
  std::string out;
  AppendU64BE(out, height);
  AppendU32BE(out, tx_index);
  return out;
}

// A block time, and with it a height and position: entries of one organisation by time.
std::string TimeIndex(uint64_t time_ms) {
  std::string out;
  AppendU64BE(out, time_ms);
  return out;
}

}  // namespace

std::string MetaKey(std::string_view name) {
  return Key(StateTag::kMeta, name);
}
std::string OrgKey(std::string_view org_id) {
  return Key(StateTag::kOrg, org_id);
}
std::string SiteKey(std::string_view site_id) {
  return Key(StateTag::kSite, site_id);
}
std::string QuotaKey(std::string_view org_id, uint32_t year, v1::QuotaCategory category) {
  std::string rest;
  AppendU32BE(rest, year);
  rest.push_back(static_cast<char>(category));
  return Key(StateTag::kQuota, org_id, rest);
}
std::string QuotaPrefix(std::string_view org_id) {
  return Key(StateTag::kQuota, org_id, "");
}
std::string QuotaCutKey(std::string_view org_id, uint32_t year) {
  std::string rest;
  AppendU32BE(rest, year);
  return Key(StateTag::kQuotaCut, org_id, rest);
}
std::string ValidatorsKey(std::string_view name) {
  return Key(StateTag::kValidators, name);
}
std::string ValidatorChangeKey(std::string_view change_id) {
  return Key(StateTag::kValidatorChange, change_id);
}
std::string LotKey(std::string_view lot_id) {
  return Key(StateTag::kLot, lot_id);
}
std::string OfferKey(std::string_view offer_id) {
  return Key(StateTag::kOffer, offer_id);
}
std::string LicenceKey(std::string_view licence_id) {
  return Key(StateTag::kLicence, licence_id);
}
std::string RestrictionKey(std::string_view id) {
  return Key(StateTag::kRestriction, id);
}
std::string ViolationKey(std::string_view id) {
  return Key(StateTag::kViolation, id);
}
std::string ExportKey(std::string_view tx_id) {
  return Key(StateTag::kExport, tx_id);
}
std::string StatePrefix(StateTag tag) {
  return Key(tag, "");
}

std::string HolderKey(std::string_view org_id, std::string_view lot_id) {
  return Key(IndexTag::kHolder, org_id, lot_id);
}
std::string HolderPrefix(std::string_view org_id) {
  return Key(IndexTag::kHolder, org_id, "");
}
std::string HoldingSummaryKey(std::string_view org_id, v1::LotStatus status,
                              v1::ProductForm product) {
  std::string rest;
  rest.push_back(static_cast<char>(status));
  rest.push_back(static_cast<char>(product));
  return Key(IndexTag::kHoldingSummary, org_id, rest);
}
std::string HoldingSummaryPrefix(std::string_view org_id) {
  return Key(IndexTag::kHoldingSummary, org_id, "");
}
std::string LotEventKey(std::string_view lot_id, uint64_t height, uint32_t tx_index) {
  return Key(IndexTag::kLotEvent, lot_id, HeightIndex(height, tx_index));
}
std::string LotEventPrefix(std::string_view lot_id) {
  return Key(IndexTag::kLotEvent, lot_id, "");
}
std::string ChildKey(std::string_view parent_lot_id, std::string_view child_lot_id) {
  return Key(IndexTag::kChild, parent_lot_id, child_lot_id);
}
std::string ChildPrefix(std::string_view parent_lot_id) {
  return Key(IndexTag::kChild, parent_lot_id, "");
}
std::string LotExportKey(std::string_view lot_id) {
  return Key(IndexTag::kLotExport, lot_id);
}
std::string ActiveRegulatorKey(std::string_view org_id) {
  return Key(IndexTag::kActiveRegulator, org_id);
}
std::string OpenRestrictionKey(std::string_view id) {
  return Key(IndexTag::kOpenRestriction, id);
}
std::string GrantedLicenceKey(std::string_view id) {
  return Key(IndexTag::kGrantedLicence, id);
}
std::string ApplicantLicenceKey(std::string_view org_id, std::string_view licence_id) {
  return Key(IndexTag::kApplicantLicence, org_id, licence_id);
}
std::string ApplicantLicencePrefix(std::string_view org_id) {
  return Key(IndexTag::kApplicantLicence, org_id, "");
}
std::string ExportByTimeKey(uint64_t height, uint32_t tx_index) {
  return Key(IndexTag::kExportByTime, HeightIndex(height, tx_index));
}
std::string ViolationByTimeKey(uint64_t height, uint32_t tx_index) {
  return Key(IndexTag::kViolationByTime, HeightIndex(height, tx_index));
}
std::string FlowKey(std::string_view org_id, uint64_t time_ms, uint64_t height, uint32_t tx_index,
                    uint8_t flow) {
  std::string rest = TimeIndex(time_ms) + HeightIndex(height, tx_index);
  rest.push_back(static_cast<char>(flow));
  return Key(IndexTag::kFlow, org_id, rest);
}
std::string FlowTimeKey(std::string_view org_id, uint64_t time_ms) {
  return Key(IndexTag::kFlow, org_id, TimeIndex(time_ms));
}
std::string MonthTotalKey(std::string_view org_id, uint32_t year_month, uint8_t flow) {
  std::string rest;
  AppendU32BE(rest, year_month);
  rest.push_back(static_cast<char>(flow));
  return Key(IndexTag::kMonthTotal, org_id, rest);
}
std::string ProcessKey(std::string_view org_id, uint64_t time_ms, uint64_t height,
                       uint32_t tx_index) {
  return Key(IndexTag::kProcess, org_id, TimeIndex(time_ms) + HeightIndex(height, tx_index));
}
std::string ProcessTimeKey(std::string_view org_id, uint64_t time_ms) {
  return Key(IndexTag::kProcess, org_id, TimeIndex(time_ms));
}
std::string EventKey(uint64_t height, uint32_t tx_index) {
  return Key(IndexTag::kEvent, HeightIndex(height, tx_index));
}
std::string IndexPrefix(IndexTag tag) {
  return Key(tag, "");
}

}  // namespace layout

std::string Serialize(const google::protobuf::MessageLite& message) {
  std::string out;
  REEL_ASSERT(message.SerializeToString(&out));
  return out;
}

void ParseOrThrow(std::string_view bytes, google::protobuf::MessageLite* message,
                  std::string_view what) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw StorageFault{Status::Corruption("stored record " + ToHex(what) + " does not parse")};
  }
}

void State::PutOrg(const v1::Org& org) {
  Write(layout::OrgKey(org.org_id()), org);
  const std::string key = layout::ActiveRegulatorKey(org.org_id());
  if (org.status() == v1::ORG_STATUS_ACTIVE && HasRole(org, v1::ROLE_REGULATOR)) {
    overlay_.Put(key, "");
  } else {
    overlay_.Delete(key);
  }
}

bool State::OtherActiveRegulatorExists(std::string_view org_id) const {
  bool found = false;
  const std::string self = layout::ActiveRegulatorKey(org_id);
  overlay_.Scan(layout::IndexPrefix(layout::IndexTag::kActiveRegulator), "",
                [&](std::string_view key, std::string_view) {
                  found = key != self;
                  return !found;
                });
  return found;
}

void State::PutQuota(const v1::Quota& quota) {
  Write(layout::QuotaKey(quota.org_id(), quota.year(), quota.category()), quota);
}

int64_t State::QuotaCut(std::string_view org_id, uint32_t year) const {
  std::optional<std::string> bytes = overlay_.Get(layout::QuotaCutKey(org_id, year));
  if (!bytes.has_value()) return 0;
  if (bytes->size() != 8) throw StorageFault{Status::Corruption("quota cut record is not 8 bytes")};
  return static_cast<int64_t>(ReadU64BE(*bytes));
}

void State::SetQuotaCut(std::string_view org_id, uint32_t year, int64_t cut_g) {
  std::string value;
  AppendU64BE(value, static_cast<uint64_t>(cut_g));
  overlay_.Put(layout::QuotaCutKey(org_id, year), value);
}

void State::AdjustSummary(const v1::Lot& lot, int sign) {
  const std::string key =
      layout::HoldingSummaryKey(lot.holder_org_id(), lot.status(), lot.product());
  v1::HoldingSummary summary = Read<v1::HoldingSummary>(key).value_or(v1::HoldingSummary());
  summary.set_status(lot.status());
  summary.set_product(lot.product());
  summary.set_lot_count(summary.lot_count() + (sign > 0 ? 1 : -1));
  summary.set_mass_g(summary.mass_g() + sign * lot.mass_g());
  summary.set_reo_g(summary.reo_g() + sign * lot.reo_g());
  ElementGrams grams = ToGrams(summary.composition());
  ElementGrams delta = ToGrams(lot.composition());
  for (size_t e = 0; e < grams.size(); ++e) grams[e] += sign * delta[e];
  *summary.mutable_composition() = FromGrams(grams);
  if (summary.lot_count() == 0) {
    overlay_.Delete(key);
  } else {
    Write(key, summary);
  }
}

void State::PutLot(const v1::Lot& lot) {
  std::optional<v1::Lot> before = GetLot(lot.lot_id());
  if (before.has_value()) {
    AdjustSummary(*before, -1);
    if (before->holder_org_id() != lot.holder_org_id()) {
      overlay_.Delete(layout::HolderKey(before->holder_org_id(), lot.lot_id()));
    }
  }
  overlay_.Put(layout::HolderKey(lot.holder_org_id(), lot.lot_id()), "");
  AdjustSummary(lot, +1);
  Write(layout::LotKey(lot.lot_id()), lot);
}

void State::AddLotEvent(const v1::LotEvent& event, std::string_view lot_id) {
  Write(layout::LotEventKey(lot_id, event.height(), event.tx_index()), event);
}

void State::AddChild(std::string_view parent_lot_id, std::string_view child_lot_id) {
  overlay_.Put(layout::ChildKey(parent_lot_id, child_lot_id), "");
}

void State::PutLicence(const v1::Licence& licence) {
  Write(layout::LicenceKey(licence.licence_id()), licence);
  overlay_.Put(layout::ApplicantLicenceKey(licence.applicant_org_id(), licence.licence_id()), "");
  const std::string granted = layout::GrantedLicenceKey(licence.licence_id());
  if (licence.status() == v1::LICENCE_STATUS_GRANTED) {
    overlay_.Put(granted, "");
  } else {
    overlay_.Delete(granted);
  }
}

void State::PutRestriction(const v1::Restriction& restriction) {
  Write(layout::RestrictionKey(restriction.restriction_id()), restriction);
  const std::string open = layout::OpenRestrictionKey(restriction.restriction_id());
  if (restriction.lifted()) {
    overlay_.Delete(open);
  } else {
    overlay_.Put(open, "");
  }
}

void State::ForEachOpenRestriction(const std::function<void(const v1::Restriction&)>& visit) const {
  const std::string prefix = layout::IndexPrefix(layout::IndexTag::kOpenRestriction);
  overlay_.Scan(prefix, "", [&](std::string_view key, std::string_view) {
    std::optional<v1::Restriction> r = GetRestriction(key.substr(prefix.size()));
    if (!r.has_value()) throw StorageFault{Status::Corruption("open restriction index dangles")};
    visit(*r);
    return true;
  });
}

size_t State::OpenRestrictionCount() const {
  size_t count = 0;
  overlay_.Scan(layout::IndexPrefix(layout::IndexTag::kOpenRestriction), "",
                [&](std::string_view, std::string_view) {
                  ++count;
                  return true;
                });
  return count;
}

void State::PutViolation(const v1::Violation& violation, uint32_t tx_index) {
  Write(layout::ViolationKey(violation.violation_id()), violation);
  overlay_.Put(layout::ViolationByTimeKey(violation.height(), tx_index), violation.violation_id());
}

void State::PutExport(const v1::ExportRecord& record, uint32_t tx_index) {
  Write(layout::ExportKey(record.tx_id()), record);
  overlay_.Put(layout::ExportByTimeKey(record.height(), tx_index), record.tx_id());
  for (const std::string& lot_id : record.lot_ids()) {
    overlay_.Put(layout::LotExportKey(lot_id), record.tx_id());
  }
}

void State::AddMonthTotal(std::string_view org_id, uint64_t time_ms, uint8_t flow, uint64_t lots,
                          int64_t mass_g, int64_t reo_g, const v1::Composition& composition) {
  const CivilDate date = CstDate(time_ms);
  const auto year_month = static_cast<uint32_t>(date.year * 100 + date.month);
  const std::string key = layout::MonthTotalKey(org_id, year_month, flow);
  v1::FlowTotal total = Read<v1::FlowTotal>(key).value_or(v1::FlowTotal());
  total.set_lot_count(total.lot_count() + lots);
  total.set_mass_g(total.mass_g() + mass_g);
  ElementGrams grams = ToGrams(total.composition());
  AddGrams(&grams, ToGrams(composition));
  *total.mutable_composition() = FromGrams(grams);
  total.set_reo_g(total.reo_g() + reo_g);
  Write(key, total);
}

void State::AddFlow(std::string_view org_id, uint8_t flow, uint32_t tx_index,
                    const v1::FlowEntry& entry, const v1::Composition& composition) {
  Write(layout::FlowKey(org_id, entry.time_ms(), entry.height(), tx_index, flow), entry);
  AddMonthTotal(org_id, entry.time_ms(), flow, static_cast<uint64_t>(entry.lot_ids_size()),
                flow == kFlowLoss ? 0 : entry.mass_g(), entry.reo_g(), composition);
}

}  // namespace reel::ledger
