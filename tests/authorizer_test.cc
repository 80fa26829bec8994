// Authorization against the real /proc of this machine.
#include "daemon/authorizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "daemon/session_limiter.h"

namespace tracectl {
namespace {

constexpr gid_t kAdminGid = 4242;

Caller Nobody() { return Caller{65534, 65534, 1, {}}; }

TEST(AuthorizerTest, RootAndAdminGroupAreAdministrators) {
  Authorizer auth(kAdminGid);
  EXPECT_TRUE(auth.IsAdmin(Caller{0, 0, 1, {}}));
  EXPECT_TRUE(auth.IsAdmin(Caller{1000, 1000, 1, {27, kAdminGid}}));
  EXPECT_FALSE(auth.IsAdmin(Caller{1000, 1000, 1, {27}}));
  EXPECT_FALSE(Authorizer(std::nullopt).IsAdmin(Caller{1000, 1000, 1, {}}));
}

TEST(AuthorizerTest, UnprivilegedSystemWideIsNarrowedToOwnTasks) {
  Authorizer auth(std::nullopt);
  auto filter = auth.Authorize(Nobody(), v1::Target());
  ASSERT_TRUE(filter.ok()) << filter.status();
  ASSERT_TRUE(filter->owner.has_value());
  EXPECT_EQ(filter->owner->uid, 65534u);
  EXPECT_TRUE(filter->tgids.empty());

  auto root = auth.Authorize(Caller{0, 0, 1, {}}, v1::Target());
  ASSERT_TRUE(root.ok());
  EXPECT_FALSE(root->owner.has_value());
  EXPECT_EQ(root->Describe(), "all tasks");
}

TEST(AuthorizerTest, OtherUsersProcessIsPermissionDeniedNamingThePid) {
  v1::Target target;
  target.add_pids(getpid());  // this test runs as root
  auto filter = Authorizer(std::nullopt).Authorize(Nobody(), target);
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(filter.status().message().find(absl::StrCat("pid ", getpid())),
            std::string::npos);
}

TEST(AuthorizerTest, UnknownPidIsNotFound) {
  v1::Target target;
  target.add_pids(1 << 30);
  auto filter = Authorizer(std::nullopt).Authorize(Caller{}, target);
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kNotFound);
}

TEST(AuthorizerTest, BadTargetsAreInvalid) {
  Authorizer auth(std::nullopt);
  v1::Target long_comm;
  long_comm.set_comm_prefix("0123456789abcdef");
  EXPECT_EQ(auth.Authorize(Caller{}, long_comm).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Target negative;
  negative.add_pids(-5);
  EXPECT_EQ(auth.Authorize(Caller{}, negative).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Target too_many;
  for (int i = 0; i <= kMaxTargetPids; ++i) too_many.add_pids(1);
  EXPECT_EQ(auth.Authorize(Caller{}, too_many).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AuthorizerTest, OwnProcessFollowsChildrenAndDescribesItself) {
  v1::Target target;
  target.add_pids(getpid());
  target.add_pids(getpid());
  target.set_follow_children(true);
  target.set_comm_prefix("py");
  auto filter = Authorizer(std::nullopt).Authorize(Caller{}, target);
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_EQ(filter->tgids, std::vector<pid_t>{getpid()});
  EXPECT_EQ(filter->Describe(),
            absl::StrCat("pid ", getpid(), " and children, comm py*"));
}

TEST(SessionLimiterTest, BoundsAllSessionsTogether) {
  SessionLimiter limiter(2, 3);
  auto a = limiter.Acquire(1000);
  auto b = limiter.Acquire(1001);
  auto c = limiter.Acquire(1002);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(limiter.Acquire(1003).status().code(),
            absl::StatusCode::kResourceExhausted);
  b->reset();
  EXPECT_TRUE(limiter.Acquire(1003).ok());
}

TEST(SessionLimiterTest, BoundsSessionsPerUidAndGivesSlotsBack) {
  SessionLimiter limiter(2, 100);
  auto a = limiter.Acquire(1000);
  auto b = limiter.Acquire(1000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(limiter.Acquire(1000).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(limiter.Acquire(1001).ok());
  a->reset();
  EXPECT_TRUE(limiter.Acquire(1000).ok());
}

TEST(SessionLimiterTest, RemoteIdentitiesCountApartFromTheirUid) {
  SessionLimiter limiter(1, 100);
  auto local = limiter.Acquire(65534);
  ASSERT_TRUE(local.ok());
  auto watcher = limiter.Acquire(65534, "watcher");
  ASSERT_TRUE(watcher.ok());
  auto other = limiter.Acquire(65534, "another");
  ASSERT_TRUE(other.ok());
  const absl::Status refused = limiter.Acquire(65534, "watcher").status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("remote identity watcher already runs 1"),
            std::string::npos)
      << refused.message();
  EXPECT_EQ(limiter.Acquire(65534).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace tracectl
