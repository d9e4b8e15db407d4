#include "concierge/store/secret_box.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "support/vectors.h"

namespace concierge::store {
namespace {

using testing::TempDir;

Bytes key_bytes(std::uint8_t first) {
  Bytes k(32);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(first + i);
  return k;
}

std::string file_text(const std::filesystem::path& p) {
  const Bytes b = testing::read_file(p);
  return std::string(b.begin(), b.end());
}

void write_key_file(const std::filesystem::path& p, std::string_view content, mode_t mode) {
  testing::write_file(p, as_bytes(content));
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

TEST(SecretBox, SealsAndOpens) {
  auto box = SecretBox::generate();
  ASSERT_TRUE(box) << box.error().to_string();
  const std::string secret = "the database password";
  auto sealed = box->seal(as_bytes(secret), "repo/type/tag");
  ASSERT_TRUE(sealed);
  // version, 12-byte IV, ciphertext as long as the plaintext, 16-byte tag
  ASSERT_EQ(sealed->size(), 1 + 12 + secret.size() + 16);
  EXPECT_EQ((*sealed)[0], 1);
  auto opened = box->open(*sealed, "repo/type/tag");
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_EQ(as_chars(*opened), secret);

  // A fresh IV each time.
  auto again = box->seal(as_bytes(secret), "repo/type/tag");
  ASSERT_TRUE(again);
  EXPECT_NE(*sealed, *again);

  // The empty value too.
  auto empty = box->seal({}, "x");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), 29u);
  auto opened_empty = box->open(*empty, "x");
  ASSERT_TRUE(opened_empty);
  EXPECT_TRUE(opened_empty->empty());
}

TEST(SecretBox, WrongContextTamperingAndOtherKeysFailAsCrypto) {
  auto box = SecretBox::from_key(key_bytes(1)).value();
  auto other = SecretBox::from_key(key_bytes(2)).value();
  const Bytes sealed = box.seal(as_bytes("secret"), "a/b/c").value();

  auto wrong_aad = box.open(sealed, "a/b/d");
  ASSERT_FALSE(wrong_aad);
  EXPECT_EQ(wrong_aad.error().code, Errc::kCrypto);

  auto wrong_key = other.open(sealed, "a/b/c");
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().code, Errc::kCrypto);

  // Every byte after the version is authenticated: IV, ciphertext, tag.
  for (std::size_t i = 1; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    auto r = box.open(tampered, "a/b/c");
    ASSERT_FALSE(r) << "byte " << i;
    EXPECT_EQ(r.error().code, Errc::kCrypto) << "byte " << i;
  }

  Bytes version = sealed;
  version[0] = 2;
  auto bad_version = box.open(version, "a/b/c");
  ASSERT_FALSE(bad_version);
  EXPECT_EQ(bad_version.error().code, Errc::kMalformed);

  auto short_value = box.open(ByteView(sealed.data(), 28), "a/b/c");
  ASSERT_FALSE(short_value);
  EXPECT_EQ(short_value.error().code, Errc::kMalformed);
}

TEST(SecretBox, KeyIdNamesTheKeyWithoutRevealingIt) {
  const Bytes key = key_bytes(7);
  auto box = SecretBox::from_key(key).value();
  const std::string_view context = "concierge-kek";
  Bytes input(context.begin(), context.end());
  input.insert(input.end(), key.begin(), key.end());
  const Bytes digest = concierge::digest(HashAlg::kSha256, input).value();
  EXPECT_EQ(box.id(), hex_encode(ByteView(digest.data(), 8)));
  EXPECT_EQ(box.id().size(), 16u);
  EXPECT_EQ(SecretBox::from_key(key)->id(), box.id());
  EXPECT_NE(SecretBox::from_key(key_bytes(8))->id(), box.id());

  auto short_key = SecretBox::from_key(ByteView(key.data(), 31));
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().code, Errc::kInvalidArgument);
}

TEST(SecretBox, MovingTakesTheKey) {
  auto a = SecretBox::generate().value();
  const std::string id = a.id();
  const Bytes sealed = a.seal(as_bytes("v"), "ctx").value();
  SecretBox b = std::move(a);
  EXPECT_EQ(b.id(), id);
  EXPECT_TRUE(b.open(sealed, "ctx"));
  // NOLINTBEGIN(bugprone-use-after-move): the moved-from box is emptied
  EXPECT_TRUE(a.id().empty());
  auto refused = a.seal(as_bytes("v"), "ctx");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kInvalidArgument);
  // NOLINTEND(bugprone-use-after-move)
}

TEST(SecretBox, ReadsHexAndRawKeyFiles) {
  TempDir dir;
  const Bytes key = key_bytes(0x40);
  const std::string expected = SecretBox::from_key(key)->id();

  write_key_file(dir / "hex-newline", hex_encode(key) + "\n", 0600);
  write_key_file(dir / "hex", hex_encode(key), 0400);
  std::string upper = hex_encode(key);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  write_key_file(dir / "hex-upper", upper, 0600);
  write_key_file(dir / "raw", as_chars(key), 0600);
  for (const char* name : {"hex-newline", "hex", "hex-upper", "raw"}) {
    auto box = SecretBox::from_file(dir / name);
    ASSERT_TRUE(box) << name << ": " << box.error().to_string();
    EXPECT_EQ(box->id(), expected) << name;
  }

  write_key_file(dir / "short-hex", hex_encode(key).substr(1), 0600);
  write_key_file(dir / "not-hex", std::string(64, 'g'), 0600);
  write_key_file(dir / "long-raw", std::string(33, 'k'), 0600);
  write_key_file(dir / "two-newlines", hex_encode(key) + "\n\n", 0600);
  for (const char* name : {"short-hex", "not-hex", "long-raw", "two-newlines"}) {
    auto box = SecretBox::from_file(dir / name);
    ASSERT_FALSE(box) << name;
    EXPECT_EQ(box.error().code, Errc::kInvalidArgument) << name;
    // The message never quotes the file's content.
    EXPECT_EQ(box.error().message.find(hex_encode(key).substr(1, 20)), std::string::npos);
  }

  auto missing = SecretBox::from_file(dir / "missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
}

TEST(SecretBox, RefusesKeyFilesOthersMayRead) {
  TempDir dir;
  const std::string text = hex_encode(key_bytes(3)) + "\n";
  for (mode_t mode : {0640, 0604, 0644, 0660, 0602}) {
    const auto path = dir / ("key-" + std::to_string(mode));
    write_key_file(path, text, mode);
    auto box = SecretBox::from_file(path);
    ASSERT_FALSE(box) << std::oct << mode;
    EXPECT_EQ(box.error().code, Errc::kInvalidArgument);
    EXPECT_NE(box.error().message.find("chmod 600"), std::string::npos);
  }
}

TEST(SecretBox, CreatesAKeyFileOnce) {
  TempDir dir;
  const auto path = dir / "kek";
  auto created = SecretBox::create_file(path);
  ASSERT_TRUE(created) << created.error().to_string();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = file_text(path);
  ASSERT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');
  auto read = SecretBox::from_file(path);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->id(), created->id());

  auto again = SecretBox::create_file(path);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(file_text(path), text);  // untouched
}

TEST(SecretBox, ReadsTheKeyFromAnEnvironmentVariable) {
  const char* var = "CONCIERGE_TEST_SECRET_BOX_KEK";
  const Bytes key = key_bytes(9);
  ::unsetenv(var);
  auto unset = SecretBox::from_env(var);
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().code, Errc::kNotFound);

  ::setenv(var, hex_encode(key).c_str(), 1);
  auto box = SecretBox::from_env(var);
  ASSERT_TRUE(box) << box.error().to_string();
  EXPECT_EQ(box->id(), SecretBox::from_key(key)->id());

  ::setenv(var, (hex_encode(key) + "\n").c_str(), 1);
  auto newline = SecretBox::from_env(var);
  ASSERT_FALSE(newline);
  EXPECT_EQ(newline.error().code, Errc::kInvalidArgument);

  ::setenv(var, "00", 1);
  auto short_value = SecretBox::from_env(var);
  ASSERT_FALSE(short_value);
  EXPECT_EQ(short_value.error().code, Errc::kInvalidArgument);
  ::unsetenv(var);
}

}  // namespace
}  // namespace concierge::store
