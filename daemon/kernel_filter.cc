#include "daemon/kernel_filter.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/escape.h"

namespace tracectl {

std::string KernelFilter::Describe() const {
  std::vector<std::string> parts;
  if (!tgids.empty()) {
    parts.push_back(absl::StrCat(tgids.size() == 1 ? "pid " : "pids ",
                                 absl::StrJoin(tgids, ","),
                                 follow_children ? " and children" : ""));
  }
  if (!comm_prefix.empty())
    parts.push_back(absl::StrCat("comm ", EscapedText(comm_prefix, 64), "*"));
  if (uid) parts.push_back(absl::StrCat("uid ", *uid));
  if (owner) {
    parts.push_back(absl::StrCat("tasks uid ", owner->uid, "/gid ", owner->gid,
                                 " may ptrace"));
  }
  if (parts.empty()) return "all tasks";
  return absl::StrJoin(parts, ", ");
}

}  // namespace tracectl
