#include "daemon/callers.h"

#include <grpcpp/security/auth_context.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tracectl {
namespace {

constexpr uid_t kNobody = 65534;

// The names a verified client certificate gives its holder: every subject
// alternative name, then the common name.
std::vector<std::string> CertificateNames(const grpc::AuthContext& auth) {
  std::vector<std::string> names;
  for (const char* property :
       {"x509_subject_alternative_name", "x509_common_name"}) {
    for (const grpc::string_ref& value : auth.FindPropertyValues(property)) {
      names.emplace_back(value.data(), value.size());
    }
  }
  return names;
}

}  // namespace

absl::StatusOr<Caller> Callers::Of(
    const grpc::CallbackServerContext& context) const {
  const std::string peer = context.peer();
  if (absl::StartsWith(peer, "fd:")) return local_->CallerOf(peer);
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (identities_ != nullptr && auth != nullptr &&
      auth->IsPeerAuthenticated()) {
    return identities_->CallerFor(CertificateNames(*auth));
  }
  // Plain TCP comes through the TCP front (daemon/tcp_front.h), which
  // listens on loopback addresses only then: its Unix socket is the peer.
  if (insecure_loopback_ && absl::StartsWith(peer, "unix:")) {
    Caller nobody;
    nobody.uid = kNobody;
    nobody.gid = kNobody;
    nobody.remote_identity = "(plain TCP on loopback)";
    return nobody;
  }
  return absl::UnauthenticatedError(
      absl::StrCat("cannot identify the caller at '", peer, "'"));
}

}  // namespace tracectl
