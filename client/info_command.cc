// tracectl info: what the daemon is and what it lets you see.
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/json.h"
#include "common/escape.h"

namespace tracectl {
namespace {

constexpr auto kInfoTimeout = std::chrono::seconds(5);

int RunInfoOf(const GlobalOptions& global, bool json) {
  auto stub = Connect(global);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kInfoTimeout);
  v1::GetInfoResponse info;
  grpc::Status status = stub->GetInfo(&context, v1::GetInfoRequest(), &info);
  if (!status.ok()) return ReportRpcError(status, global);
  const v1::Caller& c = info.caller();
  if (json) {
    std::vector<std::string> features;
    for (const std::string& f : info.features())
      features.push_back(JsonString(f));
    printf(
        "%s\n",
        absl::StrCat(
            "{\"version\":", JsonString(info.version()),
            ",\"kernel\":", JsonString(info.kernel()),
            ",\"hostname\":", JsonString(info.hostname()),
            ",\"backend\":", JsonString(info.backend()),
            ",\"backend_limits\":", JsonString(info.backend_limits()),
            ",\"features\":[", absl::StrJoin(features, ","),
            "],\"caller\":{\"uid\":", c.uid(), ",\"gid\":", c.gid(),
            ",\"pid\":", c.pid(), ",\"user\":", JsonString(c.user()),
            ",\"admin\":", c.admin() ? "true" : "false",
            ",\"remote_identity\":", JsonString(c.remote_identity()),
            "},\"scope\":", JsonString(info.scope()),
            global.host.empty()
                ? absl::StrCat(",\"socket\":", JsonString(global.socket_path))
                : absl::StrCat(",\"host\":", JsonString(global.host)),
            "}")
            .c_str());
    return 0;
  }
  printf("tracectld %s on %s, kernel %s\n", info.version().c_str(),
         info.hostname().c_str(), info.kernel().c_str());
  printf("backend:  %s (%s)\n", info.backend().c_str(),
         absl::StrJoin(info.features(), ", ").c_str());
  if (!info.backend_limits().empty()) {
    printf("limits:   %s\n", info.backend_limits().c_str());
  }
  if (c.remote_identity().empty()) {
    printf("you:      %s (uid %u, gid %u, pid %d)%s\n", c.user().c_str(),
           c.uid(), c.gid(), c.pid(), c.admin() ? ", administrator" : "");
  } else {
    printf("you:      remote identity %s, as %s (uid %u, gid %u)%s\n",
           EscapedText(c.remote_identity(), 256).c_str(), c.user().c_str(),
           c.uid(), c.gid(), c.admin() ? ", administrator" : "");
  }
  printf("scope:    %s\n", info.scope().c_str());
  if (global.host.empty()) {
    printf("socket:   %s\n", global.socket_path.c_str());
  } else {
    printf("host:     %s (%s)\n", global.host.c_str(),
           global.insecure ? "plain TCP" : "mutual TLS");
  }
  return 0;
}

// Each host in turn (a blank line between the texts; JSON: a line each).
int RunInfo(const GlobalOptions& global, bool json) {
  if (global.has_command) return UsageError("info takes no command after --");
  if (global.hosts.size() <= 1) return RunInfoOf(global, json);
  int code = 0;
  for (size_t i = 0; i < global.hosts.size(); ++i) {
    if (i > 0 && !json) printf("\n");
    GlobalOptions one = global;
    one.host = global.hosts[i];
    fflush(stdout);
    if (const int failed = RunInfoOf(one, json); failed != 0) code = failed;
  }
  return code;
}

}  // namespace

void AddInfoCommand(CLI::App& app, const GlobalOptions& global,
                    int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "info", "Show the daemon's version, kernel, backend, and your scope");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print one JSON object");
  cmd->callback(
      [&global, exit_code, json] { *exit_code = RunInfo(global, *json); });
}

}  // namespace tracectl
