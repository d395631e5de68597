#include "node/daemon/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/mutex.h"

namespace reel::daemon {
namespace {

// The time is UTC so that the logs of nodes in several time zones sort together.
std::unique_ptr<spdlog::formatter> MakeFormatter(config::LogFormat format) {
  const char* pattern = format == config::LogFormat::kJson
                            ? R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","component":"%n",%v})"
                            : "%Y-%m-%dT%H:%M:%S.%eZ %-7l [%n] %v";
  return std::make_unique<spdlog::pattern_formatter>(pattern, spdlog::pattern_time_type::utc,
                                                     std::string("\n"));
}

struct LogState {
  LogState() { sink->set_formatter(MakeFormatter(format)); }

  Mutex mutex;
  // The sink is thread-safe itself (_mt); its formatter changes with mutex held.
  const std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink =
      std::make_shared<spdlog::sinks::stderr_sink_mt>();
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers
      REEL_GUARDED_BY(mutex);
  spdlog::level::level_enum level REEL_GUARDED_BY(mutex) = spdlog::level::info;
  config::LogFormat format REEL_GUARDED_BY(mutex) = config::LogFormat::kText;
};

LogState& State() {
  static LogState* state = new LogState;  // never destroyed: threads may log during exit
  return *state;
}

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> LoggerFor(LogState& state, std::string_view component)
    REEL_REQUIRES(state.mutex) {
  auto it = state.loggers.find(component);
  if (it != state.loggers.end()) return it->second;
  // Not registered in spdlog's global registry: these loggers are ours alone.
  auto logger = std::make_shared<spdlog::logger>(std::string(component), state.sink);
  logger->set_level(state.level);
  state.loggers.emplace(std::string(component), logger);
  return logger;
}

// nlohmann_json's string serializer: quotes and backslashes escaped, control
// characters as \n, \r, \t, \b, \f or \u00XX, other bytes as they are; bytes that are not
// UTF-8 become U+FFFD (rather than throwing), so that every line stays JSON.
void AppendJsonString(std::string& out, std::string_view text) {
  out += nlohmann::json(text).dump(-1, ' ', /*ensure_ascii=*/false,
                                   nlohmann::json::error_handler_t::replace);
}

void AppendTextValue(std::string& out, std::string_view text) {
  bool plain = !text.empty() && text.find_first_of(" \"=\\\n\r\t") == std::string_view::npos;
  if (plain) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

}  // namespace

Status ConfigureLogging(std::string_view level, config::LogFormat format) {
  if (!config::IsLogLevel(level)) {
    return Status::InvalidArgument("unknown log level \"" + std::string(level) + "\"");
  }
  // spdlog reads every name of config::kLogLevels ("warn" and "error" included).
  const spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  LogState& state = State();
  MutexLock lock(&state.mutex);
  state.level = parsed;
  state.format = format;
  state.sink->set_formatter(MakeFormatter(format));
  for (auto& [name, logger] : state.loggers) logger->set_level(parsed);
  return Status::Ok();
}

std::string FormatLogBody(config::LogFormat format, std::string_view message,
                          std::initializer_list<LogField> fields) {
  std::string out;
  if (format == config::LogFormat::kJson) {
    out += "\"msg\":";
    AppendJsonString(out, message);
    for (const LogField& field : fields) {
      out += ',';
      AppendJsonString(out, field.key);
      out += ':';
      if (field.is_number) {
        out += field.text;
      } else {
        AppendJsonString(out, field.text);
      }
    }
    return out;
  }
  out += message;
  for (const LogField& field : fields) {
    out += ' ';
    out += field.key;
    out += '=';
    AppendTextValue(out, field.text);
  }
  return out;
}

void Log(LogLevel level, std::string_view component, std::string_view message,
         std::initializer_list<LogField> fields) {
  LogState& state = State();
  spdlog::level::level_enum spd_level = ToSpdlog(level);
  std::shared_ptr<spdlog::logger> logger;
  config::LogFormat format;
  {
    MutexLock lock(&state.mutex);
    if (spd_level < state.level || spd_level == spdlog::level::off) return;
    logger = LoggerFor(state, component);
    format = state.format;
  }
  std::string body = FormatLogBody(format, message, fields);
  logger->log(spd_level, spdlog::string_view_t(body.data(), body.size()));
}

}  // namespace reel::daemon
