#include "client/top_report.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tracectl {

absl::StatusOr<TopSort> ParseTopSort(const std::string& name) {
  if (name == "self") return TopSort::kSelf;
  if (name == "total") return TopSort::kTotal;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown sort key '", name, "': use self or total"));
}

std::vector<HotFunction> HotFunctions(const ProfileView& view, size_t limit,
                                      TopSort sort) {
  // One row per function (a Python function's lines together: its file is
  // its module), module, process and host.
  using Key = std::tuple<std::string, std::string, uint32_t, std::string>;
  std::map<Key, HotFunction> rows;
  for (const ViewStack& stack : view.stacks) {
    const uint32_t process = ProcessFrame(view, stack);
    // The frames below the process (and the host above it, if any).
    const size_t first =
        stack.frames.empty() || stack.frames[0] == process ? 1 : 2;
    std::set<Key> seen;
    for (size_t i = first; i < stack.frames.size(); ++i) {
      const ViewFrame& frame = view.frames[stack.frames[i]];
      Key key{FunctionName(frame), frame.module, process, stack.host};
      HotFunction& row = rows[key];
      if (row.function.empty()) {
        row.function = FunctionName(frame);
        row.module = frame.module;
        row.process = view.frames[process].name;
        row.host = stack.host;
      }
      if (seen.insert(std::move(key)).second) row.total += stack.samples;
      if (i + 1 == stack.frames.size()) row.self += stack.samples;
    }
  }
  std::vector<HotFunction> out;
  out.reserve(rows.size());
  for (auto& [key, row] : rows) out.push_back(std::move(row));
  if (sort == TopSort::kTotal) {
    std::stable_sort(
        out.begin(), out.end(), [](const HotFunction& a, const HotFunction& b) {
          return std::tie(b.total, b.self) < std::tie(a.total, a.self);
        });
  } else {
    std::stable_sort(
        out.begin(), out.end(), [](const HotFunction& a, const HotFunction& b) {
          return std::tie(b.self, b.total) < std::tie(a.self, a.total);
        });
  }
  if (limit > 0 && out.size() > limit) out.resize(limit);
  return out;
}

std::string RenderTopTable(const ProfileView& view,
                           const std::vector<HotFunction>& rows) {
  const double total = std::max<uint64_t>(view.total_samples, 1);
  const bool hosts =
      std::any_of(rows.begin(), rows.end(),
                  [](const HotFunction& r) { return !r.host.empty(); });
  std::string out = absl::StrFormat("%7s %7s  %-40s %-24s %s\n", "SELF%",
                                    "TOTAL%", "FUNCTION", "MODULE",
                                    hosts ? "PROCESS         HOST" : "PROCESS");
  for (const HotFunction& row : rows) {
    absl::StrAppendFormat(
        &out, "%6.2f%% %6.2f%%  %-40s %-24s %s\n", 100.0 * row.self / total,
        100.0 * row.total / total, row.function, row.module,
        hosts ? absl::StrFormat("%-15s %s", row.process, row.host)
              : row.process);
  }
  return out;
}

}  // namespace tracectl
