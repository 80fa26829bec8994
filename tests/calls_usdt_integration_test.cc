// tracectl calls -e usdt:...: a real tracectld, libbpf's USDT attachment,
// Debian 12's /usr/bin/python3.11 (built with the `python` provider's SDT
// probes), exact counts.
//
// CPython's probes are guarded by semaphores: the interpreter only reaches
// a probe site while the probe's semaphore is non-zero, and nothing but the
// kernel (uprobe ref_ctr_offset, set by libbpf) raises it here. Every count
// above 0 below is thus also a check that the semaphore was raised, in a
// process that execs after the probes are attached (-- CMD) and in one that
// was running before (--pid).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

constexpr char kPython[] = "/usr/bin/python3.11";

class CallsUsdtTest : public DaemonTest {
 protected:
  void SetUp() override {
    if (access(kPython, X_OK) != 0) GTEST_SKIP() << "no " << kPython;
  }

  // A script in the sandbox (readable by uid 65534 too).
  std::string WriteScript(const std::string& name, const std::string& text) {
    const std::string path = sandbox_->dir() + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), 0644);
    return path;
  }

  // `tick` called exactly `n` times, after a line on stdin when `wait`.
  std::string TickScript(int n, bool wait = false) {
    return WriteScript(
        "tick_" + std::to_string(n) + (wait ? "_wait" : "") + ".py",
        "import sys\n"
        "def tick():\n"
        "    pass\n" +
            std::string(wait ? "print('ready', flush=True)\n"
                               "sys.stdin.readline()\n"
                             : "") +
            "for _ in range(" + std::to_string(n) +
            "):\n"
            "    tick()\n" +
            std::string(wait ? "print('done', flush=True)\n"
                               "sys.stdin.readline()\n"
                             : ""));
  }
};

struct JsonRow {
  std::string function, library, python_function, python_file;
  long long calls = -1;
  bool usdt = false;
  bool name_cut = false;
};

// The rows of `tracectl calls --json` output (flat objects: no callers).
std::vector<JsonRow> Rows(const std::string& json) {
  std::vector<JsonRow> rows;
  const size_t begin = json.find("\"calls\":[");
  if (begin == std::string::npos) return rows;
  const size_t end = json.find("],\"drops\"", begin);
  const std::string list = json.substr(begin, end - begin);
  static const std::regex object("\\{\"function\":[^{}]*\\}");
  auto text = [](const std::string& row, const std::string& field) {
    const std::regex re("\"" + field + "\":\"((?:[^\"\\\\]|\\\\.)*)\"");
    std::smatch m;
    return std::regex_search(row, m, re) ? m[1].str() : std::string();
  };
  for (auto it = std::sregex_iterator(list.begin(), list.end(), object);
       it != std::sregex_iterator(); ++it) {
    const std::string row = it->str();
    JsonRow r;
    r.function = text(row, "function");
    r.library = text(row, "library");
    r.python_function = text(row, "python_function");
    r.python_file = text(row, "python_file");
    std::smatch m;
    if (std::regex_search(row, m, std::regex("\"calls\":([0-9]+)"))) {
      r.calls = std::stoll(m[1].str());
    }
    r.usdt = row.find("\"usdt\":true") != std::string::npos;
    r.name_cut = row.find("\"name_cut\":true") != std::string::npos;
    rows.push_back(r);
  }
  return rows;
}

// Calls of a Python function (and file) under `json`, or -1.
long long PythonCalls(const std::string& json, const std::string& function,
                      const std::string& file) {
  for (const JsonRow& row : Rows(json)) {
    if (row.python_function == function && row.python_file == file) {
      return row.calls;
    }
  }
  return -1;
}

// The issue's figure: a Python function called exactly 500 times has 500.
TEST_F(CallsUsdtTest, PythonFunctionCalledExactly500Times) {
  const std::string script = TickScript(500);
  RunResult r =
      RunTracectl({"calls", "--json", "-e", "usdt:python:function__return",
                   "--", kPython, script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(PythonCalls(r.out, "tick", script), 500) << r.out;
  // The module itself returned once.
  EXPECT_EQ(PythonCalls(r.out, "<module>", script), 1) << r.out;
  for (const JsonRow& row : Rows(r.out)) {
    EXPECT_TRUE(row.usdt) << r.out;
    EXPECT_EQ(row.function, "python:function__return") << r.out;
    EXPECT_EQ(row.library, "python3.11") << r.out;
  }
  EXPECT_NE(r.out.find("1 USDT probe"), std::string::npos) << r.out;

  // The table: `function (file)`, the probe's file as the library.
  RunResult table = RunTracectl(
      {"calls", "-e", "usdt:python:function__return", "--", kPython, script});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(CountMatching(table.out, "^ *[0-9.]+ +500  tick \\(" +
                                         std::regex_replace(
                                             script, std::regex("[.]"), "\\.") +
                                         "\\) +python3\\.11$"),
            1)
      << table.out;
}

// The provider named, a path for LIB, and a probe without Python arguments
// (gc__start, guarded by a semaphore too). The interpreter collects on its
// own at start and exit, the same number of times each run: 10 more
// gc.collect() calls, with the collector otherwise off, are exactly 10 more.
TEST_F(CallsUsdtTest, ProviderPathAndPlainProbe) {
  long long counts[2] = {-1, -1};
  for (int i = 0; i < 2; ++i) {
    const int collections = i == 0 ? 7 : 17;
    const std::string script =
        WriteScript("gc" + std::to_string(collections) + ".py",
                    "import gc\ngc.disable()\nfor _ in range(" +
                        std::to_string(collections) + "):\n    gc.collect()\n");
    RunResult r =
        RunTracectl({"calls", "--json", "-e",
                     std::string("usdt:") + kPython + ":python:gc__st*", "--",
                     kPython, script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<JsonRow> rows = Rows(r.out);
    ASSERT_EQ(rows.size(), 1u) << r.out;
    EXPECT_EQ(rows[0].function, "python:gc__start");
    EXPECT_TRUE(rows[0].usdt);
    EXPECT_TRUE(rows[0].python_function.empty());
    EXPECT_GE(rows[0].calls, collections) << r.out;
    counts[i] = rows[0].calls;
  }
  EXPECT_EQ(counts[1] - counts[0], 10);
}

// --list names USDT probes too, resolved for the program, without running it.
TEST_F(CallsUsdtTest, ListNamesTheProbesWithoutRunning) {
  RunResult r = RunTracectl({"calls", "--list", "-e", "usdt:python:gc__*", "--",
                             kPython, "-c", "raise SystemExit(3)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountMatching(r.out, "^python3\\.11:python:gc__(start|done) +0x"),
            2)
      << r.out;
  EXPECT_NE(r.out.find("2 USDT probes, not attached"), std::string::npos)
      << r.out;
}

TEST_F(CallsUsdtTest, UnprivilegedCallerCountsItsOwnPython) {
  const std::string script = TickScript(321);
  RunResult r =
      RunTracectl({"calls", "--json", "-e", "usdt:python:function__return",
                   "--", kPython, script},
                  {.as_nobody = true});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(PythonCalls(r.out, "tick", script), 321) << r.out;
}

// --pid: `python` is the process's executable; its semaphore is raised in a
// process that was already running.
TEST_F(CallsUsdtTest, PidSessionCountsARunningPython) {
  const std::string script = TickScript(400, /*wait=*/true);
  auto target = Process::Start({kPython, script}, {.stdin_pipe = true});
  ASSERT_TRUE(target->WaitForOutput("ready"));
  const int links = CountBpfLinks();
  auto session = Process::Start(
      Tracectl({"calls", "--json", "--pid", std::to_string(target->pid()), "-e",
                "usdt:python:function__return"}));
  WaitForBpfLinks(links + 1);
  ASSERT_GE(CountBpfLinks(), links + 1) << "the session did not start";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  target->WriteStdin("\n");
  ASSERT_TRUE(target->WaitForOutput("done"));
  session->Signal(SIGINT);
  RunResult r = session->Wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(PythonCalls(r.out, "tick", script), 400) << r.out;
  target->WriteStdin("\n");
  target->Wait();
}

TEST_F(CallsUsdtTest, BadInputGetsOneLineAndNonZeroExit) {
  const std::string script = TickScript(1);
  struct Case {
    std::string probe;
    std::vector<std::string> flags;
    int code;
    std::string says;
  } cases[] = {
      {"usdt:python:no_such_probe",
       {},
       1,
       "usdt:python:no_such_probe matches no USDT probe in "
       "/usr/bin/python3.11"},
      {"usdt:python:nope:function__return",
       {},
       1,
       "usdt:python:nope:function__return matches no USDT probe"},
      {"usdt:python", {}, 2, "malformed probe"},
      {"usdt:python::function__return", {}, 2, "malformed probe"},
      {"usdt:python:a:b:c", {}, 2, "malformed probe"},
      // Debian's libc has no SDT notes.
      {"usdt:libc:setjmp",
       {},
       1,
       "usdt:libc:setjmp: /lib/x86_64-linux-gnu/libc.so.6 has no USDT probes"},
      {"usdt:python:function__return",
       {"--latency"},
       2,
       "is a USDT probe (a point, with no return)"},
      {"usdt:python:function__return",
       {"--by-caller"},
       2,
       "is a USDT probe (a point inside a function)"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"calls", "--duration", "5"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.insert(args.end(), {"-e", c.probe, "--", kPython, script});
    RunResult r = RunTracectl(args);
    EXPECT_EQ(r.exit_code, c.code) << c.probe << ": " << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << c.probe << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos)
        << c.probe << ": " << r.err;
  }
}

}  // namespace
}  // namespace tracectl::testing
