// The bounds of ConsensusParams: one rule set for genesis (config/genesis.json,
// ValidateGenesis) and for the new timings of a validator change (ProposeValidatorChange,
// refused as INVALID_CONSENSUS_PARAMS; docs/LEDGER.md says "checked like genesis'").
// A zero field means the default of base/limits.h, and the bounds are checked on the
// values the node will run with: timings that contradict each other (a first timer above
// its cap would stop every node at its next epoch), and limits that would stall a chain.
#pragma once

#include <optional>
#include <string>

#include "reel/v1/types.pb.h"

namespace reel::config {

struct ConsensusParamsError {
  std::string field;  // "consensus.<name>", as in genesis.json and in a change
  std::string what;
};

// The first bound `params` breaks, in field order, or nullopt.
std::optional<ConsensusParamsError> CheckConsensusParams(const v1::ConsensusParams& params);

}  // namespace reel::config
