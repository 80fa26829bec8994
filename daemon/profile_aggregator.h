// Sums a session's samples into named stacks: each sample is unwound and
// symbolized as it arrives (while its process most likely still lives), and
// counted under (process, comm, frames).
#ifndef TRACECTL_DAEMON_PROFILE_AGGREGATOR_H_
#define TRACECTL_DAEMON_PROFILE_AGGREGATOR_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "daemon/python/python_stack.h"
#include "daemon/symbolizer.h"
#include "tracectl/v1/tracectl.pb.h"

struct profile_sample;
struct python_proc;

namespace tracectl {

class ProfileAggregator {
 public:
  // Stacks deeper than this are cut at the root end.
  static constexpr size_t kMaxUserFrames = 256;

  // Called with each CPython process found among the sampled ones, so that
  // the sampler reads its Python frames from then on.
  using WatchPython =
      std::function<absl::Status(uint32_t tgid, const python_proc& config)>;

  ProfileAggregator(bool user_stacks, bool kernel_stacks, bool keep_total,
                    WatchPython watch_python = nullptr)
      : user_stacks_(user_stacks),
        kernel_stacks_(kernel_stacks),
        keep_total_(keep_total),
        watch_python_(std::move(watch_python)) {}

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

  struct ImageEntry {
    std::unique_ptr<ProcessImage> image;
    // Its interpreter, when it runs CPython and the sampler reads its
    // frames.
    std::unique_ptr<python::PythonProcess> python;
    absl::Time last_used;
  };

  uint32_t Intern(const SymbolizedFrame& frame);
  // The image of the address space `mm_id` of process `tgid`: a process
  // that execs gets a new one.
  ImageEntry& Image(pid_t tgid, uint64_t mm_id);
  // Looks for an interpreter in a newly sampled address space.
  void FindPython(pid_t tgid, uint64_t mm_id, ImageEntry* entry);
  // The sample's Python frames, named; counts what could not be read.
  std::vector<python::PythonFrame> PythonFrames(const profile_sample& sample,
                                                python::PythonProcess* python);
  v1::ProfileData Build(const Stacks& stacks, const Counts& counts) const;

  const bool user_stacks_;
  const bool kernel_stacks_;
  const bool keep_total_;
  const WatchPython watch_python_;
  absl::flat_hash_map<std::pair<pid_t, uint64_t>, ImageEntry> images_;
  SymbolTables symbol_tables_;
  SymbolizerCounters symbolizer_counters_;
  std::vector<SymbolizedFrame> frames_;
  absl::flat_hash_map<std::string, uint32_t> frame_index_;
  Stacks interval_;
  Stacks total_;
  Counts interval_counts_;
  Counts total_counts_;
  uint64_t samples_ = 0;
  uint64_t partial_user_stacks_ = 0;
  struct PythonCounts {
    uint64_t processes = 0;  // interpreters whose frames are read
    uint64_t no_thread = 0;
    uint64_t truncated = 0;
    uint64_t bad_pointer = 0;
    uint64_t unnamed = 0;
    uint64_t unmatched = 0;
    uint64_t not_watched = 0;  // the sampler refused the process
    // "python 3.12: no offsets; native frames only", per process.
    std::map<std::string, uint64_t> unsupported;
  } python_;
  std::vector<UserPc> pcs_;  // scratch
};

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PROFILE_AGGREGATOR_H_
