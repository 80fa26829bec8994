// Escaping of bytes that came from traced processes (names, paths, data)
// before they reach a terminal, a file or an error message: one set of
// rules for the client and the daemon.
#ifndef TRACECTL_COMMON_ESCAPE_H_
#define TRACECTL_COMMON_ESCAPE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace tracectl {

// Appends `bytes` escaped as strace escapes strings (without the quotes):
// \" \\ \n \t \r \f \v, other non-printable bytes in octal, with three
// digits when an octal digit follows.
void AppendEscaped(std::string_view bytes, std::string* out);
// The same, returned.
std::string Escaped(std::string_view bytes);
// Text for a terminal: `text` with every control character (bytes below
// 0x20, DEL, and C1 controls as UTF-8) in octal escapes and backslashes
// doubled, other UTF-8 kept as it is; at most `max_bytes` of it, then "..."
// when cut. For names (comms, paths, functions) and for messages that quote
// what a user sent.
std::string EscapedText(std::string_view text,
                        size_t max_bytes = std::string_view::npos);

}  // namespace tracectl

#endif  // TRACECTL_COMMON_ESCAPE_H_
