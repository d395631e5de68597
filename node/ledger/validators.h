// The validator set in the ledger: who governs it, the current set, the changes the
// governing organisations propose and approve, and the set of the next epoch that an
// approved change records (docs/LEDGER.md, "ProposeValidatorChange").
//
// The block that approves a change ends the epoch (CONSENSUS.md "Epochs"): at the end of
// that block, after its last transaction, the ledger makes the next set current, with
// the next epoch number and the block's height as the epoch's start. Consensus asks
// EpochEndedAt(view, height) after it commits each block. All of it is state under
// 0x05 'w' and 0x05 'k', so it is covered by the state root, and every node switches at
// the same block.
//
// Reads report store failures as a Status; nothing here throws. Thread-safe as far as
// the ReadView is.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "node/storage/kv.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/types.pb.h"

namespace reel::ledger {

// Genesis.governance with its defaults applied: when absent, every organisation of
// genesis.orgs with ROLE_REGULATOR or ROLE_EXPORT_AUTHORITY; approvals_required 0 means
// a majority (floor(count / 2) + 1). Ids sorted. Carries genesis.tls_ca_pem.
v1::ValidatorGovernance GovernanceOf(const v1::Genesis& genesis);

// f for a set of n validators: floor((n - 1) / 3), 0 for an empty set.
uint32_t FaultsTolerated(size_t validator_count);

// The validator set of the current epoch, with its epoch number and start height.
Result<v1::ValidatorSet> CurrentValidatorSet(const storage::ReadView& view);
// The changes approved so far in the block being executed (ExecuteBlock's overlay),
// which BeginApprovedEpoch makes current at the block's end. Never set between blocks.
Result<std::optional<v1::NextValidatorSet>> PendingEpochChange(const storage::ReadView& view);
// The set of the epoch that the block at `height` started by ending the one before, if
// it did (`view` holds the state after that block): what consensus asks after it
// commits a block. nullopt for genesis and for every block that approved nothing.
Result<std::optional<v1::ValidatorSet>> EpochEndedAt(const storage::ReadView& view,
                                                     uint64_t height);
Result<std::optional<v1::ValidatorChangeRecord>> GetValidatorChange(const storage::ReadView& view,
                                                                    std::string_view change_id);
Result<v1::ValidatorGovernance> GetValidatorGovernance(const storage::ReadView& view);

}  // namespace reel::ledger
