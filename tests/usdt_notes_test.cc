#include "daemon/usdt_notes.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "daemon/call_probes.h"

namespace tracectl {
namespace {

void Put32(std::string* out, uint32_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

void Put64(std::string* out, uint64_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

void Pad4(std::string* out) {
  while (out->size() % 4 != 0) out->push_back('\0');
}

// One note as the linker lays it out.
std::string Note(const std::string& owner, uint32_t type,
                 const std::string& desc) {
  std::string out;
  Put32(&out, owner.size() + 1);
  Put32(&out, desc.size());
  Put32(&out, type);
  out.append(owner);
  out.push_back('\0');
  Pad4(&out);
  out.append(desc);
  Pad4(&out);
  return out;
}

std::string StapsdtDesc(uint64_t pc, uint64_t base, uint64_t sema,
                        const std::string& provider, const std::string& name,
                        const std::string& args) {
  std::string desc;
  Put64(&desc, pc);
  Put64(&desc, base);
  Put64(&desc, sema);
  desc.append(provider);
  desc.push_back('\0');
  desc.append(name);
  desc.push_back('\0');
  desc.append(args);
  desc.push_back('\0');
  return desc;
}

TEST(UsdtNotesTest, ParsesStapsdtNotesAndSkipsOthers) {
  const std::string section =
      Note("stapsdt", 3,
           StapsdtDesc(0x4f20d4, 0x8cc5a0, 0xa84262, "python",
                       "function__return", "8@%rbp 8@%r12 -4@%eax")) +
      Note("GNU", 3, "abcd") +
      Note("stapsdt", 3, StapsdtDesc(0x1000, 0, 0, "libc", "setjmp", ""));
  auto notes = ParseUsdtNotes(section, "f");
  ASSERT_TRUE(notes.ok()) << notes.status();
  ASSERT_EQ(notes->size(), 2u);
  const UsdtNote& python = (*notes)[0];
  EXPECT_EQ(python.provider, "python");
  EXPECT_EQ(python.name, "function__return");
  EXPECT_EQ(python.args, "8@%rbp 8@%r12 -4@%eax");
  EXPECT_EQ(python.location, 0x4f20d4u);
  EXPECT_EQ(python.base, 0x8cc5a0u);
  EXPECT_EQ(python.semaphore, 0xa84262u);
  EXPECT_EQ(UsdtArgCount(python), 3);
  EXPECT_EQ((*notes)[1].name, "setjmp");
  EXPECT_EQ((*notes)[1].semaphore, 0u);
  EXPECT_EQ(UsdtArgCount((*notes)[1]), 0);
}

TEST(UsdtNotesTest, MalformedNotesAreRefused) {
  const std::string good =
      Note("stapsdt", 3, StapsdtDesc(1, 2, 3, "p", "n", "8@%rdi"));
  // Cut anywhere before the desc's padding: never read past the end (the
  // last note of a section may lack its padding).
  ASSERT_EQ(good.size(), 56u);  // 12 + "stapsdt\0" + 35-byte desc + 1
  for (size_t size = 1; size < 55; ++size) {
    auto notes = ParseUsdtNotes(good.substr(0, size), "f");
    EXPECT_FALSE(notes.ok()) << size;
  }
  EXPECT_TRUE(ParseUsdtNotes(good.substr(0, 55), "f").ok());
  // A desc too short for the three addresses.
  EXPECT_FALSE(ParseUsdtNotes(Note("stapsdt", 3, "short"), "f").ok());
  // Strings without their NULs.
  std::string desc = StapsdtDesc(1, 2, 3, "p", "n", "a");
  desc.pop_back();
  EXPECT_FALSE(ParseUsdtNotes(Note("stapsdt", 3, desc), "f").ok());
  // An empty provider.
  EXPECT_FALSE(
      ParseUsdtNotes(Note("stapsdt", 3, StapsdtDesc(1, 2, 3, "", "n", "")), "f")
          .ok());
  // Sizes that would wrap.
  std::string huge;
  Put32(&huge, 0xfffffffe);
  Put32(&huge, 0xfffffffe);
  Put32(&huge, 3);
  EXPECT_FALSE(ParseUsdtNotes(huge, "f").ok());
  // An empty section has no notes.
  auto empty = ParseUsdtNotes("", "f");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(UsdtNotesTest, BoundedSection) {
  const std::string big(kMaxUsdtNoteSectionBytes + 1, '\0');
  auto notes = ParseUsdtNotes(big, "f");
  EXPECT_EQ(notes.status().code(), absl::StatusCode::kResourceExhausted);
}

// Debian 12's python3.11 has the `python` provider's probes, semaphores
// and all.
TEST(UsdtNotesTest, ReadsPythonsNotes) {
  const int fd = open("/usr/bin/python3.11", O_RDONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /usr/bin/python3.11";
  auto notes = ReadUsdtNotes(fd, "/usr/bin/python3.11");
  close(fd);
  ASSERT_TRUE(notes.ok()) << notes.status();
  bool found = false;
  for (const UsdtNote& note : *notes) {
    if (note.provider == "python" && note.name == "function__return") {
      found = true;
      EXPECT_NE(note.semaphore, 0u);
      EXPECT_EQ(UsdtArgCount(note), 3);
    }
  }
  EXPECT_TRUE(found);
}

TEST(UsdtNotesTest, FileWithoutNotesHasNone) {
  const int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto notes = ReadUsdtNotes(fd, "self");
  close(fd);
  ASSERT_TRUE(notes.ok()) << notes.status();
  EXPECT_TRUE(notes->empty());
}

TEST(UsdtSpecTest, ParsesLibraryProviderAndName) {
  auto two = ParseProbeSpec("usdt:python:function__return");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_TRUE(two->usdt);
  EXPECT_EQ(two->library, "python");
  EXPECT_EQ(two->provider, "");
  EXPECT_EQ(two->glob, "function__return");
  auto three = ParseProbeSpec("usdt:/usr/bin/python3.11:py*:gc__*");
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->library, "/usr/bin/python3.11");
  EXPECT_EQ(three->provider, "py*");
  EXPECT_EQ(three->glob, "gc__*");
  auto function = ParseProbeSpec("libc:getenv");
  ASSERT_TRUE(function.ok());
  EXPECT_FALSE(function->usdt);
  for (const char* bad : {"usdt:python", "usdt:", "usdt:a::b", "usdt::b",
                          "usdt:a:b:", "usdt:a:b:c:d"}) {
    EXPECT_EQ(ParseProbeSpec(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

// LIB ends at the first ':' outside a "::": globs may be C++ names.
TEST(ProbeSpecTest, GlobMayBeAQualifiedName) {
  auto qualified = ParseProbeSpec("exe:demo::Spinner*::Spin*");
  ASSERT_TRUE(qualified.ok()) << qualified.status();
  EXPECT_EQ(qualified->library, "exe");
  EXPECT_EQ(qualified->glob, "demo::Spinner*::Spin*");
  auto path = ParseProbeSpec("/usr/lib/x86_64-linux-gnu/libstdc++.so.6:std::*");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(path->library, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6");
  EXPECT_EQ(path->glob, "std::*");
  for (const char* bad : {"libc", "libc:", ":f", "ns::f"}) {
    EXPECT_EQ(ParseProbeSpec(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace tracectl
