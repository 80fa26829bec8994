// A file descriptor closed when it goes out of scope.
#ifndef TRACECTL_COMMON_UNIQUE_FD_H_
#define TRACECTL_COMMON_UNIQUE_FD_H_

#include <unistd.h>

namespace tracectl {

class UniqueFd {
 public:
  // Takes `fd`; a negative one holds nothing.
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) close(fd_);
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace tracectl

#endif  // TRACECTL_COMMON_UNIQUE_FD_H_
