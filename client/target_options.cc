#include "client/target_options.h"

#include "client/connection.h"

namespace tracectl {

void AddTargetOptions(CLI::App* cmd, TargetOptions* o) {
  cmd->add_option("-p,--pid", o->pids, "trace these processes (every thread)");
  cmd->add_option("-c,--comm", o->comm,
                  "trace tasks whose command name starts with this");
  cmd->add_option("-u,--uid", o->uid, "trace tasks of this real uid");
  cmd->add_flag("-f,--follow", o->follow,
                "also trace children that --pid processes fork");
  cmd->add_option("-d,--duration", o->duration,
                  "stop after this many seconds (default: Ctrl-C)");
}

int BuildTarget(const TargetOptions& options, const GlobalOptions& global,
                v1::Target* target, v1::Window* window) {
  if (options.comm && options.comm->empty()) {
    return UsageError("--comm needs a non-empty prefix");
  }
  if (global.has_command && global.command.empty()) {
    return UsageError("nothing to run after --");
  }
  if (global.has_command && !options.pids.empty()) {
    return UsageError("use either --pid or -- CMD, not both");
  }
  if (options.follow && options.pids.empty()) {
    return UsageError("--follow needs --pid (-- CMD always follows)");
  }
  for (int pid : options.pids) target->add_pids(pid);
  if (options.comm) target->set_comm_prefix(*options.comm);
  if (options.uid) target->set_uid(*options.uid);
  target->set_follow_children(options.follow);
  if (options.duration) window->set_duration_seconds(*options.duration);
  return 0;
}

int BuildProfileRequest(const TargetOptions& options,
                        const GlobalOptions& global, uint32_t frequency,
                        v1::ProfileRequest* request) {
  if (int code = BuildTarget(options, global, request->mutable_target(),
                             request->mutable_window());
      code != 0) {
    return code;
  }
  if (frequency == 0 || frequency > 10000) {
    return UsageError("--frequency must be from 1 to 10000 Hz");
  }
  request->set_frequency_hz(frequency);
  return 0;
}

}  // namespace tracectl
