// Test support: a TraceEvent for a named call, built in place.
#ifndef TRACECTL_TESTS_TRACE_EVENT_BUILDER_H_
#define TRACECTL_TESTS_TRACE_EVENT_BUILDER_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "client/trace_event.h"
#include "common/syscall_table.h"

namespace tracectl::testing {

// `name`(args) = ret, by task tid of process tgid. Captured data must
// outlive the event (string literals do).
inline TraceEvent Event(const char* name, std::initializer_list<uint64_t> args,
                        int64_t ret, uint32_t tgid = 100, uint32_t tid = 0) {
  TraceEvent event;
  const SyscallInfo* info = FindSyscallByName(name);
  EXPECT_NE(info, nullptr) << name;
  if (info != nullptr) event.header.nr = info->nr;
  event.header.tgid = tgid;
  event.header.tid = tid == 0 ? tgid : tid;
  int i = 0;
  for (uint64_t a : args) event.header.args[i++] = a;
  event.header.ret = ret;
  if (info != nullptr && info->no_return) {
    event.header.flags |= EVENT_NO_RETURN;
  }
  return event;
}

// Adds the capture of argument `arg`.
inline TraceEvent WithCapture(TraceEvent event, int arg, std::string_view data,
                              uint8_t flags = 0) {
  Capture capture;
  capture.arg = arg;
  capture.kind = CAPTURE_PATH;
  capture.flags = flags;
  capture.data = data;
  event.captures.push_back(capture);
  return event;
}

}  // namespace tracectl::testing

#endif  // TRACECTL_TESTS_TRACE_EVENT_BUILDER_H_
