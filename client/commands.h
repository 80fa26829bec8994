// tracectl's subcommands, one per file. Each Add*Command registers its
// subcommand on `app`; its callback stores the process exit code in
// `*exit_code`.
#ifndef TRACECTL_CLIENT_COMMANDS_H_
#define TRACECTL_CLIENT_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace tracectl {

struct GlobalOptions {
  std::string socket_path;
  // A remote daemon (HOST:PORT) instead of the socket, with the PEM files
  // of mutual TLS (read before connecting), or plain TCP when `insecure`.
  std::string host;
  // Every --host given (several: the subcommand asks them all at once).
  std::vector<std::string> hosts;
  std::string tls_cert, tls_key, tls_ca;
  std::string cert_pem, key_pem, ca_pem;
  bool insecure = false;
  // Everything after a literal `--`, and whether there was one.
  bool has_command = false;
  std::vector<std::string> command;
};

void AddInfoCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddSyscallsCommand(CLI::App& app, const GlobalOptions& global,
                        int* exit_code);
void AddTraceCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code);
void AddFilesCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code);
void AddLibsCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddFlameCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code);
void AddTopCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddCallsCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code);
void AddStackCommand(CLI::App& app, const GlobalOptions& global,
                     int* exit_code);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_COMMANDS_H_
