#include "daemon/python/process_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"

namespace tracectl::python {
namespace {

template <typename T>
absl::StatusOr<T> ReadValue(MemoryReader& reader, uint64_t address) {
  T value;
  absl::Status status = reader.Read(address, &value, sizeof(value));
  if (!status.ok()) return status;
  return value;
}

}  // namespace

absl::StatusOr<uint64_t> MemoryReader::ReadPointer(uint64_t address) {
  return ReadValue<uint64_t>(*this, address);
}
absl::StatusOr<int32_t> MemoryReader::ReadInt32(uint64_t address) {
  return ReadValue<int32_t>(*this, address);
}
absl::StatusOr<uint32_t> MemoryReader::ReadUint32(uint64_t address) {
  return ReadValue<uint32_t>(*this, address);
}
absl::StatusOr<uint8_t> MemoryReader::ReadUint8(uint64_t address) {
  return ReadValue<uint8_t>(*this, address);
}
absl::StatusOr<int64_t> MemoryReader::ReadInt64(uint64_t address) {
  return ReadValue<int64_t>(*this, address);
}

absl::StatusOr<ProcessMemory> ProcessMemory::Open(pid_t pid) {
  if (pid <= 0) return absl::InvalidArgumentError("no such pid");
  const std::string path = absl::StrFormat("/proc/%d/mem", pid);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ESRCH) {
      return absl::NotFoundError(
          absl::StrFormat("pid %d: no such process", pid));
    }
    if (err == EACCES || err == EPERM) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "pid %d: may not read its memory (not yours, or not ptraceable)",
          pid));
    }
    return absl::UnavailableError(
        absl::StrFormat("pid %d: open %s: %s", pid, path, strerror(err)));
  }
  return ProcessMemory(pid, fd);
}

ProcessMemory::ProcessMemory(ProcessMemory&& other) noexcept
    : pid_(other.pid_), fd_(other.fd_) {
  other.fd_ = -1;
}

ProcessMemory& ProcessMemory::operator=(ProcessMemory&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    pid_ = other.pid_;
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

ProcessMemory::~ProcessMemory() {
  if (fd_ >= 0) close(fd_);
}

absl::Status ProcessMemory::Read(uint64_t address, void* out, size_t size) {
  if (size > kMaxReadBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("read of %u bytes is over the limit", size));
  }
  if (size == 0) return absl::OkStatus();
  // Addresses above the 47-bit user half (and wrap-around) are never user
  // memory: refuse them before the kernel does, and before off_t overflows.
  constexpr uint64_t kUserSpaceEnd = uint64_t{1} << 47;
  if (address >= kUserSpaceEnd || size > kUserSpaceEnd - address) {
    return absl::UnavailableError(
        absl::StrFormat("address 0x%x is not user memory", address));
  }
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd_, static_cast<char*>(out) + done, size - done,
                            static_cast<off_t>(address + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // EIO: unmapped page; 0: the address space is gone (process exited).
      return absl::UnavailableError(
          absl::StrFormat("pid %d: cannot read %u bytes at 0x%x%s", pid_, size,
                          address, n == 0 ? " (process exited?)" : ""));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace tracectl::python
