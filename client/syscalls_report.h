// Renders a syscalls summary: a strace -c style table, or JSON.
#ifndef TRACECTL_CLIENT_SYSCALLS_REPORT_H_
#define TRACECTL_CLIENT_SYSCALLS_REPORT_H_

#include <map>
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
  // Several hosts in one table: each row's host (a HOST column), and the
  // column's width.
  std::map<const v1::SyscallRow*, std::string> row_hosts;
  int host_width = 0;
};

struct HostSummary {
  std::string host;
  const v1::SyscallsSummary* summary = nullptr;
};

// Several hosts' summaries as one, into `merged`: every row kept, each
// with its host in options->row_hosts; the longest elapsed time; each
// host's drops, the reason prefixed with the host.
void MergeHostSummaries(const std::vector<HostSummary>& hosts,
                        v1::SyscallsSummary* merged, ReportOptions* options);

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
