// Events: what each committed transaction touched, for the API's StreamEvents and its
// filters (api.proto EventFilter). One Event per transaction of a block, failed ones
// included (with their code), written to the index 0x06 'E' u64(height) u32(tx_index)
// in the block's batch. Not part of the state root. What each kind adds (its lots,
// organisations, licences, ...) is its Event function in the table of kinds (tx_kinds.h).
#pragma once

#include <cstdint>

#include "node/ledger/ledger.h"
#include "node/ledger/overlay.h"
#include "reel/v1/api.pb.h"

namespace reel::ledger {

// The event of transaction `index` of the block, from its body and result; `after` is
// the block's state after it (transfer accepts, rejects and cancels take their lots and
// parties from the offer record).
v1::Event MakeEvent(const BlockContext& block, uint32_t index, const VerifiedTx& tx,
                    const v1::TxResult& result, const Overlay& after);

}  // namespace reel::ledger
