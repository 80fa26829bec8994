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
// `text` with every byte below 0x20 and DEL in strace's octal escapes (and
// backslashes doubled), at most `max_bytes` of it, then "..." when cut: for
// messages that quote what a user sent or a process is named.
std::string EscapedForMessage(std::string_view text, size_t max_bytes);

}  // namespace tracectl

#endif  // TRACECTL_COMMON_ESCAPE_H_
