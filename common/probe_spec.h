// `tracectl calls -e` probes, parsed the same way by the client (to refuse
// a malformed one before anything runs) and by the daemon.
#ifndef TRACECTL_COMMON_PROBE_SPEC_H_
#define TRACECTL_COMMON_PROBE_SPEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tracectl {

struct ProbeSpec {
  std::string library;  // "libc", "/usr/lib/x.so", "exe"
  std::string glob;     // fnmatch(3) pattern on symbol names; USDT: NAME
  // usdt:LIB:[PROVIDER:]NAME: USDT probes (SDT notes) of LIB.
  bool usdt = false;
  std::string provider;  // glob; empty: any provider
};

// "LIB:GLOB" or "usdt:LIB:[PROVIDER:]NAME". LIB ends at the first ':' that
// is not part of a "::", so a glob may be a C++ name (`exe:ns::f*`); a LIB
// path holding ':' cannot be named. INVALID_ARGUMENT when malformed.
absl::StatusOr<ProbeSpec> ParseProbeSpec(absl::string_view text);

}  // namespace tracectl

#endif  // TRACECTL_COMMON_PROBE_SPEC_H_
