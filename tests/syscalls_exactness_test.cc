// Figures that must hold on live processes: every row of every snapshot and
// final summary is of one moment, and times are what strace -c measures.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

class SyscallsExactnessTest : public DaemonTest {};

// Failing stats and failing ioctls, as fast as it can, until killed.
constexpr char kFailingCalls[] = R"py(
import fcntl, os, termios
fd = os.open("/dev/null", os.O_RDONLY)
print("ready", flush=True)
while True:
    try:
        os.stat("/nonexistent/tracectl")
    except OSError:
        pass
    try:
        fcntl.ioctl(fd, termios.TCGETS)
    except OSError:
        pass
)py";

// Checks every row of every JSON line of `out`; returns how many rows.
int CheckRowsAreConsistent(const std::string& out) {
  std::istringstream lines(out);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    for (const SyscallFigures& row : ParseSyscallsJson(line)) {
      uint64_t errnos = 0;
      for (const auto& [name, count] : row.errnos) errnos += count;
      EXPECT_EQ(errnos, row.errors) << row.name << " in " << line;
      EXPECT_LE(row.errors, row.calls) << row.name << " in " << line;
      ++rows;
    }
  }
  return rows;
}

TEST_F(SyscallsExactnessTest, RowsOfSnapshotsAndFinalsAreConsistentUnderLoad) {
  auto load = Process::Start({"/usr/bin/python3", "-c", kFailingCalls});
  ASSERT_TRUE(load->WaitForOutput("ready"));
  const std::string pid = std::to_string(load->pid());

  RunResult snapshots = RunTracectl({"syscalls", "--json", "--pid", pid,
                                     "--interval", "0.2", "--duration", "4"});
  ASSERT_EQ(snapshots.exit_code, 0) << snapshots.err;
  const size_t lines =
      std::count(snapshots.out.begin(), snapshots.out.end(), '\n');
  EXPECT_GE(lines, 20u) << "19 or 20 snapshots and the final";
  EXPECT_GE(CheckRowsAreConsistent(snapshots.out), 40);

  for (int i = 0; i < 10; ++i) {
    RunResult final_only =
        RunTracectl({"syscalls", "--json", "--pid", pid, "--duration", "1"});
    ASSERT_EQ(final_only.exit_code, 0) << final_only.err;
    const auto rows = ParseSyscallsJson(final_only.out);
    EXPECT_GT(FindRow(rows, "newfstatat").errors, 1000u) << final_only.out;
    EXPECT_GT(FindRow(rows, "ioctl").errors, 1000u) << final_only.out;
    CheckRowsAreConsistent(final_only.out);
  }
  EXPECT_TRUE(load->Running());
}

// Switching generations every 0.1 s loses nothing: a known workload's
// final figures are exact, and no read went ahead of a CPU.
TEST_F(SyscallsExactnessTest, SnapshotsLoseNoCallOfAKnownWorkload) {
  for (const char* split : {"", "--per-process"}) {
    std::vector<std::string> args = {"syscalls", "--json", "--interval", "0.1"};
    if (*split != '\0') args.push_back(split);
    for (const std::string& arg :
         {std::string("--"), sandbox_->helper(), std::string("1000000"),
          std::string("100000"), std::string("10")}) {
      args.push_back(arg);
    }
    RunResult r = RunTracectl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GE(std::count(r.out.begin(), r.out.end(), '\n'), 3)
        << "snapshots were taken while it ran";
    const std::string final_line = r.out.substr(r.out.rfind("{\"final\""));
    const auto rows = ParseSyscallsJson(final_line);
    EXPECT_EQ(FindRow(rows, "getppid").calls, 1000000u) << split;
    EXPECT_EQ(FindRow(rows, "openat").calls, 100000u) << split;
    EXPECT_EQ(FindRow(rows, "openat").errnos["ENOENT"], 100000u) << split;
    EXPECT_EQ(FindRow(rows, "pipe2").calls, 10u) << split;
    EXPECT_NE(final_line.find(
                  "\"snapshots read before every CPU left the old rows\":0"),
              std::string::npos)
        << final_line;
    CheckRowsAreConsistent(r.out);
  }
}

// 20 sleeps of 20 ms: 0.4 s of wall time in clock_nanosleep, and hardly
// any CPU time.
constexpr char kSleeper[] = R"py(
import time
for _ in range(20):
    time.sleep(0.02)
)py";

TEST_F(SyscallsExactnessTest, TimesAreCpuTimeByDefaultAndWallTimeWithW) {
  RunResult cpu = RunTracectl(
      {"syscalls", "--json", "--", "/usr/bin/python3", "-c", kSleeper});
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  EXPECT_NE(cpu.out.find("\"time\":\"cpu\""), std::string::npos) << cpu.out;
  const SyscallFigures sleeps_cpu =
      FindRow(ParseSyscallsJson(cpu.out), "clock_nanosleep");
  EXPECT_EQ(sleeps_cpu.calls, 20u) << cpu.out;
  // A few microseconds each on this machine; far from 20 ms.
  EXPECT_GT(sleeps_cpu.total_ns, 0u) << cpu.out;
  EXPECT_LT(sleeps_cpu.total_ns, 20'000'000u) << cpu.out;

  RunResult wall = RunTracectl(
      {"syscalls", "-w", "--json", "--", "/usr/bin/python3", "-c", kSleeper});
  ASSERT_EQ(wall.exit_code, 0) << wall.err;
  EXPECT_NE(wall.out.find("\"time\":\"wall\""), std::string::npos) << wall.out;
  const SyscallFigures sleeps_wall =
      FindRow(ParseSyscallsJson(wall.out), "clock_nanosleep");
  EXPECT_EQ(sleeps_wall.calls, 20u) << wall.out;
  EXPECT_GE(sleeps_wall.total_ns, 400'000'000u) << wall.out;

  // The table says which time it shows.
  RunResult table =
      RunTracectl({"syscalls", "--", "/usr/bin/python3", "-c", kSleeper});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("times are CPU time in the calls"),
            std::string::npos)
      << table.out;
  RunResult wall_table = RunTracectl(
      {"syscalls", "--wall", "--", "/usr/bin/python3", "-c", kSleeper});
  ASSERT_EQ(wall_table.exit_code, 0) << wall_table.err;
  EXPECT_NE(wall_table.out.find("times are wall time"), std::string::npos)
      << wall_table.out;
}

// --count-only: one program at sys_exit, which selects the task and reads
// the number there. The same exact figures as the timed mode, in every
// split and ABI, across generation switches; no times.
TEST_F(SyscallsExactnessTest, CountOnlyGivesTheSameExactCountsWithoutTimes) {
  for (const char* split : {"", "--per-process"}) {
    std::vector<std::string> args = {"syscalls", "--count-only", "--json",
                                     "--interval", "0.1"};
    if (*split != '\0') args.push_back(split);
    args.insert(args.end(), {"--", sandbox_->helper(), "1000000", "321", "55"});
    RunResult r = RunTracectl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GE(std::count(r.out.begin(), r.out.end(), '\n'), 3)
        << "snapshots were taken while it ran";
    const std::string final_line = r.out.substr(r.out.rfind("{\"final\""));
    EXPECT_NE(final_line.find("\"time\":\"none\""), std::string::npos)
        << final_line;
    const auto rows = ParseSyscallsJson(final_line);
    EXPECT_EQ(FindRow(rows, "getppid").calls, 1000000u) << split;
    EXPECT_EQ(FindRow(rows, "openat").calls, 321u) << split;
    EXPECT_EQ(FindRow(rows, "openat").errnos["ENOENT"], 321u) << split;
    EXPECT_EQ(FindRow(rows, "pipe2").calls, 55u) << split;
    EXPECT_EQ(FindRow(rows, "pipe2").errors, 0u) << split;
    EXPECT_EQ(FindRow(rows, "close").calls, 110u) << split;
    for (const SyscallFigures& row : rows) {
      EXPECT_EQ(row.total_ns, 0u) << row.name << " in " << final_line;
    }
    CheckRowsAreConsistent(r.out);

    // The ABI is still known at exit.
    if (!Int80Works(*sandbox_)) continue;  // not on every hypervisor
    std::vector<std::string> int80 = {"syscalls", "--count-only", "--json"};
    if (*split != '\0') int80.push_back(split);
    int80.insert(int80.end(), {"--", sandbox_->helper(), "--int80", "77"});
    RunResult compat = RunTracectl(int80);
    ASSERT_EQ(compat.exit_code, 0) << compat.err;
    const auto compat_rows = ParseSyscallsJson(compat.out);
    EXPECT_EQ(FindRow(compat_rows, "ia32:getppid").calls, 77u) << compat.out;
    EXPECT_EQ(FindRow(compat_rows, "getppid").calls, 77u) << compat.out;
    EXPECT_EQ(FindRow(compat_rows, "semget").calls, 0u) << compat.out;
  }

  // The table has no time columns and says why; sorted by calls.
  RunResult table = RunTracectl({"syscalls", "--count-only", "--",
                                 sandbox_->helper(), "1234", "321", "55"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("times were not measured (--count-only)"),
            std::string::npos)
      << table.out;
  EXPECT_EQ(table.out.find("seconds"), std::string::npos) << table.out;
  const size_t getppid = table.out.find(" getppid");
  const size_t openat = table.out.find(" openat");
  ASSERT_NE(getppid, std::string::npos) << table.out;
  ASSERT_NE(openat, std::string::npos) << table.out;
  EXPECT_LT(getppid, openat) << "most calls first\n" << table.out;
  EXPECT_NE(table.out.find("1234"), std::string::npos) << table.out;

  // Asking for times it does not measure is a usage error.
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"syscalls", "--count-only", "-w", "--",
                                 "/bin/true"},
        std::vector<std::string>{"syscalls", "--count-only", "-S", "time", "--",
                                 "/bin/true"}}) {
    RunResult r = RunTracectl(bad);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--count-only measures no time"), std::string::npos)
        << r.err;
  }
}

}  // namespace
}  // namespace tracectl::testing
