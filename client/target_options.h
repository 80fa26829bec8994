// The TARGET options every session command shares: --pid, --follow,
// --comm, --uid, or [--] CMD [ARGS...], and nothing for system-wide.
#ifndef TRACECTL_CLIENT_TARGET_OPTIONS_H_
#define TRACECTL_CLIENT_TARGET_OPTIONS_H_

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/commands.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

struct TargetOptions {
  std::vector<int> pids;
  std::optional<std::string> comm;
  std::optional<unsigned> uid;
  bool follow = false;
  std::optional<double> duration;
};

// Registers --pid, --comm, --uid, --follow and --duration on `cmd`, and
// "[[--] CMD [ARGS...]]" on its usage line, with a word on CMD after its
// footer.
void AddTargetOptions(CLI::App* cmd, TargetOptions* options);

// Fills `target` and `window` from the options. Returns 0, or prints what
// is wrong and returns 2.
int BuildTarget(const TargetOptions& options, const GlobalOptions& global,
                v1::Target* target, v1::Window* window);

// For flame and top: the target and window as BuildTarget fills them, and
// the sampling frequency, checked (1 to 10000 Hz). Returns 0 or 2.
int BuildProfileRequest(const TargetOptions& options,
                        const GlobalOptions& global, uint32_t frequency,
                        v1::ProfileRequest* request);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_TARGET_OPTIONS_H_
