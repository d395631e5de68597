// The ledger's calendar (rules.h, "Calendar"): dates in China Standard Time (UTC+8) of
// block times, and the start of a month, as quotas (by year) and the monthly flow
// report (by month) use them. Checked against the C library's own calendar
// (gmtime_r, timegm) for every day and every month from 1970 to 2400, and at the edges
// the rules meet: leap days, the turn of the year at 00:00 CST, the epoch, and the
// last year the calendar holds.
#include <gtest/gtest.h>
#include <time.h>

#include <cstdint>

#include "base/limits.h"
#include "node/ledger/rules.h"

namespace reel::ledger {
namespace {

constexpr uint64_t kDayMs = 86'400'000;
constexpr int64_t kCstOffsetS = 8 * 3600;

struct Date {
  int64_t year;
  uint32_t month;
  uint32_t day;
  bool operator==(const Date&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Date& d) {
  return os << d.year << "-" << d.month << "-" << d.day;
}

Date Of(const CivilDate& d) {
  return {d.year, d.month, d.day};
}

// The civil date in UTC+8 of `time_ms`, by the C library.
Date LibcCstDate(uint64_t time_ms) {
  const time_t seconds = static_cast<time_t>(time_ms / 1000) + kCstOffsetS;
  struct tm tm {};
  EXPECT_NE(gmtime_r(&seconds, &tm), nullptr);
  return {tm.tm_year + 1900, static_cast<uint32_t>(tm.tm_mon + 1),
          static_cast<uint32_t>(tm.tm_mday)};
}

// 00:00 UTC+8 on the first of year/month, in ms since the epoch (may be negative), by
// the C library.
int64_t LibcCstMonthStartMs(int year, int month) {
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = 1;
  return (static_cast<int64_t>(timegm(&tm)) - kCstOffsetS) * 1000;
}

uint64_t CstMs(int year, int month, int day, int hour = 0, int minute = 0, int second = 0,
               int ms = 0) {
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<uint64_t>((static_cast<int64_t>(timegm(&tm)) - kCstOffsetS) * 1000 + ms);
}

TEST(CalendarTest, EveryDayFrom1970To2400MatchesTheCLibraryAtBothEnds) {
  const uint64_t first = CstMs(1970, 1, 2);
  const uint64_t last = CstMs(2400, 12, 31);
  for (uint64_t midnight = first; midnight <= last; midnight += kDayMs) {
    ASSERT_EQ(Of(CstDate(midnight)), LibcCstDate(midnight)) << midnight;
    ASSERT_EQ(Of(CstDate(midnight + kDayMs - 1)), LibcCstDate(midnight + kDayMs - 1)) << midnight;
    ASSERT_NE(Of(CstDate(midnight - 1)), Of(CstDate(midnight))) << "no day turns at " << midnight;
  }
}

TEST(CalendarTest, EveryMonthStartFrom1970To2400MatchesTheCLibrary) {
  for (int year = 1970; year <= 2400; ++year) {
    for (uint32_t month = 1; month <= 12; ++month) {
      const int64_t expected = LibcCstMonthStartMs(year, static_cast<int>(month));
      ASSERT_EQ(CstMonthStartMs(year, month), expected < 0 ? 0u : static_cast<uint64_t>(expected))
          << year << "-" << month;
    }
  }
}

TEST(CalendarTest, LeapDaysFollowTheGregorianRules) {
  // Divisible by 4: leap; by 100: not; by 400: leap again.
  for (int year : {2024, 2028, 2000, 2400}) {
    EXPECT_EQ(Of(CstDate(CstMs(year, 2, 28) + kDayMs)), (Date{year, 2, 29})) << year;
    EXPECT_EQ(CstMonthStartMs(year, 3) - CstMonthStartMs(year, 2), 29 * kDayMs) << year;
  }
  for (int year : {2025, 2100, 2200, 2300}) {
    EXPECT_EQ(Of(CstDate(CstMs(year, 2, 28) + kDayMs)), (Date{year, 3, 1})) << year;
    EXPECT_EQ(CstMonthStartMs(year, 3) - CstMonthStartMs(year, 2), 28 * kDayMs) << year;
  }
}

TEST(CalendarTest, TheYearTurnsAtMidnightInBeijingNotInGreenwich) {
  // 2026-01-01 00:00 CST is 2025-12-31 16:00 UTC.
  const uint64_t new_year = CstMonthStartMs(2026, 1);
  EXPECT_EQ(new_year, 1767196800000u);
  EXPECT_EQ(Of(CstDate(new_year)), (Date{2026, 1, 1}));
  EXPECT_EQ(Of(CstDate(new_year - 1)), (Date{2025, 12, 31}));
  EXPECT_EQ(CstMs(2025, 12, 31, 23, 59, 59, 999), new_year - 1);
  // December's month runs into the next year's January.
  EXPECT_EQ(CstMonthStartMs(2025, 12) + 31 * kDayMs, new_year);
  // The whole range of quota years.
  for (uint32_t year = limits::ledger_quota_year_min; year <= limits::ledger_quota_year_max;
       ++year) {
    EXPECT_EQ(CstDate(CstMonthStartMs(year, 1)).year, year);
    EXPECT_EQ(CstDate(CstMonthStartMs(year, 1) - 1).year, year - 1);
  }
}

TEST(CalendarTest, TheEpochAndTheLastYearAreEdges) {
  // The epoch is 08:00 CST on 1970-01-01; that month started before it.
  EXPECT_EQ(Of(CstDate(0)), (Date{1970, 1, 1}));
  EXPECT_EQ(CstMonthStartMs(1970, 1), 0u);
  EXPECT_EQ(CstMonthStartMs(1969, 12), 0u);
  EXPECT_EQ(CstMonthStartMs(1970, 2), 31 * kDayMs - 8 * 3'600'000);
  // The last day the calendar holds; anything later reads as it.
  const uint64_t last_day = CstMs(32767, 12, 31);
  EXPECT_EQ(Of(CstDate(last_day)), (Date{32767, 12, 31}));
  EXPECT_EQ(Of(CstDate(last_day - 1)), (Date{32767, 12, 30}));
  EXPECT_EQ(Of(CstDate(UINT64_MAX)), (Date{32767, 12, 31}));
  EXPECT_EQ(CstMonthStartMs(32767, 12), last_day - 30 * kDayMs);
}

}  // namespace
}  // namespace reel::ledger
