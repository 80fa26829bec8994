#include "daemon/ld_cache.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <set>

#include "absl/strings/str_cat.h"

namespace tracectl {
namespace {

constexpr size_t kMaxCacheBytes = 64 << 20;
constexpr char kMagic[] = "glibc-ld.so.cache1.1";  // magic, then version
constexpr size_t kMagicLength = sizeof(kMagic) - 1;

// The header after the magic and version (glibc's elf/dl-cache.h layout).
struct Header {
  uint32_t entries;
  uint32_t strings_length;
  uint8_t flags;
  uint8_t pad[3];
  uint32_t extension_offset;
  uint32_t unused[3];
};

struct Entry {
  int32_t flags;
  uint32_t key;    // the soname's offset in the file
  uint32_t value;  // the path's offset in the file
  uint32_t os_version;
  uint64_t hwcap;
};

// ELF, libc6 (the low byte), and the x86-64 ABI (the next byte).
constexpr int32_t kElfLibc6 = 0x0003;
constexpr int32_t kX8664 = 0x0300;

}  // namespace

absl::StatusOr<std::vector<std::string>> ReadLdCache(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(path, ": ", strerror(errno)));
  }
  std::string data;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) <= kMaxCacheBytes) {
    data.resize(st.st_size);
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = pread(fd, data.data() + done, data.size() - done, done);
      if (n <= 0) break;
      done += n;
    }
    data.resize(done);
  }
  close(fd);
  if (data.size() < kMagicLength + sizeof(Header) ||
      data.compare(0, kMagicLength, kMagic) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a glibc-ld.so.cache1.1 file"));
  }
  Header header;
  memcpy(&header, data.data() + kMagicLength, sizeof(header));
  const size_t table = kMagicLength + sizeof(Header);
  if (header.entries > (data.size() - table) / sizeof(Entry)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": ", header.entries, " entries do not fit"));
  }
  std::vector<std::string> paths;
  std::set<std::string> seen;
  for (uint32_t i = 0; i < header.entries; ++i) {
    Entry entry;
    memcpy(&entry, data.data() + table + i * sizeof(Entry), sizeof(entry));
    if ((entry.flags & 0xff) != kElfLibc6 || (entry.flags & 0xff00) != kX8664 ||
        entry.value >= data.size()) {
      continue;
    }
    const size_t end = data.find('\0', entry.value);
    if (end == std::string::npos) continue;
    std::string library = data.substr(entry.value, end - entry.value);
    if (library.empty() || library[0] != '/') continue;
    if (seen.insert(library).second) paths.push_back(std::move(library));
  }
  return paths;
}

}  // namespace tracectl
