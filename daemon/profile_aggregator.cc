#include "daemon/profile_aggregator.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "profile.h"

namespace tracectl {

void ProfileAggregator::Prune(absl::Time before) { symbolizer_.Prune(before); }

uint32_t ProfileAggregator::Intern(const SymbolizedFrame& frame) {
  // Resolved frames are one per (module, function, source line);
  // unresolved ones one per address.
  std::string key =
      absl::StrCat(frame.kind, "\x1f", frame.module, "\x1f", frame.function,
                   "\x1f", frame.file, "\x1f", frame.line);
  if (frame.function.empty()) absl::StrAppend(&key, "\x1f", frame.offset);
  auto [it, inserted] = frame_index_.emplace(
      std::move(key), static_cast<uint32_t>(frames_.size()));
  if (inserted) frames_.push_back(frame);
  return it->second;
}

void ProfileAggregator::Add(const profile_sample& sample) {
  ++samples_;
  std::vector<uint32_t> frames;
  uint64_t unresolved = 0;
  if (user_stacks_ && (sample.flags & SAMPLE_USER_REGS)) {
    const std::vector<SymbolizedFrame> leaf_first =
        symbolizer_.Symbolize(sample, kMaxUserFrames);
    // Root first.
    for (auto it = leaf_first.rbegin(); it != leaf_first.rend(); ++it) {
      if (it->function.empty()) ++unresolved;
      frames.push_back(Intern(*it));
    }
  }
  if (kernel_stacks_) {
    const KernelSymbols& kernel = KernelSymbols::Get();
    const size_t n = std::min<size_t>(sample.kstack_bytes / sizeof(uint64_t),
                                      PROFILE_KSTACK_DEPTH);
    for (size_t i = n; i-- > 0;) {
      const SymbolizedFrame frame = kernel.Resolve(sample.kstack[i]);
      if (frame.function.empty()) ++unresolved;
      frames.push_back(Intern(frame));
    }
  }
  const std::string comm(sample.comm,
                         strnlen(sample.comm, sizeof(sample.comm)));
  StackKey key{static_cast<pid_t>(sample.tgid), comm, std::move(frames)};
  if (keep_total_) {
    ++total_[key];
    ++total_counts_.samples;
    total_counts_.unresolved += unresolved;
  }
  ++interval_[std::move(key)];
  ++interval_counts_.samples;
  interval_counts_.unresolved += unresolved;
}

v1::ProfileData ProfileAggregator::Build(const Stacks& stacks,
                                         const Counts& counts) const {
  v1::ProfileData data;
  // Only the frames these stacks use, renumbered.
  absl::flat_hash_map<uint32_t, uint32_t> used;
  for (const auto& [key, count] : stacks) {
    v1::Stack* stack = data.add_stacks();
    stack->set_pid(std::get<0>(key));
    stack->set_comm(std::get<1>(key));
    stack->set_samples(count);
    for (uint32_t f : std::get<2>(key)) {
      auto [it, inserted] =
          used.emplace(f, static_cast<uint32_t>(data.frames_size()));
      if (inserted) {
        const SymbolizedFrame& frame = frames_[f];
        v1::Frame* out = data.add_frames();
        out->set_function(frame.function);
        out->set_module(frame.module);
        out->set_kind(frame.kind);
        out->set_offset(frame.offset);
        out->set_file(frame.file);
        out->set_line(frame.line);
      }
      stack->add_frames(it->second);
    }
  }
  data.set_samples(counts.samples);
  data.set_unresolved_frames(counts.unresolved);
  return data;
}

v1::ProfileData ProfileAggregator::TakeInterval() {
  v1::ProfileData data = Build(interval_, interval_counts_);
  interval_.clear();
  interval_counts_ = Counts{};
  return data;
}

v1::ProfileData ProfileAggregator::Total() const {
  return Build(total_, total_counts_);
}

std::vector<v1::DropCounter> ProfileAggregator::Drops() const {
  return symbolizer_.Drops();
}

}  // namespace tracectl
