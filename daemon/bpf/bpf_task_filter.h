// Sets up bpf/task_filter.bpf.h in any skeleton that includes it: the
// rodata settings before load, the followed processes after load.
#ifndef TRACECTL_DAEMON_BPF_BPF_TASK_FILTER_H_
#define TRACECTL_DAEMON_BPF_BPF_TASK_FILTER_H_

#include <bpf/libbpf.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "daemon/kernel_filter.h"
#include "daemon/bpf/libbpf_status.h"

namespace tracectl {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "comm prefix words are laid out little-endian");

// Before load: writes `filter` into the skeleton's rodata and chooses
// which of the fork/exit programs load.
template <typename Skeleton>
void ConfigureTaskFilter(Skeleton* skel, const KernelFilter& filter) {
  auto* ro = skel->rodata;
  ro->self_tgid = getpid();
  ro->caller_tgid = filter.caller_tgid;
  ro->filter_pids = !filter.tgids.empty();
  // Prefix and mask as the kernel compares them: byte i of the comm is
  // byte i % 8 of word i / 8. Rodata starts zeroed.
  constexpr size_t kMaxPrefix = sizeof(ro->comm_prefix) - 1;
  const size_t len = std::min(filter.comm_prefix.size(), kMaxPrefix);
  memcpy(ro->comm_prefix, filter.comm_prefix.data(), len);
  memset(ro->comm_prefix_mask, 0xff, len);
  ro->filter_uid = filter.uid.has_value();
  ro->target_uid = filter.uid.value_or(0);
  ro->owner_only = filter.owner.has_value();
  if (filter.owner) {
    ro->owner_uid = filter.owner->uid;
    ro->owner_gid = filter.owner->gid;
  }
  bpf_program__set_autoload(skel->progs.follow_fork, filter.follow_children);
  bpf_program__set_autoload(skel->progs.forget_exited, !filter.tgids.empty());
}

// After load, before attach: the processes the session starts with.
template <typename Skeleton>
absl::Status AddTrackedProcesses(Skeleton* skel, const KernelFilter& filter) {
  const uint8_t one = 1;
  for (pid_t tgid : filter.tgids) {
    const uint32_t key = tgid;
    if (bpf_map__update_elem(skel->maps.tracked_tgids, &key, sizeof(key), &one,
                             sizeof(one), BPF_ANY) != 0) {
      return LibbpfError("adding a pid to the filter", -errno);
    }
  }
  return absl::OkStatus();
}

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_BPF_BPF_TASK_FILTER_H_
