#include "daemon/stack_symbolizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/python_merge.h"
#include "profile.h"

namespace tracectl {
namespace {

constexpr char kUnnamedPythonFrame[] = "[unnamed python code]";
// An address space's interpreter is looked for when it is first seen, and
// then at most this often, this many times, while it is this young.
constexpr absl::Duration kPythonLookInterval = absl::Milliseconds(100);
constexpr int kPythonLooks = 5;
constexpr absl::Duration kPythonLookWindow = absl::Seconds(2);

}  // namespace

StackSymbolizer::Entry& StackSymbolizer::Find(pid_t tgid, uint64_t mm_id) {
  Entry& entry = entries_[{tgid, mm_id}];
  // The maps first: a process may be about to exit. Then the interpreter.
  if (entry.image == nullptr) {
    entry.image = std::make_unique<ProcessImage>(
        tgid, &symbol_tables_, source_lines_, &symbolizer_counters_);
  }
  const absl::Time now = absl::Now();
  if (entry.python_looks == 0) entry.created = now;
  if (watch_python_ && entry.python == nullptr &&
      entry.python_looks < kPythonLooks &&
      (entry.python_looks == 0 ||
       (now - entry.python_looked_at >= kPythonLookInterval &&
        now - entry.created < kPythonLookWindow))) {
    ++entry.python_looks;
    entry.python_looked_at = now;
    FindPython(tgid, mm_id, &entry);
  }
  entry.last_used = now;
  return entry;
}

void StackSymbolizer::Prepare(pid_t tgid, uint64_t mm_id) { Find(tgid, mm_id); }

void StackSymbolizer::MapsChanged(pid_t tgid, uint64_t mm_id) {
  auto it = entries_.find({tgid, mm_id});
  if (it == entries_.end()) {
    Find(tgid, mm_id);  // reads the maps as they are now
  } else {
    it->second.image->SnapshotMaps();
  }
}

void StackSymbolizer::FindPython(pid_t tgid, uint64_t mm_id, Entry* entry) {
  absl::StatusOr<python::PythonProcess> process =
      python::PythonProcess::Attach(tgid);
  if (!process.ok()) {
    // Not Python (or not yet mapped: looked for again), gone, or not the
    // caller's: native frames, silently. A Python without offsets is said
    // once per process, and not looked for again.
    if (absl::IsFailedPrecondition(process.status())) {
      ++python_.unsupported[std::string(process.status().message())];
      entry->python_looks = kPythonLooks;
    }
    return;
  }
  entry->python_looks = kPythonLooks;  // a Python: found once and for all
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

std::vector<python::PythonFrame> StackSymbolizer::PythonFrames(
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

std::vector<SymbolizedFrame> StackSymbolizer::Symbolize(
    const profile_sample& sample, size_t max_frames) {
  Entry& entry = Find(sample.tgid, sample.mm_id);
  // First what only the live process has, for one that is about to exit:
  // its code objects, then its maps. The files come after.
  std::vector<python::PythonFrame> python;
  const bool with_python =
      entry.python != nullptr && sample.python.status != PYTHON_STACK_NONE;
  if (with_python) python = PythonFrames(sample, entry.python.get());
  ProcessImage& image = *entry.image;
  pcs_.clear();
  // Nothing copied (counted by the kernel side): the interrupted pc only.
  if (sample.ustack_bytes > 0 && !image.Unwind(sample, max_frames, &pcs_)) {
    ++partial_user_stacks_;
  }
  if (pcs_.empty()) {
    pcs_.push_back({sample.user_regs[PROFILE_USER_REGS - 1], true});
  }
  std::vector<SymbolizedFrame> leaf_first;
  leaf_first.reserve(pcs_.size());
  for (const UserPc& pc : pcs_) leaf_first.push_back(image.Resolve(pc));
  if (with_python) {
    MergeResult merged = MergePythonFrames(leaf_first, python);
    if (merged.unmatched_python) ++python_.unmatched;
    leaf_first = std::move(merged.frames);
  }
  return leaf_first;
}

void StackSymbolizer::Prune(absl::Time before) {
  absl::erase_if(entries_, [before](const auto& entry) {
    return entry.second.last_used < before;
  });
}

std::vector<v1::DropCounter> StackSymbolizer::Drops() const {
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
  add("Python stacks not read: no thread state for the thread (yet)",
      python_.no_thread);
  add(absl::StrCat("Python stacks cut at ", PYTHON_MAX_FRAMES,
                   " frames from the innermost"),
      python_.truncated);
  add("Python stacks ended at an unreadable frame", python_.bad_pointer);
  add(absl::StrCat("Python frames shown as ", kUnnamedPythonFrame,
                   ": the code object was freed or unreadable when named"),
      python_.unnamed);
  add(absl::StrCat("symbol names cut at ", kMaxSymbolNameBytes, " bytes"),
      symbolizer_counters_.names_cut);
  add(absl::StrCat("JIT map reads stopped at ", kMaxJitMapBytes >> 20, " MiB"),
      symbolizer_counters_.jit_maps_cut);
  add(absl::StrCat("MiniDebugInfo not read: it would decompress to more than ",
                   kMaxDebugDataBytes >> 20,
                   " MiB, or its size is unreadable (.dynsym names only)"),
      symbolizer_counters_.debugdata_skipped);
  add("Python calls placed at the root: the native stack had no eval-loop "
      "frame for them",
      python_.unmatched);
  add("Python processes not watched: the kernel's map of them is full",
      python_.not_watched);
  for (const auto& [reason, count] : python_.unsupported) add(reason, count);
  return drops;
}

}  // namespace tracectl
