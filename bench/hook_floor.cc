// Attaches bpf/hook_floor.bpf.c's empty programs until SIGINT or SIGTERM:
// the floor under any tracer built on the raw_syscalls tracepoints.
// --exit-only: the sys_exit program alone (the floor of syscalls
// --count-only).
#include <signal.h>

#include <cstdio>
#include <cstring>

#include "hook_floor.skel.h"

int main(int argc, char** argv) {
  const bool exit_only = argc > 1 && strcmp(argv[1], "--exit-only") == 0;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  hook_floor_bpf* skel = hook_floor_bpf::open();
  if (skel != nullptr) {
    bpf_program__set_autoload(skel->progs.floor_enter, !exit_only);
  }
  if (skel == nullptr || hook_floor_bpf::load(skel) != 0 ||
      hook_floor_bpf::attach(skel) != 0) {
    fprintf(stderr, "hook_floor: cannot load or attach (run as root)\n");
    hook_floor_bpf::destroy(skel);
    return 1;
  }
  int sig;
  sigwait(&signals, &sig);
  hook_floor_bpf::destroy(skel);
  return 0;
}
