// The CPUs a per-CPU perf event is opened on.
#ifndef TRACECTL_DAEMON_ONLINE_CPUS_H_
#define TRACECTL_DAEMON_ONLINE_CPUS_H_

#include <vector>

namespace tracectl {

// The CPUs online now, from /sys/devices/system/cpu/online ("0-3,5"); all
// configured CPUs when that cannot be read.
std::vector<int> OnlineCpus();

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_ONLINE_CPUS_H_
