#include "daemon/stack_request.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/python/python_stack.h"
#include "daemon/python_merge.h"
#include "daemon/status_macros.h"
#include "daemon/symbolizer.h"
#include "daemon/thread_credentials.h"
#include "daemon/thread_stopper.h"
#include "profile.h"  // bpf/

namespace tracectl {
namespace {

// MODE_PYTHON_ONLY: the whole read; the target runs on meanwhile.
constexpr absl::Duration kReadTime = absl::Seconds(1);
// MODE_MERGED, MODE_NATIVE: from the request's start until every thread
// runs again, whatever happens; of it, threads get this long to stop.
constexpr absl::Duration kRequestTime = absl::Seconds(2);
constexpr absl::Duration kStopTime = absl::Seconds(1);
// What the Python read leaves for letting the threads go.
constexpr absl::Duration kResumeMargin = absl::Milliseconds(100);
constexpr int kMaxThreads = python::kMaxThreads;
constexpr size_t kMaxNativeFrames = 256;

std::string VersionText(const python::PythonVersion& v) {
  return v.micro >= 0 ? absl::StrCat(v.major, ".", v.minor, ".", v.micro)
                      : absl::StrCat(v.major, ".", v.minor);
}

void AddDrop(v1::StackResponse* response, const std::string& reason,
             uint64_t count) {
  v1::DropCounter* d = response->add_drops();
  d->set_reason(reason);
  d->set_count(count);
}

void AddPythonDrops(const python::ReadCounters& counters,
                    v1::StackResponse* response) {
  AddDrop(response, "thread lists cut at a bad pointer or a cycle",
          counters.bad_threads);
  AddDrop(response,
          absl::StrCat("stacks cut short (a bad pointer, a cycle, ",
                       python::kMaxFramesPerThread, " frames)"),
          counters.truncated_stacks);
  AddDrop(response, "code objects that could not be read",
          counters.bad_code_objects);
  AddDrop(response, "Python reads cut by the time limit",
          counters.deadline_hits);
}

void SetPythonProcess(const python::PythonProcess& process,
                      v1::StackResponse* response) {
  response->set_python_version(VersionText(process.binary().version));
  response->set_python_binary(process.binary().path);
}

// Fields 1-5 and `python` of a thread's stack.
void SetPythonThread(const python::PythonThread& thread, v1::ThreadStack* out) {
  out->set_python(true);
  out->set_thread_id(thread.thread_id);
  out->set_native_thread_id(thread.native_thread_id);
  out->set_holds_gil(thread.holds_gil);
  out->set_truncated(thread.truncated);
  for (const python::PythonFrame& frame : thread.frames) {
    if (frame.incomplete) continue;
    v1::PythonFrame* f = out->add_frames();
    f->set_function(frame.function);
    f->set_file(frame.file);
    f->set_line(frame.line);
    f->set_first_line(frame.first_line);
  }
}

void AddFrame(const SymbolizedFrame& frame, v1::ThreadStack* out) {
  v1::Frame* f = out->add_stack();
  f->set_function(frame.function);
  f->set_module(frame.module);
  f->set_kind(frame.kind);
  f->set_offset(frame.offset);
  f->set_file(frame.file);
  f->set_line(frame.line);
}

// A thread's Python frames alone as its whole stack.
void SetPythonOnlyStack(const python::PythonThread& thread,
                        v1::ThreadStack* out) {
  for (const python::PythonFrame& frame : thread.frames) {
    if (!frame.incomplete) AddFrame(ToSymbolizedFrame(frame), out);
  }
}

// Today's answer: Python frames read from memory, no stop.
absl::StatusOr<v1::StackResponse> ReadPythonOnly(pid_t pid) {
  ASSIGN_OR_RETURN(python::PythonProcess process,
                   python::PythonProcess::Attach(pid));
  ASSIGN_OR_RETURN(std::vector<python::PythonThread> threads,
                   process.ReadThreads(kReadTime));
  v1::StackResponse response;
  response.set_pid(pid);
  response.set_mode(v1::StackRequest::MODE_PYTHON_ONLY);
  SetPythonProcess(process, &response);
  for (const python::PythonThread& thread : threads) {
    v1::ThreadStack* out = response.add_threads();
    SetPythonThread(thread, out);
    out->set_tid(thread.native_thread_id);
  }
  AddPythonDrops(process.counters(), &response);
  return response;
}

// The process's threads, at most kMaxThreads (the rest counted).
std::vector<pid_t> ListThreads(pid_t pid, int* over_limit) {
  std::vector<pid_t> tids;
  *over_limit = 0;
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/task").c_str());
  if (dir == nullptr) return tids;
  while (const struct dirent* entry = readdir(dir)) {
    pid_t tid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &tid) || tid <= 0) continue;
    if (tids.size() < static_cast<size_t>(kMaxThreads)) {
      tids.push_back(tid);
    } else {
      ++*over_limit;
    }
  }
  closedir(dir);
  return tids;
}

std::string ThreadComm(pid_t pid, pid_t tid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/task/", tid, "/comm"));
  std::string comm;
  std::getline(in, comm);
  return comm.substr(0, 64);
}

std::string Executable(pid_t pid) {
  char path[4096];
  const ssize_t n =
      readlink(absl::StrCat("/proc/", pid, "/exe").c_str(), path, sizeof(path));
  return n > 0 ? std::string(path, n) : "";
}

// A stopped thread's native frames, leaf first; false when unwinding
// stopped early.
bool NativeFrames(ProcessImage& image, const profile_sample& sample,
                  std::vector<SymbolizedFrame>* frames) {
  std::vector<UserPc> pcs;
  bool complete =
      sample.ustack_bytes > 0 && image.Unwind(sample, kMaxNativeFrames, &pcs);
  if (pcs.empty()) {
    pcs.push_back({sample.user_regs[PROFILE_USER_REGS - 1], true});
    complete = false;
  }
  for (const UserPc& pc : pcs) frames->push_back(image.Resolve(pc));
  return complete;
}

}  // namespace

absl::StatusOr<v1::StackResponse> ReadStacks(
    const absl::StatusOr<Caller>& caller, const SessionServices& services,
    const v1::StackRequest& request) {
  const v1::Target& target = request.target();
  if (target.pids_size() != 1 || !target.comm_prefix().empty() ||
      target.has_uid() || target.follow_children()) {
    return absl::InvalidArgumentError(
        "stack reads one process: give exactly one --pid");
  }
  const v1::StackRequest::Mode mode = request.mode();
  if (mode != v1::StackRequest::MODE_MERGED &&
      mode != v1::StackRequest::MODE_NATIVE &&
      mode != v1::StackRequest::MODE_PYTHON_ONLY) {
    return absl::InvalidArgumentError("stack: unknown mode");
  }
  ASSIGN_OR_RETURN(Admission admission, Admit(caller, services, target));
  const pid_t pid = target.pids(0);
  const std::optional<TaskOwner>& owner = admission.filter.owner;

  // A user's request reads as that user: /proc/PID/mem then opens only if
  // the user could ptrace the process now, and the files named by its maps
  // only if the user could read them. The ptrace itself is done by a child
  // with the user's identity (daemon/thread_stopper.h).
  std::unique_ptr<ScopedThreadCredentials> lowered;
  if (owner.has_value()) {
    RETURN_IF_ERROR(
        ScopedThreadCredentials::Lower(owner->uid, owner->gid, &lowered));
  }
  if (mode == v1::StackRequest::MODE_PYTHON_ONLY) return ReadPythonOnly(pid);
  if (pid == getpid()) {
    return absl::InvalidArgumentError("stack: tracectld does not stop itself");
  }
  const absl::Time deadline = absl::Now() + kRequestTime;
  const bool merged = mode == v1::StackRequest::MODE_MERGED;

  v1::StackResponse response;
  response.set_pid(pid);
  response.set_mode(mode);
  response.set_executable(Executable(pid));

  // Found before anything stops: it reads the maps and the binary.
  std::optional<python::PythonProcess> python;
  if (merged) {
    absl::StatusOr<python::PythonProcess> attached =
        python::PythonProcess::Attach(pid);
    if (attached.ok()) {
      python.emplace(std::move(*attached));
      SetPythonProcess(*python, &response);
    } else if (absl::IsPermissionDenied(attached.status())) {
      return attached.status();
    } else if (!absl::IsNotFound(attached.status())) {
      // A Python without offsets, a binary that could not be read.
      response.add_notes(absl::StrCat("Python frames not read: ",
                                      attached.status().message()));
    }
  }
  int over_limit = 0;
  const std::vector<pid_t> tids = ListThreads(pid, &over_limit);
  if (tids.empty()) {
    return absl::NotFoundError(absl::StrCat("pid ", pid, ": no such process"));
  }
  SymbolTables tables;
  ProcessImage image(pid, &tables);

  StopOptions options;
  if (owner.has_value()) {
    options.uid = owner->uid;
    options.gid = owner->gid;
  }
  options.stop_deadline = std::min(absl::Now() + kStopTime, deadline);
  options.resume_deadline = deadline;
  options.max_threads = kMaxThreads;
  absl::StatusOr<std::unique_ptr<StoppedProcess>> stopped =
      StoppedProcess::Stop(pid, tids, options);
  if (!stopped.ok()) {
    // Traced by another tracer (strace, gdb): Python frames still read
    // from memory; native frames need the stop.
    if (!absl::IsFailedPrecondition(stopped.status()) || !python.has_value()) {
      return stopped.status();
    }
    response.add_notes(
        absl::StrCat("native frames not read: ", stopped.status().message()));
  }

  // Read while the threads are stopped: native and Python of one moment.
  std::vector<python::PythonThread> python_threads;
  if (python.has_value()) {
    const absl::Duration left = std::max(deadline - absl::Now() - kResumeMargin,
                                         absl::Milliseconds(10));
    absl::StatusOr<std::vector<python::PythonThread>> read =
        python->ReadThreads(left);
    if (read.ok()) {
      python_threads = std::move(*read);
    } else {
      response.add_notes(
          absl::StrCat("Python frames not read: ", read.status().message()));
    }
  }
  if (stopped.ok()) {
    if (absl::Status resumed = (*stopped)->Resume(); !resumed.ok()) {
      response.add_notes(std::string(resumed.message()));
    }
  }

  absl::flat_hash_map<pid_t, const python::PythonThread*> python_by_tid;
  for (const python::PythonThread& thread : python_threads) {
    if (thread.native_thread_id > 0) {
      python_by_tid.emplace(thread.native_thread_id, &thread);
    }
  }
  absl::flat_hash_set<const python::PythonThread*> shown;
  uint64_t not_stopped = 0;
  uint64_t partial = 0;
  uint64_t unmatched = 0;
  if (stopped.ok()) {
    for (const StoppedThread& thread : (*stopped)->threads()) {
      if (thread.state == StopState::kGone) continue;
      v1::ThreadStack* out = response.add_threads();
      out->set_tid(thread.tid);
      out->set_comm(ThreadComm(pid, thread.tid));
      const python::PythonThread* py = nullptr;
      if (auto it = python_by_tid.find(thread.tid); it != python_by_tid.end()) {
        py = it->second;
        shown.insert(py);
        SetPythonThread(*py, out);
      }
      if (thread.state == StopState::kNotStopped) {
        ++not_stopped;
        out->set_native(v1::ThreadStack::NATIVE_NOT_STOPPED);
        if (py != nullptr) SetPythonOnlyStack(*py, out);
        continue;
      }
      std::vector<SymbolizedFrame> frames;
      if (NativeFrames(image, *thread.sample, &frames)) {
        out->set_native(v1::ThreadStack::NATIVE_COMPLETE);
      } else {
        ++partial;
        out->set_native(v1::ThreadStack::NATIVE_PARTIAL);
      }
      if (py != nullptr) {
        MergeResult result = MergePythonFrames(frames, py->frames);
        frames = std::move(result.frames);
        out->set_python_unmatched(result.unmatched_python);
        if (result.unmatched_python) ++unmatched;
      }
      for (const SymbolizedFrame& frame : frames) AddFrame(frame, out);
    }
    const int over = over_limit + (*stopped)->over_limit();
    AddDrop(&response,
            absl::StrCat("threads beyond ", kMaxThreads, " not shown"), over);
  }
  // Python threads no kernel thread showed (no native id, or not stopped).
  for (const python::PythonThread& thread : python_threads) {
    if (shown.contains(&thread)) continue;
    v1::ThreadStack* out = response.add_threads();
    SetPythonThread(thread, out);
    out->set_tid(thread.native_thread_id);
    if (thread.native_thread_id > 0) {
      out->set_comm(ThreadComm(pid, thread.native_thread_id));
    }
    SetPythonOnlyStack(thread, out);
  }
  AddDrop(&response,
          absl::StrCat("threads that did not stop within ",
                       absl::FormatDuration(kStopTime), " (no native frames)"),
          not_stopped);
  AddDrop(&response, "native stacks cut short (unwinding stopped early)",
          partial);
  AddDrop(&response,
          "Python frames placed at the root end (their eval-loop frame was "
          "not unwound)",
          unmatched);
  if (python.has_value()) AddPythonDrops(python->counters(), &response);
  return response;
}

}  // namespace tracectl
