// Where a command's report goes: a stream of its own on standard output
// (standard error for trace), or -o FILE, as strace's -o. Opened before the
// session starts, so that a bad path fails before anything is traced, and
// close-on-exec, so that a traced command never holds it: with -- CMD and
// -o FILE the command's output stays the command's alone.
#ifndef TRACECTL_CLIENT_REPORT_OUTPUT_H_
#define TRACECTL_CLIENT_REPORT_OUTPUT_H_

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tracectl {

class ReportOutput {
 public:
  enum class FileMode {
    // FILE is truncated and written as the report comes (trace's lines).
    kInPlace,
    // A regular FILE is written aside and renamed into place by
    // Close(true): a session that fails leaves an old FILE as it was.
    // Other files (/dev/null, a FIFO) are written in place.
    kReplaceAtEnd,
  };

  // `path` empty: `default_fd` (STDOUT_FILENO or STDERR_FILENO). The
  // stream is fully buffered: flush it where a reader should see output.
  // INVALID_ARGUMENT "cannot write PATH: REASON" when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<ReportOutput>> Open(
      const std::string& path, int default_fd, FileMode mode);
  ~ReportOutput();  // without Close: an aside copy is removed
  ReportOutput(const ReportOutput&) = delete;
  ReportOutput& operator=(const ReportOutput&) = delete;

  FILE* stream() const { return stream_; }
  // The report goes to a terminal: redraw in place, and the like.
  bool is_terminal() const;
  // Flushes and closes; later calls do nothing. `keep`: the report is
  // whole, rename an aside copy into place; else remove it (and report no
  // error). An error says which file failed.
  absl::Status Close(bool keep);

 private:
  ReportOutput() = default;
  FILE* stream_ = nullptr;
  std::string name_;       // for messages: the path, or "stdout"/"stderr"
  std::string path_;       // -o FILE, when written aside
  std::string temp_path_;  // the aside copy; empty when written in place
};

// Registers -o,--output FILE on a subcommand; `instead` names where the
// report goes without it.
void AddOutputOption(CLI::App* cmd, std::string* path,
                     const std::string& instead = "stdout");

// The exit code once the report is closed: `code`, or, when `closed` is an
// error, 1 (unless `code` already says something failed), the error
// printed on stderr.
int ReportClosed(const absl::Status& closed, int code);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_REPORT_OUTPUT_H_
