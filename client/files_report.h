// tracectl files: every call that takes a path, one line each, and a
// summary of the paths used and the paths that failed.
#ifndef TRACECTL_CLIENT_FILES_REPORT_H_
#define TRACECTL_CLIENT_FILES_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "client/trace_event.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// The -e trace= selection of the files command: every syscall of the table
// with a path argument, by name, comma-separated, in number order.
std::string FilesSelection();

class FilesReport {
 public:
  struct Options {
    bool failed_only = false;
    // Added to the events' CLOCK_MONOTONIC enter_ns to get wall-clock time.
    int64_t realtime_offset_ns = 0;
  };

  explicit FilesReport(Options options);

  // The line to print for this event, with its newline:
  // "HH:MM:SS.micro PID COMM SYSCALL PATH = RESULT" (local time), e.g.
  // "10:11:12.123456 4242 git openat /etc/passwd = 3" or "... = -1 ENOENT".
  // A relative path with a dirfd other than AT_FDCWD is followed by
  // " (dirfd N)"; two paths show as "OLD -> NEW". "" when the call takes no
  // path, or succeeded and failed_only is set. Every path event counts
  // towards the summary, whether its line is shown or not.
  std::string Add(const TraceEvent& event);
  // What a process held open when the session started (--pid).
  void AddInitialState(const v1::ProcessState& state);

  // The descriptors open when the session started, per process in the
  // order given, in fd order, when there were any; then the distinct paths
  // used successfully, in order of first use, with the
  // calls that used them; then the paths that failed, one line per path and
  // errno, in order of first failure; then how many path captures were
  // unreadable or truncated, when some were.
  std::string Summary() const;
  // {"open_at_start":[{"pid":..,"comm":..,"fd":3,"path":..,"kind":"path"}],
  // "used":[{"path":..,"calls":[..]}],"failed":[{"path":..,"errno":"ENOENT",
  // "count":3,"calls":[..]}],"unreadable":0,"truncated":0}; kind is path,
  // socket, pipe, anon_inode or other.
  std::string SummaryJson() const;

 private:
  struct Used {
    std::string path;
    std::vector<std::string> calls;
  };
  struct Failed {
    std::string path;
    int error = 0;
    uint64_t count = 0;
    std::vector<std::string> calls;
  };

  Options options_;
  std::vector<v1::ProcessState> initial_states_;
  std::vector<Used> used_;
  std::map<std::string, size_t> used_index_;
  std::vector<Failed> failed_;
  std::map<std::pair<std::string, int>, size_t> failed_index_;
  uint64_t unreadable_ = 0;
  uint64_t truncated_ = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_FILES_REPORT_H_
