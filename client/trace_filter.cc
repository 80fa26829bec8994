#include "client/trace_filter.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "client/fd_paths.h"
#include "common/syscall_table.h"

namespace tracectl {
namespace {

// strace's -e status= values (strace(1)).
enum Status : unsigned {
  kSuccessful = 1 << 0,
  kFailed = 1 << 1,
  kUnfinished = 1 << 2,
  kUnavailable = 1 << 3,
  kDetached = 1 << 4,
};
constexpr unsigned kEveryStatus =
    kSuccessful | kFailed | kUnfinished | kUnavailable;

absl::StatusOr<unsigned> ParseStatusSet(absl::string_view set) {
  const std::string whole(set);
  const bool negate = !set.empty() && set.front() == '!';
  if (negate) set.remove_prefix(1);
  unsigned bits = 0;
  for (absl::string_view item : absl::StrSplit(set, ',')) {
    if (item == "successful") {
      bits |= kSuccessful;
    } else if (item == "failed") {
      bits |= kFailed;
    } else if (item == "unfinished") {
      bits |= kUnfinished;
    } else if (item == "unavailable") {
      bits |= kUnavailable;
    } else if (item == "detached") {
      if (negate) continue;  // never shown anyway
      return absl::InvalidArgumentError(
          "-e status=detached: tracectl does not print calls still in "
          "progress when tracing ends; leave detached out");
    } else if (item == "all") {
      bits |= kEveryStatus;
    } else if (item == "none") {
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown status '", item, "' in -e status=", whole,
          ": use successful, failed, unfinished, unavailable, all or none"));
    }
  }
  if (negate) bits = kEveryStatus & ~bits;
  if (bits == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("-e status=", whole, " selects no calls"));
  }
  return bits;
}

// -e decode-fds=SET: true for path (or all), false for none.
absl::StatusOr<bool> ParseDecodeFds(absl::string_view set) {
  bool paths = false;
  for (absl::string_view item : absl::StrSplit(set, ',')) {
    if (item == "path" || item == "all") {
      paths = true;
    } else if (item == "none") {
    } else if (item == "socket" || item == "dev" || item == "pidfd" ||
               item == "signalfd") {
      return absl::InvalidArgumentError(absl::StrCat(
          "-e decode-fds=", item,
          " is not supported: tracectl shows the paths of descriptors "
          "only (-y, -e decode-fds=path)"));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown value '", item, "' in -e decode-fds=", std::string(set),
          ": use path, all or none"));
    }
  }
  return paths;
}

// What to type instead of strace's other -e qualifiers.
std::string QualifierHint(const std::string& qualifier) {
  if (qualifier == "signal" || qualifier == "signals" || qualifier == "s") {
    return "tracectl shows system calls only, not signals";
  }
  if (qualifier == "read" || qualifier == "reads" || qualifier == "r" ||
      qualifier == "write" || qualifier == "writes" || qualifier == "w") {
    return "full dumps of the data are not supported; -s N (up to 4094) "
           "shows more of each buffer";
  }
  if (qualifier == "abbrev" || qualifier == "a" || qualifier == "verbose" ||
      qualifier == "v" || qualifier == "raw" || qualifier == "x") {
    return "structures print as pointers and constants by name; --json adds "
           "each call's raw_args";
  }
  if (qualifier == "fault" || qualifier == "inject") {
    return "tracectl only observes; it cannot inject faults";
  }
  if (qualifier == "trace-fds" || qualifier == "trace-fd" ||
      qualifier == "fd" || qualifier == "fds") {
    return "use -e trace=%desc -y and grep the path";
  }
  return "tracectl takes -e trace=, -e status= and -e decode-fds=";
}

bool IsQuiet(const std::string& qualifier) {
  return qualifier == "quiet" || qualifier == "silent" ||
         qualifier == "silence" || qualifier == "q";
}

absl::StatusOr<std::vector<int>> Parse(const std::string& set) {
  return ParseTraceSelection(set);
}

}  // namespace

bool TraceFilter::Shows(const TraceEvent& event) const {
  if (!shown_calls.empty()) {
    // 32-bit calls come only when every call is selected.
    if (event.compat()) return false;
    const int nr = event.nr();
    if (nr < 0 || nr >= static_cast<int>(shown_calls.size()) ||
        !shown_calls[nr]) {
      return false;
    }
  }
  if (event.no_return()) return show_unfinished;
  return event.error() != 0 ? show_failed : show_successful;
}

absl::StatusOr<TraceFilter> BuildTraceFilter(const TraceFlags& flags) {
  TraceFilter filter;
  filter.decode_fds = flags.decode_fds;
  std::vector<std::string> sets;
  std::vector<std::string> status_sets;
  for (const std::string& e : flags.expressions) {
    const size_t eq = e.find('=');
    if (eq == std::string::npos) {  // strace: -e open is -e trace=open
      sets.push_back(e);
      continue;
    }
    const std::string qualifier = e.substr(0, eq);
    const std::string set = e.substr(eq + 1);
    if (qualifier == "trace" || qualifier == "t") {
      if (set.empty()) {
        return absl::InvalidArgumentError(
            "-e trace= needs a set of system calls");
      }
      sets.push_back(set);
    } else if (qualifier == "status") {
      status_sets.push_back(set);
    } else if (qualifier == "decode-fds") {
      absl::StatusOr<bool> paths = ParseDecodeFds(set);
      if (!paths.ok()) return paths.status();
      filter.decode_fds = *paths;
    } else if (IsQuiet(qualifier)) {
      // tracectl prints no attach, exit or signal messages to silence.
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "-e ", qualifier, "= is not supported: ", QualifierHint(qualifier)));
    }
  }

  // Which calls: the union of the sets. A negated set merged with others
  // would select nearly everything, which is never what is meant.
  std::vector<int> selected;
  bool every_call = sets.empty();
  if (sets.size() > 1) {
    for (const std::string& set : sets) {
      if (!set.empty() && set.front() == '!') {
        return absl::InvalidArgumentError(absl::StrCat(
            "-e trace=", set,
            " cannot be merged with other -e trace= options: give one "
            "-e trace=!SET naming every call to leave out"));
      }
    }
  }
  if (!sets.empty()) {
    std::set<int> merged;
    for (const std::string& set : sets) {
      absl::StatusOr<std::vector<int>> numbers = Parse(set);
      if (!numbers.ok()) return numbers.status();
      merged.insert(numbers->begin(), numbers->end());
    }
    selected.assign(merged.begin(), merged.end());
  }

  // Which outcomes: one of -z, -Z or -e status=.
  const int status_sources =
      flags.successful + flags.failed + static_cast<int>(status_sets.size());
  if (flags.successful && flags.failed) {
    return absl::InvalidArgumentError(
        "-z (only successful calls) and -Z (only failed calls) together "
        "select nothing");
  }
  if (status_sources > 1) {
    return absl::InvalidArgumentError(
        "give one of -z, -Z or -e status=SET (a comma-separated list, e.g. "
        "-e status=successful,unfinished)");
  }
  unsigned status = kEveryStatus;
  if (flags.successful) status = kSuccessful;
  if (flags.failed) status = kFailed;
  if (!status_sets.empty()) {
    absl::StatusOr<unsigned> bits = ParseStatusSet(status_sets.front());
    if (!bits.ok()) return bits.status();
    status = *bits;
  }
  filter.show_successful = (status & kSuccessful) != 0;
  filter.show_failed = (status & kFailed) != 0;
  filter.show_unfinished = (status & kUnfinished) != 0;

  // The kernel also sends the calls that create and end tasks (for the
  // "[pid N] " prefix) and, with -y, those that open and close
  // descriptors; the client drops the lines nobody asked for. -y needs the
  // calls whatever their outcome, so the client filters those too.
  if (!filter.decode_fds) {
    filter.kernel_only_successful =
        filter.show_successful && !filter.show_failed;
    filter.kernel_only_failed = filter.show_failed && !filter.show_successful;
  }
  if (every_call) return filter;
  // `selected` is sorted; one slot even for -e trace=none.
  filter.shown_calls.assign(selected.empty() ? 1 : selected.back() + 1, false);
  for (int nr : selected) filter.shown_calls[nr] = true;
  std::set<int> kernel(selected.begin(), selected.end());
  std::vector<std::string> extra = {"fork",   "vfork", "clone",
                                    "clone3", "exit",  "exit_group"};
  if (filter.decode_fds) {
    extra.insert(extra.end(), FdPaths::CallsToWatch().begin(),
                 FdPaths::CallsToWatch().end());
  }
  std::vector<std::string> unshown;
  for (const std::string& name : extra) {
    if (const SyscallInfo* info = FindSyscallByName(name)) {
      if (kernel.insert(info->nr).second) unshown.push_back(name);
    }
  }
  filter.kernel_unshown = absl::StrJoin(unshown, ",");
  selected.assign(kernel.begin(), kernel.end());

  absl::StatusOr<std::vector<int>> all = Parse("all");
  if (!all.ok()) return all.status();
  if (selected == *all) {
    filter.kernel_selection = "all";
  } else if (selected.empty()) {
    filter.kernel_selection = "none";
  } else {
    std::vector<std::string> names;
    for (int nr : selected) names.push_back(FindSyscall(nr)->name);
    filter.kernel_selection = absl::StrJoin(names, ",");
  }
  return filter;
}

}  // namespace tracectl
