#include "daemon/bpf/libbpf_status.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "python_frames.h"  // bpf/

namespace tracectl {

absl::Status LibbpfError(const char* what, int err) {
  char buf[128];
  libbpf_strerror(err, buf, sizeof(buf));
  const std::string message = absl::StrCat(what, ": ", buf);
  if (err == -EPERM || err == -EACCES) {
    return absl::PermissionDeniedError(message);
  }
  return absl::UnavailableError(message);
}

uint64_t SumPerCpuCounter(const bpf_map* map, uint32_t index) {
  const int ncpus = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(ncpus > 0 ? ncpus : 1);
  uint64_t total = 0;
  if (bpf_map__lookup_elem(map, &index, sizeof(index), per_cpu.data(),
                           per_cpu.size() * sizeof(uint64_t), 0) == 0) {
    for (uint64_t c : per_cpu) total += c;
  }
  return total;
}

int PollAndConsume(ring_buffer* ring, absl::Duration timeout, int wake_fd) {
  pollfd fds[2] = {{ring_buffer__epoll_fd(ring), POLLIN, 0},
                   {wake_fd, POLLIN, 0}};
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(timeout));
  poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(ms));
  const int err = ring_buffer__consume(ring);
  return err == -EINTR ? 0 : err;
}

absl::Status WatchPythonIn(bpf_map* python_procs, uint32_t tgid,
                           const python_proc& config) {
  const int err = bpf_map__update_elem(python_procs, &tgid, sizeof(tgid),
                                       &config, sizeof(config), BPF_ANY);
  if (err != 0) return LibbpfError("adding a Python process", err);
  return absl::OkStatus();
}

}  // namespace tracectl
