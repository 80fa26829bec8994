// tracectl: the client. Any user may run it; tracectld decides what it sees.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "client/command_line.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/fan_out.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // errors come back as EPIPE instead
  tracectl::GlobalOptions global;
  global.socket_path = tracectl::DefaultSocketPath();
  CLI::App app{"tracectl: trace system calls of any process you may ptrace"};
  app.require_subcommand(1);
  app.fallthrough();  // --socket may come after the subcommand too
  app.add_option("--socket", global.socket_path,
                 "tracectld's socket (default $TRACECTL_SOCKET or "
                 "/run/tracectl/tracectld.sock)");
  std::vector<std::string> hosts;
  app.add_option("--host", hosts,
                 "a remote tracectld, HOST:PORT (default $TRACECTL_HOST), "
                 "reached with mutual TLS");
  app.add_option("--tls-cert", global.tls_cert,
                 "your client certificate for --host (default "
                 "~/.config/tracectl/client.crt)");
  app.add_option("--tls-key", global.tls_key,
                 "its private key (default ~/.config/tracectl/client.key)");
  app.add_option("--tls-ca", global.tls_ca,
                 "the CA of the daemon's certificate (default "
                 "~/.config/tracectl/ca.crt)");
  app.add_flag("--insecure", global.insecure,
               "plain TCP to --host (a daemon run with --insecure-loopback)");
  app.set_version_flag("--version", TRACECTL_VERSION);
  int exit_code = 0;
  tracectl::AddInfoCommand(app, global, &exit_code);
  tracectl::AddSyscallsCommand(app, global, &exit_code);
  tracectl::AddTraceCommand(app, global, &exit_code);
  tracectl::AddFilesCommand(app, global, &exit_code);
  tracectl::AddLibsCommand(app, global, &exit_code);
  tracectl::AddFlameCommand(app, global, &exit_code);
  tracectl::AddTopCommand(app, global, &exit_code);
  tracectl::AddStackCommand(app, global, &exit_code);
  tracectl::AddCallsCommand(app, global, &exit_code);
  // The command to run starts at `--` or at the first argument that is
  // not an option or an option's value, as strace takes it.
  absl::StatusOr<tracectl::SplitArguments> split = tracectl::SplitCommandLine(
      app, {"syscalls", "trace", "files", "libs", "flame", "top", "calls"},
      argc, argv);
  if (!split.ok()) {
    return tracectl::UsageError(std::string(split.status().message()));
  }
  if (const std::string hint =
          tracectl::StraceOptionHint(split->subcommand, split->unknown_option);
      !hint.empty()) {
    return tracectl::UsageError(split->unknown_option + ": " + hint);
  }
  global.has_command = split->has_command;
  global.command = split->command;
  const int parsed_argc = split->own_argc;
  // Before any subcommand runs: the remote host's options and files.
  app.parse_complete_callback([&global, &hosts, &split, argc, argv] {
    global.host = absl::StrJoin(hosts, ",");
    const std::string error = tracectl::PrepareRemote(global);
    if (!error.empty()) throw CLI::RuntimeError(tracectl::UsageError(error));
    // Line output on several hosts: tracectl once per host.
    if (global.hosts.size() > 1 && tracectl::FansOut(split->subcommand)) {
      throw CLI::RuntimeError(tracectl::FanOut(argc, argv, global.hosts));
    }
  });
  try {
    app.parse(parsed_argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // already said
  } catch (const CLI::ParseError& e) {
    return tracectl::UsageError(std::string(e.what()) +
                                " (see tracectl --help)");
  }
  return exit_code;
}
