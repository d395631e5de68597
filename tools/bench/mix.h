// The transaction mix reel-bench is told (`--mix extract=40,transfer=30,...`) and the
// scheduler that follows it, one per client thread.
//
// Shares are of transactions, not of operations: a transfer is two transactions (an
// offer, then its acceptance), so `transfer=30` means 30 in 100 transactions are
// offers or acceptances.
//
// Thread safety: a MixScheduler belongs to one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace reel::bench {

enum class Kind : uint8_t { kExtract, kTransfer, kProcess, kLicence };
inline constexpr size_t kKinds = 4;
inline constexpr std::array<Kind, kKinds> kAllKinds = {Kind::kExtract, Kind::kTransfer,
                                                       Kind::kProcess, Kind::kLicence};

// "extract", "transfer", "process", "licence": the names --mix and the report use.
std::string_view KindName(Kind kind);

struct Mix {
  std::array<uint32_t, kKinds> weights{};  // by Kind; relative, so percent reads best
};

inline constexpr std::string_view kDefaultMix = "extract=40,transfer=30,process=20,licence=10";

// "extract=40,transfer=30,process=20,licence=10": kinds left out weigh 0; at least one
// must weigh more. InvalidArgument naming the part that is wrong.
Result<Mix> ParseMix(std::string_view text);
std::string FormatMix(const Mix& mix);

// Chooses each next kind so that the counts follow the mix: of the kinds that are
// ready (a committed lot or offer waits for them), the one furthest behind its share.
// When every kind behind its share waits, the kind that feeds the one furthest behind
// goes instead: a transfer for a separation, an extraction for a transfer. Early in a
// run, and for a mix whose pipelines cannot feed themselves (fewer extractions than
// its transfers and separations need), the counts therefore differ from the mix; the
// report gives the counts actually sent.
class MixScheduler {
 public:
  explicit MixScheduler(const Mix& mix);
  Kind Next(const std::function<bool(Kind)>& ready);

 private:
  // How far `kind` is behind its share of the next count, scaled by the total weight.
  int64_t Deficit(Kind kind) const;

  Mix mix_;
  uint64_t total_weight_ = 0;
  std::array<uint64_t, kKinds> sent_{};
  uint64_t sent_total_ = 0;
};

}  // namespace reel::bench
