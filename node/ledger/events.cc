#include "node/ledger/events.h"

#include <algorithm>

#include "node/ledger/exec.h"
#include "node/ledger/tx_kinds.h"

namespace reel::ledger {

void AddLotIds(const google::protobuf::RepeatedPtrField<std::string>& ids, v1::Event* e) {
  for (const std::string& id : ids) e->add_lot_ids(id);
}

v1::Event MakeEvent(const BlockContext& block, uint32_t index, const VerifiedTx& tx,
                    const v1::TxResult& result, const Overlay& after) {
  v1::Event e;
  e.set_height(block.height);
  e.set_tx_index(index);
  e.set_tx_id(std::string(crypto::AsBytes(tx.id)));
  e.set_time_ms(block.time_ms);
  e.set_kind(static_cast<v1::TxKind>(tx.body.action_case()));
  e.set_code(result.code());
  e.set_signer_org_id(tx.body.org_id());
  // A body without an action (refused NO_ACTION) touched nothing but its signer.
  if (const TxKindEntry* kind = FindTxKind(tx.body.action_case()); kind != nullptr) {
    kind->event(tx.body, TxOutcome{result, after}, &e);
  }
  // The restrictions that denied, flagged or refused it, once each.
  for (const std::string& id : result.restriction_ids()) {
    if (std::find(e.restriction_ids().begin(), e.restriction_ids().end(), id) ==
        e.restriction_ids().end()) {
      e.add_restriction_ids(id);
    }
  }
  return e;
}

}  // namespace reel::ledger
