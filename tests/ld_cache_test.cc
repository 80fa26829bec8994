// The ld.so.cache reader against this machine's cache and `ldconfig -p`.
#include "daemon/ld_cache.h"

#include <gtest/gtest.h>
#include <stdio.h>

#include <fstream>
#include <set>
#include <string>

namespace tracectl {
namespace {

// The x86-64 paths `ldconfig -p` lists.
std::set<std::string> LdconfigPaths() {
  std::set<std::string> paths;
  FILE* p = popen("/sbin/ldconfig -p", "r");
  if (p == nullptr) return paths;
  char line[8192];
  while (fgets(line, sizeof(line), p) != nullptr) {
    const std::string text(line);
    const size_t arrow = text.find(" => ");
    if (arrow == std::string::npos ||
        text.find("x86-64") == std::string::npos) {
      continue;
    }
    std::string path = text.substr(arrow + 4);
    while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) {
      path.pop_back();
    }
    paths.insert(path);
  }
  pclose(p);
  return paths;
}

TEST(LdCacheTest, ListsWhatLdconfigLists) {
  absl::StatusOr<std::vector<std::string>> paths = ReadLdCache();
  ASSERT_TRUE(paths.ok()) << paths.status();
  const std::set<std::string> ours(paths->begin(), paths->end());
  EXPECT_EQ(ours.size(), paths->size()) << "an entry listed twice";
  const std::set<std::string> expected = LdconfigPaths();
  ASSERT_GT(expected.size(), 10u);
  EXPECT_EQ(ours, expected);
  EXPECT_EQ(ours.count("/lib/x86_64-linux-gnu/libc.so.6"), 1u);
}

TEST(LdCacheTest, RefusesWhatIsNotACache) {
  const std::string path = ::testing::TempDir() + "/not_a_cache";
  std::ofstream(path) << "ld.so-1.7.0 and then garbage";
  EXPECT_FALSE(ReadLdCache(path).ok());
  EXPECT_FALSE(ReadLdCache(::testing::TempDir() + "/missing").ok());
  // A header that claims more entries than the file holds.
  std::string forged = "glibc-ld.so.cache1.1";
  forged += std::string("\xff\xff\xff\x0f", 4) + std::string(28, '\0');
  std::ofstream(path, std::ios::trunc) << forged;
  EXPECT_FALSE(ReadLdCache(path).ok());
}

}  // namespace
}  // namespace tracectl
