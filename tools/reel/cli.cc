#include "tools/reel/cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace reel::cli {

void OnRun(CLI::App* command, Runner* selected, Runner runner) {
  command->callback([selected, runner = std::move(runner)] { *selected = runner; });
}

void OnRunAlone(CLI::App* command, Runner* selected, Runner runner) {
  // CLI11 runs a parent's callback after its subcommand's, which selected its own.
  command->callback([command, selected, runner = std::move(runner)] {
    if (command->get_subcommands().empty()) *selected = runner;
  });
}

void Table::Add(std::vector<std::string> row) {
  REEL_ASSERT(row.size() == columns_.size());
  rows_.push_back(std::move(row));
}

void Table::Print(const Globals& globals) const {
  if (globals.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : rows_) {
      nlohmann::json object = nlohmann::json::object();
      for (size_t i = 0; i < columns_.size(); ++i) object[columns_[i]] = row[i];
      out.push_back(std::move(object));
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::vector<size_t> widths;
  for (const std::string& c : columns_) widths.push_back(c.size());
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells, bool upper) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string cell = cells[i];
      if (upper) std::transform(cell.begin(), cell.end(), cell.begin(), ::toupper);
      text += cell;
      if (i + 1 < cells.size()) text += std::string(widths[i] - cell.size() + 2, ' ');
    }
    std::cout << text << "\n";
  };
  line(columns_, true);
  for (const auto& row : rows_) line(row, false);
}

void PrintRecord(const Globals& globals,
                 const std::vector<std::pair<std::string, std::string>>& fields) {
  if (globals.json) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& [k, v] : fields) object[k] = v;
    std::cout << object.dump(2) << "\n";
    return;
  }
  size_t width = 0;
  for (const auto& field : fields) width = std::max(width, field.first.size());
  for (const auto& [k, v] : fields) {
    std::cout << k << ":" << std::string(width - k.size() + 1, ' ') << v << "\n";
  }
}

Result<std::optional<std::string>> ReadPassphrase(const std::string& file, const std::string& env) {
  if (!file.empty() && !env.empty()) {
    return Status::InvalidArgument("give --passphrase-file or --passphrase-env, not both");
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::NotFound("cannot read passphrase file " + file);
    std::stringstream text;
    text << in.rdbuf();
    std::string passphrase = text.str();
    while (!passphrase.empty() && (passphrase.back() == '\n' || passphrase.back() == '\r')) {
      passphrase.pop_back();
    }
    if (passphrase.empty()) return Status::InvalidArgument("passphrase file " + file + " is empty");
    return std::optional<std::string>(std::move(passphrase));
  }
  if (!env.empty()) {
    const char* value = std::getenv(env.c_str());
    if (value == nullptr || *value == '\0') {
      return Status::InvalidArgument("environment variable " + env + " is not set or empty");
    }
    return std::optional<std::string>(value);
  }
  return std::optional<std::string>();
}

int ExitCode(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return 0;
    case Code::kInvalidArgument:
      return 2;
    case Code::kNotFound:
      return 3;
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
      return 4;
    default:
      return 1;
  }
}

}  // namespace reel::cli
