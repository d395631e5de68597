// The whole-node simulator's clients (whole_node.h): lanes of organisations registered
// in genesis, each with its own signing key, that make reel-bench's custody mix
// (tools/bench/bodies.h, mix.h) as real signed transactions: extractions, transfers
// offered then accepted, separations and licence applications, none expiring.
//
// A lane makes a transaction that depends on another only once that one has committed
// with OK (an offer of mined lots, the acceptance of an offer, the separation of
// received lots), as reel-bench's lanes do (tools/bench/lane.h says why); so every
// transaction it makes is one the custody rules accept when it is made, and a refusal
// at commit means someone changed it on the way. Deterministic: keys come from names,
// nonces count from 1.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/tx.pb.h"
#include "tools/bench/mix.h"

namespace reel::sim {

class Workload {
 public:
  struct Tx {
    v1::Transaction envelope;
    crypto::Hash32 id{};
    uint32_t lane = 0;
    bench::Kind kind = bench::Kind::kExtract;
    // What its commit makes possible: the lot it mines, the offer it makes (with its
    // lots), or the lots it accepts.
    std::string offer_id;
    std::vector<std::string> lots;
    bool governance = false;  // a validator-set change, not a custody action
  };

  Workload(std::string chain_id, uint32_t lanes);

  // The regulator and every lane's organisations, sites, and quotas of `year`.
  void AddToGenesis(v1::Genesis* genesis, uint32_t year) const;

  uint32_t lanes() const { return static_cast<uint32_t>(lanes_.size()); }
  // The next transaction of `lane`'s mix.
  Tx Next(uint32_t lane);
  // `tx` committed with `code`; an OK one makes the lane's next steps possible.
  // The regulator, the one organisation that governs the validator set in this genesis,
  // proposes new consensus timings: approved at once, it ends the epoch (an epoch change
  // with the same validators). `block_txs_max` 0 keeps the default.
  Tx TimingsChange(uint64_t round_timeout_ms, uint64_t idle_block_interval_ms,
                   uint32_t block_txs_max = 0);
  void OnCommitted(const Tx& tx, v1::ErrorCode code);

 private:
  struct Offer {
    std::string offer_id;
    std::vector<std::string> lots;
  };
  struct Lane {
    Lane(const std::string& tag, const bench::Mix& mix)
        : miner(tag + "-mining"),
          separator(tag + "-separation"),
          exporter(tag + "-export"),
          mine("mine-" + tag),
          plant("plant-" + tag),
          scheduler(mix) {}
    std::string miner, separator, exporter, mine, plant;
    bench::MixScheduler scheduler;
    std::deque<std::string> mined;     // committed, held by the miner
    std::deque<Offer> offers;          // committed, to the separator
    std::deque<std::string> received;  // accepted, held by the separator
    uint64_t sequence = 0;
  };

  bool Ready(const Lane& lane, bench::Kind kind) const;
  Tx Signed(uint32_t lane, bench::Kind kind, const v1::TxBody& body);
  v1::TxBody Body(const std::string& signer);
  std::string NextId(Lane& lane, const std::string& prefix);

  const std::string chain_id_;
  std::vector<Lane> lanes_;
  std::map<std::string, crypto::KeyPair> keys_;  // by organisation
  uint64_t nonce_ = 0;
};

}  // namespace reel::sim
