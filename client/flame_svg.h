// The interactive flame graph: one self-contained SVG file (inline CSS and
// JavaScript, nothing fetched) that a browser opens directly.
#ifndef TRACECTL_CLIENT_FLAME_SVG_H_
#define TRACECTL_CLIENT_FLAME_SVG_H_

#include <string>

#include "client/profile_view.h"

namespace tracectl {

struct FlameSvgOptions {
  std::string title = "tracectl flame";
  // A line under the title: target, duration, rate, sample count.
  std::string subtitle;
};

std::string RenderFlameSvg(const ProfileView& view,
                           const FlameSvgOptions& options);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_FLAME_SVG_H_
