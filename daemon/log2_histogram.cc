#include "daemon/log2_histogram.h"

#include <algorithm>
#include <cmath>

namespace tracectl {

uint64_t Log2Quantile(const std::vector<uint64_t>& buckets, double q,
                      uint64_t max_value) {
  uint64_t total = 0;
  for (uint64_t count : buckets) total += count;
  if (total == 0) return 0;
  // The rank of the quantile, 1-based: the smallest value with at least
  // q*total values at or below it.
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * total)));
  uint64_t seen = 0;
  for (size_t k = 0; k < buckets.size(); ++k) {
    seen += buckets[k];
    if (seen >= rank) {
      const uint64_t upper = k >= 63 ? UINT64_MAX : (uint64_t{2} << k) - 1;
      return std::min(upper, max_value);
    }
  }
  return max_value;
}

}  // namespace tracectl
