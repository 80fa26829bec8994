#include "client/report_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tracectl {
namespace {

constexpr size_t kBufferBytes = 1 << 16;

absl::Status CannotWrite(const std::string& name, int err) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot write ", name, ": ", strerror(err)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReportOutput>> ReportOutput::Open(
    const std::string& path, int default_fd, FileMode mode) {
  std::unique_ptr<ReportOutput> out(new ReportOutput());
  int fd = -1;
  if (path.empty()) {
    out->name_ = default_fd == STDERR_FILENO ? "stderr" : "stdout";
    fd = fcntl(default_fd, F_DUPFD_CLOEXEC, 3);
  } else {
    out->name_ = path;
    // Written aside and renamed over FILE at the end only when that changes
    // nothing but the contents: FILE is new, or a regular file with one
    // link (not a symlink, whose target would stay as it was). It keeps
    // its mode. Anything else, or a directory tracectl may not create a
    // file in, is written in place, as strace -o does.
    struct stat st;
    const bool exists = lstat(path.c_str(), &st) == 0;
    const bool replaceable =
        !exists || (S_ISREG(st.st_mode) && st.st_nlink == 1);
    if (mode == FileMode::kReplaceAtEnd && replaceable) {
      out->path_ = path;
      out->temp_path_ = path + ".tracectl-XXXXXX";
      fd = mkostemp(out->temp_path_.data(), O_CLOEXEC);
      if (fd >= 0) {
        mode_t file_mode = st.st_mode & 07777;
        if (!exists) {
          const mode_t mask = umask(0);
          umask(mask);
          file_mode = 0666 & ~mask;
        }
        fchmod(fd, file_mode);
      } else {
        out->temp_path_.clear();
      }
    }
    if (fd < 0) {
      fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    }
  }
  if (fd < 0) return CannotWrite(out->name_, errno);
  out->stream_ = fdopen(fd, "w");
  if (out->stream_ == nullptr) {
    const int err = errno;
    close(fd);
    if (!out->temp_path_.empty()) unlink(out->temp_path_.c_str());
    return CannotWrite(out->name_, err);
  }
  setvbuf(out->stream_, nullptr, _IOFBF, kBufferBytes);
  return out;
}

ReportOutput::~ReportOutput() {
  if (stream_ != nullptr) (void)Close(false);
}

bool ReportOutput::is_terminal() const {
  return stream_ != nullptr && isatty(fileno(stream_));
}

absl::Status ReportOutput::Close(bool keep) {
  if (stream_ == nullptr) return absl::OkStatus();
  int err = 0;
  errno = 0;
  if (fflush(stream_) != 0 || ferror(stream_)) err = errno != 0 ? errno : EIO;
  if (fclose(stream_) != 0 && err == 0) err = errno;
  stream_ = nullptr;
  if (!temp_path_.empty()) {
    if (keep && err == 0 && rename(temp_path_.c_str(), path_.c_str()) == 0) {
      return absl::OkStatus();
    }
    if (keep && err == 0) err = errno;
    unlink(temp_path_.c_str());
  }
  // What is not kept has nothing to report.
  return err == 0 || !keep ? absl::OkStatus() : CannotWrite(name_, err);
}

void AddOutputOption(CLI::App* cmd, std::string* path,
                     const std::string& instead) {
  cmd->add_option("-o,--output", *path,
                  "write the report to FILE instead of " + instead)
      ->type_name("FILE");
}

int ReportClosed(const absl::Status& closed, int code) {
  if (closed.ok()) return code;
  fprintf(stderr, "tracectl: %s\n", std::string(closed.message()).c_str());
  return code != 0 ? code : 1;
}

}  // namespace tracectl
