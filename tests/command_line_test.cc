#include "client/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tracectl {
namespace {

// The shape of tracectl's command line: --socket on the top level, a
// subcommand with options that take values and flags, and one that runs
// no command.
class SplitTest : public ::testing::Test {
 protected:
  SplitTest() {
    app_.add_option("--socket", socket_);
    app_.fallthrough();
    CLI::App* trace = app_.add_subcommand("trace");
    trace->add_option("-e", expressions_);
    trace->add_option("-p,--pid", pids_);
    trace->add_option("-s", size_);
    trace->add_option("-o,--output", output_);
    trace->add_flag("-f,--follow", follow_);
    trace->add_flag("-t", timestamps_);
    trace->add_flag("-z", successful_);
    trace->add_flag("--json", json_);
    app_.add_subcommand("info");
  }

  absl::StatusOr<SplitArguments> Split(std::vector<std::string> args) {
    args_ = std::move(args);
    args_.insert(args_.begin(), "tracectl");
    argv_.clear();
    for (const std::string& a : args_) argv_.push_back(a.c_str());
    return SplitCommandLine(app_, {"trace"}, static_cast<int>(argv_.size()),
                            argv_.data());
  }

  CLI::App app_;
  std::string socket_, output_;
  std::vector<std::string> expressions_;
  std::vector<int> pids_;
  int size_ = 0;
  bool follow_ = false, successful_ = false, json_ = false;
  int timestamps_ = 0;
  std::vector<std::string> args_;
  std::vector<const char*> argv_;
};

using Strings = std::vector<std::string>;

TEST_F(SplitTest, CommandAfterDoubleDash) {
  auto split = Split({"trace", "-f", "--", "ls", "-l"});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->own_argc, 3);
  EXPECT_TRUE(split->has_command);
  EXPECT_EQ(split->command, (Strings{"ls", "-l"}));
  EXPECT_EQ(split->subcommand, "trace");
}

TEST_F(SplitTest, CommandWithoutDoubleDashKeepsItsOptions) {
  auto split = Split({"trace", "ls", "-l", "--", "-e", "x"});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->own_argc, 2);
  EXPECT_EQ(split->command, (Strings{"ls", "-l", "--", "-e", "x"}));
}

TEST_F(SplitTest, OptionValuesAreNotTheCommand) {
  auto split =
      Split({"--socket", "/s", "trace", "-e", "trace=getppid", "-s", "64", "-o",
             "out", "-tt", "-zf", "--json", "/usr/bin/python3", "x.py", "-v"});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->own_argc, 13);
  EXPECT_EQ(split->command, (Strings{"/usr/bin/python3", "x.py", "-v"}));
  EXPECT_EQ(split->unknown_option, "");
}

TEST_F(SplitTest, AttachedValuesAndLongOptionsWithEquals) {
  auto split = Split({"trace", "-etrace=close", "-s64", "--output=f",
                      "--socket=/s", "--pid", "12", "true"});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->command, (Strings{"true"}));
  EXPECT_EQ(split->own_argc, 8);
}

TEST_F(SplitTest, ValueThatLooksLikeAnOption) {
  auto split = Split({"trace", "-e", "!futex", "-s", "-1", "cat"});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->command, (Strings{"cat"}));
}

TEST_F(SplitTest, NoCommand) {
  auto split = Split({"trace", "-p", "12", "-f"});
  ASSERT_TRUE(split.ok());
  EXPECT_FALSE(split->has_command);
  EXPECT_EQ(split->own_argc, 5);
}

TEST_F(SplitTest, UnknownSubcommandIsNamed) {
  auto split = Split({"--socket", "/s", "frobnicate", "x"});
  ASSERT_FALSE(split.ok());
  EXPECT_EQ(split.status().message(),
            "unknown command 'frobnicate': try tracectl --help");
}

TEST_F(SplitTest, UnknownOptionIsReported) {
  auto split = Split({"trace", "-k", "ls"});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->unknown_option, "-k");
  EXPECT_EQ(split->command, (Strings{"ls"}));
  split = Split({"trace", "-fk", "--summary-only", "ls"});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->unknown_option, "-k");
  split = Split({"trace", "--summary-only=x", "ls"});
  EXPECT_EQ(split->unknown_option, "--summary-only");
}

TEST_F(SplitTest, SubcommandWithoutCommandKeepsItsStrayArguments) {
  auto split = Split({"info", "x"});
  ASSERT_TRUE(split.ok());
  EXPECT_FALSE(split->has_command);
  EXPECT_EQ(split->own_argc, 3);
  split = Split({"info", "--", "x"});
  ASSERT_TRUE(split.ok());
  EXPECT_TRUE(split->has_command);
  EXPECT_EQ(split->own_argc, 2);
}

TEST(StraceOptionHint, SaysWhatToTypeInstead) {
  EXPECT_NE(StraceOptionHint("syscalls", "-k").find("tracectl trace -k"),
            std::string::npos);
  EXPECT_NE(StraceOptionHint("trace", "-C").find("tracectl syscalls"),
            std::string::npos);
  EXPECT_NE(StraceOptionHint("trace", "-P").find("-e trace=%file"),
            std::string::npos);
  EXPECT_NE(StraceOptionHint("trace", "-E").find("env VAR=VALUE"),
            std::string::npos);
  EXPECT_EQ(StraceOptionHint("trace", "--no-such-thing"), "");
  EXPECT_EQ(StraceOptionHint("flame", "-k"), "");
  EXPECT_EQ(StraceOptionHint("trace", ""), "");
}

}  // namespace
}  // namespace tracectl
