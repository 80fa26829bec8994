#include "daemon/trace_specs.h"

#include <algorithm>
#include <iterator>

namespace tracectl {

syscall_spec CaptureSpec(const SyscallInfo& info, bool paths_only) {
  syscall_spec spec{};
  std::fill(std::begin(spec.len_arg), std::end(spec.len_arg), 0xff);
  int captures = 0;
  const int nargs = std::min<int>(info.args.size(), EVENT_ARGS);
  for (int i = 0; i < nargs && captures < EVENT_MAX_CAPTURES; ++i) {
    uint8_t kind = CAPTURE_NONE;
    switch (info.args[i]) {
      case ArgType::kPath:
      case ArgType::kString:
        kind = CAPTURE_PATH;
        break;
      case ArgType::kInBuf:
        kind = CAPTURE_IN_BUF;
        break;
      case ArgType::kOutBuf:
      case ArgType::kRandomBuf:
        kind = CAPTURE_OUT_BUF;
        break;
      case ArgType::kStatBuf:
        kind = CAPTURE_STAT;
        break;
      case ArgType::kStatxBuf:
        kind = CAPTURE_STATX;
        break;
      case ArgType::kStatfsBuf:
        kind = CAPTURE_STATFS;
        break;
      case ArgType::kEnvp:
        kind = CAPTURE_ARRAY_COUNT;
        break;
      case ArgType::kSockaddr:
        kind = CAPTURE_SOCKADDR;
        break;
      case ArgType::kArgv:
        kind = CAPTURE_ARGV;
        break;
      case ArgType::kFdPair:
        kind = CAPTURE_FD_PAIR;
        break;
      default:
        continue;
    }
    if (paths_only && info.args[i] != ArgType::kPath) continue;
    if ((kind == CAPTURE_IN_BUF || kind == CAPTURE_SOCKADDR) &&
        i + 1 < EVENT_ARGS) {
      spec.len_arg[i] = i + 1;
    }
    spec.kind[i] = kind;
    const bool at_entry = kind == CAPTURE_PATH || kind == CAPTURE_IN_BUF ||
                          kind == CAPTURE_SOCKADDR || kind == CAPTURE_ARGV;
    spec.flags |= at_entry ? SPEC_ENTRY_WORK : SPEC_EXIT_WORK;
    ++captures;
  }
  if (info.no_return) spec.flags |= SPEC_NO_RETURN;
  if (info.exec) spec.flags |= SPEC_EXEC;
  return spec;
}

std::vector<syscall_spec> TraceSpecs(const TraceSettings& settings) {
  std::vector<syscall_spec> specs(MAX_TRACE_NR);
  auto select = [&](int nr) {
    if (nr < 0 || nr >= MAX_TRACE_NR) return;
    const SyscallInfo* info = FindSyscall(nr);
    specs[nr] = info != nullptr ? CaptureSpec(*info, settings.paths_only)
                                : syscall_spec{};
    specs[nr].flags |= SPEC_SELECTED;
  };
  if (settings.all) {
    for (int nr = 0; nr < MAX_TRACE_NR; ++nr) select(nr);
  } else {
    for (int nr : settings.selected) select(nr);
  }
  for (int nr : settings.unshown) {
    if (nr >= 0 && nr < MAX_TRACE_NR &&
        (specs[nr].flags & SPEC_SELECTED) != 0) {
      specs[nr].flags |= SPEC_UNSHOWN;
    }
  }
  return specs;
}

}  // namespace tracectl
