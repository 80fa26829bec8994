#include "daemon/libbpf_status.h"

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

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

}  // namespace tracectl
