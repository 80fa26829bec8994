// What `tracectl calls` probes: LIB:GLOB specifications resolved to
// functions in ELF files (their .symtab and .dynsym), one probe per
// address. Runs as the calling thread: the session lowers it to the
// caller's file-system identity first, so a file the caller cannot read is
// PERMISSION_DENIED.
#ifndef TRACECTL_DAEMON_CALL_PROBES_H_
#define TRACECTL_DAEMON_CALL_PROBES_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/probe_spec.h"

namespace tracectl {

// At most this many USDT probes (provider:name in one file) per session.
inline constexpr size_t kMaxUsdtProbes = 64;

// An ELF file held open while its probes are attached: uprobes are placed
// through /proc/self/fd/N, so they land on the very file whose symbols were
// read, whatever happens to its path meanwhile.
class OpenedFile {
 public:
  OpenedFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~OpenedFile();
  OpenedFile(const OpenedFile&) = delete;
  OpenedFile& operator=(const OpenedFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  std::string AttachPath() const;

 private:
  int fd_;
  std::string path_;
};

struct CallProbe {
  std::shared_ptr<const OpenedFile> file;
  uint64_t offset = 0;   // file offset of the function's first instruction
  std::string function;  // the name the user matched
  std::string library;   // the file's base name
  // Matched by a glob: a probe the kernel refuses is skipped (and said)
  // instead of failing the session.
  bool from_glob = false;
  // A USDT probe: every site of provider:name in `file`, attached with
  // libbpf's bpf_program__attach_usdt (`function` is "provider:name",
  // `offset` the first site's).
  bool usdt = false;
  std::string provider;
  std::string name;
  // CPython's function__entry/function__return (filename, funcname,
  // lineno): counted per Python function and file.
  bool python_function = false;
};

struct ProbeContext {
  // Resolve against this process's mappings (0: none).
  pid_t pid = 0;
  // Or as the dynamic linker would for this executable (-- CMD).
  std::string program;
};

struct ResolvedProbes {
  std::vector<CallProbe> probes;
  // Said to the user in the session's scope, e.g. IFUNCs a glob skipped.
  std::vector<std::string> notes;
};

// Resolves every spec; refuses (naming the count) when they match more
// than `max_probes` functions. Every spec must match at least one.
absl::StatusOr<ResolvedProbes> ResolveCallProbes(
    const std::vector<ProbeSpec>& specs, const ProbeContext& context,
    size_t max_probes);

// The directories searched for a library named by prefix when there is no
// process to look at, in the dynamic linker's default order.
const std::vector<std::string>& StandardLibraryDirs();

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_CALL_PROBES_H_
