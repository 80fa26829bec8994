// Takes SIGINT, SIGTERM and SIGHUP on a thread of its own, so that a
// session can be stopped cleanly (final summary, as strace -c on Ctrl-C)
// while other threads block in gRPC calls.
#ifndef TRACECTL_CLIENT_SIGNAL_THREAD_H_
#define TRACECTL_CLIENT_SIGNAL_THREAD_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace tracectl {

class SignalThread {
 public:
  // Blocks the signals in the calling thread (and so in every thread and
  // child it starts later) and hands each one to `handler`, with how many
  // have come so far, on the new thread.
  explicit SignalThread(
      std::function<void(const siginfo_t& info, int count)> handler);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_SIGNAL_THREAD_H_
