// tracectl top's table: the functions the samples were in, hottest first.
#ifndef TRACECTL_CLIENT_TOP_REPORT_H_
#define TRACECTL_CLIENT_TOP_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/profile_view.h"

namespace tracectl {

struct HotFunction {
  std::string function;
  std::string module;
  std::string process;  // comm
  std::string host;     // with several hosts
  // Samples with the function as the leaf, and with it anywhere on the
  // stack (counted once per sample, recursion or not).
  uint64_t self = 0;
  uint64_t total = 0;
};

// The order of the rows: by self samples then total, or by total then self
// (callers first: main, the Python functions, what they spend their time in).
enum class TopSort { kSelf, kTotal };

// "self" or "total".
absl::StatusOr<TopSort> ParseTopSort(const std::string& name);

// Rows by (function, module, process, host), in `sort` order, at most `limit`
// (0: all).
std::vector<HotFunction> HotFunctions(const ProfileView& view, size_t limit,
                                      TopSort sort = TopSort::kSelf);

// The table, with a header line; percentages of view.total_samples. A HOST
// column when the rows come from several hosts.
std::string RenderTopTable(const ProfileView& view,
                           const std::vector<HotFunction>& rows);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_TOP_REPORT_H_
