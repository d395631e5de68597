// reel-sim: runs seeds of the deterministic simulator (sim.h) and reports.
// The last line is always `seeds=N violations=V stalled=S commits=C`, where V
// and S count failing seeds and C sums the heights honest replicas reached.
// Exits non-zero if any seed failed, after printing every failing seed.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tests/sim/sim.h"
#include "tests/sim/whole_node.h"

int main(int argc, char** argv) {
  // Whole nodes instead of cores (TESTING.md row 13): its own options, whole_node.h.
  if (reel::sim::WantsWholeNode(argc, argv)) return reel::sim::WholeNodeMain(argc, argv);
  using reel::consensus::PlantedBug;
  CLI::App app{"reel-sim: deterministic simulator of the REEL consensus core"};
  uint64_t seeds = 100;
  uint64_t first_seed = 1;
  std::optional<uint64_t> replay;
  reel::sim::SimOptions opt;
  std::string bug = "none";
  app.add_option("--seeds", seeds, "number of seeds to run")->check(CLI::PositiveNumber);
  app.add_option("--first-seed", first_seed, "first seed of the range");
  app.add_option("--seed", replay, "replay one seed and print its event-log hash");
  app.add_option("--validators", opt.validators, "validators n")->check(CLI::Range(1, 100));
  app.add_option("--byzantine", opt.byzantine, "Byzantine validators (at most f)");
  app.add_flag("--twins", opt.twins, "run one Byzantine key on two honest replicas");
  app.add_option("--rounds", opt.rounds, "rounds per seed (chaos takes the first half)");
  app.add_option("--bug", bug, "planted bug")
      ->check(CLI::IsMember({"none", "vote-before-persist", "weak-vote-rule", "double-count",
                             "weak-commit-rule", "weak-tc-rule", "old-epoch-vote"}));
  app.add_flag("--verbose", opt.verbose, "print the event log");
  app.add_flag("--round-robin", opt.round_robin,
               "round-robin leaders instead of reputation (the scripted attacks plan on them)");
  app.add_option("--epochs", opt.epochs,
                 "epoch changes, about one per this many committed blocks (epochs.h); 0: none")
      ->check(CLI::NonNegativeNumber);
  std::vector<std::string> required;
  app.add_option("--require", required,
                 "fail unless the seeds covered this epoch case (a name the epochs line prints) "
                 "at least once; repeatable");
  CLI11_PARSE(app, argc, argv);

  const std::map<std::string, PlantedBug> bugs = {
      {"none", PlantedBug::kNone},
      {"vote-before-persist", PlantedBug::kVoteBeforePersist},
      {"weak-vote-rule", PlantedBug::kWeakVoteRule},
      {"double-count", PlantedBug::kDoubleCount},
      {"weak-commit-rule", PlantedBug::kWeakCommitRule},
      {"weak-tc-rule", PlantedBug::kWeakTcRule},
      {"old-epoch-vote", PlantedBug::kOldEpochVote}};
  opt.bug = bugs.at(bug);
  const uint64_t f = (opt.validators - 1) / 3;
  if (opt.byzantine > f) {
    std::fprintf(stderr, "--byzantine %u exceeds f = %llu for n = %u\n", opt.byzantine,
                 static_cast<unsigned long long>(f), opt.validators);
    return 2;
  }
  if (opt.twins && f == 0) {
    std::fprintf(stderr, "--twins needs f >= 1 (n >= 4)\n");
    return 2;
  }
  if (replay) {
    first_seed = *replay;
    seeds = 1;
  }

  uint64_t violations = 0, stalled = 0, commits = 0, crashes = 0, partitions = 0;
  uint64_t epoch_changes = 0;
  // Byzantine actions by kind, and what the epoch changes exercised, over all seeds.
  std::map<std::string, uint64_t> byzantine, epochs;
  const auto start = std::chrono::steady_clock::now();  // for the report only
  for (uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    opt.seed = seed;
    const reel::sim::SimResult r = reel::sim::RunSimulation(opt);
    commits += r.commits;
    crashes += r.crashes;
    partitions += r.partition_changes;
    for (const auto& [kind, count] : r.byzantine_actions) byzantine[kind] += count;
    for (const auto& [kind, count] : r.epoch_coverage) epochs[kind] += count;
    epoch_changes += r.epoch_changes;
    if (replay) {
      std::printf(
          "seed=%llu hash=%016llx events=%llu rounds=%llu height=%llu crashes=%llu "
          "partitions=%llu fetches=%llu timeouts=%llu epoch=%llu\n",
          static_cast<unsigned long long>(seed), static_cast<unsigned long long>(r.event_hash),
          static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.rounds),
          static_cast<unsigned long long>(r.commits), static_cast<unsigned long long>(r.crashes),
          static_cast<unsigned long long>(r.partition_changes),
          static_cast<unsigned long long>(r.fetches),
          static_cast<unsigned long long>(r.timeouts_sent),
          static_cast<unsigned long long>(r.epoch));
    }
    if (!r.violations.empty()) {
      ++violations;
      for (const std::string& v : r.violations) {
        std::printf("FAIL seed=%llu violation: %s\n", static_cast<unsigned long long>(seed),
                    v.c_str());
      }
    }
    if (r.stalled) {
      ++stalled;
      std::printf("FAIL seed=%llu stalled: %s (round %llu, height %llu)\n",
                  static_cast<unsigned long long>(seed), r.stall_reason.c_str(),
                  static_cast<unsigned long long>(r.rounds),
                  static_cast<unsigned long long>(r.commits));
    }
    std::fflush(stdout);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "n=%u byzantine=%u twins=%d bug=%s rounds=%llu: %.1f s, %.1f seeds/s, %llu crashes, "
      "%llu partition changes\n",
      opt.validators, opt.byzantine, opt.twins ? 1 : 0, bug.c_str(),
      static_cast<unsigned long long>(opt.rounds), seconds, static_cast<double>(seeds) / seconds,
      static_cast<unsigned long long>(crashes), static_cast<unsigned long long>(partitions));
  if (opt.epochs != 0) {
    std::printf("epochs: about %llu blocks each, changes=%llu",
                static_cast<unsigned long long>(opt.epochs),
                static_cast<unsigned long long>(epoch_changes));
    for (const auto& [kind, count] : epochs) {
      std::printf(" %s=%llu", kind.c_str(), static_cast<unsigned long long>(count));
    }
    std::printf("\n");
  }
  if (!byzantine.empty()) {
    std::printf("byzantine:");
    for (const auto& [kind, count] : byzantine) {
      std::printf(" %s=%llu", kind.c_str(), static_cast<unsigned long long>(count));
    }
    std::printf("\n");
  }
  std::printf("seeds=%llu violations=%llu stalled=%llu commits=%llu\n",
              static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(violations),
              static_cast<unsigned long long>(stalled), static_cast<unsigned long long>(commits));
  // A change of the simulator that stops reaching a case must fail, not pass quietly.
  uint64_t uncovered = 0;
  for (const std::string& name : required) {
    if (epochs[name] != 0) continue;
    ++uncovered;
    std::printf("FAIL not covered by seeds %llu..%llu: %s\n",
                static_cast<unsigned long long>(first_seed),
                static_cast<unsigned long long>(first_seed + seeds - 1), name.c_str());
  }
  return violations != 0 || stalled != 0 || uncovered != 0 ? 1 : 0;
}
