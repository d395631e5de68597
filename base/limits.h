// Every limit in REEL, named in one place, units last (TigerBeetle style).
// Components include this header rather than inventing their own constants,
// and static_asserts below check how the limits relate.
#pragma once

#include <cstddef>
#include <cstdint>

namespace reel::limits {

// --- Identity and names -------------------------------------------------------
inline constexpr size_t chain_id_bytes_max = 64;
inline constexpr size_t org_id_bytes_max = 63;
inline constexpr size_t lot_id_bytes_max = 64;

// --- Transactions -------------------------------------------------------------
inline constexpr size_t tx_body_bytes_max = 64 * 1024;
inline constexpr size_t tx_signatures_max = 16;
inline constexpr size_t tx_envelope_bytes_max = tx_body_bytes_max + tx_signatures_max * 128;

// --- Blocks -------------------------------------------------------------------
inline constexpr size_t block_txs_max = 2000;
inline constexpr size_t block_bytes_max = 8 * 1024 * 1024;

// --- Wire ---------------------------------------------------------------------
// gRPC max receive size: one full block plus its certificates and framing.
inline constexpr size_t grpc_message_bytes_max = block_bytes_max + 1024 * 1024;

// --- Validators ---------------------------------------------------------------
inline constexpr size_t validators_max = 100;

// --- Key files ----------------------------------------------------------------
inline constexpr size_t key_file_bytes_max = 4096;

static_assert(tx_envelope_bytes_max < block_bytes_max);
static_assert(block_bytes_max < grpc_message_bytes_max);

}  // namespace reel::limits
