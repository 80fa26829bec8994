// tracectl stack against real Python programs: every thread's chain, in
// order, with lines, while the program runs on.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "tests/harness.h"

namespace tracectl::testing {
namespace {

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

TEST_F(StackTest, BothThreadsChainsInOrderAndTheProgramRunsOn) {
  for (const bool as_nobody : {false, true}) {
    const std::string script = WriteScript();
    auto program =
        Process::Start({"/usr/bin/python3", script}, {.as_nobody = as_nobody});
    ASSERT_TRUE(program->WaitForOutput("ready"));
    // Both threads are in their sleeps once the main one is past print().
    std::string out;
    for (int attempt = 0; attempt < 20; ++attempt) {
      RunResult r =
          RunTracectl({"stack", "--pid", std::to_string(program->pid())},
                      {.as_nobody = as_nobody});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      out = r.out;
      if (out.find("    gamma (") != std::string::npos &&
          out.find("    delta (") != std::string::npos) {
        break;
      }
    }
    EXPECT_EQ(
        out.rfind("Process " + std::to_string(program->pid()) + ": Python 3.11",
                  0),
        0u)
        << out;
    EXPECT_NE(out.find("    gamma (" + script + ":3)\n    beta (" + script +
                       ":5)\n    alpha (" + script + ":7)\n    <module> (" +
                       script + ":15)\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("    delta (" + script + ":9)\n    worker (" + script +
                       ":11)\n    Thread.run ("),
              std::string::npos)
        << out;
    EXPECT_EQ(CountMatching(out, "^Thread [0-9]+ \\(idle\\)$"), 2) << out;
    // Read, not stopped: it finishes its sleeps and exits normally.
    RunResult finished = program->Wait(20000);
    EXPECT_EQ(finished.exit_code, 0) << finished.err;
    EXPECT_NE(finished.out.find("done"), std::string::npos);
  }
}

TEST_F(StackTest, RefusedAndWrongTargetsSayWhy) {
  RunResult root = RunTracectl({"stack", "--pid", "1"}, {.as_nobody = true});
  EXPECT_EQ(root.exit_code, 1);
  EXPECT_NE(root.err.find("permission denied: may not trace pid 1"),
            std::string::npos)
      << root.err;

  auto sleeper = Process::Start({"/bin/sleep", "10"});
  RunResult native =
      RunTracectl({"stack", "--pid", std::to_string(sleeper->pid())});
  EXPECT_EQ(native.exit_code, 1);
  EXPECT_NE(native.err.find("not a Python process"), std::string::npos)
      << native.err;

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
