// The queries through the client API: lookups answer or say NOT_FOUND, lists page with
// their filters through the stub (validator changes with the governance and the current
// set), and TraceLot draws Graphviz DOT when asked (the API's
// part; the ledger gives the nodes and edges).
#include <string>
#include <vector>

#include "tests/api/api_fixture.h"
#include "tests/test_util.h"

namespace reel::api::testing {
namespace {

class ApiQueriesTest : public ApiTest {
 protected:
  // An organisation registered by miit with one key of its own.
  void Register(const std::string& id, v1::OrgKind kind, v1::Role role) {
    v1::TxBody body = node_.Body("miit");
    v1::RegisterOrg* org = body.mutable_register_org();
    org->set_org_id(id);
    org->set_name("Org " + id);
    org->set_kind(kind);
    org->add_roles(role);
    org->add_signatory_keys(Bytes(node_.Key(id).public_key()));
    org->set_quorum(1);
    Commit({body});
  }

  // Commits the bodies as one block; each must apply.
  void Commit(const std::vector<v1::TxBody>& bodies) {
    std::vector<v1::Transaction> txs;
    for (const v1::TxBody& body : bodies) txs.push_back(node_.Sign(body));
    node_.CommitBlock(txs);
    for (const v1::Transaction& tx : txs) {
      v1::GetTransactionResponse record;
      ASSERT_OK(GetTx(Bytes(TestNode::Id(tx)), &record));
      ASSERT_EQ(record.result().code(), v1::OK) << record.result().message();
    }
  }

  v1::TxBody Restriction(const std::string& id, const std::string& country,
                         v1::RestrictionEffect effect) {
    v1::TxBody body = node_.Body("mofcom");
    v1::SetExportRestriction* r = body.mutable_set_export_restriction();
    r->set_restriction_id(id);
    r->mutable_match()->add_countries(country);
    r->set_effect(effect);
    r->set_reason("national security");
    return body;
  }

  v1::TxBody Violation(const std::string& id, const std::string& org, v1::ViolationKind kind) {
    v1::TxBody body = node_.Body("miit");
    v1::RecordViolation* v = body.mutable_record_violation();
    v->set_violation_id(id);
    v->set_org_id(org);
    v->set_kind(kind);
    v->set_fine_fen(50'000'000);
    v->set_description("found in an audit");
    return body;
  }

  // The ids of a list's items over all its pages through the stub, following
  // next_page_token: `items` picks a page's list, `id` is the items' id getter.
  template <typename Request, typename Response, typename Items, typename Item>
  std::vector<std::string> ListedIds(
      grpc::Status (v1::Api::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
      Request request, Items items, const std::string& (Item::*id)() const) {
    std::vector<std::string> ids;
    const uint32_t page_size =
        request.page_size() == 0 ? limits::query_page_size_default : request.page_size();
    for (int page = 0; page < 100; ++page) {
      grpc::ClientContext context;
      Deadline(context);
      Response response;
      grpc::Status status = (stub_.get()->*method)(&context, request, &response);
      EXPECT_OK(status);
      if (!status.ok()) return ids;
      EXPECT_LE(static_cast<uint32_t>(items(response).size()), page_size);
      for (const Item& item : items(response)) ids.push_back((item.*id)());
      if (response.next_page_token().empty()) return ids;
      request.set_page_token(response.next_page_token());
    }
    ADD_FAILURE() << "the list does not end";
    return ids;
  }
};

using Ids = std::vector<std::string>;

TEST_F(ApiQueriesTest, GetOrgAnswersTheRecordOrNotFound) {
  v1::GetOrgRequest request;
  request.set_org_id("mineco");
  v1::GetOrgResponse response;
  grpc::ClientContext context;
  Deadline(context);
  grpc::Status status = stub_->GetOrg(&context, request, &response);
  ASSERT_OK(status);
  EXPECT_EQ(response.org().org_id(), "mineco");
  EXPECT_EQ(response.org().kind(), v1::ORG_KIND_STATE_ENTERPRISE);
  ASSERT_EQ(response.org().roles_size(), 1);
  EXPECT_EQ(response.org().roles(0), v1::ROLE_MINER);
  ASSERT_EQ(response.org().signatory_keys_size(), 1);
  EXPECT_EQ(response.org().signatory_keys(0), Bytes(node_.Key("mineco").public_key()));
  EXPECT_EQ(response.org().quorum(), 1u);

  grpc::ClientContext missing_context;
  Deadline(missing_context);
  request.set_org_id("nobody");
  status = stub_->GetOrg(&missing_context, request, &response);
  EXPECT_CODE(status, NOT_FOUND);
  EXPECT_NE(status.error_message().find("nobody"), std::string::npos);
}

TEST_F(ApiQueriesTest, GetLicenceAnswersTheRecordOrNotFound) {
  Register("exporter", v1::ORG_KIND_PRIVATE_ENTERPRISE, v1::ROLE_EXPORTER);
  v1::TxBody apply = node_.Body("exporter");
  v1::ApplyExportLicense* a = apply.mutable_apply_export_license();
  a->set_licence_id("LIC-1");
  a->set_destination_country("DE");
  a->set_consignee("Acme GmbH");
  a->set_end_user("Acme");
  a->set_industry(v1::INDUSTRY_WIND_ENERGY);
  a->set_product(v1::PRODUCT_FORM_SEPARATED_OXIDE);
  a->add_elements(v1::ELEMENT_ND);
  a->set_mass_g(1000);
  a->set_purpose("turbines");
  Commit({apply});

  v1::GetLicenceRequest request;
  request.set_licence_id("LIC-1");
  v1::GetLicenceResponse response;
  grpc::ClientContext context;
  Deadline(context);
  grpc::Status status = stub_->GetLicence(&context, request, &response);
  ASSERT_OK(status);
  EXPECT_EQ(response.licence().licence_id(), "LIC-1");
  EXPECT_EQ(response.licence().applicant_org_id(), "exporter");
  EXPECT_EQ(response.licence().status(), v1::LICENCE_STATUS_PENDING);
  EXPECT_EQ(response.licence().end_user(), "Acme");
  EXPECT_EQ(response.licence().mass_g(), 1000);
  EXPECT_FALSE(response.expired());

  grpc::ClientContext missing_context;
  Deadline(missing_context);
  request.set_licence_id("LIC-404");
  status = stub_->GetLicence(&missing_context, request, &response);
  EXPECT_CODE(status, NOT_FOUND);
  EXPECT_NE(status.error_message().find("LIC-404"), std::string::npos);

  grpc::ClientContext long_context;
  Deadline(long_context);
  request.set_licence_id(std::string(limits::lot_id_bytes_max + 1, 'l'));
  EXPECT_CODE(stub_->GetLicence(&long_context, request, &response), INVALID_ARGUMENT);
}

TEST_F(ApiQueriesTest, ListViolationsPagesByTimeWithFilters) {
  Register("smelter", v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_SMELTER_SEPARATOR);
  Commit({Violation("V-3", "mineco", v1::VIOLATION_KIND_ILLEGAL_MINING)});
  Commit({Violation("V-1", "smelter", v1::VIOLATION_KIND_SMUGGLING)});
  Commit({Violation("V-2", "mineco", v1::VIOLATION_KIND_SMUGGLING),
          Violation("V-0", "mineco", v1::VIOLATION_KIND_FALSE_RECORD)});
  auto list = [&](const v1::ListViolationsRequest& request) {
    return ListedIds(
        &v1::Api::Stub::ListViolations, request,
        [](const auto& r) -> const auto& { return r.violations(); }, &v1::Violation::violation_id);
  };
  v1::ListViolationsRequest all;
  all.set_page_size(2);
  EXPECT_EQ(list(all), (Ids{"V-3", "V-1", "V-2", "V-0"}));  // by time, then position in the block
  v1::ListViolationsRequest mineco;
  mineco.set_org_id("mineco");
  mineco.set_page_size(1);
  EXPECT_EQ(list(mineco), (Ids{"V-3", "V-2", "V-0"}));
  v1::ListViolationsRequest smuggling;
  smuggling.set_kind(v1::VIOLATION_KIND_SMUGGLING);
  smuggling.set_page_size(1);
  EXPECT_EQ(list(smuggling), (Ids{"V-1", "V-2"}));

  // A token is only good with the filters it came from.
  grpc::ClientContext context;
  Deadline(context);
  v1::ListViolationsResponse first;
  ASSERT_OK(stub_->ListViolations(&context, mineco, &first));
  ASSERT_FALSE(first.next_page_token().empty());
  smuggling.set_page_token(first.next_page_token());
  grpc::ClientContext other_context;
  Deadline(other_context);
  v1::ListViolationsResponse response;
  EXPECT_CODE(stub_->ListViolations(&other_context, smuggling, &response), INVALID_ARGUMENT);
}

TEST_F(ApiQueriesTest, ListTransferOffersPagesByIdWithFilters) {
  Register("smelter", v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_SMELTER_SEPARATOR);
  Commit({node_.Extract("ore-1", 1000, 100), node_.Extract("ore-2", 1000, 100),
          node_.Extract("ore-3", 1000, 100)});
  std::vector<v1::TxBody> offers;
  for (const auto& [offer, lot] :
       {std::pair{"OF-2", "ore-1"}, {"OF-1", "ore-2"}, {"OF-3", "ore-3"}}) {
    v1::TxBody body = node_.Body("mineco");
    body.mutable_transfer_offer()->set_offer_id(offer);
    body.mutable_transfer_offer()->add_lot_ids(lot);
    body.mutable_transfer_offer()->set_to_org_id("smelter");
    offers.push_back(body);
  }
  Commit(offers);
  v1::TxBody accept = node_.Body("smelter");
  accept.mutable_transfer_accept()->set_offer_id("OF-1");
  Commit({accept});

  auto list = [&](const v1::ListTransferOffersRequest& request) {
    return ListedIds(
        &v1::Api::Stub::ListTransferOffers, request,
        [](const auto& r) -> const auto& { return r.offers(); },
        &v1::TransferOfferRecord::offer_id);
  };
  v1::ListTransferOffersRequest all;
  all.set_page_size(1);
  EXPECT_EQ(list(all), (Ids{"OF-1", "OF-2", "OF-3"}));
  v1::ListTransferOffersRequest open;
  open.set_status(v1::TRANSFER_STATUS_OPEN);
  open.set_page_size(1);
  EXPECT_EQ(list(open), (Ids{"OF-2", "OF-3"}));
  v1::ListTransferOffersRequest to_mineco;
  to_mineco.set_to_org_id("mineco");
  EXPECT_EQ(list(to_mineco), Ids{});
  v1::ListTransferOffersRequest accepted_from;
  accepted_from.set_from_org_id("mineco");
  accepted_from.set_status(v1::TRANSFER_STATUS_ACCEPTED);
  EXPECT_EQ(list(accepted_from), (Ids{"OF-1"}));
}

TEST_F(ApiQueriesTest, ListRestrictionsPagesByIdWithFilters) {
  Register("mofcom", v1::ORG_KIND_MINISTRY, v1::ROLE_EXPORT_AUTHORITY);
  Commit({Restriction("R-2", "KP", v1::RESTRICTION_EFFECT_DENY),
          Restriction("R-1", "IR", v1::RESTRICTION_EFFECT_REVIEW),
          Restriction("R-3", "SY", v1::RESTRICTION_EFFECT_DENY)});
  v1::TxBody lift = node_.Body("mofcom");
  lift.mutable_lift_export_restriction()->set_restriction_id("R-3");
  Commit({lift});

  auto list = [&](const v1::ListRestrictionsRequest& request) {
    return ListedIds(
        &v1::Api::Stub::ListRestrictions, request,
        [](const auto& r) -> const auto& { return r.restrictions(); },
        &v1::Restriction::restriction_id);
  };
  v1::ListRestrictionsRequest all;
  all.set_page_size(2);
  EXPECT_EQ(list(all), (Ids{"R-1", "R-2", "R-3"}));
  v1::ListRestrictionsRequest active;
  active.set_active_only(true);
  active.set_page_size(1);
  EXPECT_EQ(list(active), (Ids{"R-1", "R-2"}));
  v1::ListRestrictionsRequest deny;
  deny.set_effect(v1::RESTRICTION_EFFECT_DENY);
  deny.set_page_size(1);
  EXPECT_EQ(list(deny), (Ids{"R-2", "R-3"}));

  grpc::ClientContext context;
  Deadline(context);
  v1::ListRestrictionsResponse response;
  deny.set_page_size(2);
  ASSERT_OK(stub_->ListRestrictions(&context, deny, &response));
  ASSERT_EQ(response.restrictions_size(), 2);
  EXPECT_FALSE(response.restrictions(0).lifted());
  EXPECT_TRUE(response.restrictions(1).lifted());
  EXPECT_EQ(response.restrictions(1).match().countries(0), "SY");
}

// The test genesis has one governing organisation (miit, approvals_required 1), so a
// proposal is approved at once and its block begins epoch 1.
TEST_F(ApiQueriesTest, ValidatorChangesAreListedAndAnsweredOrNotFound) {
  v1::TxBody timings = node_.Body("miit");
  timings.mutable_propose_validator_change()->set_change_id("timings-1");
  timings.mutable_propose_validator_change()->mutable_consensus()->set_round_timeout_ms(1500);
  Commit({timings});

  v1::ListValidatorChangesRequest list;
  v1::ListValidatorChangesResponse listed;
  {
    grpc::ClientContext context;
    Deadline(context);
    ASSERT_OK(stub_->ListValidatorChanges(&context, list, &listed));
  }
  ASSERT_EQ(listed.changes_size(), 1);
  EXPECT_EQ(listed.changes(0).change_id(), "timings-1");
  EXPECT_EQ(listed.changes(0).status(), v1::VALIDATOR_CHANGE_STATUS_APPROVED);
  EXPECT_EQ(listed.governance().approvals_required(), 1u);
  ASSERT_EQ(listed.governance().governing_org_ids_size(), 1);
  EXPECT_EQ(listed.governance().governing_org_ids(0), "miit");
  EXPECT_EQ(listed.current().epoch(), 1u);
  EXPECT_EQ(listed.current().start_height(), listed.changes(0).decided_height());
  EXPECT_EQ(listed.current().consensus().round_timeout_ms(), 1500u);
  EXPECT_EQ(listed.current().validators_size(), 1);
  {
    list.set_status(v1::VALIDATOR_CHANGE_STATUS_PENDING);
    grpc::ClientContext context;
    Deadline(context);
    ASSERT_OK(stub_->ListValidatorChanges(&context, list, &listed));
    EXPECT_EQ(listed.changes_size(), 0);
    EXPECT_EQ(listed.governance().approvals_required(), 1u);  // even on an empty page
  }
  {
    list.set_status(static_cast<v1::ValidatorChangeStatus>(9));
    grpc::ClientContext context;
    Deadline(context);
    grpc::Status status = stub_->ListValidatorChanges(&context, list, &listed);
    EXPECT_CODE(status, INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("status is 9"), std::string::npos);
  }

  v1::GetValidatorChangeRequest get;
  get.set_change_id("timings-1");
  v1::GetValidatorChangeResponse one;
  {
    grpc::ClientContext context;
    Deadline(context);
    ASSERT_OK(stub_->GetValidatorChange(&context, get, &one));
    EXPECT_EQ(one.change().proposer_org_id(), "miit");
    EXPECT_EQ(one.change().change().consensus().round_timeout_ms(), 1500u);
    EXPECT_EQ(one.governance().approvals_required(), 1u);
  }
  {
    get.set_change_id("ghost");
    grpc::ClientContext context;
    Deadline(context);
    grpc::Status status = stub_->GetValidatorChange(&context, get, &one);
    EXPECT_CODE(status, NOT_FOUND);
    EXPECT_NE(status.error_message().find("validator change 'ghost' does not exist"),
              std::string::npos);
  }
  {
    get.set_change_id(std::string(limits::lot_id_bytes_max + 1, 'c'));
    grpc::ClientContext context;
    Deadline(context);
    EXPECT_CODE(stub_->GetValidatorChange(&context, get, &one), INVALID_ARGUMENT);
  }
}

TEST_F(ApiQueriesTest, TraceLotDrawsGraphvizOnlyWhenAsked) {
  node_.CommitBlock({node_.Sign(node_.Extract("lot-1", 1000, 120))});
  v1::TraceLotRequest request;
  request.set_lot_id("lot-1");
  v1::TraceLotResponse response;
  {
    grpc::ClientContext context;
    Deadline(context);
    ASSERT_OK(stub_->TraceLot(&context, request, &response));
    EXPECT_EQ(response.nodes_size(), 3);  // the lot, its mine, its holder
    EXPECT_TRUE(response.dot().empty());
  }
  request.set_include_dot(true);
  grpc::ClientContext context;
  Deadline(context);
  ASSERT_OK(stub_->TraceLot(&context, request, &response));
  const std::string& dot = response.dot();
  EXPECT_EQ(dot.rfind("digraph trace {\n", 0), 0u) << dot;
  EXPECT_NE(dot.find("\"lot:lot-1\" [shape=box"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"site:mine-a\" [shape=house"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"site:mine-a\" -> \"lot:lot-1\" [label=\"120 g\"]"), std::string::npos)
      << dot;
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
}

// proto/README.md, "Unknown enum values": one rule for every query.
TEST_F(ApiQueriesTest, UnknownEnumValuesAreRefusedAlikeByEveryQuery) {
  node_.CommitBlock({node_.Sign(node_.Extract("lot-1", 1000, 120))});
  auto refused = [&](const grpc::Status& status, const std::string& field) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_NE(status.error_message().find(field), std::string::npos) << status.error_message();
  };
  {
    v1::ListOrgsRequest request;
    request.set_role(static_cast<v1::Role>(99));
    v1::ListOrgsResponse response;
    grpc::ClientContext context;
    Deadline(context);
    refused(stub_->ListOrgs(&context, request, &response), "role is 99");
  }
  {
    v1::HoldingsRequest request;
    request.set_org_id("miner-a");
    request.add_statuses(static_cast<v1::LotStatus>(66));
    v1::HoldingsResponse response;
    grpc::ClientContext context;
    Deadline(context);
    refused(stub_->Holdings(&context, request, &response), "statuses is 66");
  }
  {
    v1::TraceLotRequest request;
    request.set_lot_id("lot-1");
    request.set_direction(static_cast<v1::TraceDirection>(77));
    v1::TraceLotResponse response;
    grpc::ClientContext context;
    Deadline(context);
    refused(stub_->TraceLot(&context, request, &response), "direction is 77");
  }
  {
    v1::ExportStatsRequest request;
    request.set_group_by(static_cast<v1::ExportGroupBy>(55));
    v1::ExportStatsResponse response;
    grpc::ClientContext context;
    Deadline(context);
    refused(stub_->ExportStats(&context, request, &response), "group_by is 55");
  }
  // UNSPECIFIED is a named value: "any".
  v1::ListOrgsRequest any;
  v1::ListOrgsResponse response;
  grpc::ClientContext context;
  Deadline(context);
  EXPECT_OK(stub_->ListOrgs(&context, any, &response));
  EXPECT_GT(response.orgs_size(), 0);
}

}  // namespace
}  // namespace reel::api::testing
