#include "client/session_runner.h"

#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "client/launcher.h"
#include "client/signal_thread.h"

namespace tracectl {

// What the signal thread and the command's waiter share with the session.
// Shared-owned: a waiter still blocked on lingering descendants when
// tracectl gives up on them may outlive the driver.
struct SessionDriver::Control {
  enum class Phase { kStarting, kRunning, kEnded };

  explicit Control(bool runs_command) : runs_command(runs_command) {}

  const bool runs_command;  // -- CMD, known before the command is forked
  std::mutex mu;
  std::condition_variable cv;
  Phase phase = Phase::kStarting;
  std::function<void()> half_close;  // set while running
  std::shared_ptr<Launcher> launcher;
  bool stop_sent = false;
  bool stop_pending = false;     // a signal came before the session started
  bool cancelled = false;        // ... and gave up on it
  bool command_done = false;     // the command and all its descendants exited
  bool abandoned = false;        // stop waiting for them
  bool command_running = false;  // when the session ended
  std::thread waiter;

  // Half-closes the stream: the daemon answers with the final summary.
  void StopLocked() {
    if (phase == Phase::kRunning && !stop_sent) {
      half_close();
      stop_sent = true;
    }
  }

  // Ctrl-C and friends. Before the session starts, with -- CMD: give up
  // (the command never runs); otherwise the first stops the session as
  // soon as it starts. System-wide or --pid: the first stops the session
  // (final summary), the next gives up.
  // With -- CMD: the first goes to the command (a terminal's reaches it by
  // itself), also while tracectl waits for it after the session ended; the
  // next stops waiting for it or its lingering descendants; the one after
  // that gives up.
  void OnSignal(grpc::ClientContext& context, const siginfo_t& info,
                int count) {
    std::lock_guard<std::mutex> lock(mu);
    if (phase == Phase::kStarting) {
      if (!runs_command && count == 1) {
        stop_pending = true;
      } else {
        cancelled = true;  // the command must not be released
        context.TryCancel();
      }
      return;
    }
    if (launcher != nullptr && !launcher->CommandExited() && count == 1) {
      if (info.si_code != SI_KERNEL) kill(launcher->pid(), info.si_signo);
      return;
    }
    abandoned = true;
    cv.notify_all();
    if (phase == Phase::kEnded) return;  // summary out
    if (count > (launcher != nullptr ? 2 : 1)) context.TryCancel();
    StopLocked();
  }
};

SessionDriver::SessionDriver(const GlobalOptions& global)
    : global_(global), control_(std::make_shared<Control>(global.has_command)) {
  signals_ =
      std::make_unique<SignalThread>([this](const siginfo_t& info, int count) {
        control_->OnSignal(context_, info, count);
      });
}

SessionDriver::~SessionDriver() {
  signals_.reset();  // no signal touches the context from now on
  std::lock_guard<std::mutex> lock(control_->mu);
  if (control_->waiter.joinable()) control_->waiter.detach();
}

int SessionDriver::PrepareCommand(v1::Target* target) {
  if (!global_.has_command) return 0;
  absl::StatusOr<std::unique_ptr<Launcher>> prepared =
      Launcher::Prepare(global_.command);
  if (!prepared.ok()) {
    fprintf(stderr, "tracectl: %s\n",
            std::string(prepared.status().message()).c_str());
    return prepared.status().code() == absl::StatusCode::kNotFound ? 127 : 126;
  }
  std::lock_guard<std::mutex> lock(control_->mu);
  control_->launcher = std::move(*prepared);
  target->add_pids(control_->launcher->pid());
  target->set_follow_children(true);
  target->set_held_command(true);
  return 0;
}

bool SessionDriver::Started(std::function<void()> half_close,
                            const std::vector<uint32_t>& seccomp_trace) {
  std::shared_ptr<Launcher> launcher;
  {
    std::lock_guard<std::mutex> lock(control_->mu);
    // Interrupted as it started: the held command exits without running.
    if (control_->cancelled) return false;
    control_->half_close = std::move(half_close);
    control_->phase = Control::Phase::kRunning;
    if (control_->stop_pending) control_->StopLocked();
    launcher = control_->launcher;
  }
  if (launcher) {
    launcher->Release(seccomp_trace);
    std::lock_guard<std::mutex> lock(control_->mu);
    control_->waiter = std::thread([control = control_] {
      control->launcher->WaitAll();
      std::lock_guard<std::mutex> lock(control->mu);
      control->command_done = true;
      control->cv.notify_all();
      control->StopLocked();
    });
  }
  return true;
}

void SessionDriver::Ended() {
  std::lock_guard<std::mutex> lock(control_->mu);
  // Neither the waiter nor a signal touches the stream from now on.
  const bool was_running = control_->phase == Control::Phase::kRunning;
  control_->phase = Control::Phase::kEnded;
  control_->half_close = nullptr;
  control_->command_running = was_running && control_->launcher &&
                              !control_->command_done && !control_->abandoned;
}

int SessionDriver::Finish(int session_code) {
  std::shared_ptr<Launcher> launcher;
  {
    std::lock_guard<std::mutex> lock(control_->mu);
    // Never released: the held child exits without running the command.
    if (!control_->waiter.joinable()) return session_code;
    launcher = control_->launcher;
  }
  if (control_->command_running) {
    // The session ended first (--duration, or the daemon stopped): the
    // command goes on untraced, and its exit status is still ours.
    fprintf(stderr,
            "tracectl: the session has ended; waiting for %s to exit "
            "(Ctrl-C to stop waiting)\n",
            global_.command[0].c_str());
  }
  std::thread waiter;
  {
    std::unique_lock<std::mutex> lock(control_->mu);
    control_->cv.wait(
        lock, [&] { return control_->command_done || control_->abandoned; });
    if (control_->command_done) {
      waiter = std::move(control_->waiter);
    } else {
      control_->waiter.detach();  // descendants still run; nobody waits
    }
  }
  if (waiter.joinable()) waiter.join();
  if (!launcher->CommandExited()) return 130;
  return session_code != 0 && launcher->ExitCode() == 0 ? session_code
                                                        : launcher->ExitCode();
}

HostsStopper::HostsStopper()
    : thread_(std::make_unique<SignalThread>(
          [this](const siginfo_t&, int count) { OnSignal(count); })) {}

HostsStopper::~HostsStopper() {
  thread_.reset();  // no signal touches a stream from now on
}

void HostsStopper::Opened(size_t host, std::function<void()> half_close,
                          grpc::ClientContext* context) {
  std::lock_guard<std::mutex> lock(mu_);
  Open& open = open_[host];
  open.half_close = std::move(half_close);
  open.context = context;
  if (signals_ > 1) context->TryCancel();
  if (signals_ > 0) {
    open.half_close();
    open.half_closed = true;
  }
}

void HostsStopper::HalfClose(size_t host) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(host);
  if (it == open_.end() || it->second.half_closed) return;
  it->second.half_close();
  it->second.half_closed = true;
}

void HostsStopper::Closed(size_t host) {
  std::lock_guard<std::mutex> lock(mu_);
  open_.erase(host);
}

void HostsStopper::OnSignal(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  signals_ = count;
  for (auto& [host, open] : open_) {
    if (count > 1) {
      open.context->TryCancel();
    } else if (!open.half_closed) {
      open.half_close();
      open.half_closed = true;
    }
  }
}

bool SayHostFailed(const std::string& host, const grpc::Status& status) {
  if (status.ok()) return false;
  fprintf(stderr, "tracectl: %s: %s\n", host.c_str(),
          status.error_message().c_str());
  return true;
}

}  // namespace tracectl
