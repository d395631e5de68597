// Structured logs for the daemon and, later, every component it wires.
//
// One line per event, to stderr, with time (UTC), level, component, a message and
// key=value fields:
//   text: 2026-11-28T22:30:01.123Z info    [daemon] started moniker=n1 height=0
//   json: {"time":"2026-11-28T22:30:01.123Z","level":"info","component":"daemon",
//          "msg":"started","moniker":"n1","height":0}
// Values are quoted in text when they hold spaces, quotes or '='; in JSON, strings are
// escaped by nlohmann_json (bytes that are not UTF-8 become U+FFFD) and integers stay
// numbers. Before ConfigureLogging is called, logs go out as text at info level.
//
// Thread-safety: Log may be called from any thread (spdlog's _mt sinks serialise
// lines); ConfigureLogging is meant for start-up, before other threads log.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/status.h"
#include "node/config/config.h"

namespace reel::daemon {

enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// One key=value field. Integers are kept as numbers for JSON.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), text(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), text(v) {}
  LogField(std::string_view k, const char* v) : key(k), text(v) {}
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  LogField(std::string_view k, T v) : key(k), text(std::to_string(v)), is_number(true) {}

  std::string_view key;
  std::string text;
  bool is_number = false;
};

// level: "trace" ... "off" (config.h's list); InvalidArgument otherwise.
Status ConfigureLogging(std::string_view level, config::LogFormat format);

void Log(LogLevel level, std::string_view component, std::string_view message,
         std::initializer_list<LogField> fields = {});

// The line Log would print after the time and level, for tests of the format.
std::string FormatLogBody(config::LogFormat format, std::string_view message,
                          std::initializer_list<LogField> fields);

}  // namespace reel::daemon
