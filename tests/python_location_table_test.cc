// CPython 3.11 location tables: hand-made entries of every form, hostile
// bytes, and a cross-check against the interpreter's own co_positions().
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "daemon/python/location_table.h"
#include "daemon/python/python_loader.h"
#include "daemon/python/python_offsets.h"
#include "gtest/gtest.h"

namespace tracectl::python {
namespace {

// Entry head: 1 (start bit), code (4 bits), length - 1 in code units.
constexpr char Head(int code, int units) {
  return static_cast<char>(0x80 | (code << 3) | (units - 1));
}

const std::string kTable = {
    Head(15, 1),                          // [0,2) no location
    Head(13, 2), 0x04,                    // [2,6) no columns, +2 -> 7
    Head(11, 1), 0x01, 0x05,              // [6,8) one line form, +1 -> 8
    Head(14, 3), 0x07, 0x00, 0x03, 0x04,  // [8,14) long form, -3 -> 5
    Head(0, 1),  0x12,                    // [14,16) short form, same line 5
    Head(13, 1), 0x48, 0x03,              // [16,18) +100 as a two-chunk varint
};

TEST(LocationTable311, DecodesEveryForm) {
  const std::vector<LineRange> ranges = DecodeLineTable311(kTable, 5);
  ASSERT_EQ(ranges.size(), 6u);
  const int expected[][3] = {{0, 2, -1}, {2, 6, 7},   {6, 8, 8},
                             {8, 14, 5}, {14, 16, 5}, {16, 18, 105}};
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_EQ(ranges[i].start, expected[i][0]) << i;
    EXPECT_EQ(ranges[i].end, expected[i][1]) << i;
    EXPECT_EQ(ranges[i].line, expected[i][2]) << i;
  }
}

TEST(LocationTable311, LineForOffset) {
  EXPECT_EQ(LineForOffset311(kTable, 5, -2), 5);  // not started: def line
  EXPECT_EQ(LineForOffset311(kTable, 5, 0), -1);
  EXPECT_EQ(LineForOffset311(kTable, 5, 4), 7);
  EXPECT_EQ(LineForOffset311(kTable, 5, 6), 8);
  EXPECT_EQ(LineForOffset311(kTable, 5, 12), 5);
  EXPECT_EQ(LineForOffset311(kTable, 5, 16), 105);
  EXPECT_EQ(LineForOffset311(kTable, 5, 18), -1);  // past the end
  EXPECT_EQ(LineForOffset311("", 5, 0), -1);
}

TEST(LocationTable311, HostileBytesEndTheTable) {
  // Cut inside a varint: the ranges before it stay.
  EXPECT_EQ(
      DecodeLineTable311(std::string{Head(10, 1), 0, 0, Head(13, 1), 0x48}, 1)
          .size(),
      1u);
  // A varint longer than 32 bits.
  std::string endless = {Head(13, 1)};
  endless.append(40, 0x7f);
  EXPECT_TRUE(DecodeLineTable311(endless, 1).empty());
  // Not starting at an entry.
  EXPECT_TRUE(DecodeLineTable311(std::string("\x01\x02", 2), 1).empty());
  // Line numbers past int range.
  std::string huge;
  for (int i = 0; i < 4; ++i) {
    huge += Head(13, 1);
    huge += {0x7e, 0x7f, 0x7f, 0x7f, 0x7f, 0x03};  // +2^31-1
  }
  EXPECT_LE(DecodeLineTable311(huge, 1).size(), 1u);
  // All 0xff: no-location entries of 8 units, never a crash.
  EXPECT_EQ(DecodeLineTable311(std::string(100, '\xff'), 1).size(), 100u);
}

// The interpreter's own answer: co_positions() gives each code unit's line.
TEST(LocationTable311, MatchesCPythonsCoPositions) {
  const char* script =
      "def sample(x):\n"
      "    total = 0\n"
      "    for i in range(x):\n"
      "        if i % 2:\n"
      "            total += i\n"
      "\n"
      "\n"
      "\n"
      "        else:\n"
      "            total -= [i for i in range(3)][0]\n"
      "    try:\n"
      "        raise ValueError(total)\n"
      "    except ValueError:\n"
      "        pass\n"
      "    return (total +\n"
      "            1)\n"
      "c = sample.__code__\n"
      "print(c.co_firstlineno, c.co_linetable.hex())\n"
      "print(' '.join(str(-1 if p[0] is None else p[0]) "
      "for p in c.co_positions()))\n";
  const std::string command =
      std::string("/usr/bin/python3 -c \"$(cat <<'EOF'\n") + script +
      "EOF\n)\"";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  ASSERT_EQ(pclose(pipe), 0) << output;
  std::vector<std::string> lines = absl::StrSplit(output, '\n');
  ASSERT_GE(lines.size(), 2u);
  std::vector<std::string> head = absl::StrSplit(lines[0], ' ');
  ASSERT_EQ(head.size(), 2u);
  int first_line = 0;
  ASSERT_TRUE(absl::SimpleAtoi(head[0], &first_line));
  const std::string table = absl::HexStringToBytes(head[1]);
  std::vector<std::string> positions = absl::StrSplit(lines[1], ' ');
  ASSERT_GT(positions.size(), 20u);
  for (size_t i = 0; i < positions.size(); ++i) {
    int line = 0;
    ASSERT_TRUE(absl::SimpleAtoi(positions[i], &line));
    EXPECT_EQ(LineForOffset311(table, first_line, static_cast<int>(2 * i)),
              line)
        << "code unit " << i;
  }
}

TEST(PythonOffsets, OnlyKnownVersions) {
  EXPECT_TRUE(OffsetsFor({3, 11, 2}).ok());
  const absl::StatusOr<PythonOffsets> none = OffsetsFor({3, 7, -1});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.status().message(),
            "python 3.7: no offsets; native frames only");
}

TEST(PythonLoader, VersionFromFileName) {
  auto v = VersionFromFileName("/usr/bin/python3.11");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->major, 3);
  EXPECT_EQ(v->minor, 11);
  v = VersionFromFileName("/usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->minor, 12);
  EXPECT_TRUE(VersionFromFileName("/usr/lib/libpython3.13d.so").has_value());
  EXPECT_FALSE(VersionFromFileName("/usr/bin/python3").has_value());
  EXPECT_FALSE(VersionFromFileName("/usr/bin/python3.11-config").has_value());
  EXPECT_FALSE(VersionFromFileName("/usr/bin/pythonista").has_value());
}

}  // namespace
}  // namespace tracectl::python
