// The initial state: the organisations, sites and quotas of genesis, applied with the
// rules of their transactions, as height 0.
#include <algorithm>

#include "base/bytes.h"
#include "crypto/signing.h"
#include "node/ledger/exec.h"
#include "node/ledger/root.h"
#include "node/ledger/validators.h"
#include "node/storage/memory_store.h"

namespace reel::ledger {
namespace {

template <typename Action>
Status ApplyEntry(TxContext& ctx, Overlay& block, const Action& action, std::string_view what,
                  int index, Refusal (*form)(const Action&),
                  Refusal (*apply)(TxContext&, const Action&)) {
  Overlay layer(block);
  State state(layer);
  TxContext entry{ctx.block, static_cast<uint32_t>(index), ctx.id, ctx.body, nullptr, state,
                  ctx.result};
  Refusal r = form(action);
  if (r.ok()) r = apply(entry, action);
  if (!r.ok()) {
    return Status::InvalidArgument("genesis " + std::string(what) + " #" + std::to_string(index) +
                                   ": " + v1::ErrorCode_Name(r.code) + ": " + r.message);
  }
  layer.MergeIntoParent();
  return Status::Ok();
}

}  // namespace

Result<BlockExecution> ExecuteGenesis(const v1::Genesis& genesis) {
  if (!crypto::IsValidChainId(genesis.chain_id())) {
    return Status::InvalidArgument("genesis chain_id must be 1 to 64 bytes");
  }
  bool regulator = false;
  for (const v1::RegisterOrg& org : genesis.orgs()) {
    for (int role : org.roles()) regulator = regulator || role == v1::ROLE_REGULATOR;
  }
  if (!regulator)
    return Status::InvalidArgument("genesis names no organisation with ROLE_REGULATOR");
  // The ledger's own check of what config::ValidateGenesis reports by field.
  const v1::ValidatorGovernance governance = GovernanceOf(genesis);
  for (const std::string& id : governance.governing_org_ids()) {
    const bool known = std::any_of(genesis.orgs().begin(), genesis.orgs().end(),
                                   [&](const v1::RegisterOrg& org) { return org.org_id() == id; });
    if (!known) return Status::InvalidArgument("genesis governance names unknown org '" + id + "'");
  }
  if (governance.approvals_required() >
      static_cast<uint32_t>(governance.governing_org_ids_size())) {
    return Status::InvalidArgument(
        "genesis governance.approvals_required exceeds its organisations");
  }
  try {
    std::unique_ptr<storage::KvStore> empty = storage::NewMemoryStore();
    Overlay block(*empty);
    State unused(block);
    v1::TxBody body;
    v1::TxResult result;
    const BlockContext bc{genesis.chain_id(), 0, genesis.genesis_time_ms()};
    TxContext ctx{bc, 0, std::string(32, '\0'), body, nullptr, unused, result};
    for (int i = 0; i < genesis.orgs_size(); ++i) {
      REEL_RETURN_IF_ERROR(
          ApplyEntry(ctx, block, genesis.orgs(i), "org", i, FormRegisterOrg, ApplyRegisterOrg));
    }
    for (int i = 0; i < genesis.sites_size(); ++i) {
      REEL_RETURN_IF_ERROR(
          ApplyEntry(ctx, block, genesis.sites(i), "site", i, FormRegisterSite, ApplyRegisterSite));
    }
    for (int i = 0; i < genesis.quotas_size(); ++i) {
      REEL_RETURN_IF_ERROR(
          ApplyEntry(ctx, block, genesis.quotas(i), "quota", i, FormSetQuota, ApplySetQuota));
    }
    {
      State state(block);
      PutGenesisValidators(genesis, state);
    }
    Result<crypto::Hash32> root = FinishBlock(*empty, block, 0, genesis.genesis_time_ms());
    if (!root.ok()) return root.status();
    BlockExecution out;
    out.state_root = *root;
    for (const auto& [key, value] : block.writes()) {
      if (value.has_value()) out.batch.Put(key, *value);
    }
    return out;
  } catch (const StorageFault& fault) {
    return fault.status;
  }
}

}  // namespace reel::ledger
