#include "common/proc_maps.h"

#include "absl/strings/numbers.h"

namespace tracectl {
namespace {

// Abseil here is built without std::string_view as its string_view.
absl::string_view Absl(std::string_view s) { return {s.data(), s.size()}; }

// The next field of `line` from `*pos`, skipping the spaces before it.
std::string_view NextField(std::string_view line, size_t* pos) {
  while (*pos < line.size() && line[*pos] == ' ') ++*pos;
  const size_t begin = *pos;
  while (*pos < line.size() && line[*pos] != ' ') ++*pos;
  return line.substr(begin, *pos - begin);
}

}  // namespace

std::optional<MapsLine> ParseMapsLine(std::string_view line) {
  MapsLine out;
  size_t pos = 0;
  const std::string_view range = NextField(line, &pos);
  out.perms = NextField(line, &pos);
  const std::string_view offset = NextField(line, &pos);
  NextField(line, &pos);  // dev
  const std::string_view inode = NextField(line, &pos);
  const size_t dash = range.find('-');
  if (dash == std::string_view::npos ||
      !absl::SimpleHexAtoi(Absl(range.substr(0, dash)), &out.start) ||
      !absl::SimpleHexAtoi(Absl(range.substr(dash + 1)), &out.end) ||
      !absl::SimpleHexAtoi(Absl(offset), &out.offset) ||
      !absl::SimpleAtoi(Absl(inode), &out.inode) || out.perms.empty()) {
    return std::nullopt;
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  out.path = line.substr(pos);
  return out;
}

}  // namespace tracectl
