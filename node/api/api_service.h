// ApiService: the reel.v1.Api gRPC service (proto/reel/v1/api.proto) over a NodeView.
//
// Handlers are thin: they validate the request at the boundary (sizes, id lengths,
// filter sizes), call a component (NodeView admission, ChainReader over a committed
// snapshot, ledger::Queries), and map its Status with ToGrpcStatus (status_map.h).
//
// What it promises
//   - SubmitTransaction follows api.proto: a request that is not a transaction (none,
//     an empty or unparsable body) fails with INVALID_ARGUMENT, an oversized one with
//     RESOURCE_EXHAUSTED; a transaction the node refuses (bad signature, wrong chain,
//     duplicate, expired, a rule the committed state breaks) is an OK RPC with status
//     REJECTED and the ErrorCode in result. Resending one already in the mempool answers
//     PENDING. wait_for_commit waits at most limits::api_wait_for_commit_ms_max, or the
//     call's deadline if sooner, then answers PENDING.
//   - SubmitTransactions answers each of its 1 to limits::api_submit_batch_txs_max
//     transactions as SubmitTransaction does without waiting, in order, from one
//     committed snapshot and one admission batch (signatures checked on admission's
//     threads when there are two or more). Every envelope of a body that one call
//     admitted answers PENDING.
//   - Reads answer from one committed snapshot each (streams: one per block sent).
//   - Streams hold no buffer: they read committed blocks from storage by height and wait
//     for the height to grow, so a slow client only slows its own stream. At most
//     limits::api_streams_max are open at once; beyond that RESOURCE_EXHAUSTED.
//   - Every query is one call to ledger::Queries over a fresh committed snapshot, after
//     the boundary checks of request_checks.h. TraceLot with include_dot also gets the
//     page as Graphviz DOT (trace_dot.h).
//
// Thread safety: gRPC calls the handlers from its threads, concurrently; the service
// keeps no state but the count of open streams (atomic). `node` must outlive it.
#pragma once

#include <atomic>
#include <cstddef>

#include "node/api/node_view.h"
#include "reel/v1/api.grpc.pb.h"

namespace reel::api {

class ApiService final : public v1::Api::Service {
 public:
  explicit ApiService(NodeView* node);

  // --- Transactions and blocks
  grpc::Status SubmitTransaction(grpc::ServerContext* context,
                                 const v1::SubmitTransactionRequest* request,
                                 v1::SubmitTransactionResponse* response) override;
  grpc::Status SubmitTransactions(grpc::ServerContext* context,
                                  const v1::SubmitTransactionsRequest* request,
                                  v1::SubmitTransactionsResponse* response) override;
  grpc::Status GetTransaction(grpc::ServerContext* context,
                              const v1::GetTransactionRequest* request,
                              v1::GetTransactionResponse* response) override;
  grpc::Status GetBlock(grpc::ServerContext* context, const v1::GetBlockRequest* request,
                        v1::GetBlockResponse* response) override;
  grpc::Status StreamBlocks(grpc::ServerContext* context, const v1::StreamBlocksRequest* request,
                            grpc::ServerWriter<v1::StreamBlocksResponse>* writer) override;
  grpc::Status StreamEvents(grpc::ServerContext* context, const v1::StreamEventsRequest* request,
                            grpc::ServerWriter<v1::StreamEventsResponse>* writer) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status GetEpochProofs(grpc::ServerContext* context,
                              const v1::GetEpochProofsRequest* request,
                              v1::GetEpochProofsResponse* response) override;

  // --- Queries, delegated to ledger::Queries
  grpc::Status GetOrg(grpc::ServerContext* context, const v1::GetOrgRequest* request,
                      v1::GetOrgResponse* response) override;
  grpc::Status ListOrgs(grpc::ServerContext* context, const v1::ListOrgsRequest* request,
                        v1::ListOrgsResponse* response) override;
  grpc::Status ListSites(grpc::ServerContext* context, const v1::ListSitesRequest* request,
                         v1::ListSitesResponse* response) override;
  grpc::Status GetLot(grpc::ServerContext* context, const v1::GetLotRequest* request,
                      v1::GetLotResponse* response) override;
  grpc::Status LotHistory(grpc::ServerContext* context, const v1::LotHistoryRequest* request,
                          v1::LotHistoryResponse* response) override;
  grpc::Status TraceLot(grpc::ServerContext* context, const v1::TraceLotRequest* request,
                        v1::TraceLotResponse* response) override;
  grpc::Status Holdings(grpc::ServerContext* context, const v1::HoldingsRequest* request,
                        v1::HoldingsResponse* response) override;
  grpc::Status ListTransferOffers(grpc::ServerContext* context,
                                  const v1::ListTransferOffersRequest* request,
                                  v1::ListTransferOffersResponse* response) override;
  grpc::Status QuotaUse(grpc::ServerContext* context, const v1::QuotaUseRequest* request,
                        v1::QuotaUseResponse* response) override;
  grpc::Status GetLicence(grpc::ServerContext* context, const v1::GetLicenceRequest* request,
                          v1::GetLicenceResponse* response) override;
  grpc::Status ListLicences(grpc::ServerContext* context, const v1::ListLicencesRequest* request,
                            v1::ListLicencesResponse* response) override;
  grpc::Status MatchingRestrictions(grpc::ServerContext* context,
                                    const v1::MatchingRestrictionsRequest* request,
                                    v1::MatchingRestrictionsResponse* response) override;
  grpc::Status RestrictionImpact(grpc::ServerContext* context,
                                 const v1::RestrictionImpactRequest* request,
                                 v1::RestrictionImpactResponse* response) override;
  grpc::Status LicenceVerdict(grpc::ServerContext* context,
                              const v1::LicenceVerdictRequest* request,
                              v1::LicenceVerdictResponse* response) override;
  grpc::Status ListRestrictions(grpc::ServerContext* context,
                                const v1::ListRestrictionsRequest* request,
                                v1::ListRestrictionsResponse* response) override;
  grpc::Status ExportStats(grpc::ServerContext* context, const v1::ExportStatsRequest* request,
                           v1::ExportStatsResponse* response) override;
  grpc::Status ListExports(grpc::ServerContext* context, const v1::ListExportsRequest* request,
                           v1::ListExportsResponse* response) override;
  grpc::Status MassBalance(grpc::ServerContext* context, const v1::MassBalanceRequest* request,
                           v1::MassBalanceResponse* response) override;
  grpc::Status MonthlyFlowReport(grpc::ServerContext* context,
                                 const v1::MonthlyFlowReportRequest* request,
                                 v1::MonthlyFlowReportResponse* response) override;
  grpc::Status ListViolations(grpc::ServerContext* context,
                              const v1::ListViolationsRequest* request,
                              v1::ListViolationsResponse* response) override;
  grpc::Status ListValidatorChanges(grpc::ServerContext* context,
                                    const v1::ListValidatorChangesRequest* request,
                                    v1::ListValidatorChangesResponse* response) override;
  grpc::Status GetValidatorChange(grpc::ServerContext* context,
                                  const v1::GetValidatorChangeRequest* request,
                                  v1::GetValidatorChangeResponse* response) override;

 private:
  // Sends committed blocks from `from_height` (0: the next to commit) through `send`,
  // then each new one, until the client goes away. `send` returns false to stop.
  template <typename Send>
  grpc::Status FollowChain(grpc::ServerContext* context, uint64_t from_height, Send send);

  NodeView* const node_;
  std::atomic<size_t> open_streams_{0};
};

}  // namespace reel::api
