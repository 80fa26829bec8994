// Renders a syscalls summary: a strace -c style table, or JSON.
#ifndef TRACECTL_CLIENT_SYSCALLS_REPORT_H_
#define TRACECTL_CLIENT_SYSCALLS_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

enum class SortKey { kTime, kCalls, kErrors, kName };

// "time", "calls", "errors" or "name".
absl::StatusOr<SortKey> ParseSortKey(const std::string& name);

struct ReportOptions {
  SortKey sort = SortKey::kTime;
  int top = 0;  // 0: every row
  bool per_process = false;
  // What was traced, in words, from the daemon.
  std::string scope;
  // With several hosts: the one these rows come from (JSON's "host").
  std::string host;
};

// The rows in report order, cut to options.top.
std::vector<const v1::SyscallRow*> SortedRows(
    const v1::SyscallsSummary& summary, const ReportOptions& options);

std::string RenderSyscallsTable(const v1::SyscallsSummary& summary,
                                const ReportOptions& options);

// One JSON object on one line; "final" tells the last one from snapshots.
std::string RenderSyscallsJson(const v1::SyscallsSummary& summary,
                               const ReportOptions& options, bool final = true);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_SYSCALLS_REPORT_H_
