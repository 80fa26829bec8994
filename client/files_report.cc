#include "client/files_report.h"

#include <fcntl.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/json.h"
#include "client/strace_format.h"
#include "common/syscall_names.h"
#include "common/syscall_table.h"

namespace tracectl {
namespace {

constexpr int64_t kNsPerSecond = 1000000000;

// One path argument of one call, as shown and as summarized.
struct PathArg {
  std::string shown;  // for the line: control characters escaped
  std::string key;    // for the summary: raw, with the dirfd suffix
  bool summarize = true;
};

std::string Timestamp(uint64_t enter_ns, int64_t offset_ns) {
  const int64_t ns = static_cast<int64_t>(enter_ns) + offset_ns;
  int64_t seconds = ns / kNsPerSecond;
  int64_t sub_ns = ns % kNsPerSecond;
  if (sub_ns < 0) {
    sub_ns += kNsPerSecond;
    --seconds;
  }
  const time_t t = static_cast<time_t>(seconds);
  struct tm local;
  if (localtime_r(&t, &local) == nullptr) {
    return absl::StrFormat("%d.%06d", seconds, sub_ns / 1000);
  }
  return absl::StrFormat("%02d:%02d:%02d.%06d", local.tm_hour, local.tm_min,
                         local.tm_sec, sub_ns / 1000);
}

// The arguments to show as paths, in order: the table's kPath arguments,
// and symlink's target, which is a string the call only stores.
std::vector<int> PathArgs(const SyscallInfo& info) {
  std::vector<int> args;
  const bool symlink = info.nr == SYS_symlink || info.nr == SYS_symlinkat;
  for (size_t i = 0; i < info.args.size(); ++i) {
    if (info.args[i] == ArgType::kPath || (symlink && i == 0)) {
      args.push_back(static_cast<int>(i));
    }
  }
  return args;
}

bool HasPathArg(const SyscallInfo& info) {
  return std::find(info.args.begin(), info.args.end(), ArgType::kPath) !=
         info.args.end();
}

void AddUnique(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    names.push_back(name);
  }
}

const char* KindName(v1::OpenFileKind kind) {
  switch (kind) {
    case v1::OPEN_FILE_PATH:
      return "path";
    case v1::OPEN_FILE_SOCKET:
      return "socket";
    case v1::OPEN_FILE_PIPE:
      return "pipe";
    case v1::OPEN_FILE_ANON_INODE:
      return "anon_inode";
    default:
      return "other";
  }
}

std::string JsonStrings(const std::vector<std::string>& strings) {
  std::vector<std::string> quoted;
  for (const std::string& s : strings) quoted.push_back(JsonString(s));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

}  // namespace

std::string FilesSelection() {
  std::vector<std::string> names;
  for (int nr = 0; nr < MAX_TRACE_NR; ++nr) {
    const SyscallInfo* info = FindSyscall(nr);
    if (info != nullptr && HasPathArg(*info)) AddUnique(names, info->name);
  }
  return absl::StrJoin(names, ",");
}

FilesReport::FilesReport(Options options) : options_(options) {}

std::string FilesReport::Add(const TraceEvent& event) {
  // 32-bit calls are numbered by another table and carry no captures.
  if (event.compat()) return "";
  const SyscallInfo* info = FindSyscall(event.nr());
  if (info == nullptr) return "";
  const std::vector<int> path_args = PathArgs(*info);
  if (path_args.empty() || !HasPathArg(*info)) return "";

  const bool symlink = info->nr == SYS_symlink || info->nr == SYS_symlinkat;
  std::vector<PathArg> paths;
  for (int arg : path_args) {
    PathArg p;
    p.summarize = !(symlink && arg == 0);
    const uint64_t address = event.header.args[arg];
    const Capture* c = event.Find(arg);
    if (c == nullptr || (c->flags & CAPTURE_UNREAD) != 0) {
      p.shown =
          address == 0 ? "NULL" : absl::StrFormat("<unreadable 0x%x>", address);
      // Every marker shown is counted, as the kernel side counts it.
      if (address != 0) ++unreadable_;
      p.summarize = false;
      paths.push_back(std::move(p));
      continue;
    }
    p.key = std::string(c->data);
    p.shown = c->data.empty() ? "\"\"" : Escaped(c->data);
    // An empty path names no file: with AT_EMPTY_PATH the call acts on the
    // descriptor (glibc's fstat), whose path its open already showed.
    if (c->data.empty()) p.summarize = false;
    if ((c->flags & CAPTURE_TRUNCATED) != 0) {
      p.key += "...";
      p.shown += "...";
      if (p.summarize) ++truncated_;
    }
    // A relative path resolved from a descriptor other than the cwd.
    if (arg > 0 && info->args[arg - 1] == ArgType::kDirFd &&
        (c->data.empty() || c->data[0] != '/')) {
      const int dirfd = static_cast<int32_t>(event.header.args[arg - 1]);
      if (dirfd != AT_FDCWD) {
        const std::string suffix = absl::StrCat(" (dirfd ", dirfd, ")");
        p.key += suffix;
        p.shown += suffix;
      }
    }
    paths.push_back(std::move(p));
  }

  const int error = event.error();
  for (const PathArg& p : paths) {
    if (!p.summarize) continue;
    if (error == 0) {
      auto [it, inserted] = used_index_.emplace(p.key, used_.size());
      if (inserted) used_.push_back(Used{p.key, {}});
      AddUnique(used_[it->second].calls, info->name);
    } else {
      auto [it, inserted] =
          failed_index_.emplace(std::make_pair(p.key, error), failed_.size());
      if (inserted) failed_.push_back(Failed{p.key, error, 0, {}});
      Failed& f = failed_[it->second];
      ++f.count;
      AddUnique(f.calls, info->name);
    }
  }

  if (options_.failed_only && error == 0) return "";
  std::vector<std::string> shown;
  for (const PathArg& p : paths) shown.push_back(p.shown);
  const std::string result = error != 0 ? absl::StrCat("-1 ", ErrnoName(error))
                                        : absl::StrCat(event.header.ret);
  const char* comm = event.header.comm;
  return absl::StrCat(
      Timestamp(event.header.enter_ns, options_.realtime_offset_ns), " ",
      event.header.tgid, " ",
      Escaped(std::string_view(comm, strnlen(comm, EVENT_COMM_LEN))), " ",
      info->name, " ", absl::StrJoin(shown, " -> "), " = ", result, "\n");
}

void FilesReport::AddInitialState(const v1::ProcessState& state) {
  initial_states_.push_back(state);
  initial_states_.back().clear_mapped_files();  // not needed here
}

std::string FilesReport::Summary() const {
  std::string out;
  size_t open_at_start = 0;
  for (const v1::ProcessState& state : initial_states_) {
    open_at_start += state.open_files_size();
  }
  if (open_at_start > 0) {
    absl::StrAppend(&out, "open when the session started (", open_at_start,
                    "):\n");
    for (const v1::ProcessState& state : initial_states_) {
      for (const v1::ProcessState::OpenFile& f : state.open_files()) {
        absl::StrAppend(&out, "  ", state.pid(), " ", Escaped(state.comm()),
                        " fd ", f.fd(), "  ", Escaped(f.target()), "\n");
      }
    }
  }
  absl::StrAppend(&out, "paths used (", used_.size(), "):\n");
  for (const Used& u : used_) {
    absl::StrAppend(&out, "  ", Escaped(u.path), "  ",
                    absl::StrJoin(u.calls, ","), "\n");
  }
  absl::StrAppend(&out, "paths that failed (", failed_.size(), "):\n");
  for (const Failed& f : failed_) {
    absl::StrAppend(&out, "  ", Escaped(f.path), "  ", ErrnoName(f.error), " x",
                    f.count, " (", absl::StrJoin(f.calls, ","), ")\n");
  }
  if (unreadable_ > 0 || truncated_ > 0) {
    absl::StrAppend(&out, "path captures: ", unreadable_, " unreadable, ",
                    truncated_, " truncated\n");
  }
  return out;
}

std::string FilesReport::SummaryJson() const {
  std::vector<std::string> used;
  for (const Used& u : used_) {
    used.push_back(absl::StrCat("{\"path\":", JsonString(u.path),
                                ",\"calls\":", JsonStrings(u.calls), "}"));
  }
  std::vector<std::string> failed;
  for (const Failed& f : failed_) {
    failed.push_back(absl::StrCat("{\"path\":", JsonString(f.path),
                                  ",\"errno\":", JsonString(ErrnoName(f.error)),
                                  ",\"count\":", f.count,
                                  ",\"calls\":", JsonStrings(f.calls), "}"));
  }
  std::vector<std::string> open;
  for (const v1::ProcessState& state : initial_states_) {
    for (const v1::ProcessState::OpenFile& f : state.open_files()) {
      open.push_back(absl::StrCat(
          "{\"pid\":", state.pid(), ",\"comm\":", JsonString(state.comm()),
          ",\"fd\":", f.fd(), ",\"path\":", JsonString(f.target()),
          ",\"kind\":\"", KindName(f.kind()), "\"}"));
    }
  }
  return absl::StrCat(
      "{\"open_at_start\":[", absl::StrJoin(open, ","), "],\"used\":[",
      absl::StrJoin(used, ","), "],\"failed\":[", absl::StrJoin(failed, ","),
      "],\"unreadable\":", unreadable_, ",\"truncated\":", truncated_, "}");
}

}  // namespace tracectl
