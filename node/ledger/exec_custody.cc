// Custody: lots come into the ledger (Extract, Import), change form (Process, Split,
// Merge) and change hands (TransferOffer, Accept, Reject, Cancel).
#include <algorithm>
#include <set>

#include "base/limits.h"
#include "node/ledger/exec.h"

namespace reel::ledger {
namespace {

Refusal CheckKnownForm(v1::ProductForm form, std::string_view what) {
  if (IsKnownForm(form)) return Accept();
  return Refuse(v1::INVALID_ENUM, std::string(what) + " needs a product form");
}

// A site the signer owns, if one is named.
Refusal CheckOwnSite(const TxContext& ctx, const std::string& site_id, v1::Site* site) {
  std::optional<v1::Site> found = ctx.state.GetSite(site_id);
  if (!found.has_value())
    return Refuse(v1::SITE_NOT_FOUND, "site '" + site_id + "' is not registered");
  if (found->org_id() != ctx.signer_id()) {
    return Refuse(v1::NOT_OWN_SITE, "site '" + site_id + "' belongs to '" + found->org_id() +
                                        "', not to '" + ctx.signer_id() + "'");
  }
  if (site != nullptr) *site = std::move(*found);
  return Accept();
}

Refusal LoadOwnActiveLots(const TxContext& ctx,
                          const google::protobuf::RepeatedPtrField<std::string>& ids,
                          std::vector<v1::Lot>* lots) {
  for (const std::string& id : ids) {
    v1::Lot lot;
    REEL_TRY(LoadOwnActiveLot(ctx, id, &lot));
    lots->push_back(std::move(lot));
  }
  return Accept();
}

// Marks an input consumed by this transaction and records its transformation event.
void Consume(TxContext& ctx, v1::Lot lot, v1::BizStep step, const std::vector<std::string>& inputs,
             const std::vector<std::string>& outputs) {
  lot.set_status(v1::LOT_STATUS_CONSUMED);
  lot.set_consumed_by_tx_id(ctx.id);
  lot.set_updated_height(ctx.block.height);
  ctx.state.PutLot(lot);
  v1::LotEvent e =
      NewEvent(ctx, lot, step, v1::EPCIS_EVENT_TYPE_TRANSFORMATION, v1::EPCIS_ACTION_DELETE);
  for (const std::string& id : inputs) e.add_input_lot_ids(id);
  for (const std::string& id : outputs) e.add_output_lot_ids(id);
  ctx.state.AddLotEvent(e, lot.lot_id());
  for (const std::string& child : outputs) ctx.state.AddChild(lot.lot_id(), child);
}

// Writes a transformation output and its event.
void Create(TxContext& ctx, const v1::Lot& lot, v1::BizStep step,
            const std::vector<std::string>& inputs) {
  ctx.state.PutLot(lot);
  v1::LotEvent e =
      NewEvent(ctx, lot, step, v1::EPCIS_EVENT_TYPE_TRANSFORMATION, v1::EPCIS_ACTION_ADD);
  for (const std::string& id : inputs) e.add_input_lot_ids(id);
  e.add_output_lot_ids(lot.lot_id());
  ctx.state.AddLotEvent(e, lot.lot_id());
}

// The flows of a Process, Split or Merge: inputs consumed, outputs made and, for a
// Process (`loss` given), the loss and a mass-balance record of the step.
void RecordTransformation(TxContext& ctx, const std::vector<v1::Lot>& inputs,
                          const std::vector<v1::Lot>& outputs, const ElementGrams* loss) {
  std::vector<const v1::Lot*> in, out;
  int64_t in_reo = 0, out_reo = 0;
  for (const v1::Lot& l : inputs) in.push_back(&l), in_reo += l.reo_g();
  for (const v1::Lot& l : outputs) out.push_back(&l), out_reo += l.reo_g();
  RecordFlow(ctx, ctx.signer_id(), kFlowProcessedIn, in);
  RecordFlow(ctx, ctx.signer_id(), kFlowProcessedOut, out);
  if (loss == nullptr) return;
  v1::FlowEntry lost;
  lost.set_tx_id(ctx.id);
  lost.set_height(ctx.block.height);
  lost.set_time_ms(ctx.block.time_ms);
  lost.set_kind(static_cast<v1::TxKind>(ctx.body.action_case()));
  lost.set_reo_g(SumGrams(*loss));
  ctx.state.AddFlow(ctx.signer_id(), kFlowLoss, ctx.index, lost, FromGrams(*loss));
  v1::MassBalanceOutlier step;
  step.set_tx_id(ctx.id);
  step.set_height(ctx.block.height);
  step.set_time_ms(ctx.block.time_ms);
  step.set_kind(lost.kind());
  step.set_input_reo_g(in_reo);
  step.set_output_reo_g(out_reo);
  step.set_loss_reo_g(lost.reo_g());
  step.set_loss_permille(
      in_reo == 0 ? 0 : static_cast<uint32_t>(static_cast<Int128>(lost.reo_g()) * 1000 / in_reo));
  *step.mutable_loss() = FromGrams(*loss);
  ctx.state.Write(
      layout::ProcessKey(ctx.signer_id(), ctx.block.time_ms, ctx.block.height, ctx.index), step);
}

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

// REO of `input` that went into `output`: per element, the output's grams times the
// input's share of that element among all inputs, rounded down.
int64_t ReoFromInput(const ElementGrams& output, const ElementGrams& input,
                     const ElementGrams& total) {
  Int128 sum = 0;
  for (size_t e = 1; e < output.size(); ++e) {
    if (total[e] == 0) continue;
    sum += static_cast<Int128>(output[e]) * input[e] / total[e];
  }
  return static_cast<int64_t>(sum);
}

}  // namespace

// --- Extract -------------------------------------------------------------------------------

Refusal FormExtract(const v1::Extract& extract) {
  REEL_TRY(CheckObjectId(extract.site_id(), "site id"));
  REEL_TRY(CheckObjectId(extract.lot_id(), "lot id"));
  REEL_TRY(CheckKnownForm(extract.product(), "Extract"));
  if (extract.product() != v1::PRODUCT_FORM_ORE &&
      extract.product() != v1::PRODUCT_FORM_CONCENTRATE) {
    return Refuse(v1::PRODUCT_NOT_ALLOWED,
                  "Extract makes ORE or CONCENTRATE, not " + FormName(extract.product()));
  }
  int64_t reo = 0;
  return CheckComposition(extract.composition(), extract.mass_g(), &reo,
                          "lot '" + extract.lot_id() + "'");
}

Refusal ApplyExtract(TxContext& ctx, const v1::Extract& extract) {
  v1::Site site;
  REEL_TRY(CheckOwnSite(ctx, extract.site_id(), &site));
  if (site.kind() != v1::SITE_KIND_MINE) {
    return Refuse(v1::SITE_NOT_MINE,
                  "site '" + extract.site_id() + "' is a plant; extraction happens at a mine");
  }
  REEL_TRY(CheckLotIdFree(ctx, extract.lot_id()));
  int64_t reo = 0;
  REEL_TRY(CheckComposition(extract.composition(), extract.mass_g(), &reo, "lot"));
  REEL_TRY(ChargeQuota(ctx, ctx.signer_id(), MiningCategory(site.deposit_type()), reo));
  v1::Lot lot = NewLot(ctx, extract.lot_id(), extract.product(), extract.mass_g(),
                       extract.composition(), reo, extract.site_id());
  ctx.state.PutLot(lot);
  v1::LotEvent e = NewEvent(ctx, lot, v1::BIZ_STEP_EXTRACTING, v1::EPCIS_EVENT_TYPE_OBJECT,
                            v1::EPCIS_ACTION_ADD);
  e.set_to_org_id(ctx.signer_id());
  ctx.state.AddLotEvent(e, lot.lot_id());
  RecordFlow(ctx, ctx.signer_id(), kFlowExtracted, {&lot});
  return Accept();
}

void EventExtract(const v1::Extract& extract, const TxOutcome&, v1::Event* e) {
  e->add_lot_ids(extract.lot_id());
  e->set_site_id(extract.site_id());
}

// --- Import --------------------------------------------------------------------------------

Refusal FormImport(const v1::Import& import) {
  REEL_TRY(CheckObjectId(import.lot_id(), "lot id"));
  REEL_TRY(CheckKnownForm(import.product(), "Import"));
  if (!IsUpstream(import.product())) {
    return Refuse(v1::PRODUCT_NOT_ALLOWED,
                  "Import brings in ore, concentrate or mixed products for "
                  "smelting and separation, not " +
                      FormName(import.product()));
  }
  int64_t reo = 0;
  REEL_TRY(CheckComposition(import.composition(), import.mass_g(), &reo,
                            "lot '" + import.lot_id() + "'"));
  REEL_TRY(CheckCountry(import.origin_country(), "origin country"));
  REEL_TRY(CheckText(import.supplier(), "supplier", true));
  REEL_TRY(CheckText(import.customs_declaration(), "customs declaration", true));
  if (!import.site_id().empty()) REEL_TRY(CheckObjectId(import.site_id(), "site id"));
  return Accept();
}

Refusal ApplyImport(TxContext& ctx, const v1::Import& import) {
  if (!import.site_id().empty()) REEL_TRY(CheckOwnSite(ctx, import.site_id(), nullptr));
  REEL_TRY(CheckLotIdFree(ctx, import.lot_id()));
  int64_t reo = 0;
  REEL_TRY(CheckComposition(import.composition(), import.mass_g(), &reo, "lot"));
  v1::Lot lot = NewLot(ctx, import.lot_id(), import.product(), import.mass_g(),
                       import.composition(), reo, import.site_id());
  lot.mutable_origin()->set_country(import.origin_country());
  lot.mutable_origin()->set_supplier(import.supplier());
  lot.mutable_origin()->set_customs_declaration(import.customs_declaration());
  ctx.state.PutLot(lot);
  v1::LotEvent e =
      NewEvent(ctx, lot, v1::BIZ_STEP_IMPORTING, v1::EPCIS_EVENT_TYPE_OBJECT, v1::EPCIS_ACTION_ADD);
  e.set_country(import.origin_country());
  e.set_to_org_id(ctx.signer_id());
  e.set_reference(import.customs_declaration());
  ctx.state.AddLotEvent(e, lot.lot_id());
  v1::FlowEntry entry;
  entry.set_country(import.origin_country());
  RecordFlow(ctx, ctx.signer_id(), kFlowImported, {&lot}, entry);
  return Accept();
}

void EventImport(const v1::Import& import, const TxOutcome&, v1::Event* e) {
  e->add_lot_ids(import.lot_id());
  e->set_site_id(import.site_id());
}

// --- Process -------------------------------------------------------------------------------

v1::Role ProcessRole(const v1::Process& process) {
  int rank = 0;
  for (const v1::LotOutput& o : process.outputs()) rank = std::max(rank, FormRank(o.product()));
  if (rank == 0) return v1::ROLE_UNSPECIFIED;
  if (rank <= 2) return v1::ROLE_MINER;
  if (rank <= 4) return v1::ROLE_SMELTER_SEPARATOR;
  return v1::ROLE_PROCESSOR;
}

Refusal FormProcess(const v1::Process& process) {
  REEL_TRY(CheckIdList(process.input_lot_ids(), "input lots", 1, v1::NO_INPUTS));
  if (process.outputs().empty())
    return Refuse(v1::NO_OUTPUTS, "Process needs at least one output lot");
  if (static_cast<size_t>(process.outputs_size() + process.input_lot_ids_size()) >
      limits::ledger_tx_lots_max) {
    return Refuse(v1::TOO_MANY_ITEMS, "more than " + std::to_string(limits::ledger_tx_lots_max) +
                                          " lots in one Process");
  }
  std::set<std::string_view> ids(process.input_lot_ids().begin(), process.input_lot_ids().end());
  for (const v1::LotOutput& o : process.outputs()) {
    REEL_TRY(CheckObjectId(o.lot_id(), "output lot id"));
    if (!ids.insert(o.lot_id()).second) {
      return Refuse(v1::DUPLICATE_ITEM, "lot '" + o.lot_id() + "' is named twice in the Process");
    }
    REEL_TRY(CheckKnownForm(o.product(), "output lot '" + o.lot_id() + "'"));
    int64_t reo = 0;
    REEL_TRY(
        CheckComposition(o.composition(), o.mass_g(), &reo, "output lot '" + o.lot_id() + "'"));
  }
  if (!process.site_id().empty()) REEL_TRY(CheckObjectId(process.site_id(), "site id"));
  return Accept();
}

namespace {

// What a Process consumes: its input lots and their totals.
struct ProcessInputs {
  std::vector<v1::Lot> lots;
  int rank = 0;  // the highest input form's rank
  ElementGrams grams{};
  int64_t reo_g = 0;
};

Refusal LoadInputs(const TxContext& ctx, const v1::Process& process, ProcessInputs* in) {
  REEL_TRY(LoadOwnActiveLots(ctx, process.input_lot_ids(), &in->lots));
  for (const v1::Lot& lot : in->lots) {
    in->rank = std::max(in->rank, FormRank(lot.product()));
    if (!AddGrams(&in->grams, ToGrams(lot.composition())) ||
        !AddChecked(in->reo_g, lot.reo_g(), &in->reo_g)) {
      return Refuse(v1::AMOUNT_OVERFLOW, "input REO overflows");
    }
  }
  return Accept();
}

// Form order, who may hold the outputs, fresh ids; sums the outputs' REO per element.
Refusal CheckOutputs(const TxContext& ctx, const v1::Process& process, int input_rank,
                     ElementGrams* out_grams, int* output_rank) {
  for (const v1::LotOutput& o : process.outputs()) {
    if (FormRank(o.product()) < input_rank) {
      return Refuse(v1::FORM_ORDER_VIOLATED, "output '" + o.lot_id() + "' is " +
                                                 FormName(o.product()) +
                                                 ", below the inputs' highest form");
    }
    *output_rank = std::max(*output_rank, FormRank(o.product()));
    REEL_TRY(CheckMayHold(*ctx.signer, o.product()));
    REEL_TRY(CheckLotIdFree(ctx, o.lot_id()));
    if (!AddGrams(out_grams, ToGrams(o.composition()))) {
      return Refuse(v1::AMOUNT_OVERFLOW, "output REO overflows");
    }
  }
  return Accept();
}

// Per element the outputs hold at most what the inputs held; the rest is the loss.
Refusal Conserve(const ElementGrams& in, const ElementGrams& out, ElementGrams* loss) {
  for (size_t e = 1; e < loss->size(); ++e) {
    if (out[e] > in[e]) {
      return Refuse(v1::CONSERVATION_VIOLATED, "outputs hold " + std::to_string(out[e]) + " g of " +
                                                   ElementName(static_cast<v1::Element>(e)) +
                                                   " REO but the inputs held only " +
                                                   std::to_string(in[e]) +
                                                   " g: rare earths are conserved per element");
    }
    (*loss)[e] = in[e] - out[e];
  }
  return Accept();
}

// The output lots, each with every input as a parent and the REO it took from it.
std::vector<v1::Lot> MakeOutputs(const TxContext& ctx, const v1::Process& process,
                                 const ProcessInputs& in) {
  std::vector<v1::Lot> made;
  for (const v1::LotOutput& o : process.outputs()) {
    const ElementGrams out = ToGrams(o.composition());
    v1::Lot lot = NewLot(ctx, o.lot_id(), o.product(), o.mass_g(), o.composition(), SumGrams(out),
                         process.site_id());
    for (const v1::Lot& input : in.lots) {
      v1::LotParent* parent = lot.add_parents();
      parent->set_lot_id(input.lot_id());
      parent->set_reo_g(ReoFromInput(out, ToGrams(input.composition()), in.grams));
    }
    made.push_back(std::move(lot));
  }
  return made;
}

}  // namespace

Refusal ApplyProcess(TxContext& ctx, const v1::Process& process) {
  if (!process.site_id().empty()) REEL_TRY(CheckOwnSite(ctx, process.site_id(), nullptr));
  ProcessInputs in;
  REEL_TRY(LoadInputs(ctx, process, &in));
  ElementGrams out_grams{};
  int output_rank = 0;
  REEL_TRY(CheckOutputs(ctx, process, in.rank, &out_grams, &output_rank));
  ElementGrams loss{};
  REEL_TRY(Conserve(in.grams, out_grams, &loss));
  // Mixed and separated products are smelting and separation: charged by the inputs' REO.
  if (output_rank == 3 || output_rank == 4) {
    REEL_TRY(ChargeQuota(ctx, ctx.signer_id(), v1::QUOTA_CATEGORY_SMELTING_SEPARATION, in.reo_g));
  }
  const std::vector<std::string> input_ids = Ids(process.input_lot_ids());
  std::vector<std::string> output_ids;
  for (const v1::LotOutput& o : process.outputs()) output_ids.push_back(o.lot_id());
  const std::vector<v1::Lot> made = MakeOutputs(ctx, process, in);
  for (const v1::Lot& lot : made) Create(ctx, lot, v1::BIZ_STEP_PROCESSING, input_ids);
  RecordTransformation(ctx, in.lots, made, &loss);
  for (v1::Lot& lot : in.lots) {
    Consume(ctx, std::move(lot), v1::BIZ_STEP_PROCESSING, input_ids, output_ids);
  }
  *ctx.result.mutable_process_loss() = FromGrams(loss);
  return Accept();
}

void EventProcess(const v1::Process& process, const TxOutcome&, v1::Event* e) {
  AddLotIds(process.input_lot_ids(), e);
  for (const v1::LotOutput& o : process.outputs()) e->add_lot_ids(o.lot_id());
  e->set_site_id(process.site_id());
}

// --- Split ---------------------------------------------------------------------------------

Refusal FormSplit(const v1::Split& split) {
  REEL_TRY(CheckObjectId(split.lot_id(), "lot id"));
  if (split.parts_size() < 2)
    return Refuse(v1::SPLIT_TOO_FEW_PARTS, "Split needs at least two parts");
  if (static_cast<size_t>(split.parts_size()) > limits::ledger_tx_lots_max) {
    return Refuse(v1::TOO_MANY_ITEMS, "too many parts");
  }
  std::set<std::string_view> ids{split.lot_id()};
  for (const v1::SplitPart& p : split.parts()) {
    REEL_TRY(CheckObjectId(p.lot_id(), "part lot id"));
    if (!ids.insert(p.lot_id()).second) {
      return Refuse(v1::DUPLICATE_ITEM, "lot '" + p.lot_id() + "' is named twice in the Split");
    }
    if (p.mass_g() <= 0)
      return Refuse(v1::INVALID_AMOUNT, "part '" + p.lot_id() + "' needs a positive mass");
  }
  return Accept();
}

Refusal ApplySplit(TxContext& ctx, const v1::Split& split) {
  v1::Lot whole;
  REEL_TRY(LoadOwnActiveLot(ctx, split.lot_id(), &whole));
  int64_t mass = 0;
  for (const v1::SplitPart& p : split.parts()) {
    if (!AddChecked(mass, p.mass_g(), &mass))
      return Refuse(v1::AMOUNT_OVERFLOW, "part masses overflow");
    REEL_TRY(CheckLotIdFree(ctx, p.lot_id()));
  }
  if (mass != whole.mass_g()) {
    return Refuse(v1::SPLIT_MASS_MISMATCH, "parts weigh " + std::to_string(mass) +
                                               " g in all; lot '" + whole.lot_id() + "' weighs " +
                                               std::to_string(whole.mass_g()) + " g");
  }
  const ElementGrams grams = ToGrams(whole.composition());
  ElementGrams given{};
  std::vector<v1::Lot> parts;
  for (int i = 0; i < split.parts_size(); ++i) {
    const v1::SplitPart& p = split.parts(i);
    const bool last = i + 1 == split.parts_size();
    ElementGrams share{};
    for (size_t e = 1; e < grams.size(); ++e) {
      share[e] =
          last ? grams[e] - given[e]
               : static_cast<int64_t>(static_cast<Int128>(grams[e]) * p.mass_g() / whole.mass_g());
      given[e] += share[e];
    }
    const int64_t reo = SumGrams(share);
    if (reo > p.mass_g()) {
      return Refuse(v1::REO_EXCEEDS_MASS, "part '" + p.lot_id() + "' would hold " +
                                              std::to_string(reo) + " g REO in " +
                                              std::to_string(p.mass_g()) + " g");
    }
    v1::Lot part = NewLot(ctx, p.lot_id(), whole.product(), p.mass_g(), FromGrams(share), reo,
                          whole.site_id());
    v1::LotParent* parent = part.add_parents();
    parent->set_lot_id(whole.lot_id());
    parent->set_reo_g(reo);
    parts.push_back(std::move(part));
  }
  std::vector<std::string> part_ids;
  for (const v1::Lot& p : parts) part_ids.push_back(p.lot_id());
  for (const v1::Lot& p : parts) Create(ctx, p, v1::BIZ_STEP_SPLITTING, {whole.lot_id()});
  RecordTransformation(ctx, {whole}, parts, nullptr);
  Consume(ctx, std::move(whole), v1::BIZ_STEP_SPLITTING, {split.lot_id()}, part_ids);
  return Accept();
}

void EventSplit(const v1::Split& split, const TxOutcome&, v1::Event* e) {
  e->add_lot_ids(split.lot_id());
  for (const v1::SplitPart& p : split.parts()) e->add_lot_ids(p.lot_id());
}

// --- Merge ---------------------------------------------------------------------------------

Refusal FormMerge(const v1::Merge& merge) {
  REEL_TRY(CheckIdList(merge.input_lot_ids(), "input lots", 2, v1::MERGE_TOO_FEW_INPUTS));
  REEL_TRY(CheckObjectId(merge.output_lot_id(), "output lot id"));
  for (const std::string& id : merge.input_lot_ids()) {
    if (id == merge.output_lot_id())
      return Refuse(v1::DUPLICATE_ITEM, "the output id is also an input");
  }
  if (!merge.site_id().empty()) REEL_TRY(CheckObjectId(merge.site_id(), "site id"));
  return Accept();
}

Refusal ApplyMerge(TxContext& ctx, const v1::Merge& merge) {
  if (!merge.site_id().empty()) REEL_TRY(CheckOwnSite(ctx, merge.site_id(), nullptr));
  std::vector<v1::Lot> inputs;
  REEL_TRY(LoadOwnActiveLots(ctx, merge.input_lot_ids(), &inputs));
  const v1::ProductForm form = inputs.front().product();
  int64_t mass = 0;
  ElementGrams grams{};
  for (const v1::Lot& lot : inputs) {
    if (lot.product() != form) {
      return Refuse(v1::MERGE_FORM_MISMATCH, "lot '" + lot.lot_id() + "' is " +
                                                 FormName(lot.product()) + ", lot '" +
                                                 inputs.front().lot_id() + "' is " +
                                                 FormName(form) + ": Merge combines one form");
    }
    if (!AddChecked(mass, lot.mass_g(), &mass) || !AddGrams(&grams, ToGrams(lot.composition()))) {
      return Refuse(v1::AMOUNT_OVERFLOW, "merged mass overflows");
    }
  }
  REEL_TRY(CheckMayHold(*ctx.signer, form));
  REEL_TRY(CheckLotIdFree(ctx, merge.output_lot_id()));
  v1::Lot out = NewLot(ctx, merge.output_lot_id(), form, mass, FromGrams(grams), SumGrams(grams),
                       merge.site_id());
  for (const v1::Lot& in : inputs) {
    v1::LotParent* parent = out.add_parents();
    parent->set_lot_id(in.lot_id());
    parent->set_reo_g(in.reo_g());
  }
  const std::vector<std::string> input_ids = Ids(merge.input_lot_ids());
  Create(ctx, out, v1::BIZ_STEP_MERGING, input_ids);
  RecordTransformation(ctx, inputs, {out}, nullptr);
  for (v1::Lot& in : inputs)
    Consume(ctx, std::move(in), v1::BIZ_STEP_MERGING, input_ids, {merge.output_lot_id()});
  return Accept();
}

void EventMerge(const v1::Merge& merge, const TxOutcome&, v1::Event* e) {
  AddLotIds(merge.input_lot_ids(), e);
  e->add_lot_ids(merge.output_lot_id());
  e->set_site_id(merge.site_id());
}

// --- Transfers -----------------------------------------------------------------------------

namespace {

Refusal LoadOffer(const TxContext& ctx, const std::string& offer_id,
                  v1::TransferOfferRecord* offer) {
  std::optional<v1::TransferOfferRecord> found = ctx.state.GetOffer(offer_id);
  if (!found.has_value())
    return Refuse(v1::OFFER_NOT_FOUND, "offer '" + offer_id + "' does not exist");
  if (found->status() != v1::TRANSFER_STATUS_OPEN) {
    return Refuse(v1::OFFER_NOT_OPEN, "offer '" + offer_id + "' is already " +
                                          v1::TransferStatus_Name(found->status()));
  }
  *offer = std::move(*found);
  return Accept();
}

// Closes an offer: its lots still in transit under it go ACTIVE with `holder`.
void CloseOffer(TxContext& ctx, v1::TransferOfferRecord offer, v1::TransferStatus status,
                const std::string& holder, const std::string& reason) {
  const bool accepted = status == v1::TRANSFER_STATUS_ACCEPTED;
  std::vector<v1::Lot> moved;
  for (const std::string& lot_id : offer.lot_ids()) {
    std::optional<v1::Lot> lot = ctx.state.GetLot(lot_id);
    // A lot seized while in transit stays seized; the offer no longer moves it.
    if (!lot.has_value() || lot->status() != v1::LOT_STATUS_IN_TRANSIT ||
        lot->offer_id() != offer.offer_id()) {
      continue;
    }
    lot->set_status(v1::LOT_STATUS_ACTIVE);
    lot->clear_offer_id();
    lot->set_holder_org_id(holder);
    lot->set_updated_height(ctx.block.height);
    ctx.state.PutLot(*lot);
    v1::LotEvent e = NewEvent(ctx, *lot, accepted ? v1::BIZ_STEP_RECEIVING : v1::BIZ_STEP_RETURNING,
                              v1::EPCIS_EVENT_TYPE_TRANSACTION, v1::EPCIS_ACTION_OBSERVE);
    e.set_from_org_id(offer.from_org_id());
    e.set_to_org_id(accepted ? offer.to_org_id() : offer.from_org_id());
    e.set_reference(offer.offer_id());
    e.set_reason(reason);
    ctx.state.AddLotEvent(e, lot_id);
    moved.push_back(std::move(*lot));
  }
  if (accepted && !moved.empty()) {
    std::vector<const v1::Lot*> lots;
    for (const v1::Lot& l : moved) lots.push_back(&l);
    v1::FlowEntry to_sender, to_recipient;
    to_sender.set_counterparty_org_id(offer.to_org_id());
    to_recipient.set_counterparty_org_id(offer.from_org_id());
    RecordFlow(ctx, offer.from_org_id(), kFlowShipped, lots, to_sender);
    RecordFlow(ctx, offer.to_org_id(), kFlowReceived, lots, to_recipient);
  }
  offer.set_status(status);
  offer.set_closed_height(ctx.block.height);
  offer.set_closed_time_ms(ctx.block.time_ms);
  offer.set_reason(reason);
  ctx.state.PutOffer(offer);
}

// The form of an accept, reject or cancel: the offer it names, and an optional reason.
Refusal FormOfferRef(const std::string& offer_id, const std::string& reason) {
  REEL_TRY(CheckObjectId(offer_id, "offer id"));
  return CheckText(reason, "reason", false);
}

// The event of an accept, reject or cancel names the offer's lots and its other party,
// from the offer as the block left it (the action names only the offer).
void FromOffer(const std::string& offer_id, const Overlay& after, v1::Event* e) {
  e->set_offer_id(offer_id);
  std::optional<std::string> bytes = after.Get(layout::OfferKey(offer_id));
  if (!bytes.has_value()) return;
  v1::TransferOfferRecord offer;
  ParseOrThrow(*bytes, &offer, layout::OfferKey(offer_id));
  AddLotIds(offer.lot_ids(), e);
  for (const std::string* org : {&offer.from_org_id(), &offer.to_org_id()}) {
    if (*org != e->signer_org_id()) e->add_org_ids(*org);
  }
}

}  // namespace

Refusal FormTransferOffer(const v1::TransferOffer& transfer_offer) {
  REEL_TRY(CheckObjectId(transfer_offer.offer_id(), "offer id"));
  REEL_TRY(CheckIdList(transfer_offer.lot_ids(), "offered lots", 1, v1::MALFORMED));
  REEL_TRY(CheckOrgId(transfer_offer.to_org_id(), "recipient"));
  return Accept();
}

Refusal ApplyTransferOffer(TxContext& ctx, const v1::TransferOffer& transfer_offer) {
  if (ctx.state.GetOffer(transfer_offer.offer_id()).has_value()) {
    return Refuse(v1::OFFER_EXISTS, "offer '" + transfer_offer.offer_id() +
                                        "' already exists; offer ids are unique forever");
  }
  if (transfer_offer.to_org_id() == ctx.signer_id())
    return Refuse(v1::TRANSFER_TO_SELF, "an offer to oneself moves nothing");
  std::optional<v1::Org> to = ctx.state.GetOrg(transfer_offer.to_org_id());
  if (!to.has_value())
    return Refuse(v1::RECIPIENT_NOT_FOUND,
                  "recipient '" + transfer_offer.to_org_id() + "' is not registered");
  if (to->status() != v1::ORG_STATUS_ACTIVE) {
    return Refuse(v1::RECIPIENT_NOT_ACTIVE,
                  "recipient '" + transfer_offer.to_org_id() + "' is suspended");
  }
  if (!HasCustodyRole(*to)) {
    return Refuse(v1::RECIPIENT_NO_CUSTODY_ROLE,
                  "recipient '" + transfer_offer.to_org_id() +
                      "' holds no custody role (MINER, SMELTER_SEPARATOR, "
                      "PROCESSOR or EXPORTER)");
  }
  std::vector<v1::Lot> lots;
  REEL_TRY(LoadOwnActiveLots(ctx, transfer_offer.lot_ids(), &lots));
  for (const v1::Lot& lot : lots) REEL_TRY(CheckMayHold(*to, lot.product()));
  for (v1::Lot& lot : lots) {
    lot.set_status(v1::LOT_STATUS_IN_TRANSIT);
    lot.set_offer_id(transfer_offer.offer_id());
    lot.set_updated_height(ctx.block.height);
    ctx.state.PutLot(lot);
    v1::LotEvent e = NewEvent(ctx, lot, v1::BIZ_STEP_SHIPPING, v1::EPCIS_EVENT_TYPE_TRANSACTION,
                              v1::EPCIS_ACTION_OBSERVE);
    e.set_from_org_id(ctx.signer_id());
    e.set_to_org_id(transfer_offer.to_org_id());
    e.set_reference(transfer_offer.offer_id());
    ctx.state.AddLotEvent(e, lot.lot_id());
  }
  v1::TransferOfferRecord offer;
  offer.set_offer_id(transfer_offer.offer_id());
  offer.set_from_org_id(ctx.signer_id());
  offer.set_to_org_id(transfer_offer.to_org_id());
  *offer.mutable_lot_ids() = transfer_offer.lot_ids();
  offer.set_status(v1::TRANSFER_STATUS_OPEN);
  offer.set_created_height(ctx.block.height);
  offer.set_created_time_ms(ctx.block.time_ms);
  ctx.state.PutOffer(offer);
  return Accept();
}

void EventTransferOffer(const v1::TransferOffer& transfer_offer, const TxOutcome&, v1::Event* e) {
  AddLotIds(transfer_offer.lot_ids(), e);
  e->add_org_ids(transfer_offer.to_org_id());
  e->set_offer_id(transfer_offer.offer_id());
}

Refusal FormTransferAccept(const v1::TransferAccept& transfer_accept) {
  return FormOfferRef(transfer_accept.offer_id(), "");
}

Refusal ApplyTransferAccept(TxContext& ctx, const v1::TransferAccept& transfer_accept) {
  v1::TransferOfferRecord offer;
  REEL_TRY(LoadOffer(ctx, transfer_accept.offer_id(), &offer));
  if (offer.to_org_id() != ctx.signer_id()) {
    return Refuse(v1::NOT_RECIPIENT, "offer '" + transfer_accept.offer_id() + "' is made to '" +
                                         offer.to_org_id() + "'");
  }
  // Roles may have changed since the offer: the recipient must still be able to hold.
  for (const std::string& lot_id : offer.lot_ids()) {
    std::optional<v1::Lot> lot = ctx.state.GetLot(lot_id);
    if (lot.has_value()) REEL_TRY(CheckMayHold(*ctx.signer, lot->product()));
  }
  CloseOffer(ctx, std::move(offer), v1::TRANSFER_STATUS_ACCEPTED, ctx.signer_id(), "");
  return Accept();
}

void EventTransferAccept(const v1::TransferAccept& transfer_accept, const TxOutcome& outcome,
                         v1::Event* e) {
  FromOffer(transfer_accept.offer_id(), outcome.after, e);
}

Refusal FormTransferReject(const v1::TransferReject& transfer_reject) {
  return FormOfferRef(transfer_reject.offer_id(), transfer_reject.reason());
}

Refusal ApplyTransferReject(TxContext& ctx, const v1::TransferReject& transfer_reject) {
  v1::TransferOfferRecord offer;
  REEL_TRY(LoadOffer(ctx, transfer_reject.offer_id(), &offer));
  if (offer.to_org_id() != ctx.signer_id()) {
    return Refuse(v1::NOT_RECIPIENT, "offer '" + transfer_reject.offer_id() + "' is made to '" +
                                         offer.to_org_id() + "'");
  }
  const std::string from = offer.from_org_id();
  CloseOffer(ctx, std::move(offer), v1::TRANSFER_STATUS_REJECTED, from, transfer_reject.reason());
  return Accept();
}

void EventTransferReject(const v1::TransferReject& transfer_reject, const TxOutcome& outcome,
                         v1::Event* e) {
  FromOffer(transfer_reject.offer_id(), outcome.after, e);
}

Refusal FormTransferCancel(const v1::TransferCancel& transfer_cancel) {
  return FormOfferRef(transfer_cancel.offer_id(), transfer_cancel.reason());
}

Refusal ApplyTransferCancel(TxContext& ctx, const v1::TransferCancel& transfer_cancel) {
  v1::TransferOfferRecord offer;
  REEL_TRY(LoadOffer(ctx, transfer_cancel.offer_id(), &offer));
  if (offer.from_org_id() != ctx.signer_id()) {
    return Refuse(v1::NOT_SENDER, "offer '" + transfer_cancel.offer_id() + "' was made by '" +
                                      offer.from_org_id() + "'");
  }
  const std::string from = offer.from_org_id();
  CloseOffer(ctx, std::move(offer), v1::TRANSFER_STATUS_CANCELLED, from, transfer_cancel.reason());
  return Accept();
}

void EventTransferCancel(const v1::TransferCancel& transfer_cancel, const TxOutcome& outcome,
                         v1::Event* e) {
  FromOffer(transfer_cancel.offer_id(), outcome.after, e);
}

}  // namespace reel::ledger
