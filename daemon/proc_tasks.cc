#include "daemon/proc_tasks.h"

#include <dirent.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/small_file.h"

namespace tracectl {

std::vector<pid_t> ThreadsOf(pid_t tgid) {
  constexpr size_t kMaxThreads = 1 << 16;
  std::vector<pid_t> tids;
  DIR* dir = opendir(absl::StrCat("/proc/", tgid, "/task").c_str());
  if (dir == nullptr) return tids;
  while (dirent* entry = readdir(dir)) {
    pid_t tid = 0;
    if (absl::SimpleAtoi(entry->d_name, &tid) && tid > 0) tids.push_back(tid);
    if (tids.size() >= kMaxThreads) break;
  }
  closedir(dir);
  return tids;
}

long StatusField(pid_t tid, const std::string& field) {
  absl::StatusOr<std::string> text =
      ReadSmallFile(absl::StrCat("/proc/", tid, "/status"), 64 << 10);
  if (!text.ok()) return -1;
  const std::string key = "\n" + field + ":";
  const size_t at = text->find(key);
  if (at == std::string::npos) return -1;
  const size_t end = text->find('\n', at + key.size());
  long value = -1;
  if (!absl::SimpleAtoi(text->substr(at + key.size(), end - at - key.size()),
                        &value)) {
    return -1;
  }
  return value;
}

bool TaskExiting(pid_t tid) {
  absl::StatusOr<std::string> stat =
      ReadSmallFile(absl::StrCat("/proc/", tid, "/stat"), 4096);
  if (!stat.ok()) return true;
  // The state follows the comm, which may hold anything but ends at the
  // last ')'.
  const size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return true;
  const char state = (*stat)[paren + 2];
  return state == 'Z' || state == 'X' || state == 'x';
}

std::string CommOf(pid_t pid) {
  absl::StatusOr<std::string> comm =
      ReadSmallFile(absl::StrCat("/proc/", pid, "/comm"), 64);
  if (!comm.ok()) return "";
  while (!comm->empty() && comm->back() == '\n') comm->pop_back();
  return *comm;
}

}  // namespace tracectl
