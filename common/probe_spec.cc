#include "common/probe_spec.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tracectl {
namespace {

constexpr size_t kMaxSpecLength = 4096;

// The ':' that ends LIB, skipping "::" pairs; npos if none.
size_t LibraryEnd(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ':') continue;
    if (i + 1 < text.size() && text[i + 1] == ':') {
      ++i;
      continue;
    }
    return i;
  }
  return absl::string_view::npos;
}

}  // namespace

absl::StatusOr<ProbeSpec> ParseProbeSpec(absl::string_view text) {
  if (text.size() > kMaxSpecLength) {
    return absl::InvalidArgumentError("probe longer than 4096 bytes");
  }
  if (text.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("probe holds a NUL byte");
  }
  if (absl::StartsWith(text, "usdt:")) {
    std::vector<std::string> parts =
        absl::StrSplit(text.substr(strlen("usdt:")), ':');
    const bool empty_part =
        std::any_of(parts.begin(), parts.end(),
                    [](const std::string& part) { return part.empty(); });
    if (parts.size() < 2 || parts.size() > 3 || empty_part) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed probe \"", text,
                       "\": expected usdt:LIB:[PROVIDER:]NAME (e.g. "
                       "usdt:python:function__return)"));
    }
    ProbeSpec spec;
    spec.usdt = true;
    spec.library = parts[0];
    spec.glob = parts.back();
    if (parts.size() == 3) spec.provider = parts[1];
    return spec;
  }
  const size_t colon = LibraryEnd(text);
  if (colon == absl::string_view::npos || colon == 0 ||
      colon + 1 == text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed probe \"", text,
                     "\": expected LIB:FUNCTION_GLOB (e.g. libc:getenv)"));
  }
  ProbeSpec spec;
  spec.library = std::string(text.substr(0, colon));
  spec.glob = std::string(text.substr(colon + 1));
  return spec;
}

}  // namespace tracectl
