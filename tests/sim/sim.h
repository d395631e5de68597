// reel-sim: n replicas of the real consensus core in one process, driven from
// one seed (TESTING.md rows 1-4). Everything that affects a run comes from the
// seed through one PRNG; there is no wall clock, no std::random_device and no
// iteration over unordered containers, so a seed replays exactly, and the
// event-log hash proves it.
//
// A run has a chaos phase (delays that reorder, drops, duplicates, symmetric
// and one-way partitions that form and heal, crashes between any two actions
// that lose unsynced writes, Byzantine replicas or twins), then a healing
// phase (faults stop, every crashed replica restarts) in which every honest
// replica must commit a new block within 10 + 3n rounds.
//
// Byzantine replicas run the real core, but their driver lies: as leader it
// sends one validator the honest proposal and the rest another block (other
// transactions, or a fork one or two blocks lower on an older QC), then later
// shows everyone both; and it votes, twice, for every block it sees. Twins
// run one key on two honest replicas kept on either side of changing splits;
// the seed enumerates the splits of the first partition periods.
//
// Checks: no two honest replicas commit different blocks (or state roots) at
// one height; each replica's commits extend its own chain; every commit's QC
// holds a quorum of distinct signers; no honest validator signs two votes or
// two proposals in one round; progress after healing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "consensus/core.h"

namespace reel::sim {

struct SimOptions {
  uint64_t seed = 1;
  uint32_t validators = 4;
  uint32_t byzantine = 0;  // at most f
  bool twins = false;      // one Byzantine key runs on two honest replicas
  uint64_t rounds = 60;    // the chaos phase lasts until an honest replica reaches rounds / 2
  consensus::PlantedBug bug = consensus::PlantedBug::kNone;
  bool verbose = false;  // print the event log
};

struct SimResult {
  std::vector<std::string> violations;  // empty when every check held
  bool stalled = false;                 // no progress after healing
  std::string stall_reason;
  uint64_t commits = 0;     // highest height committed by an honest replica
  uint64_t rounds = 0;      // highest round reached by an honest replica
  uint64_t events = 0;      // events processed
  uint64_t event_hash = 0;  // over the whole event log
  // What the seed exercised.
  uint64_t crashes = 0;
  uint64_t partition_changes = 0;
  uint64_t fetches = 0;
  uint64_t timeouts_sent = 0;
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace reel::sim
