// trace -k: the user stacks the kernel copied at the entry of traced calls,
// unwound and named as they come (while their processes most likely live),
// then attached to their calls' records as these are read. Source lines for
// the executable's frames only: a library's line table (libc's, say) takes
// tens of milliseconds to load for each process, while its calls wait.
//
// Bounded: at most kMaxFrames frames a stack, at most kMaxPending calls in
// progress with a stack waiting for their record (the oldest goes),
// symbolizing takes at most kFirstTime plus kShare of the session's time
// (reading a large binary's tables the first time is slow; a loop of calls
// comes fast), and stacks read more than kMaxLag after their call are
// passed over. What is cut or skipped is counted.
#ifndef TRACECTL_DAEMON_TRACE_STACKS_H_
#define TRACECTL_DAEMON_TRACE_STACKS_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "daemon/backend.h"
#include "daemon/stack_symbolizer.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

class TraceStacks final : public TraceStackSink {
 public:
  static constexpr size_t kMaxFrames = 64;
  static constexpr size_t kMaxPending = 4096;
  static constexpr absl::Duration kFirstTime = absl::Seconds(2);
  static constexpr double kShare = 0.25;
  // A stack read this long after its call is not unwound: the daemon is
  // behind (unwinding takes far longer than a call), and catches up by
  // passing stacks over rather than by letting the buffer fill and lose
  // the calls' records.
  static constexpr absl::Duration kMaxLag = absl::Milliseconds(20);

  // `watch_python` is the tracer's WatchPython; `now` the session's start.
  TraceStacks(StackSymbolizer::WatchPython watch_python, absl::Time now);

  // Where the stacks of the records read next go.
  void StartBatch(v1::TraceEvents* batch) { batch_ = batch; }

  void OnSpace(uint32_t tgid, uint64_t mm_id, uint32_t event) override;
  void OnStack(const syscall_stack& stack) override;
  void OnRecord(const syscall_event& event, size_t index) override;

  // Forgets the address spaces idle since `before`.
  void Prune(absl::Time before) { symbolizer_.Prune(before); }
  // Counters of stacks not sent whole, for the session's drops.
  std::vector<v1::DropCounter> Drops() const;

 private:
  struct Pending {
    uint64_t enter_ns = 0;
    v1::CallStack stack;
  };
  // Whether symbolizing may go on now.
  bool InBudget(absl::Time now) const;

  StackSymbolizer symbolizer_;
  const absl::Time start_;
  absl::Duration spent_;
  v1::TraceEvents* batch_ = nullptr;
  // By thread: the stack of the call it is in.
  absl::flat_hash_map<uint32_t, Pending> pending_;
  uint64_t over_budget_ = 0;
  uint64_t behind_ = 0;
  uint64_t cut_ = 0;
  uint64_t too_many_pending_ = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_TRACE_STACKS_H_
