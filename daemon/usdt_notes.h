// USDT probes (SystemTap SDT) as an ELF file describes them: one
// NT_STAPSDT note per probe site in its .note.stapsdt section. Read to list
// and match probes and to say clearly what a file offers; libbpf reads the
// notes again when it attaches (bpf_program__attach_usdt).
#ifndef TRACECTL_DAEMON_USDT_NOTES_H_
#define TRACECTL_DAEMON_USDT_NOTES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tracectl {

// One probe site.
struct UsdtNote {
  std::string provider;
  std::string name;
  std::string args;  // e.g. "8@%rbp 8@%r12 -4@%eax"
  uint64_t location = 0;
  uint64_t base = 0;       // .stapsdt.base's address at link time
  uint64_t semaphore = 0;  // 0: the probe has none
};

// Bounds on what a file may hold: more is refused, not read.
inline constexpr size_t kMaxUsdtNoteSectionBytes = 4 << 20;
inline constexpr size_t kMaxUsdtNotes = 65536;

// The NT_STAPSDT notes of a .note.stapsdt section's bytes (64-bit
// little-endian ELF, the only kind tracectl runs on). Other notes are
// skipped; a truncated or malformed note is INVALID_ARGUMENT naming `path`.
absl::StatusOr<std::vector<UsdtNote>> ParseUsdtNotes(absl::string_view section,
                                                     const std::string& path);

// The notes of the ELF file open at `fd` (read with pread, bounded). A file
// without a .note.stapsdt section has none: an empty list.
absl::StatusOr<std::vector<UsdtNote>> ReadUsdtNotes(int fd,
                                                    const std::string& path);

// How many arguments a note's argument string describes.
int UsdtArgCount(const UsdtNote& note);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_USDT_NOTES_H_
