// reel-sim --whole-node: parses its options, runs the seeds of the whole-node
// simulator (whole_node.h) and reports, in main.cc's format: a FAIL line per failing
// seed, what the seeds covered, and last `seeds=N violations=V stalled=S commits=C`.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "tests/sim/whole_node.h"

namespace reel::sim {
namespace {

using ull = unsigned long long;

// What all the seeds of a run covered.
struct Totals {
  uint64_t violations = 0, stalled = 0, commits = 0, crashes = 0, lost_writes = 0, far_behind = 0,
           fetches = 0, ranges_applied = 0, blocks_synced = 0, ranges_refused = 0, ranges_empty = 0,
           replays = 0, acknowledged = 0, resubmitted = 0, epochs = 0, down_commits = 0,
           down_gap_ms_max = 0;
  std::map<std::string, uint64_t> committed_refused, lies;

  void Add(const WholeNodeResult& r) {
    commits += r.commits;
    crashes += r.crashes;
    lost_writes += r.unsynced_writes_lost;
    far_behind += r.far_behind;
    fetches += r.fetches;
    ranges_applied += r.ranges_applied;
    blocks_synced += r.blocks_synced;
    ranges_refused += r.ranges_refused;
    ranges_empty += r.ranges_empty;
    replays += r.replays;
    epochs += r.epochs;
    acknowledged += r.acknowledged;
    resubmitted += r.resubmitted;
    down_commits += r.down_commits;
    down_gap_ms_max = std::max(down_gap_ms_max, r.down_gap_ms_max);
    for (const auto& [code, count] : r.committed_refused) committed_refused[code] += count;
    for (const auto& [kind, count] : r.lies) lies[kind] += count;
  }
};

void PrintReplay(uint64_t seed, const WholeNodeResult& r) {
  std::printf(
      "seed=%llu hash=%016llx events=%llu rounds=%llu height=%llu crashes=%llu ranges=%llu "
      "refused=%llu acknowledged=%llu\n",
      static_cast<ull>(seed), static_cast<ull>(r.event_hash), static_cast<ull>(r.events),
      static_cast<ull>(r.rounds), static_cast<ull>(r.commits), static_cast<ull>(r.crashes),
      static_cast<ull>(r.ranges_applied), static_cast<ull>(r.ranges_refused),
      static_cast<ull>(r.acknowledged));
}

// " name=count ..." and the end of the line; " none" for no counts.
void PrintCounts(const std::map<std::string, uint64_t>& counts) {
  if (counts.empty()) std::printf(" none");
  for (const auto& [name, count] : counts)
    std::printf(" %s=%llu", name.c_str(), static_cast<ull>(count));
  std::printf("\n");
}

void PrintCoverage(const Totals& t) {
  std::printf(
      "covered: %llu crashes (%llu unsynced batches lost), %llu far behind; block sync: %llu "
      "ranges applied (%llu blocks), %llu refused (Byzantine peers), %llu empty (honest peers); "
      "%llu fetches; %llu replays from genesis; %llu epoch changes\n",
      static_cast<ull>(t.crashes), static_cast<ull>(t.lost_writes), static_cast<ull>(t.far_behind),
      static_cast<ull>(t.ranges_applied), static_cast<ull>(t.blocks_synced),
      static_cast<ull>(t.ranges_refused), static_cast<ull>(t.ranges_empty),
      static_cast<ull>(t.fetches), static_cast<ull>(t.replays), static_cast<ull>(t.epochs));
  std::printf("clients: %llu transactions acknowledged, %llu sent again; committed with a refusal:",
              static_cast<ull>(t.acknowledged), static_cast<ull>(t.resubmitted));
  PrintCounts(t.committed_refused);
  std::printf("byzantine:");
  PrintCounts(t.lies);
}

void PrintDownOne(const Totals& t) {
  std::printf(
      "one down for good: %llu blocks committed by the others after it went down; "
      "longest pause between their commits %llu ms (simulated)\n",
      static_cast<ull>(t.down_commits), static_cast<ull>(t.down_gap_ms_max));
}

}  // namespace

bool WantsWholeNode(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--whole-node") == 0) return true;
  }
  return false;
}

int WholeNodeMain(int argc, char** argv) {
  CLI::App app{"reel-sim --whole-node: deterministic simulator of whole REEL nodes"};
  bool whole_node = false;
  uint64_t seeds = 100;
  uint64_t first_seed = 1;
  std::optional<uint64_t> replay;
  WholeNodeOptions opt;
  std::string bug = "none";
  app.add_flag("--whole-node", whole_node, "run whole nodes (this mode)")->required();
  app.add_option("--seeds", seeds, "number of seeds to run")->check(CLI::PositiveNumber);
  app.add_option("--first-seed", first_seed, "first seed of the range");
  app.add_option("--seed", replay, "replay one seed and print its event-log hash");
  app.add_option("--validators", opt.validators, "validators n")->check(CLI::Range(1, 100));
  app.add_option("--byzantine", opt.byzantine, "Byzantine validators (at most f)");
  app.add_option("--rounds", opt.rounds, "rounds per seed (chaos takes the first half)");
  app.add_option("--transactions", opt.transactions, "client transactions per seed");
  app.add_option("--epoch-changes", opt.epoch_changes,
                 "validator-set changes (new timings) among them, each ending an epoch");
  app.add_option("--bug", bug, "planted bug")
      ->check(CLI::IsMember({"none", "body-keyed-cache", "sync-skips-envelope-check"}));
  app.add_flag("--down-one", opt.down_one,
               "no chaos: one validator crashes for good; the others must keep committing");
  app.add_flag("--verbose", opt.verbose, "print the event log");
  CLI11_PARSE(app, argc, argv);

  const std::map<std::string, replica::PlantedBug> bugs = {
      {"none", replica::PlantedBug::kNone},
      {"body-keyed-cache", replica::PlantedBug::kBodyKeyedCache},
      {"sync-skips-envelope-check", replica::PlantedBug::kSyncSkipsEnvelopeCheck}};
  opt.bug = bugs.at(bug);
  const uint64_t f = (opt.validators - 1) / 3;
  if (opt.byzantine > f) {
    std::fprintf(stderr, "--byzantine %u exceeds f = %llu for n = %u\n", opt.byzantine,
                 static_cast<ull>(f), opt.validators);
    return 2;
  }
  if (opt.down_one && opt.byzantine != 0) {
    std::fprintf(stderr, "--down-one runs without Byzantine validators\n");
    return 2;
  }
  if (replay) {
    first_seed = *replay;
    seeds = 1;
  }

  Totals totals;
  const auto start = std::chrono::steady_clock::now();  // for the report only
  for (uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    opt.seed = seed;
    const WholeNodeResult r = RunWholeNode(opt);
    totals.Add(r);
    if (replay) PrintReplay(seed, r);
    for (const std::string& v : r.violations) {
      std::printf("FAIL seed=%llu violation: %s\n", static_cast<ull>(seed), v.c_str());
    }
    if (!r.violations.empty()) ++totals.violations;
    if (r.stalled) {
      ++totals.stalled;
      std::printf("FAIL seed=%llu stalled: %s (round %llu, height %llu)\n", static_cast<ull>(seed),
                  r.stall_reason.c_str(), static_cast<ull>(r.rounds), static_cast<ull>(r.commits));
    }
    std::fflush(stdout);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "whole-node n=%u byzantine=%u bug=%s rounds=%llu transactions=%u: %.1f s, %.2f seeds/s\n",
      opt.validators, opt.byzantine, bug.c_str(), static_cast<ull>(opt.rounds), opt.transactions,
      seconds, static_cast<double>(seeds) / seconds);
  PrintCoverage(totals);
  if (opt.down_one) PrintDownOne(totals);
  std::printf("seeds=%llu violations=%llu stalled=%llu commits=%llu\n", static_cast<ull>(seeds),
              static_cast<ull>(totals.violations), static_cast<ull>(totals.stalled),
              static_cast<ull>(totals.commits));
  return totals.violations != 0 || totals.stalled != 0 ? 1 : 0;
}

}  // namespace reel::sim
