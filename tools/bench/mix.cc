#include "tools/bench/mix.h"

#include <charconv>
#include <limits>

namespace reel::bench {
namespace {

Result<Kind> KindFromName(std::string_view name) {
  for (Kind kind : kAllKinds) {
    if (KindName(kind) == name) return kind;
  }
  return Status::InvalidArgument("unknown kind '" + std::string(name) +
                                 "' in --mix; the kinds are extract, transfer, process, licence");
}

// One "kind=weight" part of the mix.
Status ParsePart(std::string_view part, Mix* mix) {
  const size_t eq = part.find('=');
  if (eq == std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(part) + "' in --mix is not kind=weight");
  }
  Result<Kind> kind = KindFromName(part.substr(0, eq));
  if (!kind.ok()) return kind.status();
  const std::string_view number = part.substr(eq + 1);
  uint32_t weight = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), weight);
  if (error != std::errc() || end != number.data() + number.size() || weight > 1'000'000) {
    return Status::InvalidArgument("the weight in '" + std::string(part) +
                                   "' is not a whole number from 0 to 1000000");
  }
  mix->weights[static_cast<size_t>(*kind)] = weight;
  return Status::Ok();
}

// The kind whose commits make a kind ready. Extractions and licence applications need
// nothing committed before them.
Kind FeederOf(Kind kind) {
  return kind == Kind::kProcess ? Kind::kTransfer : Kind::kExtract;
}

}  // namespace

std::string_view KindName(Kind kind) {
  static constexpr std::array<std::string_view, kKinds> kNames = {"extract", "transfer", "process",
                                                                  "licence"};
  return kNames[static_cast<size_t>(kind)];
}

Result<Mix> ParseMix(std::string_view text) {
  Mix mix;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    REEL_RETURN_IF_ERROR(ParsePart(text.substr(0, comma), &mix));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  uint64_t total = 0;
  for (uint32_t w : mix.weights) total += w;
  if (total == 0) return Status::InvalidArgument("--mix gives no kind a positive weight");
  return mix;
}

std::string FormatMix(const Mix& mix) {
  std::string out;
  for (Kind kind : kAllKinds) {
    out += (out.empty() ? "" : ",") + std::string(KindName(kind)) + "=" +
           std::to_string(mix.weights[static_cast<size_t>(kind)]);
  }
  return out;
}

MixScheduler::MixScheduler(const Mix& mix) : mix_(mix) {
  for (uint32_t w : mix_.weights) total_weight_ += w;
  REEL_ASSERT(total_weight_ > 0);
}

int64_t MixScheduler::Deficit(Kind kind) const {
  const size_t k = static_cast<size_t>(kind);
  return static_cast<int64_t>((sent_total_ + 1) * mix_.weights[k]) -
         static_cast<int64_t>(sent_[k] * total_weight_);
}

Kind MixScheduler::Next(const std::function<bool(Kind)>& ready) {
  // The deficits sum to the total weight, so some kind is always behind.
  Kind behind = Kind::kExtract, ready_behind = Kind::kExtract;
  int64_t most = std::numeric_limits<int64_t>::min(), ready_most = 0;
  for (Kind kind : kAllKinds) {
    const int64_t deficit = Deficit(kind);
    if (deficit > most) most = deficit, behind = kind;
    if (deficit > ready_most && ready(kind)) ready_most = deficit, ready_behind = kind;
  }
  Kind chosen = ready_most > 0 ? ready_behind : behind;
  while (chosen != Kind::kExtract && !ready(chosen)) chosen = FeederOf(chosen);
  ++sent_[static_cast<size_t>(chosen)];
  ++sent_total_;
  return chosen;
}

}  // namespace reel::bench
