// Just enough JSON writing for tracectl's output: numbers stay numbers.
#ifndef TRACECTL_CLIENT_JSON_H_
#define TRACECTL_CLIENT_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tracectl {

// A JSON string literal, quotes included, for bytes (paths, buffers): every
// byte outside printable ASCII is escaped as \u00XX, so that a reader gets
// the bytes back as the code points U+0000 to U+00FF.
std::string JsonString(absl::string_view s);

// A JSON string literal for text (function names): valid UTF-8 is kept as
// it is, control characters are escaped, and each byte that is not part of
// valid UTF-8 becomes U+FFFD.
std::string JsonText(absl::string_view s);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_JSON_H_
