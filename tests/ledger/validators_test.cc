// Validators: ProposeValidatorChange, ApproveValidatorChange, WithdrawValidatorChange, the
// governance and validator set recorded from genesis, and the query consensus will ask
// (validators.h). One test per rule; certificates come from a CA made for the tests.
#include "node/ledger/validators.h"

#include <map>

#include "node/ledger/queries.h"
#include "node/net/tls.h"
#include "node/storage/leveldb_store.h"
#include "tests/ledger/ledger_test_util.h"

namespace reel::ledger::testing {
namespace {

// Long enough around the block times of World (2025) and the wall clock of the run.
net::Validity LongValidity() {
  return {.not_before_from_now = std::chrono::hours(-24 * 365 * 5),
          .not_after_from_now = std::chrono::hours(24 * 365 * 5)};
}

const net::CertAndKey& ChainCa() {
  static const net::CertAndKey ca = net::MakeCa("reel-test-ca", LongValidity()).value();
  return ca;
}

std::string CertFor(const std::string& name, const net::CertAndKey& ca = ChainCa(),
                    const net::Validity& validity = LongValidity()) {
  return net::MakeNodeCert(ca, name, {}, validity).value().cert_pem;
}

// The one certificate of the chain's CA for `name` in this test program: what genesis
// gave a validator, for the tests that reuse it.
const std::string& TheCertOf(const std::string& name) {
  static std::map<std::string, std::string> made;
  auto [it, inserted] = made.try_emplace(name);
  if (inserted) it->second = CertFor(name);
  return it->second;
}

class ValidatorsTest : public ::testing::Test, public World {
 protected:
  // Genesis with `count` validators v1..vN of miit; the governing organisations are the
  // default: miit, mofcom and ndrc (REGULATOR or EXPORT_AUTHORITY), two of three approve.
  void Start(int count, const std::function<void(v1::Genesis&)>& more = nullptr) {
    Genesis({Org("ndrc", v1::ORG_KIND_MINISTRY, {v1::ROLE_REGULATOR}, *this)}, [&](v1::Genesis& g) {
      g.set_tls_ca_pem(ChainCa().cert_pem);
      for (int i = 1; i <= count; ++i) *g.add_validators() = NewValidator(i);
      if (more) more(g);
    });
  }

  v1::Validator NewValidator(int i) {
    const std::string name = "v" + std::to_string(i);
    v1::Validator v;
    v.set_name(name);
    v.set_org_id("miit");
    v.set_public_key(PublicKey("validator-" + name));
    v.set_address("10.0.0." + std::to_string(i) + ":7000");
    v.set_tls_cert_pem(TheCertOf(name));
    return v;
  }

  v1::TxBody Add(const std::string& signer, const std::string& change, const v1::Validator& v) {
    v1::TxBody b = Body(signer);
    b.mutable_propose_validator_change()->set_change_id(change);
    *b.mutable_propose_validator_change()->mutable_add() = v;
    return b;
  }
  v1::TxBody Remove(const std::string& signer, const std::string& change, const std::string& name) {
    v1::TxBody b = Body(signer);
    b.mutable_propose_validator_change()->set_change_id(change);
    b.mutable_propose_validator_change()->mutable_remove()->set_name(name);
    return b;
  }
  v1::TxBody Replace(const std::string& signer, const std::string& change, const std::string& name,
                     const std::string& key, const std::string& cert) {
    v1::TxBody b = Body(signer);
    b.mutable_propose_validator_change()->set_change_id(change);
    v1::ReplaceValidatorCredentials* r = b.mutable_propose_validator_change()->mutable_replace();
    r->set_name(name);
    r->set_public_key(key);
    r->set_tls_cert_pem(cert);
    return b;
  }
  v1::TxBody Approve(const std::string& signer, const std::string& change) {
    v1::TxBody b = Body(signer);
    b.mutable_approve_validator_change()->set_change_id(change);
    return b;
  }
  v1::TxBody Withdraw(const std::string& signer, const std::string& change) {
    v1::TxBody b = Body(signer);
    b.mutable_withdraw_validator_change()->set_change_id(change);
    return b;
  }
  // Proposed by miit and approved by mofcom, in two blocks.
  void Approved(const v1::TxBody& proposal) {
    Ok(proposal);
    Ok(Approve("mofcom", proposal.propose_validator_change().change_id()));
  }

  v1::ValidatorChangeRecord Change(const std::string& id) {
    return Get<v1::ValidatorChangeRecord>(layout::ValidatorChangeKey(id));
  }
  static std::vector<std::string> NamesOf(const v1::ValidatorSet& set) {
    std::vector<std::string> names;
    for (const v1::Validator& v : set.validators()) names.push_back(v.name());
    return names;
  }
  std::optional<v1::NextValidatorSet> Next() { return PendingEpochChange(store()).value(); }
};

using Names = std::vector<std::string>;

Names Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return Names(ids.begin(), ids.end());
}

TEST_F(ValidatorsTest, GenesisRecordsTheSetAndTheDefaultGovernance) {
  Start(4, [](v1::Genesis& g) { g.mutable_consensus()->set_round_timeout_ms(2000); });
  v1::ValidatorSet set = CurrentValidatorSet(store()).value();
  EXPECT_EQ(NamesOf(set), (Names{"v1", "v2", "v3", "v4"}));
  EXPECT_EQ(set.consensus().round_timeout_ms(), 2000u);
  v1::ValidatorGovernance gov = GetValidatorGovernance(store()).value();
  EXPECT_EQ(Ids(gov.governing_org_ids()), (Names{"miit", "mofcom", "ndrc"}));
  EXPECT_EQ(gov.approvals_required(), 2u);  // a majority of three
  EXPECT_EQ(gov.tls_ca_pem(), ChainCa().cert_pem);
  EXPECT_FALSE(Next().has_value());
}

TEST_F(ValidatorsTest, GenesisGovernanceNamesWhoGovernsAndHowMany) {
  Start(1, [](v1::Genesis& g) {
    g.mutable_governance()->add_governing_org_ids("ndrc");
    g.mutable_governance()->add_governing_org_ids("gacc");
  });
  v1::ValidatorGovernance gov = GetValidatorGovernance(store()).value();
  EXPECT_EQ(Ids(gov.governing_org_ids()), (Names{"gacc", "ndrc"}));
  EXPECT_EQ(gov.approvals_required(), 2u);  // 0: a majority of two
}

TEST_F(ValidatorsTest, GenesisRefusesGovernanceOfAnUnknownOrg) {
  v1::Genesis g;
  g.set_chain_id(kChain);
  g.set_genesis_time_ms(1);
  *g.add_orgs() = Org("miit", v1::ORG_KIND_MINISTRY, {v1::ROLE_REGULATOR}, *this);
  g.mutable_governance()->add_governing_org_ids("nobody");
  EXPECT_FALSE(ExecuteGenesis(g).ok());
}

TEST_F(ValidatorsTest, AnAddTakesEffectWhenEnoughGoverningOrgsApprove) {
  Start(4);
  Ok(Add("miit", "add-v5", NewValidator(5)));
  v1::ValidatorChangeRecord pending = Change("add-v5");
  EXPECT_EQ(pending.status(), v1::VALIDATOR_CHANGE_STATUS_PENDING);
  EXPECT_EQ(pending.proposer_org_id(), "miit");
  EXPECT_EQ(pending.approver_org_ids_size(), 1);  // proposing is approving
  EXPECT_FALSE(Next().has_value());
  EXPECT_FALSE(EpochEndedAt(store(), height()).value().has_value());

  Ok(Approve("ndrc", "add-v5"));
  const uint64_t approving = height();
  v1::ValidatorChangeRecord approved = Change("add-v5");
  EXPECT_EQ(approved.status(), v1::VALIDATOR_CHANGE_STATUS_APPROVED);
  EXPECT_EQ(approved.decided_height(), approving);
  EXPECT_EQ(Ids(approved.approver_org_ids()), (Names{"miit", "ndrc"}));
  // The approving block ends epoch 0: after it the new set is current, as epoch 1
  // rooted at that block, and nothing is left pending.
  std::optional<v1::ValidatorSet> next = EpochEndedAt(store(), approving).value();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(NamesOf(*next), (Names{"v1", "v2", "v3", "v4", "v5"}));
  EXPECT_EQ(next->epoch(), 1u);
  EXPECT_EQ(next->start_height(), approving);
  EXPECT_EQ(NamesOf(CurrentValidatorSet(store()).value()), NamesOf(*next));
  EXPECT_FALSE(Next().has_value());
  // A later block that approves nothing ends no epoch.
  Ok(Add("miit", "add-v6", NewValidator(6)));
  EXPECT_FALSE(EpochEndedAt(store(), height()).value().has_value());
  EXPECT_EQ(CurrentValidatorSet(store()).value().epoch(), 1u);
}

TEST_F(ValidatorsTest, WithOneApprovalRequiredAProposalTakesEffectAtOnce) {
  Start(1, [](v1::Genesis& g) {
    g.mutable_governance()->add_governing_org_ids("miit");
    g.mutable_governance()->set_approvals_required(1);
  });
  Ok(Add("miit", "add-v2", NewValidator(2)));
  EXPECT_EQ(Change("add-v2").status(), v1::VALIDATOR_CHANGE_STATUS_APPROVED);
  std::optional<v1::ValidatorSet> next = EpochEndedAt(store(), height()).value();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(NamesOf(*next), (Names{"v1", "v2"}));
}

TEST_F(ValidatorsTest, EachApprovingBlockStartsAnEpochOnTheSetBefore) {
  Start(4, [](v1::Genesis& g) { g.mutable_consensus()->set_round_timeout_ms(2000); });
  Approved(Add("miit", "add-v5", NewValidator(5)));
  EXPECT_EQ(CurrentValidatorSet(store()).value().epoch(), 1u);
  const std::string key = PublicKey("v3-new-key");
  Approved(Replace("miit", "rekey-v3", "v3", key, CertFor("v3")));
  EXPECT_EQ(CurrentValidatorSet(store()).value().epoch(), 2u);
  v1::TxBody timings = Body("mofcom");
  timings.mutable_propose_validator_change()->set_change_id("timings");
  timings.mutable_propose_validator_change()->mutable_consensus()->set_round_timeout_ms(3000);
  Ok(timings);
  Ok(Approve("ndrc", "timings"));
  std::optional<v1::ValidatorSet> next = EpochEndedAt(store(), height()).value();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->epoch(), 3u);
  EXPECT_EQ(NamesOf(*next), (Names{"v1", "v2", "v3", "v4", "v5"}));
  EXPECT_EQ(next->validators(2).public_key(), key);
  EXPECT_EQ(next->consensus().round_timeout_ms(), 3000u);
}

TEST_F(ValidatorsTest, ApprovalsInOneBlockEndOneEpochTogether) {
  Start(4);
  Ok(Add("miit", "add-v5", NewValidator(5)));
  Ok(Add("miit", "add-v6", NewValidator(6)));
  std::vector<v1::TxResult> results = Block({Approve("ndrc", "add-v5"), Approve("ndrc", "add-v6")});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].code(), v1::OK) << results[0].message();
  EXPECT_EQ(results[1].code(), v1::OK) << results[1].message();
  std::optional<v1::ValidatorSet> next = EpochEndedAt(store(), height()).value();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->epoch(), 1u);
  EXPECT_EQ(NamesOf(*next), (Names{"v1", "v2", "v3", "v4", "v5", "v6"}));
  EXPECT_FALSE(Next().has_value());
}

TEST_F(ValidatorsTest, RemovalMayNotTakeASetOfFourBelowFour) {
  Start(4);
  Refused(Remove("miit", "rm-v4", "v4"), v1::TOO_FEW_VALIDATORS);
}

TEST_F(ValidatorsTest, RemovalOfTheLastValidatorIsRefused) {
  Start(1);
  Refused(Remove("miit", "rm-v1", "v1"), v1::TOO_FEW_VALIDATORS);
}

TEST_F(ValidatorsTest, RemovalsInOneEpochChangeMayNotExceedFOfTheCurrentSet) {
  Start(7);  // f = 2
  Ok(Remove("miit", "rm-v7", "v7"));
  Ok(Remove("miit", "rm-v6", "v6"));
  Ok(Remove("miit", "rm-v5", "v5"));
  // The three approvals come in one block, so one epoch change: the third is refused and
  // stays pending.
  std::vector<v1::TxResult> results =
      Block({Approve("mofcom", "rm-v7"), Approve("mofcom", "rm-v6"), Approve("mofcom", "rm-v5")});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].code(), v1::OK) << results[0].message();
  EXPECT_EQ(results[1].code(), v1::OK) << results[1].message();
  EXPECT_EQ(results[2].code(), v1::TOO_MANY_REMOVALS) << results[2].message();
  EXPECT_EQ(Change("rm-v5").status(), v1::VALIDATOR_CHANGE_STATUS_PENDING);
  std::optional<v1::ValidatorSet> next = EpochEndedAt(store(), height()).value();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(NamesOf(*next), (Names{"v1", "v2", "v3", "v4", "v5"}));
  // The next epoch's set of 5 tolerates one more: a later block may remove it.
  Ok(Approve("mofcom", "rm-v5"));
  EXPECT_EQ(CurrentValidatorSet(store()).value().validators_size(), 4);
}

TEST_F(ValidatorsTest, RemovingAnUnknownValidatorIsRefused) {
  Start(5);
  Refused(Remove("miit", "rm-x", "nobody"), v1::VALIDATOR_NOT_FOUND);
  Refused(Replace("miit", "rk-x", "nobody", PublicKey("k"), ""), v1::VALIDATOR_NOT_FOUND);
}

TEST_F(ValidatorsTest, CertificateOfAnotherCaIsRefused) {
  Start(4);
  const net::CertAndKey other = net::MakeCa("other-ca", LongValidity()).value();
  v1::Validator v5 = NewValidator(5);
  v5.set_tls_cert_pem(CertFor("v5", other));
  Refused(Add("miit", "add-v5", v5), v1::CERT_NOT_BY_CHAIN_CA);
  Refused(Replace("miit", "rk-v2", "v2", "", CertFor("v2", other)), v1::CERT_NOT_BY_CHAIN_CA);
  v5.set_tls_cert_pem("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  Refused(Add("miit", "add-v5", v5), v1::CERT_NOT_BY_CHAIN_CA);
}

TEST_F(ValidatorsTest, CertificateNotValidAtTheBlockTimeIsRefused) {
  Start(4);
  // Valid from an hour ago (wall clock); the blocks of World are in 2025, before that.
  v1::Validator v5 = NewValidator(5);
  v5.set_tls_cert_pem(CertFor("v5", ChainCa(), net::Validity{}));
  Refused(Add("miit", "add-v5", v5), v1::CERT_NOT_BY_CHAIN_CA);
}

TEST_F(ValidatorsTest, ANameOrKeyAlreadyInUseIsRefused) {
  Start(4);
  v1::Validator same_name = NewValidator(5);
  same_name.set_name("v2");
  same_name.set_tls_cert_pem(CertFor("v2"));
  Refused(Add("miit", "add-a", same_name), v1::VALIDATOR_IN_USE);
  v1::Validator same_key = NewValidator(5);
  same_key.set_public_key(NewValidator(3).public_key());
  Refused(Add("miit", "add-b", same_key), v1::VALIDATOR_IN_USE);
  Refused(Replace("miit", "rk-v1", "v1", NewValidator(2).public_key(), ""), v1::VALIDATOR_IN_USE);
  // In use in the next epoch's set counts too.
  Approved(Add("miit", "add-v5", NewValidator(5)));
  Refused(Add("miit", "add-v5-again", NewValidator(5)), v1::VALIDATOR_IN_USE);
}

// Two validators with one certificate could not be told apart by their peers.
TEST_F(ValidatorsTest, ACertificateAlreadyInUseIsRefused) {
  Start(4);
  v1::Validator same_cert = NewValidator(5);
  same_cert.set_tls_cert_pem(NewValidator(2).tls_cert_pem());
  Refused(Add("miit", "add-a", same_cert), v1::VALIDATOR_IN_USE);
  // Whatever its PEM text looks like (a fingerprint of the DER is what counts).
  same_cert.set_tls_cert_pem("\n" + NewValidator(3).tls_cert_pem());
  Refused(Add("miit", "add-b", same_cert), v1::VALIDATOR_IN_USE);
  Refused(Replace("miit", "rk-v3", "v3", "", NewValidator(1).tls_cert_pem()), v1::VALIDATOR_IN_USE);
}

// Peers dial a validator by its name and check its certificate against it.
TEST_F(ValidatorsTest, ACertificateThatDoesNotNameTheValidatorIsRefused) {
  Start(4);
  v1::Validator v5 = NewValidator(5);
  v5.set_tls_cert_pem(CertFor("someone-else"));
  Refused(Add("miit", "add-v5", v5), v1::CERT_NAME_MISMATCH);
  Refused(Replace("miit", "rk-v2", "v2", "", CertFor("v3")), v1::CERT_NAME_MISMATCH);
  Approved(Replace("miit", "rk-v2b", "v2", "", CertFor("v2")));
}

TEST_F(ValidatorsTest, NonGoverningOrganisationsMayNotProposeOrApprove) {
  Start(4);
  Refused(Add("gacc", "add-v5", NewValidator(5)), v1::NOT_GOVERNING_ORG);
  Ok(Add("miit", "add-v5", NewValidator(5)));
  Refused(Approve("gacc", "add-v5"), v1::NOT_GOVERNING_ORG);
}

TEST_F(ValidatorsTest, AnOrganisationApprovesOnce) {
  Start(4);
  Ok(Add("miit", "add-v5", NewValidator(5)));
  Refused(Approve("miit", "add-v5"), v1::ALREADY_APPROVED);
}

// Nor does an approver other than the proposer count twice: with all three required, a
// second approval by MOFCOM is refused and the change still waits for NDRC.
TEST_F(ValidatorsTest, AnApproverOtherThanTheProposerApprovesOnce) {
  Start(4, [](v1::Genesis& g) {
    for (const char* org : {"miit", "mofcom", "ndrc"})
      g.mutable_governance()->add_governing_org_ids(org);
    g.mutable_governance()->set_approvals_required(3);
  });
  Ok(Add("miit", "add-v5", NewValidator(5)));
  Ok(Approve("mofcom", "add-v5"));
  Refused(Approve("mofcom", "add-v5"), v1::ALREADY_APPROVED);
  EXPECT_EQ(Change("add-v5").status(), v1::VALIDATOR_CHANGE_STATUS_PENDING);
  Ok(Approve("ndrc", "add-v5"));
  EXPECT_EQ(Change("add-v5").status(), v1::VALIDATOR_CHANGE_STATUS_APPROVED);
}

TEST_F(ValidatorsTest, ApprovingOrWithdrawingAnUnknownChangeIsRefused) {
  Start(4);
  Refused(Approve("mofcom", "ghost"), v1::VALIDATOR_CHANGE_NOT_FOUND);
  Refused(Withdraw("miit", "ghost"), v1::VALIDATOR_CHANGE_NOT_FOUND);
}

TEST_F(ValidatorsTest, ApprovingOrWithdrawingAChangeNoLongerPendingIsRefused) {
  Start(4);
  Approved(Add("miit", "add-v5", NewValidator(5)));
  Refused(Approve("ndrc", "add-v5"), v1::VALIDATOR_CHANGE_NOT_PENDING);
  Refused(Withdraw("miit", "add-v5"), v1::VALIDATOR_CHANGE_NOT_PENDING);
  Ok(Add("miit", "add-v6", NewValidator(6)));
  Ok(Withdraw("miit", "add-v6"));
  EXPECT_EQ(Change("add-v6").status(), v1::VALIDATOR_CHANGE_STATUS_WITHDRAWN);
  Refused(Approve("mofcom", "add-v6"), v1::VALIDATOR_CHANGE_NOT_PENDING);
  Refused(Withdraw("miit", "add-v6"), v1::VALIDATOR_CHANGE_NOT_PENDING);
}

TEST_F(ValidatorsTest, OnlyTheProposerWithdraws) {
  Start(4);
  Ok(Add("miit", "add-v5", NewValidator(5)));
  Refused(Withdraw("mofcom", "add-v5"), v1::NOT_PROPOSER);
  Ok(Withdraw("miit", "add-v5"));
  EXPECT_FALSE(Next().has_value());
}

TEST_F(ValidatorsTest, AChangeIdIsUsedOnce) {
  Start(4);
  Ok(Add("miit", "add-v5", NewValidator(5)));
  Refused(Remove("mofcom", "add-v5", "v4"), v1::VALIDATOR_CHANGE_EXISTS);
  Ok(Withdraw("miit", "add-v5"));
  Refused(Add("miit", "add-v5", NewValidator(5)), v1::VALIDATOR_CHANGE_EXISTS);
}

TEST_F(ValidatorsTest, FormRefusesWhatNeedsNoState) {
  Start(4);
  v1::TxBody empty = Body("miit");
  empty.mutable_propose_validator_change()->set_change_id("c");
  Refused(empty, v1::MALFORMED);
  v1::Validator no_cert = NewValidator(5);
  no_cert.clear_tls_cert_pem();
  Refused(Add("miit", "c", no_cert), v1::MALFORMED);
  v1::Validator bad_key = NewValidator(5);
  bad_key.set_public_key("short");
  Refused(Add("miit", "c", bad_key), v1::INVALID_PUBLIC_KEY);
  v1::Validator bad_address = NewValidator(5);
  bad_address.set_address("10.0.0.5");
  Refused(Add("miit", "c", bad_address), v1::INVALID_TEXT);
  v1::Validator not_a_dns_name = NewValidator(5);
  not_a_dns_name.set_name("Ministry node");  // its peers could not dial it by this name
  Refused(Add("miit", "c", not_a_dns_name), v1::INVALID_TEXT);
  Refused(Replace("miit", "c", "v1", "", ""), v1::EMPTY_UPDATE);
  v1::TxBody timings = Body("miit");
  timings.mutable_propose_validator_change()->set_change_id("c");
  timings.mutable_propose_validator_change()
      ->mutable_consensus()
      ->set_round_timeout_backoff_percent(90);
  Refused(timings, v1::INVALID_CONSENSUS_PARAMS);
  // Timings that would stall the chain: a block too small for the largest transaction,
  // clocks held closer than servers keep them.
  v1::TxBody small_blocks = Body("miit");
  small_blocks.mutable_propose_validator_change()->set_change_id("c");
  small_blocks.mutable_propose_validator_change()->mutable_consensus()->set_block_bytes_max(
      limits::block_bytes_min - 1);
  Refused(small_blocks, v1::INVALID_CONSENSUS_PARAMS);
  v1::TxBody tight_clocks = Body("miit");
  tight_clocks.mutable_propose_validator_change()->set_change_id("c");
  tight_clocks.mutable_propose_validator_change()->mutable_consensus()->set_clock_drift_max_ms(
      limits::block_timestamp_drift_ms_min - 1);
  Refused(tight_clocks, v1::INVALID_CONSENSUS_PARAMS);
  // A cap below the default first timer: every node would stop at the next epoch.
  v1::TxBody low_cap = Body("miit");
  low_cap.mutable_propose_validator_change()->set_change_id("c");
  low_cap.mutable_propose_validator_change()->mutable_consensus()->set_round_timeout_max_ms(500);
  Refused(low_cap, v1::INVALID_CONSENSUS_PARAMS);
  // A cap near 2^64 would wrap every node's round deadline: the chain would stop with no
  // block left in which to change it back.
  v1::TxBody endless_cap = Body("miit");
  endless_cap.mutable_propose_validator_change()->set_change_id("c");
  endless_cap.mutable_propose_validator_change()->mutable_consensus()->set_round_timeout_max_ms(
      std::numeric_limits<uint64_t>::max());
  Refused(endless_cap, v1::INVALID_CONSENSUS_PARAMS);
  // A first timer below the default idle interval: an idle leader would be timed out.
  v1::TxBody short_timer = Body("miit");
  short_timer.mutable_propose_validator_change()->set_change_id("c");
  short_timer.mutable_propose_validator_change()->mutable_consensus()->set_round_timeout_ms(400);
  Refused(short_timer, v1::INVALID_CONSENSUS_PARAMS);
}

TEST_F(ValidatorsTest, AddOfAnUnregisteredOrganisationIsRefused) {
  Start(4);
  v1::Validator v5 = NewValidator(5);
  v5.set_org_id("nobody");
  Refused(Add("miit", "add-v5", v5), v1::ORG_NOT_FOUND);
}

// The queries a wallet and `reel validators` use (queries.h): changes by change_id,
// filtered by status and paged, each page with the governance and the current set.
TEST_F(ValidatorsTest, QueriesListChangesByIdWithTheGovernanceAndTheCurrentSet) {
  Start(4, [](v1::Genesis& g) { g.mutable_consensus()->set_round_timeout_ms(2000); });
  Ok(Add("miit", "c-add-v5", NewValidator(5)));    // stays pending
  Ok(Add("mofcom", "a-add-v6", NewValidator(6)));  // withdrawn
  Ok(Withdraw("mofcom", "a-add-v6"));
  const Queries q(store());

  v1::ListValidatorChangesRequest all;
  v1::ListValidatorChangesResponse listed = q.ListValidatorChanges(all).value();
  Names ids;
  for (const v1::ValidatorChangeRecord& c : listed.changes()) ids.push_back(c.change_id());
  EXPECT_EQ(ids, (Names{"a-add-v6", "c-add-v5"}));  // by id, not by height
  EXPECT_TRUE(listed.next_page_token().empty());
  EXPECT_EQ(listed.governance().approvals_required(), 2u);
  EXPECT_EQ(Ids(listed.governance().governing_org_ids()), (Names{"miit", "mofcom", "ndrc"}));
  EXPECT_EQ(listed.current().epoch(), 0u);
  EXPECT_EQ(NamesOf(listed.current()), (Names{"v1", "v2", "v3", "v4"}));
  EXPECT_EQ(listed.current().consensus().round_timeout_ms(), 2000u);

  // An approved change, then every status filter; the approving block began epoch 1.
  Approved(Replace("miit", "d-rekey-v3", "v3", PublicKey("v3-new"), ""));
  const uint64_t approving = height();
  const Queries after(store());
  auto with = [&](v1::ValidatorChangeStatus status) {
    v1::ListValidatorChangesRequest r;
    r.set_status(status);
    Names got;
    const v1::ListValidatorChangesResponse page = after.ListValidatorChanges(r).value();
    for (const auto& c : page.changes()) got.push_back(c.change_id());
    return got;
  };
  EXPECT_EQ(with(v1::VALIDATOR_CHANGE_STATUS_PENDING), (Names{"c-add-v5"}));
  EXPECT_EQ(with(v1::VALIDATOR_CHANGE_STATUS_WITHDRAWN), (Names{"a-add-v6"}));
  EXPECT_EQ(with(v1::VALIDATOR_CHANGE_STATUS_APPROVED), (Names{"d-rekey-v3"}));
  v1::ListValidatorChangesResponse later = after.ListValidatorChanges(all).value();
  EXPECT_EQ(later.current().epoch(), 1u);
  EXPECT_EQ(later.current().start_height(), approving);

  // One a page, in the same order; a token is refused with other filters.
  v1::ListValidatorChangesRequest paged;
  paged.set_page_size(1);
  Names pages;
  for (int i = 0; i < 10; ++i) {
    v1::ListValidatorChangesResponse page = after.ListValidatorChanges(paged).value();
    for (const auto& c : page.changes()) pages.push_back(c.change_id());
    EXPECT_EQ(page.governance().approvals_required(), 2u);  // on every page
    EXPECT_EQ(page.current().validators_size(), 4);
    if (page.next_page_token().empty()) break;
    paged.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(pages, (Names{"a-add-v6", "c-add-v5", "d-rekey-v3"}));
  v1::ListValidatorChangesRequest first;
  first.set_page_size(1);
  v1::ListValidatorChangesRequest other;
  other.set_page_size(1);
  other.set_status(v1::VALIDATOR_CHANGE_STATUS_PENDING);
  other.set_page_token(after.ListValidatorChanges(first).value().next_page_token());
  EXPECT_EQ(after.ListValidatorChanges(other).status().code(), Code::kInvalidArgument);

  v1::GetValidatorChangeRequest get;
  get.set_change_id("d-rekey-v3");
  v1::GetValidatorChangeResponse one = after.GetValidatorChange(get).value();
  EXPECT_EQ(one.change().status(), v1::VALIDATOR_CHANGE_STATUS_APPROVED);
  EXPECT_EQ(one.change().decided_height(), approving);
  EXPECT_EQ(Ids(one.change().approver_org_ids()), (Names{"miit", "mofcom"}));
  EXPECT_EQ(one.governance().approvals_required(), 2u);
  get.set_change_id("ghost");
  Result<v1::GetValidatorChangeResponse> ghost = after.GetValidatorChange(get);
  EXPECT_EQ(ghost.status().code(), Code::kNotFound);
  EXPECT_NE(ghost.status().message().find("'ghost' does not exist"), std::string::npos);
}

// On LevelDB, after a reopen: what consensus will read after a restart.
TEST(ValidatorsOnDiskTest, TheNextSetSurvivesAReopen) {
  ::reel::testing::TempDir dir("ledger-validators");
  World w(storage::OpenLevelDb(dir.Sub("db")).value());
  auto validator = [&](const std::string& name) {
    v1::Validator v;
    v.set_name(name);
    v.set_org_id("miit");
    v.set_public_key(w.PublicKey("validator-" + name));
    v.set_address(name + ".example:7000");
    v.set_tls_cert_pem(CertFor(name));
    return v;
  };
  w.Genesis({}, [&](v1::Genesis& g) {
    g.set_tls_ca_pem(ChainCa().cert_pem);
    *g.add_validators() = validator("v1");
  });
  v1::TxBody b = w.Body("miit");
  b.mutable_propose_validator_change()->set_change_id("add-v2");
  *b.mutable_propose_validator_change()->mutable_add() = validator("v2");
  w.Ok(b);  // pending: miit and mofcom govern, both must approve
  v1::TxBody approve = w.Body("mofcom");
  approve.mutable_approve_validator_change()->set_change_id("add-v2");
  w.Ok(approve);
  const crypto::Hash32 root = StateRoot(w.store()).value();
  w.ReplaceStore(nullptr);
  w.ReplaceStore(storage::OpenLevelDb(dir.Sub("db")).value());
  EXPECT_EQ(StateRoot(w.store()).value(), root);
  std::optional<v1::ValidatorSet> next = EpochEndedAt(w.store(), w.height()).value();
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->validators_size(), 2);
  EXPECT_EQ(next->validators(1).name(), "v2");
  EXPECT_EQ(CurrentValidatorSet(w.store()).value().validators_size(), 2);
  EXPECT_EQ(GetValidatorChange(w.store(), "add-v2").value()->status(),
            v1::VALIDATOR_CHANGE_STATUS_APPROVED);
}

}  // namespace
}  // namespace reel::ledger::testing
