// The ledger's records in the store: the key sub-layout under the state prefix (0x05)
// and the index prefix (0x06), and typed access to them over an Overlay.
//
// docs/LEDGER.md tables the layout. In short: a state key is 0x05, a one-byte record
// tag, then the record's id (composite ids joined by 0x00, which no id may contain,
// integers big-endian); values are reel.v1 protobuf records. Index keys follow the same
// scheme under 0x06. The State setters keep every index in step with the record they
// write, so a record and its indexes change in the same layer, and so in the same
// batch.
//
// Failure: a value that does not parse is store damage: StorageFault (kCorruption).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "node/ledger/overlay.h"
#include "reel/v1/api.pb.h"
#include "reel/v1/types.pb.h"

namespace reel::ledger {

namespace v1 = ::reel::v1;

namespace layout {

// The byte after 0x05 that names a kind of state record (docs/LEDGER.md, "State
// layout"). The values are on disk: never change one.
enum class StateTag : char {
  kMeta = 'm',
  kOrg = 'o',
  kSite = 's',
  kQuota = 'q',
  kQuotaCut = 'u',
  kLot = 'l',
  kOffer = 't',
  kLicence = 'c',
  kRestriction = 'r',
  kViolation = 'v',
  kExport = 'x',
  kValidators = 'w',       // the validator set and its governance, by name
  kValidatorChange = 'k',  // proposed changes to it, by change id
};

// The byte after 0x06 that names an index (docs/LEDGER.md, "Index layout"). On disk too.
enum class IndexTag : char {
  kHolder = 'h',
  kHoldingSummary = 'S',
  kLotEvent = 'H',
  kChild = 'C',
  kLotExport = 'e',
  kActiveRegulator = 'g',
  kOpenRestriction = 'R',
  kGrantedLicence = 'G',
  kApplicantLicence = 'A',
  kExportByTime = 'X',
  kViolationByTime = 'V',
  kFlow = 'F',
  kMonthTotal = 'M',
  kProcess = 'P',
  kEvent = 'E',
};

// --- State (0x05) --------------------------------------------------------------------
std::string MetaKey(std::string_view name);     // kMeta name: "root", "height", "time"
std::string OrgKey(std::string_view org_id);    // kOrg
std::string SiteKey(std::string_view site_id);  // kSite
std::string QuotaKey(std::string_view org_id, uint32_t year,
                     v1::QuotaCategory category);                 // kQuota
std::string QuotaPrefix(std::string_view org_id);                 // every quota of one organisation
std::string QuotaCutKey(std::string_view org_id, uint32_t year);  // kQuotaCut -> u64 grams
std::string LotKey(std::string_view lot_id);                      // kLot
std::string OfferKey(std::string_view offer_id);                  // kOffer
std::string LicenceKey(std::string_view licence_id);              // kLicence
std::string RestrictionKey(std::string_view restriction_id);      // kRestriction
std::string ViolationKey(std::string_view violation_id);          // kViolation
std::string ExportKey(std::string_view tx_id);                    // kExport
// kValidators "governance" -> ValidatorGovernance, "current" -> ValidatorSet, "next" ->
// NextValidatorSet (only while a change is approved and its epoch has not begun).
std::string ValidatorsKey(std::string_view name);
std::string ValidatorChangeKey(std::string_view change_id);  // kValidatorChange
// The first key of every record of a kind: a prefix to list them.
std::string StatePrefix(StateTag tag);

// --- Indexes (0x06) --------------------------------------------------------------------
std::string HolderKey(std::string_view org_id, std::string_view lot_id);  // kHolder -> ""
std::string HolderPrefix(std::string_view org_id);
std::string HoldingSummaryKey(std::string_view org_id, v1::LotStatus status,
                              v1::ProductForm product);  // kHoldingSummary -> HoldingSummary
std::string HoldingSummaryPrefix(std::string_view org_id);
std::string LotEventKey(std::string_view lot_id, uint64_t height,
                        uint32_t tx_index);  // kLotEvent -> LotEvent
std::string LotEventPrefix(std::string_view lot_id);
std::string ChildKey(std::string_view parent_lot_id, std::string_view child_lot_id);  // kChild
std::string ChildPrefix(std::string_view parent_lot_id);
std::string LotExportKey(std::string_view lot_id);                // kLotExport -> export tx id
std::string ActiveRegulatorKey(std::string_view org_id);          // kActiveRegulator -> ""
std::string OpenRestrictionKey(std::string_view restriction_id);  // kOpenRestriction -> ""
std::string GrantedLicenceKey(std::string_view licence_id);       // kGrantedLicence -> ""
std::string ApplicantLicenceKey(std::string_view org_id,
                                std::string_view licence_id);  // kApplicantLicence -> ""
std::string ApplicantLicencePrefix(std::string_view org_id);
std::string ExportByTimeKey(uint64_t height, uint32_t tx_index);     // kExportByTime -> tx id
std::string ViolationByTimeKey(uint64_t height, uint32_t tx_index);  // kViolationByTime -> id
// Flows of an organisation (MonthlyFlowReport, MassBalance), by block time.
std::string FlowKey(std::string_view org_id, uint64_t time_ms, uint64_t height, uint32_t tx_index,
                    uint8_t flow);                                   // kFlow -> FlowEntry
std::string FlowTimeKey(std::string_view org_id, uint64_t time_ms);  // seek position
std::string MonthTotalKey(std::string_view org_id, uint32_t year_month,
                          uint8_t flow);  // kMonthTotal -> FlowTotal
std::string ProcessKey(std::string_view org_id, uint64_t time_ms, uint64_t height,
                       uint32_t tx_index);  // kProcess -> MassBalanceOutlier
std::string ProcessTimeKey(std::string_view org_id, uint64_t time_ms);
std::string EventKey(uint64_t height, uint32_t tx_index);  // kEvent -> Event
// Every key of an index: a prefix to list them.
std::string IndexPrefix(IndexTag tag);

}  // namespace layout

// The kinds of flow in the 'F' and 'M' indexes. Quota charges are kFlowQuota + category
// in 'M' only.
enum Flow : uint8_t {
  kFlowExtracted = 1,
  kFlowImported = 2,
  kFlowReceived = 3,
  kFlowProcessedIn = 4,
  kFlowProcessedOut = 5,
  kFlowLoss = 6,
  kFlowShipped = 7,
  kFlowExported = 8,
  kFlowSeized = 9,
  kFlowQuota = 20,
};

std::string Serialize(const google::protobuf::MessageLite& message);
// Parses `bytes` into `message`; StorageFault(kCorruption) naming `what` if it fails.
void ParseOrThrow(std::string_view bytes, google::protobuf::MessageLite* message,
                  std::string_view what);

// Typed records over an Overlay, keeping the indexes in step.
class State {
 public:
  explicit State(Overlay& overlay) : overlay_(overlay) {}
  Overlay& overlay() { return overlay_; }

  template <typename M>
  std::optional<M> Read(std::string_view key) const {
    std::optional<std::string> bytes = overlay_.Get(key);
    if (!bytes.has_value()) return std::nullopt;
    M message;
    ParseOrThrow(*bytes, &message, key);
    return message;
  }
  void Write(std::string_view key, const google::protobuf::MessageLite& message) {
    overlay_.Put(key, Serialize(message));
  }

  std::optional<v1::Org> GetOrg(std::string_view id) const {
    return Read<v1::Org>(layout::OrgKey(id));
  }
  // Also keeps the index of ACTIVE regulators.
  void PutOrg(const v1::Org& org);
  // Another ACTIVE regulator than `org_id` exists.
  bool OtherActiveRegulatorExists(std::string_view org_id) const;

  std::optional<v1::Site> GetSite(std::string_view id) const {
    return Read<v1::Site>(layout::SiteKey(id));
  }
  void PutSite(const v1::Site& site) { Write(layout::SiteKey(site.site_id()), site); }

  std::optional<v1::Quota> GetQuota(std::string_view org_id, uint32_t year,
                                    v1::QuotaCategory category) const {
    return Read<v1::Quota>(layout::QuotaKey(org_id, year, category));
  }
  void PutQuota(const v1::Quota& quota);
  int64_t QuotaCut(std::string_view org_id, uint32_t year) const;
  void SetQuotaCut(std::string_view org_id, uint32_t year, int64_t cut_g);

  std::optional<v1::Lot> GetLot(std::string_view id) const {
    return Read<v1::Lot>(layout::LotKey(id));
  }
  // Writes the lot and moves it in the holder index and the holding summaries.
  void PutLot(const v1::Lot& lot);
  void AddLotEvent(const v1::LotEvent& event, std::string_view lot_id);
  void AddChild(std::string_view parent_lot_id, std::string_view child_lot_id);

  std::optional<v1::TransferOfferRecord> GetOffer(std::string_view id) const {
    return Read<v1::TransferOfferRecord>(layout::OfferKey(id));
  }
  void PutOffer(const v1::TransferOfferRecord& offer) {
    Write(layout::OfferKey(offer.offer_id()), offer);
  }

  std::optional<v1::Licence> GetLicence(std::string_view id) const {
    return Read<v1::Licence>(layout::LicenceKey(id));
  }
  // Also keeps the index of GRANTED licences and the one by applicant.
  void PutLicence(const v1::Licence& licence);

  std::optional<v1::Restriction> GetRestriction(std::string_view id) const {
    return Read<v1::Restriction>(layout::RestrictionKey(id));
  }
  // Also keeps the index of restrictions not lifted.
  void PutRestriction(const v1::Restriction& restriction);
  // Visits the restrictions not lifted, by id.
  void ForEachOpenRestriction(const std::function<void(const v1::Restriction&)>& visit) const;
  size_t OpenRestrictionCount() const;

  std::optional<v1::Violation> GetViolation(std::string_view id) const {
    return Read<v1::Violation>(layout::ViolationKey(id));
  }
  void PutViolation(const v1::Violation& violation, uint32_t tx_index);
  void PutExport(const v1::ExportRecord& record, uint32_t tx_index);
  // Adds one flow entry of `org` and adds it to the month's total (UTC+8).
  void AddFlow(std::string_view org_id, uint8_t flow, uint32_t tx_index, const v1::FlowEntry& entry,
               const v1::Composition& composition);
  // Adds to the month's total only (quota charges).
  void AddMonthTotal(std::string_view org_id, uint64_t time_ms, uint8_t flow, uint64_t lots,
                     int64_t mass_g, int64_t reo_g, const v1::Composition& composition);

 private:
  void AdjustSummary(const v1::Lot& lot, int sign);
  Overlay& overlay_;
};

}  // namespace reel::ledger
