// Sums a session's samples into named stacks: each sample is unwound and
// symbolized as it arrives (while its process most likely still lives), and
// counted under (process, comm, frames).
#ifndef TRACECTL_DAEMON_PROFILE_AGGREGATOR_H_
#define TRACECTL_DAEMON_PROFILE_AGGREGATOR_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "daemon/stack_symbolizer.h"
#include "daemon/symbolizer.h"
#include "tracectl/v1/tracectl.pb.h"

struct profile_sample;

namespace tracectl {

class ProfileAggregator {
 public:
  // Stacks deeper than this are cut at the root end.
  static constexpr size_t kMaxUserFrames = 256;

  // Called with each CPython process found among the sampled ones, so that
  // the sampler reads its Python frames from then on.
  using WatchPython = StackSymbolizer::WatchPython;

  ProfileAggregator(bool user_stacks, bool kernel_stacks, bool keep_total,
                    WatchPython watch_python = nullptr)
      : user_stacks_(user_stacks),
        kernel_stacks_(kernel_stacks),
        keep_total_(keep_total),
        symbolizer_(std::move(watch_python)) {}

  void Add(const profile_sample& sample);

  uint64_t samples() const { return samples_; }
  // The samples added since the last call, as a profile.
  v1::ProfileData TakeInterval();
  // Every sample of the session (keep_total only).
  v1::ProfileData Total() const;
  // Forgets the address spaces not sampled since `before` (processes that
  // exited or exec'd, most of them): a long session's memory follows what
  // runs, not what ran. One sampled again is read anew.
  void Prune(absl::Time before);
  // Counters of damaged stacks, for the session's drops.
  std::vector<v1::DropCounter> Drops() const;

 private:
  using StackKey = std::tuple<pid_t, std::string, std::vector<uint32_t>>;
  using Stacks = std::map<StackKey, uint64_t>;
  struct Counts {
    uint64_t samples = 0;
    uint64_t unresolved = 0;
  };

  uint32_t Intern(const SymbolizedFrame& frame);
  v1::ProfileData Build(const Stacks& stacks, const Counts& counts) const;

  const bool user_stacks_;
  const bool kernel_stacks_;
  const bool keep_total_;
  StackSymbolizer symbolizer_;
  std::vector<SymbolizedFrame> frames_;
  absl::flat_hash_map<std::string, uint32_t> frame_index_;
  Stacks interval_;
  Stacks total_;
  Counts interval_counts_;
  Counts total_counts_;
  uint64_t samples_ = 0;
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PROFILE_AGGREGATOR_H_
