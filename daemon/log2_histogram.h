// Quantiles from the kernel's log2 latency histograms.
#ifndef TRACECTL_DAEMON_LOG2_HISTOGRAM_H_
#define TRACECTL_DAEMON_LOG2_HISTOGRAM_H_

#include <cstdint>
#include <vector>

namespace tracectl {

// buckets[k] counts values in [2^k, 2^(k+1)) (bucket 0 also holds 0).
// Returns the upper bound of the bucket holding quantile q (0 < q <= 1),
// capped at max_value, which is exact; 0 when the histogram is empty.
uint64_t Log2Quantile(const std::vector<uint64_t>& buckets, double q,
                      uint64_t max_value);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_LOG2_HISTOGRAM_H_
