#include "client/flame_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace tracectl {
namespace {

// Geometry, in SVG user units (pixels at 100% zoom).
constexpr double kImageWidth = 1200;
constexpr double kSidePad = 10;
constexpr double kPlotWidth = kImageWidth - 2 * kSidePad;
constexpr double kFrameHeight = 16;
constexpr double kFrameGap = 1;
// Narrower frames are left out of the file; their samples still count in
// their parents' widths.
constexpr double kMinFrameWidth = 0.1;
constexpr double kFontSize = 12;
// An estimate of one character's advance, used to cut labels to fit. The
// script uses the same number, so labels cut the same way after a zoom.
constexpr double kCharWidth = 0.6 * kFontSize;
constexpr double kTextPad = 3;
constexpr double kTitleBaseline = 24;
constexpr double kSubtitleBaseline = 44;
constexpr double kFramesTopNoSubtitle = 40;
constexpr double kFramesTopWithSubtitle = 58;
constexpr double kBottomArea = 34;

constexpr uint32_t kRootFrame = UINT32_MAX;

// ---- Text ------------------------------------------------------------------

bool XmlAllowed(uint32_t cp) {
  if (cp < 0x20) return cp == '\t' || cp == '\n' || cp == '\r';
  if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  return cp != 0xFFFE && cp != 0xFFFF && cp <= 0x10FFFF;
}

// `s` as valid UTF-8 holding only characters XML 1.0 allows: every byte
// that does not start a well-formed sequence, and every character XML
// forbids, becomes U+FFFD. Symbol names are bytes, not always text.
std::string CleanText(absl::string_view s) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if (lead < 0x80) {
      len = 1;
      cp = lead;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      len = 2;
      cp = lead & 0x1F;
      min = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      len = 3;
      cp = lead & 0x0F;
      min = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      len = 4;
      cp = lead & 0x07;
      min = 0x10000;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (c & 0x3F);
      }
    }
    ok = ok && cp >= min && XmlAllowed(cp);
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

// Characters in valid UTF-8 text.
size_t CodePoints(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The first `n` characters of valid UTF-8 text.
absl::string_view FirstCodePoints(absl::string_view s, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == n) return s.substr(0, i);
      ++seen;
    }
  }
  return s;
}

// Escapes cleaned text for element content and attribute values alike.
std::string XmlEscape(absl::string_view clean) {
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Escaped(absl::string_view raw) { return XmlEscape(CleanText(raw)); }

// The label drawn inside a frame `width` pixels wide: the whole name, or its
// start and "..", or nothing when not even three characters fit.
std::string FitLabel(absl::string_view clean_name, double width) {
  const double room = (width - 2 * kTextPad) / kCharWidth;
  if (room < 3) return "";
  const auto max_chars = static_cast<size_t>(room);
  if (CodePoints(clean_name) <= max_chars) return std::string(clean_name);
  return absl::StrCat(FirstCodePoints(clean_name, max_chars - 2), "..");
}

// 1234567 -> "1,234,567".
std::string WithThousands(uint64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// ---- Colours ---------------------------------------------------------------

uint64_t NameHash(absl::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

struct ChannelRange {
  int lo;
  int hi;
};
struct Palette {
  ChannelRange r, g, b;
};

Palette PaletteFor(FrameKind kind) {
  switch (kind) {
    case FrameKind::kKernel:  // orange
      return {{225, 255}, {125, 175}, {20, 60}};
    case FrameKind::kExecutable:  // warm red
      return {{210, 250}, {55, 110}, {45, 75}};
    case FrameKind::kLibrary:  // yellow
      return {{205, 235}, {190, 225}, {55, 110}};
    case FrameKind::kJit:  // green
      return {{70, 135}, {180, 225}, {70, 115}};
    case FrameKind::kPython:  // aqua
      return {{60, 110}, {175, 215}, {175, 215}};
    case FrameKind::kProcess:  // steel blue
      return {{110, 145}, {150, 185}, {195, 230}};
    case FrameKind::kHost:  // slate
      return {{120, 150}, {130, 160}, {160, 190}};
    case FrameKind::kUnknown:
      break;
  }
  return {{170, 205}, {170, 205}, {170, 205}};  // grey
}

std::string FillFor(FrameKind kind, absl::string_view name) {
  const Palette p = PaletteFor(kind);
  const uint64_t h = NameHash(name);
  auto pick = [](ChannelRange range, uint64_t bits) {
    const double v = static_cast<double>(bits & 0xFFFF) / 0xFFFF;
    return range.lo + static_cast<int>(std::lround(v * (range.hi - range.lo)));
  };
  int r = pick(p.r, h);
  int g = pick(p.g, h >> 16);
  int b = pick(p.b, h >> 32);
  if (kind == FrameKind::kUnknown) g = b = r;
  return absl::StrFormat("rgb(%d,%d,%d)", r, g, b);
}

constexpr char kRootFill[] = "rgb(188,188,196)";

// ---- The merged call tree --------------------------------------------------

struct Node {
  uint32_t frame = kRootFrame;
  uint64_t samples = 0;
  uint64_t x = 0;  // Samples to the left of this node at its depth.
  int depth = 0;
  std::vector<size_t> children;
};

std::vector<Node> BuildTree(const ProfileView& view) {
  std::vector<Node> nodes(1);
  std::map<std::pair<size_t, uint32_t>, size_t> child_of;
  for (const ViewStack& stack : view.stacks) {
    if (stack.samples == 0) continue;
    size_t at = 0;
    nodes[0].samples += stack.samples;
    for (uint32_t frame : stack.frames) {
      if (frame >= view.frames.size()) continue;
      auto [it, inserted] = child_of.emplace(std::make_pair(at, frame), 0);
      if (inserted) {
        it->second = nodes.size();
        Node child;
        child.frame = frame;
        child.depth = nodes[at].depth + 1;
        nodes.push_back(std::move(child));
        nodes[at].children.push_back(it->second);
      }
      at = it->second;
      nodes[at].samples += stack.samples;
    }
  }
  // Siblings in name order, as FlameGraph draws them, so that the same
  // profile always gives the same picture.
  auto key = [&](size_t n) {
    const ViewFrame& f = view.frames[nodes[n].frame];
    return std::tie(f.name, f.module, f.kind, nodes[n].frame);
  };
  for (Node& node : nodes) {
    std::sort(node.children.begin(), node.children.end(),
              [&](size_t a, size_t b) { return key(a) < key(b); });
  }
  // Parents come before their children in `nodes`, so one pass places all.
  for (Node& node : nodes) {
    uint64_t x = node.x;
    for (size_t c : node.children) {
      nodes[c].x = x;
      x += nodes[c].samples;
    }
  }
  return nodes;
}

// ---- Output ----------------------------------------------------------------

constexpr char kStyle[] = R"css(
text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: 12px; fill: #000; }
.background { fill: #f6f6f2; }
.title { font-size: 17px; text-anchor: middle; }
.subtitle { fill: #555; text-anchor: middle; }
.control { fill: #1d3f8f; cursor: pointer; }
.control:hover { text-decoration: underline; }
.control.disabled { opacity: 0.3; cursor: default; text-decoration: none; }
.hidden { display: none; }
.frame { cursor: pointer; }
.frame text { pointer-events: none; }
.frame:hover rect { stroke: #222; stroke-width: 0.7; }
.frame.ancestor rect { fill-opacity: 0.45; }
.frame.ancestor text { opacity: 0.6; }
#matched { text-anchor: end; }
#no-samples { font-size: 14px; fill: #555; text-anchor: middle; }
)css";

// Everything interactive. The frames carry their place in sample units
// (data-x, data-samples, data-depth); a zoom recomputes pixels from those.
constexpr char kScript[] = R"js(
(function () {
  'use strict';
  var svg = document.documentElement;
  var num = function (el, name) { return Number(el.getAttribute(name)); };
  var total = num(svg, 'data-total');
  var left = num(svg, 'data-left');
  var plotWidth = num(svg, 'data-plot-width');
  var charWidth = num(svg, 'data-char-width');
  var textPad = num(svg, 'data-text-pad');
  var highlight = 'rgb(224,0,224)';
  var details = document.getElementById('details');
  var matched = document.getElementById('matched');
  var resetButton = document.getElementById('reset-zoom');
  var searchButton = document.getElementById('search');
  var clearButton = document.getElementById('clear-search');
  var framesGroup = document.getElementById('frames');

  var frames = [];
  var byElement = new Map();
  Array.prototype.forEach.call(document.querySelectorAll('g.frame'), function (g) {
    var frame = {
      g: g,
      rect: g.querySelector('rect'),
      text: g.querySelector('text'),
      name: g.getAttribute('data-name'),
      label: g.querySelector('title').textContent,
      x: num(g, 'data-x'),
      w: num(g, 'data-samples'),
      depth: num(g, 'data-depth')
    };
    frame.fill = frame.rect.getAttribute('fill');
    frames.push(frame);
    byElement.set(g, frame);
  });
  var zoomed = null;

  function fitLabel(name, width) {
    var room = Math.floor((width - 2 * textPad) / charWidth);
    if (room < 3) return '';
    var chars = Array.from(name);
    if (chars.length <= room) return name;
    return chars.slice(0, room - 2).join('') + '..';
  }

  function place(frame, x, width) {
    frame.rect.setAttribute('x', x.toFixed(2));
    frame.rect.setAttribute('width', width.toFixed(2));
    frame.text.setAttribute('x', (x + textPad).toFixed(2));
    frame.text.textContent = fitLabel(frame.name, width);
  }

  function resetZoom() {
    var scale = plotWidth / total;
    frames.forEach(function (f) {
      f.g.classList.remove('hidden', 'ancestor');
      place(f, left + f.x * scale, f.w * scale);
    });
    zoomed = null;
    resetButton.classList.add('disabled');
  }

  // The frame fills the width; what it calls is spread under it; its
  // callers stay, dimmed, across the whole width; everything else goes.
  function zoom(target) {
    if (target.depth === 0) { resetZoom(); return; }
    var scale = plotWidth / target.w;
    var end = target.x + target.w;
    frames.forEach(function (f) {
      var inside = f.depth >= target.depth && f.x >= target.x && f.x + f.w <= end;
      var caller = f.depth < target.depth && f.x <= target.x && f.x + f.w >= end;
      f.g.classList.toggle('hidden', !inside && !caller);
      f.g.classList.toggle('ancestor', caller);
      if (inside) place(f, left + (f.x - target.x) * scale, f.w * scale);
      if (caller) place(f, left, plotWidth);
    });
    zoomed = target;
    resetButton.classList.remove('disabled');
  }

  function clearSearch() {
    frames.forEach(function (f) {
      f.rect.setAttribute('fill', f.fill);
      f.g.classList.remove('match');
    });
    matched.textContent = '';
    clearButton.classList.add('hidden');
  }

  // Highlights the frames whose names match `pattern` (a regular
  // expression) and returns the share of all samples under them, nested
  // matches counted once; null if the pattern is not a valid expression.
  function search(pattern) {
    if (pattern === null || pattern === undefined || pattern === '') {
      clearSearch();
      return 0;
    }
    var re;
    try {
      re = new RegExp(pattern);
    } catch (e) {
      clearSearch();
      matched.textContent = 'Invalid search: ' + e.message;
      return null;
    }
    var spans = [];
    frames.forEach(function (f) {
      var hit = f.depth > 0 && re.test(f.name);
      f.rect.setAttribute('fill', hit ? highlight : f.fill);
      f.g.classList.toggle('match', hit);
      if (hit) spans.push([f.x, f.x + f.w]);
    });
    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var covered = 0;
    var reach = -1;
    spans.forEach(function (s) {
      if (s[1] <= reach) return;
      covered += s[1] - Math.max(s[0], reach);
      reach = s[1];
    });
    var percent = total > 0 ? 100 * covered / total : 0;
    matched.textContent = 'Matched: ' + percent.toFixed(2) + '%';
    clearButton.classList.remove('hidden');
    return percent;
  }

  function askSearch() {
    var pattern = window.prompt('Search frames (regular expression):', '');
    if (pattern !== null) search(pattern);
  }

  function frameOf(node) {
    var g = node && node.closest ? node.closest('g.frame') : null;
    return g ? byElement.get(g) : undefined;
  }

  framesGroup.addEventListener('mouseover', function (e) {
    var f = frameOf(e.target);
    if (f) details.textContent = f.label;
  });
  framesGroup.addEventListener('mouseout', function (e) {
    var from = frameOf(e.target);
    if (from && frameOf(e.relatedTarget) !== from) details.textContent = '';
  });
  framesGroup.addEventListener('click', function (e) {
    var f = frameOf(e.target);
    if (f && f !== zoomed) zoom(f);
  });
  resetButton.addEventListener('click', resetZoom);
  searchButton.addEventListener('click', askSearch);
  clearButton.addEventListener('click', clearSearch);
  window.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === 'f' || e.key === 'F')) {
      e.preventDefault();
      askSearch();
    } else if (e.key === 'Escape') {
      resetZoom();
    }
  });

  window.tracectlSearch = search;
  window.tracectlClearSearch = clearSearch;
  window.tracectlResetZoom = resetZoom;
})();
)js";

void AppendHeader(std::string* out, double height) {
  absl::StrAppendFormat(
      out,
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
      "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\"",
      kImageWidth, height, kImageWidth, height);
}

// What follows the <svg> tag in every graph: the style sheet, the
// background and the titles.
void AppendPrologue(std::string* out, const FlameSvgOptions& options,
                    double height) {
  absl::StrAppend(out, "<style type=\"text/css\"><![CDATA[", kStyle,
                  "]]></style>\n");
  absl::StrAppendFormat(out,
                        "<rect class=\"background\" x=\"0\" y=\"0\" "
                        "width=\"%.0f\" height=\"%.0f\"/>\n",
                        kImageWidth, height);
  absl::StrAppendFormat(out,
                        "<text id=\"title\" class=\"title\" x=\"%.0f\" "
                        "y=\"%.0f\">%s</text>\n",
                        kImageWidth / 2, kTitleBaseline,
                        Escaped(options.title));
  if (!options.subtitle.empty()) {
    absl::StrAppendFormat(out,
                          "<text id=\"subtitle\" class=\"subtitle\" x=\"%.0f\" "
                          "y=\"%.0f\">%s</text>\n",
                          kImageWidth / 2, kSubtitleBaseline,
                          Escaped(options.subtitle));
  }
}

std::string RenderEmpty(const FlameSvgOptions& options) {
  const double frames_top =
      options.subtitle.empty() ? kFramesTopNoSubtitle : kFramesTopWithSubtitle;
  const double height = frames_top + 50;
  std::string out;
  AppendHeader(&out, height);
  out += ">\n";
  AppendPrologue(&out, options, height);
  absl::StrAppendFormat(
      &out, "<text id=\"no-samples\" x=\"%.0f\" y=\"%.0f\">no samples</text>\n",
      kImageWidth / 2, frames_top + 24);
  out += "</svg>\n";
  return out;
}

// "hot_a (prog) — 75 samples, 75.00%": the tooltip and the details line.
std::string FrameLabel(const ProfileView& view, const Node& node,
                       uint64_t total) {
  std::string what = "all";
  if (node.frame != kRootFrame) {
    const ViewFrame& f = view.frames[node.frame];
    std::string where = f.kind == FrameKind::kProcess ? "process"
                        : f.kind == FrameKind::kHost  ? "host"
                                                      : f.module;
    if (!f.source.empty()) {
      where = where.empty() ? f.source : absl::StrCat(where, ", ", f.source);
    }
    what = where.empty() ? f.name : absl::StrCat(f.name, " (", where, ")");
  }
  return absl::StrFormat(
      "%s \xE2\x80\x94 %s sample%s, %.2f%%", what, WithThousands(node.samples),
      node.samples == 1 ? "" : "s",
      100.0 * static_cast<double>(node.samples) / static_cast<double>(total));
}

}  // namespace

std::string RenderFlameSvg(const ProfileView& view,
                           const FlameSvgOptions& options) {
  const std::vector<Node> nodes = BuildTree(view);
  const uint64_t total = nodes[0].samples;
  if (total == 0) return RenderEmpty(options);

  const double scale = kPlotWidth / static_cast<double>(total);
  auto width_of = [&](const Node& n) {
    return static_cast<double>(n.samples) * scale;
  };

  // The frames to draw, parents before children: those wide enough, under a
  // parent that is drawn.
  std::vector<size_t> drawn;
  int max_depth = 0;
  std::vector<size_t> pending = {0};
  while (!pending.empty()) {
    const size_t n = pending.back();
    pending.pop_back();
    if (width_of(nodes[n]) < kMinFrameWidth) continue;
    drawn.push_back(n);
    max_depth = std::max(max_depth, nodes[n].depth);
    const auto& children = nodes[n].children;
    pending.insert(pending.end(), children.rbegin(), children.rend());
  }

  const double frames_top =
      options.subtitle.empty() ? kFramesTopNoSubtitle : kFramesTopWithSubtitle;
  const double frames_bottom = frames_top + (max_depth + 1) * kFrameHeight;
  const double height = frames_bottom + kBottomArea;

  std::string out;
  out.reserve(512 * drawn.size() + sizeof(kScript) + sizeof(kStyle) + 1024);
  AppendHeader(&out, height);
  absl::StrAppendFormat(&out,
                        " data-total=\"%d\" data-left=\"%.0f\" "
                        "data-plot-width=\"%.0f\" data-char-width=\"%.2f\" "
                        "data-text-pad=\"%.0f\">\n",
                        total, kSidePad, kPlotWidth, kCharWidth, kTextPad);
  AppendPrologue(&out, options, height);
  absl::StrAppendFormat(&out,
                        "<text id=\"reset-zoom\" class=\"control disabled\" "
                        "x=\"%.0f\" y=\"%.0f\">Reset Zoom</text>\n",
                        kSidePad, kTitleBaseline);
  absl::StrAppendFormat(&out,
                        "<text id=\"clear-search\" class=\"control hidden\" "
                        "x=\"%.0f\" y=\"%.0f\">Clear</text>\n",
                        kImageWidth - kSidePad - 110, kTitleBaseline);
  absl::StrAppendFormat(&out,
                        "<text id=\"search\" class=\"control\" x=\"%.0f\" "
                        "y=\"%.0f\">Search</text>\n",
                        kImageWidth - kSidePad - 55, kTitleBaseline);

  out += "<g id=\"frames\">\n";
  for (size_t n : drawn) {
    const Node& node = nodes[n];
    std::string name = "all";
    std::string module;
    std::string kind = "root";
    std::string fill = kRootFill;
    if (node.frame != kRootFrame) {
      const ViewFrame& f = view.frames[node.frame];
      name = CleanText(f.name);
      module = f.module;
      kind = FrameKindName(f.kind);
      fill = FillFor(f.kind, f.name);
    }
    const double x = kSidePad + static_cast<double>(node.x) * scale;
    const double width = width_of(node);
    const double y = frames_top + (max_depth - node.depth) * kFrameHeight;
    absl::StrAppendFormat(
        &out,
        "<g class=\"frame %s\" data-name=\"%s\" data-module=\"%s\" "
        "data-kind=\"%s\" data-samples=\"%d\" data-x=\"%d\" "
        "data-depth=\"%d\">"
        "<title>%s</title>"
        "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" rx=\"2\" "
        "fill=\"%s\"/>"
        "<text x=\"%.2f\" y=\"%.2f\">%s</text></g>\n",
        kind, XmlEscape(name), Escaped(module), kind, node.samples, node.x,
        node.depth, Escaped(FrameLabel(view, node, total)), x, y, width,
        kFrameHeight - kFrameGap, fill, x + kTextPad, y + 11.5,
        XmlEscape(FitLabel(name, width)));
  }
  out += "</g>\n";

  absl::StrAppendFormat(&out,
                        "<text id=\"details\" x=\"%.0f\" y=\"%.0f\"></text>\n",
                        kSidePad, frames_bottom + 22);
  absl::StrAppendFormat(&out,
                        "<text id=\"matched\" x=\"%.0f\" y=\"%.0f\"></text>\n",
                        kImageWidth - kSidePad, frames_bottom + 22);
  absl::StrAppend(&out, "<script type=\"text/ecmascript\"><![CDATA[", kScript,
                  "]]></script>\n</svg>\n");
  return out;
}

}  // namespace tracectl
