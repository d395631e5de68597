// Governance: organisations, sites, quotas (REGULATOR) and key rotation (the
// organisation itself).
#include <algorithm>

#include "base/limits.h"
#include "node/ledger/exec.h"

namespace reel::ledger {
namespace {

void SortedRoles(const google::protobuf::RepeatedField<int>& in,
                 google::protobuf::RepeatedField<int>* out) {
  *out = in;
  std::sort(out->begin(), out->end());
}

void SortedKeys(const google::protobuf::RepeatedPtrField<std::string>& in,
                google::protobuf::RepeatedPtrField<std::string>* out) {
  *out = in;
  std::sort(out->begin(), out->end());
}

Refusal CheckOrgKind(v1::OrgKind kind) {
  if (kind != v1::ORG_KIND_UNSPECIFIED && v1::OrgKind_IsValid(kind)) return Accept();
  return Refuse(v1::INVALID_ENUM,
                "organisation kind must be MINISTRY, STATE_ENTERPRISE or "
                "PRIVATE_ENTERPRISE");
}

Refusal LoadOrg(const TxContext& ctx, const std::string& org_id, v1::Org* org) {
  std::optional<v1::Org> found = ctx.state.GetOrg(org_id);
  if (!found.has_value()) {
    return Refuse(v1::ORG_NOT_FOUND, "organisation '" + org_id + "' is not registered");
  }
  *org = std::move(*found);
  return Accept();
}

bool RemovesActiveRegulator(const v1::Org& before, const v1::Org& after) {
  const bool was = before.status() == v1::ORG_STATUS_ACTIVE && HasRole(before, v1::ROLE_REGULATOR);
  const bool is = after.status() == v1::ORG_STATUS_ACTIVE && HasRole(after, v1::ROLE_REGULATOR);
  return was && !is;
}

}  // namespace

Refusal FormRegisterOrg(const v1::RegisterOrg& a) {
  REEL_TRY(CheckOrgId(a.org_id(), "organisation id"));
  REEL_TRY(CheckText(a.name(), "organisation name", true));
  REEL_TRY(CheckOrgKind(a.kind()));
  REEL_TRY(CheckRoles(a.roles(), a.kind()));
  REEL_TRY(CheckKeysAndQuorum(a.signatory_keys(), a.quorum()));
  return Accept();
}

Refusal ApplyRegisterOrg(TxContext& ctx, const v1::RegisterOrg& a) {
  if (ctx.state.GetOrg(a.org_id()).has_value()) {
    return Refuse(v1::ORG_EXISTS, "organisation '" + a.org_id() + "' is already registered");
  }
  v1::Org org;
  org.set_org_id(a.org_id());
  org.set_name(a.name());
  org.set_kind(a.kind());
  SortedRoles(a.roles(), org.mutable_roles());
  SortedKeys(a.signatory_keys(), org.mutable_signatory_keys());
  org.set_quorum(a.quorum());
  org.set_status(v1::ORG_STATUS_ACTIVE);
  org.set_created_height(ctx.block.height);
  org.set_updated_height(ctx.block.height);
  ctx.state.PutOrg(org);
  return Accept();
}

void EventRegisterOrg(const v1::RegisterOrg& a, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(a.org_id());
}

Refusal FormUpdateOrg(const v1::UpdateOrg& a) {
  REEL_TRY(CheckOrgId(a.org_id(), "organisation id"));
  if (!a.has_name() && !a.has_status() && !a.has_roles()) {
    return Refuse(v1::EMPTY_UPDATE, "UpdateOrg names no field to change (name, status or roles)");
  }
  if (a.has_name()) REEL_TRY(CheckText(a.name(), "organisation name", true));
  if (a.has_status() && a.status() != v1::ORG_STATUS_ACTIVE &&
      a.status() != v1::ORG_STATUS_SUSPENDED) {
    return Refuse(v1::INVALID_ENUM, "status must be ACTIVE or SUSPENDED");
  }
  return Accept();
}

Refusal ApplyUpdateOrg(TxContext& ctx, const v1::UpdateOrg& a) {
  v1::Org org;
  REEL_TRY(LoadOrg(ctx, a.org_id(), &org));
  const v1::Org before = org;
  if (a.has_name()) org.set_name(a.name());
  if (a.has_status()) {
    org.set_status(a.status());
    if (a.status() == v1::ORG_STATUS_ACTIVE) org.clear_suspended_by_violation_id();
  }
  if (a.has_roles()) {
    // The kind decides which roles are allowed, so roles are checked against the record.
    REEL_TRY(CheckRoles(a.roles().roles(), org.kind()));
    SortedRoles(a.roles().roles(), org.mutable_roles());
  }
  if (org.SerializeAsString() == before.SerializeAsString()) {
    return Refuse(v1::EMPTY_UPDATE, "UpdateOrg changes nothing of '" + a.org_id() + "'");
  }
  if (RemovesActiveRegulator(before, org) && !ctx.state.OtherActiveRegulatorExists(org.org_id())) {
    return Refuse(v1::LAST_REGULATOR,
                  "'" + org.org_id() + "' is the last ACTIVE REGULATOR; register another first");
  }
  org.set_updated_height(ctx.block.height);
  ctx.state.PutOrg(org);
  return Accept();
}

void EventUpdateOrg(const v1::UpdateOrg& a, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(a.org_id());
}

Refusal FormRegisterSite(const v1::RegisterSite& a) {
  REEL_TRY(CheckObjectId(a.site_id(), "site id"));
  REEL_TRY(CheckOrgId(a.org_id(), "site owner"));
  REEL_TRY(CheckText(a.name(), "site name", true));
  REEL_TRY(CheckText(a.address(), "site address", false));
  if (a.kind() != v1::SITE_KIND_MINE && a.kind() != v1::SITE_KIND_PLANT) {
    return Refuse(v1::INVALID_ENUM, "site kind must be MINE or PLANT");
  }
  const bool has_deposit = a.deposit_type() != v1::DEPOSIT_TYPE_UNSPECIFIED;
  if (has_deposit && !v1::DepositType_IsValid(a.deposit_type())) {
    return Refuse(v1::INVALID_ENUM, "unknown deposit type");
  }
  if (a.kind() == v1::SITE_KIND_MINE) {
    if (!has_deposit) {
      return Refuse(v1::DEPOSIT_TYPE_MISMATCH,
                    "a mine needs a deposit type (ROCK or ION_ADSORPTION): it selects the quota");
    }
    REEL_TRY(CheckText(a.province(), "mine province", true));
  } else {
    if (has_deposit) return Refuse(v1::DEPOSIT_TYPE_MISMATCH, "a plant has no deposit type");
    REEL_TRY(CheckText(a.province(), "province", false));
  }
  return Accept();
}

Refusal ApplyRegisterSite(TxContext& ctx, const v1::RegisterSite& a) {
  if (ctx.state.GetSite(a.site_id()).has_value()) {
    return Refuse(v1::SITE_EXISTS, "site '" + a.site_id() + "' is already registered");
  }
  v1::Org owner;
  REEL_TRY(LoadOrg(ctx, a.org_id(), &owner));
  if (a.kind() == v1::SITE_KIND_MINE && owner.kind() != v1::ORG_KIND_STATE_ENTERPRISE) {
    return Refuse(v1::NOT_STATE_ENTERPRISE,
                  "a mine can only be registered to a state enterprise; '" + owner.org_id() +
                      "' is " + v1::OrgKind_Name(owner.kind()));
  }
  v1::Site site;
  site.set_site_id(a.site_id());
  site.set_org_id(a.org_id());
  site.set_name(a.name());
  site.set_kind(a.kind());
  site.set_deposit_type(a.deposit_type());
  site.set_province(a.province());
  site.set_address(a.address());
  site.set_created_height(ctx.block.height);
  ctx.state.PutSite(site);
  return Accept();
}

void EventRegisterSite(const v1::RegisterSite& a, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(a.org_id());
  e->set_site_id(a.site_id());
}

Refusal FormSetQuota(const v1::SetQuota& a) {
  REEL_TRY(CheckOrgId(a.org_id(), "quota holder"));
  if (a.year() < limits::ledger_quota_year_min || a.year() > limits::ledger_quota_year_max) {
    return Refuse(v1::INVALID_YEAR, "year " + std::to_string(a.year()) + " is outside " +
                                        std::to_string(limits::ledger_quota_year_min) + ".." +
                                        std::to_string(limits::ledger_quota_year_max));
  }
  if (a.category() == v1::QUOTA_CATEGORY_UNSPECIFIED || !v1::QuotaCategory_IsValid(a.category())) {
    return Refuse(v1::INVALID_ENUM,
                  "quota category must be MINING_LIGHT, MINING_MEDIUM_HEAVY "
                  "or SMELTING_SEPARATION");
  }
  if (a.amount_g() < 0) return Refuse(v1::INVALID_AMOUNT, "quota amount_g must not be negative");
  return Accept();
}

Refusal ApplySetQuota(TxContext& ctx, const v1::SetQuota& a) {
  v1::Org org;
  REEL_TRY(LoadOrg(ctx, a.org_id(), &org));
  v1::Quota quota = ctx.state.GetQuota(a.org_id(), a.year(), a.category()).value_or(v1::Quota());
  if (quota.org_id().empty()) {
    quota.set_org_id(a.org_id());
    quota.set_year(a.year());
    quota.set_category(a.category());
    // A cut recorded before the quota was first set still applies to it.
    quota.set_cut_g(ctx.state.QuotaCut(a.org_id(), a.year()));
  }
  quota.set_granted_g(a.amount_g());
  quota.set_updated_height(ctx.block.height);
  ctx.state.PutQuota(quota);
  return Accept();
}

void EventSetQuota(const v1::SetQuota& a, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(a.org_id());
}

Refusal FormRotateKeys(const v1::RotateKeys& a) {
  return CheckKeysAndQuorum(a.signatory_keys(), a.quorum());
}

Refusal ApplyRotateKeys(TxContext& ctx, const v1::RotateKeys& a) {
  v1::Org org;
  REEL_TRY(LoadOrg(ctx, ctx.signer_id(), &org));
  SortedKeys(a.signatory_keys(), org.mutable_signatory_keys());
  org.set_quorum(a.quorum());
  org.set_key_generation(org.key_generation() + 1);
  org.set_updated_height(ctx.block.height);
  ctx.state.PutOrg(org);
  return Accept();
}

void EventRotateKeys(const v1::RotateKeys& a, const TxOutcome&, v1::Event* e) {
  // Only its signer, who is in every event.
}

}  // namespace reel::ledger
