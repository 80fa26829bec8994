#include "common/small_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace tracectl {

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  }
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), text.size());
  text.resize(in.gcount());
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is over ", max_bytes, " bytes"));
  }
  return text;
}

}  // namespace tracectl
