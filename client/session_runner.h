// Runs one streaming session (Syscalls, Trace) from start to exit code:
// starts -- CMD held, opens the stream, releases the command once the
// daemon has attached, handles Ctrl-C and friends, half-closes when the
// command and its descendants are gone, and waits for the command.
#ifndef TRACECTL_CLIENT_SESSION_RUNNER_H_
#define TRACECTL_CLIENT_SESSION_RUNNER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/commands.h"
#include "client/connection.h"
#include "tracectl/v1/tracectl.grpc.pb.h"

namespace tracectl {

// The RPC-independent part; see RunSession.
class SessionDriver {
 public:
  explicit SessionDriver(const GlobalOptions& global);
  ~SessionDriver();

  // With -- CMD: forks the held command and adds it to `target`. Returns 0,
  // or prints why not and returns 126/127.
  int PrepareCommand(v1::Target* target);
  // The stream answered `started`: from now on signals may half-close it
  // through `half_close`; the held command is released (with a seccomp
  // filter for `seccomp_trace`, when the daemon asks for one). False if a
  // signal already gave up on the session.
  bool Started(std::function<void()> half_close,
               const std::vector<uint32_t>& seccomp_trace = {});
  // The stream ended (the final message, or an error).
  void Ended();
  // After the summary is printed: waits for the command, and returns the
  // exit code (the command's, or `session_code` if it failed and the
  // command did not).
  int Finish(int session_code);
  grpc::ClientContext* context() { return &context_; }

 private:
  struct Control;
  const GlobalOptions& global_;
  grpc::ClientContext context_;
  std::shared_ptr<Control> control_;
  std::unique_ptr<class SignalThread> signals_;
};

// The calls a seccomp filter in the held command is to stop on: a trace
// session's started message may name them (the ptrace backend's).
inline std::vector<uint32_t> SeccompTraceOf(
    const v1::TraceServerMessage& message) {
  return {message.started().seccomp_trace().begin(),
          message.started().seccomp_trace().end()};
}
template <typename ServerMessage>
std::vector<uint32_t> SeccompTraceOf(const ServerMessage&) {
  return {};
}

// `open` is the stub's method, `on_message` sees every message but
// `started` and returns true for the final one; `on_end` prints the final
// summary once the stream ended well. Returns the process exit code.
template <typename ClientMessage, typename ServerMessage>
int RunSession(
    const GlobalOptions& global, const ClientMessage& start, v1::Target* target,
    std::unique_ptr<grpc::ClientReaderWriter<ClientMessage, ServerMessage>> (
        v1::Tracer::Stub::*open)(grpc::ClientContext*),
    const std::function<void(const ServerMessage&)>& on_started,
    const std::function<bool(const ServerMessage&)>& on_message,
    const std::function<void()>& on_end) {
  SessionDriver driver(global);
  if (int code = driver.PrepareCommand(target); code != 0) return code;
  auto stub = Connect(global);
  auto stream = ((*stub).*open)(driver.context());
  stream->Write(start);
  ServerMessage message;
  bool read = stream->Read(&message);
  // What comes before `started` (attach progress) goes to on_message; a
  // final summary there is no session.
  while (read && !message.has_started() && !on_message(message)) {
    read = stream->Read(&message);
  }
  if (!read || !message.has_started() ||
      !driver.Started([s = stream.get()] { s->WritesDone(); },
                      SeccompTraceOf(message))) {
    stream->WritesDone();
    driver.Ended();
    return driver.Finish(ReportRpcError(stream->Finish(), global));
  }
  on_started(message);
  bool got_final = false;
  while (stream->Read(&message)) {
    if (on_message(message)) got_final = true;
  }
  driver.Ended();
  grpc::Status status = stream->Finish();
  int code = 0;
  if (status.ok() && !got_final) {
    status = grpc::Status(grpc::StatusCode::INTERNAL,
                          "the daemon ended the session without a summary");
  }
  if (!status.ok()) {
    code = ReportRpcError(status, global);
  } else {
    on_end();
  }
  return driver.Finish(code);
}

// Ctrl-C and friends for sessions on several hosts: the first signal
// half-closes every host's stream (each answers with its summary, as one
// host does), the next cancels them all. Streams are touched under its lock
// only, from the host threads and the signal thread alike.
class HostsStopper {
 public:
  HostsStopper();
  ~HostsStopper();
  HostsStopper(const HostsStopper&) = delete;
  HostsStopper& operator=(const HostsStopper&) = delete;

  // A host's stream is open; after a signal it is half-closed at once.
  void Opened(size_t host, std::function<void()> half_close,
              grpc::ClientContext* context);
  // Half-closes the host's stream once, whoever asks first.
  void HalfClose(size_t host);
  // The stream is done: nothing touches it from now on.
  void Closed(size_t host);

 private:
  struct Open {
    std::function<void()> half_close;
    grpc::ClientContext* context = nullptr;
    bool half_closed = false;
  };
  void OnSignal(int count);

  std::mutex mu_;
  std::map<size_t, Open> open_;
  int signals_ = 0;
  std::unique_ptr<class SignalThread> thread_;
};

// One session on each of several hosts at once (global.hosts), each
// ending at its --duration or at Ctrl-C: `on_message(i, message)` sees host
// i's messages (from its threads: one at a time per host) and returns true
// for the final one. Returns each host's status.
template <typename ClientMessage, typename ServerMessage>
std::vector<grpc::Status> RunOnHosts(
    const GlobalOptions& global, const ClientMessage& start,
    std::unique_ptr<grpc::ClientReaderWriter<ClientMessage, ServerMessage>> (
        v1::Tracer::Stub::*open)(grpc::ClientContext*),
    const std::function<bool(size_t, const ServerMessage&)>& on_message) {
  std::vector<grpc::Status> statuses(global.hosts.size());
  HostsStopper stopper;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < global.hosts.size(); ++i) {
    threads.emplace_back([&, i] {
      GlobalOptions one = global;
      one.host = global.hosts[i];
      grpc::ClientContext context;
      auto stub = Connect(one);
      auto stream = ((*stub).*open)(&context);
      stream->Write(start);
      stopper.Opened(
          i, [s = stream.get()] { s->WritesDone(); }, &context);
      ServerMessage message;
      bool got_final = false;
      while (stream->Read(&message)) {
        if (on_message(i, message) && !got_final) {
          got_final = true;
          stopper.HalfClose(i);
        }
      }
      stopper.Closed(i);
      statuses[i] = stream->Finish();
      if (statuses[i].ok() && !got_final) {
        statuses[i] = grpc::Status(grpc::StatusCode::INTERNAL,
                                   "the session ended without a summary");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return statuses;
}

// Says on stderr that `host` failed with `status` ("tracectl: HOST: ...");
// false, and nothing said, when it did not.
bool SayHostFailed(const std::string& host, const grpc::Status& status);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_SESSION_RUNNER_H_
