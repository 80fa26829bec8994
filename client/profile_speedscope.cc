#include "client/profile_speedscope.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/json.h"

namespace tracectl {
namespace {

// The stacks of one process frame: one speedscope profile.
struct Group {
  uint32_t process = 0;  // Index into ProfileView::frames.
  uint64_t total = 0;
  std::vector<const ViewStack*> stacks;
};

bool Valid(const ProfileView& view, const ViewStack& stack) {
  if (stack.frames.empty()) return false;
  for (uint32_t f : stack.frames) {
    if (f >= view.frames.size()) return false;
  }
  return true;
}

}  // namespace

std::string RenderSpeedscope(const ProfileView& view, const std::string& name) {
  std::map<uint32_t, Group> by_process;
  // Shared frames: those used below a process frame, in the view's order.
  std::vector<int64_t> shared(view.frames.size(), -1);
  for (const ViewStack& stack : view.stacks) {
    if (!Valid(view, stack)) continue;
    Group& group = by_process[stack.frames[0]];
    group.process = stack.frames[0];
    group.total += stack.samples;
    group.stacks.push_back(&stack);
    for (size_t i = 1; i < stack.frames.size(); ++i) {
      shared[stack.frames[i]] = 0;
    }
  }
  std::string out =
      "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
      "\"shared\":{\"frames\":[";
  int64_t next = 0;
  for (size_t i = 0; i < view.frames.size(); ++i) {
    if (shared[i] < 0) continue;
    shared[i] = next;
    const ViewFrame& frame = view.frames[i];
    absl::StrAppend(&out, next == 0 ? "" : ",",
                    "{\"name\":", JsonText(FunctionName(frame)));
    if (!frame.module.empty()) {
      absl::StrAppend(&out, ",\"file\":", JsonText(frame.module));
    }
    if (frame.kind == FrameKind::kPython) {
      const auto [file, line] = SplitSource(frame.source);
      if (line > 0) absl::StrAppend(&out, ",\"line\":", line);
    }
    out += "}";
    ++next;
  }
  out += "]},\"profiles\":[";

  // The busiest process first: it is the one speedscope opens with.
  std::vector<const Group*> groups;
  for (const auto& [process, group] : by_process) groups.push_back(&group);
  std::stable_sort(
      groups.begin(), groups.end(), [&view](const Group* a, const Group* b) {
        if (a->total != b->total) return a->total > b->total;
        return view.frames[a->process].name < view.frames[b->process].name;
      });
  for (size_t g = 0; g < groups.size(); ++g) {
    const Group& group = *groups[g];
    absl::StrAppend(&out, g == 0 ? "" : ",", "{\"type\":\"sampled\",\"name\":",
                    JsonText(view.frames[group.process].name),
                    ",\"unit\":\"none\",\"startValue\":0,\"endValue\":",
                    group.total, ",\"samples\":[");
    for (size_t s = 0; s < group.stacks.size(); ++s) {
      const ViewStack& stack = *group.stacks[s];
      out += s == 0 ? "[" : ",[";
      for (size_t i = 1; i < stack.frames.size(); ++i) {
        absl::StrAppend(&out, i == 1 ? "" : ",", shared[stack.frames[i]]);
      }
      out += "]";
    }
    out += "],\"weights\":[";
    for (size_t s = 0; s < group.stacks.size(); ++s) {
      absl::StrAppend(&out, s == 0 ? "" : ",", group.stacks[s]->samples);
    }
    out += "]}";
  }
  absl::StrAppend(&out, "],\"name\":", JsonText(name),
                  ",\"activeProfileIndex\":0,\"exporter\":\"tracectl\"}\n");
  return out;
}

}  // namespace tracectl
