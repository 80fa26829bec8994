#include "daemon/remote_identities.h"

#include <grp.h>
#include <pwd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/escape.h"
#include "common/small_file.h"

namespace tracectl {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kMaxIdentities = 10000;
constexpr int kMaxGroups = 1024;

absl::StatusOr<Caller> LocalUser(const std::string& name) {
  passwd pw;
  passwd* found = nullptr;
  char buf[4096];
  if (getpwnam_r(name.c_str(), &pw, buf, sizeof(buf), &found) != 0 ||
      found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no local user '", name, "'"));
  }
  Caller caller;
  caller.uid = pw.pw_uid;
  caller.gid = pw.pw_gid;
  std::vector<gid_t> groups(kMaxGroups);
  int count = kMaxGroups;
  if (getgrouplist(name.c_str(), pw.pw_gid, groups.data(), &count) >= 0) {
    groups.resize(count);
    caller.groups = std::move(groups);
  }
  return caller;
}

}  // namespace

absl::StatusOr<RemoteIdentities> RemoteIdentities::Load(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxFileBytes);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the identities file: ", text.status().message()));
  }
  absl::StatusOr<RemoteIdentities> parsed = Parse(*text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", parsed.status().message()));
  }
  return parsed;
}

absl::StatusOr<RemoteIdentities> RemoteIdentities::Parse(
    const std::string& text) {
  RemoteIdentities identities;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    if (words.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", number, ": expected IDENTITY ROLE (admin or a user name)"));
    }
    const std::string identity(words[0]);
    const std::string role(words[1]);
    Caller caller;
    if (role == "admin") {
      // Root's scope: everything, as for root and the admin group.
      caller.uid = 0;
      caller.gid = 0;
    } else {
      absl::StatusOr<Caller> user = LocalUser(role);
      if (!user.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", number, ": ", EscapedText(identity, 256),
                         ": ", user.status().message()));
      }
      caller = *std::move(user);
    }
    caller.remote_identity = identity;
    if (!identities.callers_.emplace(identity, std::move(caller)).second) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ",
                                                     EscapedText(identity, 256),
                                                     " is named twice"));
    }
    if (identities.callers_.size() > kMaxIdentities) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than ", kMaxIdentities, " identities"));
    }
  }
  return identities;
}

absl::StatusOr<Caller> RemoteIdentities::CallerFor(
    const std::vector<std::string>& names) const {
  for (const std::string& name : names) {
    auto it = callers_.find(name);
    if (it != callers_.end()) return it->second;
  }
  if (names.empty()) {
    return absl::UnauthenticatedError("the client certificate names no one");
  }
  return absl::PermissionDeniedError(
      absl::StrCat("remote identity '", EscapedText(names.front(), 256),
                   "' is not in this daemon's identities file"));
}

}  // namespace tracectl
