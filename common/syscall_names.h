// Names for system call numbers (libseccomp) and errno values (glibc).
#ifndef TRACECTL_COMMON_SYSCALL_NAMES_H_
#define TRACECTL_COMMON_SYSCALL_NAMES_H_

#include <string>

namespace tracectl {

// "openat", or "syscall_N" for a number the host architecture does not name;
// with compat, the name in the 32-bit table, as "ia32:NAME".
std::string SyscallName(int nr, bool compat = false);
// "ENOENT", or "E<N>" for a value glibc does not name.
std::string ErrnoName(int err);

}  // namespace tracectl

#endif  // TRACECTL_COMMON_SYSCALL_NAMES_H_
