#include "client/signal_thread.h"

#include <pthread.h>

#include <ctime>

namespace tracectl {
namespace {

// Sent by the destructor to the thread itself: it ends the wait at once
// instead of at the next tick.
int WakeSignal() { return SIGRTMIN; }

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, WakeSignal());
  return signals;
}

}  // namespace

SignalThread::SignalThread(
    std::function<void(const siginfo_t& info, int count)> handler) {
  const sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  thread_ = std::thread([this, handler = std::move(handler), signals] {
    const timespec tick{0, 100 * 1000 * 1000};
    int count = 0;
    while (!done_) {
      siginfo_t info;
      if (sigtimedwait(&signals, &info, &tick) > 0 &&
          info.si_signo != WakeSignal()) {
        handler(info, ++count);
      }
    }
  });
}

SignalThread::~SignalThread() {
  done_ = true;
  pthread_kill(thread_.native_handle(), WakeSignal());
  thread_.join();
}

}  // namespace tracectl
