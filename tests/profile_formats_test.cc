// pprof and speedscope output of `tracectl flame`, checked with the
// generated perftools.profiles classes, with the real reader
// (`go tool pprof`) and with Python's JSON parser.
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/profile_pprof.h"
#include "client/profile_speedscope.h"
#include "client/profile_view.h"
#include "gtest/gtest.h"
#include "pprof/pprof_profile.pb.h"

namespace tracectl {
namespace {

namespace pp = ::perftools::profiles;

constexpr char kPython[] = "/usr/bin/python3";

// Process "hot" (pids 100 and 101): hot -> main -> work -> hot_a (75
// samples, 50 + 25) and hot -> main -> work -> hot_b (25). Process "cold"
// (pid 200): cold -> main -> do_syscall_64 (10) and cold -> an unresolved
// libfoo frame (5). Both processes have a "main", each in its own module.
ProfileView MakeView() {
  ProfileView view;
  auto add = [&view](const std::string& name, const std::string& module,
                     FrameKind kind, const std::string& source = "") {
    ViewFrame frame;
    frame.name = name;
    frame.module = module;
    frame.kind = kind;
    frame.source = source;
    view.frames.push_back(frame);
  };
  add("hot", "", FrameKind::kProcess);                            // 0
  add("main", "hot", FrameKind::kExecutable, "hot.c:10");         // 1
  add("work", "hot", FrameKind::kExecutable, "hot.c:20");         // 2
  add("hot_a", "hot", FrameKind::kExecutable, "hot.c");           // 3
  add("hot_b", "libc.so.6", FrameKind::kLibrary);                 // 4
  add("cold", "", FrameKind::kProcess);                           // 5
  add("main", "cold", FrameKind::kExecutable);                    // 6
  add("do_syscall_64", "[kernel.kallsyms]", FrameKind::kKernel);  // 7
  add("[libfoo.so+0x1a2b]", "libfoo.so", FrameKind::kLibrary);    // 8
  view.frames.back().resolved = false;

  auto stack = [&view](std::vector<uint32_t> frames, uint64_t samples,
                       int32_t pid) {
    ViewStack s;
    s.frames = std::move(frames);
    s.samples = samples;
    s.pid = pid;
    view.stacks.push_back(s);
  };
  stack({0, 1, 2, 3}, 50, 100);
  stack({0, 1, 2, 3}, 25, 101);
  stack({0, 1, 2, 4}, 25, 100);
  stack({5, 6, 7}, 10, 200);
  stack({5, 8}, 5, 200);
  view.total_samples = 115;
  view.frequency_hz = 100;
  view.elapsed_seconds = 2.5;
  return view;
}

// Inflates a gzip stream; windowBits 15 + 16 accepts gzip and nothing else.
bool Gunzip(const std::string& in, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[4096];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->append(buf, sizeof(buf) - zs.avail_out);
  }
  bool ok = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  return ok;
}

pp::Profile RenderAndParse(const ProfileView& view) {
  pp::Profile profile;
  absl::StatusOr<std::string> gz = RenderPprof(view);
  EXPECT_TRUE(gz.ok()) << gz.status();
  if (!gz.ok()) return profile;
  EXPECT_GE(gz->size(), 2u);
  if (gz->size() >= 2) {
    EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
  }
  std::string raw;
  EXPECT_TRUE(Gunzip(*gz, &raw));
  EXPECT_TRUE(profile.ParseFromString(raw));
  return profile;
}

const std::string& Str(const pp::Profile& p, int64_t index) {
  static const std::string kBad = "<bad string index>";
  if (index < 0 || index >= p.string_table_size()) return kBad;
  return p.string_table(static_cast<int>(index));
}

// "name" of every location of `sample`, in the sample's order (leaf first).
std::vector<std::string> SampleNames(const pp::Profile& p,
                                     const pp::Sample& sample) {
  std::map<uint64_t, const pp::Location*> locations;
  for (const pp::Location& l : p.location()) locations[l.id()] = &l;
  std::map<uint64_t, const pp::Function*> functions;
  for (const pp::Function& f : p.function()) functions[f.id()] = &f;
  std::vector<std::string> names;
  for (uint64_t id : sample.location_id()) {
    auto l = locations.find(id);
    if (l == locations.end() || l->second->line_size() != 1) {
      names.push_back("<bad location>");
      continue;
    }
    auto f = functions.find(l->second->line(0).function_id());
    names.push_back(f == functions.end() ? "<bad function>"
                                         : Str(p, f->second->name()));
  }
  return names;
}

// Labels of a sample as "key=value" (numbers in decimal).
std::vector<std::string> SampleLabels(const pp::Profile& p,
                                      const pp::Sample& sample) {
  std::vector<std::string> out;
  for (const pp::Label& l : sample.label()) {
    out.push_back(l.str() != 0
                      ? absl::StrCat(Str(p, l.key()), "=", Str(p, l.str()))
                      : absl::StrCat(Str(p, l.key()), "=#", l.num()));
  }
  return out;
}

TEST(PprofTest, HeaderAndTotals) {
  pp::Profile p = RenderAndParse(MakeView());
  ASSERT_GT(p.string_table_size(), 0);
  EXPECT_EQ(p.string_table(0), "");
  ASSERT_EQ(p.sample_type_size(), 2);
  EXPECT_EQ(Str(p, p.sample_type(0).type()), "samples");
  EXPECT_EQ(Str(p, p.sample_type(0).unit()), "count");
  EXPECT_EQ(Str(p, p.sample_type(1).type()), "cpu");
  EXPECT_EQ(Str(p, p.sample_type(1).unit()), "nanoseconds");
  EXPECT_EQ(Str(p, p.period_type().type()), "cpu");
  EXPECT_EQ(Str(p, p.period_type().unit()), "nanoseconds");
  EXPECT_EQ(p.period(), 10000000);  // 100 Hz.
  EXPECT_EQ(p.duration_nanos(), 2500000000);

  // Every string is stored once.
  std::set<std::string> distinct(p.string_table().begin(),
                                 p.string_table().end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(p.string_table_size()));

  int64_t samples = 0, nanos = 0;
  for (const pp::Sample& s : p.sample()) {
    ASSERT_EQ(s.value_size(), 2);
    EXPECT_EQ(s.value(1), s.value(0) * p.period());
    samples += s.value(0);
    nanos += s.value(1);
  }
  EXPECT_EQ(samples, 115);
  EXPECT_EQ(nanos, 1150000000);
}

TEST(PprofTest, LocationsFunctionsAndMappings) {
  ProfileView view = MakeView();
  pp::Profile p = RenderAndParse(view);

  // One location per view frame, ids 1..n in the view's order, each with
  // one line naming its function.
  ASSERT_EQ(p.location_size(), static_cast<int>(view.frames.size()));
  std::map<uint64_t, const pp::Function*> functions;
  for (const pp::Function& f : p.function()) {
    EXPECT_NE(f.id(), 0u);
    EXPECT_TRUE(functions.emplace(f.id(), &f).second) << "duplicate function";
  }
  std::map<uint64_t, const pp::Mapping*> mappings;
  for (const pp::Mapping& m : p.mapping()) {
    EXPECT_NE(m.id(), 0u);
    EXPECT_TRUE(mappings.emplace(m.id(), &m).second) << "duplicate mapping";
    EXPECT_TRUE(m.has_functions());
  }
  for (int i = 0; i < p.location_size(); ++i) {
    const pp::Location& l = p.location(i);
    const ViewFrame& frame = view.frames[i];
    SCOPED_TRACE(frame.name);
    EXPECT_EQ(l.id(), static_cast<uint64_t>(i + 1));
    ASSERT_EQ(l.line_size(), 1);
    ASSERT_EQ(functions.count(l.line(0).function_id()), 1u);
    EXPECT_EQ(Str(p, functions[l.line(0).function_id()]->name()), frame.name);
    if (frame.kind == FrameKind::kProcess) {
      EXPECT_EQ(l.mapping_id(), 0u);
    } else {
      ASSERT_EQ(mappings.count(l.mapping_id()), 1u);
      EXPECT_EQ(Str(p, mappings[l.mapping_id()]->filename()), frame.module);
    }
  }
  // Distinct (name, module): both "main"s are kept apart.
  EXPECT_EQ(p.function_size(), 9);
  EXPECT_NE(p.location(1).line(0).function_id(),
            p.location(6).line(0).function_id());

  // "hot.c:10" -> file and line; "hot.c" -> file only.
  EXPECT_EQ(p.location(1).line(0).line(), 10);
  EXPECT_EQ(Str(p, functions[p.location(1).line(0).function_id()]->filename()),
            "hot.c");
  EXPECT_EQ(p.location(3).line(0).line(), 0);
  EXPECT_EQ(Str(p, functions[p.location(3).line(0).function_id()]->filename()),
            "hot.c");

  // One mapping per module, the executable's first (pprof's main binary).
  ASSERT_EQ(p.mapping_size(), 5);
  EXPECT_EQ(Str(p, p.mapping(0).filename()), "hot");
  EXPECT_EQ(Str(p, p.mapping(1).filename()), "cold");
  EXPECT_TRUE(p.mapping(0).has_line_numbers());
  EXPECT_FALSE(p.mapping(1).has_filenames());
  std::set<std::string> modules;
  for (const pp::Mapping& m : p.mapping()) modules.insert(Str(p, m.filename()));
  EXPECT_EQ(modules, (std::set<std::string>{"hot", "cold", "libc.so.6",
                                            "[kernel.kallsyms]", "libfoo.so"}));
}

TEST(PprofTest, SamplesAreLeafFirstWithCommAndPidLabels) {
  pp::Profile p = RenderAndParse(MakeView());
  ASSERT_EQ(p.sample_size(), 5);
  using Names = std::vector<std::string>;
  using Labels = std::vector<std::string>;
  EXPECT_EQ(SampleNames(p, p.sample(0)),
            (Names{"hot_a", "work", "main", "hot"}));
  EXPECT_EQ(p.sample(0).location_id(0), 4u);
  EXPECT_EQ(p.sample(0).location_id(3), 1u);
  EXPECT_EQ(p.sample(0).value(0), 50);
  EXPECT_EQ(SampleLabels(p, p.sample(0)), (Labels{"comm=hot", "pid=#100"}));
  EXPECT_EQ(SampleNames(p, p.sample(1)),
            (Names{"hot_a", "work", "main", "hot"}));
  EXPECT_EQ(SampleLabels(p, p.sample(1)), (Labels{"comm=hot", "pid=#101"}));
  EXPECT_EQ(SampleNames(p, p.sample(2)),
            (Names{"hot_b", "work", "main", "hot"}));
  EXPECT_EQ(p.sample(2).value(0), 25);
  EXPECT_EQ(SampleNames(p, p.sample(3)),
            (Names{"do_syscall_64", "main", "cold"}));
  EXPECT_EQ(SampleLabels(p, p.sample(3)), (Labels{"comm=cold", "pid=#200"}));
  EXPECT_EQ(SampleNames(p, p.sample(4)), (Names{"[libfoo.so+0x1a2b]", "cold"}));
  EXPECT_EQ(p.sample(4).value(0), 5);
  EXPECT_EQ(p.sample(4).value(1), 50000000);
}

TEST(PprofTest, EdgeCases) {
  ProfileView view = MakeView();
  view.frequency_hz = 0;  // Unknown: taken as 1 Hz.
  view.elapsed_seconds = 0;
  pp::Profile p = RenderAndParse(view);
  EXPECT_EQ(p.period(), 1000000000);
  EXPECT_EQ(p.duration_nanos(), 0);

  ProfileView empty;
  pp::Profile e = RenderAndParse(empty);
  EXPECT_EQ(e.sample_size(), 0);
  EXPECT_EQ(e.string_table(0), "");
  EXPECT_EQ(e.sample_type_size(), 2);

  ProfileView bad = MakeView();
  bad.stacks[0].frames.push_back(99);
  EXPECT_FALSE(RenderPprof(bad).ok());
}

// ---- go tool pprof ----

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::path(testing::TempDir()) / "tracectl-fmt-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `command` under sh; stdout into *out, stderr into *err. Returns the
// exit status, or -1.
int Run(const std::string& command, const std::string& scratch,
        std::string* out, std::string* err) {
  std::string err_file = scratch + "/stderr";
  FILE* pipe = popen((command + " 2>'" + err_file + "'").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out->append(buf, n);
  int status = pclose(pipe);
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  *err = ss.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string FindGo() {
  for (const char* go : {"/usr/bin/go", "/usr/lib/go/bin/go"}) {
    if (access(go, X_OK) == 0) return go;
  }
  return "";
}

// `go tool pprof ARGS FILE` with a private, offline Go environment.
std::string GoToolPprof(const std::string& go, const TempDir& dir,
                        const std::string& args, const std::string& file,
                        std::string* err, int* status) {
  const std::string& d = dir.path();
  std::string command =
      absl::StrCat("env -i PATH=/usr/bin:/bin HOME='", d, "/home' GOCACHE='", d,
                   "/gocache' GOPATH='", d, "/gopath' PPROF_TMPDIR='", d,
                   "/pprof' GOTOOLCHAIN=local GOPROXY=off GOFLAGS= '", go,
                   "' tool pprof ", args, " '", file, "'");
  std::string out;
  *status = Run(command, d, &out, err);
  return out;
}

struct Trace {
  std::map<std::string, std::string> labels;
  int64_t value = 0;
  std::vector<std::string> frames;  // Leaf first, as pprof prints them.
};

// Parses `go tool pprof -traces`: blocks separated by "-----------+---..."
// lines, each with "      key:  value" label lines, then "     VALUE   leaf"
// and the callers indented under the leaf.
std::vector<Trace> ParseTraces(const std::string& text) {
  std::vector<Trace> traces;
  bool in_block = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "-----------+")) {
      traces.emplace_back();
      in_block = true;
      continue;
    }
    if (!in_block || line.empty()) continue;
    Trace& t = traces.back();
    if (t.frames.empty()) {
      absl::string_view s = absl::StripLeadingAsciiWhitespace(line);
      size_t space = s.find(' ');
      if (space == absl::string_view::npos) continue;
      absl::string_view head = s.substr(0, space);
      absl::string_view rest = absl::StripAsciiWhitespace(s.substr(space + 1));
      if (absl::EndsWith(head, ":")) {
        t.labels[std::string(absl::StripSuffix(head, ":"))] = std::string(rest);
      } else {
        t.value = std::strtoll(std::string(head).c_str(), nullptr, 10);
        t.frames.push_back(std::string(rest));
      }
    } else {
      t.frames.push_back(std::string(absl::StripAsciiWhitespace(line)));
    }
  }
  // The last separator closes the last block.
  if (!traces.empty() && traces.back().frames.empty()) traces.pop_back();
  return traces;
}

struct TopRow {
  std::string flat, cum;
};

// Parses `go tool pprof -top`: "flat flat% sum% cum cum% name" rows.
std::map<std::string, TopRow> ParseTop(const std::string& text) {
  std::map<std::string, TopRow> rows;
  bool in_table = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, "flat%")) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 6) continue;
    std::vector<absl::string_view> name(fields.begin() + 5, fields.end());
    rows[absl::StrJoin(name, " ")] = {std::string(fields[0]),
                                      std::string(fields[3])};
  }
  return rows;
}

TEST(PprofGoToolTest, GoToolPprofReadsTheProfile) {
  std::string go = FindGo();
  ASSERT_FALSE(go.empty())
      << "go is not installed (/usr/bin/go or /usr/lib/go/bin/go); "
         "deploy/install-deps.sh installs golang-go, whose `go tool pprof` "
         "these tests use as the reference reader";
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  absl::StatusOr<std::string> gz = RenderPprof(MakeView());
  ASSERT_TRUE(gz.ok()) << gz.status();
  const std::string file = dir.path() + "/tracectl.pb.gz";
  {
    std::ofstream out(file, std::ios::binary);
    out << *gz;
    ASSERT_TRUE(out.good());
  }

  // Counts, one trace per sample, leaf first.
  std::string err;
  int status = 0;
  std::string traces_text = GoToolPprof(
      go, dir, "-traces -sample_index=samples", file, &err, &status);
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(err, "");
  EXPECT_TRUE(absl::StrContains(traces_text, "Type: samples")) << traces_text;
  EXPECT_TRUE(absl::StrContains(traces_text, "Total samples = 115"))
      << traces_text;
  std::vector<Trace> traces = ParseTraces(traces_text);
  ASSERT_EQ(traces.size(), 5u) << traces_text;
  using Names = std::vector<std::string>;
  using Labels = std::map<std::string, std::string>;
  EXPECT_EQ(traces[0].value, 50);
  EXPECT_EQ(traces[0].frames, (Names{"hot_a", "work", "main", "hot"}));
  EXPECT_EQ(traces[0].labels, (Labels{{"comm", "hot"}, {"pid", "100"}}));
  EXPECT_EQ(traces[1].value, 25);
  EXPECT_EQ(traces[1].frames, (Names{"hot_a", "work", "main", "hot"}));
  EXPECT_EQ(traces[1].labels, (Labels{{"comm", "hot"}, {"pid", "101"}}));
  EXPECT_EQ(traces[2].value, 25);
  EXPECT_EQ(traces[2].frames, (Names{"hot_b", "work", "main", "hot"}));
  EXPECT_EQ(traces[3].value, 10);
  EXPECT_EQ(traces[3].frames, (Names{"do_syscall_64", "main", "cold"}));
  EXPECT_EQ(traces[3].labels, (Labels{{"comm", "cold"}, {"pid", "200"}}));
  EXPECT_EQ(traces[4].value, 5);
  EXPECT_EQ(traces[4].frames, (Names{"[libfoo.so+0x1a2b]", "cold"}));

  // Per function: the process node carries its whole stack.
  std::string top_text =
      GoToolPprof(go, dir, "-top -nodecount=100 -sample_index=samples", file,
                  &err, &status);
  ASSERT_EQ(status, 0) << err;
  std::map<std::string, TopRow> top = ParseTop(top_text);
  ASSERT_EQ(top.count("hot"), 1u) << top_text;
  EXPECT_EQ(top["hot"].cum, "100") << top_text;
  EXPECT_EQ(top["hot"].flat, "0") << top_text;
  EXPECT_EQ(top["work"].cum, "100") << top_text;
  EXPECT_EQ(top["hot_a"].flat, "75") << top_text;
  EXPECT_EQ(top["hot_b"].flat, "25") << top_text;
  EXPECT_EQ(top["cold"].cum, "15") << top_text;
  EXPECT_EQ(top["[libfoo.so+0x1a2b]"].flat, "5") << top_text;

  // The default sample type is cpu time: samples * 10ms at 100 Hz.
  top_text = GoToolPprof(go, dir, "-top -nodecount=100", file, &err, &status);
  ASSERT_EQ(status, 0) << err;
  EXPECT_TRUE(absl::StrContains(top_text, "Duration: 2.50s")) << top_text;
  top = ParseTop(top_text);
  EXPECT_EQ(top["hot_a"].flat, "750ms") << top_text;
  EXPECT_EQ(top["hot_b"].flat, "250ms") << top_text;
  EXPECT_EQ(top["hot"].cum, "1000ms") << top_text;

  // The labels filter: only pid 101's 25 hot_a samples.
  top_text = GoToolPprof(go, dir,
                         "-top -nodecount=100 -sample_index=samples "
                         "-tagfocus=pid=101",
                         file, &err, &status);
  ASSERT_EQ(status, 0) << err;
  top = ParseTop(top_text);
  EXPECT_EQ(top["hot_a"].flat, "25") << top_text;
  EXPECT_EQ(top.count("hot_b"), 0u) << top_text;
}

// ---- speedscope ----

// Runs a Python check on the JSON; it prints one line per profile,
// "name endValue weightsum: stack*weight|..." with frames named (control
// characters and backslashes escaped as in Python), or fails.
std::string SummarizeWithPython(const std::string& json, std::string* err,
                                int* status) {
  TempDir dir;
  const std::string file = dir.path() + "/profile.speedscope.json";
  {
    std::ofstream out(file, std::ios::binary);
    out << json;
  }
  const std::string script = dir.path() + "/check.py";
  {
    std::ofstream out(script);
    out << R"(import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert d["$schema"] == "https://www.speedscope.app/file-format-schema.json"
assert d["exporter"] == "tracectl"
assert isinstance(d["name"], str)
frames = d["shared"]["frames"]
esc = lambda s: s.encode("unicode_escape").decode("ascii")
for f in frames:
    assert isinstance(f["name"], str), f
    assert set(f) <= {"name", "file"}, f
assert 0 <= d["activeProfileIndex"] < max(1, len(d["profiles"]))
for p in d["profiles"]:
    assert p["type"] == "sampled" and p["unit"] == "none", p
    assert p["startValue"] == 0
    assert len(p["samples"]) == len(p["weights"])
    assert all(isinstance(w, int) and w >= 0 for w in p["weights"])
    assert p["endValue"] == sum(p["weights"])
    stacks = []
    for s in p["samples"]:
        assert all(isinstance(i, int) and 0 <= i < len(frames) for i in s), s
        stacks.append(";".join(esc(frames[i]["name"]) for i in s))
    print(esc(p["name"]), p["endValue"], sum(p["weights"]), end=": ")
    print("|".join("%s*%d" % (s, w) for s, w in zip(stacks, p["weights"])))
print("frames", ",".join(esc(f["name"] + "@" + f.get("file", ""))
                         for f in frames))
)";
  }
  std::string out;
  *status = Run(absl::StrCat(kPython, " '", script, "' '", file, "'"),
                dir.path(), &out, err);
  return out;
}

TEST(SpeedscopeTest, OneSampledProfilePerProcess) {
  std::string json = RenderSpeedscope(MakeView(), "tracectl flame");
  std::string err;
  int status = 0;
  std::string summary = SummarizeWithPython(json, &err, &status);
  ASSERT_EQ(status, 0) << err << "\n" << json;
  EXPECT_EQ(summary,
            "hot 100 100: main;work;hot_a*50|main;work;hot_a*25|"
            "main;work;hot_b*25\n"
            "cold 15 15: main;do_syscall_64*10|[libfoo.so+0x1a2b]*5\n"
            "frames main@hot,work@hot,hot_a@hot,hot_b@libc.so.6,main@cold,"
            "do_syscall_64@[kernel.kallsyms],[libfoo.so+0x1a2b]@libfoo.so\n");
  EXPECT_TRUE(absl::StrContains(json, "\"name\":\"tracectl flame\""));
  EXPECT_TRUE(absl::StrContains(json, "\"activeProfileIndex\":0"));
  // The same view gives the same bytes.
  EXPECT_EQ(json, RenderSpeedscope(MakeView(), "tracectl flame"));
}

TEST(SpeedscopeTest, BusiestProcessFirstAndEscapedNames) {
  ProfileView view = MakeView();
  view.stacks[0].samples = 1;                   // hot: 51 in all.
  view.stacks.push_back({{5, 6, 7}, 50, 201});  // cold: 65.
  view.frames[7].name = "say \"hi\"\\\n\tnow";
  // A stack that is only its process: an empty speedscope stack.
  view.stacks.push_back({{0}, 3, 100});
  std::string json = RenderSpeedscope(view, "a \"quoted\" name");
  std::string err;
  int status = 0;
  std::string summary = SummarizeWithPython(json, &err, &status);
  ASSERT_EQ(status, 0) << err << "\n" << json;
  std::vector<std::string> lines = absl::StrSplit(summary, '\n');
  ASSERT_GE(lines.size(), 2u) << summary;
  EXPECT_EQ(lines[0],
            R"(cold 65 65: main;say "hi"\\\n\tnow*10|[libfoo.so+0x1a2b]*5|)"
            R"(main;say "hi"\\\n\tnow*50)")
      << summary;
  EXPECT_TRUE(absl::StrContains(summary, "hot 54 54: ")) << summary;
  EXPECT_TRUE(absl::StrContains(summary, "|*3")) << summary;
}

TEST(SpeedscopeTest, EmptyView) {
  std::string json = RenderSpeedscope(ProfileView(), "empty");
  std::string err;
  int status = 0;
  std::string summary = SummarizeWithPython(json, &err, &status);
  ASSERT_EQ(status, 0) << err << "\n" << json;
  EXPECT_EQ(summary, "frames \n");
}

}  // namespace
}  // namespace tracectl

namespace tracectl {
namespace {

// A daemon's profile with a Python frame under a native one.
v1::ProfileData PythonProfile() {
  v1::ProfileData data;
  v1::Frame* main = data.add_frames();
  main->set_function("Py_BytesMain");
  main->set_module("python3.11");
  main->set_kind(v1::MODULE_EXECUTABLE);
  for (int line : {5, 6}) {
    v1::Frame* spin = data.add_frames();
    spin->set_function("Worker.spin");
    spin->set_module("/srv/app.py");
    spin->set_kind(v1::MODULE_PYTHON);
    spin->set_file("/srv/app.py");
    spin->set_line(line);
  }
  for (uint32_t leaf : {1u, 2u}) {
    v1::Stack* stack = data.add_stacks();
    stack->set_comm("python3");
    stack->set_pid(7);
    stack->set_samples(leaf == 1 ? 30 : 10);
    stack->add_frames(0);
    stack->add_frames(leaf);
  }
  data.set_samples(40);
  data.set_frequency_hz(99);
  return data;
}

TEST(PythonFramesInFormatsTest, FoldedNamesFunctionFileAndLine) {
  const ProfileView view = BuildProfileView(PythonProfile());
  EXPECT_EQ(RenderFolded(view),
            "python3;Py_BytesMain;Worker.spin (/srv/app.py:5) 30\n"
            "python3;Py_BytesMain;Worker.spin (/srv/app.py:6) 10\n");
}

TEST(PythonFramesInFormatsTest, PprofCarriesFunctionFileAndLineApart) {
  const pp::Profile p = RenderAndParse(BuildProfileView(PythonProfile()));
  // One function for both lines, with the file; a location per line.
  int spins = 0;
  uint64_t spin_id = 0;
  for (const pp::Function& f : p.function()) {
    if (Str(p, f.name()) != "Worker.spin") continue;
    ++spins;
    spin_id = f.id();
    EXPECT_EQ(Str(p, f.filename()), "/srv/app.py");
  }
  EXPECT_EQ(spins, 1);
  std::set<int64_t> lines;
  for (const pp::Location& l : p.location()) {
    for (const pp::Line& line : l.line()) {
      if (line.function_id() == spin_id) lines.insert(line.line());
    }
  }
  EXPECT_EQ(lines, (std::set<int64_t>{5, 6}));
}

TEST(PythonFramesInFormatsTest, SpeedscopeCarriesFileAndLine) {
  const std::string json =
      RenderSpeedscope(BuildProfileView(PythonProfile()), "p");
  EXPECT_TRUE(absl::StrContains(
      json, "{\"name\":\"Worker.spin\",\"file\":\"/srv/app.py\",\"line\":5}"))
      << json;
  EXPECT_TRUE(absl::StrContains(
      json, "{\"name\":\"Worker.spin\",\"file\":\"/srv/app.py\",\"line\":6}"))
      << json;
}

TEST(PprofTest, SeveralHostsGetAHostLabel) {
  const v1::ProfileData data = PythonProfile();
  const pp::Profile p = RenderAndParse(
      BuildProfileView({{"h1:7443", &data}, {"h2:7443", &data}}));
  ASSERT_GT(p.sample_size(), 0);
  std::set<std::string> hosts;
  for (const pp::Sample& sample : p.sample()) {
    size_t with_host = 0;
    for (const std::string& label : SampleLabels(p, sample)) {
      if (absl::StartsWith(label, "host=")) {
        hosts.insert(label);
        ++with_host;
      }
      // The process is still the comm label, not the host.
      EXPECT_NE(label, "comm=h1:7443");
    }
    EXPECT_EQ(with_host, 1u);
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"host=h1:7443", "host=h2:7443"}));
}

}  // namespace
}  // namespace tracectl
