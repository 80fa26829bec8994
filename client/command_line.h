// Where tracectl's own arguments end and the command to run begins, as
// strace, ltrace and perf record take it: `tracectl trace -f ls -l` and
// `tracectl trace -f -- ls -l` both run `ls -l`.
#ifndef TRACECTL_CLIENT_COMMAND_LINE_H_
#define TRACECTL_CLIENT_COMMAND_LINE_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tracectl {

struct SplitArguments {
  // argv[0, own_argc) are tracectl's, for CLI11 to parse.
  int own_argc = 0;
  // The command to run (argv[own_argc + 1, argc) after a `--`, else
  // argv[own_argc, argc)), and whether one was given.
  bool has_command = false;
  std::vector<std::string> command;
  // The first option that neither the subcommand nor tracectl knows, as
  // written ("-k", "--summary"), or empty. CLI11 refuses it later; the
  // caller may first say what to type instead.
  std::string unknown_option;
  // The subcommand named, or empty.
  std::string subcommand;
};

// Splits `argv` as `app` (with its subcommands and options registered)
// would read it: the first argument that is not an option or an option's
// value names the subcommand; for the subcommands in `command_takers`, the
// first such argument after it starts the command, and everything from
// there on belongs to the command untouched, even arguments that look like
// tracectl's options. A literal `--` ends tracectl's arguments anywhere.
// INVALID_ARGUMENT for a subcommand `app` does not have.
absl::StatusOr<SplitArguments> SplitCommandLine(
    const CLI::App& app, const std::vector<std::string>& command_takers,
    int argc, const char* const* argv);

// What to type instead of one of strace's options that `subcommand` does
// not take (e.g. "-k", "-P"), or "" when `option` is not one of those.
std::string StraceOptionHint(const std::string& subcommand,
                             const std::string& option);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_COMMAND_LINE_H_
