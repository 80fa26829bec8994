// pprof's format: a gzipped perftools.profiles.Profile message, as read by
// `go tool pprof` and Pyroscope.
#ifndef TRACECTL_CLIENT_PROFILE_PPROF_H_
#define TRACECTL_CLIENT_PROFILE_PPROF_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/profile_view.h"

namespace tracectl {

absl::StatusOr<std::string> RenderPprof(const ProfileView& view);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_PROFILE_PPROF_H_
