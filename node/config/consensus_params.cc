#include "node/config/consensus_params.h"

#include "base/limits.h"

namespace reel::config {

std::optional<ConsensusParamsError> CheckConsensusParams(const v1::ConsensusParams& params) {
  auto error = [](std::string field, std::string what) {
    return std::optional<ConsensusParamsError>(
        ConsensusParamsError{"consensus." + std::move(field), std::move(what)});
  };
  auto or_default = [](uint64_t value, uint64_t fallback) { return value != 0 ? value : fallback; };
  const uint64_t timeout = or_default(params.round_timeout_ms(), limits::round_timeout_ms_initial);
  const uint64_t timeout_max =
      or_default(params.round_timeout_max_ms(), limits::round_timeout_ms_max);
  const uint64_t interval_min =
      or_default(params.block_interval_min_ms(), limits::block_interval_ms_min_default);
  const uint64_t idle =
      or_default(params.idle_block_interval_ms(), limits::idle_block_interval_ms_default);
  if (timeout > timeout_max) {
    return error("round_timeout_ms", "must not exceed consensus.round_timeout_max_ms (" +
                                         std::to_string(timeout) + " ms above " +
                                         std::to_string(timeout_max) + " ms)");
  }
  if (timeout_max > limits::round_timeout_ms_ceiling) {
    return error("round_timeout_max_ms",
                 "must not exceed " + std::to_string(limits::round_timeout_ms_ceiling) + " ms");
  }
  const uint32_t backoff = params.round_timeout_backoff_percent();
  if (backoff != 0 && (backoff <= 100 || backoff > limits::round_timeout_backoff_percent_ceiling)) {
    return error("round_timeout_backoff_percent",
                 "must be above 100 (the timer must grow) and at most " +
                     std::to_string(limits::round_timeout_backoff_percent_ceiling) +
                     ", or 0 for the default");
  }
  const uint64_t drift = params.clock_drift_max_ms();
  if (drift != 0 && (drift < limits::block_timestamp_drift_ms_min ||
                     drift > limits::block_timestamp_drift_ms_ceiling)) {
    return error("clock_drift_max_ms",
                 "must be between " + std::to_string(limits::block_timestamp_drift_ms_min) +
                     " and " + std::to_string(limits::block_timestamp_drift_ms_ceiling) +
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
  if (idle < interval_min) {
    return error("idle_block_interval_ms", "must not be below consensus.block_interval_min_ms (" +
                                               std::to_string(idle) + " ms below " +
                                               std::to_string(interval_min) + " ms)");
  }
  if (idle >= timeout) {
    return error("idle_block_interval_ms",
                 "must be below the first round timer (" + std::to_string(idle) + " ms, timer " +
                     std::to_string(timeout) + " ms), or an idle leader would be timed out");
  }
  return std::nullopt;
}

}  // namespace reel::config
