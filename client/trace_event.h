// One traced system call as tracectl receives it: the kernel's record
// (bpf/syscall_events.h), split into its header and captures.
#ifndef TRACECTL_CLIENT_TRACE_EVENT_H_
#define TRACECTL_CLIENT_TRACE_EVENT_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "syscall_events.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

struct Capture {
  int arg = 0;
  uint8_t kind = CAPTURE_NONE;  // enum capture_kind
  uint8_t flags = 0;            // CAPTURE_TRUNCATED, CAPTURE_UNREAD, ...
  std::string_view data;        // into the batch the event came from
};

struct TraceEvent {
  syscall_event header{};
  std::vector<Capture> captures;
  // With -k: the call's user stack, innermost first; nullptr when the
  // session has none or this call's was lost (counted).
  const v1::CallStack* stack = nullptr;

  int nr() const { return static_cast<int>(header.nr & ~EVENT_COMPAT_BIT); }
  bool compat() const { return (header.nr & EVENT_COMPAT_BIT) != 0; }
  bool no_return() const { return (header.flags & EVENT_NO_RETURN) != 0; }
  // The capture of argument `arg`, or nullptr.
  const Capture* Find(int arg) const;
  // -errno for a failed call, else 0 (only meaningful when it returned).
  int error() const {
    return header.ret < 0 && header.ret >= -4095 ? static_cast<int>(-header.ret)
                                                 : 0;
  }
};

// Calls `fn` for each record of a batch (records back to back, as tracectld
// sends them), each with its stack from `stacks` (the batch's, in record
// order) when it has one. The views in each event point into `batch`, its
// stack into `stacks`. DATA_LOSS when a record is malformed; the records
// before it have been passed on.
absl::Status ForEachTraceEvent(
    std::string_view batch, const std::function<void(const TraceEvent&)>& fn,
    const google::protobuf::RepeatedPtrField<v1::CallStack>& stacks = {});

// Test support: the bytes of one record, as the kernel writes it.
std::string EncodeTraceEvent(const TraceEvent& event);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_TRACE_EVENT_H_
