#include "crypto/keyfile.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/limits.h"
#include "crypto/keys.h"
#include "tests/crypto/crypto_test_util.h"
#include "tests/test_util.h"

namespace reel::crypto {
namespace {

constexpr std::string_view kPassphrase = "correct horse battery staple";

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "reel-keyfile-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string PathOf(const std::string& name) const { return (dir_ / name).string(); }

  // Writes with the cheapest Argon2id limits so the suite stays fast.
  Status Write(const std::string& path, const KeyPair& kp,
               std::optional<std::string_view> passphrase) {
    return WriteKeyFile(path, kp, passphrase, KdfLimits::MinimumForTests());
  }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Replaces the file's text, keeping mode 0600.
  static void Overwrite(const std::string& path, const std::string& text) {
    std::filesystem::remove(path);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    REEL_ASSERT(fd >= 0);
    REEL_ASSERT(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
  }

  static mode_t ModeOf(const std::string& path) {
    struct stat st {};
    REEL_ASSERT(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
  }

  std::filesystem::path dir_;
};

TEST_F(KeyFileTest, PlainRoundTrip) {
  KeyPair kp = KeyPair::Generate();
  std::string path = PathOf("plain.json");
  ASSERT_OK(Write(path, kp, std::nullopt));
  Result<KeyPair> read = ReadKeyFile(path, std::nullopt);
  ASSERT_OK(read);
  EXPECT_EQ(read->public_key(), kp.public_key());
  Hash32 digest = Blake2b256("same key");
  EXPECT_EQ(read->SignDigest(digest), kp.SignDigest(digest));

  Result<PublicKey> pk = ReadKeyFilePublicKey(path);
  ASSERT_OK(pk);
  EXPECT_EQ(*pk, kp.public_key());
}

TEST_F(KeyFileTest, EncryptedRoundTripKeepsTheSeedOutOfTheFile) {
  KeyPair kp = KeyPair::Generate();
  std::string path = PathOf("sealed.json");
  ASSERT_OK(Write(path, kp, kPassphrase));
  std::string text = Slurp(path);
  std::string seed = kp.ExportSeed();
  EXPECT_EQ(text.find(ToHex(seed)), std::string::npos);
  WipeString(seed);
  EXPECT_NE(text.find("\"kdf\": \"argon2id13\""), std::string::npos) << text;
  EXPECT_EQ(text.find("\"seed\""), std::string::npos) << text;

  Result<KeyPair> read = ReadKeyFile(path, kPassphrase);
  ASSERT_OK(read);
  EXPECT_EQ(read->public_key(), kp.public_key());

  // The public key is readable without the passphrase.
  Result<PublicKey> pk = ReadKeyFilePublicKey(path);
  ASSERT_OK(pk);
  EXPECT_EQ(*pk, kp.public_key());
}

TEST_F(KeyFileTest, PlainFileHasTheDocumentedFields) {
  KeyPair kp = KeyPair::FromSeed(std::string(32, '\x07')).value();
  std::string path = PathOf("fields.json");
  ASSERT_OK(Write(path, kp, std::nullopt));
  std::string text = Slurp(path);
  EXPECT_NE(text.find("\"version\": 1"), std::string::npos) << text;
  EXPECT_NE(text.find("\"type\": \"ed25519\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"public_key\": \"" + HashToHex(kp.public_key()) + "\""), std::string::npos)
      << text;
  std::string seed_hex;
  for (int i = 0; i < 32; ++i) seed_hex += "07";
  EXPECT_NE(text.find("\"seed\": \"" + seed_hex + "\""), std::string::npos) << text;
}

// Exactly 0600 whatever the umask: a permissive one must not widen it, and
// one that strips owner bits must not leave the owner unable to read it.
TEST_F(KeyFileTest, WrittenWithMode0600WhateverTheUmask) {
  KeyPair kp = KeyPair::Generate();
  for (mode_t mask : {0000, 0022, 0077, 0277, 0377}) {
    std::string plain = PathOf("plain-" + std::to_string(mask) + ".json");
    std::string sealed = PathOf("sealed-" + std::to_string(mask) + ".json");
    mode_t old = ::umask(mask);
    Status a = Write(plain, kp, std::nullopt);
    Status b = Write(sealed, kp, kPassphrase);
    ::umask(old);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(ModeOf(plain), 0600u) << std::oct << mask;
    EXPECT_EQ(ModeOf(sealed), 0600u) << std::oct << mask;
  }
}

TEST_F(KeyFileTest, DefaultLimitsAreInteractive) {
  KeyPair kp = KeyPair::Generate();
  std::string path = PathOf("interactive.json");
  ASSERT_OK(WriteKeyFile(path, kp, kPassphrase));
  std::string text = Slurp(path);
  KdfLimits interactive = KdfLimits::Interactive();
  EXPECT_NE(text.find("\"opslimit\": " + std::to_string(interactive.opslimit)), std::string::npos);
  EXPECT_NE(text.find("\"memlimit\": " + std::to_string(interactive.memlimit)), std::string::npos);
  Result<KeyPair> read = ReadKeyFile(path, kPassphrase);
  ASSERT_OK(read);
  EXPECT_EQ(read->public_key(), kp.public_key());
}

TEST_F(KeyFileTest, RefusesToOverwrite) {
  KeyPair first = KeyPair::Generate();
  KeyPair second = KeyPair::Generate();
  std::string path = PathOf("k.json");
  ASSERT_OK(Write(path, first, std::nullopt));
  std::string before = Slurp(path);
  Status again = Write(path, second, std::nullopt);
  EXPECT_EQ(again.code(), Code::kAlreadyExists) << again.ToString();
  EXPECT_NE(again.message().find(path), std::string::npos);
  EXPECT_EQ(Slurp(path), before);
  Status sealed = Write(path, second, kPassphrase);
  EXPECT_EQ(sealed.code(), Code::kAlreadyExists);
  Result<KeyPair> kept = ReadKeyFile(path, std::nullopt);
  ASSERT_OK(kept);
  EXPECT_EQ(kept->public_key(), first.public_key());
}

TEST_F(KeyFileTest, MissingDirectoryOrFile) {
  KeyPair kp = KeyPair::Generate();
  EXPECT_EQ(Write(PathOf("no/such/dir.json"), kp, std::nullopt).code(), Code::kNotFound);
  EXPECT_EQ(ReadKeyFile(PathOf("absent.json"), std::nullopt).status().code(), Code::kNotFound);
}

TEST_F(KeyFileTest, WrongPassphraseFailsClearly) {
  KeyPair kp = KeyPair::Generate();
  std::string path = PathOf("sealed.json");
  ASSERT_OK(Write(path, kp, kPassphrase));
  for (std::string_view wrong :
       {"correct horse battery stapl", "", "Correct horse battery staple"}) {
    Result<KeyPair> read = ReadKeyFile(path, wrong);
    ASSERT_FALSE(read.ok()) << wrong;
    EXPECT_EQ(read.status().code(), Code::kUnauthenticated);
    EXPECT_NE(read.status().message().find("wrong passphrase for key file"), std::string::npos)
        << read.status().ToString();
    EXPECT_NE(read.status().message().find(path), std::string::npos);
  }
}

TEST_F(KeyFileTest, EncryptedWithoutPassphraseFailsClearly) {
  KeyPair kp = KeyPair::Generate();
  std::string path = PathOf("sealed.json");
  ASSERT_OK(Write(path, kp, kPassphrase));
  Result<KeyPair> read = ReadKeyFile(path, std::nullopt);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(read.status().message().find("encrypted"), std::string::npos);
  EXPECT_NE(read.status().message().find(path), std::string::npos);
}

TEST_F(KeyFileTest, PassphraseForAPlainFileIsRefused) {
  KeyPair kp = KeyPair::Generate();
  std::string path = PathOf("plain.json");
  ASSERT_OK(Write(path, kp, std::nullopt));
  EXPECT_EQ(ReadKeyFile(path, kPassphrase).status().code(), Code::kInvalidArgument);
}

TEST_F(KeyFileTest, EmptyPassphraseOrBadLimitsRefusedOnWrite) {
  KeyPair kp = KeyPair::Generate();
  EXPECT_EQ(Write(PathOf("a.json"), kp, "").code(), Code::kInvalidArgument);
  EXPECT_EQ(WriteKeyFile(PathOf("b.json"), kp, kPassphrase, KdfLimits{0, 8192}).code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(PathOf("a.json")));
  EXPECT_FALSE(std::filesystem::exists(PathOf("b.json")));
}

// TESTING.md row 11: a key file readable or writable by others is refused.
TEST_F(KeyFileTest, FilesOpenToGroupOrOthersAreRefused) {
  KeyPair kp = KeyPair::Generate();
  for (mode_t mode : {0644, 0640, 0604, 0660, 0606, 0620, 0602, 0610, 0601, 0666}) {
    std::string path = PathOf("exposed-" + std::to_string(mode) + ".json");
    ASSERT_OK(Write(path, kp, std::nullopt));
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    Result<KeyPair> read = ReadKeyFile(path, std::nullopt);
    ASSERT_FALSE(read.ok()) << std::oct << mode;
    EXPECT_EQ(read.status().code(), Code::kPermissionDenied) << read.status().ToString();
    char mode_text[8];
    std::snprintf(mode_text, sizeof mode_text, "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(read.status().message().find(mode_text), std::string::npos)
        << read.status().ToString();
    EXPECT_NE(read.status().message().find("chmod 600 " + path), std::string::npos)
        << read.status().ToString();
    EXPECT_EQ(ReadKeyFilePublicKey(path).status().code(), Code::kPermissionDenied);
  }
  // Owner-only modes are fine.
  for (mode_t mode : {0600, 0400, 0700}) {
    std::string path = PathOf("private-" + std::to_string(mode) + ".json");
    ASSERT_OK(Write(path, kp, std::nullopt));
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    EXPECT_OK(ReadKeyFile(path, std::nullopt)) << std::oct << mode;
  }
}

TEST_F(KeyFileTest, DirectoryIsNotAKeyFile) {
  std::string path = PathOf("dir");
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
  EXPECT_EQ(ReadKeyFile(path, std::nullopt).status().code(), Code::kInvalidArgument);
}

TEST_F(KeyFileTest, MalformedFilesAreRefusedNamingTheFile) {
  KeyPair kp = KeyPair::Generate();
  std::string pk = HashToHex(kp.public_key());
  std::string seed = ToHex(kp.ExportSeed());
  const std::string good_plain =
      R"({"version":1,"type":"ed25519","public_key":")" + pk + R"(","seed":")" + seed + R"("})";
  const std::vector<std::string> bad = {
      "",
      "not json",
      "{",
      R"({"version":1,"type":"ed25519","public_key":")" + pk,  // cut short
      "[1,2,3]",
      "\"string\"",
      "{}",
      R"({"version":2,"type":"ed25519","public_key":")" + pk + R"(","seed":")" + seed + R"("})",
      R"({"version":"1","type":"ed25519","public_key":")" + pk + R"(","seed":")" + seed + R"("})",
      R"({"version":-1,"type":"ed25519","public_key":")" + pk + R"(","seed":")" + seed + R"("})",
      R"({"version":1,"type":"rsa","public_key":")" + pk + R"(","seed":")" + seed + R"("})",
      R"({"version":1,"public_key":")" + pk + R"(","seed":")" + seed + R"("})",
      R"({"version":1,"type":"ed25519","seed":")" + seed + R"("})",
      R"({"version":1,"type":"ed25519","public_key":")" + pk + R"("})",
      R"({"version":1,"type":"ed25519","public_key":")" + pk + R"(","seed":")" + seed.substr(2) +
          R"("})",
      R"({"version":1,"type":"ed25519","public_key":")" + pk + R"(","seed":")" + seed + "00" +
          R"("})",
      R"({"version":1,"type":"ed25519","public_key":")" + pk + R"(","seed":"zz)" + seed.substr(2) +
          R"("})",
      R"({"version":1,"type":"ed25519","public_key":")" + pk + R"(","seed":42})",
      R"({"version":1,"type":"ed25519","public_key":")" + pk.substr(1) + R"(","seed":")" + seed +
          R"("})",
      R"({"version":1,"type":"ed25519","public_key":")" + pk + R"(","seed":")" + seed +
          R"(","kdf":"argon2id13"})",
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    std::string path = PathOf("bad-" + std::to_string(i) + ".json");
    Overwrite(path, bad[i]);
    Result<KeyPair> read = ReadKeyFile(path, std::nullopt);
    ASSERT_FALSE(read.ok()) << bad[i];
    EXPECT_EQ(read.status().code(), Code::kInvalidArgument)
        << bad[i] << " -> " << read.status().ToString();
    EXPECT_NE(read.status().message().find(path), std::string::npos) << read.status().ToString();
  }
  // The hand-written good one parses, so the refusals above are for their faults.
  std::string path = PathOf("good.json");
  Overwrite(path, good_plain);
  Result<KeyPair> read = ReadKeyFile(path, std::nullopt);
  ASSERT_OK(read);
  EXPECT_EQ(read->public_key(), kp.public_key());
}

TEST_F(KeyFileTest, OversizedFileIsRefused) {
  KeyPair kp = KeyPair::Generate();
  std::string path = PathOf("big.json");
  ASSERT_OK(Write(path, kp, std::nullopt));
  std::string text = Slurp(path);
  // Valid JSON padded with whitespace past the limit.
  text.append(limits::key_file_bytes_max, ' ');
  Overwrite(path, text);
  Result<KeyPair> read = ReadKeyFile(path, std::nullopt);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Code::kInvalidArgument) << read.status().ToString();
}

TEST_F(KeyFileTest, PublicKeyNotMatchingTheSeedIsCorruption) {
  KeyPair kp = KeyPair::Generate();
  KeyPair other = KeyPair::Generate();
  std::string path = PathOf("swapped.json");
  Overwrite(path, R"({"version":1,"type":"ed25519","public_key":")" +
                      HashToHex(other.public_key()) + R"(","seed":")" + ToHex(kp.ExportSeed()) +
                      R"("})");
  EXPECT_EQ(ReadKeyFile(path, std::nullopt).status().code(), Code::kCorruption);

  // Encrypted: swap the recorded public key of a sealed file.
  std::string sealed = PathOf("sealed.json");
  ASSERT_OK(Write(sealed, kp, kPassphrase));
  std::string text = Slurp(sealed);
  size_t at = text.find(HashToHex(kp.public_key()));
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 64, HashToHex(other.public_key()));
  Overwrite(sealed, text);
  EXPECT_EQ(ReadKeyFile(sealed, kPassphrase).status().code(), Code::kCorruption);
}

// Each hex field of a sealed file: any altered digit makes the file unusable.
TEST_F(KeyFileTest, TamperedEncryptedFieldsAreRefused) {
  KeyPair kp = KeyPair::Generate();
  std::string path = PathOf("sealed.json");
  ASSERT_OK(Write(path, kp, kPassphrase));
  const std::string original = Slurp(path);

  for (const char* field : {"\"ciphertext\": \"", "\"nonce\": \"", "\"salt\": \""}) {
    size_t start = original.find(field);
    ASSERT_NE(start, std::string::npos) << field;
    start += std::strlen(field);
    size_t end = original.find('"', start);
    for (size_t pos = start; pos < end; ++pos) {
      std::string text = original;
      text[pos] = text[pos] == '0' ? '1' : '0';
      Overwrite(path, text);
      Result<KeyPair> read = ReadKeyFile(path, kPassphrase);
      ASSERT_FALSE(read.ok()) << field << " digit " << pos - start;
      ASSERT_EQ(read.status().code(), Code::kUnauthenticated)
          << field << " digit " << pos - start << ": " << read.status().ToString();
    }
  }
  // Changing the recorded Argon2id cost changes the key as well.
  std::string text = original;
  size_t at = text.find("\"opslimit\": 1");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, std::strlen("\"opslimit\": 1"), "\"opslimit\": 2");
  Overwrite(path, text);
  EXPECT_EQ(ReadKeyFile(path, kPassphrase).status().code(), Code::kUnauthenticated);

  // Out-of-range costs are refused before any work is done.
  text = original;
  at = text.find("\"memlimit\": ");
  size_t value_end = text.find_first_of(",\n}", at + 12);
  text.replace(at, value_end - at, "\"memlimit\": 99999999999999");
  Overwrite(path, text);
  EXPECT_EQ(ReadKeyFile(path, kPassphrase).status().code(), Code::kInvalidArgument);

  // And the untouched file still opens.
  Overwrite(path, original);
  EXPECT_OK(ReadKeyFile(path, kPassphrase));
}

}  // namespace
}  // namespace reel::crypto
