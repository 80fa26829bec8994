// tracectl stack against real programs: every thread's native chain with
// the Python frames in place of the eval loop's, in order, with lines; the
// program stopped for a moment and then running on unchanged.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

// The block of `out` from the "Thread ..." line holding `frame` to the next
// blank line ("" if none).
std::string ThreadBlock(const std::string& out, const std::string& frame) {
  const size_t at = out.find(frame);
  if (at == std::string::npos) return "";
  size_t start = out.rfind("\nThread ", at);
  start = start == std::string::npos ? 0 : start + 1;
  const size_t end = out.find("\n\n", at);
  return out.substr(
      start, end == std::string::npos ? std::string::npos : end + 1 - start);
}

// Where `pattern` first matches in `text` (npos if nowhere).
size_t Find(const std::string& text, const std::string& pattern) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(pattern)) ? m.position(0)
                                                         : std::string::npos;
}

class StackTest : public DaemonTest {
 protected:
  // Writes the program where uid 65534 can read it too.
  static std::string WriteScript() {
    const std::string path = sandbox_->dir() + "/alpha_beta_gamma.py";
    std::ofstream(path) << kScript;
    chmod(path.c_str(), 0644);
    return path;
  }
  // Line numbers below are of this text.
  static constexpr char kScript[] =
      "import threading, time\n"               // 1
      "def gamma():\n"                         // 2
      "    time.sleep(3)\n"                    // 3
      "def beta():\n"                          // 4
      "    gamma()\n"                          // 5
      "def alpha():\n"                         // 6
      "    beta()\n"                           // 7
      "def delta():\n"                         // 8
      "    time.sleep(3)\n"                    // 9
      "def worker():\n"                        // 10
      "    delta()\n"                          // 11
      "t = threading.Thread(target=worker)\n"  // 12
      "t.start()\n"                            // 13
      "print('ready', flush=True)\n"           // 14
      "alpha()\n"                              // 15
      "t.join()\n"                             // 16
      "print('done', flush=True)\n";           // 17
};

// Native frames below and above each thread's Python chain, of one
// moment; the threads stopped for it run on and the program ends as it
// would have.
TEST_F(StackTest, BothThreadsNativeAndPythonChainsInOrderAndTheProgramRunsOn) {
  for (const bool as_nobody : {false, true}) {
    const std::string script = WriteScript();
    auto program =
        Process::Start({"/usr/bin/python3", script}, {.as_nobody = as_nobody});
    ASSERT_TRUE(program->WaitForOutput("ready"));
    const std::string pid = std::to_string(program->pid());
    // Both threads are in their sleeps once the main one is past print().
    std::string out;
    for (int attempt = 0; attempt < 20; ++attempt) {
      RunResult r =
          RunTracectl({"stack", "--pid", pid}, {.as_nobody = as_nobody});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      out = r.out;
      if (out.find("    gamma (") != std::string::npos &&
          out.find("    delta (") != std::string::npos) {
        break;
      }
    }
    EXPECT_EQ(out.rfind("Process " + pid + ": Python 3.11", 0), 0u) << out;
    // Python 3.11 runs Python-to-Python calls in one eval loop: the chain
    // is one run of lines.
    const std::string main_chain = "    gamma (" + script + ":3)\n    beta (" +
                                   script + ":5)\n    alpha (" + script +
                                   ":7)\n    <module> (" + script + ":15)\n";
    const std::string main_thread = ThreadBlock(out, main_chain);
    ASSERT_FALSE(main_thread.empty()) << out;
    EXPECT_EQ(main_thread.rfind("Thread " + pid + " (", 0), 0u) << out;
    // The sleep's libc frame innermost, C frames between it and gamma, the
    // interpreter's entry at the root side.
    const size_t sleep_at =
        Find(main_thread,
             "\n    (__)?(clock_nanosleep|select) \\(libc[.]so[.]6\\)\n");
    const size_t chain_at = main_thread.find(main_chain);
    const size_t entry_at =
        Find(main_thread, "\n    (Py_BytesMain|main) \\([^)]*\\)\n");
    EXPECT_NE(sleep_at, std::string::npos) << main_thread;
    EXPECT_NE(entry_at, std::string::npos) << main_thread;
    EXPECT_LT(sleep_at, chain_at) << main_thread;
    EXPECT_LT(chain_at, entry_at) << main_thread;
    EXPECT_EQ(main_thread.find("_PyEval_EvalFrameDefault"), std::string::npos)
        << main_thread;

    const std::string worker_chain =
        "    delta (" + script + ":9)\n    worker (" + script + ":11)\n";
    const std::string worker_thread = ThreadBlock(out, worker_chain);
    ASSERT_FALSE(worker_thread.empty()) << out;
    EXPECT_LT(Find(worker_thread,
                   "\n    (__)?(clock_nanosleep|select) "
                   "\\(libc[.]so[.]6\\)\n"),
              worker_thread.find(worker_chain))
        << worker_thread;
    EXPECT_LT(worker_thread.find(worker_chain),
              worker_thread.find("    Thread.run ("))
        << worker_thread;
    EXPECT_NE(worker_thread.find("    start_thread (libc.so.6)\n"),
              std::string::npos)
        << worker_thread;
    EXPECT_EQ(CountMatching(out,
                            "^Thread [0-9]+ \\([^)]*\\): Python thread "
                            "0x[0-9a-f]+, idle$"),
              2)
        << out;

    // --python-only: the Python frames alone, as before native frames.
    RunResult python_only = RunTracectl(
        {"stack", "--pid", pid, "--python-only"}, {.as_nobody = as_nobody});
    ASSERT_EQ(python_only.exit_code, 0) << python_only.err;
    EXPECT_NE(python_only.out.find(main_chain), std::string::npos)
        << python_only.out;
    EXPECT_NE(python_only.out.find(worker_chain + "    Thread.run ("),
              std::string::npos)
        << python_only.out;
    EXPECT_EQ(python_only.out.find("libc.so.6"), std::string::npos)
        << python_only.out;
    EXPECT_EQ(CountMatching(python_only.out, "^Thread [0-9]+ \\(idle\\)$"), 2)
        << python_only.out;

    // --json: the merged stack with kinds.
    RunResult json = RunTracectl({"stack", "--pid", pid, "--json"},
                                 {.as_nobody = as_nobody});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    EXPECT_NE(json.out.find("\"mode\":\"merged\""), std::string::npos);
    EXPECT_NE(json.out.find("{\"kind\":\"python\",\"function\":\"gamma\""),
              std::string::npos)
        << json.out;
    EXPECT_NE(json.out.find("\"kind\":\"library\""), std::string::npos);

    // Stopped three times and let go: it finishes its sleeps and exits
    // normally.
    RunResult finished = program->Wait(20000);
    EXPECT_EQ(finished.exit_code, 0) << finished.err;
    EXPECT_EQ(finished.out, "ready\ndone\n");
    EXPECT_EQ(finished.err, "");
  }
}

// --native on a C program built without frame pointers: its own functions,
// by DWARF CFI, down to main; it runs on to its normal end.
TEST_F(StackTest, NativeShowsTheHelpersFunctions) {
  for (const bool as_nobody : {false, true}) {
    auto program =
        Process::Start({sandbox_->hot_helper(), "3"}, {.as_nobody = as_nobody});
    const std::string pid = std::to_string(program->pid());
    std::string out;
    // Mostly in hot_a or hot_b; now and then in main's clock_gettime.
    for (int attempt = 0; attempt < 20; ++attempt) {
      RunResult r = RunTracectl({"stack", "--pid", pid, "--native"},
                                {.as_nobody = as_nobody});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      out = r.out;
      if (Find(out, "    hot_[ab] \\(") != std::string::npos) break;
      usleep(50 * 1000);
    }
    EXPECT_EQ(out.rfind("Process " + pid + ": " + sandbox_->hot_helper() +
                            "\n\nThread " + pid + " (hot_helper)\n",
                        0),
              0u)
        << out;
    EXPECT_NE(Find(out,
                   "\n    hot_[ab] \\(hot_helper\\)\n    work "
                   "\\(hot_helper\\)\n    main \\(hot_helper\\)\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("    __libc_start_main"), std::string::npos) << out;
    RunResult finished = program->Wait(20000);
    EXPECT_EQ(finished.exit_code, 0) << finished.err;
  }
}

// The kernel's ptrace check is the caller's: a process of the caller's
// that made itself non-dumpable may not be stopped by the caller (the
// daemon, as root, could), but may by root.
TEST_F(StackTest, NonDumpableOwnProcessIsRefusedToTheUserNotToRoot) {
  auto program = Process::Start(
      {"/usr/bin/python3", "-c",
       "import ctypes, time\n"
       "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"  // PR_SET_DUMPABLE
       "print('ready', flush=True)\n"
       "time.sleep(30)\n"},
      {.as_nobody = true});
  ASSERT_TRUE(program->WaitForOutput("ready"));
  const std::string pid = std::to_string(program->pid());
  RunResult user =
      RunTracectl({"stack", "--pid", pid, "--native"}, {.as_nobody = true});
  EXPECT_EQ(user.exit_code, 1) << user.out;
  EXPECT_NE(user.err.find("may not"), std::string::npos) << user.err;
  EXPECT_EQ(user.out, "");
  RunResult root = RunTracectl({"stack", "--pid", pid, "--native"});
  EXPECT_EQ(root.exit_code, 0) << root.err;
  EXPECT_NE(root.out.find("(libc.so.6)"), std::string::npos) << root.out;
  EXPECT_TRUE(program->Running());
}

// One tracer at a time: under strace, the default falls back to Python
// frames read from memory, with a note naming strace; --native is refused
// naming it. The process is left as it was.
TEST_F(StackTest, ProcessTracedByStrace) {
  if (access("/usr/bin/strace", X_OK) != 0) GTEST_SKIP() << "no strace";
  const std::string script = WriteScript();
  auto program = Process::Start({"/usr/bin/python3", script});
  ASSERT_TRUE(program->WaitForOutput("ready"));
  const std::string pid = std::to_string(program->pid());
  auto strace =
      Process::Start({"/usr/bin/strace", "-f", "-o", "/dev/null", "-p", pid});
  std::string tracer;
  for (int waited = 0; waited < 5000 && (tracer.empty() || tracer == "0");
       waited += 20) {
    usleep(20 * 1000);
    std::ifstream status("/proc/" + pid + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("TracerPid:", 0) == 0) tracer = line.substr(11);
    }
  }
  ASSERT_EQ(tracer, std::to_string(strace->pid()));

  RunResult merged = RunTracectl({"stack", "--pid", pid});
  EXPECT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.err.find("native frames not read: pid " + pid +
                            " is traced by pid " + tracer + " (strace)"),
            std::string::npos)
      << merged.err;
  EXPECT_NE(merged.out.find("    alpha (" + script + ":7)\n"),
            std::string::npos)
      << merged.out;
  EXPECT_EQ(merged.out.find("libc.so.6"), std::string::npos) << merged.out;

  RunResult native = RunTracectl({"stack", "--pid", pid, "--native"});
  EXPECT_EQ(native.exit_code, 1);
  EXPECT_NE(native.err.find("is traced by pid " + tracer + " (strace)"),
            std::string::npos)
      << native.err;
  strace->Signal(SIGTERM);
  strace->Wait(5000);
  RunResult finished = program->Wait(20000);
  EXPECT_EQ(finished.exit_code, 0) << finished.err;
  EXPECT_EQ(finished.out, "ready\ndone\n");
}

TEST_F(StackTest, RefusedAndWrongTargetsSayWhy) {
  RunResult root = RunTracectl({"stack", "--pid", "1"}, {.as_nobody = true});
  EXPECT_EQ(root.exit_code, 1);
  EXPECT_NE(root.err.find("permission denied: may not trace pid 1"),
            std::string::npos)
      << root.err;

  RunResult root_native =
      RunTracectl({"stack", "--pid", "1", "--native"}, {.as_nobody = true});
  EXPECT_EQ(root_native.exit_code, 1);
  EXPECT_NE(root_native.err.find("permission denied: may not trace pid 1"),
            std::string::npos)
      << root_native.err;

  // Not Python: native frames by default, refused with --python-only.
  auto sleeper = Process::Start({"/bin/sleep", "10"});
  const std::string sleeper_pid = std::to_string(sleeper->pid());
  RunResult native = RunTracectl({"stack", "--pid", sleeper_pid});
  EXPECT_EQ(native.exit_code, 0) << native.err;
  EXPECT_NE(Find(native.out,
                 "\n    (__)?(clock_nanosleep|nanosleep) "
                 "\\(libc[.]so[.]6\\)\n"),
            std::string::npos)
      << native.out;
  RunResult python_only =
      RunTracectl({"stack", "--pid", sleeper_pid, "--python-only"});
  EXPECT_EQ(python_only.exit_code, 1);
  EXPECT_NE(python_only.err.find("not a Python process"), std::string::npos)
      << python_only.err;
  EXPECT_TRUE(sleeper->Running());

  RunResult both =
      RunTracectl({"stack", "--pid", sleeper_pid, "--native", "--python-only"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("exclude each other"), std::string::npos) << both.err;

  RunResult two = RunTracectl({"stack", "--pid", "1,2"});
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_NE(two.err.find("exactly one --pid"), std::string::npos) << two.err;
  RunResult none = RunTracectl({"stack"});
  EXPECT_EQ(none.exit_code, 2);
  RunResult command = RunTracectl({"stack", "--pid", "1", "--", "true"});
  EXPECT_EQ(command.exit_code, 2);
}

}  // namespace
}  // namespace tracectl::testing
