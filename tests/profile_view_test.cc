// The client's view of a profile: frames merged by name, the process at
// every stack's root, folded lines, and tracectl top's table.
#include "client/profile_view.h"

#include "client/top_report.h"
#include "gtest/gtest.h"

namespace tracectl {
namespace {

v1::Frame MakeFrame(const std::string& function, const std::string& module,
                    v1::ModuleKind kind, uint64_t offset = 0) {
  v1::Frame f;
  f.set_function(function);
  f.set_module(module);
  f.set_kind(kind);
  f.set_offset(offset);
  return f;
}

void AddStack(v1::ProfileData* data, std::vector<uint32_t> frames,
              uint64_t samples, const std::string& comm, int pid) {
  v1::Stack* s = data->add_stacks();
  for (uint32_t f : frames) s->add_frames(f);
  s->set_samples(samples);
  s->set_comm(comm);
  s->set_pid(pid);
}

// main -> work -> hot_a (two source lines: two daemon frames) and hot_b,
// an unresolved frame, and a second process.
v1::ProfileData Sample() {
  v1::ProfileData data;
  *data.add_frames() = MakeFrame("main", "app", v1::MODULE_EXECUTABLE);
  *data.add_frames() = MakeFrame("work", "app", v1::MODULE_EXECUTABLE);
  *data.add_frames() = MakeFrame("hot_a", "app", v1::MODULE_EXECUTABLE);
  *data.add_frames() = MakeFrame("hot_a", "app", v1::MODULE_EXECUTABLE);
  *data.add_frames() = MakeFrame("hot_b", "app", v1::MODULE_EXECUTABLE);
  *data.add_frames() = MakeFrame("", "libx.so", v1::MODULE_LIBRARY, 0x1a2b);
  *data.add_frames() = MakeFrame("a;b", "app", v1::MODULE_EXECUTABLE);
  AddStack(&data, {0, 1, 2}, 40, "app", 10);
  AddStack(&data, {0, 1, 3}, 35, "app", 10);
  AddStack(&data, {0, 1, 4}, 25, "app", 11);
  AddStack(&data, {0, 5}, 3, "other", 12);
  AddStack(&data, {6}, 2, "other", 12);
  data.set_samples(105);
  return data;
}

TEST(ProfileViewTest, MergesFramesAndStacksAndRootsAtTheProcess) {
  const ProfileView view = BuildProfileView(Sample());
  EXPECT_EQ(view.total_samples, 105u);
  // hot_a's two frames are one; its two stacks are one.
  ASSERT_EQ(view.stacks.size(), 4u);
  EXPECT_EQ(view.stacks[0].samples, 75u);
  const ViewStack& first = view.stacks[0];
  ASSERT_EQ(first.frames.size(), 4u);
  EXPECT_EQ(view.frames[first.frames[0]].name, "app");
  EXPECT_EQ(view.frames[first.frames[0]].kind, FrameKind::kProcess);
  EXPECT_EQ(view.frames[first.frames[3]].name, "hot_a");
  EXPECT_EQ(view.frames[first.frames[3]].kind, FrameKind::kExecutable);
  const ViewFrame& unresolved = view.frames[view.stacks[2].frames[2]];
  EXPECT_EQ(unresolved.name, "[libx.so+0x1a2b]");
  EXPECT_FALSE(unresolved.resolved);
  EXPECT_EQ(unresolved.kind, FrameKind::kLibrary);
}

TEST(ProfileViewTest, FoldedLinesRootFirstAndParsable) {
  EXPECT_EQ(RenderFolded(BuildProfileView(Sample())),
            "app;main;work;hot_a 75\n"
            "app;main;work;hot_b 25\n"
            "other;main;[libx.so+0x1a2b] 3\n"
            "other;a:b 2\n");
}

TEST(ProfileViewTest, SeveralHostsEachUnderItsOwnRoot) {
  const v1::ProfileData a = Sample();
  v1::ProfileData b;
  *b.add_frames() = MakeFrame("main", "app", v1::MODULE_EXECUTABLE);
  AddStack(&b, {0}, 7, "app", 99);
  b.set_samples(7);
  b.set_elapsed_seconds(2.5);
  const ProfileView view = BuildProfileView({{"a:1", &a}, {"b:2", &b}});
  EXPECT_EQ(view.total_samples, 112u);
  EXPECT_EQ(view.elapsed_seconds, 2.5);
  EXPECT_EQ(RenderFolded(view),
            "a:1;app;main;work;hot_a 75\n"
            "a:1;app;main;work;hot_b 25\n"
            "a:1;other;main;[libx.so+0x1a2b] 3\n"
            "a:1;other;a:b 2\n"
            "b:2;app;main 7\n");
  const ViewStack& last = view.stacks.back();
  EXPECT_EQ(last.host, "b:2");
  EXPECT_EQ(view.frames[last.frames[0]].kind, FrameKind::kHost);
  EXPECT_EQ(view.frames[ProcessFrame(view, last)].kind, FrameKind::kProcess);
  // The same frames and processes of two hosts stay apart.
  EXPECT_EQ(view.frames[ProcessFrame(view, last)].name, "app");
  EXPECT_EQ(ProcessFrame(view, last), ProcessFrame(view, view.stacks[0]));
  EXPECT_NE(last.frames[0], view.stacks[0].frames[0]);
}

TEST(TopReportTest, SelfAndTotalPerFunctionAndProcess) {
  const ProfileView view = BuildProfileView(Sample());
  const std::vector<HotFunction> rows = HotFunctions(view, 0);
  ASSERT_GE(rows.size(), 3u);
  EXPECT_EQ(rows[0].function, "hot_a");
  EXPECT_EQ(rows[0].self, 75u);
  EXPECT_EQ(rows[0].total, 75u);
  EXPECT_EQ(rows[0].process, "app");
  EXPECT_EQ(rows[1].function, "hot_b");
  // main of app: no self time, in 100 samples; main of other is its own row.
  bool found_main = false;
  for (const HotFunction& row : rows) {
    if (row.function == "main" && row.process == "app") {
      found_main = true;
      EXPECT_EQ(row.self, 0u);
      EXPECT_EQ(row.total, 100u);
    }
  }
  EXPECT_TRUE(found_main);
  EXPECT_EQ(HotFunctions(view, 2).size(), 2u);
  const std::string table = RenderTopTable(view, HotFunctions(view, 2));
  EXPECT_NE(table.find(" 71.43%  71.43%  hot_a"), std::string::npos) << table;
}

TEST(TopReportTest, SortsBySelfOrTotal) {
  const ProfileView view = BuildProfileView(Sample());
  auto names = [](const std::vector<HotFunction>& rows) {
    std::vector<std::string> out;
    for (const HotFunction& row : rows) {
      out.push_back(row.function + "/" + row.process);
    }
    return out;
  };
  // By self: the leaves first; callers (no self time) last, by total.
  EXPECT_EQ(names(HotFunctions(view, 0, TopSort::kSelf)),
            (std::vector<std::string>{"hot_a/app", "hot_b/app",
                                      "[libx.so+0x1a2b]/other", "a;b/other",
                                      "main/app", "work/app", "main/other"}));
  // By total: callers first; equal totals by self.
  const std::vector<HotFunction> rows = HotFunctions(view, 0, TopSort::kTotal);
  EXPECT_EQ(names(rows),
            (std::vector<std::string>{"main/app", "work/app", "hot_a/app",
                                      "hot_b/app", "[libx.so+0x1a2b]/other",
                                      "main/other", "a;b/other"}));
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_GE(rows[i - 1].total, rows[i].total);
  }
  EXPECT_EQ(names(HotFunctions(view, 2, TopSort::kTotal)),
            (std::vector<std::string>{"main/app", "work/app"}));
  EXPECT_EQ(names(HotFunctions(view, 0)),
            names(HotFunctions(view, 0, TopSort::kSelf)));
}

TEST(TopReportTest, ParsesSortKeys) {
  EXPECT_EQ(*ParseTopSort("self"), TopSort::kSelf);
  EXPECT_EQ(*ParseTopSort("total"), TopSort::kTotal);
  for (const char* bad : {"", "Total", "calls", "self "}) {
    const absl::StatusOr<TopSort> sort = ParseTopSort(bad);
    EXPECT_FALSE(sort.ok()) << bad;
    EXPECT_NE(sort.status().message().find("use self or total"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace tracectl

namespace tracectl {
namespace {

TEST(TopReportTest, PythonFunctionIsOneRowOverItsLines) {
  ProfileView view;
  auto add = [&view](const std::string& name, const std::string& function,
                     FrameKind kind) {
    ViewFrame frame;
    frame.name = name;
    frame.function = function;
    frame.module = kind == FrameKind::kPython ? "/srv/app.py" : "";
    frame.kind = kind;
    view.frames.push_back(frame);
  };
  add("python3", "", FrameKind::kProcess);                  // 0
  add("spin (/srv/app.py:5)", "spin", FrameKind::kPython);  // 1
  add("spin (/srv/app.py:6)", "spin", FrameKind::kPython);  // 2
  add("main (/srv/app.py:9)", "main", FrameKind::kPython);  // 3
  view.stacks.push_back({{0, 3, 1}, 30, 7});
  view.stacks.push_back({{0, 3, 2}, 10, 7});
  view.total_samples = 40;
  const std::vector<HotFunction> rows = HotFunctions(view, 0, TopSort::kSelf);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].function, "spin");
  EXPECT_EQ(rows[0].module, "/srv/app.py");
  EXPECT_EQ(rows[0].self, 40u);
  EXPECT_EQ(rows[0].total, 40u);
  EXPECT_EQ(rows[1].function, "main");
  EXPECT_EQ(rows[1].self, 0u);
  EXPECT_EQ(rows[1].total, 40u);
}

}  // namespace
}  // namespace tracectl
