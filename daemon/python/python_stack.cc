#include "daemon/python/python_stack.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_format.h"
#include "daemon/python/location_table.h"

namespace tracectl::python {
namespace {

// _PyInterpreterFrame.owner: FRAME_OWNED_BY_GENERATOR. Generator frames
// are never incomplete (pycore_frame.h, _PyFrame_IsIncomplete).
constexpr uint8_t kFrameOwnedByGenerator = 1;
// The largest struct prefix read in one go (code header, thread state).
constexpr size_t kMaxHeaderBytes = 512;

// PyASCIIObject.state bits (3.11): interned:2, kind:3, compact:1, ascii:1.
constexpr uint32_t StateKind(uint32_t state) { return (state >> 2) & 7; }
constexpr bool StateCompact(uint32_t state) { return (state >> 5) & 1; }
constexpr bool StateAscii(uint32_t state) { return (state >> 6) & 1; }

template <typename T>
T FieldAt(const std::vector<char>& bytes, uint32_t offset) {
  T value;
  memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// The line of the instruction at `instruction_address` in code whose first
// instruction is at `code_start`; -1 when the address is not in the code.
int LineAt(const CodeInfo& code, uint64_t code_start,
           uint64_t instruction_address) {
  // prev_instr is one code unit before the first instruction until the
  // frame starts (offset -2): PyCode_Addr2Line answers co_firstlineno.
  const int64_t offset = static_cast<int64_t>(instruction_address) -
                         static_cast<int64_t>(code_start);
  if (offset < -2 || offset > INT32_MAX || offset % 2 != 0) return -1;
  return LineForOffset311(code.line_table, code.first_line,
                          static_cast<int>(offset));
}

}  // namespace

absl::StatusOr<PythonProcess> PythonProcess::Attach(pid_t pid) {
  absl::StatusOr<ProcessMemory> memory = ProcessMemory::Open(pid);
  if (!memory.ok()) return memory.status();
  auto reader = std::make_unique<ProcessMemory>(std::move(*memory));
  absl::StatusOr<PythonBinary> binary = FindPythonBinary(pid, *reader);
  if (!binary.ok()) return binary.status();
  absl::StatusOr<PythonOffsets> offsets = OffsetsFor(binary->version);
  if (!offsets.ok()) return offsets.status();
  return PythonProcess(std::move(reader), std::move(*binary), *offsets);
}

PythonProcess PythonProcess::ForMemory(std::unique_ptr<MemoryReader> memory,
                                       const PythonBinary& binary,
                                       const PythonOffsets& offsets) {
  return PythonProcess(std::move(memory), binary, offsets);
}

absl::StatusOr<std::string> PythonProcess::ReadString(uint64_t address) {
  if (address == 0) return absl::NotFoundError("null str");
  std::vector<char> header(offsets_.unicode_compact_data);
  absl::Status status = memory_->Read(address, header.data(), header.size());
  if (!status.ok()) return status;
  const int64_t length = FieldAt<int64_t>(header, offsets_.unicode_length);
  const uint32_t state = FieldAt<uint32_t>(header, offsets_.unicode_state);
  if (length < 0 || !StateCompact(state)) {
    return absl::DataLossError("not a compact str");
  }
  const size_t count = std::min<uint64_t>(length, kMaxStringBytes);
  std::string out;
  if (StateAscii(state)) {
    out.resize(count);
    status =
        memory_->Read(address + offsets_.unicode_ascii_data, out.data(), count);
    if (!status.ok()) return status;
    // An ASCII string says it holds no byte above 0x7f; keep it UTF-8 even
    // when the target lies.
    for (char& c : out) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
  } else {
    const uint32_t kind = StateKind(state);
    if (kind != 1 && kind != 2 && kind != 4) {
      return absl::DataLossError("str of an unknown kind");
    }
    std::vector<unsigned char> data(count * kind);
    status = memory_->Read(address + offsets_.unicode_compact_data, data.data(),
                           data.size());
    if (!status.ok()) return status;
    for (size_t i = 0; i < count && out.size() < kMaxStringBytes; ++i) {
      uint32_t cp = 0;
      if (kind == 1) {
        cp = data[i];
      } else if (kind == 2) {
        uint16_t unit;
        memcpy(&unit, &data[i * 2], 2);
        cp = unit;
      } else {
        memcpy(&cp, &data[i * 4], 4);
      }
      AppendUtf8(cp, &out);
    }
  }
  if (static_cast<uint64_t>(length) > count) out += "...";
  return out;
}

absl::StatusOr<std::string> PythonProcess::ReadBytes(uint64_t address,
                                                     size_t limit) {
  if (address == 0) return absl::NotFoundError("null bytes");
  absl::StatusOr<int64_t> size =
      memory_->ReadInt64(address + offsets_.bytes_size);
  if (!size.ok()) return size.status();
  if (*size < 0) return absl::DataLossError("bytes of negative size");
  // A longer table is cut: its first entries still give the early lines.
  std::string out(std::min<uint64_t>(*size, std::min(limit, kMaxReadBytes)),
                  '\0');
  absl::Status status =
      memory_->Read(address + offsets_.bytes_data, out.data(), out.size());
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<const CodeInfo*> PythonProcess::Code(uint64_t address,
                                                    int* first_traceable,
                                                    uint64_t* qualname) {
  if (address == 0) return absl::NotFoundError("null code object");
  std::vector<char> header(offsets_.code_adaptive);
  if (header.size() > kMaxHeaderBytes) {
    return absl::InternalError("code header offsets out of range");
  }
  absl::Status status = memory_->Read(address, header.data(), header.size());
  if (!status.ok()) {
    // Gone since the sample was taken (the process exited, the object was
    // freed): the last code object seen there is the best name it has.
    auto cached = code_cache_.find(address);
    if (cached == code_cache_.end()) return status;
    ++counters_.code_cache_hits;
    *first_traceable = cached->second.first_traceable;
    if (qualname != nullptr) *qualname = cached->second.identity[2];
    return &cached->second.info;
  }
  *first_traceable = FieldAt<int32_t>(header, offsets_.code_first_traceable);
  const int first_line = FieldAt<int32_t>(header, offsets_.code_firstlineno);
  const std::array<uint64_t, 5> identity = {
      FieldAt<uint64_t>(header, offsets_.code_filename),
      FieldAt<uint64_t>(header, offsets_.code_name),
      FieldAt<uint64_t>(header, offsets_.code_qualname),
      FieldAt<uint64_t>(header, offsets_.code_linetable),
      static_cast<uint64_t>(static_cast<uint32_t>(first_line))};
  if (qualname != nullptr) *qualname = identity[2];
  auto it = code_cache_.find(address);
  if (it != code_cache_.end() && it->second.identity == identity) {
    ++counters_.code_cache_hits;
    it->second.first_traceable = *first_traceable;
    return &it->second.info;
  }
  ++counters_.code_cache_misses;
  CachedCode entry;
  entry.identity = identity;
  entry.first_traceable = *first_traceable;
  absl::StatusOr<std::string> function = ReadString(identity[2]);
  if (!function.ok()) function = ReadString(identity[1]);  // co_name
  if (!function.ok()) return function.status();
  absl::StatusOr<std::string> file = ReadString(identity[0]);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> table =
      ReadBytes(identity[3], kMaxLineTableBytes);
  if (!table.ok()) return table.status();
  entry.info = CodeInfo{std::move(*function), std::move(*file), first_line,
                        std::move(*table)};
  // Bounded: a full cache starts over (code objects of a running program
  // are few; this only bounds a target that churns them).
  if (code_cache_.size() >= kMaxCachedCodeObjects &&
      code_cache_.find(address) == code_cache_.end()) {
    code_cache_.clear();
  }
  CachedCode& slot = code_cache_[address];
  slot = std::move(entry);
  return &slot.info;
}

absl::StatusOr<PythonFrame> PythonProcess::DescribeFrame(
    uint64_t code_address, uint64_t instruction_address) {
  int first_traceable = 0;
  absl::StatusOr<const CodeInfo*> code = Code(code_address, &first_traceable);
  if (!code.ok()) {
    ++counters_.bad_code_objects;
    return code.status();
  }
  const CodeInfo& info = **code;
  return PythonFrame{
      info.function, info.file,
      LineAt(info, code_address + offsets_.code_adaptive, instruction_address),
      info.first_line, code_address};
}

bool PythonProcess::Incomplete(uint64_t code_address, int first_traceable,
                               uint64_t prev_instr, uint8_t owner) const {
  // A frame still being set up (its prologue not run) is not yet part of
  // the stack Python would show (_PyFrame_IsIncomplete).
  return owner != kFrameOwnedByGenerator && first_traceable >= 0 &&
         prev_instr < code_address + offsets_.code_adaptive +
                          2 * static_cast<uint64_t>(first_traceable);
}

absl::StatusOr<PythonFrame> PythonProcess::DescribeSampledFrame(
    uint64_t code_address, uint64_t instruction_address, bool is_entry,
    uint8_t owner, uint64_t qualname) {
  int first_traceable = 0;
  uint64_t qualname_now = 0;
  absl::StatusOr<const CodeInfo*> code;
  // The object the sampler saw has the name pointer a cached one has: the
  // cache names it without reading the target (samples name the same code
  // objects again and again). An object freed and another with the same
  // (interned) name made at its address would be named by the old one's
  // file and lines.
  auto cached = code_cache_.find(code_address);
  if (cached != code_cache_.end() && cached->second.identity[2] == qualname) {
    ++counters_.code_cache_hits;
    first_traceable = cached->second.first_traceable;
    qualname_now = qualname;
    code = &cached->second.info;
  } else {
    code = Code(code_address, &first_traceable, &qualname_now);
  }
  if (!code.ok()) {
    ++counters_.bad_code_objects;
    return code.status();
  }
  if (qualname_now != qualname) {
    ++counters_.bad_code_objects;
    return absl::NotFoundError("the code object was freed since");
  }
  const CodeInfo& info = **code;
  return PythonFrame{
      info.function,
      info.file,
      LineAt(info, code_address + offsets_.code_adaptive, instruction_address),
      info.first_line,
      code_address,
      is_entry,
      Incomplete(code_address, first_traceable, instruction_address, owner)};
}

void PythonProcess::ReadFrames(uint64_t frame, absl::Time deadline,
                               PythonThread* thread) {
  std::unordered_set<uint64_t> seen;
  const size_t frame_bytes =
      std::max({offsets_.frame_code, offsets_.frame_previous,
                offsets_.frame_prev_instr, offsets_.frame_is_entry}) +
      8;
  std::vector<char> bytes(
      std::max<size_t>(frame_bytes, offsets_.frame_owner + 1));
  while (frame != 0) {
    if (thread->frames.size() >= static_cast<size_t>(kMaxFramesPerThread) ||
        !seen.insert(frame).second) {
      thread->truncated = true;
      break;
    }
    if (absl::Now() > deadline) {
      ++counters_.deadline_hits;
      thread->truncated = true;
      break;
    }
    if (!memory_->Read(frame, bytes.data(), bytes.size()).ok()) {
      thread->truncated = true;
      break;
    }
    const uint64_t code = FieldAt<uint64_t>(bytes, offsets_.frame_code);
    const uint64_t prev_instr =
        FieldAt<uint64_t>(bytes, offsets_.frame_prev_instr);
    const uint8_t owner = FieldAt<uint8_t>(bytes, offsets_.frame_owner);
    const uint64_t previous = FieldAt<uint64_t>(bytes, offsets_.frame_previous);
    int first_traceable = 0;
    absl::StatusOr<const CodeInfo*> info = Code(code, &first_traceable);
    if (!info.ok()) {
      ++counters_.bad_code_objects;
      thread->truncated = true;
      break;
    }
    const bool is_entry = FieldAt<uint8_t>(bytes, offsets_.frame_is_entry);
    thread->frames.push_back(
        PythonFrame{(*info)->function, (*info)->file,
                    LineAt(**info, code + offsets_.code_adaptive, prev_instr),
                    (*info)->first_line, code, is_entry,
                    Incomplete(code, first_traceable, prev_instr, owner)});
    frame = previous;
  }
}

absl::StatusOr<std::vector<PythonThread>> PythonProcess::ReadThreads(
    absl::Duration time_limit) {
  const absl::Time deadline = absl::Now() + time_limit;
  const uint64_t runtime = binary_.runtime_address;
  absl::StatusOr<uint64_t> gil_holder =
      memory_->ReadPointer(runtime + offsets_.runtime_tstate_current);
  if (!gil_holder.ok()) return gil_holder.status();
  absl::StatusOr<uint64_t> interp =
      memory_->ReadPointer(runtime + offsets_.runtime_interpreters_head);
  if (!interp.ok()) return interp.status();

  const size_t tstate_bytes =
      std::max({offsets_.tstate_next, offsets_.tstate_cframe,
                offsets_.tstate_thread_id, offsets_.tstate_native_thread_id}) +
      8;
  std::vector<char> tstate_buffer(tstate_bytes);
  std::vector<PythonThread> threads;
  std::unordered_set<uint64_t> seen_interps, seen_threads;
  uint64_t interp_address = *interp;
  for (int i = 0; interp_address != 0 && i < kMaxInterpreters &&
                  seen_interps.insert(interp_address).second;
       ++i) {
    absl::StatusOr<uint64_t> tstate =
        memory_->ReadPointer(interp_address + offsets_.interp_threads_head);
    if (!tstate.ok()) {
      ++counters_.bad_threads;
      break;
    }
    uint64_t address = *tstate;
    while (address != 0) {
      if (absl::Now() > deadline) {
        ++counters_.deadline_hits;
        break;
      }
      if (threads.size() >= static_cast<size_t>(kMaxThreads) ||
          !seen_threads.insert(address).second ||
          !memory_->Read(address, tstate_buffer.data(), tstate_buffer.size())
               .ok()) {
        ++counters_.bad_threads;
        break;
      }
      PythonThread thread;
      thread.thread_id =
          FieldAt<uint64_t>(tstate_buffer, offsets_.tstate_thread_id);
      if (offsets_.tstate_native_thread_id != 0) {
        thread.native_thread_id = static_cast<pid_t>(
            FieldAt<uint64_t>(tstate_buffer, offsets_.tstate_native_thread_id));
      }
      thread.holds_gil = address == *gil_holder;
      const uint64_t cframe =
          FieldAt<uint64_t>(tstate_buffer, offsets_.tstate_cframe);
      if (cframe != 0) {
        absl::StatusOr<uint64_t> frame =
            memory_->ReadPointer(cframe + offsets_.cframe_current_frame);
        if (frame.ok()) {
          ReadFrames(*frame, deadline, &thread);
        } else {
          thread.truncated = true;
        }
      }
      if (thread.truncated) ++counters_.truncated_stacks;
      threads.push_back(std::move(thread));
      address = FieldAt<uint64_t>(tstate_buffer, offsets_.tstate_next);
    }
    absl::StatusOr<uint64_t> next =
        memory_->ReadPointer(interp_address + offsets_.interp_next);
    if (!next.ok()) break;
    interp_address = *next;
  }
  return threads;
}

}  // namespace tracectl::python
