// Several hosts for the subcommands whose output is lines (trace, files,
// libs, calls, stack): tracectl runs itself once per host, all at once, and
// merges their lines as they come, each marked with its host.
#ifndef TRACECTL_CLIENT_FAN_OUT_H_
#define TRACECTL_CLIENT_FAN_OUT_H_

#include <string>
#include <vector>

namespace tracectl {

// Whether `subcommand` is served on several hosts by FanOut.
bool FansOut(const std::string& subcommand);

// `line` marked as from `host`: a JSON object gets "host" as its first
// member, any other line the prefix "HOST ".
std::string MarkLine(const std::string& host, const std::string& line);

// Runs `argv` (tracectl's own, its --host options left out) once per host
// with --host HOST, and copies each child's stdout and stderr to ours line
// by line, marked. Ctrl-C reaches the children from the terminal; a signal
// sent to this process alone is passed on. Returns the highest exit status
// of the children (1 if one could not be started).
int FanOut(int argc, char** argv, const std::vector<std::string>& hosts);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_FAN_OUT_H_
