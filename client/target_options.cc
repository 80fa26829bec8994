#include "client/target_options.h"

#include "client/connection.h"
#include "common/escape.h"

namespace tracectl {
namespace {

// The usage line and help of a subcommand that may run a command.
class CommandUsageFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::string usage = CLI::Formatter::make_usage(app, std::move(name));
    while (!usage.empty() && usage.back() == '\n') usage.pop_back();
    return usage + " [[--] CMD [ARGS...]]\n";
  }
  std::string make_footer(const CLI::App* app) const override {
    std::string footer = CLI::Formatter::make_footer(app);
    if (!footer.empty()) footer += "\n";
    return footer +
           "CMD [ARGS...] runs as you, traced from its first instruction with "
           "all its\ndescendants, and tracectl exits with its status. It "
           "starts at the first\nargument that is not an option or an "
           "option's value, or after --; the rest\nis the command's, "
           "untouched: tracectl trace ls -l passes -l to ls.\n";
  }
};

}  // namespace

void AddTargetOptions(CLI::App* cmd, TargetOptions* o) {
  cmd->formatter(std::make_shared<CommandUsageFormatter>());
  cmd->add_option("-p,--pid", o->pids,
                  "trace these processes (every thread); -p 1,2 or -p 1 -p 2")
      ->delimiter(',');
  // Not -c: to strace users that is the table of calls (tracectl syscalls).
  cmd->add_option("--comm", o->comm,
                  "trace tasks whose command name starts with this");
  cmd->add_option("-u,--uid", o->uid, "trace tasks of this real uid");
  cmd->add_flag("-f,--follow,--follow-forks", o->follow,
                "with --pid: also trace the children they fork; with a "
                "command: accepted (its children are always traced); -ff is "
                "the same as -f (one output for every process); "
                "system-wide: accepted, every task is traced already");
  cmd->add_option("-d,--duration", o->duration,
                  "stop after this many seconds (default: Ctrl-C)");
}

int BuildTarget(const TargetOptions& options, const GlobalOptions& global,
                v1::Target* target, v1::Window* window) {
  if (options.comm && options.comm->empty()) {
    return UsageError("--comm needs a non-empty prefix");
  }
  // The kernel keeps 15 bytes of a command name.
  if (options.comm && options.comm->size() > 15) {
    return UsageError("--comm '" + EscapedText(*options.comm, 32) +
                      "' is longer than 15 bytes, the kernel's command name "
                      "length");
  }
  if (global.has_command && global.command.empty()) {
    return UsageError("nothing to run after --");
  }
  if (global.has_command && !options.pids.empty()) {
    return UsageError("use either --pid or a command to run ('" +
                      global.command.front() +
                      "'), not both; several pids: --pid 1,2");
  }
  if (options.comm && options.comm->find('/') != std::string::npos) {
    return UsageError(
        "--comm takes the start of a command name, which has no '/'; "
        "for strace -c's table of calls, run tracectl syscalls [--] CMD "
        "[ARGS...]");
  }
  // -f with a command or system-wide adds nothing: children are traced
  // anyway. --comm matches by name: a child that execs another program
  // stops matching, which -f would seem to promise to keep.
  if (options.follow && options.comm && options.pids.empty() &&
      !global.has_command) {
    return UsageError(
        "-f follows the children of --pid or of a command; with --comm, "
        "children that run another program are not traced: use --pid PID "
        "-f");
  }
  for (int pid : options.pids) target->add_pids(pid);
  if (options.comm) target->set_comm_prefix(*options.comm);
  if (options.uid) target->set_uid(*options.uid);
  target->set_follow_children(options.follow && !options.pids.empty());
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
