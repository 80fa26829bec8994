// Strings from a user's process reach root's terminal cleaned: a uid-65534
// process whose comm, mapped library and files carry terminal escape
// sequences, viewed by root through every subcommand.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace tracectl::testing {
namespace {

class EscapesTest : public DaemonTest {};

// The first byte below 0x20 other than newline and tab, with its
// surroundings, or "" when there is none.
std::string ControlByte(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if (c < 0x20 && c != '\n' && c != '\t') {
      return absl::StrCat("0x", absl::Hex(c), " at ", i, ": ",
                          text.substr(i > 40 ? i - 40 : 0, 80));
    }
  }
  return "";
}

TEST_F(EscapesTest, NoControlByteReachesRootsTerminal) {
  namespace fs = std::filesystem;
  const std::string dir = sandbox_->dir() + "/esc\x1b[31m";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms(0777));
  const std::string lib = dir + "/lib\x1b[2Jz.so";
  fs::copy_file("/lib/x86_64-linux-gnu/libz.so.1", lib,
                fs::copy_options::overwrite_existing);
  fs::permissions(lib, fs::perms(0755));
  const std::string script = sandbox_->dir() + "/esc.py";
  std::ofstream(script)
      << "import ctypes, os, sys, time\n"
         "libc = ctypes.CDLL(None)\n"
         "libc.prctl(15, b'\\x1b[2J\\x1b[H\\x1b[8m', 0, 0, 0)\n"
         "d = sys.argv[1]\n"
         "z = ctypes.CDLL(d + '/lib\\x1b[2Jz.so')\n"
         "held = open(d + '/held\\x1b[5m', 'w')\n"
         "print('ready', flush=True)\n"
         "end = time.monotonic() + 60\n"
         "while time.monotonic() < end:\n"
         "    os.getppid()\n"
         "    open(d + '/new\\x1b[7m', 'w').close()\n"
         "    sum(range(20000))\n";
  std::unique_ptr<Process> target =
      Process::Start({"/usr/bin/python3", script, dir}, {.as_nobody = true});
  ASSERT_TRUE(target->WaitForOutput("ready"));
  const std::string pid = std::to_string(target->pid());

  const std::vector<std::vector<std::string>> views = {
      {"syscalls", "-P", "--pid", pid, "--duration", "1"},
      {"libs", "--pid", pid, "--duration", "1"},
      {"files", "--pid", pid, "--duration", "1"},
      {"files", "--each-call", "--pid", pid, "--duration", "0.5"},
      {"trace", "-e", "trace=openat", "--pid", pid, "--duration", "0.5"},
      {"flame", "--format", "folded", "--pid", pid, "--duration", "1"},
      {"flame", "--format", "svg", "--pid", pid, "--duration", "1"},
      {"top", "--pid", pid, "--duration", "2", "--interval", "1"},
  };
  for (const std::vector<std::string>& view : views) {
    const std::string what = absl::StrJoin(view, " ");
    RunResult r = RunTracectl(view);
    EXPECT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_EQ(ControlByte(r.out), "") << what << " stdout";
    EXPECT_EQ(ControlByte(r.err), "") << what << " stderr";
  }
  // The views saw the process: its comm, library and files, escaped as
  // strace escapes them.
  RunResult libs = RunTracectl({"libs", "--pid", pid, "--duration", "0.5"});
  EXPECT_NE(libs.out.find("/esc\\33[31m/lib\\33[2Jz.so"), std::string::npos)
      << libs.out;
  RunResult files = RunTracectl({"files", "--pid", pid, "--duration", "0.5"});
  EXPECT_NE(files.out.find("\\33[2J\\33[H\\33[8m fd "), std::string::npos)
      << files.out;
  EXPECT_NE(files.out.find("/held\\33[5m"), std::string::npos) << files.out;
  RunResult flame = RunTracectl(
      {"flame", "--format", "folded", "--pid", pid, "--duration", "0.5"});
  EXPECT_EQ(flame.out.rfind("\\033[2J\\033[H\\033[8m;", 0), 0u) << flame.out;
  target->Signal(SIGKILL);
}

// What a user types is quoted back escaped and short: a 20 KB --comm gets
// a one-line usage error, and a newline in a comm prefix cannot forge a
// second line of the report.
TEST_F(EscapesTest, LongOrControlInputIsQuotedShortAndEscaped) {
  RunResult long_comm = RunTracectl(
      {"syscalls", "--comm", std::string(20000, 'a'), "--duration", "0.1"});
  EXPECT_EQ(long_comm.exit_code, 2) << long_comm.err;
  EXPECT_EQ(Lines(long_comm.err).size(), 1u) << long_comm.err;
  EXPECT_LT(long_comm.err.size(), 200u);
  EXPECT_NE(long_comm.err.find("longer than 15 bytes"), std::string::npos);

  RunResult newline =
      RunTracectl({"syscalls", "--comm", "ab\ncd", "--duration", "0.1"});
  EXPECT_EQ(newline.exit_code, 0) << newline.err;
  EXPECT_NE(newline.out.find("comm ab\\012cd*"), std::string::npos)
      << newline.out;
  EXPECT_EQ(ControlByte(newline.out), "");
  EXPECT_EQ(newline.out.find("\ncd*"), std::string::npos) << newline.out;
}

}  // namespace
}  // namespace tracectl::testing
