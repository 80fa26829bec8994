#include "client/calls_report.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/json.h"
#include "common/escape.h"

namespace tracectl {

namespace {

// The function column: a Python function as `function (file)`.
std::string FunctionLabel(const v1::CallRow& row) {
  if (row.python_function().empty() && row.python_file().empty()) {
    return Escaped(row.function());
  }
  return absl::StrCat(Escaped(row.python_function()), " (",
                      Escaped(row.python_file()), ")",
                      row.name_cut() ? " [cut]" : "");
}

std::string UsdtJson(const v1::CallRow& row) {
  if (!row.usdt()) return "";
  std::string out = ",\"usdt\":true";
  if (!row.python_function().empty() || !row.python_file().empty()) {
    absl::StrAppend(&out,
                    ",\"python_function\":", JsonString(row.python_function()),
                    ",\"python_file\":", JsonString(row.python_file()),
                    ",\"name_cut\":", row.name_cut() ? "true" : "false");
  }
  return out;
}

// The rows `view` selects, in its order (by name: function, Python function,
// library); ties keep the daemon's order.
std::vector<const v1::CallRow*> ShownRows(const v1::CallsSummary& summary,
                                          const CallsView& view) {
  std::vector<const v1::CallRow*> rows;
  for (const v1::CallRow& row : summary.rows()) rows.push_back(&row);
  std::stable_sort(rows.begin(), rows.end(), [&](auto* a, auto* b) {
    if (view.sort == SortKey::kCalls && a->calls() != b->calls()) {
      return a->calls() > b->calls();
    }
    if (view.sort == SortKey::kTime && a->total_ns() != b->total_ns()) {
      return a->total_ns() > b->total_ns();
    }
    if (view.sort != SortKey::kName) return false;  // stable: daemon's order
    return std::tie(a->function(), a->python_function(), a->library()) <
           std::tie(b->function(), b->python_function(), b->library());
  });
  return rows;
}

// The first `top` of `rows`, and a line saying how many were left out.
std::string CutToTop(std::vector<const v1::CallRow*>& rows, int top) {
  if (top <= 0 || rows.size() <= static_cast<size_t>(top)) return "";
  const size_t hidden = rows.size() - top;
  rows.resize(top);
  return absl::StrCat("(", hidden,
                      hidden == 1 ? " more function" : " more functions",
                      " not shown: --top ", top, ")\n");
}

// With by_caller, which file made how many calls of which function (latrace's
// question), most first; then what was lost.
std::string CallersAndDrops(const v1::CallsSummary& summary,
                            const std::vector<const v1::CallRow*>& rows) {
  std::string out;
  if (summary.by_caller()) {
    struct Line {
      uint64_t calls;
      std::string text;
    };
    std::vector<Line> lines;
    for (const v1::CallRow* shown : rows) {
      const v1::CallRow& row = *shown;
      for (const v1::CallerCount& caller : row.callers()) {
        lines.push_back(
            {caller.calls(), absl::StrCat(caller.executable() ? "exe " : "",
                                          Escaped(caller.module()), " -> ",
                                          Escaped(row.library()), ":",
                                          Escaped(row.function()))});
      }
    }
    std::stable_sort(
        lines.begin(), lines.end(),
        [](const Line& a, const Line& b) { return a.calls > b.calls; });
    absl::StrAppend(&out, "\nCallers (the file that made each call)\n",
                    absl::StrFormat("%12s  %s\n", "calls", "caller -> callee"));
    for (const Line& line : lines) {
      absl::StrAppend(&out,
                      absl::StrFormat("%12d  %s\n", line.calls, line.text));
    }
    if (lines.empty()) absl::StrAppend(&out, "  (no calls)\n");
  }
  for (const v1::DropCounter& drop : summary.drops()) {
    if (drop.count() == 0) continue;
    absl::StrAppend(&out, "lost: ", drop.count(), " ", drop.reason(), "\n");
  }
  return out;
}

std::string CallersJson(const v1::CallRow& row) {
  std::vector<std::string> callers;
  for (const v1::CallerCount& caller : row.callers()) {
    callers.push_back(
        absl::StrCat("{\"module\":", JsonString(caller.module()),
                     ",\"calls\":", caller.calls(),
                     ",\"exe\":", caller.executable() ? "true" : "false", "}"));
  }
  return absl::StrCat(",\"callers\":[", absl::StrJoin(callers, ","), "]");
}

// ltrace -c's columns, and the tail of the distribution.
std::string RenderLatencyTable(const v1::CallsSummary& summary,
                               const std::string& scope, uint64_t calls,
                               const CallsView& view) {
  uint64_t total_ns = 0;
  size_t function_width = 8;
  for (const v1::CallRow& row : summary.rows()) {
    total_ns += row.total_ns();
    function_width = std::max(function_width, Escaped(row.function()).size());
  }
  function_width = std::min<size_t>(function_width, 60);
  std::string out = absl::StrFormat(
      "Calls (%s), %.3f s; times are wall time from entry to return\n",
      Escaped(scope), summary.elapsed_seconds());
  absl::StrAppend(
      &out,
      absl::StrFormat("%6s %11s %11s %10s %10s %10s %10s  %-*s  %s\n", "% time",
                      "seconds", "usecs/call", "max_us", "p50_us", "p99_us",
                      "calls", function_width, "function", "library"));
  const std::string rule(6 + 11 * 2 + 11 * 4 + 2 + function_width + 12, '-');
  absl::StrAppend(&out, rule, "\n");
  std::vector<const v1::CallRow*> rows = ShownRows(summary, view);
  const std::string cut = CutToTop(rows, view.top);
  for (const v1::CallRow* row : rows) {
    const double percent =
        total_ns ? 100.0 * static_cast<double>(row->total_ns()) / total_ns
                 : 0.0;
    const double avg_us =
        row->timed() ? row->total_ns() / 1000.0 / row->timed() : 0.0;
    absl::StrAppend(
        &out,
        absl::StrFormat("%6.2f %11.6f %11.3f %10.3f %10.3f %10.3f %10d  %-*s  "
                        "%s\n",
                        percent, row->total_ns() / 1e9, avg_us,
                        row->max_ns() / 1000.0, row->p50_ns() / 1000.0,
                        row->p99_ns() / 1000.0, row->calls(), function_width,
                        Escaped(row->function()), Escaped(row->library())));
  }
  absl::StrAppend(
      &out, cut, rule, "\n",
      absl::StrFormat("%6.2f %11.6f %11s %10s %10s %10s %10d  "
                      "total\n",
                      100.0, total_ns / 1e9, "", "", "", "", calls));
  absl::StrAppend(&out, CallersAndDrops(summary, rows));
  return out;
}

std::string LatencyJson(const v1::CallRow& row) {
  return absl::StrCat(
      ",\"timed\":", row.timed(), ",\"total_ns\":", row.total_ns(),
      ",\"avg_ns\":", row.timed() ? row.total_ns() / row.timed() : 0,
      ",\"max_ns\":", row.max_ns(), ",\"p50_ns\":", row.p50_ns(),
      ",\"p99_ns\":", row.p99_ns(), ",\"histogram_log2_ns\":[",
      absl::StrJoin(row.histogram(), ","), "]");
}

// --list: one line per probe, as `-e` would attach it.
std::string RenderCallsList(const v1::CallsSummary& summary,
                            const std::string& scope) {
  std::string out = absl::StrFormat("Probes (%s)\n", Escaped(scope));
  absl::StrAppend(&out, absl::StrFormat("%-40s  %10s  %s\n", "library:function",
                                        "offset", "path"));
  for (const v1::CallRow& row : summary.rows()) {
    absl::StrAppend(&out,
                    absl::StrFormat("%-40s  %#10x  %s\n",
                                    absl::StrCat(Escaped(row.library()), ":",
                                                 Escaped(row.function())),
                                    row.offset(), Escaped(row.path())));
  }
  return out;
}

}  // namespace

std::string RenderCallsTable(const v1::CallsSummary& summary,
                             const std::string& scope, const CallsView& view) {
  if (summary.list_only()) return RenderCallsList(summary, scope);
  size_t function_width = 8;
  uint64_t total = 0;
  for (const v1::CallRow& row : summary.rows()) {
    function_width = std::max(function_width, FunctionLabel(row).size());
    total += row.calls();
  }
  function_width = std::min<size_t>(function_width, 60);
  if (summary.latency()) return RenderLatencyTable(summary, scope, total, view);
  std::string out = absl::StrFormat("Calls (%s), %.3f s\n", Escaped(scope),
                                    summary.elapsed_seconds());
  absl::StrAppend(&out,
                  absl::StrFormat("%6s %12s  %-*s  %s\n", "% calls", "calls",
                                  function_width, "function", "library"));
  const std::string rule(6 + 1 + 12 + 2 + function_width + 2 + 12, '-');
  absl::StrAppend(&out, rule, "\n");
  std::vector<const v1::CallRow*> rows = ShownRows(summary, view);
  const std::string cut = CutToTop(rows, view.top);
  for (const v1::CallRow* row : rows) {
    const double percent = total ? 100.0 * row->calls() / total : 0.0;
    absl::StrAppend(
        &out, absl::StrFormat("%6.2f %12d  %-*s  %s\n", percent, row->calls(),
                              function_width, FunctionLabel(*row),
                              Escaped(row->library())));
  }
  absl::StrAppend(&out, cut, rule, "\n",
                  absl::StrFormat("%6.2f %12d  total\n", 100.0, total));
  absl::StrAppend(&out, CallersAndDrops(summary, rows));
  return out;
}

std::string RenderCallsJson(const v1::CallsSummary& summary,
                            const std::string& scope, bool final,
                            const CallsView& view) {
  std::vector<const v1::CallRow*> shown = ShownRows(summary, view);
  CutToTop(shown, view.top);
  std::vector<std::string> rows;
  for (const v1::CallRow* shown_row : shown) {
    const v1::CallRow& row = *shown_row;
    rows.push_back(absl::StrCat(
        "{\"function\":", JsonString(row.function()),
        ",\"library\":", JsonString(row.library()), ",\"calls\":", row.calls(),
        ",\"path\":", JsonString(row.path()), ",\"offset\":", row.offset(),
        UsdtJson(row), summary.latency() ? LatencyJson(row) : "",
        summary.by_caller() ? CallersJson(row) : "", "}"));
  }
  std::vector<std::string> drops;
  for (const v1::DropCounter& drop : summary.drops()) {
    drops.push_back(absl::StrCat(JsonString(drop.reason()), ":", drop.count()));
  }
  return absl::StrCat(
      "{\"final\":", final ? "true" : "false", ",\"scope\":", JsonString(scope),
      summary.list_only() ? ",\"list_only\":true" : "",
      absl::StrFormat(",\"elapsed_seconds\":%.6f", summary.elapsed_seconds()),
      ",\"calls\":[", absl::StrJoin(rows, ","), "],\"drops\":{",
      absl::StrJoin(drops, ","), "}}\n");
}

}  // namespace tracectl
