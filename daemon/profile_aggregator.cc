#include "daemon/profile_aggregator.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/python_merge.h"
#include "profile.h"

namespace tracectl {
namespace {

constexpr char kUnnamedPythonFrame[] = "[unnamed python code]";

}  // namespace

ProfileAggregator::ImageEntry& ProfileAggregator::Image(pid_t tgid,
                                                        uint64_t mm_id) {
  ImageEntry& entry = images_[{tgid, mm_id}];
  if (entry.image == nullptr) {
    entry.image = std::make_unique<ProcessImage>(tgid, &symbol_tables_,
                                                 &symbolizer_counters_);
    if (watch_python_) FindPython(tgid, mm_id, &entry);
  }
  entry.last_used = absl::Now();
  return entry;
}

void ProfileAggregator::FindPython(pid_t tgid, uint64_t mm_id,
                                   ImageEntry* entry) {
  absl::StatusOr<python::PythonProcess> process =
      python::PythonProcess::Attach(tgid);
  if (!process.ok()) {
    // Not Python, gone, or not the caller's: native frames, silently. A
    // Python without offsets is said once per process.
    if (absl::IsFailedPrecondition(process.status())) {
      ++python_.unsupported[std::string(process.status().message())];
    }
    return;
  }
  if (process->offsets().tstate_native_thread_id == 0) {
    ++python_.unsupported
          ["python: no native thread ids in its thread "
           "states; native frames only"];
    return;
  }
  const python_proc config =
      PythonProcConfig(mm_id, process->binary(), process->offsets());
  if (!watch_python_(static_cast<uint32_t>(tgid), config).ok()) {
    ++python_.not_watched;
    return;
  }
  ++python_.processes;
  entry->python = std::make_unique<python::PythonProcess>(std::move(*process));
}

std::vector<python::PythonFrame> ProfileAggregator::PythonFrames(
    const profile_sample& sample, python::PythonProcess* python) {
  std::vector<python::PythonFrame> frames;
  switch (sample.python.status) {
    case PYTHON_STACK_NO_THREAD:
      ++python_.no_thread;
      break;
    case PYTHON_STACK_TRUNCATED:
      ++python_.truncated;
      break;
    case PYTHON_STACK_BAD_POINTER:
      ++python_.bad_pointer;
      break;
    default:
      break;
  }
  const size_t n = std::min<size_t>(sample.python.count, PYTHON_MAX_FRAMES);
  for (size_t i = 0; i < n; ++i) {
    const python_frame& recorded = sample.python.frames[i];
    absl::StatusOr<python::PythonFrame> frame = python->DescribeSampledFrame(
        recorded.code, recorded.prev_instr, recorded.is_entry != 0,
        recorded.owner, recorded.qualname);
    if (frame.ok()) {
      frames.push_back(std::move(*frame));
      continue;
    }
    // The frame was there (the chain is whole) but its code object is gone
    // or unreadable now: a frame without a name, so that the frames around
    // it keep their places.
    ++python_.unnamed;
    python::PythonFrame unnamed;
    unnamed.function = kUnnamedPythonFrame;
    unnamed.is_entry = recorded.is_entry != 0;
    frames.push_back(std::move(unnamed));
  }
  return frames;
}

void ProfileAggregator::Prune(absl::Time before) {
  absl::erase_if(images_, [before](const auto& entry) {
    return entry.second.last_used < before;
  });
}

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
    ImageEntry& entry = Image(sample.tgid, sample.mm_id);
    ProcessImage& image = *entry.image;
    pcs_.clear();
    // Nothing copied (counted by the kernel side): the interrupted pc only.
    if (sample.ustack_bytes > 0 &&
        !image.Unwind(sample, kMaxUserFrames, &pcs_)) {
      ++partial_user_stacks_;
    }
    if (pcs_.empty()) {
      pcs_.push_back({sample.user_regs[PROFILE_USER_REGS - 1], true});
    }
    std::vector<SymbolizedFrame> leaf_first;
    leaf_first.reserve(pcs_.size());
    for (const UserPc& pc : pcs_) {
      leaf_first.push_back(image.Resolve(pc));
      if (leaf_first.back().function.empty()) ++unresolved;
    }
    if (entry.python != nullptr && sample.python.status != PYTHON_STACK_NONE) {
      MergeResult merged = MergePythonFrames(
          leaf_first, PythonFrames(sample, entry.python.get()));
      if (merged.unmatched_python) ++python_.unmatched;
      leaf_first = std::move(merged.frames);
    }
    // Root first.
    for (auto it = leaf_first.rbegin(); it != leaf_first.rend(); ++it) {
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
  std::vector<v1::DropCounter> drops(1);
  drops[0].set_reason(
      "user stacks unwound in part (code outside known modules, or CFI "
      "beyond the copied stack)");
  drops[0].set_count(partial_user_stacks_);
  auto add = [&drops](std::string reason, uint64_t count) {
    v1::DropCounter& drop = drops.emplace_back();
    drop.set_reason(std::move(reason));
    drop.set_count(count);
  };
  add(absl::StrCat("symbol names cut at ", kMaxSymbolNameBytes, " bytes"),
      symbolizer_counters_.names_cut);
  add(absl::StrCat("JIT map reads stopped at ", kMaxJitMapBytes >> 20, " MiB"),
      symbolizer_counters_.jit_maps_cut);
  add(absl::StrCat("MiniDebugInfo not read: it would decompress to more than ",
                   kMaxDebugDataBytes >> 20,
                   " MiB, or its size is unreadable (.dynsym names only)"),
      symbolizer_counters_.debugdata_skipped);
  add("Python stacks not read: no thread state for the thread (yet)",
      python_.no_thread);
  add(absl::StrCat("Python stacks cut at ", PYTHON_MAX_FRAMES,
                   " frames from the innermost"),
      python_.truncated);
  add("Python stacks ended at an unreadable frame", python_.bad_pointer);
  add(absl::StrCat("Python frames shown as ", kUnnamedPythonFrame,
                   ": the code object was freed or unreadable when named"),
      python_.unnamed);
  add("Python calls placed at the root: the native stack had no eval-loop "
      "frame for them",
      python_.unmatched);
  add("Python processes not watched: the sampler's map is full",
      python_.not_watched);
  for (const auto& [reason, count] : python_.unsupported) add(reason, count);
  return drops;
}

}  // namespace tracectl
