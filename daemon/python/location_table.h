// CPython 3.11's location table (co_linetable; format in CPython's
// Objects/locations.md): which source line each instruction came from.
// The bytes come from the target's memory, so the decoder accepts anything:
// truncated entries and oversized varints end the table, never the reader.
#ifndef TRACECTL_DAEMON_PYTHON_LOCATION_TABLE_H_
#define TRACECTL_DAEMON_PYTHON_LOCATION_TABLE_H_

#include <string_view>
#include <vector>

namespace tracectl::python {

// Instructions [start, end) (byte offsets into the code) came from `line`;
// -1 when the compiler gave them no line.
struct LineRange {
  int start = 0;
  int end = 0;
  int line = -1;
};

// Every range of a 3.11 table, in order. Line numbers start from the code
// object's co_firstlineno.
std::vector<LineRange> DecodeLineTable311(std::string_view table,
                                          int first_line);

// The line of the instruction at `byte_offset` (what PyCode_Addr2Line
// answers): first_line for a negative offset (a frame that has not run its
// first instruction yet), -1 past the table's end or for a range without a
// line.
int LineForOffset311(std::string_view table, int first_line, int byte_offset);

}  // namespace tracectl::python

#endif  // TRACECTL_DAEMON_PYTHON_LOCATION_TABLE_H_
