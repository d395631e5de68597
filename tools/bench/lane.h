// One client thread's share of the load. A lane has three organisations of its own,
// each with its own signing key: a state mining company with a rock mine, a state
// smelter-separator with a plant, and a private exporter. It builds each measured
// transaction so that the custody rules accept it.
//
// Why the pipelines: the mempool checks only the signer, its role and the form of a
// transaction against committed state; whether a lot exists and who holds it is
// decided in the block. A transaction that depends on one not yet committed could be
// ordered first and fail. So a lane offers only lots whose extraction has committed,
// accepts only offers that have committed, and separates only lots whose acceptance
// has committed: each commit moves a lot to the next queue (Prepared::on_commit).
//
// Thread safety: Ready and Next belong to the lane's thread; on_commit runs on the
// block watcher's thread. The queues between them are locked.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "crypto/keys.h"
#include "tools/bench/mix.h"
#include "tools/bench/network.h"

namespace reel::bench {

struct Prepared {
  Kind kind = Kind::kExtract;
  v1::Transaction tx;
  std::function<void()> on_commit;  // what the commit makes possible; may be empty
};

class Lane {
 public:
  // `run_tag` makes this run's ids unique on a chain that has seen earlier runs.
  Lane(Network* network, const std::string& run_tag, uint32_t index);
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  // The setup, signed by the regulator: first the organisations, then, once those
  // have committed, the sites and the quotas of `year`.
  std::vector<v1::Transaction> Organisations(const crypto::KeyPair& regulator,
                                             const std::string& regulator_org);
  std::vector<v1::Transaction> SitesAndQuotas(const crypto::KeyPair& regulator,
                                              const std::string& regulator_org, uint32_t year);

  // Whether a transaction of `kind` can be made now (a committed lot or offer waits).
  bool Ready(Kind kind) const;
  // The next transaction of `kind`, which must be Ready.
  Prepared Next(Kind kind);

 private:
  struct OpenOffer {
    std::string offer_id;
    std::vector<std::string> lot_ids;
  };

  Prepared Extract();
  Prepared Transfer();  // accepts a committed offer if there is one, else offers lots
  Prepared Offer();
  Prepared Accept();
  Prepared Process();
  Prepared Licence();
  std::string NextId(std::string_view prefix);

  Network* const network_;
  const std::string tag_;  // "<run>-<lane>", in every id this lane makes
  const std::string miner_, separator_, exporter_, mine_, plant_;
  const crypto::KeyPair miner_key_, separator_key_, exporter_key_;
  uint64_t sequence_ = 0;

  mutable Mutex mu_;
  std::deque<std::string> mined_lots_ REEL_GUARDED_BY(mu_);     // committed, held by the miner
  std::deque<OpenOffer> open_offers_ REEL_GUARDED_BY(mu_);      // committed, to the separator
  std::deque<std::string> received_lots_ REEL_GUARDED_BY(mu_);  // accepted, held by the separator
};

}  // namespace reel::bench
