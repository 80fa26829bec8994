// tracectl calls's output: a table in the shape of ltrace -c, or JSON.
#ifndef TRACECTL_CLIENT_CALLS_REPORT_H_
#define TRACECTL_CLIENT_CALLS_REPORT_H_

#include <string>

#include "client/syscalls_report.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// Which rows, in which order: by calls, time (with latency) or name, the
// first `top` (0: all). Totals and percentages stay those of every row.
struct CallsView {
  SortKey sort = SortKey::kCalls;
  int top = 0;
};

std::string RenderCallsTable(const v1::CallsSummary& summary,
                             const std::string& scope,
                             const CallsView& view = {});
std::string RenderCallsJson(const v1::CallsSummary& summary,
                            const std::string& scope, bool final,
                            const CallsView& view = {});

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_CALLS_REPORT_H_
