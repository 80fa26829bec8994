// speedscope's file format
// (https://www.speedscope.app/file-format-schema.json): one "sampled" profile
// per process.
#ifndef TRACECTL_CLIENT_PROFILE_SPEEDSCOPE_H_
#define TRACECTL_CLIENT_PROFILE_SPEEDSCOPE_H_

#include <string>

#include "client/profile_view.h"

namespace tracectl {

std::string RenderSpeedscope(const ProfileView& view, const std::string& name);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_PROFILE_SPEEDSCOPE_H_
