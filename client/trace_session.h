// Runs a Trace session for the commands built on it (trace, files, libs):
// the TARGET options, the stream, and the records decoded into events.
#ifndef TRACECTL_CLIENT_TRACE_SESSION_H_
#define TRACECTL_CLIENT_TRACE_SESSION_H_

#include <cstdio>
#include <functional>

#include "client/commands.h"
#include "client/target_options.h"
#include "client/trace_event.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

struct TraceSink {
  std::function<void(const v1::TraceStarted&)> started;
  // Each process's state at the start, when the request asked for them:
  // after `started`, before any event. May be empty.
  std::function<void(const v1::ProcessState&)> initial_state;
  // Each record, in the order the kernel wrote them.
  std::function<void(const TraceEvent&)> event;
  // After a batch of events: a chance to flush output.
  std::function<void()> batch_done;
  // The session ended well: print the summary.
  std::function<void(const v1::TraceSummary&)> end;
};

// `request` carries the command's settings; the target and window come
// from `target`. Returns the exit code.
int RunTraceSession(const GlobalOptions& global, const TargetOptions& target,
                    v1::TraceRequest request, const TraceSink& sink);

// One line per counter that is not zero, "tracectl: 12 records lost: ring
// buffer full", to `out`. Returns how many lines it printed.
int PrintDrops(const google::protobuf::RepeatedPtrField<v1::DropCounter>& drops,
               FILE* out);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_TRACE_SESSION_H_
