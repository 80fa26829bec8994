// tracectl top's table: the functions the samples were in, hottest first.
#ifndef TRACECTL_CLIENT_TOP_REPORT_H_
#define TRACECTL_CLIENT_TOP_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "client/profile_view.h"

namespace tracectl {

struct HotFunction {
  std::string function;
  std::string module;
  std::string process;  // comm
  // Samples with the function as the leaf, and with it anywhere on the
  // stack (counted once per sample, recursion or not).
  uint64_t self = 0;
  uint64_t total = 0;
};

// Rows by (function, module, process), by self samples then total, at most
// `limit` (0: all).
std::vector<HotFunction> HotFunctions(const ProfileView& view, size_t limit);

// The table, with a header line; percentages of view.total_samples.
std::string RenderTopTable(const ProfileView& view,
                           const std::vector<HotFunction>& rows);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_TOP_REPORT_H_
