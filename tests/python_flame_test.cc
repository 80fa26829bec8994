// Python functions in flame graphs, against a real tracectld and real
// python3 processes: the Python frames that the BPF program reads at sample
// time take the place of the interpreter's eval loop, with file and line,
// between the native frames above and below.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace tracectl::testing {
namespace {

class PythonFlameTest : public DaemonTest {
 protected:
  // A script in the sandbox (world-readable, for uid 65534 too).
  std::string Script(const std::string& name, const std::string& text) {
    const std::string path = sandbox_->dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
};

// "f (FILE:LINE)" as folded output names a Python frame.
std::string PyFrame(const std::string& function, const std::string& file,
                    int line) {
  return absl::StrCat(function, " (", file, ":", line, ")");
}

// Index of the first frame satisfying `pred`, or frames.size().
template <typename Pred>
size_t Find(const FoldedStack& s, Pred pred) {
  for (size_t i = 0; i < s.frames.size(); ++i) {
    if (pred(s.frames[i])) return i;
  }
  return s.frames.size();
}

size_t FindExact(const FoldedStack& s, const std::string& name) {
  return Find(s, [&](const std::string& f) { return f == name; });
}

// Three functions doing the same loop 6, 3 and 1 times as long: 60%, 30%
// and 10% of the time spent in them, by construction.
constexpr char kSharesScript[] =
    "import time\n"                       // 1
    "def spin(n):\n"                      // 2
    "    x = 0\n"                         // 3
    "    for i in range(n):\n"            // 4
    "        x += i\n"                    // 5
    "    return x\n"                      // 6
    "def sixty():\n"                      // 7
    "    return spin(60000)\n"            // 8
    "def thirty():\n"                     // 9
    "    return spin(30000)\n"            // 10
    "def ten():\n"                        // 11
    "    return spin(10000)\n"            // 12
    "end = time.process_time() + 4\n"     // 13
    "while time.process_time() < end:\n"  // 14
    "    sixty()\n"                       // 15
    "    thirty()\n"                      // 16
    "    ten()\n";                        // 17

TEST_F(PythonFlameTest, SharesOfThreeFunctionsWithFileAndLine) {
  const std::string script = Script("shares.py", kSharesScript);
  // 499 Hz for 4 s of CPU time (the script counts CPU time, not wall time,
  // so a loaded machine stretches the run instead of thinning it): about
  // 2000 samples, so that a share's sampling error (about 1 point) is well
  // inside the 5 points allowed.
  RunResult r = RunTracectl({"flame", "--format", "folded", "-F", "499", "--",
                             "/usr/bin/python3", script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<FoldedStack> stacks = ParseFolded(r.out);
  std::map<std::string, uint64_t> by_function;
  uint64_t in_functions = 0;
  for (const FoldedStack& s : stacks) {
    const size_t root =
        std::min(FindExact(s, "main"), FindExact(s, "Py_BytesMain"));
    for (const auto& [function, line] :
         std::vector<std::pair<std::string, int>>{
             {"sixty", 8}, {"thirty", 10}, {"ten", 12}}) {
      const size_t at = FindExact(s, PyFrame(function, script, line));
      if (at == s.frames.size()) continue;
      // Under <module> (at the line that calls it: 15, 16 or 17), under
      // the native main, and above spin. The function may also be running
      // its own line (between the call's instructions) with no Python
      // frame below it, or only the interpreter's native helpers (pushing
      // the callee's frame): the first Python frame below, if any, is spin.
      ASSERT_GT(at, 0u);
      EXPECT_TRUE(absl::StartsWith(s.frames[at - 1],
                                   absl::StrCat("<module> (", script, ":")))
          << s.frames[at - 1];
      EXPECT_LT(root, at) << "no native main above " << s.frames[at];
      for (size_t below = at + 1; below < s.frames.size(); ++below) {
        if (!absl::StrContains(s.frames[below], absl::StrCat(script, ":"))) {
          continue;
        }
        EXPECT_TRUE(absl::StartsWith(s.frames[below],
                                     absl::StrCat("spin (", script, ":")))
            << absl::StrJoin(s.frames, ";");
        break;
      }
      by_function[function] += s.samples;
      in_functions += s.samples;
    }
  }
  ASSERT_GE(in_functions, 1000u) << r.err;
  auto share = [&](const std::string& f) {
    return 100.0 * static_cast<double>(by_function[f]) /
           static_cast<double>(in_functions);
  };
  EXPECT_NEAR(share("sixty"), 60.0, 5.0) << r.out;
  EXPECT_NEAR(share("thirty"), 30.0, 5.0) << r.out;
  EXPECT_NEAR(share("ten"), 10.0, 5.0) << r.out;
  // No stack keeps an eval-loop frame beside Python frames.
  for (const FoldedStack& s : stacks) {
    const bool python = Find(s, [&](const std::string& f) {
                          return absl::StrContains(f, script);
                        }) < s.frames.size();
    if (python) {
      EXPECT_EQ(FindExact(s, "_PyEval_EvalFrameDefault"), s.frames.size())
          << absl::StrJoin(s.frames, ";");
    }
  }
}

TEST_F(PythonFlameTest, EachThreadShowsItsOwnFunction) {
  // Each thread names itself (its comm, the root of its stacks) and spins
  // in its own function.
  const std::string script =
      Script("threads.py",
             "import ctypes, threading, time\n"
             "libc = ctypes.CDLL(None)\n"
             "def name(n):\n"
             "    libc.prctl(15, ctypes.c_char_p(n), 0, 0, 0)\n"
             "def spin_a(end):\n"
             "    while time.monotonic() < end:\n"
             "        sum(range(1000))\n"
             "def spin_b(end):\n"
             "    while time.monotonic() < end:\n"
             "        sum(range(1000))\n"
             "def run(n, f):\n"
             "    name(n)\n"
             "    f(time.monotonic() + 3)\n"
             "t = threading.Thread(target=run, args=(b'thread-b', spin_b))\n"
             "t.start()\n"
             "run(b'thread-a', spin_a)\n"
             "t.join()\n");
  RunResult r = RunTracectl({"flame", "--format", "folded", "-F", "199", "--",
                             "/usr/bin/python3", script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, uint64_t> a, b;  // function -> samples, per thread
  for (const FoldedStack& s : ParseFolded(r.out)) {
    std::map<std::string, uint64_t>* thread = nullptr;
    if (s.frames[0] == "thread-a") thread = &a;
    if (s.frames[0] == "thread-b") thread = &b;
    if (thread == nullptr) continue;
    for (const char* f : {"spin_a", "spin_b"}) {
      if (Find(s, [&](const std::string& frame) {
            return absl::StartsWith(frame, absl::StrCat(f, " (", script));
          }) < s.frames.size()) {
        (*thread)[f] += s.samples;
      }
    }
  }
  EXPECT_GE(a["spin_a"], 50u) << r.out;
  EXPECT_GE(b["spin_b"], 50u) << r.out;
  EXPECT_EQ(a["spin_b"], 0u) << r.out;
  EXPECT_EQ(b["spin_a"], 0u) << r.out;
}

TEST_F(PythonFlameTest, BlasFramesBelowThePythonLineThatCalledThem) {
  const std::string script = Script("blas.py",
                                    "import time, numpy\n"
                                    "a = numpy.random.rand(300, 300)\n"
                                    "b = numpy.random.rand(300, 300)\n"
                                    "def multiply():\n"
                                    "    return numpy.dot(a, b)\n"
                                    "end = time.monotonic() + 3\n"
                                    "while time.monotonic() < end:\n"
                                    "    multiply()\n");
  RunResult r = RunTracectl(
      {"flame", "--format", "folded", "--", "/usr/bin/python3", script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string multiply = PyFrame("multiply", script, 5);
  uint64_t under = 0, with_multiply = 0;
  for (const FoldedStack& s : ParseFolded(r.out)) {
    const size_t at = FindExact(s, multiply);
    if (at == s.frames.size()) continue;
    with_multiply += s.samples;
    // BLAS's matrix product (dgemm_, cblas_dgemm, an OpenBLAS kernel)
    // somewhere below it.
    for (size_t i = at + 1; i < s.frames.size(); ++i) {
      if (absl::StrContains(s.frames[i], "gemm")) {
        under += s.samples;
        break;
      }
    }
  }
  EXPECT_GE(with_multiply, 100u) << r.out;
  EXPECT_GE(under, with_multiply / 2) << r.out;
}

TEST_F(PythonFlameTest, RunningInterpreterByPid) {
  // Already running before the session starts.
  const std::string script = Script("running.py",
                                    "import sys, time\n"
                                    "def busy():\n"
                                    "    end = time.monotonic() + 30\n"
                                    "    while time.monotonic() < end:\n"
                                    "        sum(range(1000))\n"
                                    "print('ready', flush=True)\n"
                                    "busy()\n");
  std::unique_ptr<Process> python =
      Process::Start({"/usr/bin/python3", script});
  ASSERT_TRUE(python->WaitForOutput("ready"));
  RunResult r = RunTracectl({"flame", "--format", "folded", "--pid",
                             std::to_string(python->pid()), "--duration", "2"});
  python->Signal(SIGKILL);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  uint64_t busy = 0;
  const std::vector<FoldedStack> stacks = ParseFolded(r.out);
  for (const FoldedStack& s : stacks) {
    if (FindExact(s, PyFrame("busy", script, 5)) < s.frames.size() ||
        FindExact(s, PyFrame("busy", script, 4)) < s.frames.size()) {
      busy += s.samples;
    }
  }
  EXPECT_GE(busy, Total(stacks) * 8 / 10) << r.out;
}

TEST_F(PythonFlameTest, UnprivilegedCallerGetsPythonFramesOfItsOwnProgram) {
  const std::string script = Script("mine.py",
                                    "import time\n"
                                    "def mine():\n"
                                    "    end = time.monotonic() + 2\n"
                                    "    while time.monotonic() < end:\n"
                                    "        sum(range(1000))\n"
                                    "mine()\n");
  RunResult r = RunTracectl(
      {"flame", "--format", "folded", "--", "/usr/bin/python3", script},
      {.as_nobody = true});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  uint64_t mine = 0;
  const std::vector<FoldedStack> stacks = ParseFolded(r.out);
  for (const FoldedStack& s : stacks) {
    if (Find(s, [&](const std::string& f) {
          return absl::StartsWith(f, absl::StrCat("mine (", script, ":"));
        }) < s.frames.size()) {
      mine += s.samples;
    }
  }
  EXPECT_GE(mine, Total(stacks) * 8 / 10) << r.out;
}

}  // namespace
}  // namespace tracectl::testing
