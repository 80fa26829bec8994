// Attaches bpf/hook_floor.bpf.c's empty programs until SIGINT or SIGTERM:
// the floor under any tracer built on the raw_syscalls tracepoints.
#include <signal.h>

#include <cstdio>

#include "hook_floor.skel.h"

int main() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  hook_floor_bpf* skel = hook_floor_bpf::open_and_load();
  if (skel == nullptr || hook_floor_bpf::attach(skel) != 0) {
    fprintf(stderr, "hook_floor: cannot load or attach (run as root)\n");
    hook_floor_bpf::destroy(skel);
    return 1;
  }
  int sig;
  sigwait(&signals, &sig);
  hook_floor_bpf::destroy(skel);
  return 0;
}
