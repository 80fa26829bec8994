#include "client/syscalls_report.h"

#include <gtest/gtest.h>

#include "client/json.h"

namespace tracectl {
namespace {

v1::SyscallsSummary Sample() {
  v1::SyscallsSummary s;
  s.set_elapsed_seconds(1.5);
  auto add = [&](const char* name, uint64_t calls, uint64_t errors,
                 uint64_t ns) {
    v1::SyscallRow* r = s.add_syscalls();
    r->set_name(name);
    r->set_calls(calls);
    r->set_errors(errors);
    r->set_total_ns(ns);
    return r;
  };
  add("read", 10, 0, 3000);
  v1::SyscallRow* openat = add("openat", 5, 4, 1000);
  v1::ErrnoCount* e = openat->add_errnos();
  e->set_name("ENOENT");
  e->set_count(3);
  e = openat->add_errnos();
  e->set_name("EACCES");
  e->set_count(1);
  add("close", 20, 1, 500);
  v1::DropCounter* d = s.add_drops();
  d->set_reason("syscall rows: map full");
  d->set_count(2);
  d = s.add_drops();
  d->set_reason("never happened");
  d->set_count(0);
  return s;
}

std::vector<std::string> Names(const v1::SyscallsSummary& s,
                               const ReportOptions& o) {
  std::vector<std::string> names;
  for (const auto* r : SortedRows(s, o)) names.push_back(r->name());
  return names;
}

TEST(SyscallsReportTest, SortKeys) {
  const auto s = Sample();
  ReportOptions o;
  EXPECT_EQ(Names(s, o), (std::vector<std::string>{"read", "openat", "close"}));
  o.sort = SortKey::kCalls;
  EXPECT_EQ(Names(s, o), (std::vector<std::string>{"close", "read", "openat"}));
  o.sort = SortKey::kErrors;
  EXPECT_EQ(Names(s, o), (std::vector<std::string>{"openat", "close", "read"}));
  o.sort = SortKey::kName;
  o.top = 2;
  EXPECT_EQ(Names(s, o), (std::vector<std::string>{"close", "openat"}));
  EXPECT_FALSE(ParseSortKey("bogus").ok());
  EXPECT_EQ(*ParseSortKey("errors"), SortKey::kErrors);
}

TEST(SyscallsReportTest, TableShowsPercentErrnosTotalsAndLosses) {
  ReportOptions o;
  o.scope = "pid 7";
  const std::string table = RenderSyscallsTable(Sample(), o);
  EXPECT_NE(table.find("syscalls of pid 7 over 1.500 s: 35 calls, 5 errors"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find(" 66.67 "), std::string::npos) << table;  // read
  EXPECT_NE(table.find("openat           ENOENT:3 EACCES:1\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("LOST 2: syscall rows: map full"), std::string::npos);
  EXPECT_EQ(table.find("never happened"), std::string::npos);
}

// A process may name itself with terminal escapes: the table shows them
// escaped, as strace shows strings.
TEST(SyscallsReportTest, PerProcessCommsReachNoTerminalRaw) {
  v1::SyscallsSummary s = Sample();
  s.mutable_syscalls(0)->set_pid(4242);
  s.mutable_syscalls(0)->set_comm("\033[2J\033[H\033[8m");
  ReportOptions o;
  o.per_process = true;
  const std::string table = RenderSyscallsTable(s, o);
  EXPECT_EQ(table.find('\033'), std::string::npos) << table;
  EXPECT_NE(table.find("   4242 \\33[2J\\33[H\\33[8m"), std::string::npos)
      << table;
}

TEST(SyscallsReportTest, JsonKeepsNumbersAsNumbersAndListsEveryDropCounter) {
  const std::string json = RenderSyscallsJson(Sample(), ReportOptions());
  EXPECT_NE(json.find(R"("name":"openat","number":0,"calls":5,"errors":4,)"
                      R"("errnos":{"ENOENT":3,"EACCES":1})"),
            std::string::npos)
      << json;
  EXPECT_NE(
      json.find(R"("drops":{"syscall rows: map full":2,"never happened":0})"),
      std::string::npos)
      << json;
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(json.rfind("{\"final\":true,", 0), 0u) << json;
  EXPECT_EQ(RenderSyscallsJson(Sample(), ReportOptions(), /*final=*/false)
                .rfind("{\"final\":false,", 0),
            0u);
}

TEST(SyscallsReportTest, SeveralHostsShareOneTableWithAHostColumn) {
  const auto a = Sample();
  auto b = Sample();
  b.set_elapsed_seconds(2.5);
  b.mutable_syscalls(0)->set_total_ns(9000);  // b's read first by time
  v1::SyscallsSummary merged;
  ReportOptions o;
  o.scope = "everything on 2 hosts";
  MergeHostSummaries({{"alpha:1", &a}, {"a-longer-host:2", &b}}, &merged, &o);
  EXPECT_EQ(merged.syscalls_size(), 6);
  EXPECT_EQ(merged.elapsed_seconds(), 2.5);
  const std::string table = RenderSyscallsTable(merged, o);
  EXPECT_NE(table.find("over 2.500 s: 70 calls, 10 errors"), std::string::npos)
      << table;
  // The column fits the longest host; rows sort across hosts.
  EXPECT_NE(table.find(" HOST            syscall "), std::string::npos)
      << table;
  const size_t b_read = table.find(" a-longer-host:2 read");
  const size_t a_read = table.find(" alpha:1         read");
  ASSERT_NE(b_read, std::string::npos) << table;
  ASSERT_NE(a_read, std::string::npos) << table;
  EXPECT_LT(b_read, a_read) << table;
  // Each host's losses, said with its name.
  EXPECT_NE(table.find("LOST 2: alpha:1: syscall rows: map full"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("LOST 2: a-longer-host:2: syscall rows: map full"),
            std::string::npos)
      << table;
}

TEST(JsonStringTest, Escapes) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01\xff"), R"("a\"b\\c\n\u0001\u00ff")");
  // Text: valid UTF-8 kept, stray bytes replaced, controls escaped.
  EXPECT_EQ(JsonText("caf\xc3\xa9 \xe2\x82\xac\x01\xff\xc3"),
            "\"caf\xc3\xa9 \xe2\x82\xac\\u0001\\ufffd\\ufffd\"");
  EXPECT_EQ(JsonText("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");
}

}  // namespace
}  // namespace tracectl
