// Governance: RegisterOrg, UpdateOrg, RegisterSite, SetQuota, RotateKeys.
#include "tests/ledger/ledger_test_util.h"

namespace reel::ledger::testing {
namespace {

class GovernanceTest : public ::testing::Test, public CustodyWorld {
 protected:
  void SetUp() override { SetupCast(); }

  v1::TxBody Register(v1::RegisterOrg o, const std::string& signer = "miit") {
    v1::TxBody b = Body(signer);
    *b.mutable_register_org() = std::move(o);
    return b;
  }
  v1::RegisterOrg NewOrg() {
    return Org("newco", v1::ORG_KIND_STATE_ENTERPRISE, {v1::ROLE_MINER}, *this);
  }
  v1::TxBody Update(const std::string& org) {
    v1::TxBody b = Body("miit");
    b.mutable_update_org()->set_org_id(org);
    return b;
  }
};

TEST_F(GovernanceTest, RegisterOrg) {
  v1::RegisterOrg o = NewOrg();
  o.clear_roles();
  o.add_roles(v1::ROLE_MINER);
  o.add_roles(v1::ROLE_EXPORTER);
  Refused(Register(NewOrg(), "mineco"), v1::UNAUTHORIZED_ROLE);
  v1::RegisterOrg bad = NewOrg();
  bad.set_org_id("Bad_Id");
  Refused(Register(bad), v1::INVALID_ORG_ID);
  bad = NewOrg();
  bad.set_kind(v1::ORG_KIND_PRIVATE_ENTERPRISE);
  Refused(Register(bad), v1::NOT_STATE_ENTERPRISE);
  bad = NewOrg();
  bad.set_quorum(2);
  Refused(Register(bad), v1::INVALID_QUORUM);
  bad = NewOrg();
  bad.set_signatory_keys(0, "short");
  Refused(Register(bad), v1::INVALID_PUBLIC_KEY);
  bad = NewOrg();
  bad.add_signatory_keys(bad.signatory_keys(0));
  Refused(Register(bad), v1::DUPLICATE_ITEM);
  bad = NewOrg();
  bad.add_roles(v1::ROLE_MINER);
  Refused(Register(bad), v1::DUPLICATE_ITEM);
  bad = NewOrg();
  bad.add_roles(static_cast<v1::Role>(99));
  Refused(Register(bad), v1::INVALID_ENUM);
  bad = NewOrg();
  bad.set_name("  ");
  Refused(Register(bad), v1::INVALID_TEXT);
  Ok(Register(o));
  v1::Org stored = OrgRecord("newco");
  EXPECT_EQ(stored.status(), v1::ORG_STATUS_ACTIVE);
  ASSERT_EQ(stored.roles_size(), 2);
  EXPECT_LT(stored.roles(0), stored.roles(1));  // kept sorted
  Refused(Register(NewOrg()), v1::ORG_EXISTS);
}

TEST_F(GovernanceTest, UpdateOrg) {
  Refused(Update("mineco"), v1::EMPTY_UPDATE);
  v1::TxBody same = Update("mineco");
  same.mutable_update_org()->set_name(OrgRecord("mineco").name());
  Refused(same, v1::EMPTY_UPDATE);
  v1::TxBody ghost = Update("ghost");
  ghost.mutable_update_org()->set_name("x");
  Refused(ghost, v1::ORG_NOT_FOUND);
  v1::TxBody roles = Update("magnets");
  roles.mutable_update_org()->mutable_roles()->add_roles(v1::ROLE_SMELTER_SEPARATOR);
  Refused(roles, v1::NOT_STATE_ENTERPRISE);
  v1::TxBody last = Update("miit");
  last.mutable_update_org()->set_status(v1::ORG_STATUS_SUSPENDED);
  Refused(last, v1::LAST_REGULATOR);
  v1::TxBody strip = Update("miit");
  strip.mutable_update_org()->mutable_roles();
  Refused(strip, v1::LAST_REGULATOR);
  v1::TxBody name = Update("mineco");
  name.mutable_update_org()->set_name("Mine Co. Ltd");
  Ok(name);
  EXPECT_EQ(OrgRecord("mineco").name(), "Mine Co. Ltd");
  // With a second regulator, the first may step down.
  Ok(Register(Org("miit2", v1::ORG_KIND_MINISTRY, {v1::ROLE_REGULATOR}, *this)));
  strip.set_nonce(strip.nonce() + 1000);  // the refused body's id is committed
  Ok(strip);
}

TEST_F(GovernanceTest, RegisterSite) {
  Refused(Site("mine-a", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK), v1::SITE_EXISTS);
  Refused(Site("mine-x", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_UNSPECIFIED),
          v1::DEPOSIT_TYPE_MISMATCH);
  Refused(Site("plant-x", "mineco", v1::SITE_KIND_PLANT, v1::DEPOSIT_TYPE_ROCK),
          v1::DEPOSIT_TYPE_MISMATCH);
  Refused(Site("mine-x", "ghost", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK), v1::ORG_NOT_FOUND);
  Refused(Site("mine-x", "magnets", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK),
          v1::NOT_STATE_ENTERPRISE);
  Refused(Site("bad id", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK), v1::INVALID_LOT_ID);
  v1::TxBody no_province = Site("mine-x", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK);
  no_province.mutable_register_site()->clear_province();
  Refused(no_province, v1::INVALID_TEXT);
  Ok(Site("mine-x", "mineco", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK));
}

TEST_F(GovernanceTest, SetQuota) {
  Refused(Quota("mineco", 1999, v1::QUOTA_CATEGORY_MINING_LIGHT, 1), v1::INVALID_YEAR);
  Refused(Quota("mineco", 2025, v1::QUOTA_CATEGORY_UNSPECIFIED, 1), v1::INVALID_ENUM);
  Refused(Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, -1), v1::INVALID_AMOUNT);
  Refused(Quota("ghost", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 1), v1::ORG_NOT_FOUND);
  // Lowering below use is allowed and stops further use.
  Ok(Extract("L1", "mine-a", 1000, Comp({{v1::ELEMENT_CE, 600}})));
  Ok(Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 500));
  v1::Quota q = QuotaRecord("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT);
  EXPECT_EQ(q.granted_g(), 500);
  EXPECT_EQ(q.used_g(), 600);
  Refused(Extract("L2", "mine-a", 10, Comp({{v1::ELEMENT_CE, 1}})), v1::QUOTA_EXCEEDED);
}

TEST_F(GovernanceTest, RotateKeys) {
  v1::TxBody b = Body("mineco");
  b.mutable_rotate_keys()->add_signatory_keys(PublicKey("mineco", 1));
  b.mutable_rotate_keys()->set_quorum(2);
  Refused(b, v1::INVALID_QUORUM);
  b.mutable_rotate_keys()->set_quorum(1);
  Ok(b);
  std::vector<v1::TxResult> r =
      Execute({Verified(Sign(Extract("L1", "mine-a", 1000, Comp({{v1::ELEMENT_CE, 6}})), 1))});
  EXPECT_EQ(r.at(0).code(), v1::UNKNOWN_SIGNATORY);
}

}  // namespace
}  // namespace reel::ledger::testing
