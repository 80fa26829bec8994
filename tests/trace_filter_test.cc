#include "client/trace_filter.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_split.h"
#include "tests/trace_event_builder.h"

namespace tracectl {
namespace {

using ::tracectl::testing::Event;

TraceFilter Build(std::vector<std::string> expressions, bool z = false,
                  bool big_z = false, bool y = false) {
  absl::StatusOr<TraceFilter> filter =
      BuildTraceFilter({std::move(expressions), z, big_z, y});
  EXPECT_TRUE(filter.ok()) << filter.status();
  return filter.ok() ? *filter : TraceFilter{};
}

std::string Error(std::vector<std::string> expressions, bool z = false,
                  bool big_z = false) {
  absl::StatusOr<TraceFilter> filter =
      BuildTraceFilter({std::move(expressions), z, big_z, false});
  EXPECT_FALSE(filter.ok());
  return filter.ok() ? "" : std::string(filter.status().message());
}

std::set<std::string> Names(const std::string& selection) {
  std::vector<std::string> names = absl::StrSplit(selection, ',');
  return {names.begin(), names.end()};
}

TEST(TraceFilter, NothingSelectsEveryCallInTheKernel) {
  TraceFilter f = Build({});
  EXPECT_EQ(f.kernel_selection, "");
  EXPECT_TRUE(f.shown_calls.empty());
  EXPECT_TRUE(f.Shows(Event("read", {}, 1)));
  EXPECT_TRUE(f.Shows(Event("exit_group", {}, 0)));
}

TEST(TraceFilter, SeveralTraceSetsAreMerged) {
  TraceFilter f = Build({"trace=openat", "trace=close", "getppid"});
  // The kernel also sends the calls that make and end tasks.
  EXPECT_EQ(
      Names(f.kernel_selection),
      (std::set<std::string>{"openat", "close", "getppid", "fork", "vfork",
                             "clone", "clone3", "exit", "exit_group"}));
  // ... and says which of them it does not show.
  EXPECT_EQ(Names(f.kernel_unshown),
            (std::set<std::string>{"fork", "vfork", "clone", "clone3", "exit",
                                   "exit_group"}));
  TraceFilter with_exit = Build({"trace=exit_group,getppid"});
  EXPECT_EQ(
      Names(with_exit.kernel_unshown),
      (std::set<std::string>{"fork", "vfork", "clone", "clone3", "exit"}));
  EXPECT_TRUE(f.Shows(Event("openat", {}, 3)));
  EXPECT_TRUE(f.Shows(Event("close", {}, 0)));
  EXPECT_TRUE(f.Shows(Event("getppid", {}, 1)));
  EXPECT_FALSE(f.Shows(Event("clone", {}, 5)));
  EXPECT_FALSE(f.Shows(Event("exit_group", {}, 0)));
  EXPECT_FALSE(f.Shows(Event("read", {}, 0)));
}

TEST(TraceFilter, ClassesMergeWithNames) {
  TraceFilter f = Build({"t=%network", "trace=close"});
  EXPECT_TRUE(f.Shows(Event("connect", {}, 0)));
  EXPECT_TRUE(f.Shows(Event("close", {}, 0)));
  EXPECT_FALSE(f.Shows(Event("openat", {}, 0)));
}

TEST(TraceFilter, MergingANegatedSetIsRefused) {
  EXPECT_NE(Error({"trace=!futex", "trace=close"}).find("give one -e trace=!"),
            std::string::npos);
  // Alone, it is the kernel's business.
  TraceFilter f = Build({"trace=!futex"});
  EXPECT_FALSE(f.Shows(Event("futex", {}, 0)));
  EXPECT_TRUE(f.Shows(Event("read", {}, 0)));
}

TEST(TraceFilter, UnknownNamesAndQualifiers) {
  EXPECT_NE(Error({"trace=close", "trace=nosuchcall"}).find("nosuchcall"),
            std::string::npos);
  EXPECT_EQ(Error({"trace="}), "-e trace= needs a set of system calls");
  EXPECT_NE(Error({"signal=all"}).find("not signals"), std::string::npos);
  EXPECT_NE(Error({"read=3"}).find("-s N"), std::string::npos);
  EXPECT_NE(Error({"inject=close:error=EIO"}).find("cannot inject"),
            std::string::npos);
  EXPECT_NE(Error({"frob=1"}).find("tracectl takes -e trace="),
            std::string::npos);
  Build({"quiet=attach,exit"});  // nothing to silence: accepted
}

TEST(TraceFilter, StatusFailedIsMinusZ) {
  TraceFilter status = Build({"status=failed"});
  TraceFilter minus_z = Build({}, false, true);
  for (const TraceFilter& f : {status, minus_z}) {
    EXPECT_TRUE(f.kernel_only_failed);
    EXPECT_FALSE(f.kernel_only_successful);
    EXPECT_TRUE(f.Shows(Event("openat", {}, -2)));
    EXPECT_FALSE(f.Shows(Event("openat", {}, 3)));
    // strace -Z leaves out the calls that do not return.
    EXPECT_FALSE(f.Shows(Event("exit_group", {}, 0)));
  }
  TraceFilter successful = Build({"status=successful"});
  EXPECT_TRUE(successful.kernel_only_successful);
  EXPECT_FALSE(successful.Shows(Event("exit_group", {}, 0)));
}

TEST(TraceFilter, StatusSets) {
  TraceFilter both = Build({"status=successful,failed"});
  EXPECT_FALSE(both.kernel_only_failed || both.kernel_only_successful);
  EXPECT_TRUE(both.Shows(Event("openat", {}, -2)));
  EXPECT_FALSE(both.Shows(Event("exit_group", {}, 0)));
  TraceFilter not_failed = Build({"status=!failed"});
  EXPECT_TRUE(not_failed.Shows(Event("exit_group", {}, 0)));
  EXPECT_TRUE(not_failed.Shows(Event("openat", {}, 3)));
  EXPECT_FALSE(not_failed.Shows(Event("openat", {}, -2)));
  TraceFilter unfinished = Build({"status=unfinished"});
  EXPECT_TRUE(unfinished.Shows(Event("exit_group", {}, 0)));
  EXPECT_FALSE(unfinished.Shows(Event("openat", {}, 3)));
  EXPECT_TRUE(Build({"status=all"}).Shows(Event("exit_group", {}, 0)));
  EXPECT_NE(Error({"status=detached"}).find("leave detached out"),
            std::string::npos);
  EXPECT_NE(Error({"status=none"}).find("selects no calls"), std::string::npos);
  EXPECT_NE(Error({"status=bogus"}).find("use successful, failed"),
            std::string::npos);
  EXPECT_NE(Error({"status=failed"}, true).find("give one of -z, -Z or -e"),
            std::string::npos);
  EXPECT_NE(Error({}, true, true).find("select nothing"), std::string::npos);
}

TEST(TraceFilter, DecodeFdsAsksTheKernelForTheFdCalls) {
  TraceFilter f = Build({"trace=read", "status=failed"}, false, false, true);
  EXPECT_TRUE(f.decode_fds);
  const std::set<std::string> kernel = Names(f.kernel_selection);
  for (const char* name : {"read", "openat", "close", "dup2", "fcntl", "execve",
                           "clone", "exit_group"}) {
    EXPECT_TRUE(kernel.count(name)) << name;
  }
  // Every outcome, so that the table sees successful opens too.
  EXPECT_FALSE(f.kernel_only_failed);
  EXPECT_FALSE(f.Shows(Event("openat", {}, -2)));
  EXPECT_FALSE(f.Shows(Event("read", {}, 10)));
  EXPECT_TRUE(f.Shows(Event("read", {}, -9)));

  EXPECT_TRUE(Build({"decode-fds=path"}).decode_fds);
  EXPECT_TRUE(Build({"decode-fds=all"}).decode_fds);
  EXPECT_FALSE(Build({"decode-fds=none"}, false, false, false).decode_fds);
  EXPECT_NE(Error({"decode-fds=socket"}).find("-e decode-fds=path"),
            std::string::npos);
}

}  // namespace
}  // namespace tracectl
