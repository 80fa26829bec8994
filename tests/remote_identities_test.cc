#include "daemon/remote_identities.h"

#include <gtest/gtest.h>

namespace tracectl {
namespace {

TEST(RemoteIdentities, MapsIdentitiesToAdminOrALocalUser) {
  auto ids = RemoteIdentities::Parse(
      "# identity role\n"
      "ops.example  admin   # the operators\n"
      "\n"
      "watcher\tnobody\n");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->size(), 2u);
  auto ops = ids->CallerFor({"ops.example"});
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->uid, 0u);
  EXPECT_EQ(ops->remote_identity, "ops.example");
  // The first name the file knows: SANs come before the CN.
  auto watcher = ids->CallerFor({"unknown.example", "watcher"});
  ASSERT_TRUE(watcher.ok());
  EXPECT_EQ(watcher->uid, 65534u);
  EXPECT_EQ(watcher->gid, 65534u);
  EXPECT_EQ(watcher->remote_identity, "watcher");
}

TEST(RemoteIdentities, UnknownIdentityIsDeniedByName) {
  auto ids = RemoteIdentities::Parse("ops.example admin\n");
  ASSERT_TRUE(ids.ok());
  auto denied = ids->CallerFor({"eve\x1b[2J", "eve-cn"});
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status()));
  // Named, and cleaned of terminal escapes.
  EXPECT_NE(denied.status().message().find("remote identity 'eve\\033[2J'"),
            std::string::npos)
      << denied.status();
  EXPECT_TRUE(absl::IsUnauthenticated(ids->CallerFor({}).status()));
}

TEST(RemoteIdentities, BadFilesNameTheLine) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"ops admin\nlonely\n", "line 2: expected IDENTITY ROLE"},
      {"ops admin extra\n", "line 1: expected IDENTITY ROLE"},
      {"a admin\nb no-such-user-here\n",
       "line 2: b: no local user 'no-such-user-here'"},
      {"a admin\na nobody\n", "line 2: a is named twice"},
  };
  for (const Case& c : cases) {
    auto ids = RemoteIdentities::Parse(c.text);
    ASSERT_FALSE(ids.ok()) << c.text;
    EXPECT_NE(ids.status().message().find(c.says), std::string::npos)
        << ids.status();
  }
  EXPECT_FALSE(RemoteIdentities::Load("/nonexistent/identities").ok());
}

}  // namespace
}  // namespace tracectl
