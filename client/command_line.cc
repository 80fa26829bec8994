#include "client/command_line.h"

#include <string.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tracectl {
namespace {

// The option `name` ("-e", "--socket") of `app` or of an app above it, as
// CLI11 falls through to the parent.
const CLI::Option* FindOption(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option* option = app->get_option_no_throw(name)) {
      return option;
    }
  }
  return nullptr;
}

bool TakesValue(const CLI::Option& option) {
  return option.get_expected_max() != 0;
}

// Steps over the option at argv[*i] (and its value), as CLI11 reads it:
// "--name", "--name=value", "--name value", "-abc" (flags), "-svalue",
// "-s value". Records the first option nobody knows in `unknown`.
void SkipOption(const CLI::App* app, int argc, const char* const* argv, int* i,
                std::string* unknown) {
  const std::string arg = argv[*i];
  ++*i;
  if (absl::StartsWith(arg, "--")) {
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const CLI::Option* option = FindOption(app, name);
    if (option == nullptr) {
      if (unknown->empty()) *unknown = name;
      return;
    }
    // `--` is never a value: it starts the command.
    if (eq == std::string::npos && TakesValue(*option) && *i < argc &&
        strcmp(argv[*i], "--") != 0) {
      ++*i;
    }
    return;
  }
  for (size_t k = 1; k < arg.size(); ++k) {
    const CLI::Option* option = FindOption(app, std::string{'-', arg[k]});
    if (option == nullptr) {
      if (unknown->empty()) *unknown = std::string{'-', arg[k]};
      return;
    }
    if (TakesValue(*option)) {
      // The rest of the word is the value, or else the next word is.
      if (k + 1 == arg.size() && *i < argc && strcmp(argv[*i], "--") != 0) {
        ++*i;
      }
      return;
    }
  }
}

bool IsOption(const char* arg) { return arg[0] == '-' && arg[1] != '\0'; }

}  // namespace

absl::StatusOr<SplitArguments> SplitCommandLine(
    const CLI::App& app, const std::vector<std::string>& command_takers,
    int argc, const char* const* argv) {
  SplitArguments split;
  split.own_argc = argc;
  const CLI::App* current = &app;
  bool takes_command = false;
  int i = 1;
  while (i < argc) {
    const std::string arg = argv[i];
    if (arg == "--") {
      split.own_argc = i;
      split.has_command = true;
      split.command.assign(argv + i + 1, argv + argc);
      break;
    }
    if (IsOption(argv[i])) {
      SkipOption(current, argc, argv, &i, &split.unknown_option);
      continue;
    }
    if (current == &app) {
      const std::vector<const CLI::App*> found = app.get_subcommands(
          [&](const CLI::App* sub) { return sub->get_name() == arg; });
      if (found.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown command '", arg, "': try tracectl --help"));
      }
      current = found.front();
      split.subcommand = arg;
      takes_command = std::find(command_takers.begin(), command_takers.end(),
                                arg) != command_takers.end();
      ++i;
      continue;
    }
    if (!takes_command) {  // a stray argument, for CLI11 to refuse
      ++i;
      continue;
    }
    split.own_argc = i;
    split.has_command = true;
    split.command.assign(argv + i, argv + argc);
    break;
  }
  return split;
}

std::string StraceOptionHint(const std::string& subcommand,
                             const std::string& option) {
  struct Hint {
    const char* option;
    const char* hint;
  };
  static constexpr Hint kTraceHints[] = {
      {"-C",
       "strace's -C (lines and a summary) is two commands here: tracectl "
       "trace prints the lines, tracectl syscalls the summary"},
      {"--summary",
       "for strace's summary, run tracectl syscalls [-- ] CMD [ARGS...]"},
      {"--summary-only",
       "for strace's summary, run tracectl syscalls [-- ] CMD [ARGS...]"},
      {"-v",
       "-v (unabbreviated structures) is not supported: what tracectl "
       "decodes prints whole, other structures print as pointers"},
      {"-x",
       "-x/-xx (strings in hex) is not supported: strings print escaped as "
       "strace prints them without -x; --json adds each call's raw_args"},
      {"-X",
       "-X (raw constants) is not supported; --json adds each call's "
       "raw_args in hex"},
      {"-P",
       "-P PATH is not supported: use -e trace=%file and grep PATH, or "
       "tracectl files"},
      {"--trace-path",
       "-P PATH is not supported: use -e trace=%file and grep PATH, or "
       "tracectl files"},
      {"-r",
       "relative timestamps (strace -r) are not supported; use -ttt (seconds "
       "since the epoch) or -T (time spent in each call)"},
      {"-i", "the instruction pointer of each call (strace -i) is not shown"},
      {"-E",
       "to set the command's environment, run it through env: tracectl "
       "trace env VAR=VALUE CMD [ARGS...]"},
      {"-b", "detaching on execve (strace -b) is not supported"},
      {"-S", "sorting a summary is tracectl syscalls --sort"},
      {"-c",
       "strace's -c (a table of the calls) is tracectl syscalls [--] CMD "
       "[ARGS...]; to trace tasks by command name, use --comm NAME"},
      {"-w", "strace's -w (wall time in the table) is tracectl syscalls -w"},
      {"-n",
       "syscall numbers (strace -n) are not printed on the lines; --json "
       "gives each call's nr"},
      {"-a", "tracectl does not align the results in columns"},
      {"--trace", "type -e trace=SET"},
      {"--status", "type -e status=SET"},
      {"--output-separately",
       "tracectl writes one output for every process (-ff is -f here); each "
       "line starts with its thread id once several tasks are traced"},
  };
  static constexpr Hint kSyscallsHints[] = {
      {"-C",
       "strace's -C (lines and a summary) is two commands here: tracectl "
       "trace prints the lines, tracectl syscalls the summary"},
      {"-e", "tracectl syscalls counts every call; grep its table"},
      {"-k",
       "for the stack of each call, use tracectl trace -k; for where the "
       "time goes, tracectl flame"},
  };
  if (subcommand == "trace") {
    for (const Hint& h : kTraceHints) {
      if (option == h.option) return h.hint;
    }
  } else if (subcommand == "syscalls") {
    for (const Hint& h : kSyscallsHints) {
      if (option == h.option) return h.hint;
    }
  }
  if (option == "-c") {
    return "to trace tasks by command name, use --comm NAME (strace's -c, a "
           "table of the calls, is tracectl syscalls)";
  }
  return "";
}

}  // namespace tracectl
