#include "daemon/process_state.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/proc_maps.h"
#include "common/unique_fd.h"

namespace tracectl {
namespace {

// A /proc link's text is at most a page (the kernel's d_path buffer).
constexpr size_t kMaxLinkBytes = 4096;

absl::Status Gone(pid_t pid) {
  return absl::NotFoundError(
      absl::StrCat("process ", pid, " is gone or may no longer be read"));
}

// Up to `max_bytes` of a /proc file, read until `deadline`; `*cut` when
// there was more. Only whole lines are kept of a file that was cut.
absl::StatusOr<std::string> ReadBounded(int dir_fd, const char* name,
                                        size_t max_bytes, absl::Time deadline,
                                        bool* cut) {
  const UniqueFd fd(openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return absl::ErrnoToStatus(errno, name);
  std::string text;
  *cut = false;
  size_t chunk = 64 << 10;
  for (;;) {
    const size_t room = std::min(chunk, max_bytes + 1 - text.size());
    const size_t old = text.size();
    text.resize(old + room);
    const ssize_t n = read(fd.get(), text.data() + old, room);
    if (n < 0 && errno == EINTR) {
      text.resize(old);
      continue;
    }
    if (n < 0) return absl::ErrnoToStatus(errno, name);
    text.resize(old + n);
    if (n == 0) break;
    if (text.size() > max_bytes || absl::Now() >= deadline) {
      *cut = true;
      const size_t last_newline =
          text.rfind('\n', std::min(text.size(), max_bytes) - 1);
      text.resize(last_newline == std::string::npos ? 0 : last_newline + 1);
      break;
    }
    chunk = std::min<size_t>(chunk * 2, 1 << 20);
  }
  return text;
}

}  // namespace

std::vector<v1::DropCounter> ProcessStateLosses::Drops(
    const ProcessStateLimits& limits) const {
  const std::string paths =
      absl::StrCat(limits.max_text_bytes >> 20, " MiB of paths, ",
                   absl::FormatDuration(limits.time), " in all");
  std::vector<v1::DropCounter> drops(4);
  drops[0].set_reason(
      "initial states not read: the process was gone or no longer yours");
  drops[0].set_count(unread);
  drops[1].set_reason(absl::StrCat("initial states not read: out of time (",
                                   absl::FormatDuration(limits.time),
                                   " for all processes)"));
  drops[1].set_count(out_of_time);
  drops[2].set_reason(
      absl::StrCat("initial states with mapped files left out (limits: ",
                   limits.max_maps_bytes >> 20, " MiB of maps, ", paths, ")"));
  drops[2].set_count(maps_cut);
  drops[3].set_reason(absl::StrCat(
      "open descriptors left out of initial states (limits: ", limits.max_fds,
      ", ", paths, ")"));
  drops[3].set_count(fds_left_out);
  return drops;
}

bool ParseMappedFiles(std::string_view maps, size_t max_text_bytes,
                      v1::ProcessState* state) {
  size_t text_bytes = 0;
  std::unordered_map<std::string_view, int> index;
  for (int i = 0; i < state->mapped_files_size(); ++i) {
    text_bytes += state->mapped_files(i).path().size();
    index.emplace(state->mapped_files(i).path(), i);
  }
  // Keys point into `maps` or into `state`'s strings, which stay put: a
  // repeated field's elements are allocated one by one.
  while (!maps.empty()) {
    const size_t newline = maps.find('\n');
    if (newline == std::string_view::npos) break;  // not a whole line
    const std::string_view line = maps.substr(0, newline);
    maps.remove_prefix(newline + 1);
    const std::optional<MapsLine> entry = ParseMapsLine(line);
    // Anonymous memory, [heap], [stack], [vdso], [anon:name]: no file.
    if (!entry || !entry->file_backed()) continue;
    const std::string_view path = entry->path;
    const bool executable = entry->executable();
    auto it = index.find(path);
    if (it != index.end()) {
      if (executable)
        state->mutable_mapped_files(it->second)->set_executable(true);
      continue;
    }
    if (text_bytes + path.size() > max_text_bytes) return false;
    text_bytes += path.size();
    v1::ProcessState::MappedFile* file = state->add_mapped_files();
    file->set_path(std::string(path));
    file->set_executable(executable);
    index.emplace(file->path(), state->mapped_files_size() - 1);
  }
  return true;
}

v1::OpenFileKind KindOfFdLink(std::string_view link) {
  auto starts = [link](std::string_view prefix) {
    return link.substr(0, prefix.size()) == prefix;
  };
  if (starts("/")) return v1::OPEN_FILE_PATH;
  if (starts("socket:[")) return v1::OPEN_FILE_SOCKET;
  if (starts("pipe:[")) return v1::OPEN_FILE_PIPE;
  if (starts("anon_inode:")) return v1::OPEN_FILE_ANON_INODE;
  return v1::OPEN_FILE_OTHER;
}

absl::StatusOr<v1::ProcessState> ReadProcessState(
    pid_t pid, const ProcessStateLimits& limits, ProcessStateLosses* losses) {
  const std::string dir = absl::StrCat("/proc/", pid);
  const UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) {
    ++losses->unread;
    return Gone(pid);
  }
  v1::ProcessState state;
  state.set_pid(pid);
  bool cut = false;
  absl::StatusOr<std::string> comm =
      ReadBounded(dir_fd.get(), "comm", 64, limits.deadline, &cut);
  if (comm.ok()) {
    state.set_comm(std::string(absl::StripTrailingAsciiWhitespace(*comm)));
  }
  char link[kMaxLinkBytes];
  ssize_t n = readlinkat(dir_fd.get(), "exe", link, sizeof(link));
  if (n > 0) state.set_exe(std::string(link, n));

  // The maps first: with the process gone or no longer readable, nothing.
  absl::StatusOr<std::string> maps = ReadBounded(
      dir_fd.get(), "maps", limits.max_maps_bytes, limits.deadline, &cut);
  if (!maps.ok()) {
    ++losses->unread;
    return Gone(pid);
  }
  if (!ParseMappedFiles(*maps, limits.max_text_bytes, &state) || cut) {
    ++losses->maps_cut;
  }
  size_t text_bytes = 0;
  for (const auto& file : state.mapped_files())
    text_bytes += file.path().size();

  const int fd_dir = openat(dir_fd.get(), "fd",
                            O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd_dir < 0) return state;  // a zombie has none to show
  DIR* entries = fdopendir(fd_dir);
  if (entries == nullptr) {
    close(fd_dir);
    return state;
  }
  std::vector<int> fds;
  uint64_t more = 0;
  while (const dirent* entry = readdir(entries)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd)) continue;  // . and ..
    if (fds.size() < limits.max_fds) {
      fds.push_back(fd);
    } else if (absl::Now() < limits.deadline) {
      ++more;  // counted, not listed
    } else {
      ++more;
      break;
    }
  }
  std::sort(fds.begin(), fds.end());
  size_t listed = 0;
  for (int fd : fds) {
    if (absl::Now() >= limits.deadline) break;
    n = readlinkat(dirfd(entries), std::to_string(fd).c_str(), link,
                   sizeof(link));
    if (n < 0) {
      ++listed;  // closed meanwhile: nothing left out
      continue;
    }
    if (text_bytes + n > limits.max_text_bytes) break;
    text_bytes += n;
    ++listed;
    v1::ProcessState::OpenFile* file = state.add_open_files();
    file->set_fd(fd);
    file->set_target(std::string(link, n));
    file->set_kind(KindOfFdLink(file->target()));
  }
  closedir(entries);
  losses->fds_left_out += more + (fds.size() - listed);
  return state;
}

}  // namespace tracectl
