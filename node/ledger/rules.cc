#include "node/ledger/rules.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "base/assert.h"
#include "base/limits.h"

namespace reel::ledger {

// --- Syntax ----------------------------------------------------------------------------

namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

// Assigned ISO 3166-1 alpha-2 codes, sorted.
constexpr std::string_view kCountries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW";

}  // namespace

bool IsValidOrgId(std::string_view id) {
  if (id.size() < 2 || id.size() > 63 || !IsLowerAlnum(id[0])) return false;
  return std::all_of(id.begin() + 1, id.end(),
                     [](char c) { return IsLowerAlnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool IsValidObjectId(std::string_view id) {
  if (id.empty() || id.size() > limits::lot_id_bytes_max) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return IsAlnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

Refusal CheckOrgId(std::string_view id, std::string_view what) {
  if (IsValidOrgId(id)) return Accept();
  return Refuse(v1::INVALID_ORG_ID, std::string(what) + " '" + std::string(id.substr(0, 80)) +
                                        "' is not an organisation id ([a-z0-9][a-z0-9._-]{1,62})");
}

Refusal CheckObjectId(std::string_view id, std::string_view what) {
  if (IsValidObjectId(id)) return Accept();
  return Refuse(v1::INVALID_LOT_ID, std::string(what) + " '" + std::string(id.substr(0, 80)) +
                                        "' is not a valid id ([A-Za-z0-9._:-]{1,64})");
}

Refusal CheckText(std::string_view text, std::string_view what, bool required) {
  if (required && text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Refuse(v1::INVALID_TEXT, std::string(what) + " is required");
  }
  if (text.size() > limits::ledger_text_bytes_max) {
    return Refuse(v1::INVALID_TEXT, std::string(what) + " is longer than " +
                                        std::to_string(limits::ledger_text_bytes_max) + " bytes");
  }
  if (!IsValidUtf8(text)) return Refuse(v1::INVALID_TEXT, std::string(what) + " is not UTF-8");
  return Accept();
}

bool IsValidCountry(std::string_view code) {
  if (code.size() != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') {
    return false;
  }
  for (size_t i = 0; i + 1 < kCountries.size(); i += 3) {
    if (kCountries.substr(i, 2) == code) return true;
  }
  return false;
}

Refusal CheckCountry(std::string_view code, std::string_view what) {
  if (IsValidCountry(code)) return Accept();
  return Refuse(v1::INVALID_COUNTRY,
                std::string(what) + " '" + std::string(code.substr(0, 16)) +
                    "' is not an upper-case ISO 3166-1 alpha-2 country code (e.g. \"DE\")");
}

// --- Enums ------------------------------------------------------------------------------

bool IsKnownRole(int role) {
  return role != 0 && v1::Role_IsValid(role);
}
bool IsKnownElement(int element) {
  return element != 0 && v1::Element_IsValid(element);
}
bool IsKnownForm(int form) {
  return form != 0 && v1::ProductForm_IsValid(form);
}
bool IsKnownIndustry(int industry) {
  return industry != 0 && v1::Industry_IsValid(industry);
}

int FormRank(v1::ProductForm form) {
  switch (form) {
    case v1::PRODUCT_FORM_ORE:
      return 1;
    case v1::PRODUCT_FORM_CONCENTRATE:
      return 2;
    case v1::PRODUCT_FORM_MIXED_CARBONATE:
    case v1::PRODUCT_FORM_MIXED_OXIDE:
      return 3;
    case v1::PRODUCT_FORM_SEPARATED_OXIDE:
      return 4;
    case v1::PRODUCT_FORM_METAL:
      return 5;
    case v1::PRODUCT_FORM_ALLOY:
      return 6;
    case v1::PRODUCT_FORM_MAGNET:
      return 7;
    default:
      return 0;
  }
}

bool IsUpstream(v1::ProductForm form) {
  const int rank = FormRank(form);
  return rank >= 1 && rank <= 3;
}

std::string FormName(v1::ProductForm form) {
  std::string name = v1::ProductForm_Name(form);
  return name.starts_with("PRODUCT_FORM_") ? name.substr(13) : name;
}

std::string ElementName(v1::Element element) {
  std::string name = v1::Element_Name(element);
  return name.starts_with("ELEMENT_") ? name.substr(8) : name;
}

// --- Organisations -----------------------------------------------------------------------

bool HasRole(const v1::Org& org, v1::Role role) {
  return std::find(org.roles().begin(), org.roles().end(), role) != org.roles().end();
}

bool HasCustodyRole(const v1::Org& org) {
  return HasRole(org, v1::ROLE_MINER) || HasRole(org, v1::ROLE_SMELTER_SEPARATOR) ||
         HasRole(org, v1::ROLE_PROCESSOR) || HasRole(org, v1::ROLE_EXPORTER);
}

Refusal CheckMayHold(const v1::Org& org, v1::ProductForm form) {
  if (IsUpstream(form) && org.kind() != v1::ORG_KIND_STATE_ENTERPRISE) {
    return Refuse(v1::UPSTREAM_HOLDER_NOT_STATE,
                  "organisation '" + org.org_id() +
                      "' is not a state enterprise and may not hold " + FormName(form) +
                      " (upstream material is reserved to state enterprises)");
  }
  // Upstream material is for miners, smelter-separators and exporters; separated and
  // downstream products for smelter-separators, processors and exporters.
  const bool ok = IsUpstream(form)
                      ? HasRole(org, v1::ROLE_MINER) || HasRole(org, v1::ROLE_SMELTER_SEPARATOR) ||
                            HasRole(org, v1::ROLE_EXPORTER)
                      : HasRole(org, v1::ROLE_SMELTER_SEPARATOR) ||
                            HasRole(org, v1::ROLE_PROCESSOR) || HasRole(org, v1::ROLE_EXPORTER);
  if (ok) return Accept();
  return Refuse(v1::RECIPIENT_CANNOT_HOLD, "organisation '" + org.org_id() +
                                               "' holds no role that may hold " + FormName(form));
}

Refusal CheckRoles(const google::protobuf::RepeatedField<int>& roles, v1::OrgKind kind) {
  if (static_cast<size_t>(roles.size()) > limits::ledger_roles_max) {
    return Refuse(v1::TOO_MANY_ITEMS, "too many roles");
  }
  std::set<int> seen;
  for (int role : roles) {
    if (!IsKnownRole(role)) {
      return Refuse(v1::INVALID_ENUM, "role " + std::to_string(role) + " is not a known role");
    }
    if (!seen.insert(role).second) {
      return Refuse(v1::DUPLICATE_ITEM,
                    v1::Role_Name(static_cast<v1::Role>(role)) + " is listed twice");
    }
    if ((role == v1::ROLE_MINER || role == v1::ROLE_SMELTER_SEPARATOR) &&
        kind != v1::ORG_KIND_STATE_ENTERPRISE) {
      return Refuse(v1::NOT_STATE_ENTERPRISE,
                    v1::Role_Name(static_cast<v1::Role>(role)) +
                        " may only be held by a STATE_ENTERPRISE (only large state-owned "
                        "enterprises may mine, smelt or separate)");
    }
  }
  return Accept();
}

Refusal CheckKeysAndQuorum(const google::protobuf::RepeatedPtrField<std::string>& keys,
                           uint32_t quorum) {
  if (static_cast<size_t>(keys.size()) > limits::ledger_org_keys_max) {
    return Refuse(v1::TOO_MANY_ITEMS,
                  "more than " + std::to_string(limits::ledger_org_keys_max) + " signatory keys");
  }
  std::set<std::string> seen;
  for (const std::string& key : keys) {
    if (key.size() != 32) {
      return Refuse(v1::INVALID_PUBLIC_KEY, "a signatory key has " + std::to_string(key.size()) +
                                                " bytes; Ed25519 public keys have 32");
    }
    if (!seen.insert(key).second)
      return Refuse(v1::DUPLICATE_ITEM, "a signatory key is listed twice");
  }
  if (quorum == 0 || quorum > static_cast<uint32_t>(keys.size())) {
    return Refuse(v1::INVALID_QUORUM, "quorum " + std::to_string(quorum) + " must be 1.." +
                                          std::to_string(keys.size()) + " (the number of keys)");
  }
  return Accept();
}

// --- Amounts and compositions ------------------------------------------------------------

bool AddChecked(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

Refusal CheckComposition(const v1::Composition& composition, int64_t mass_g, int64_t* reo_g,
                         std::string_view what) {
  const std::string w(what);
  if (mass_g <= 0) return Refuse(v1::INVALID_AMOUNT, w + ": mass_g must be positive");
  if (composition.amounts().empty()) {
    return Refuse(v1::INVALID_COMPOSITION, w + ": composition names no rare earth element");
  }
  int previous = 0;
  int64_t sum = 0;
  for (const v1::ElementAmount& amount : composition.amounts()) {
    if (!IsKnownElement(amount.element())) {
      return Refuse(v1::INVALID_COMPOSITION, w + ": composition holds an unknown element");
    }
    if (amount.element() <= previous) {
      return Refuse(v1::INVALID_COMPOSITION,
                    w + ": composition is not sorted by element without duplicates (at " +
                        ElementName(amount.element()) + ")");
    }
    if (amount.reo_g() <= 0) {
      return Refuse(v1::INVALID_COMPOSITION,
                    w + ": " + ElementName(amount.element()) + " has a non-positive amount");
    }
    if (!AddChecked(sum, amount.reo_g(), &sum)) {
      return Refuse(v1::AMOUNT_OVERFLOW, w + ": composition sum overflows");
    }
    previous = amount.element();
  }
  if (sum > mass_g) {
    return Refuse(v1::REO_EXCEEDS_MASS, w + ": REO " + std::to_string(sum) + " g exceeds mass " +
                                            std::to_string(mass_g) + " g");
  }
  *reo_g = sum;
  return Accept();
}

ElementGrams ToGrams(const v1::Composition& composition) {
  ElementGrams grams{};
  for (const v1::ElementAmount& amount : composition.amounts()) {
    if (IsKnownElement(amount.element())) grams[amount.element()] += amount.reo_g();
  }
  return grams;
}

v1::Composition FromGrams(const ElementGrams& grams) {
  v1::Composition composition;
  for (size_t e = 1; e < grams.size(); ++e) {
    if (grams[e] == 0) continue;
    v1::ElementAmount* amount = composition.add_amounts();
    amount->set_element(static_cast<v1::Element>(e));
    amount->set_reo_g(grams[e]);
  }
  return composition;
}

int64_t SumGrams(const ElementGrams& grams) {
  int64_t sum = 0;
  for (int64_t g : grams) sum += g;
  return sum;
}

bool AddGrams(ElementGrams* into, const ElementGrams& add) {
  for (size_t e = 0; e < add.size(); ++e) {
    if (!AddChecked((*into)[e], add[e], &(*into)[e])) return false;
  }
  return true;
}

// --- Calendar ------------------------------------------------------------------------------

namespace {

namespace chrono = std::chrono;

// UTC+8 all year (China has kept no daylight saving time since 1991): a fixed offset.
constexpr chrono::milliseconds kCstOffset = chrono::hours(8);
// 00:00 UTC on the last day chrono::year_month_day holds (year 32767): a later time
// reads as that day. No quorum stamps such a time (block times follow the voters'
// clocks); the bound keeps the arithmetic inside what chrono defines.
constexpr chrono::sys_days kLastDay = chrono::year::max() / chrono::December / chrono::day(31);
constexpr auto kLastDayMs =
    static_cast<uint64_t>(chrono::milliseconds(kLastDay.time_since_epoch()).count());

}  // namespace

CivilDate CstDate(uint64_t time_ms) {
  const chrono::sys_time<chrono::milliseconds> utc(
      chrono::milliseconds(std::min(time_ms, kLastDayMs)));
  const chrono::year_month_day date(chrono::floor<chrono::days>(utc + kCstOffset));
  return {static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
          static_cast<unsigned>(date.day())};
}

uint64_t CstMonthStartMs(int64_t year, uint32_t month) {
  REEL_ASSERT(year >= static_cast<int>(chrono::year::min()) &&
              year <= static_cast<int>(chrono::year::max()) && month >= 1 && month <= 12);
  const chrono::sys_days first(chrono::year(static_cast<int>(year)) / chrono::month(month) / 1);
  const chrono::milliseconds start = first.time_since_epoch() - kCstOffset;
  return start.count() < 0 ? 0 : static_cast<uint64_t>(start.count());
}

v1::QuotaCategory MiningCategory(v1::DepositType deposit) {
  return deposit == v1::DEPOSIT_TYPE_ION_ADSORPTION ? v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY
                                                    : v1::QUOTA_CATEGORY_MINING_LIGHT;
}

// --- Restrictions -------------------------------------------------------------------------

std::string NormalizeName(std::string_view name) {
  const size_t begin = name.find_first_not_of(" \t\r\n\v\f");
  if (begin == std::string_view::npos) return {};
  const size_t end = name.find_last_not_of(" \t\r\n\v\f");
  std::string out(name.substr(begin, end - begin + 1));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

LicenceTerms TermsOf(const v1::Licence& licence) {
  return {licence.destination_country(),
          licence.consignee(),
          licence.end_user(),
          licence.industry(),
          licence.product(),
          &licence.elements()};
}

LicenceTerms TermsOf(const v1::ApplyExportLicense& application) {
  return {application.destination_country(),
          application.consignee(),
          application.end_user(),
          application.industry(),
          application.product(),
          &application.elements()};
}

namespace {

bool AnyNameMatches(const google::protobuf::RepeatedPtrField<std::string>& names,
                    std::string_view value) {
  const std::string wanted = NormalizeName(value);
  for (const std::string& name : names) {
    if (NormalizeName(name) == wanted) return true;
  }
  return false;
}

bool HasEnum(const google::protobuf::RepeatedField<int>& values, int value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

bool Matches(const v1::RestrictionMatch& match, const LicenceTerms& terms) {
  if (!match.countries().empty() && !AnyNameMatches(match.countries(), terms.country)) return false;
  if (!match.consignees().empty() && !AnyNameMatches(match.consignees(), terms.consignee)) {
    return false;
  }
  if (!match.end_users().empty() && !AnyNameMatches(match.end_users(), terms.end_user))
    return false;
  if (!match.industries().empty() && !HasEnum(match.industries(), terms.industry)) return false;
  if (!match.products().empty() && !HasEnum(match.products(), terms.product)) return false;
  if (!match.elements().empty()) {
    bool any = false;
    if (terms.elements != nullptr) {
      for (int e : *terms.elements) any = any || HasEnum(match.elements(), e);
    }
    if (!any) return false;
  }
  return true;
}

bool InForce(const v1::Restriction& restriction, uint64_t time_ms) {
  if (restriction.lifted()) return false;
  if (time_ms < restriction.effective_from_ms()) return false;
  return restriction.effective_until_ms() == 0 || time_ms < restriction.effective_until_ms();
}

namespace {

Refusal CheckNames(const google::protobuf::RepeatedPtrField<std::string>& names,
                   std::string_view what, bool countries) {
  if (static_cast<size_t>(names.size()) > limits::ledger_match_items_max) {
    return Refuse(v1::TOO_MANY_ITEMS, "too many " + std::string(what));
  }
  std::set<std::string> seen;
  for (const std::string& name : names) {
    REEL_TRY(CheckText(name, what, /*required=*/true));
    std::string normal = NormalizeName(name);
    if (countries) {
      std::string upper = normal;
      for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
      REEL_TRY(CheckCountry(upper, "restricted country"));
    }
    if (!seen.insert(normal).second) {
      return Refuse(v1::DUPLICATE_ITEM, std::string(what) + " '" + name + "' is listed twice");
    }
  }
  return Accept();
}

Refusal CheckEnums(const google::protobuf::RepeatedField<int>& values, std::string_view what,
                   bool (*known)(int)) {
  if (static_cast<size_t>(values.size()) > limits::ledger_match_items_max) {
    return Refuse(v1::TOO_MANY_ITEMS, "too many " + std::string(what));
  }
  std::set<int> seen;
  for (int v : values) {
    if (!known(v)) return Refuse(v1::INVALID_ENUM, std::string(what) + " holds an unknown value");
    if (!seen.insert(v).second) {
      return Refuse(v1::DUPLICATE_ITEM, std::string(what) + " holds a value twice");
    }
  }
  return Accept();
}

}  // namespace

Refusal CheckMatch(const v1::RestrictionMatch& match) {
  REEL_TRY(CheckNames(match.countries(), "countries", /*countries=*/true));
  REEL_TRY(CheckNames(match.consignees(), "consignees", false));
  REEL_TRY(CheckNames(match.end_users(), "end users", false));
  REEL_TRY(CheckEnums(match.industries(), "industries", IsKnownIndustry));
  REEL_TRY(CheckEnums(match.elements(), "elements", IsKnownElement));
  REEL_TRY(CheckEnums(match.products(), "products", IsKnownForm));
  return Accept();
}

}  // namespace reel::ledger
