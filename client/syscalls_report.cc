#include "client/syscalls_report.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/json.h"
#include "client/strace_format.h"

namespace tracectl {
namespace {

constexpr int kErrnosShown = 3;

uint64_t TotalNs(const v1::SyscallsSummary& summary) {
  uint64_t total = 0;
  for (const v1::SyscallRow& row : summary.syscalls()) total += row.total_ns();
  return total;
}

double Percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / whole;
}

double Micros(uint64_t ns) { return ns / 1000.0; }

uint64_t AverageNs(const v1::SyscallRow& row) {
  return row.calls() == 0 ? 0 : row.total_ns() / row.calls();
}

std::string ErrnoSummary(const v1::SyscallRow& row, int limit) {
  std::vector<std::string> parts;
  for (const v1::ErrnoCount& e : row.errnos()) {
    if (limit > 0 && static_cast<int>(parts.size()) == limit) {
      parts.push_back("...");
      break;
    }
    parts.push_back(absl::StrCat(e.name(), ":", e.count()));
  }
  return absl::StrJoin(parts, " ");
}

// "HOST " cells of several hosts' rows and "    PID COMM " cells of
// per-process rows, else nothing.
std::string WhoCells(const v1::SyscallRow& row, const ReportOptions& options) {
  std::string cells;
  if (options.host_width > 0) {
    auto it = options.row_hosts.find(&row);
    cells = absl::StrFormat("%-*s ", options.host_width,
                            it == options.row_hosts.end() ? "" : it->second);
  }
  // Another user's process names itself: no control character of its comm
  // reaches the terminal.
  if (options.per_process) {
    absl::StrAppendFormat(&cells, "%7d %-15s ", row.pid(), Escaped(row.comm()));
  }
  return cells;
}

// The header and rule of those cells, else nothing.
std::string WhoHeader(const ReportOptions& options) {
  std::string header;
  if (options.host_width > 0) {
    header = absl::StrFormat("%-*s ", options.host_width, "HOST");
  }
  if (options.per_process) header += "    PID COMM            ";
  return header;
}
std::string WhoRule(const ReportOptions& options) {
  std::string rule;
  if (options.host_width > 0) {
    rule = std::string(options.host_width, '-') + " ";
  }
  if (options.per_process) rule += "------- --------------- ";
  return rule;
}

void AppendDrops(const v1::SyscallsSummary& summary, std::string* out) {
  for (const v1::DropCounter& drop : summary.drops()) {
    if (drop.count() > 0) {
      absl::StrAppend(
          out, absl::StrFormat("LOST %u: %s\n", drop.count(), drop.reason()));
    }
  }
}

}  // namespace

absl::StatusOr<SortKey> ParseSortKey(const std::string& name) {
  if (name == "time") return SortKey::kTime;
  if (name == "calls") return SortKey::kCalls;
  if (name == "errors") return SortKey::kErrors;
  if (name == "name") return SortKey::kName;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown sort key '", name, "': use calls, time, errors or name"));
}

void MergeHostSummaries(const std::vector<HostSummary>& hosts,
                        v1::SyscallsSummary* merged, ReportOptions* options) {
  merged->Clear();
  options->row_hosts.clear();
  options->host_width = 4;  // "HOST"
  for (const HostSummary& host : hosts) {
    const v1::SyscallsSummary& summary = *host.summary;
    merged->set_elapsed_seconds(
        std::max(merged->elapsed_seconds(), summary.elapsed_seconds()));
    merged->set_wall_time(summary.wall_time());
    merged->set_count_only(summary.count_only());
    options->host_width =
        std::max(options->host_width, static_cast<int>(host.host.size()));
    for (const v1::SyscallRow& row : summary.syscalls()) {
      *merged->add_syscalls() = row;
    }
    for (const v1::DropCounter& drop : summary.drops()) {
      v1::DropCounter* copy = merged->add_drops();
      *copy = drop;
      copy->set_reason(absl::StrCat(host.host, ": ", drop.reason()));
    }
  }
  // Rows in the order of `hosts`, so each row's host is known by position.
  int at = 0;
  for (const HostSummary& host : hosts) {
    for (int i = 0; i < host.summary->syscalls_size(); ++i) {
      options->row_hosts[&merged->syscalls(at++)] = host.host;
    }
  }
}

std::vector<const v1::SyscallRow*> SortedRows(
    const v1::SyscallsSummary& summary, const ReportOptions& options) {
  std::vector<const v1::SyscallRow*> rows;
  for (const v1::SyscallRow& row : summary.syscalls()) rows.push_back(&row);
  auto tie = [](const v1::SyscallRow* r) {
    return std::make_tuple(r->name(), r->pid());
  };
  std::stable_sort(rows.begin(), rows.end(), [&](auto* a, auto* b) {
    switch (options.sort) {
      case SortKey::kCalls:
        if (a->calls() != b->calls()) return a->calls() > b->calls();
        break;
      case SortKey::kErrors:
        if (a->errors() != b->errors()) return a->errors() > b->errors();
        break;
      case SortKey::kTime:
        if (a->total_ns() != b->total_ns())
          return a->total_ns() > b->total_ns();
        break;
      case SortKey::kName:
        break;
    }
    return tie(a) < tie(b);
  });
  if (options.top > 0 && rows.size() > static_cast<size_t>(options.top)) {
    rows.resize(options.top);
  }
  return rows;
}

namespace {

// Time columns would be all zeros: counts, errors and errnos alone.
std::string CountsTable(const v1::SyscallsSummary& summary,
                        const ReportOptions& options) {
  uint64_t calls = 0, errors = 0;
  for (const v1::SyscallRow& row : summary.syscalls()) {
    calls += row.calls();
    errors += row.errors();
  }
  const std::string who = WhoHeader(options);
  const std::string who_rule = WhoRule(options);
  std::string out =
      absl::StrFormat("%6s %10s %9s %s%-16s %s\n", "% calls", "calls", "errors",
                      who, "syscall", "errors by errno");
  const std::string rule = absl::StrFormat(
      "%s %s %s %s%s", std::string(6, '-'), std::string(10, '-'),
      std::string(9, '-'), who_rule, std::string(16, '-'));
  absl::StrAppend(&out, rule, " ---------------\n");
  for (const v1::SyscallRow* row : SortedRows(summary, options)) {
    absl::StrAppend(
        &out, absl::StrFormat("%6.2f %10u %9u %s%-16s %s",
                              Percent(row->calls(), calls), row->calls(),
                              row->errors(), WhoCells(*row, options),
                              row->name(), ErrnoSummary(*row, kErrnosShown)));
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  absl::StrAppend(&out, rule, "\n");
  absl::StrAppend(
      &out, absl::StrFormat("%6.2f %10u %9u %s%s\n", calls ? 100.0 : 0.0, calls,
                            errors, std::string(who.size(), ' '), "total"));
  AppendDrops(summary, &out);
  return out;
}

}  // namespace

std::string RenderSyscallsTable(const v1::SyscallsSummary& summary,
                                const ReportOptions& options) {
  const uint64_t total_ns = TotalNs(summary);
  uint64_t calls = 0, errors = 0;
  for (const v1::SyscallRow& row : summary.syscalls()) {
    calls += row.calls();
    errors += row.errors();
  }
  std::string out = absl::StrFormat(
      "syscalls of %s over %.3f s: %u call%s, %u error%s; %s\n", options.scope,
      summary.elapsed_seconds(), calls, calls == 1 ? "" : "s", errors,
      errors == 1 ? "" : "s",
      summary.count_only() ? "times were not measured (--count-only)"
      : summary.wall_time()
          ? "times are wall time from entry to exit"
          : "times are CPU time in the calls (-w: wall time)");
  if (summary.count_only())
    return absl::StrCat(out, CountsTable(summary, options));
  const std::string who = WhoHeader(options);
  const std::string who_rule = WhoRule(options);
  absl::StrAppend(
      &out, absl::StrFormat(
                "%6s %10s %11s %11s %11s %11s %10s %9s %s%-16s %s\n", "% time",
                "seconds", "avg us", "max us", "p50 us", "p99 us", "calls",
                "errors", who, "syscall", "errors by errno"));
  const std::string rule = absl::StrFormat(
      "%s %s %s %s %s %s %s %s %s%s", std::string(6, '-'), std::string(10, '-'),
      std::string(11, '-'), std::string(11, '-'), std::string(11, '-'),
      std::string(11, '-'), std::string(10, '-'), std::string(9, '-'), who_rule,
      std::string(16, '-'));
  absl::StrAppend(&out, rule, " ---------------\n");
  for (const v1::SyscallRow* row : SortedRows(summary, options)) {
    const std::string who_cells = WhoCells(*row, options);
    absl::StrAppend(
        &out, absl::StrFormat(
                  "%6.2f %10.6f %11.2f %11.2f %11.2f %11.2f %10u %9u %s%-16s "
                  "%s",
                  Percent(row->total_ns(), total_ns), row->total_ns() / 1e9,
                  Micros(AverageNs(*row)), Micros(row->max_ns()),
                  Micros(row->p50_ns()), Micros(row->p99_ns()), row->calls(),
                  row->errors(), who_cells, row->name(),
                  ErrnoSummary(*row, kErrnosShown)));
    // No trailing blanks when a row has no errors.
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  absl::StrAppend(&out, rule, "\n");
  absl::StrAppend(
      &out,
      absl::StrFormat("%6.2f %10.6f %11s %11s %11s %11s %10u %9u %s%s\n",
                      total_ns ? 100.0 : 0.0, total_ns / 1e9, "", "", "", "",
                      calls, errors, std::string(who.size(), ' '), "total"));
  AppendDrops(summary, &out);
  return out;
}

std::string RenderSyscallsJson(const v1::SyscallsSummary& summary,
                               const ReportOptions& options, bool final) {
  const uint64_t total_ns = TotalNs(summary);
  std::vector<std::string> rows;
  for (const v1::SyscallRow* row : SortedRows(summary, options)) {
    std::vector<std::string> errnos;
    for (const v1::ErrnoCount& e : row->errnos()) {
      errnos.push_back(absl::StrCat(JsonString(e.name()), ":", e.count()));
    }
    std::string fields = absl::StrCat("\"name\":", JsonString(row->name()),
                                      ",\"number\":", row->number());
    if (options.per_process) {
      absl::StrAppend(&fields, ",\"pid\":", row->pid(),
                      ",\"comm\":", JsonString(row->comm()));
    }
    absl::StrAppend(
        &fields, ",\"calls\":", row->calls(), ",\"errors\":", row->errors(),
        ",\"errnos\":{", absl::StrJoin(errnos, ","), "}",
        ",\"total_ns\":", row->total_ns(), ",\"avg_ns\":", AverageNs(*row),
        ",\"max_ns\":", row->max_ns(), ",\"p50_ns\":", row->p50_ns(),
        ",\"p99_ns\":", row->p99_ns(),
        absl::StrFormat(",\"percent_time\":%.4f",
                        Percent(row->total_ns(), total_ns)),
        ",\"histogram_log2_ns\":[", absl::StrJoin(row->histogram(), ","), "]");
    if (!options.host.empty()) {
      absl::StrAppend(&fields, ",\"host\":", JsonString(options.host));
    }
    rows.push_back(absl::StrCat("{", fields, "}"));
  }
  std::vector<std::string> drops;
  for (const v1::DropCounter& drop : summary.drops()) {
    drops.push_back(absl::StrCat(JsonString(drop.reason()), ":", drop.count()));
  }
  return absl::StrCat(
      "{",
      options.host.empty()
          ? ""
          : absl::StrCat("\"host\":", JsonString(options.host), ","),
      "\"final\":", final ? "true" : "false",
      ",\"scope\":", JsonString(options.scope),
      absl::StrFormat(",\"elapsed_seconds\":%.6f", summary.elapsed_seconds()),
      ",\"time\":",
      summary.count_only()  ? "\"none\""
      : summary.wall_time() ? "\"wall\""
                            : "\"cpu\"",
      ",\"syscalls\":[", absl::StrJoin(rows, ","), "],\"drops\":{",
      absl::StrJoin(drops, ","), "}}\n");
}

}  // namespace tracectl
