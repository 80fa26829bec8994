// The Python frame reader against real /usr/bin/python3 processes (Debian
// 12's 3.11), and against fake memory a hostile target could present.
// Needs root (it lowers one thread to uid 65534 and starts programs as it).
#include "daemon/python/python_stack.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "daemon/thread_credentials.h"
#include "gtest/gtest.h"

namespace tracectl::python {
namespace {

// Line numbers below are this script's (file "<string>").
constexpr char kTwoThreads[] =
    "import threading, time\n"                                // 1
    "started = threading.Event()\n"                           // 2
    "def gamma():\n"                                          // 3
    "    started.wait()\n"                                    // 4
    "    print('ready', flush=True)\n"                        // 5
    "    time.sleep(600)\n"                                   // 6
    "def beta():\n"                                           // 7
    "    gamma()\n"                                           // 8
    "def alpha():\n"                                          // 9
    "    beta()\n"                                            // 10
    "def delta():\n"                                          // 11
    "    started.set()\n"                                     // 12
    "    time.sleep(600)\n"                                   // 13
    "def worker():\n"                                         // 14
    "    delta()\n"                                           // 15
    "threading.Thread(target=worker, daemon=True).start()\n"  // 16
    "alpha()\n";                                              // 17

class Child {
 public:
  // Starts `argv` with stdout on a pipe, as `uid` unless it is 0.
  Child(std::vector<std::string> argv, uid_t uid = 0) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      if (uid != 0 &&
          (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
           setresuid(uid, uid, uid) != 0)) {
        _exit(126);
      }
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
  }
  ~Child() {
    Kill();
    if (out_ >= 0) close(out_);
  }
  pid_t pid() const { return pid_; }
  // True once the child printed a line equal to `line`.
  bool WaitFor(const std::string& line, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::string seen;
    while (absl::Now() < deadline) {
      pollfd p = {out_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[256];
      const ssize_t n = read(out_, buffer, sizeof(buffer));
      if (n <= 0) return false;
      seen.append(buffer, n);
      if (absl::StrContains(seen, line + "\n")) return true;
    }
    return false;
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

struct Expected {
  const char* function;
  int line;
  int first_line;
};

void ExpectFrames(const PythonThread& thread,
                  const std::vector<Expected>& expected, bool exact) {
  ASSERT_GE(thread.frames.size(), expected.size());
  if (exact) {
    EXPECT_EQ(thread.frames.size(), expected.size());
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(thread.frames[i].function, expected[i].function);
    EXPECT_EQ(thread.frames[i].file, "<string>");
    EXPECT_EQ(thread.frames[i].line, expected[i].line);
    EXPECT_EQ(thread.frames[i].first_line, expected[i].first_line);
  }
}

// Reads until the two threads sit in their sleeps (the worker may still be
// between `started.set()` and `time.sleep` when "ready" arrives).
std::vector<PythonThread> ReadSleepingThreads(PythonProcess& process) {
  std::vector<PythonThread> threads;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    absl::StatusOr<std::vector<PythonThread>> read = process.ReadThreads();
    EXPECT_TRUE(read.ok()) << read.status();
    if (!read.ok()) return {};
    threads = std::move(*read);
    int asleep = 0;
    for (const PythonThread& t : threads) {
      if (!t.frames.empty() &&
          (t.frames[0].line == 6 || t.frames[0].line == 13))
        ++asleep;
    }
    if (asleep == 2) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return threads;
}

const PythonThread* ThreadRunning(const std::vector<PythonThread>& threads,
                                  const std::string& innermost) {
  for (const PythonThread& t : threads) {
    if (!t.frames.empty() && t.frames[0].function == innermost) return &t;
  }
  return nullptr;
}

void CheckTwoThreads(PythonProcess& process, pid_t pid) {
  std::vector<PythonThread> threads = ReadSleepingThreads(process);
  ASSERT_EQ(threads.size(), 2u);
  const PythonThread* main_thread = ThreadRunning(threads, "gamma");
  const PythonThread* worker = ThreadRunning(threads, "delta");
  ASSERT_NE(main_thread, nullptr);
  ASSERT_NE(worker, nullptr);
  ExpectFrames(
      *main_thread,
      {{"gamma", 6, 3}, {"beta", 8, 7}, {"alpha", 10, 9}, {"<module>", 17, 1}},
      /*exact=*/true);
  ExpectFrames(*worker, {{"delta", 13, 11}, {"worker", 15, 14}},
               /*exact=*/false);
  // Below worker: threading's Thread.run, _bootstrap_inner, _bootstrap.
  ASSERT_EQ(worker->frames.size(), 5u);
  EXPECT_EQ(worker->frames[2].function, "Thread.run");
  EXPECT_TRUE(absl::EndsWith(worker->frames[2].file, "/threading.py"))
      << worker->frames[2].file;
  EXPECT_EQ(worker->frames[4].function, "Thread._bootstrap");
  EXPECT_FALSE(main_thread->truncated);
  EXPECT_FALSE(worker->truncated);
  // Both sleep with the GIL released.
  EXPECT_FALSE(main_thread->holds_gil);
  EXPECT_FALSE(worker->holds_gil);
  EXPECT_EQ(main_thread->native_thread_id, pid);
  EXPECT_NE(worker->native_thread_id, pid);
  EXPECT_EQ(access(("/proc/" + std::to_string(pid) + "/task/" +
                    std::to_string(worker->native_thread_id))
                       .c_str(),
                   F_OK),
            0);
  EXPECT_NE(main_thread->thread_id, worker->thread_id);
}

TEST(PythonStack, TwoThreadsInOrderWithLines) {
  Child child({"/usr/bin/python3", "-c", kTwoThreads});
  ASSERT_TRUE(child.WaitFor("ready", absl::Seconds(10)));
  absl::StatusOr<PythonProcess> process = PythonProcess::Attach(child.pid());
  ASSERT_TRUE(process.ok()) << process.status();
  EXPECT_EQ(process->binary().path, "/usr/bin/python3.11");
  EXPECT_EQ(process->binary().version.major, 3);
  EXPECT_EQ(process->binary().version.minor, 11);
  EXPECT_EQ(process->binary().version.micro, 2);  // from Py_Version
  CheckTwoThreads(*process, child.pid());

  // Code objects come from the cache on the next read, and a sampler's
  // (code, instruction) pair names the same frame.
  const uint64_t misses = process->counters().code_cache_misses;
  absl::StatusOr<std::vector<PythonThread>> again = process->ReadThreads();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(process->counters().code_cache_misses, misses);
  EXPECT_GT(process->counters().code_cache_hits, 0u);
  EXPECT_LE(process->cached_code_objects(), kMaxCachedCodeObjects);
  const PythonFrame& gamma = ThreadRunning(*again, "gamma")->frames[0];
  absl::StatusOr<PythonFrame> described =
      process->DescribeFrame(gamma.code_address, 0);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->function, "gamma");
  EXPECT_EQ(described->line, -1);  // 0 is not an instruction of gamma

  child.Kill();
}

TEST(PythonStack, NotPython) {
  Child child({"/bin/sleep", "600"});
  absl::SleepFor(absl::Milliseconds(100));  // past exec
  absl::StatusOr<PythonProcess> process = PythonProcess::Attach(child.pid());
  ASSERT_FALSE(process.ok());
  EXPECT_EQ(process.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(
      absl::StrContains(process.status().message(), "not a Python process"))
      << process.status();
}

TEST(PythonStack, NoSuchProcess) {
  Child child({"/bin/true"});
  const pid_t pid = child.pid();
  child.Kill();
  absl::StatusOr<PythonProcess> process = PythonProcess::Attach(pid);
  ASSERT_FALSE(process.ok());
  EXPECT_EQ(process.status().code(), absl::StatusCode::kNotFound)
      << process.status();
}

TEST(PythonStack, ProcessExitsBetweenAttachAndRead) {
  Child child({"/usr/bin/python3", "-c", kTwoThreads});
  ASSERT_TRUE(child.WaitFor("ready", absl::Seconds(10)));
  absl::StatusOr<PythonProcess> process = PythonProcess::Attach(child.pid());
  ASSERT_TRUE(process.ok()) << process.status();
  child.Kill();
  absl::StatusOr<std::vector<PythonThread>> threads = process->ReadThreads();
  EXPECT_FALSE(threads.ok());
}

TEST(PythonStack, ProcessExitsDuringReads) {
  Child child({"/usr/bin/python3", "-c", kTwoThreads});
  ASSERT_TRUE(child.WaitFor("ready", absl::Seconds(10)));
  absl::StatusOr<PythonProcess> process = PythonProcess::Attach(child.pid());
  ASSERT_TRUE(process.ok()) << process.status();
  std::thread killer([&child] {
    absl::SleepFor(absl::Milliseconds(30));
    kill(child.pid(), SIGKILL);
  });
  // Reads before, during and after the exit: results or errors, no crash.
  int errors = 0;
  for (int i = 0; i < 2000 && errors == 0; ++i) {
    if (!process->ReadThreads().ok()) ++errors;
  }
  killer.join();
  child.Kill();
  EXPECT_FALSE(process->ReadThreads().ok());
}

TEST(PythonStack, LoweredCredentialsReadOwnProcessesOnly) {
  ASSERT_EQ(geteuid(), 0u) << "needs root";
  Child nobody({"/usr/bin/python3", "-c", kTwoThreads}, 65534);
  Child root({"/usr/bin/python3", "-c", kTwoThreads});
  ASSERT_TRUE(nobody.WaitFor("ready", absl::Seconds(10)));
  ASSERT_TRUE(root.WaitFor("ready", absl::Seconds(10)));
  // The daemon's session threads: the caller's fsuid, no capability but
  // CAP_BPF. One thread only, as in the daemon.
  std::thread session([&] {
    std::unique_ptr<ScopedThreadCredentials> lowered;
    ASSERT_TRUE(ScopedThreadCredentials::Lower(65534, 65534, &lowered).ok());
    absl::StatusOr<PythonProcess> own = PythonProcess::Attach(nobody.pid());
    ASSERT_TRUE(own.ok()) << own.status();
    CheckTwoThreads(*own, nobody.pid());
    absl::StatusOr<PythonProcess> other = PythonProcess::Attach(root.pid());
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied)
        << other.status();
  });
  session.join();
}

// Memory a target could present: regions at fixed addresses.
class FakeMemory : public MemoryReader {
 public:
  void Put(uint64_t address, std::string bytes) {
    regions_[address] = std::move(bytes);
  }
  template <typename T>
  void PutAt(uint64_t address, uint32_t offset, T value) {
    std::string& region = regions_[address];
    if (region.size() < offset + sizeof(T)) region.resize(offset + sizeof(T));
    memcpy(region.data() + offset, &value, sizeof(T));
  }
  absl::Status Read(uint64_t address, void* out, size_t size) override {
    auto it = regions_.upper_bound(address);
    if (it != regions_.begin()) {
      --it;
      if (address - it->first + size <= it->second.size()) {
        memcpy(out, it->second.data() + (address - it->first), size);
        return absl::OkStatus();
      }
    }
    return absl::UnavailableError("unmapped");
  }

 private:
  std::map<uint64_t, std::string> regions_;
};

class HostileTarget : public ::testing::Test {
 protected:
  static constexpr uint64_t kRuntime = 0x1000, kInterp = 0x2000,
                            kThread = 0x3000, kCFrame = 0x4000, kFrame = 0x5000,
                            kCode = 0x6000, kName = 0x7000, kTable = 0x8000;
  void SetUp() override {
    offsets_ = *OffsetsFor({3, 11, 2});
    const PythonOffsets& o = offsets_;
    memory_ = std::make_unique<FakeMemory>();
    FakeMemory& m = *memory_;
    m.Put(kRuntime, std::string(1024, '\0'));
    m.PutAt<uint64_t>(kRuntime, o.runtime_interpreters_head, kInterp);
    m.Put(kInterp, std::string(64, '\0'));
    m.PutAt<uint64_t>(kInterp, o.interp_threads_head, kThread);
    m.Put(kThread, std::string(256, '\0'));
    m.PutAt<uint64_t>(kThread, o.tstate_cframe, kCFrame);
    m.Put(kCFrame, std::string(32, '\0'));
    m.PutAt<uint64_t>(kCFrame, o.cframe_current_frame, kFrame);
    m.Put(kFrame, std::string(80, '\0'));
    m.PutAt<uint64_t>(kFrame, o.frame_code, kCode);
    m.PutAt<uint64_t>(kFrame, o.frame_prev_instr, kCode + o.code_adaptive);
    m.Put(kCode, std::string(o.code_adaptive + 16, '\0'));
    m.PutAt<uint64_t>(kCode, o.code_filename, kName);
    m.PutAt<uint64_t>(kCode, o.code_name, kName);
    m.PutAt<uint64_t>(kCode, o.code_qualname, kName);
    m.PutAt<uint64_t>(kCode, o.code_linetable, kTable);
    m.PutAt<int32_t>(kCode, o.code_firstlineno, 7);
    m.Put(kName, std::string(1200, '\0'));
    m.PutAt<int64_t>(kName, o.unicode_length, 3);
    m.PutAt<uint32_t>(kName, o.unicode_state, 0xe0);  // compact ascii ready
    m.PutAt<char>(kName, o.unicode_ascii_data, 'f');
    m.PutAt<char>(kName, o.unicode_ascii_data + 1, '\x1b');  // kept raw
    m.PutAt<char>(kName, o.unicode_ascii_data + 2, '\xff');  // not ASCII
    m.Put(kTable, std::string(48, '\0'));                    // empty bytes
  }
  absl::StatusOr<std::vector<PythonThread>> Read() {
    PythonBinary binary;
    binary.runtime_address = kRuntime;
    binary.version = {3, 11, 2};
    process_ = std::make_unique<PythonProcess>(
        PythonProcess::ForMemory(std::move(memory_), binary, offsets_));
    return process_->ReadThreads();
  }
  PythonOffsets offsets_;
  std::unique_ptr<FakeMemory> memory_;
  std::unique_ptr<PythonProcess> process_;
};

TEST_F(HostileTarget, FrameCycleEndsTheStack) {
  memory_->PutAt<uint64_t>(kFrame, offsets_.frame_previous, kFrame);
  absl::StatusOr<std::vector<PythonThread>> threads = Read();
  ASSERT_TRUE(threads.ok()) << threads.status();
  ASSERT_EQ(threads->size(), 1u);
  ASSERT_EQ((*threads)[0].frames.size(), 1u);
  EXPECT_TRUE((*threads)[0].truncated);
  EXPECT_EQ((*threads)[0].frames[0].function, "f\x1b?");
  EXPECT_EQ((*threads)[0].frames[0].first_line, 7);
  EXPECT_EQ(process_->counters().truncated_stacks, 1u);
}

TEST_F(HostileTarget, ThreadCycleEndsTheList) {
  memory_->PutAt<uint64_t>(kThread, offsets_.tstate_next, kThread);
  absl::StatusOr<std::vector<PythonThread>> threads = Read();
  ASSERT_TRUE(threads.ok());
  EXPECT_EQ(threads->size(), 1u);
  EXPECT_EQ(process_->counters().bad_threads, 1u);
}

TEST_F(HostileTarget, BadPointersEndTheChain) {
  memory_->PutAt<uint64_t>(kFrame, offsets_.frame_previous, 0xffff800000000000);
  memory_->PutAt<int64_t>(kName, offsets_.unicode_length, int64_t{1} << 40);
  absl::StatusOr<std::vector<PythonThread>> threads = Read();
  ASSERT_TRUE(threads.ok());
  ASSERT_EQ((*threads)[0].frames.size(), 1u);
  EXPECT_TRUE((*threads)[0].truncated);
  // A huge length reads at most kMaxStringBytes, and says it was cut.
  const std::string& name = (*threads)[0].frames[0].function;
  EXPECT_EQ(name.size(), kMaxStringBytes + 3);
  EXPECT_TRUE(absl::EndsWith(name, "..."));
  EXPECT_EQ(process_->counters().bad_code_objects, 0u);
}

TEST_F(HostileTarget, LongChainStopsAtTheLimit) {
  // A chain of distinct frames, each pointing at the next, longer than the
  // limit.
  for (int i = 0; i < 300; ++i) {
    const uint64_t frame = 0x100000 + 0x100 * i;
    memory_->Put(frame, std::string(80, '\0'));
    memory_->PutAt<uint64_t>(frame, offsets_.frame_code, kCode);
    memory_->PutAt<uint64_t>(frame, offsets_.frame_prev_instr,
                             kCode + offsets_.code_adaptive);
    memory_->PutAt<uint64_t>(frame, offsets_.frame_previous, frame + 0x100);
  }
  memory_->PutAt<uint64_t>(kCFrame, offsets_.cframe_current_frame, 0x100000);
  absl::StatusOr<std::vector<PythonThread>> threads = Read();
  ASSERT_TRUE(threads.ok());
  EXPECT_EQ((*threads)[0].frames.size(),
            static_cast<size_t>(kMaxFramesPerThread));
  EXPECT_TRUE((*threads)[0].truncated);
}

TEST_F(HostileTarget, UnreadableRuntimeIsAnError) {
  PythonBinary binary;
  binary.runtime_address = 0xdead0000;
  PythonProcess process =
      PythonProcess::ForMemory(std::move(memory_), binary, offsets_);
  EXPECT_FALSE(process.ReadThreads().ok());
}

}  // namespace
}  // namespace tracectl::python
