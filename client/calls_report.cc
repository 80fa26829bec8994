#include "client/calls_report.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/json.h"
#include "common/escape.h"

namespace tracectl {

std::string RenderCallsTable(const v1::CallsSummary& summary,
                             const std::string& scope) {
  size_t function_width = 8;
  uint64_t total = 0;
  for (const v1::CallRow& row : summary.rows()) {
    function_width = std::max(function_width, Escaped(row.function()).size());
    total += row.calls();
  }
  function_width = std::min<size_t>(function_width, 60);
  std::string out = absl::StrFormat("Calls (%s), %.3f s\n", Escaped(scope),
                                    summary.elapsed_seconds());
  absl::StrAppend(&out,
                  absl::StrFormat("%6s %12s  %-*s  %s\n", "% calls", "calls",
                                  function_width, "function", "library"));
  const std::string rule(6 + 1 + 12 + 2 + function_width + 2 + 12, '-');
  absl::StrAppend(&out, rule, "\n");
  for (const v1::CallRow& row : summary.rows()) {
    const double percent = total ? 100.0 * row.calls() / total : 0.0;
    absl::StrAppend(
        &out, absl::StrFormat("%6.2f %12d  %-*s  %s\n", percent, row.calls(),
                              function_width, Escaped(row.function()),
                              Escaped(row.library())));
  }
  absl::StrAppend(&out, rule, "\n",
                  absl::StrFormat("%6.2f %12d  total\n", 100.0, total));
  for (const v1::DropCounter& drop : summary.drops()) {
    if (drop.count() == 0) continue;
    absl::StrAppend(&out, "lost: ", drop.count(), " ", drop.reason(), "\n");
  }
  return out;
}

std::string RenderCallsJson(const v1::CallsSummary& summary,
                            const std::string& scope, bool final) {
  std::vector<std::string> rows;
  for (const v1::CallRow& row : summary.rows()) {
    rows.push_back(absl::StrCat("{\"function\":", JsonString(row.function()),
                                ",\"library\":", JsonString(row.library()),
                                ",\"calls\":", row.calls(),
                                ",\"path\":", JsonString(row.path()),
                                ",\"offset\":", row.offset(), "}"));
  }
  std::vector<std::string> drops;
  for (const v1::DropCounter& drop : summary.drops()) {
    drops.push_back(absl::StrCat(JsonString(drop.reason()), ":", drop.count()));
  }
  return absl::StrCat(
      "{\"final\":", final ? "true" : "false", ",\"scope\":", JsonString(scope),
      absl::StrFormat(",\"elapsed_seconds\":%.6f", summary.elapsed_seconds()),
      ",\"calls\":[", absl::StrJoin(rows, ","), "],\"drops\":{",
      absl::StrJoin(drops, ","), "}}\n");
}

}  // namespace tracectl
