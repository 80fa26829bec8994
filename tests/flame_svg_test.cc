#include "client/flame_svg.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/profile_view.h"
#include "gtest/gtest.h"

namespace tracectl {
namespace {

// ---- Building views by hand -------------------------------------------------

uint32_t AddFrame(ProfileView* view, const std::string& name,
                  const std::string& module, FrameKind kind) {
  ViewFrame frame;
  frame.name = name;
  frame.module = module;
  frame.kind = kind;
  view->frames.push_back(frame);
  return static_cast<uint32_t>(view->frames.size() - 1);
}

void AddStack(ProfileView* view, std::vector<uint32_t> frames,
              uint64_t samples) {
  view->stacks.push_back({std::move(frames), samples, 1234});
  view->total_samples += samples;
}

// proc -> main -> work -> hot_a (75) and proc -> main -> work -> hot_b (25).
ProfileView HotView() {
  ProfileView view;
  const uint32_t proc = AddFrame(&view, "proc", "", FrameKind::kProcess);
  const uint32_t main = AddFrame(&view, "main", "prog", FrameKind::kExecutable);
  const uint32_t work = AddFrame(&view, "work", "prog", FrameKind::kExecutable);
  const uint32_t hot_b =
      AddFrame(&view, "hot_b", "prog", FrameKind::kExecutable);
  const uint32_t hot_a =
      AddFrame(&view, "hot_a", "prog", FrameKind::kExecutable);
  AddStack(&view, {proc, main, work, hot_b}, 25);
  AddStack(&view, {proc, main, work, hot_a}, 75);
  return view;
}

// ---- Reading the output -----------------------------------------------------

// Every `<g class="frame ...">...</g>` element, in document order.
std::vector<std::string> FrameElements(const std::string& svg) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = svg.find("<g class=\"frame", at)) != std::string::npos) {
    const size_t end = svg.find("</g>", at);
    if (end == std::string::npos) break;
    out.push_back(svg.substr(at, end + 4 - at));
    at = end;
  }
  return out;
}

// The value of attribute `name` in the first tag of `element`.
std::string Attribute(const std::string& element, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const size_t tag_end = element.find('>');
  const size_t at = element.find(key);
  if (at == std::string::npos || at > tag_end) return "<missing>";
  const size_t start = at + key.size();
  return element.substr(start, element.find('"', start) - start);
}

// The frames whose data-name is `escaped_name` (as it appears in the file).
std::vector<std::string> FramesNamed(const std::string& svg,
                                     const std::string& escaped_name) {
  std::vector<std::string> out;
  for (const std::string& g : FrameElements(svg)) {
    if (Attribute(g, "data-name") == escaped_name) out.push_back(g);
  }
  return out;
}

std::string Between(const std::string& s, const std::string& open,
                    const std::string& close) {
  const size_t at = s.find(open);
  if (at == std::string::npos) return "<missing>";
  const size_t start = at + open.size();
  return s.substr(start, s.find(close, start) - start);
}

bool IsEntity(const std::string& s, size_t at) {
  const size_t end = s.find(';', at);
  if (end == std::string::npos || end - at > 10) return false;
  const std::string name = s.substr(at + 1, end - at - 1);
  if (name == "amp" || name == "lt" || name == "gt" || name == "quot" ||
      name == "apos") {
    return true;
  }
  if (name.size() < 2 || name[0] != '#') return false;
  const bool hex = name[1] == 'x';
  const std::string digits = name.substr(hex ? 2 : 1);
  return !digits.empty() &&
         std::all_of(digits.begin(), digits.end(), [&](char c) {
           return hex ? isxdigit(static_cast<unsigned char>(c))
                      : isdigit(static_cast<unsigned char>(c));
         });
}

// A small well-formedness check: one root element, tags nested properly,
// no raw '<' or stray '&' in text or attribute values, CDATA closed, and
// the bytes valid UTF-8 (checked loosely: no 0xC0, 0xC1 or 0xF5..0xFF).
// Returns "" or what is wrong.
std::string WellFormedError(const std::string& xml) {
  for (unsigned char c : xml) {
    if (c == 0xC0 || c == 0xC1 || c >= 0xF5) return "byte not valid in UTF-8";
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
      return "control character";
    }
  }
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  if (absl::StartsWith(xml, "<?xml")) i = xml.find("?>") + 2;
  while (i < xml.size()) {
    const char c = xml[i];
    if (c == '&') {
      if (!IsEntity(xml, i)) return absl::StrCat("bad entity at ", i);
      ++i;
      continue;
    }
    if (c != '<') {
      if (open.empty() && !isspace(static_cast<unsigned char>(c))) {
        return absl::StrCat("text outside the root at ", i);
      }
      ++i;
      continue;
    }
    if (xml.compare(i, 9, "<![CDATA[") == 0) {
      const size_t end = xml.find("]]>", i);
      if (end == std::string::npos) return "unclosed CDATA";
      i = end + 3;
      continue;
    }
    if (xml.compare(i, 4, "<!--") == 0) {
      const size_t end = xml.find("-->", i);
      if (end == std::string::npos) return "unclosed comment";
      i = end + 3;
      continue;
    }
    // A tag: scan to its '>' outside quotes.
    size_t j = i + 1;
    char quote = 0;
    for (; j < xml.size(); ++j) {
      const char d = xml[j];
      if (quote != 0) {
        if (d == quote) {
          quote = 0;
        } else if (d == '<') {
          return absl::StrCat("'<' in an attribute at ", j);
        } else if (d == '&' && !IsEntity(xml, j)) {
          return absl::StrCat("bad entity in an attribute at ", j);
        }
      } else if (d == '"' || d == '\'') {
        quote = d;
      } else if (d == '<') {
        return absl::StrCat("'<' inside a tag at ", j);
      } else if (d == '>') {
        break;
      }
    }
    if (j >= xml.size()) return "unclosed tag";
    std::string tag = xml.substr(i + 1, j - i - 1);
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool empty = !tag.empty() && tag.back() == '/';
    std::string name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" \t\n/"));
    if (name.empty()) return absl::StrCat("tag without a name at ", i);
    if (closing) {
      if (open.empty() || open.back() != name) {
        return absl::StrCat("</", name, "> closes <",
                            open.empty() ? "nothing" : open.back(), ">");
      }
      open.pop_back();
    } else {
      if (open.empty() && ++roots > 1) return "more than one root element";
      if (!empty) open.push_back(name);
    }
    i = j + 1;
  }
  if (!open.empty()) return absl::StrCat("<", open.back(), "> is not closed");
  if (roots != 1) return "no root element";
  return "";
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos;
       at = s.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

// ---- Static output ----------------------------------------------------------

TEST(FlameSvgTest, IsAWellFormedSelfContainedSvg) {
  const std::string svg = RenderFlameSvg(HotView(), {});
  EXPECT_TRUE(absl::StartsWith(svg, "<?xml version=\"1.0\""));
  EXPECT_TRUE(absl::StrContains(svg, "<svg "));
  EXPECT_TRUE(absl::StrContains(svg, "xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_TRUE(absl::StrContains(svg, "<style type=\"text/css\"><![CDATA["));
  EXPECT_TRUE(
      absl::StrContains(svg, "<script type=\"text/ecmascript\"><![CDATA["));
  EXPECT_TRUE(absl::StrContains(svg, "window.tracectlSearch"));
  EXPECT_EQ(WellFormedError(svg), "");
  EXPECT_EQ(Count(svg, "<g "), Count(svg, "</g>"));
  // Nothing is fetched.
  EXPECT_FALSE(absl::StrContains(svg, "href"));
  EXPECT_FALSE(absl::StrContains(svg, "src="));
  EXPECT_FALSE(absl::StrContains(svg, "@import"));
  // The ids the browser check and people's scripts rely on.
  for (const char* id : {"details", "matched", "reset-zoom", "search",
                         "clear-search", "frames", "title"}) {
    EXPECT_TRUE(absl::StrContains(svg, absl::StrCat("id=\"", id, "\""))) << id;
  }
}

TEST(FlameSvgTest, MergesStacksIntoOneFramePerCallPath) {
  const std::string svg = RenderFlameSvg(HotView(), {});
  // all, proc, main, work, hot_a, hot_b.
  EXPECT_EQ(FrameElements(svg).size(), 6u);

  const auto all = FramesNamed(svg, "all");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(Attribute(all[0], "data-samples"), "100");
  EXPECT_EQ(Attribute(all[0], "data-depth"), "0");

  const auto work = FramesNamed(svg, "work");
  ASSERT_EQ(work.size(), 1u);
  EXPECT_EQ(Attribute(work[0], "data-samples"), "100");
  EXPECT_EQ(Attribute(work[0], "data-depth"), "3");

  const auto hot_a = FramesNamed(svg, "hot_a");
  ASSERT_EQ(hot_a.size(), 1u);
  EXPECT_EQ(Attribute(hot_a[0], "data-samples"), "75");
  EXPECT_EQ(Attribute(hot_a[0], "data-module"), "prog");
  EXPECT_EQ(Attribute(hot_a[0], "data-kind"), "executable");
  EXPECT_EQ(Between(hot_a[0], "<title>", "</title>"),
            "hot_a (prog) \xE2\x80\x94 75 samples, 75.00%");
  // 75% of the 1180 px plot.
  EXPECT_EQ(Between(hot_a[0], "width=\"", "\""), "885.00");

  const auto proc = FramesNamed(svg, "proc");
  ASSERT_EQ(proc.size(), 1u);
  EXPECT_EQ(Between(proc[0], "<title>", "</title>"),
            "proc (process) \xE2\x80\x94 100 samples, 100.00%");
}

TEST(FlameSvgTest, PutsTheRootAtTheBottom) {
  const std::string svg = RenderFlameSvg(HotView(), {});
  const auto y = [&](const std::string& name) {
    return std::stod(Between(FramesNamed(svg, name)[0], " y=\"", "\""));
  };
  EXPECT_GT(y("all"), y("proc"));
  EXPECT_GT(y("proc"), y("main"));
  EXPECT_GT(y("work"), y("hot_a"));
  EXPECT_EQ(y("hot_a"), y("hot_b"));
  EXPECT_EQ(y("proc") - y("main"), 16);
}

TEST(FlameSvgTest, SortsSiblingsByNameWhateverTheStackOrder) {
  ProfileView view = HotView();
  const std::string svg = RenderFlameSvg(view, {});
  const auto hot_a = FramesNamed(svg, "hot_a");
  const auto hot_b = FramesNamed(svg, "hot_b");
  ASSERT_EQ(hot_a.size(), 1u);
  ASSERT_EQ(hot_b.size(), 1u);
  EXPECT_EQ(Attribute(hot_a[0], "data-x"), "0");
  EXPECT_EQ(Attribute(hot_b[0], "data-x"), "75");

  std::reverse(view.stacks.begin(), view.stacks.end());
  EXPECT_EQ(RenderFlameSvg(view, {}), svg);
}

TEST(FlameSvgTest, EscapesXmlInNamesModulesAndTitles) {
  ProfileView view;
  const uint32_t proc = AddFrame(&view, "a<b>", "", FrameKind::kProcess);
  const uint32_t shift =
      AddFrame(&view, "operator<<", "lib&co.so", FrameKind::kLibrary);
  const uint32_t amp = AddFrame(&view, "a&b", "prog", FrameKind::kExecutable);
  const uint32_t quoted =
      AddFrame(&view, "say \"hi\" 'there'", "prog", FrameKind::kExecutable);
  const uint32_t bad_bytes =
      AddFrame(&view, "bad\xff\xc3(\x01)]]>", "prog", FrameKind::kExecutable);
  AddStack(&view, {proc, shift, amp}, 10);
  AddStack(&view, {proc, quoted}, 10);
  AddStack(&view, {proc, bad_bytes}, 10);
  FlameSvgOptions options;
  options.title = "flame <&>";
  options.subtitle = "pid 1 \"x\"";
  const std::string svg = RenderFlameSvg(view, options);

  EXPECT_EQ(WellFormedError(svg), "");
  EXPECT_FALSE(absl::StrContains(svg, "operator<<"));
  EXPECT_FALSE(absl::StrContains(svg, "a&b"));
  EXPECT_FALSE(absl::StrContains(svg, "a<b>"));
  EXPECT_FALSE(absl::StrContains(svg, "lib&co"));
  EXPECT_EQ(FramesNamed(svg, "operator&lt;&lt;").size(), 1u);
  EXPECT_EQ(FramesNamed(svg, "a&amp;b").size(), 1u);
  EXPECT_EQ(FramesNamed(svg, "a&lt;b&gt;").size(), 1u);
  EXPECT_EQ(FramesNamed(svg, "say &quot;hi&quot; &#39;there&#39;").size(), 1u);
  EXPECT_TRUE(absl::StrContains(
      svg, "<title>operator&lt;&lt; (lib&amp;co.so) \xE2\x80\x94 10 samples"));
  EXPECT_TRUE(absl::StrContains(svg, ">flame &lt;&amp;&gt;</text>"));
  EXPECT_TRUE(absl::StrContains(svg, ">pid 1 &quot;x&quot;</text>"));
  // Bytes that are not text become U+FFFD; the "]]>" is only text.
  EXPECT_EQ(FramesNamed(svg, "bad\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD)]]&gt;")
                .size(),
            1u);
}

TEST(FlameSvgTest, OmitsFramesNarrowerThanATenthOfAPixel) {
  ProfileView view;
  const uint32_t proc = AddFrame(&view, "proc", "", FrameKind::kProcess);
  const uint32_t big = AddFrame(&view, "big", "prog", FrameKind::kExecutable);
  const uint32_t tiny = AddFrame(&view, "tiny", "prog", FrameKind::kExecutable);
  const uint32_t deeper =
      AddFrame(&view, "deeper", "prog", FrameKind::kExecutable);
  AddStack(&view, {proc, big}, 1000000);
  AddStack(&view, {proc, tiny, deeper}, 1);
  const std::string svg = RenderFlameSvg(view, {});
  EXPECT_TRUE(FramesNamed(svg, "tiny").empty());
  EXPECT_TRUE(FramesNamed(svg, "deeper").empty());
  EXPECT_EQ(Attribute(FramesNamed(svg, "all")[0], "data-samples"), "1000001");
  EXPECT_EQ(Attribute(FramesNamed(svg, "proc")[0], "data-samples"), "1000001");
  EXPECT_TRUE(absl::StrContains(svg, "1,000,001 samples, 100.00%"));
  // The picture is only as tall as the frames drawn: all, proc, big.
  EXPECT_EQ(WellFormedError(svg), "");
  EXPECT_EQ(Attribute(svg.substr(svg.find("<svg")), "height"), "122");
}

TEST(FlameSvgTest, CutsLabelsToFitTheirFrames) {
  ProfileView view;
  const std::string long_name(200, 'x');
  const uint32_t proc = AddFrame(&view, "proc", "", FrameKind::kProcess);
  const uint32_t wide =
      AddFrame(&view, long_name, "prog", FrameKind::kExecutable);
  const uint32_t narrow =
      AddFrame(&view, "narrow_function_name", "prog", FrameKind::kExecutable);
  AddStack(&view, {proc, wide}, 60);
  AddStack(&view, {proc, narrow}, 3);  // About 56 px: 4 characters and "..".
  const std::string svg = RenderFlameSvg(view, {});
  const auto wide_g = FramesNamed(svg, long_name);
  ASSERT_EQ(wide_g.size(), 1u);
  const std::string wide_label = Between(wide_g[0], "<text", "</text>");
  EXPECT_TRUE(absl::EndsWith(wide_label, "x.."));
  EXPECT_LT(wide_label.size(), long_name.size());
  const auto narrow_g = FramesNamed(svg, "narrow_function_name");
  ASSERT_EQ(narrow_g.size(), 1u);
  EXPECT_TRUE(
      absl::EndsWith(Between(narrow_g[0], "<text", "</text>"), ">narr.."));
  // The title keeps the whole name.
  EXPECT_TRUE(absl::StrContains(narrow_g[0], "<title>narrow_function_name ("));
}

struct Rgb {
  int r, g, b;
};

Rgb FillOf(const std::string& frame) {
  Rgb c{-1, -1, -1};
  sscanf(Between(frame, "fill=\"", "\"").c_str(), "rgb(%d,%d,%d)", &c.r, &c.g,
         &c.b);
  return c;
}

TEST(FlameSvgTest, ColoursFramesByKindAndName) {
  ProfileView view;
  const uint32_t proc = AddFrame(&view, "proc", "", FrameKind::kProcess);
  const uint32_t exe = AddFrame(&view, "main", "prog", FrameKind::kExecutable);
  const uint32_t lib =
      AddFrame(&view, "memcpy", "libc.so.6", FrameKind::kLibrary);
  const uint32_t jit =
      AddFrame(&view, "LazyCompile:f", "[jit]", FrameKind::kJit);
  const uint32_t kernel =
      AddFrame(&view, "do_syscall_64", "[kernel.kallsyms]", FrameKind::kKernel);
  const uint32_t unknown =
      AddFrame(&view, "[x+0x1]", "[unknown]", FrameKind::kUnknown);
  const uint32_t lib2 =
      AddFrame(&view, "memcpy", "libc.so.6", FrameKind::kLibrary);
  AddStack(&view, {proc, exe, lib, kernel}, 10);
  AddStack(&view, {proc, exe, jit, unknown}, 10);
  AddStack(&view, {proc, exe, jit, lib2}, 10);
  const std::string svg = RenderFlameSvg(view, {});

  const Rgb p = FillOf(FramesNamed(svg, "proc")[0]);
  EXPECT_GT(p.b, p.g);
  EXPECT_GT(p.g, p.r);  // Blue.
  const Rgb e = FillOf(FramesNamed(svg, "main")[0]);
  EXPECT_GT(e.r, 200);
  EXPECT_LT(e.g, 130);  // Red.
  const Rgb l = FillOf(FramesNamed(svg, "memcpy")[0]);
  EXPECT_GT(l.r, 200);
  EXPECT_GT(l.g, 185);
  EXPECT_LT(l.b, 115);  // Yellow.
  const Rgb j = FillOf(FramesNamed(svg, "LazyCompile:f")[0]);
  EXPECT_GT(j.g, j.r);
  EXPECT_GT(j.g, j.b);  // Green.
  const Rgb k = FillOf(FramesNamed(svg, "do_syscall_64")[0]);
  EXPECT_GT(k.r, k.g);
  EXPECT_GT(k.g, k.b);
  EXPECT_GE(k.g, 125);  // Orange.
  const Rgb u = FillOf(FramesNamed(svg, "[x+0x1]")[0]);
  EXPECT_EQ(u.r, u.g);
  EXPECT_EQ(u.g, u.b);  // Grey.
  // The same name gets the same colour wherever it is.
  const auto memcpys = FramesNamed(svg, "memcpy");
  ASSERT_EQ(memcpys.size(), 2u);
  EXPECT_EQ(Between(memcpys[0], "fill=\"", "\""),
            Between(memcpys[1], "fill=\"", "\""));
}

TEST(FlameSvgTest, EmptyProfileSaysNoSamples) {
  FlameSvgOptions options;
  options.subtitle = "pid 42, 5 s";
  for (const ProfileView& view :
       {ProfileView{}, [] {
          ProfileView v;
          AddStack(&v, {AddFrame(&v, "proc", "", FrameKind::kProcess)}, 0);
          return v;
        }()}) {
    const std::string svg = RenderFlameSvg(view, options);
    EXPECT_TRUE(absl::StartsWith(svg, "<?xml"));
    EXPECT_EQ(WellFormedError(svg), "");
    EXPECT_TRUE(absl::StrContains(svg, ">no samples</text>"));
    EXPECT_TRUE(absl::StrContains(svg, "pid 42, 5 s"));
    EXPECT_TRUE(FrameElements(svg).empty());
  }
}

// ---- In a real browser ------------------------------------------------------

// app: main -> work -> hot_a 60, main -> work -> hot_b 20,
//      main -> other -> hot_a 10, main -> hot_a -> hot_a 5 (recursion);
// bash: main -> readline (libreadline) -> read (kernel) 5.
// hot_a covers 60 + 10 + 5 = 75 of 100 samples: the nested hot_a counts once.
ProfileView BrowserView() {
  ProfileView view;
  const uint32_t app = AddFrame(&view, "app", "", FrameKind::kProcess);
  const uint32_t bash = AddFrame(&view, "bash", "", FrameKind::kProcess);
  const uint32_t main = AddFrame(&view, "main", "app", FrameKind::kExecutable);
  const uint32_t work = AddFrame(&view, "work", "app", FrameKind::kExecutable);
  const uint32_t other =
      AddFrame(&view, "other", "app", FrameKind::kExecutable);
  const uint32_t hot_a =
      AddFrame(&view, "hot_a", "app", FrameKind::kExecutable);
  const uint32_t hot_b =
      AddFrame(&view, "hot_b", "app", FrameKind::kExecutable);
  const uint32_t bash_main =
      AddFrame(&view, "main", "bash", FrameKind::kExecutable);
  const uint32_t readline =
      AddFrame(&view, "readline", "libreadline.so.8", FrameKind::kLibrary);
  const uint32_t read =
      AddFrame(&view, "ksys_read", "[kernel.kallsyms]", FrameKind::kKernel);
  AddStack(&view, {app, main, work, hot_a}, 60);
  AddStack(&view, {app, main, work, hot_b}, 20);
  AddStack(&view, {app, main, other, hot_a}, 10);
  AddStack(&view, {app, main, hot_a, hot_a}, 5);
  AddStack(&view, {bash, bash_main, readline, read}, 5);
  return view;
}

std::string BrowserCheckScript() {
  std::string here = __FILE__;
  here = here.substr(0, here.find_last_of('/') + 1);
  return here + "browser/check_flame_svg.py";
}

TEST(FlameSvgBrowserTest, SearchZoomAndResetWorkInChromium) {
  // deploy/install-deps.sh installs these (chromium, chromium-driver,
  // python3-selenium); a missing one is a broken setup, not a skip.
  for (const char* tool :
       {"/usr/bin/chromium", "/usr/bin/chromedriver", "/usr/bin/python3"}) {
    ASSERT_EQ(access(tool, X_OK), 0)
        << tool << " is missing: run deploy/install-deps.sh";
  }
  const std::string script = BrowserCheckScript();
  ASSERT_EQ(access(script.c_str(), R_OK), 0) << script << " is missing";

  char dir_template[] = "/tmp/flame_svg_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string svg_path = dir + "/flame.svg";
  {
    FlameSvgOptions options;
    options.subtitle = "browser check: app and bash, 100 samples";
    std::ofstream out(svg_path);
    out << RenderFlameSvg(BrowserView(), options);
    ASSERT_TRUE(out.good());
  }
  const std::string command =
      absl::StrCat("/usr/bin/python3 '", script, "' '", svg_path,
                   "' hot_a --expect-percent 75 --tolerance 0.01 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  const int status = pclose(pipe);
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  EXPECT_TRUE(ok) << "browser check failed (exit status " << status
                  << "); the SVG is kept at " << svg_path << "\n"
                  << output;
  EXPECT_TRUE(absl::StrContains(output, "all checks passed")) << output;
  std::cout << output;
  if (ok) {
    unlink(svg_path.c_str());
    rmdir(dir.c_str());
  }
}

}  // namespace
}  // namespace tracectl
