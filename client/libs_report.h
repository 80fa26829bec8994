// tracectl libs: the shared objects traced processes map, in load order,
// with the paths the loader tried first and whether ldd would list them
// (the DT_NEEDED closure of the executable) or something dlopen()ed them.
#ifndef TRACECTL_CLIENT_LIBS_REPORT_H_
#define TRACECTL_CLIENT_LIBS_REPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/trace_event.h"
#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

// The -e trace= selection the libs command asks the daemon for.
std::string LibsSelection();

// The DT_NEEDED entries of an ELF64 file, in order; empty for a file
// without a dynamic section (static). An error for a file that cannot be
// read or is not a well-formed little-endian ELF64 file.
absl::StatusOr<std::vector<std::string>> ReadElfNeeded(const std::string& path);

// The dynamic section's names: DT_NEEDED in order, and DT_SONAME (empty
// when there is none). Errors as ReadElfNeeded's.
struct ElfDynamic {
  std::vector<std::string> needed;
  std::string soname;
};
absl::StatusOr<ElfDynamic> ReadElfDynamic(const std::string& path);

class LibsReport {
 public:
  void Add(const TraceEvent& event);
  // What a process had mapped when the session started (--pid): its
  // executable mappings other than the executable, in address order, as
  // libraries loaded before the session; and its open descriptors, so that
  // a later mmap of one of them is known. Give it before the events.
  void AddInitialState(const v1::ProcessState& state);

  // Per process (each executable image in order of first appearance):
  // a header line, then each mapped library: the objects mapped before the
  // session first, unnumbered ("-"), then those loaded during it, numbered
  // in load order, with the paths tried before each; each marked "ldd" or
  // "dlopen, not in ldd" ("not in ldd, before the session" and "ldd, before
  // the session" for the first); then the *.so* names whose opens failed
  // and which were never found. Paths are escaped as strace escapes
  // strings.
  std::string Render() const;
  // {"processes":[{"pid":..,"exe":..,"libraries":[{"path":..,"tried":[..],
  // "in_ldd":true,"order":1,"before_session":false}],"not_found":[..]}]};
  // "order" is null for objects mapped before the session; tried and
  // not_found hold
  // {"path":..,"errno":"ENOENT"} objects. "in_ldd" is null, and the process
  // has "needed_error", when the executable's needed list is unreadable.
  std::string RenderJson() const;

 private:
  struct FailedOpen {
    std::string path;
    int error = 0;
    bool attributed = false;  // shown as tried for a library
  };
  struct Library {
    std::string path;
    std::vector<FailedOpen> tried;
    bool before_session = false;  // mapped when the session started
  };
  // One executable image of one process: execve starts a new one.
  struct Image {
    uint32_t pid = 0;
    std::string exe;  // empty: no execve seen
    std::map<int, std::string> fds;
    std::vector<Library> libraries;
    std::vector<FailedOpen> failed_opens;
  };
  // What ldd would say of an image's libraries.
  struct LddView {
    std::string error;         // the executable's needed list is unreadable
    std::vector<bool> in_ldd;  // per library, when error is empty
    // Per library: why its own needed list could not be read, if it is in
    // the closure and that failed.
    std::vector<std::string> library_errors;
    // Per library: its DT_SONAME, when it has one that could be read.
    std::vector<std::string> sonames;
  };

  Image& ImageOf(uint32_t pid);
  LddView ComputeLdd(const Image& image) const;
  static std::vector<const FailedOpen*> NotFound(const Image& image);
  bool Shown(const Image& image) const;

  std::vector<Image> images_;
  std::map<uint32_t, size_t> current_;  // pid -> index in images_
};

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_LIBS_REPORT_H_
