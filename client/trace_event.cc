#include "client/trace_event.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace tracectl {

static_assert(sizeof(capture) == 8);
static_assert(sizeof(syscall_event) == 136);
static_assert(offsetof(syscall_event, args) == 16);
static_assert(offsetof(syscall_event, ret) == 64);
static_assert(offsetof(syscall_event, nr) == 80);
static_assert(offsetof(syscall_event, comm) == 88);
static_assert(offsetof(syscall_event, captures) == 104);

const Capture* TraceEvent::Find(int arg) const {
  for (const Capture& c : captures) {
    if (c.arg == arg) return &c;
  }
  return nullptr;
}

absl::Status ForEachTraceEvent(
    std::string_view batch, const std::function<void(const TraceEvent&)>& fn,
    const google::protobuf::RepeatedPtrField<v1::CallStack>& stacks) {
  TraceEvent event;
  size_t pos = 0;
  uint32_t index = 0;
  int next_stack = 0;
  for (; pos < batch.size(); ++index) {
    if (batch.size() - pos < sizeof(syscall_event)) {
      return absl::DataLossError(
          absl::StrCat("a trace record is cut short at byte ", pos));
    }
    memcpy(&event.header, batch.data() + pos, sizeof(syscall_event));
    const syscall_event& h = event.header;
    const std::string_view data =
        batch.substr(pos + sizeof(syscall_event), h.data_len);
    if (data.size() != h.data_len || h.ncaptures > EVENT_MAX_CAPTURES) {
      return absl::DataLossError(
          absl::StrCat("a malformed trace record at byte ", pos));
    }
    event.captures.clear();
    for (int i = 0; i < h.ncaptures; ++i) {
      const capture& c = h.captures[i];
      if (c.offset + c.len > data.size() || c.arg >= EVENT_ARGS) {
        return absl::DataLossError(absl::StrCat(
            "a trace record's capture is out of bounds at byte ", pos));
      }
      event.captures.push_back(
          Capture{c.arg, c.kind, c.flags, data.substr(c.offset, c.len)});
    }
    // In record order; one out of order or for no record is passed over.
    while (next_stack < stacks.size() && stacks[next_stack].record() < index) {
      ++next_stack;
    }
    event.stack =
        next_stack < stacks.size() && stacks[next_stack].record() == index
            ? &stacks[next_stack]
            : nullptr;
    fn(event);
    pos += sizeof(syscall_event) + h.data_len;
  }
  return absl::OkStatus();
}

std::string EncodeTraceEvent(const TraceEvent& event) {
  syscall_event h = event.header;
  std::string data;
  h.ncaptures = 0;
  for (const Capture& c : event.captures) {
    if (h.ncaptures == EVENT_MAX_CAPTURES) break;
    capture& out = h.captures[h.ncaptures++];
    out.offset = data.size();
    out.len = c.data.size();
    out.arg = c.arg;
    out.kind = c.kind;
    out.flags = c.flags;
    data.append(c.data);
  }
  h.data_len = data.size();
  std::string record(reinterpret_cast<const char*>(&h), sizeof(h));
  record += data;
  return record;
}

}  // namespace tracectl
