// One streaming session call: a bidirectional stream whose first client
// message is `start` and whose later messages (`stop`, or a half-close) end
// it with a final message. The RPC-specific part is Serve(), which runs on
// a worker thread of its own; this class does the gRPC side: reads, one
// write in flight, an idempotent finish, cancellation.
//
// ClientMessage has a `start` field and ServerMessage is what Serve sends.
#ifndef TRACECTL_DAEMON_STREAM_SESSION_H_
#define TRACECTL_DAEMON_STREAM_SESSION_H_

#include <grpcpp/support/server_callback.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/grpc_status.h"
#include "daemon/session_registry.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

template <typename ClientMessage, typename ServerMessage>
class StreamSession
    : public grpc::ServerBidiReactor<ClientMessage, ServerMessage>,
      public StoppableSession {
 public:
  using Request = std::decay_t<decltype(std::declval<ClientMessage>().start())>;

  // What ends a wait in WaitForStop.
  enum class Wake { kDeadline, kStop, kCancelled };

  // Registers itself in `registry` from its start until OnDone.
  explicit StreamSession(SessionRegistry* registry) : registry_(registry) {
    registry_->AwaitStart(this);
    this->StartRead(&incoming_);
  }

  void RequestStop() override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      stop_requested_ = true;
    }
    OnStopOrCancel();
  }

  void ExpireStart() override {
    FinishAfterWrites(
        grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                     "no start message within " +
                         absl::FormatDuration(registry_->start_timeout())));
  }

  void OnReadDone(bool ok) override {
    if (!got_start_) {
      got_start_ = true;
      // Too late: the registry is ending the call.
      if (!registry_->Started(this)) return;
      if (!ok || !incoming_.has_start()) {
        FinishAfterWrites(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       "the first message must be a start"));
        return;
      }
      // Registered once whole: a stop may come at once, and calls virtuals.
      registry_->Add(this);
      worker_ = std::thread([this, request = incoming_.start()] {
        FinishAfterWrites(ToGrpcStatus(Serve(request)));
      });
      this->StartRead(&incoming_);
      return;
    }
    // `stop`, a half-close, or anything else after the start ends the
    // session with its final message.
    RequestStop();
    if (ok) this->StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      outgoing_.pop_front();
      if (!ok) {
        // The stream is broken: the client is gone.
        outgoing_.clear();
        cancelled_ = true;
      }
      if (!outgoing_.empty()) {
        this->StartWrite(&outgoing_.front());
      } else {
        writing_ = false;
        MaybeFinishLocked();
      }
    }
    if (!ok) OnStopOrCancel();
  }

  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    OnStopOrCancel();
  }

  void OnDone() override {
    // gRPC runs OnDone on its own threads, after Finish, which the worker
    // calls last: the join is short.
    if (worker_.joinable()) worker_.join();
    registry_->Remove(this);
    registry_->Started(this);  // no longer awaited, if it still was
    Unref();
  }

 protected:
  // Runs on the worker thread; its status ends the call after every queued
  // write is out.
  virtual absl::Status Serve(const Request& request) = 0;

  // Called after a stop request or a cancellation, on any thread: a Serve
  // that blocks outside WaitForStop wakes itself up here.
  virtual void OnStopOrCancel() {}

  // Queues a message; dropped if the call is over.
  void Send(ServerMessage message) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    SendLocked(std::move(message));
  }

  // Queues a message that a later replaceable one may overwrite while it
  // waits behind the write in flight: a client that reads slowly costs the
  // daemon one pending message, not a growing queue.
  void SendReplaceable(ServerMessage message) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (outgoing_.size() >= 2 && last_replaceable_) {
      outgoing_.back() = std::move(message);  // not in flight: replace it
      return;
    }
    SendLocked(std::move(message));
    last_replaceable_ = true;
  }

  // Queues a message once fewer than `max_queued` wait, blocking until
  // then. False if the call ended meanwhile (nothing was queued).
  bool SendWhenRoom(ServerMessage message, size_t max_queued)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto room = [this, max_queued]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return cancelled_ || finish_requested_ || outgoing_.size() < max_queued;
    };
    mu_.Await(absl::Condition(&room));
    if (cancelled_ || finish_requested_) return false;
    SendLocked(std::move(message));
    return true;
  }

  // Waits until `deadline`, a stop request or cancellation.
  Wake WaitForStop(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_requested_ || cancelled_;
    };
    mu_.AwaitWithDeadline(absl::Condition(&woken), deadline);
    if (cancelled_) return Wake::kCancelled;
    if (stop_requested_) return Wake::kStop;
    return Wake::kDeadline;
  }

  // A counting session's life after its start: a snapshot each interval of
  // `window` (replaceable: a slow reader gets the newest), and at the end of
  // its duration or at a stop the final summary, sent after `counter` (the
  // BPF programs) is gone. Counter has Snapshot() and Finish() returning
  // StatusOr of ServerMessage's snapshot and final messages.
  template <typename Counter>
  absl::Status ServeWindow(const v1::Window& window,
                           std::unique_ptr<Counter> counter) {
    const absl::Time begin = absl::Now();
    const absl::Time end =
        window.has_duration_seconds()
            ? begin + absl::Seconds(window.duration_seconds())
            : absl::InfiniteFuture();
    const absl::Duration interval =
        window.has_interval_seconds() ? absl::Seconds(window.interval_seconds())
                                      : absl::InfiniteDuration();
    absl::Time next_snapshot = begin + interval;
    for (;;) {
      const Wake wake = WaitForStop(std::min(end, next_snapshot));
      if (wake == Wake::kCancelled) {
        return absl::CancelledError("the client went away");
      }
      const absl::Time now = absl::Now();
      if (wake == Wake::kStop || now >= end) {
        ServerMessage final_message;
        auto summary = counter->Finish();
        if (!summary.ok()) return summary.status();
        *final_message.mutable_final() = std::move(*summary);
        counter.reset();  // detach before the client hears the end
        Send(std::move(final_message));
        return absl::OkStatus();
      }
      if (now >= next_snapshot) {
        ServerMessage snapshot;
        auto summary = counter->Snapshot();
        if (!summary.ok()) return summary.status();
        *snapshot.mutable_snapshot() = std::move(*summary);
        SendReplaceable(std::move(snapshot));
        next_snapshot += interval;
        // A snapshot slower than the interval skips ticks, never bunches
        // them.
        if (next_snapshot <= now) next_snapshot = now + interval;
      }
    }
  }

  bool Cancelled() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

 private:
  void SendLocked(ServerMessage message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (cancelled_ || finish_requested_) return;
    outgoing_.push_back(std::move(message));
    last_replaceable_ = false;
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&outgoing_.front());
    }
  }

  // Finishes once every queued write is out; idempotent.
  void FinishAfterWrites(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (finish_requested_) return;
    finish_requested_ = true;
    finish_status_ = std::move(status);
    MaybeFinishLocked();
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finish_requested_ && !writing_ && !finished_) {
      finished_ = true;
      this->Finish(finish_status_);
    }
  }

  SessionRegistry* registry_;
  ClientMessage incoming_;
  bool got_start_ = false;  // only touched by reads, which are serial
  std::thread worker_;

  absl::Mutex mu_;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<ServerMessage> outgoing_ ABSL_GUARDED_BY(mu_);
  bool last_replaceable_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_STREAM_SESSION_H_
