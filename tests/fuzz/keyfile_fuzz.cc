// Fuzzes the key-file reader (crypto/keyfile.h). It reads only files, so each input is
// written to one private temporary file (mode 0600, as the reader demands) and read back
// with ReadKeyFilePublicKey and ReadKeyFile. An encrypted file is also opened with the
// seed corpus's passphrase when its Argon2id cost is small: the cost is the file's to
// choose, and a large one would spend the run in the KDF instead of the parser.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "crypto/keyfile.h"

namespace reel::fuzz {
namespace {

// The passphrase of the encrypted seed (make_seeds.cc).
constexpr char kPassphrase[] = "fuzz";
constexpr uint64_t kCheapOpsLimit = 3;
constexpr uint64_t kCheapMemLimitBytes = 1 << 20;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "fuzz harness: %s\n", why.c_str());
  std::abort();
}

// One directory per process, removed at exit (libFuzzer ends a timed run with exit()).
std::string* key_dir = nullptr;
std::string* key_path = nullptr;

void RemoveKeyFile() {
  unlink(key_path->c_str());
  rmdir(key_dir->c_str());
}

const std::string& KeyFilePath() {
  if (key_path == nullptr) {
    const char* tmp = std::getenv("TMPDIR");
    key_dir =
        new std::string(std::string(tmp != nullptr ? tmp : "/tmp") + "/reel-fuzz-keyfile.XXXXXX");
    if (mkdtemp(key_dir->data()) == nullptr) Die("mkdtemp failed");
    key_path = new std::string(*key_dir + "/key.json");
    std::atexit(RemoveKeyFile);
  }
  return *key_path;
}

void WriteFile(const std::string& path, std::string_view text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("cannot write " + path);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) Die("cannot write " + path);
    done += static_cast<size_t>(n);
  }
  close(fd);
}

bool CheapToOpen(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto small = [&](const char* name, uint64_t max) {
    auto it = j.find(name);
    return it != j.end() && it->is_number_unsigned() && it->get<uint64_t>() <= max;
  };
  return small("opslimit", kCheapOpsLimit) && small("memlimit", kCheapMemLimitBytes);
}

}  // namespace
}  // namespace reel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reel::fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string& path = KeyFilePath();
  WriteFile(path, text);
  (void)reel::crypto::ReadKeyFilePublicKey(path);
  (void)reel::crypto::ReadKeyFile(path, std::nullopt);
  if (CheapToOpen(text)) (void)reel::crypto::ReadKeyFile(path, kPassphrase);
  return 0;
}
