#include "node/config/consensus_params.h"

#include "base/limits.h"

namespace reel::config {

std::optional<ConsensusParamsError> CheckConsensusParams(const v1::ConsensusParams& params) {
  auto error = [](std::string field, std::string what) {
    return std::optional<ConsensusParamsError>(
        ConsensusParamsError{"consensus." + std::move(field), std::move(what)});
  };
  const uint64_t timeout =
      params.round_timeout_ms() != 0 ? params.round_timeout_ms() : limits::round_timeout_ms_initial;
  const uint64_t timeout_max = params.round_timeout_max_ms() != 0 ? params.round_timeout_max_ms()
                                                                  : limits::round_timeout_ms_max;
  if (timeout > timeout_max) {
    return error("round_timeout_ms", "must not exceed consensus.round_timeout_max_ms (" +
                                         std::to_string(timeout) + " ms above " +
                                         std::to_string(timeout_max) + " ms)");
  }
  if (params.round_timeout_backoff_percent() != 0 &&
      params.round_timeout_backoff_percent() <= 100) {
    return error("round_timeout_backoff_percent",
                 "must be above 100 (the timer must grow), or 0 for the default");
  }
  if (params.clock_drift_max_ms() != 0 &&
      params.clock_drift_max_ms() < limits::block_timestamp_drift_ms_min) {
    return error("clock_drift_max_ms", "must be at least " +
                                           std::to_string(limits::block_timestamp_drift_ms_min) +
                                           " ms, or 0 for the default");
  }
  if (params.block_txs_max() > limits::block_txs_max) {
    return error("block_txs_max", "must not exceed " + std::to_string(limits::block_txs_max));
  }
  if (params.block_bytes_max() != 0 && (params.block_bytes_max() < limits::block_bytes_min ||
                                        params.block_bytes_max() > limits::block_bytes_max)) {
    return error("block_bytes_max", "must be between " + std::to_string(limits::block_bytes_min) +
                                        " and " + std::to_string(limits::block_bytes_max) +
                                        ", or 0 for the default");
  }
  const uint64_t idle = params.idle_block_interval_ms();
  if (idle != 0 && idle < params.block_interval_min_ms()) {
    return error("idle_block_interval_ms", "must not be below consensus.block_interval_min_ms");
  }
  if (idle >= timeout) {
    return error("idle_block_interval_ms", "must be below the first round timer (" +
                                               std::to_string(timeout) +
                                               " ms), or an idle leader would be timed out");
  }
  return std::nullopt;
}

}  // namespace reel::config
