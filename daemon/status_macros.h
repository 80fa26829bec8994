// Tiny status helpers: this Abseil release ships no status macros.
#ifndef TRACECTL_DAEMON_STATUS_MACROS_H_
#define TRACECTL_DAEMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TRACECTL_CONCAT_INNER_(a, b) a##b
#define TRACECTL_CONCAT_(a, b) TRACECTL_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(TRACECTL_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                           \
  if (!var.ok()) return var.status();          \
  lhs = std::move(var).value()

#endif  // TRACECTL_DAEMON_STATUS_MACROS_H_
