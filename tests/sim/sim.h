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
// Byzantine replicas run the real core, but their driver lies, and the f of
// them collude: one coalition hears what any of them is sent and signs with
// any of their keys. Half the seeds with f >= 2 (twins aside) place them in
// consecutive leader slots. Every member votes, twice, for every block it sees. The seed
// picks which other lies the coalition tells:
//  - equivocation: as leader, one validator gets the honest proposal and the
//    rest another block (other transactions, or a fork one or two blocks lower
//    on an older QC, with the honest proposal's TC), then everyone gets both;
//  - withheld QCs: as leader of r + 1, it collects the votes of r and shows its
//    proposal (the QC) to nobody (its timeouts then claim the QC below), to a
//    random part, or to a part now and the rest a few round timeouts later;
//  - crafted messages, each with one flaw: timeouts claiming a high QC above
//    the signer's, for a round past the future bound, or badly signed; TCs
//    (in timeouts, sent when the coalition holds a quorum less one of honest
//    timeouts, so that the flaw is the only one) with too few signers, a signer
//    named twice, a high QC round at the TC's round, or a bad signature;
//    proposals with a stale TC or a bad signature; badly signed votes; and
//    timeouts claiming a lower high QC than held (a lie nobody can see);
//  - ForkBelowTc: as leader of r + 1 it withholds QC_r (which commits J, one
//    round below), and after the TC of r proposes, on J's parent, a block that
//    the TC's highest high QC forbids, to all but a witness that gets QC_r;
//  - SkipRoundFork, with three members leading rounds i..i + 2: withheld QCs
//    and legal proposals on lower QCs build a certified sibling Z of J, a
//    child K of J two rounds up, and a child of Z two rounds up, while a
//    witness alone gets QC_K. Both are forks only a weakened rule completes.
// Twins run one key on two honest replicas kept on either side of changing
// splits; the seed enumerates the splits of the first partition periods.
//
// Epochs (--epochs K, epochs.h): the application ends an epoch every K committed
// blocks or so, at heights and with sets drawn from the seed (members added, removed,
// replaced by fresh ones, kept), from a pool of n + 3 members. One core runs per member
// of its newest epoch; messages go by index in the sender's epoch, and the transport
// names the sender by its index in the receiver's epoch, dropping non-members. A core
// whose Commit carries next_epoch is retired, and the next epoch's started on the
// ending block; members that join start on a copy of the state at that block (what
// block sync gives a new node), removed ones stop. A replica that hears a peer of a
// newer epoch syncs committed blocks from it, each checked against its epoch's set, and
// restarts its core in the newest epoch it reached; a restart after a crash does the
// same from its disk (a safety state of an older epoch is ignored by the core). During
// chaos a replica sometimes crashes right at its epoch's end. Byzantine members that a
// change removes keep sending (old-epoch timeouts and votes; new-epoch votes and
// timeouts signed with their key, directly and relayed by a member still in the set),
// and a member of two consecutive sets signs votes for the new epoch's blocks over the
// old epoch's digest (what PlantedBug::kOldEpochVote counts).
//
// Checks: no two honest replicas commit different blocks (or state roots) at
// one height, across all epochs; each replica's commits extend its own chain; every
// commit's QC holds a quorum of distinct signers and verifies (VerifyQc) against its
// own epoch's set, and so does every QC and TC in a proposal an honest replica
// broadcasts; no block of an epoch is committed above the block that ended it; no
// honest validator signs two votes or two proposals in one round of one epoch; a
// core's Commit::next_epoch is the next set, at the planned height, and an honest
// replica's epochs only go up (so honest replicas pass through the same sets in the
// same order); an honest replica refuses every crafted
// message whose flaw its checks reach (MustRefuse in sim.cc); progress after healing,
// with the coalition still lying (with epochs: every honest validator of the newest
// epoch runs it and commits in it, within the bound after healing or after that epoch
// began). The planted bugs (consensus::PlantedBug) are
// each caught: vote-before-persist, weak-vote-rule (two votes in a round),
// double-count (a commit QC below a quorum), weak-tc-rule (ForkBelowTc forks),
// weak-commit-rule (SkipRoundFork forks, at n = 10 where f = 3) and old-epoch-vote
// (with --epochs: an honest replica accepts a vote marked with the epoch before, and
// the QC its leader forms with it verifies nowhere else).
#pragma once

#include <cstdint>
#include <map>
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
  // Round-robin leaders instead of reputation: the scripted coalition attacks
  // (ForkBelowTc, SkipRoundFork) plan on knowing the leaders of the next rounds, so
  // the weak-commit-rule and weak-tc-rule catches run with it.
  bool round_robin = false;
  // Epoch changes (epochs.h): about this many committed blocks per epoch; 0: one epoch.
  uint64_t epochs = 0;
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
  // Byzantine actions by kind, and what became of the crafted messages.
  std::map<std::string, uint64_t> byzantine_actions;
  // Epochs: the newest reached, the changes made, and what the changes exercised.
  uint64_t epoch = 0;
  uint64_t epoch_changes = 0;
  std::map<std::string, uint64_t> epoch_coverage;
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace reel::sim
