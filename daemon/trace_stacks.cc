#include "daemon/trace_stacks.h"

#include <time.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "syscall_events.h"

namespace tracectl {

TraceStacks::TraceStacks(StackSymbolizer::WatchPython watch_python,
                         absl::Time now)
    : symbolizer_(std::move(watch_python), SourceLines::kExecutableOnly),
      start_(now) {}

bool TraceStacks::InBudget(absl::Time now) const {
  return spent_ < kFirstTime + kShare * (now - start_);
}

void TraceStacks::OnSpace(uint32_t tgid, uint64_t mm_id, uint32_t event) {
  const absl::Time begin = absl::Now();
  if (!InBudget(begin)) return;
  if (event == TRACE_SPACE_EXEC_MAPPED) {
    symbolizer_.MapsChanged(static_cast<pid_t>(tgid), mm_id);
  } else {
    symbolizer_.Prepare(static_cast<pid_t>(tgid), mm_id);
  }
  spent_ += absl::Now() - begin;
}

void TraceStacks::OnStack(const syscall_stack& stack) {
  const absl::Time begin = absl::Now();
  const uint32_t tid = stack.sample.tid;
  // The thread's earlier call never came (-z/-Z, or lost): its stack goes.
  pending_.erase(tid);
  if (!InBudget(begin)) {
    ++over_budget_;
    return;
  }
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);  // the clock of enter_ns
  const int64_t now_ns = int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
  if (now_ns - static_cast<int64_t>(stack.enter_ns) >
      absl::ToInt64Nanoseconds(kMaxLag)) {
    ++behind_;
    return;
  }
  if (pending_.size() >= kMaxPending) {
    // The oldest: most likely a thread whose call was not recorded and
    // that made no other since (or exited).
    auto oldest = std::min_element(
        pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
          return a.second.enter_ns < b.second.enter_ns;
        });
    pending_.erase(oldest);
    ++too_many_pending_;
  }
  // One frame more than is kept tells whether the stack was cut.
  const std::vector<SymbolizedFrame> frames =
      symbolizer_.Symbolize(stack.sample, kMaxFrames + 1);
  Pending& pending = pending_[tid];
  pending.enter_ns = stack.enter_ns;
  const size_t kept = std::min(frames.size(), kMaxFrames);
  for (size_t i = 0; i < kept; ++i) {
    const SymbolizedFrame& frame = frames[i];
    v1::Frame* out = pending.stack.add_frames();
    out->set_function(frame.function);
    out->set_module(frame.module);
    out->set_kind(frame.kind);
    out->set_offset(frame.offset);
    out->set_function_offset(frame.function_offset);
    out->set_file(frame.file);
    out->set_line(frame.line);
  }
  if (frames.size() > kept) {
    pending.stack.set_truncated(true);
    ++cut_;
  }
  spent_ += absl::Now() - begin;
}

void TraceStacks::OnRecord(const syscall_event& event, size_t index) {
  auto it = pending_.find(event.tid);
  if (it == pending_.end()) return;
  // Another call's (whose record was not sent): not this one's.
  if (it->second.enter_ns == event.enter_ns && batch_ != nullptr) {
    v1::CallStack* stack = batch_->add_stacks();
    *stack = std::move(it->second.stack);
    stack->set_record(static_cast<uint32_t>(index));
  }
  pending_.erase(it);
}

std::vector<v1::DropCounter> TraceStacks::Drops() const {
  std::vector<v1::DropCounter> drops = symbolizer_.Drops();
  auto add = [&drops](std::string reason, uint64_t count) {
    v1::DropCounter& drop = drops.emplace_back();
    drop.set_reason(std::move(reason));
    drop.set_count(count);
  };
  add(absl::StrCat("call stacks not unwound: over the session's time for "
                   "them (",
                   absl::FormatDuration(kFirstTime), " plus ",
                   static_cast<int>(kShare * 100), "% of the time since)"),
      over_budget_);
  add(absl::StrCat("call stacks not unwound: read more than ",
                   absl::FormatDuration(kMaxLag),
                   " after the call (the daemon was behind)"),
      behind_);
  add(absl::StrCat("call stacks cut at ", kMaxFrames, " frames"), cut_);
  add(absl::StrCat("call stacks dropped: more than ", kMaxPending,
                   " calls in progress with one"),
      too_many_pending_);
  return drops;
}

}  // namespace tracectl
