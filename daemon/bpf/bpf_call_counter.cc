#include "daemon/bpf/bpf_call_counter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "calls.h"
#include "calls.skel.h"
#include "daemon/bpf/bpf_task_filter.h"
#include "daemon/bpf/libbpf_status.h"
#include "daemon/log2_histogram.h"
#include "daemon/status_macros.h"

namespace tracectl {
namespace {

constexpr const char* kDropReasons[CALLS_DROP_REASON_COUNT] = {
    "followed children: pid map full",
    "calls of a probe without a row",
    "calls nested too deep to be timed",
    "calls not timed: no task storage",
    "calls whose caller found no row: caller map full",
    "callers not looked up: mm lock busy",
    "Python calls not counted by function: function map full",
    "Python calls whose function or file could not be read",
};

// The kernel's uprobe_multi link (Linux 6.6), newer than Debian 12's libbpf
// 1.1 and uapi headers: its attach type, its return flag, and the fields
// of union bpf_attr's link_create it reads (include/uapi/linux/bpf.h).
constexpr uint32_t kTraceUprobeMulti = 48;  // BPF_TRACE_UPROBE_MULTI
constexpr uint32_t kUprobeMultiReturn = 1;  // BPF_F_UPROBE_MULTI_RETURN
struct UprobeMultiAttr {
  uint32_t prog_fd;
  uint32_t target_fd;
  uint32_t attach_type;
  uint32_t flags;
  uint64_t path;
  uint64_t offsets;
  uint64_t ref_ctr_offsets;
  uint64_t cookies;
  uint32_t cnt;
  uint32_t multi_flags;
  uint32_t pid;
  uint32_t pad;
};

// One link placing `prog_fd` at every offset of `path` (in process `pid`
// only, unless -1), each with its cookie. Returns the link's fd, or
// -errno. One system call for all; closing the link takes every probe out
// with one wait for the handlers still running, where a perf-event uprobe
// waits once per probe (about 90 ms each on 6.18).
int AttachUprobeMulti(int prog_fd, const char* path,
                      const std::vector<uint64_t>& offsets,
                      const std::vector<uint64_t>& cookies, bool is_return,
                      pid_t pid) {
  UprobeMultiAttr attr{};
  attr.prog_fd = prog_fd;
  attr.attach_type = kTraceUprobeMulti;
  attr.path = reinterpret_cast<uintptr_t>(path);
  attr.offsets = reinterpret_cast<uintptr_t>(offsets.data());
  attr.cookies = reinterpret_cast<uintptr_t>(cookies.data());
  attr.cnt = offsets.size();
  attr.multi_flags = is_return ? kUprobeMultiReturn : 0;
  attr.pid = pid > 0 ? pid : 0;
  const long fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
  return fd < 0 ? -errno : static_cast<int>(fd);
}

// A NUL-terminated field of a BPF key, at most its size.
std::string KeyString(const char* bytes, size_t size) {
  return std::string(bytes, strnlen(bytes, size));
}

// What a caller row is named when its file is not (see calls.h).
std::string CallerName(const caller_key& key, int names_fd) {
  if (key.dev == ~0U && key.ino == ~0ULL) return "[unknown]";
  if (key.dev == 0 && key.ino == 0) return "[anonymous]";
  caller_file_key file{};
  file.dev = key.dev;
  file.ino = key.ino;
  char name[CALLER_NAME_LEN + 1] = {};
  if (bpf_map_lookup_elem(names_fd, &file, name) != 0) {
    return absl::StrCat("[file ", key.dev >> 20, ":", key.dev & 0xfffff, ":",
                        key.ino, "]");
  }
  return name;
}

// A row naming `probe`, with its calls.
v1::CallRow* AddProbeRow(v1::CallsSummary& summary, const CallProbe& probe,
                         uint64_t calls) {
  v1::CallRow* r = summary.add_rows();
  r->set_function(probe.function);
  r->set_library(probe.library);
  r->set_calls(calls);
  r->set_usdt(probe.usdt);
  r->set_path(probe.file->path());
  r->set_offset(probe.offset);
  return r;
}

// Calls `visit(key, count)` for each key of the per-CPU hash `fd` of u64
// counts, summed over CPUs. Rows are only ever added to these maps, so the
// walk sees every key that was there when it began; it stops after
// `max_keys` (the map's size).
template <typename Key, typename Visit>
absl::Status ForEachPerCpuCount(int fd, int max_keys, Visit visit) {
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return LibbpfError("counting CPUs", ncpus);
  std::vector<uint64_t> per_cpu(ncpus);
  Key key{};
  Key next{};
  const Key* previous = nullptr;
  for (int seen = 0; seen < max_keys; ++seen) {
    if (bpf_map_get_next_key(fd, previous, &next) != 0) break;
    key = next;
    previous = &key;
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) continue;
    uint64_t count = 0;
    for (uint64_t c : per_cpu) count += c;
    visit(key, count);
  }
  return absl::OkStatus();
}

}  // namespace

// Probed by loading a program of that attach type and asking for a link on
// "/" (no regular file): EBADF where the link type exists, EINVAL where it
// does not.
bool KernelHasUprobeMulti() {
  static const bool has = [] {
    const bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0},
        {.code = BPF_JMP | BPF_EXIT},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, opts,
                .expected_attach_type =
                    static_cast<bpf_attach_type>(kTraceUprobeMulti));
    const int prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "probe_multi", "GPL",
                                   insns, 2, &opts);
    if (prog < 0) return false;
    const std::vector<uint64_t> offsets = {0};
    const std::vector<uint64_t> cookies = {0};
    const int link = AttachUprobeMulti(prog, "/", offsets, cookies, false, -1);
    if (link >= 0) close(link);
    close(prog);
    return link == -EBADF;
  }();
  return has;
}

absl::StatusOr<std::unique_ptr<BpfCallCounter>> BpfCallCounter::Start(
    const KernelFilter& filter, std::vector<CallProbe> probes,
    const CallCountSettings& settings, bool uprobe_multi) {
  if (probes.empty() || probes.size() > MAX_CALL_PROBES) {
    return absl::InvalidArgumentError(absl::StrCat(
        "between 1 and ", MAX_CALL_PROBES, " probes, not ", probes.size()));
  }
  calls_bpf* skel = calls_bpf::open();
  if (skel == nullptr) return LibbpfError("opening BPF object", -errno);
  std::unique_ptr<BpfCallCounter> session(
      new BpfCallCounter(skel, std::move(probes), settings));
  const bool latency = settings.latency;
  ConfigureTaskFilter(skel, filter);
  skel->rodata->latency = latency;
  skel->rodata->by_caller = settings.by_caller;
  if (!settings.by_caller) {
    // Unused: the smallest maps the kernel takes.
    bpf_map__set_max_entries(skel->maps.caller_calls, 1);
    bpf_map__set_max_entries(skel->maps.caller_names, 1);
  }
  const bool usdt =
      std::any_of(session->probes_.begin(), session->probes_.end(),
                  [](const CallProbe& p) { return p.usdt; });
  const bool python =
      std::any_of(session->probes_.begin(), session->probes_.end(),
                  [](const CallProbe& p) { return p.python_function; });
  if (!python) bpf_map__set_max_entries(skel->maps.py_functions, 1);
  bpf_program__set_autoload(skel->progs.count_usdt, usdt);
  bpf_program__set_autoload(skel->progs.time_call, latency);
  const bool multi = uprobe_multi;
  if (multi) {
    const auto type = static_cast<bpf_attach_type>(kTraceUprobeMulti);
    bpf_program__set_expected_attach_type(skel->progs.count_call, type);
    bpf_program__set_expected_attach_type(skel->progs.time_call, type);
  }
  if (int err = calls_bpf::load(skel); err != 0) {
    return LibbpfError("loading BPF programs", err);
  }
  RETURN_IF_ERROR(AddTrackedProcesses(skel, filter));
  // The fork and exit programs of the task filter.
  if (int err = calls_bpf::attach(skel); err != 0) {
    return LibbpfError("attaching the task filter", err);
  }
  // A uprobe with a pid is a breakpoint in that process only: the rest of
  // the host does not trap.
  // A child inherits the breakpoints at fork, but the kernel then removes
  // them from it as not the pid's: counting children takes probes placed
  // everywhere (settings.children).
  const pid_t pid =
      filter.tgids.size() == 1 && !settings.children ? filter.tgids[0] : -1;
  session->unattached_.assign(session->probes_.size(), false);
  // With uprobe_multi, the functions of one file share a link.
  std::map<std::string, std::vector<size_t>> rows_of_file;
  for (size_t i = 0; i < session->probes_.size(); ++i) {
    const CallProbe& probe = session->probes_[i];
    if (multi && !probe.usdt) {
      rows_of_file[probe.file->AttachPath()].push_back(i);
      continue;
    }
    RETURN_IF_ERROR(session->AttachOne(i, pid));
  }
  for (const auto& [path, rows] : rows_of_file) {
    RETURN_IF_ERROR(session->AttachMulti(path, rows, pid));
  }
  if (session->links_.empty() && session->multi_links_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no probe could be attached: ", session->skipped_.front()));
  }
  session->started_ = absl::Now();
  session->read_at_ = session->started_;
  return session;
}

void BpfCallCounter::Skip(size_t row, int err) {
  const CallProbe& probe = probes_[row];
  unattached_[row] = true;
  skipped_.push_back(absl::StrCat(probe.library, ":", probe.function, " (",
                                  strerror(err), ")"));
}

absl::Status BpfCallCounter::AttachOne(size_t row, pid_t pid) {
  const CallProbe& probe = probes_[row];
  bpf_link* link = nullptr;
  if (probe.usdt) {
    // libbpf reads the notes again (through the same open file), puts a
    // uprobe on every site, with the semaphore's offset when it has one
    // (the kernel then raises it in each process it traps), and fills
    // the argument specs the BPF side reads.
    LIBBPF_OPTS(
        bpf_usdt_opts, usdt_opts,
        .usdt_cookie =
            row | (probe.python_function ? USDT_COOKIE_PYTHON_FUNCTION : 0));
    link = bpf_program__attach_usdt(
        skel_->progs.count_usdt, pid, probe.file->AttachPath().c_str(),
        probe.provider.c_str(), probe.name.c_str(), &usdt_opts);
  } else {
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = row);
    link = bpf_program__attach_uprobe_opts(skel_->progs.count_call, pid,
                                           probe.file->AttachPath().c_str(),
                                           probe.offset, &opts);
  }
  if (link == nullptr && probe.from_glob) {
    // Seen on 6.18 for some IFUNC implementations next to each other
    // (libc's strchr and strchrnul): ENOENT from the kernel.
    Skip(row, errno);
    return absl::OkStatus();
  }
  if (link == nullptr) {
    const int err = -errno;
    const std::string what =
        probe.usdt ? absl::StrCat("attaching USDT probe ", probe.function,
                                  " of ", probe.library)
                   : absl::StrCat("attaching a uprobe to ", probe.library, ":",
                                  probe.function);
    return LibbpfError(what.c_str(), err);
  }
  links_.push_back(link);
  if (!latency_ || probe.usdt) return absl::OkStatus();
  LIBBPF_OPTS(bpf_uprobe_opts, ret_opts, .bpf_cookie = row, .retprobe = true);
  bpf_link* ret = bpf_program__attach_uprobe_opts(
      skel_->progs.time_call, pid, probe.file->AttachPath().c_str(),
      probe.offset, &ret_opts);
  if (ret == nullptr) {
    const int err = -errno;
    const std::string what = absl::StrCat("attaching a return probe to ",
                                          probe.library, ":", probe.function);
    return LibbpfError(what.c_str(), err);
  }
  return_links_.push_back(ret);
  return absl::OkStatus();
}

absl::Status BpfCallCounter::AttachMulti(const std::string& path,
                                         const std::vector<size_t>& rows,
                                         pid_t pid) {
  std::vector<uint64_t> offsets;
  std::vector<uint64_t> cookies;
  for (size_t row : rows) {
    offsets.push_back(probes_[row].offset);
    cookies.push_back(row);
  }
  const int link =
      AttachUprobeMulti(bpf_program__fd(skel_->progs.count_call), path.c_str(),
                        offsets, cookies, /*is_return=*/false, pid);
  if (link < 0 && rows.size() > 1) {
    // One function the kernel refuses fails the whole link: halves, until
    // the refused ones are found (skipped when a glob matched them, named
    // in the error otherwise).
    const auto middle = rows.begin() + rows.size() / 2;
    RETURN_IF_ERROR(AttachMulti(path, {rows.begin(), middle}, pid));
    return AttachMulti(path, {middle, rows.end()}, pid);
  }
  if (link < 0) {
    const CallProbe& probe = probes_[rows[0]];
    if (probe.from_glob) {
      Skip(rows[0], -link);
      return absl::OkStatus();
    }
    const std::string what = absl::StrCat("attaching a uprobe to ",
                                          probe.library, ":", probe.function);
    return LibbpfError(what.c_str(), link);
  }
  multi_links_.push_back(link);
  if (!latency_) return absl::OkStatus();
  const int ret =
      AttachUprobeMulti(bpf_program__fd(skel_->progs.time_call), path.c_str(),
                        offsets, cookies, /*is_return=*/true, pid);
  if (ret < 0) {
    const CallProbe& probe = probes_[rows[0]];
    const std::string what =
        absl::StrCat("attaching return probes to ", rows.size(),
                     " functions of ", probe.library);
    return LibbpfError(what.c_str(), ret);
  }
  multi_return_links_.push_back(ret);
  return absl::OkStatus();
}

void BpfCallCounter::Detach() {
  for (bpf_link* link : return_links_) bpf_link__destroy(link);
  return_links_.clear();
  for (int fd : multi_return_links_) close(fd);
  multi_return_links_.clear();
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
  for (int fd : multi_links_) close(fd);
  multi_links_.clear();
}

BpfCallCounter::~BpfCallCounter() {
  Detach();
  calls_bpf::destroy(skel_);
}

absl::StatusOr<v1::CallsSummary> BpfCallCounter::Snapshot() {
  if (!finished_) read_at_ = absl::Now();
  return Summary();
}

absl::StatusOr<v1::CallsSummary> BpfCallCounter::Finish() {
  if (!finished_) {
    read_at_ = absl::Now();
    // A uprobe handler runs to its end before its link is gone.
    Detach();
    finished_ = true;
  }
  return Summary();
}

absl::StatusOr<v1::CallsSummary> BpfCallCounter::Summary() {
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return LibbpfError("counting CPUs", ncpus);
  std::vector<call_stats> values(ncpus);
  const int fd = bpf_map__fd(skel_->maps.stats);
  v1::CallsSummary summary;
  summary.set_latency(latency_);
  summary.set_by_caller(by_caller_);
  // The summary's row of each probe (cookie), -1 when it has none.
  std::vector<int> row_index(probes_.size(), -1);
  // Calls of each Python function probe (its rows are per function).
  std::map<uint32_t, uint64_t> python_calls;
  summary.set_elapsed_seconds(absl::ToDoubleSeconds(read_at_ - started_));
  for (uint32_t row = 0; row < probes_.size(); ++row) {
    if (unattached_[row]) continue;
    if (bpf_map_lookup_elem(fd, &row, values.data()) != 0) {
      return LibbpfError("reading call counts", -errno);
    }
    call_stats sum{};
    for (const call_stats& v : values) {
      sum.calls += v.calls;
      sum.timed += v.timed;
      sum.total_ns += v.total_ns;
      sum.max_ns = std::max(sum.max_ns, v.max_ns);
      for (int k = 0; k < CALLS_HIST_SLOTS; ++k) sum.hist[k] += v.hist[k];
    }
    const CallProbe& probe = probes_[row];
    if (probe.python_function) {
      // Rows per Python function below; this one only if there are none.
      python_calls[row] = sum.calls;
      continue;
    }
    row_index[row] = summary.rows_size();
    v1::CallRow* r = AddProbeRow(summary, probe, sum.calls);
    if (latency_) {
      r->set_timed(sum.timed);
      r->set_total_ns(sum.total_ns);
      r->set_max_ns(sum.max_ns);
      std::vector<uint64_t> hist(sum.hist, sum.hist + CALLS_HIST_SLOTS);
      r->set_p50_ns(Log2Quantile(hist, 0.50, sum.max_ns));
      r->set_p99_ns(Log2Quantile(hist, 0.99, sum.max_ns));
      while (!hist.empty() && hist.back() == 0) hist.pop_back();
      for (uint64_t count : hist) r->add_histogram(count);
    }
  }
  if (!python_calls.empty()) {
    RETURN_IF_ERROR(AddPythonFunctions(summary, python_calls));
  }
  if (by_caller_) RETURN_IF_ERROR(AddCallers(summary, row_index));
  std::stable_sort(summary.mutable_rows()->begin(),
                   summary.mutable_rows()->end(),
                   [](const v1::CallRow& a, const v1::CallRow& b) {
                     return a.calls() > b.calls();
                   });
  for (uint32_t reason = 0; reason < CALLS_DROP_REASON_COUNT; ++reason) {
    v1::DropCounter* drop = summary.add_drops();
    drop->set_reason(kDropReasons[reason]);
    drop->set_count(SumPerCpuCounter(skel_->maps.drops, reason));
  }
  return summary;
}

absl::Status BpfCallCounter::AddPythonFunctions(
    v1::CallsSummary& summary,
    const std::map<uint32_t, uint64_t>& probe_calls) {
  std::map<uint32_t, int> rows_of_probe;
  RETURN_IF_ERROR(ForEachPerCpuCount<py_function_key>(
      bpf_map__fd(skel_->maps.py_functions), MAX_PY_FUNCTION_ROWS,
      [&](const py_function_key& key, uint64_t calls) {
        if (!probe_calls.count(key.row)) return;
        v1::CallRow* r = AddProbeRow(summary, probes_[key.row], calls);
        r->set_python_function(KeyString(key.function, sizeof(key.function)));
        r->set_python_file(KeyString(key.file, sizeof(key.file)));
        r->set_name_cut(key.cut != 0);
        ++rows_of_probe[key.row];
      }));
  // A probe that counted no Python function still shows, with its calls.
  for (const auto& [row, calls] : probe_calls) {
    if (!rows_of_probe.count(row)) AddProbeRow(summary, probes_[row], calls);
  }
  return absl::OkStatus();
}

absl::Status BpfCallCounter::AddCallers(v1::CallsSummary& summary,
                                        const std::vector<int>& row_index) {
  const int names_fd = bpf_map__fd(skel_->maps.caller_names);
  RETURN_IF_ERROR(ForEachPerCpuCount<caller_key>(
      bpf_map__fd(skel_->maps.caller_calls), MAX_CALLER_ROWS,
      [&](const caller_key& key, uint64_t calls) {
        const uint32_t row = key.row & ~CALLER_FROM_EXE;
        if (row >= row_index.size() || row_index[row] < 0) return;
        v1::CallerCount* caller =
            summary.mutable_rows(row_index[row])->add_callers();
        caller->set_module(CallerName(key, names_fd));
        caller->set_calls(calls);
        caller->set_executable((key.row & CALLER_FROM_EXE) != 0);
      }));
  for (v1::CallRow& row : *summary.mutable_rows()) {
    std::stable_sort(row.mutable_callers()->begin(),
                     row.mutable_callers()->end(),
                     [](const v1::CallerCount& a, const v1::CallerCount& b) {
                       return a.calls() != b.calls() ? a.calls() > b.calls()
                                                     : a.module() < b.module();
                     });
  }
  return absl::OkStatus();
}

}  // namespace tracectl
