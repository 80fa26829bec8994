// Just enough JSON writing for tracectl's output: numbers stay numbers.
#ifndef TRACECTL_CLIENT_JSON_H_
#define TRACECTL_CLIENT_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tracectl {

// A JSON string literal, quotes included; bytes that are not valid UTF-8
// text are escaped as \u00XX.
std::string JsonString(absl::string_view s);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_JSON_H_
