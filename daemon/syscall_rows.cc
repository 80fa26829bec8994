#include "daemon/syscall_rows.h"

#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/syscall_names.h"
#include "daemon/log2_histogram.h"

namespace tracectl {

void AddCallTime(uint64_t ns, syscall_stats* stats) {
  stats->total_ns += ns;
  stats->max_ns = std::max<uint64_t>(stats->max_ns, ns);
  // The slot of bpf/log2.bpf.h: floor(log2(ns)), 0 for 0 and 1.
  uint32_t slot = ns == 0 ? 0 : 63 - __builtin_clzll(ns);
  if (slot >= SYSCALL_HIST_SLOTS) slot = SYSCALL_HIST_SLOTS - 1;
  ++stats->hist[slot];
}

void AddSyscallRows(const std::map<SyscallRowKey, SyscallRowTotals>& totals,
                    bool per_process, v1::SyscallsSummary* summary) {
  for (const auto& [key, row_totals] : totals) {
    const syscall_stats& v = row_totals.stats;
    if (v.calls == 0) continue;
    v1::SyscallRow* row = summary->add_syscalls();
    const bool compat = key.second & COMPAT_SYSCALL_BIT;
    const int nr = key.second & ~COMPAT_SYSCALL_BIT;
    row->set_name(SyscallName(nr, compat));
    row->set_number(nr);
    row->set_compat(compat);
    if (per_process) {
      row->set_pid(key.first);
      row->set_comm(std::string(v.comm, strnlen(v.comm, sizeof(v.comm))));
    }
    row->set_calls(v.calls);
    row->set_errors(v.errors);
    row->set_total_ns(v.total_ns);
    row->set_max_ns(v.max_ns);
    std::vector<uint64_t> hist(v.hist, v.hist + SYSCALL_HIST_SLOTS);
    row->set_p50_ns(Log2Quantile(hist, 0.50, v.max_ns));
    row->set_p99_ns(Log2Quantile(hist, 0.99, v.max_ns));
    while (!hist.empty() && hist.back() == 0) hist.pop_back();
    for (uint64_t count : hist) row->add_histogram(count);

    std::vector<std::pair<uint64_t, uint32_t>> by_count;
    for (const auto& [err, count] : row_totals.errnos) {
      by_count.push_back({count, err});
    }
    std::sort(
        by_count.begin(), by_count.end(), [](const auto& a, const auto& b) {
          return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
    for (const auto& [count, err] : by_count) {
      v1::ErrnoCount* e = row->add_errnos();
      e->set_name(ErrnoName(err));
      e->set_value(err);
      e->set_count(count);
    }
  }
}

}  // namespace tracectl
