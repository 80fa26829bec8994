// Whole small files that a user names (certificates, identities): read in
// one go, up to a bound.
#ifndef TRACECTL_COMMON_SMALL_FILE_H_
#define TRACECTL_COMMON_SMALL_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace tracectl {

// The contents of `path`; an error naming it ("cannot read PATH: REASON",
// "PATH is over N bytes") when it cannot be read or holds more than
// `max_bytes`.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          size_t max_bytes);

}  // namespace tracectl

#endif  // TRACECTL_COMMON_SMALL_FILE_H_
