#include "client/trace_session.h"

#include <string>

#include "client/session_runner.h"
#include "syscall_events.h"

namespace tracectl {

int RunTraceSession(const GlobalOptions& global, const TargetOptions& target,
                    v1::TraceRequest request, const TraceSink& sink) {
  v1::TraceClientMessage start;
  *start.mutable_start() = std::move(request);
  v1::TraceRequest* req = start.mutable_start();
  if (int code = BuildTarget(target, global, req->mutable_target(),
                             req->mutable_window());
      code != 0) {
    return code;
  }
  std::optional<v1::TraceSummary> summary;
  absl::Status decode_error;
  bool wrong_version = false;
  const int code = RunSession<v1::TraceClientMessage, v1::TraceServerMessage>(
      global, start, req->mutable_target(), &v1::Tracer::Stub::Trace,
      [&](const v1::TraceServerMessage& message) {
        wrong_version =
            message.started().record_version() != TRACE_RECORD_VERSION;
        sink.started(message.started());
      },
      [&](const v1::TraceServerMessage& message) {
        if (message.has_final()) {
          summary = message.final();
          return true;
        }
        if (message.has_initial_state()) {
          if (sink.initial_state) sink.initial_state(message.initial_state());
          return false;
        }
        if (!message.has_events() || wrong_version || !decode_error.ok()) {
          return false;
        }
        decode_error = ForEachTraceEvent(message.events().records(), sink.event,
                                         message.events().stacks());
        sink.batch_done();
        return false;
      },
      [&] { sink.end(*summary); });
  if (wrong_version) {
    fprintf(stderr,
            "tracectl: the daemon sends trace records of another version "
            "than this tracectl reads (%d); use the same version of both\n",
            TRACE_RECORD_VERSION);
    return code != 0 ? code : 1;
  }
  if (!decode_error.ok()) {
    fprintf(stderr, "tracectl: %s\n",
            std::string(decode_error.message()).c_str());
    return code != 0 ? code : 1;
  }
  return code;
}

int PrintDrops(const google::protobuf::RepeatedPtrField<v1::DropCounter>& drops,
               FILE* out) {
  int lines = 0;
  for (const v1::DropCounter& drop : drops) {
    if (drop.count() == 0) continue;
    fprintf(out, "tracectl: %llu %s\n",
            static_cast<unsigned long long>(drop.count()),
            drop.reason().c_str());
    ++lines;
  }
  return lines;
}

}  // namespace tracectl
