// One line of /proc/PID/maps, as the kernel writes it:
//   start-end perms offset dev inode   path
// for the daemon's readers of a process's mappings (its initial state, the
// Python loader).
#ifndef TRACECTL_COMMON_PROC_MAPS_H_
#define TRACECTL_COMMON_PROC_MAPS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace tracectl {

struct MapsLine {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t offset = 0;  // into the file
  uint64_t inode = 0;
  std::string_view perms;  // "r-xp"
  // The rest of the line, spaces included: "/usr/lib/libc.so.6",
  // "/dev/zero (deleted)", "[heap]", or "" for anonymous memory.
  std::string_view path;

  bool executable() const { return perms.size() >= 3 && perms[2] == 'x'; }
  // Mapped from a file: an absolute path and an inode (not [heap], [vdso],
  // [anon:name] or anonymous memory).
  bool file_backed() const {
    return inode != 0 && !path.empty() && path[0] == '/';
  }
};

// The fields of `line` (without its newline), pointing into it; nullopt
// when it is not a maps line.
std::optional<MapsLine> ParseMapsLine(std::string_view line);

}  // namespace tracectl

#endif  // TRACECTL_COMMON_PROC_MAPS_H_
