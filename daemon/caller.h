// Who is on the other end of a connection, as the kernel told us.
#ifndef TRACECTL_DAEMON_CALLER_H_
#define TRACECTL_DAEMON_CALLER_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace tracectl {

struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  // Supplementary groups at connect time (SO_PEERGROUPS).
  std::vector<gid_t> groups;
  // A remote caller: the identity of its client certificate (its scope is
  // the one the identities file gives it; pid is 0). Empty for a local one.
  std::string remote_identity;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_CALLER_H_
