#include "daemon/authorizer.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/unique_fd.h"

namespace tracectl {
namespace {

constexpr size_t kMaxCommPrefix = 15;

// Parses "Uid:\t1\t2\t3\t4" into the first three ids.
bool ParseIdTriple(const std::string& line, uint32_t* a, uint32_t* b,
                   uint32_t* c) {
  std::vector<std::string> fields =
      absl::StrSplit(line, absl::ByAnyChar("\t "), absl::SkipEmpty());
  return fields.size() >= 4 && absl::SimpleAtoi(fields[1], a) &&
         absl::SimpleAtoi(fields[2], b) && absl::SimpleAtoi(fields[3], c);
}

// Levels of user namespaces the kernel allows (32), and one more.
constexpr int kMaxNamespaceDepth = 33;

// See ProcessCredentials::user_namespace_owner.
std::optional<uid_t> UserNamespaceOwner(pid_t pid) {
  struct stat initial;
  if (stat("/proc/self/ns/user", &initial) != 0) return std::nullopt;
  UniqueFd ns(open(absl::StrCat("/proc/", pid, "/ns/user").c_str(),
                   O_RDONLY | O_CLOEXEC));
  for (int depth = 0; ns.get() >= 0 && depth < kMaxNamespaceDepth; ++depth) {
    struct stat st;
    if (fstat(ns.get(), &st) != 0 ||
        (st.st_ino == initial.st_ino && st.st_dev == initial.st_dev)) {
      return std::nullopt;  // the initial namespace itself
    }
    UniqueFd parent(ioctl(ns.get(), NS_GET_PARENT));
    struct stat pst;
    if (parent.get() < 0 || fstat(parent.get(), &pst) != 0) return std::nullopt;
    if (pst.st_ino == initial.st_ino && pst.st_dev == initial.st_dev) {
      uid_t owner = 0;
      if (ioctl(ns.get(), NS_GET_OWNER_UID, &owner) != 0) return std::nullopt;
      return owner;
    }
    ns = std::move(parent);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<ProcessCredentials> ReadProcessCredentials(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid);
  struct stat st;
  std::ifstream status(dir + "/status");
  // The files of /proc/PID, not the directory, follow dumpable.
  if (pid <= 0 || stat((dir + "/status").c_str(), &st) != 0 || !status) {
    return absl::NotFoundError(absl::StrCat("no process with pid ", pid));
  }
  ProcessCredentials creds;
  creds.proc_owner = st.st_uid;
  bool have_uid = false, have_gid = false;
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "Name:")) {
      creds.comm = std::string(absl::StripAsciiWhitespace(line.substr(5)));
    } else if (absl::StartsWith(line, "Uid:")) {
      have_uid = ParseIdTriple(line, &creds.uid, &creds.euid, &creds.suid);
    } else if (absl::StartsWith(line, "Tgid:")) {
      absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(5)), &creds.tgid);
    } else if (absl::StartsWith(line, "CapPrm:")) {
      absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line.substr(7)),
                          &creds.permitted_caps);
    } else if (absl::StartsWith(line, "Gid:")) {
      have_gid = ParseIdTriple(line, &creds.gid, &creds.egid, &creds.sgid);
    }
  }
  if (!have_uid || !have_gid) {
    // The process went away while we read it.
    return absl::NotFoundError(absl::StrCat("no process with pid ", pid));
  }
  creds.user_namespace_owner = UserNamespaceOwner(pid);
  return creds;
}

bool Authorizer::IsAdmin(const Caller& caller) const {
  if (caller.uid == 0) return true;
  if (!admin_gid_) return false;
  return caller.gid == *admin_gid_ ||
         std::find(caller.groups.begin(), caller.groups.end(), *admin_gid_) !=
             caller.groups.end();
}

std::string Authorizer::ScopeOf(const Caller& caller) const {
  if (IsAdmin(caller)) return "all processes (administrator)";
  return absl::StrCat(
      "processes you could ptrace: real, effective and saved uid ", caller.uid,
      " and gid ", caller.gid, ", dumpable");
}

bool CallerMayTrace(const ProcessCredentials& creds, uid_t uid, gid_t gid) {
  const bool same_uid =
      creds.uid == uid && creds.euid == uid && creds.suid == uid;
  const bool same_gid =
      creds.gid == gid && creds.egid == gid && creds.sgid == gid;
  // As ptrace: an unprivileged caller may not trace a task that holds
  // capabilities it lacks, and a caller of ours holds none; unless the task
  // is in a user namespace the caller owns. A task that is not dumpable has
  // /proc files of root (of its namespace).
  const bool owns_namespace =
      creds.user_namespace_owner == std::optional<uid_t>(uid);
  return ((same_uid && same_gid && creds.permitted_caps == 0) ||
          owns_namespace) &&
         creds.proc_owner == uid;
}

bool OwnerMayTrace(pid_t pid, const TaskOwner& owner) {
  absl::StatusOr<ProcessCredentials> creds = ReadProcessCredentials(pid);
  return creds.ok() && CallerMayTrace(*creds, owner.uid, owner.gid);
}

absl::StatusOr<KernelFilter> Authorizer::Authorize(
    const Caller& caller, const v1::Target& target) const {
  KernelFilter filter;
  const bool admin = IsAdmin(caller);
  if (target.pids_size() > kMaxTargetPids) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many pids: ", target.pids_size(), " (at most ",
                     kMaxTargetPids, ")"));
  }
  if (target.comm_prefix().size() > kMaxCommPrefix) {
    return absl::InvalidArgumentError(
        absl::StrCat("comm prefix '", target.comm_prefix(), "' is longer than ",
                     kMaxCommPrefix, " bytes, the kernel's comm length"));
  }
  if (target.comm_prefix().find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("comm prefix contains a NUL byte");
  }
  filter.comm_prefix = target.comm_prefix();
  if (target.has_uid()) {
    if (!admin && target.uid() != caller.uid) {
      return absl::PermissionDeniedError(
          absl::StrCat("uid ", target.uid(), " is not yours: you (uid ",
                       caller.uid, ") may trace only your own processes"));
    }
    filter.uid = target.uid();
  }
  for (int32_t pid : target.pids()) {
    if (pid <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("invalid pid ", pid));
    }
    absl::StatusOr<ProcessCredentials> creds = ReadProcessCredentials(pid);
    if (!creds.ok()) return creds.status();
    if (creds->tgid != pid) {
      return absl::InvalidArgumentError(
          absl::StrCat(pid, " is a thread of process ", creds->tgid,
                       ": give the process id (every thread of it is traced)"));
    }
    if (!admin && !CallerMayTrace(*creds, caller.uid, caller.gid)) {
      return absl::PermissionDeniedError(
          absl::StrCat("may not trace pid ", pid, " (", creds->comm, ", uid ",
                       creds->uid, "): you (uid ", caller.uid,
                       ") may trace only processes you could ptrace"));
    }
    if (std::find(filter.tgids.begin(), filter.tgids.end(), pid) ==
        filter.tgids.end()) {
      filter.tgids.push_back(pid);
    }
  }
  filter.follow_children = target.follow_children() && !filter.tgids.empty();
  filter.held_command = target.held_command() && filter.tgids.size() == 1;
  if (!admin) filter.owner = TaskOwner{caller.uid, caller.gid};
  filter.caller_tgid = caller.pid;
  return filter;
}

}  // namespace tracectl
