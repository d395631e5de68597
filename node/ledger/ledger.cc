#include "node/ledger/ledger.h"

#include <set>

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/signing.h"
#include "node/ledger/events.h"
#include "node/ledger/exec.h"
#include "node/ledger/root.h"
#include "node/ledger/tx_kinds.h"
#include "node/storage/keys.h"

namespace reel::ledger {

// --- Helpers shared by the per-kind files ------------------------------------------------

const std::string& TxContext::signer_id() const {
  return body.org_id();
}

uint32_t TxContext::year() const {
  return static_cast<uint32_t>(CstDate(block.time_ms).year);
}

v1::LotEvent NewEvent(const TxContext& ctx, const v1::Lot& lot, v1::BizStep step,
                      v1::EpcisEventType type, v1::EpcisAction action) {
  v1::LotEvent e;
  e.set_height(ctx.block.height);
  e.set_tx_index(ctx.index);
  e.set_tx_id(ctx.id);
  e.set_time_ms(ctx.block.time_ms);
  e.set_kind(static_cast<v1::TxKind>(ctx.body.action_case()));
  e.set_event_type(type);
  e.set_action(action);
  e.set_product(lot.product());
  e.set_mass_g(lot.mass_g());
  e.set_reo_g(lot.reo_g());
  e.set_site_id(lot.site_id());
  e.set_org_id(ctx.signer_id());
  e.set_biz_step(step);
  e.set_disposition(lot.status());
  return e;
}

v1::Lot NewLot(const TxContext& ctx, std::string_view lot_id, v1::ProductForm product,
               int64_t mass_g, const v1::Composition& composition, int64_t reo_g,
               std::string_view site_id) {
  v1::Lot lot;
  lot.set_lot_id(std::string(lot_id));
  lot.set_product(product);
  lot.set_mass_g(mass_g);
  *lot.mutable_composition() = composition;
  lot.set_reo_g(reo_g);
  lot.set_holder_org_id(ctx.signer_id());
  lot.set_status(v1::LOT_STATUS_ACTIVE);
  lot.set_site_id(std::string(site_id));
  lot.set_created_height(ctx.block.height);
  lot.set_created_time_ms(ctx.block.time_ms);
  lot.set_created_tx_id(ctx.id);
  lot.set_updated_height(ctx.block.height);
  return lot;
}

Refusal CheckLotIdFree(const TxContext& ctx, std::string_view lot_id) {
  if (!ctx.state.GetLot(lot_id).has_value()) return Accept();
  return Refuse(v1::LOT_EXISTS,
                "lot '" + std::string(lot_id) + "' already exists; lot ids are unique forever");
}

Refusal LoadOwnActiveLot(const TxContext& ctx, std::string_view lot_id, v1::Lot* lot) {
  std::optional<v1::Lot> found = ctx.state.GetLot(lot_id);
  const std::string name = "lot '" + std::string(lot_id) + "'";
  if (!found.has_value()) return Refuse(v1::LOT_NOT_FOUND, name + " does not exist");
  if (found->holder_org_id() != ctx.signer_id()) {
    return Refuse(v1::NOT_HOLDER, name + " is held by '" + found->holder_org_id() + "', not by '" +
                                      ctx.signer_id() + "'");
  }
  if (found->status() != v1::LOT_STATUS_ACTIVE) {
    return Refuse(v1::LOT_NOT_ACTIVE, name + " is " + v1::LotStatus_Name(found->status()) +
                                          "; only ACTIVE lots can be used");
  }
  *lot = std::move(*found);
  return Accept();
}

Refusal ChargeQuota(TxContext& ctx, std::string_view org_id, v1::QuotaCategory category,
                    int64_t grams) {
  const uint32_t year = ctx.year();
  std::optional<v1::Quota> quota = ctx.state.GetQuota(org_id, year, category);
  const std::string what = v1::QuotaCategory_Name(category) + " quota of '" + std::string(org_id) +
                           "' for " + std::to_string(year);
  if (!quota.has_value()) {
    return Refuse(v1::QUOTA_NOT_SET, "no " + what + " has been set (SetQuota by the regulator)");
  }
  int64_t used = 0;
  if (!AddChecked(quota->used_g(), grams, &used)) {
    return Refuse(v1::AMOUNT_OVERFLOW, "quota use overflows");
  }
  const int64_t allowed = quota->granted_g() - quota->cut_g();
  if (used > allowed) {
    return Refuse(v1::QUOTA_EXCEEDED,
                  "charging " + std::to_string(grams) + " g REO would bring the " + what + " to " +
                      std::to_string(used) + " g, above the " + std::to_string(allowed) +
                      " g allowed (granted " + std::to_string(quota->granted_g()) + " - cut " +
                      std::to_string(quota->cut_g()) + ")");
  }
  quota->set_used_g(used);
  quota->set_updated_height(ctx.block.height);
  ctx.state.PutQuota(*quota);
  ctx.state.AddMonthTotal(
      org_id, ctx.block.time_ms,
      static_cast<uint8_t>(static_cast<int>(kFlowQuota) + static_cast<int>(category)), 0, 0, grams,
      v1::Composition());
  ctx.result.set_quota_category(category);
  ctx.result.set_quota_charged_g(grams);
  return Accept();
}

void RecordFlow(TxContext& ctx, std::string_view org_id, Flow flow,
                const std::vector<const v1::Lot*>& lots, v1::FlowEntry entry) {
  entry.set_tx_id(ctx.id);
  entry.set_height(ctx.block.height);
  entry.set_time_ms(ctx.block.time_ms);
  entry.set_kind(static_cast<v1::TxKind>(ctx.body.action_case()));
  ElementGrams grams{};
  int64_t mass = 0;
  for (const v1::Lot* lot : lots) {
    entry.add_lot_ids(lot->lot_id());
    entry.set_product(lot->product());
    mass += lot->mass_g();
    AddGrams(&grams, ToGrams(lot->composition()));
    if (entry.site_id().empty()) entry.set_site_id(lot->site_id());
  }
  entry.set_mass_g(mass);
  entry.set_reo_g(SumGrams(grams));
  ctx.state.AddFlow(org_id, flow, ctx.index, entry, FromGrams(grams));
}

Refusal CheckIdList(const google::protobuf::RepeatedPtrField<std::string>& ids,
                    std::string_view what, size_t min_count, v1::ErrorCode too_few_code) {
  if (static_cast<size_t>(ids.size()) < min_count) {
    return Refuse(too_few_code, "at least " + std::to_string(min_count) + " " + std::string(what) +
                                    " are needed");
  }
  if (static_cast<size_t>(ids.size()) > limits::ledger_tx_lots_max) {
    return Refuse(v1::TOO_MANY_ITEMS, "more than " + std::to_string(limits::ledger_tx_lots_max) +
                                          " " + std::string(what));
  }
  std::set<std::string_view> seen;
  for (const std::string& id : ids) {
    REEL_TRY(CheckObjectId(id, what));
    if (!seen.insert(id).second) {
      return Refuse(v1::DUPLICATE_ITEM, "'" + id + "' appears twice in " + std::string(what));
    }
  }
  return Accept();
}

namespace {

Status RefusalStatus(const Refusal& r) {
  return Status::InvalidArgument(v1::ErrorCode_Name(r.code) + ": " + r.message)
      .WithDetail(static_cast<int32_t>(r.code));
}

// --- Through the table of kinds (tx_kinds.h) ---------------------------------------------

Refusal NoRules(const v1::TxBody& body) {
  if (body.action_case() == v1::TxBody::ACTION_NOT_SET) {
    return Refuse(v1::NO_ACTION, "the transaction body names no action");
  }
  // Unreachable while the table has every case (tx_kinds_test): refused, never guessed.
  return Refuse(v1::NO_ACTION, "this node has no rules for action " +
                                   std::to_string(static_cast<int>(body.action_case())));
}

// The role the action needs, then its form; Check and ExecuteBlock both run these. When
// they accept, *kind is the action's entry.
Refusal CheckAction(const v1::Org& signer, const v1::TxBody& body, const TxKindEntry** kind) {
  *kind = FindTxKind(body.action_case());
  if (*kind == nullptr) return NoRules(body);
  REEL_TRY(CheckRole(signer, body, **kind));
  return (*kind)->form(body);
}

// Signer exists, every signing key is one of its current keys, a quorum of distinct
// keys signed, and it is ACTIVE.
Refusal Authenticate(const State& state, const VerifiedTx& tx, v1::Org* signer) {
  REEL_TRY(CheckOrgId(tx.body.org_id(), "signer"));
  std::optional<v1::Org> org = state.GetOrg(tx.body.org_id());
  if (!org.has_value()) {
    return Refuse(v1::SIGNER_NOT_FOUND, "signer '" + tx.body.org_id() + "' is not registered");
  }
  for (const crypto::PublicKey& key : tx.signers) {
    const std::string_view bytes = crypto::AsBytes(key);
    bool current = false;
    for (const std::string& k : org->signatory_keys()) current = current || k == bytes;
    if (!current) {
      return Refuse(
          v1::UNKNOWN_SIGNATORY,
          "key " + ToHex(bytes) + " is not a current signatory of '" + org->org_id() + "'");
    }
  }
  if (tx.signers.size() < org->quorum()) {
    return Refuse(v1::INSUFFICIENT_QUORUM,
                  std::to_string(tx.signers.size()) + " valid signatures, but '" + org->org_id() +
                      "' needs " + std::to_string(org->quorum()) + " distinct signatory keys");
  }
  if (org->status() != v1::ORG_STATUS_ACTIVE) {
    return Refuse(v1::ORG_SUSPENDED,
                  "'" + org->org_id() + "' is suspended" +
                      (org->suspended_by_violation_id().empty()
                           ? std::string()
                           : " by violation '" + org->suspended_by_violation_id() + "'") +
                      " and may not sign until reinstated");
  }
  *signer = std::move(*org);
  return Accept();
}

Refusal CheckExpiry(const v1::TxBody& body, uint64_t height) {
  if (body.expiry_height() == 0 || height <= body.expiry_height()) return Accept();
  return Refuse(v1::EXPIRED_TX, "the transaction expired at height " +
                                    std::to_string(body.expiry_height()) + "; this is height " +
                                    std::to_string(height) + ": sign a new one");
}

Refusal CheckNotCommitted(const Overlay& view, const std::string& id) {
  if (!view.Get(storage::keys::TxKey(id)).has_value()) return Accept();
  return Refuse(v1::DUPLICATE_TX, "transaction " + ToHex(id) + " is already committed");
}

// Every rule for one transaction, on its own layer.
Refusal ExecuteOne(TxContext& ctx, const VerifiedTx& tx) {
  if (ctx.body.chain_id() != ctx.block.chain_id) {
    return Refuse(v1::WRONG_CHAIN, "the body's chain id is not '" + ctx.block.chain_id + "'");
  }
  REEL_TRY(CheckExpiry(ctx.body, ctx.block.height));
  v1::Org signer;
  REEL_TRY(Authenticate(ctx.state, tx, &signer));
  ctx.signer = &signer;
  const TxKindEntry* kind = nullptr;
  REEL_TRY(CheckAction(signer, ctx.body, &kind));
  Refusal r = kind->apply(ctx, ctx.body);
  ctx.signer = nullptr;
  return r;
}

std::string TxRecord(const v1::TxResult& result, const BlockContext& block, uint32_t index) {
  v1::GetTransactionResponse record;
  record.set_status(v1::TX_STATUS_COMMITTED);
  *record.mutable_result() = result;
  record.set_height(block.height);
  record.set_tx_index(index);
  record.set_time_ms(block.time_ms);
  return Serialize(record);
}

Result<uint64_t> ReadMetaU64(const storage::ReadView& view, std::string_view name) {
  Result<std::optional<std::string>> got = view.Get(layout::MetaKey(name));
  if (!got.ok()) return got.status();
  if (!got->has_value()) return uint64_t{0};
  if ((*got)->size() != 8)
    return Status::Corruption("ledger meta '" + std::string(name) + "' is not 8 bytes");
  return ReadU64BE(**got);
}

}  // namespace

// --- Public API -------------------------------------------------------------------------------

Result<VerifiedTx> Verify(const v1::Transaction& envelope, std::string_view chain_id) {
  REEL_ASSERT(crypto::IsValidChainId(chain_id));
  VerifiedTx tx;
  tx.envelope_bytes = envelope.ByteSizeLong();
  if (tx.envelope_bytes > limits::tx_envelope_bytes_max ||
      envelope.body().size() > limits::tx_body_bytes_max) {
    return RefusalStatus(Refuse(v1::TOO_LARGE, "the transaction is larger than " +
                                                   std::to_string(limits::tx_body_bytes_max) +
                                                   " body bytes or its envelope limit"));
  }
  if (static_cast<size_t>(envelope.signatures_size()) > limits::tx_signatures_max) {
    return RefusalStatus(
        Refuse(v1::TOO_MANY_ITEMS,
               "more than " + std::to_string(limits::tx_signatures_max) + " signatures"));
  }
  if (!tx.body.ParseFromString(envelope.body())) {
    return RefusalStatus(Refuse(v1::MALFORMED, "the body is not a reel.v1.TxBody"));
  }
  if (tx.body.chain_id() != chain_id) {
    return RefusalStatus(Refuse(v1::WRONG_CHAIN, "the body is for chain '" +
                                                     tx.body.chain_id().substr(0, 64) +
                                                     "', this is '" + std::string(chain_id) + "'"));
  }
  tx.id = crypto::TransactionId(chain_id, envelope.body());
  for (const v1::Signature& s : envelope.signatures()) {
    Result<crypto::PublicKey> key = crypto::PublicKeyFromBytes(s.public_key());
    if (!key.ok()) return RefusalStatus(Refuse(v1::INVALID_PUBLIC_KEY, key.status().message()));
    Result<crypto::Signature> sig = crypto::SignatureFromBytes(s.signature());
    if (!sig.ok()) return RefusalStatus(Refuse(v1::INVALID_SIGNATURE, sig.status().message()));
    for (const crypto::PublicKey& seen : tx.signers) {
      if (seen == *key) {
        return RefusalStatus(
            Refuse(v1::DUPLICATE_ITEM, "key " + ToHex(crypto::AsBytes(*key)) + " signed twice"));
      }
    }
    if (!crypto::Verify(*key, tx.id, *sig)) {
      return RefusalStatus(
          Refuse(v1::INVALID_SIGNATURE,
                 "the signature by key " + ToHex(crypto::AsBytes(*key)) + " does not verify"));
    }
    tx.signers.push_back(*key);
  }
  tx.envelope_digest = EnvelopeDigestOf(envelope, chain_id);
  return tx;
}

crypto::Hash32 EnvelopeDigestOf(const v1::Transaction& envelope, std::string_view chain_id) {
  std::vector<crypto::EnvelopeSignature> signatures;
  signatures.reserve(envelope.signatures_size());
  for (const v1::Signature& s : envelope.signatures()) {
    signatures.push_back({s.public_key(), s.signature()});
  }
  return crypto::EnvelopeDigest(chain_id, crypto::TransactionId(chain_id, envelope.body()),
                                signatures);
}

// Authenticate only reads, so one overlay serves every check: its root layer keeps
// what it read.
struct SignerCheck::View {
  explicit View(const storage::ReadView& committed) : overlay(committed), state(overlay) {}
  Overlay overlay;
  State state;
};

SignerCheck::SignerCheck(const storage::ReadView& committed)
    : view_(std::make_unique<View>(committed)) {}

SignerCheck::~SignerCheck() = default;

Status SignerCheck::Check(const VerifiedTx& tx) {
  try {
    v1::Org signer;
    Refusal r = Authenticate(view_->state, tx, &signer);
    return r.ok() ? Status::Ok() : RefusalStatus(r);
  } catch (const StorageFault& fault) {
    return fault.status;
  }
}

Status CheckSigners(const VerifiedTx& tx, const storage::ReadView& committed) {
  return SignerCheck(committed).Check(tx);
}

Status Check(const VerifiedTx& tx, const storage::ReadView& committed, uint64_t next_height) {
  try {
    Overlay view(committed);
    State state(view);
    const std::string id(crypto::AsBytes(tx.id));
    Refusal r = CheckNotCommitted(view, id);
    if (r.ok()) r = CheckExpiry(tx.body, next_height);
    v1::Org signer;
    if (r.ok()) r = Authenticate(state, tx, &signer);
    const TxKindEntry* kind = nullptr;
    if (r.ok()) r = CheckAction(signer, tx.body, &kind);
    return r.ok() ? Status::Ok() : RefusalStatus(r);
  } catch (const StorageFault& fault) {
    return fault.status;
  }
}

v1::ErrorCode ErrorCodeOf(const Status& status) {
  if (status.ok()) return v1::OK;
  if (status.detail() != 0 && v1::ErrorCode_IsValid(status.detail())) {
    return static_cast<v1::ErrorCode>(status.detail());
  }
  return v1::MALFORMED;
}

BlockExecutor::BlockExecutor(const storage::ReadView& committed, BlockContext ctx)
    : committed_(committed), ctx_(std::move(ctx)), block_(std::make_unique<Overlay>(committed)) {}

BlockExecutor::~BlockExecutor() = default;

Result<std::unique_ptr<BlockExecutor>> BlockExecutor::Begin(const storage::ReadView& committed,
                                                            BlockContext ctx) {
  Result<uint64_t> previous = ExecutedHeight(committed);
  if (!previous.ok()) return previous.status();
  REEL_ASSERT(ctx.height == *previous + 1);
  return std::unique_ptr<BlockExecutor>(new BlockExecutor(committed, std::move(ctx)));
}

Status BlockExecutor::Add(const VerifiedTx& tx) {
  try {
    Overlay& block = *block_;
    const uint32_t i = static_cast<uint32_t>(out_.results.size());
    Overlay layer(block);
    State state(layer);
    v1::TxResult result;
    TxContext tc{ctx_, i, std::string(crypto::AsBytes(tx.id)), tx.body, nullptr, state, result};
    Refusal r = CheckNotCommitted(block, tc.id);
    if (r.ok()) r = ExecuteOne(tc, tx);
    if (r.ok()) {
      layer.MergeIntoParent();
    } else {
      // Only the code, the message and the restrictions that refused it survive.
      v1::TxResult failed;
      failed.set_code(r.code);
      failed.set_message(r.message);
      *failed.mutable_restriction_ids() = result.restriction_ids();
      result = std::move(failed);
    }
    // A duplicate keeps the first record; any other transaction gets its own.
    if (r.code != v1::DUPLICATE_TX) {
      block.Put(storage::keys::TxKey(tc.id), TxRecord(result, ctx_, i));
    }
    block.Put(layout::EventKey(ctx_.height, i), Serialize(MakeEvent(ctx_, i, tx, result, block)));
    out_.results.push_back(std::move(result));
    return Status::Ok();
  } catch (const StorageFault& fault) {
    return fault.status;
  }
}

Result<BlockExecution> BlockExecutor::Finish() {
  try {
    Overlay& block = *block_;
    {
      State state(block);
      BeginApprovedEpoch(state, ctx_.height);
    }
    Result<crypto::Hash32> root = FinishBlock(committed_, block, ctx_.height, ctx_.time_ms);
    if (!root.ok()) return root.status();
    out_.state_root = *root;
    for (const auto& [key, value] : block.writes()) {
      if (value.has_value()) {
        out_.batch.Put(key, *value);
      } else {
        out_.batch.Delete(key);
      }
    }
    return std::move(out_);
  } catch (const StorageFault& fault) {
    return fault.status;
  }
}

Result<BlockExecution> ExecuteBlock(const storage::ReadView& committed, const BlockContext& ctx,
                                    const std::vector<VerifiedTx>& txs) {
  Result<std::unique_ptr<BlockExecutor>> executor = BlockExecutor::Begin(committed, ctx);
  if (!executor.ok()) return executor.status();
  for (const VerifiedTx& tx : txs) REEL_RETURN_IF_ERROR((*executor)->Add(tx));
  return (*executor)->Finish();
}

Result<crypto::Hash32> StateRoot(const storage::ReadView& view) {
  Result<std::optional<std::string>> got = view.Get(layout::MetaKey("root"));
  if (!got.ok()) return got.status();
  crypto::Hash32 root{};
  if (!got->has_value()) return root;
  if ((*got)->size() != root.size()) return Status::Corruption("stored state root is not 32 bytes");
  std::copy((*got)->begin(), (*got)->end(), root.begin());
  return root;
}

Result<uint64_t> ExecutedHeight(const storage::ReadView& view) {
  return ReadMetaU64(view, "height");
}
Result<uint64_t> ExecutedTimeMs(const storage::ReadView& view) {
  return ReadMetaU64(view, "time");
}

Status CommitForTest(storage::KvStore& store, const BlockExecution& execution, uint64_t height) {
  storage::WriteBatch batch = execution.batch;
  batch.Put(storage::keys::CommitHeightKey(), storage::keys::EncodeHeight(height));
  return store.Write(batch, /*sync=*/true);
}

}  // namespace reel::ledger
