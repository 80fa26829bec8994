#include "daemon/stack_request.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/python/python_stack.h"
#include "daemon/status_macros.h"
#include "daemon/thread_credentials.h"

namespace tracectl {
namespace {

// The whole read: the target runs on meanwhile.
constexpr absl::Duration kReadTime = absl::Seconds(1);

std::string VersionText(const python::PythonVersion& v) {
  return v.micro >= 0 ? absl::StrCat(v.major, ".", v.minor, ".", v.micro)
                      : absl::StrCat(v.major, ".", v.minor);
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
  ASSIGN_OR_RETURN(Admission admission, Admit(caller, services, target));
  const pid_t pid = target.pids(0);

  // A user's request reads as that user: /proc/PID/mem then opens only if
  // the user could ptrace the process now.
  std::unique_ptr<ScopedThreadCredentials> lowered;
  if (admission.filter.owner.has_value()) {
    RETURN_IF_ERROR(ScopedThreadCredentials::Lower(
        admission.filter.owner->uid, admission.filter.owner->gid, &lowered));
  }
  ASSIGN_OR_RETURN(python::PythonProcess process,
                   python::PythonProcess::Attach(pid));
  ASSIGN_OR_RETURN(std::vector<python::PythonThread> threads,
                   process.ReadThreads(kReadTime));

  v1::StackResponse response;
  response.set_pid(pid);
  response.set_python_version(VersionText(process.binary().version));
  response.set_python_binary(process.binary().path);
  for (const python::PythonThread& thread : threads) {
    v1::ThreadStack* out = response.add_threads();
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
  const python::ReadCounters& counters = process.counters();
  auto drop = [&](const std::string& reason, uint64_t count) {
    v1::DropCounter* d = response.add_drops();
    d->set_reason(reason);
    d->set_count(count);
  };
  drop("thread lists cut at a bad pointer or a cycle", counters.bad_threads);
  drop(absl::StrCat("stacks cut short (a bad pointer, a cycle, ",
                    python::kMaxFramesPerThread, " frames)"),
       counters.truncated_stacks);
  drop("code objects that could not be read", counters.bad_code_objects);
  drop(absl::StrCat("reads cut by the time limit (",
                    absl::FormatDuration(kReadTime), ")"),
       counters.deadline_hits);
  return response;
}

}  // namespace tracectl
