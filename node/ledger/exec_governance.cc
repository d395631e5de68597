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

Refusal FormRegisterOrg(const v1::RegisterOrg& register_org) {
  REEL_TRY(CheckOrgId(register_org.org_id(), "organisation id"));
  REEL_TRY(CheckText(register_org.name(), "organisation name", true));
  REEL_TRY(CheckOrgKind(register_org.kind()));
  REEL_TRY(CheckRoles(register_org.roles(), register_org.kind()));
  REEL_TRY(CheckKeysAndQuorum(register_org.signatory_keys(), register_org.quorum()));
  return Accept();
}

Refusal ApplyRegisterOrg(TxContext& ctx, const v1::RegisterOrg& register_org) {
  if (ctx.state.GetOrg(register_org.org_id()).has_value()) {
    return Refuse(v1::ORG_EXISTS,
                  "organisation '" + register_org.org_id() + "' is already registered");
  }
  v1::Org org;
  org.set_org_id(register_org.org_id());
  org.set_name(register_org.name());
  org.set_kind(register_org.kind());
  SortedRoles(register_org.roles(), org.mutable_roles());
  SortedKeys(register_org.signatory_keys(), org.mutable_signatory_keys());
  org.set_quorum(register_org.quorum());
  org.set_status(v1::ORG_STATUS_ACTIVE);
  org.set_created_height(ctx.block.height);
  org.set_updated_height(ctx.block.height);
  ctx.state.PutOrg(org);
  return Accept();
}

void EventRegisterOrg(const v1::RegisterOrg& register_org, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(register_org.org_id());
}

Refusal FormUpdateOrg(const v1::UpdateOrg& update_org) {
  REEL_TRY(CheckOrgId(update_org.org_id(), "organisation id"));
  if (!update_org.has_name() && !update_org.has_status() && !update_org.has_roles()) {
    return Refuse(v1::EMPTY_UPDATE, "UpdateOrg names no field to change (name, status or roles)");
  }
  if (update_org.has_name()) REEL_TRY(CheckText(update_org.name(), "organisation name", true));
  if (update_org.has_status() && update_org.status() != v1::ORG_STATUS_ACTIVE &&
      update_org.status() != v1::ORG_STATUS_SUSPENDED) {
    return Refuse(v1::INVALID_ENUM, "status must be ACTIVE or SUSPENDED");
  }
  return Accept();
}

Refusal ApplyUpdateOrg(TxContext& ctx, const v1::UpdateOrg& update_org) {
  v1::Org org;
  REEL_TRY(LoadOrg(ctx, update_org.org_id(), &org));
  const v1::Org before = org;
  if (update_org.has_name()) org.set_name(update_org.name());
  if (update_org.has_status()) {
    org.set_status(update_org.status());
    if (update_org.status() == v1::ORG_STATUS_ACTIVE) org.clear_suspended_by_violation_id();
  }
  if (update_org.has_roles()) {
    // The kind decides which roles are allowed, so roles are checked against the record.
    REEL_TRY(CheckRoles(update_org.roles().roles(), org.kind()));
    SortedRoles(update_org.roles().roles(), org.mutable_roles());
  }
  if (org.SerializeAsString() == before.SerializeAsString()) {
    return Refuse(v1::EMPTY_UPDATE, "UpdateOrg changes nothing of '" + update_org.org_id() + "'");
  }
  if (RemovesActiveRegulator(before, org) && !ctx.state.OtherActiveRegulatorExists(org.org_id())) {
    return Refuse(v1::LAST_REGULATOR,
                  "'" + org.org_id() + "' is the last ACTIVE REGULATOR; register another first");
  }
  org.set_updated_height(ctx.block.height);
  ctx.state.PutOrg(org);
  return Accept();
}

void EventUpdateOrg(const v1::UpdateOrg& update_org, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(update_org.org_id());
}

Refusal FormRegisterSite(const v1::RegisterSite& register_site) {
  REEL_TRY(CheckObjectId(register_site.site_id(), "site id"));
  REEL_TRY(CheckOrgId(register_site.org_id(), "site owner"));
  REEL_TRY(CheckText(register_site.name(), "site name", true));
  REEL_TRY(CheckText(register_site.address(), "site address", false));
  if (register_site.kind() != v1::SITE_KIND_MINE && register_site.kind() != v1::SITE_KIND_PLANT) {
    return Refuse(v1::INVALID_ENUM, "site kind must be MINE or PLANT");
  }
  const bool has_deposit = register_site.deposit_type() != v1::DEPOSIT_TYPE_UNSPECIFIED;
  if (has_deposit && !v1::DepositType_IsValid(register_site.deposit_type())) {
    return Refuse(v1::INVALID_ENUM, "unknown deposit type");
  }
  if (register_site.kind() == v1::SITE_KIND_MINE) {
    if (!has_deposit) {
      return Refuse(v1::DEPOSIT_TYPE_MISMATCH,
                    "a mine needs a deposit type (ROCK or ION_ADSORPTION): it selects the quota");
    }
    REEL_TRY(CheckText(register_site.province(), "mine province", true));
  } else {
    if (has_deposit) return Refuse(v1::DEPOSIT_TYPE_MISMATCH, "a plant has no deposit type");
    REEL_TRY(CheckText(register_site.province(), "province", false));
  }
  return Accept();
}

Refusal ApplyRegisterSite(TxContext& ctx, const v1::RegisterSite& register_site) {
  if (ctx.state.GetSite(register_site.site_id()).has_value()) {
    return Refuse(v1::SITE_EXISTS, "site '" + register_site.site_id() + "' is already registered");
  }
  v1::Org owner;
  REEL_TRY(LoadOrg(ctx, register_site.org_id(), &owner));
  if (register_site.kind() == v1::SITE_KIND_MINE && owner.kind() != v1::ORG_KIND_STATE_ENTERPRISE) {
    return Refuse(v1::NOT_STATE_ENTERPRISE,
                  "a mine can only be registered to a state enterprise; '" + owner.org_id() +
                      "' is " + v1::OrgKind_Name(owner.kind()));
  }
  v1::Site site;
  site.set_site_id(register_site.site_id());
  site.set_org_id(register_site.org_id());
  site.set_name(register_site.name());
  site.set_kind(register_site.kind());
  site.set_deposit_type(register_site.deposit_type());
  site.set_province(register_site.province());
  site.set_address(register_site.address());
  site.set_created_height(ctx.block.height);
  ctx.state.PutSite(site);
  return Accept();
}

void EventRegisterSite(const v1::RegisterSite& register_site, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(register_site.org_id());
  e->set_site_id(register_site.site_id());
}

Refusal FormSetQuota(const v1::SetQuota& set_quota) {
  REEL_TRY(CheckOrgId(set_quota.org_id(), "quota holder"));
  if (set_quota.year() < limits::ledger_quota_year_min ||
      set_quota.year() > limits::ledger_quota_year_max) {
    return Refuse(v1::INVALID_YEAR, "year " + std::to_string(set_quota.year()) + " is outside " +
                                        std::to_string(limits::ledger_quota_year_min) + ".." +
                                        std::to_string(limits::ledger_quota_year_max));
  }
  if (set_quota.category() == v1::QUOTA_CATEGORY_UNSPECIFIED ||
      !v1::QuotaCategory_IsValid(set_quota.category())) {
    return Refuse(v1::INVALID_ENUM,
                  "quota category must be MINING_LIGHT, MINING_MEDIUM_HEAVY "
                  "or SMELTING_SEPARATION");
  }
  if (set_quota.amount_g() < 0)
    return Refuse(v1::INVALID_AMOUNT, "quota amount_g must not be negative");
  return Accept();
}

Refusal ApplySetQuota(TxContext& ctx, const v1::SetQuota& set_quota) {
  v1::Org org;
  REEL_TRY(LoadOrg(ctx, set_quota.org_id(), &org));
  v1::Quota quota = ctx.state.GetQuota(set_quota.org_id(), set_quota.year(), set_quota.category())
                        .value_or(v1::Quota());
  if (quota.org_id().empty()) {
    quota.set_org_id(set_quota.org_id());
    quota.set_year(set_quota.year());
    quota.set_category(set_quota.category());
    // A cut recorded before the quota was first set still applies to it.
    quota.set_cut_g(ctx.state.QuotaCut(set_quota.org_id(), set_quota.year()));
  }
  quota.set_granted_g(set_quota.amount_g());
  quota.set_updated_height(ctx.block.height);
  ctx.state.PutQuota(quota);
  return Accept();
}

void EventSetQuota(const v1::SetQuota& set_quota, const TxOutcome&, v1::Event* e) {
  e->add_org_ids(set_quota.org_id());
}

Refusal FormRotateKeys(const v1::RotateKeys& rotate_keys) {
  return CheckKeysAndQuorum(rotate_keys.signatory_keys(), rotate_keys.quorum());
}

Refusal ApplyRotateKeys(TxContext& ctx, const v1::RotateKeys& rotate_keys) {
  v1::Org org;
  REEL_TRY(LoadOrg(ctx, ctx.signer_id(), &org));
  SortedKeys(rotate_keys.signatory_keys(), org.mutable_signatory_keys());
  org.set_quorum(rotate_keys.quorum());
  org.set_key_generation(org.key_generation() + 1);
  org.set_updated_height(ctx.block.height);
  ctx.state.PutOrg(org);
  return Accept();
}

void EventRotateKeys(const v1::RotateKeys& rotate_keys, const TxOutcome&, v1::Event* e) {
  // Only its signer, who is in every event.
}

}  // namespace reel::ledger
