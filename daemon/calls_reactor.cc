#include "daemon/calls_reactor.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "calls.h"
#include "daemon/call_probes.h"
#include "daemon/status_macros.h"
#include "daemon/syscalls_reactor.h"
#include "daemon/thread_credentials.h"

namespace tracectl {
namespace {

constexpr int kMaxSpecs = 256;
// From this many probes on, attaching is reported as it goes.
constexpr size_t kProgressProbes = 20;
// --list shows more than a session may attach, within a bound.
constexpr size_t kMaxListed = 20000;

}  // namespace

absl::Status CallsReactor::Serve(const v1::CallsRequest& request) {
  RETURN_IF_ERROR(ValidateWindow(request.window()));
  if (request.probes().empty()) {
    return absl::InvalidArgumentError("no probe: name at least one LIB:GLOB");
  }
  if (request.probes_size() > kMaxSpecs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", kMaxSpecs, " probes, not ", request.probes_size()));
  }
  std::vector<ProbeSpec> specs;
  for (const std::string& text : request.probes()) {
    ASSIGN_OR_RETURN(ProbeSpec spec, ParseProbeSpec(text));
    // A USDT probe is a point in the code, not a function: no return to
    // time, and the word at sp is no return address.
    if (spec.usdt && request.latency()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--latency times functions from entry to return; ", text,
          " is a USDT probe (a point, with no return): drop one of them"));
    }
    if (spec.usdt && request.by_caller()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--by-caller reads the return address at a function's entry; ", text,
          " is a USDT probe (a point inside a function): drop one of "
          "them"));
    }
    specs.push_back(std::move(spec));
  }
  ASSIGN_OR_RETURN(Admission admission,
                   Admit(caller_, services_, request.target()));
  const KernelFilter& filter = admission.filter;
  if (request.program().size() > 4096) {
    return absl::InvalidArgumentError("program path longer than 4096 bytes");
  }
  ProbeContext context;
  context.program = request.program();
  if (context.program.empty() && !filter.tgids.empty()) {
    context.pid = filter.tgids[0];
  }
  absl::StatusOr<ResolvedProbes> resolved;
  {
    // Files are opened, and /proc/PID read, as an unprivileged caller.
    std::unique_ptr<ScopedThreadCredentials> lowered;
    if (filter.owner) {
      RETURN_IF_ERROR(ScopedThreadCredentials::Lower(
          filter.owner->uid, filter.owner->gid, &lowered));
    }
    resolved = ResolveCallProbes(specs, context,
                                 request.list_only() ? kMaxListed
                                 : request.latency() ? MAX_CALL_PROBES / 2
                                                     : MAX_CALL_PROBES);
  }
  if (!resolved.ok()) return resolved.status();
  if (Cancelled()) return absl::CancelledError("the client went away");
  if (request.list_only()) return List(context, *resolved);
  CallCountSettings settings;
  settings.latency = request.latency();
  settings.by_caller = request.by_caller();
  settings.children = request.children();
  // Many probes: what is being attached, and how long it took, on the
  // client's stderr before the session starts.
  const bool progress = resolved->probes.size() >= kProgressProbes;
  const absl::Time attach_start = absl::Now();
  if (progress) {
    std::set<std::string> files;
    for (const CallProbe& probe : resolved->probes) {
      files.insert(probe.library);
    }
    v1::CallsServerMessage message;
    message.set_progress(absl::StrCat(
        "attaching ", resolved->probes.size(), " probes in ", files.size(),
        files.size() == 1 ? " file" : " files", " (",
        absl::StrJoin(
            files.begin(),
            std::next(files.begin(), std::min<size_t>(files.size(), 4)), ", "),
        files.size() > 4 ? ", ..." : "", ")"));
    Send(std::move(message));
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<CallCounter> counter,
      services_.backend->CountCalls(filter, resolved->probes, settings));
  if (progress) {
    v1::CallsServerMessage message;
    message.set_progress(absl::StrCat(
        "attached in ", absl::ToInt64Milliseconds(absl::Now() - attach_start),
        " ms"));
    Send(std::move(message));
  }

  if (const std::vector<std::string> skipped = counter->Skipped();
      !skipped.empty()) {
    const size_t shown = std::min<size_t>(skipped.size(), 5);
    resolved->notes.push_back(absl::StrCat(
        skipped.size(), " not attached: ",
        absl::StrJoin(skipped.begin(), skipped.begin() + shown, ", "),
        skipped.size() > shown ? ", ..." : ""));
  }
  v1::CallsServerMessage started;
  started.mutable_started()->set_backend(services_.backend->name());
  std::string scope = filter.Describe();
  const size_t usdt =
      std::count_if(resolved->probes.begin(), resolved->probes.end(),
                    [](const CallProbe& probe) { return probe.usdt; });
  const size_t attached = resolved->probes.size() - counter->Skipped().size();
  if (usdt == 0) {
    absl::StrAppend(&scope, "; ", attached,
                    attached == 1 ? " function" : " functions");
  } else if (!counter->Skipped().empty()) {
    // Skipped probes may be of either kind.
    absl::StrAppend(&scope, "; ", attached,
                    attached == 1 ? " probe" : " probes");
  } else {
    const size_t functions = attached - usdt;
    if (functions > 0) {
      absl::StrAppend(&scope, "; ", functions,
                      functions == 1 ? " function" : " functions");
    }
    absl::StrAppend(&scope, "; ", usdt,
                    usdt == 1 ? " USDT probe" : " USDT probes");
  }
  if (filter.tgids.size() == 1 && filter.follow_children) {
    // The uprobes are the target's own (bpf_call_counter.cc), unless the
    // caller asked for its children.
    resolved->notes.push_back(
        request.children()
            ? "forked children counted: every process running the probed "
              "code traps"
            : "forked children not counted (-f counts them)");
  }
  if (!resolved->notes.empty()) {
    absl::StrAppend(&scope, "; ", absl::StrJoin(resolved->notes, "; "));
  }
  started.mutable_started()->set_scope(scope);
  Send(std::move(started));

  return ServeWindow(request.window(), std::move(counter));
}

absl::Status CallsReactor::List(const ProbeContext& context,
                                const ResolvedProbes& resolved) {
  v1::CallsServerMessage started;
  started.mutable_started()->set_backend(services_.backend->name());
  std::string scope =
      !context.program.empty() ? absl::StrCat("resolved for ", context.program)
      : context.pid > 0 ? absl::StrCat("resolved in process ", context.pid)
                        : std::string("resolved as the dynamic linker would");
  const size_t usdt =
      std::count_if(resolved.probes.begin(), resolved.probes.end(),
                    [](const CallProbe& probe) { return probe.usdt; });
  const size_t functions = resolved.probes.size() - usdt;
  if (functions > 0 || usdt == 0) {
    absl::StrAppend(&scope, "; ", functions,
                    functions == 1 ? " function" : " functions");
  }
  if (usdt > 0) {
    absl::StrAppend(&scope, "; ", usdt,
                    usdt == 1 ? " USDT probe" : " USDT probes");
  }
  absl::StrAppend(&scope, ", not attached");
  if (!resolved.notes.empty()) {
    absl::StrAppend(&scope, "; ", absl::StrJoin(resolved.notes, "; "));
  }
  started.mutable_started()->set_scope(scope);
  Send(std::move(started));
  v1::CallsServerMessage answer;
  v1::CallsSummary* summary = answer.mutable_final();
  summary->set_list_only(true);
  for (const CallProbe& probe : resolved.probes) {
    v1::CallRow* row = summary->add_rows();
    row->set_function(probe.function);
    row->set_library(probe.library);
    row->set_path(probe.file->path());
    row->set_offset(probe.offset);
  }
  Send(std::move(answer));
  return absl::OkStatus();
}

}  // namespace tracectl
