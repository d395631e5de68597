// The ledger's rule vocabulary: refusals, id and text syntax, product-form ranks, who
// may hold what, compositions, calendar dates in China Standard Time, and restriction
// matching. Pure functions over values; no state. Shared by execution, Check and the
// queries (a dry run must judge exactly as execution does).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "reel/v1/api.pb.h"
#include "reel/v1/tx.pb.h"
#include "reel/v1/types.pb.h"

namespace reel::ledger {

namespace v1 = ::reel::v1;

// Why a transaction breaks a rule: its code and a message a person can act on.
// code == OK means no refusal.
struct Refusal {
  v1::ErrorCode code = v1::OK;
  std::string message;
  bool ok() const { return code == v1::OK; }
};

inline Refusal Accept() {
  return {};
}
inline Refusal Refuse(v1::ErrorCode code, std::string message) {
  return {code, std::move(message)};
}

}  // namespace reel::ledger

// Returns the refusal from the enclosing function when `expr` refuses.
#define REEL_TRY(expr)                              \
  do {                                              \
    ::reel::ledger::Refusal reel_refusal_ = (expr); \
    if (!reel_refusal_.ok()) return reel_refusal_;  \
  } while (0)

namespace reel::ledger {

// --- Syntax ----------------------------------------------------------------------------
// [a-z0-9][a-z0-9._-]{1,62}
bool IsValidOrgId(std::string_view id);
// Lots, sites, offers, licences, restrictions, violations: [A-Za-z0-9._:-]{1,64}
bool IsValidObjectId(std::string_view id);
Refusal CheckOrgId(std::string_view id, std::string_view what);
Refusal CheckObjectId(std::string_view id, std::string_view what);
// Valid UTF-8, at most limits::ledger_text_bytes_max bytes, and not empty if required.
Refusal CheckText(std::string_view text, std::string_view what, bool required);
// Upper-case ISO 3166-1 alpha-2 code of an assigned country.
bool IsValidCountry(std::string_view code);
Refusal CheckCountry(std::string_view code, std::string_view what);

// --- Enums ------------------------------------------------------------------------------
bool IsKnownRole(int role);
bool IsKnownElement(int element);
bool IsKnownForm(int form);
bool IsKnownIndustry(int industry);
// Processing rank: ORE 1, CONCENTRATE 2, MIXED_* 3, SEPARATED_OXIDE 4, METAL 5, ALLOY 6,
// MAGNET 7; 0 for UNSPECIFIED or unknown.
int FormRank(v1::ProductForm form);
// ORE, CONCENTRATE, MIXED_CARBONATE, MIXED_OXIDE: state enterprises only.
bool IsUpstream(v1::ProductForm form);
std::string FormName(v1::ProductForm form);    // "MAGNET"
std::string ElementName(v1::Element element);  // "ND"

// --- Organisations -----------------------------------------------------------------------
bool HasRole(const v1::Org& org, v1::Role role);
// MINER, SMELTER_SEPARATOR, PROCESSOR or EXPORTER.
bool HasCustodyRole(const v1::Org& org);
// Whether `org` may hold a lot of `form` (docs/LEDGER.md, "Who may hold what"):
// UPSTREAM_HOLDER_NOT_STATE for upstream forms and a non-state organisation,
// RECIPIENT_CANNOT_HOLD when none of its roles holds that form.
Refusal CheckMayHold(const v1::Org& org, v1::ProductForm form);
// Sorted, distinct, known roles; MINER and SMELTER_SEPARATOR only for STATE_ENTERPRISE.
Refusal CheckRoles(const google::protobuf::RepeatedField<int>& roles, v1::OrgKind kind);
// 1..ledger_org_keys_max distinct 32-byte keys and 1 <= quorum <= keys.
Refusal CheckKeysAndQuorum(const google::protobuf::RepeatedPtrField<std::string>& keys,
                           uint32_t quorum);

// --- Amounts and compositions ------------------------------------------------------------
// For products of two int64 gram amounts before a division (proportional shares);
// __extension__ because ISO C++ has no 128-bit integer.
__extension__ typedef __int128 Int128;
// a + b into *out; false on int64 overflow.
bool AddChecked(int64_t a, int64_t b, int64_t* out);
// Index = Element number (1..17); [0] unused.
using ElementGrams = std::array<int64_t, 18>;
// Canonical (strictly ascending known elements, amounts > 0), non-empty, sum fits int64,
// sum <= mass_g, and mass_g > 0. On success *reo_g is the sum.
Refusal CheckComposition(const v1::Composition& composition, int64_t mass_g, int64_t* reo_g,
                         std::string_view what);
ElementGrams ToGrams(const v1::Composition& composition);
// Canonical composition of the non-zero entries.
v1::Composition FromGrams(const ElementGrams& grams);
int64_t SumGrams(const ElementGrams& grams);
// *into += add (per element); false on overflow.
bool AddGrams(ElementGrams* into, const ElementGrams& add);

// --- Calendar (China Standard Time, UTC+8) -----------------------------------------------
struct CivilDate {
  int64_t year;
  uint32_t month;  // 1..12
  uint32_t day;    // 1..31
};
// The civil date in UTC+8 of a block time (proleptic Gregorian, std::chrono's
// calendar). Integer arithmetic only. Times after year 32767, the last chrono::year,
// read as its last day.
CivilDate CstDate(uint64_t time_ms);
// Milliseconds since the epoch of 00:00 UTC+8 on the first day of year/month; 0 for a
// start before the epoch. Requires month 1..12 and a year chrono::year holds
// (-32767..32767).
uint64_t CstMonthStartMs(int64_t year, uint32_t month);
// The quota category a mine's deposit type charges.
v1::QuotaCategory MiningCategory(v1::DepositType deposit);

// --- Restrictions -------------------------------------------------------------------------
// Trimmed of ASCII white space and lower-cased (ASCII): how names are compared.
std::string NormalizeName(std::string_view name);
// What a restriction is matched against: an application or a stored licence.
struct LicenceTerms {
  std::string_view country;
  std::string_view consignee;
  std::string_view end_user;
  v1::Industry industry = v1::INDUSTRY_UNSPECIFIED;
  v1::ProductForm product = v1::PRODUCT_FORM_UNSPECIFIED;
  const google::protobuf::RepeatedField<int>* elements = nullptr;
};
LicenceTerms TermsOf(const v1::Licence& licence);
LicenceTerms TermsOf(const v1::ApplyExportLicense& application);
// Every non-empty list of the match holds one of the licence's values.
bool Matches(const v1::RestrictionMatch& match, const LicenceTerms& terms);
// Not lifted, and effective_from <= time < effective_until (0 = open ended).
bool InForce(const v1::Restriction& restriction, uint64_t time_ms);
// Form of a match: known enums, valid countries, no duplicates, bounded lists.
Refusal CheckMatch(const v1::RestrictionMatch& match);

}  // namespace reel::ledger
