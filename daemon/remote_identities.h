// Who a remote caller is: the identity its client certificate names (a
// subject alternative name, else the common name), and the role a file of
// the operator's gives that identity: `admin`, or a local user whose scope
// the caller gets (the same ptrace rule as a local caller of that uid).
//
// The file has one identity and its role per line, `#` starts a comment:
//
//   ops.example.com   admin
//   alice@example.com alice
#ifndef TRACECTL_DAEMON_REMOTE_IDENTITIES_H_
#define TRACECTL_DAEMON_REMOTE_IDENTITIES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/caller.h"

namespace tracectl {

class RemoteIdentities {
 public:
  // Reads and checks the file (at most 1 MiB, 10000 identities): every
  // user named must exist. INVALID_ARGUMENT naming the line otherwise.
  static absl::StatusOr<RemoteIdentities> Load(const std::string& path);
  static absl::StatusOr<RemoteIdentities> Parse(const std::string& text);

  // The caller for a peer whose certificate names `names` (its SANs, then
  // its CN): the first name the file knows. PERMISSION_DENIED naming the
  // first name when the file knows none.
  absl::StatusOr<Caller> CallerFor(const std::vector<std::string>& names) const;

  size_t size() const { return callers_.size(); }

 private:
  std::map<std::string, Caller> callers_;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_REMOTE_IDENTITIES_H_
