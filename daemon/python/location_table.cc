#include "daemon/python/location_table.h"

#include <cstdint>

namespace tracectl::python {
namespace {

// Entry codes (bits 3-6 of an entry's first byte).
constexpr int kShortFormLast = 9;  // 0-9: same line, one column byte
constexpr int kOneLineFirst = 10;  // 10-12: line += code - 10, two columns
constexpr int kOneLineLast = 12;
constexpr int kNoColumns = 13;   // line delta as a signed varint
constexpr int kLongForm = 14;    // line delta, end line, two columns
constexpr int kNoLocation = 15;  // no line

// Reads the table one byte at a time; past the end every read fails.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  bool AtEnd() const { return pos_ >= bytes_.size(); }
  bool AtEntryStart() const {
    return !AtEnd() && (static_cast<uint8_t>(bytes_[pos_]) & 0x80) != 0;
  }
  bool Byte(uint8_t* out) {
    if (AtEnd()) return false;
    *out = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  // 6-bit chunks, least significant first; bit 6 says another follows.
  bool Varint(uint32_t* out) {
    uint32_t value = 0;
    for (int shift = 0; shift < 32; shift += 6) {
      uint8_t b;
      if (!Byte(&b)) return false;
      value |= static_cast<uint32_t>(b & 0x3f) << shift;
      if ((b & 0x40) == 0) {
        *out = value;
        return true;
      }
    }
    return false;  // longer than any real table writes
  }
  // Zig-zag: the low bit is the sign.
  bool SignedVarint(int* out) {
    uint32_t raw;
    if (!Varint(&raw)) return false;
    const int magnitude = static_cast<int>(raw >> 1);
    *out = (raw & 1) ? -magnitude : magnitude;
    return true;
  }
  // Skips what an entry carries that lines do not need (columns), up to the
  // next entry's first byte.
  void SkipToNextEntry() {
    while (!AtEnd() && !AtEntryStart()) ++pos_;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<LineRange> DecodeLineTable311(std::string_view table,
                                          int first_line) {
  std::vector<LineRange> ranges;
  Cursor cursor(table);
  int line = first_line;
  int offset = 0;
  while (cursor.AtEntryStart()) {
    uint8_t head;
    cursor.Byte(&head);
    const int code = (head >> 3) & 0x0f;
    const int length = ((head & 0x07) + 1) * 2;  // code units are 2 bytes
    int delta = 0;
    if (code == kNoColumns || code == kLongForm) {
      if (!cursor.SignedVarint(&delta)) break;
    } else if (code >= kOneLineFirst && code <= kOneLineLast) {
      delta = code - kOneLineFirst;
    }
    static_assert(kShortFormLast < kOneLineFirst, "codes 0-9 keep the line");
    // Bound the arithmetic: a line or offset past int range is garbage.
    const int64_t next_line = static_cast<int64_t>(line) + delta;
    if (next_line < INT32_MIN || next_line > INT32_MAX ||
        offset > INT32_MAX - length) {
      break;
    }
    line = static_cast<int>(next_line);
    ranges.push_back(
        {offset, offset + length, code == kNoLocation ? -1 : line});
    offset += length;
    cursor.SkipToNextEntry();
  }
  return ranges;
}

int LineForOffset311(std::string_view table, int first_line, int byte_offset) {
  if (byte_offset < 0) return first_line;
  for (const LineRange& range : DecodeLineTable311(table, first_line)) {
    if (byte_offset < range.end) return range.line;
  }
  return -1;
}

}  // namespace tracectl::python
