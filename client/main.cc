// tracectl: the client. Any user may run it; tracectld decides what it sees.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "client/commands.h"
#include "client/connection.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // errors come back as EPIPE instead
  tracectl::GlobalOptions global;
  global.socket_path = tracectl::DefaultSocketPath();
  // Everything after a literal `--` is the command to run, untouched.
  int parsed_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) {
      parsed_argc = i;
      global.has_command = true;
      global.command.assign(argv + i + 1, argv + argc);
      break;
    }
  }

  CLI::App app{"tracectl: trace system calls of any process you may ptrace"};
  app.require_subcommand(1);
  app.fallthrough();  // --socket may come after the subcommand too
  app.add_option("--socket", global.socket_path,
                 "tracectld's socket (default $TRACECTL_SOCKET or "
                 "/run/tracectl/tracectld.sock)");
  app.set_version_flag("--version", TRACECTL_VERSION);
  int exit_code = 0;
  tracectl::AddInfoCommand(app, global, &exit_code);
  tracectl::AddSyscallsCommand(app, global, &exit_code);
  tracectl::AddTraceCommand(app, global, &exit_code);
  tracectl::AddFilesCommand(app, global, &exit_code);
  tracectl::AddLibsCommand(app, global, &exit_code);
  tracectl::AddFlameCommand(app, global, &exit_code);
  tracectl::AddTopCommand(app, global, &exit_code);
  // CLI11 calls an unknown subcommand a stray argument: name it instead.
  for (int i = 1; i < parsed_argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--socket") {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    if (app.get_subcommands(
               [&](CLI::App* sub) { return sub->get_name() == arg; })
            .empty()) {
      return tracectl::UsageError("unknown command '" + arg +
                                  "': try tracectl --help");
    }
    break;
  }
  try {
    app.parse(parsed_argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return tracectl::UsageError(std::string(e.what()) +
                                " (see tracectl --help)");
  }
  return exit_code;
}
