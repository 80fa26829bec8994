// The dynamic linker's cache (/etc/ld.so.cache, written by ldconfig): the
// libraries it would find by name outside its default directories too, as
// `ldconfig -p` lists them.
#ifndef TRACECTL_DAEMON_LD_CACHE_H_
#define TRACECTL_DAEMON_LD_CACHE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tracectl {

// The paths of the cache's entries for this machine's ABI (x86-64 ELF, libc6),
// in the cache's order, each once. Reads at most 64 MiB; only the format
// glibc writes since 2.32 ("glibc-ld.so.cache1.1") is understood, and
// anything else is an error (callers fall back to the default directories).
absl::StatusOr<std::vector<std::string>> ReadLdCache(
    const std::string& path = "/etc/ld.so.cache");

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_LD_CACHE_H_
