// One Profile call: a session sampling CPU stacks with one CpuSampler,
// unwinding and symbolizing each sample as it comes, and sending the
// summed stacks as snapshots (each interval's) and a final profile.
#ifndef TRACECTL_DAEMON_PROFILE_REACTOR_H_
#define TRACECTL_DAEMON_PROFILE_REACTOR_H_

#include <sys/eventfd.h>
#include <unistd.h>

#include "absl/status/statusor.h"
#include "daemon/backend.h"
#include "daemon/caller.h"
#include "daemon/session_services.h"
#include "daemon/stream_session.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// The request's settings, checked: INVALID_ARGUMENT for a bad frequency;
// PERMISSION_DENIED for kernel stacks asked by a caller who may not see
// kernel addresses (`admin` false).
absl::StatusOr<ProfileSettings> ParseProfileSettings(
    const v1::ProfileRequest& request, bool admin);

class ProfileReactor final
    : public StreamSession<v1::ProfileClientMessage, v1::ProfileServerMessage> {
 public:
  ProfileReactor(absl::StatusOr<Caller> caller, const SessionServices& services)
      : StreamSession(services.registry),
        caller_(std::move(caller)),
        services_(services),
        wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~ProfileReactor() override {
    if (wake_fd_ >= 0) close(wake_fd_);
  }

 private:
  absl::Status Serve(const v1::ProfileRequest& request) override;
  void OnStopOrCancel() override {
    const uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
  }

  const absl::StatusOr<Caller> caller_;
  const SessionServices services_;
  const int wake_fd_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PROFILE_REACTOR_H_
