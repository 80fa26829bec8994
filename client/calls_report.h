// tracectl calls's output: a table in the shape of ltrace -c, or JSON.
#ifndef TRACECTL_CLIENT_CALLS_REPORT_H_
#define TRACECTL_CLIENT_CALLS_REPORT_H_

#include <string>

#include "tracectl/v1/tracectl.pb.h"

namespace tracectl {

std::string RenderCallsTable(const v1::CallsSummary& summary,
                             const std::string& scope);
std::string RenderCallsJson(const v1::CallsSummary& summary,
                            const std::string& scope, bool final);

}  // namespace tracectl

#endif  // TRACECTL_CLIENT_CALLS_REPORT_H_
