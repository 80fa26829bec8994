#include "common/elf_names.h"

#include <cxxabi.h>
#include <stdlib.h>
#include <string.h>

#include "absl/strings/str_cat.h"

namespace tracectl {

std::string Demangle(const char* name) {
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string demangled(out);
  free(out);
  return demangled;
}

std::vector<std::string> DebugFileCandidates(const std::string& build_id,
                                             const std::string& file,
                                             const char* debuglink) {
  std::vector<std::string> paths;
  if (build_id.size() > 2) {
    paths.push_back(absl::StrCat("/usr/lib/debug/.build-id/",
                                 build_id.substr(0, 2), "/", build_id.substr(2),
                                 ".debug"));
  }
  if (debuglink == nullptr || debuglink[0] == '\0' || debuglink[0] == '.' ||
      strchr(debuglink, '/') != nullptr || file.empty()) {
    return paths;
  }
  const std::string dir = file.substr(0, file.rfind('/'));
  for (std::string path :
       {absl::StrCat(dir, "/", debuglink),
        absl::StrCat(dir, "/.debug/", debuglink),
        absl::StrCat("/usr/lib/debug", dir, "/", debuglink)}) {
    if (path != file) paths.push_back(std::move(path));
  }
  return paths;
}

}  // namespace tracectl
