// Names that ELF files carry, as the symbolizer and the call probes both
// read them: C++ symbols, and where a stripped file's debug file is.
#ifndef TRACECTL_COMMON_ELF_NAMES_H_
#define TRACECTL_COMMON_ELF_NAMES_H_

#include <string>
#include <vector>

namespace tracectl {

// The demangled form of a C++ symbol (`_Z...`); any other name as it is.
std::string Demangle(const char* name);

// Where a file's debug file may be, in the order to try: by build-id
// (lower-case hex, may be empty) under /usr/lib/debug/.build-id, then by
// the .gnu_debuglink name (a bare file name: a name with a '/' or a
// leading '.' is ignored) next to `file`, in its .debug directory, and
// under /usr/lib/debug. `file` itself is never a candidate.
std::vector<std::string> DebugFileCandidates(const std::string& build_id,
                                             const std::string& file,
                                             const char* debuglink);

}  // namespace tracectl

#endif  // TRACECTL_COMMON_ELF_NAMES_H_
