// The validator set in the ledger: who governs it, the current set, the changes the
// governing organisations propose and approve, and the set of the next epoch that an
// approved change records (docs/LEDGER.md, "ProposeValidatorChange").
//
// The ledger only records; consensus decides when an epoch begins. After it commits a
// block it asks ValidatorSetApprovedAt(view, height): a set means that block approved a
// change and ends the epoch, and the set is the one the next epoch runs with. All of it
// is state under 0x05 'w' and 0x05 'k', so it is covered by the state root.
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

// The validator set of the current epoch (genesis' until consensus starts another).
Result<v1::ValidatorSet> CurrentValidatorSet(const storage::ReadView& view);
// The set of the next epoch, if an approved change has recorded one.
Result<std::optional<v1::NextValidatorSet>> PendingEpochChange(const storage::ReadView& view);
// The set of the next epoch if the block at `height` approved a change (the latest
// approval recorded is that block's), else nullopt: what consensus asks after it
// commits a block.
Result<std::optional<v1::ValidatorSet>> ValidatorSetApprovedAt(const storage::ReadView& view,
                                                               uint64_t height);
Result<std::optional<v1::ValidatorChangeRecord>> GetValidatorChange(const storage::ReadView& view,
                                                                    std::string_view change_id);
Result<v1::ValidatorGovernance> GetValidatorGovernance(const storage::ReadView& view);

}  // namespace reel::ledger
