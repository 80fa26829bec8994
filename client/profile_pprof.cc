#include "client/profile_pprof.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "pprof/pprof_profile.pb.h"

namespace tracectl {
namespace {

namespace pp = ::perftools::profiles;

// Profile.string_table: each distinct string once, "" at index 0.
class StringTable {
 public:
  explicit StringTable(pp::Profile* profile) : profile_(profile) { Index(""); }

  int64_t Index(const std::string& s) {
    auto [it, inserted] = index_.emplace(s, index_.size());
    if (inserted) profile_->add_string_table(s);
    return it->second;
  }

 private:
  pp::Profile* profile_;
  std::map<std::string, int64_t> index_;
};

int64_t SaturatingProduct(uint64_t a, int64_t b) {
  if (b > 0 &&
      a > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / b)) {
    return std::numeric_limits<int64_t>::max();
  }
  return static_cast<int64_t>(a) * b;
}

int64_t ClampToInt64(uint64_t v) {
  return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
             ? std::numeric_limits<int64_t>::max()
             : static_cast<int64_t>(v);
}

// A gzip stream (RFC 1952) of `in`, as pprof files are stored.
absl::StatusOr<std::string> Gzip(const std::string& in) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out;
  char buf[1 << 16];
  size_t fed = 0;
  int rc = Z_OK;
  do {
    if (zs.avail_in == 0 && fed < in.size()) {
      size_t n = std::min<size_t>(in.size() - fed, 1u << 30);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + fed));
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = deflate(&zs, fed == in.size() ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) {
      deflateEnd(&zs);
      return absl::InternalError("deflate failed");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (rc != Z_STREAM_END);
  deflateEnd(&zs);
  return out;
}

}  // namespace

absl::StatusOr<std::string> RenderPprof(const ProfileView& view) {
  pp::Profile profile;
  StringTable strings(&profile);

  const uint32_t hz = view.frequency_hz == 0 ? 1 : view.frequency_hz;
  const int64_t period = 1000000000 / static_cast<int64_t>(hz);

  pp::ValueType* samples_type = profile.add_sample_type();
  samples_type->set_type(strings.Index("samples"));
  samples_type->set_unit(strings.Index("count"));
  pp::ValueType* cpu_type = profile.add_sample_type();
  cpu_type->set_type(strings.Index("cpu"));
  cpu_type->set_unit(strings.Index("nanoseconds"));
  profile.mutable_period_type()->set_type(strings.Index("cpu"));
  profile.mutable_period_type()->set_unit(strings.Index("nanoseconds"));
  profile.set_period(period);
  if (std::isfinite(view.elapsed_seconds) && view.elapsed_seconds > 0) {
    double nanos = view.elapsed_seconds * 1e9;
    profile.set_duration_nanos(nanos >= 9.2e18
                                   ? std::numeric_limits<int64_t>::max()
                                   : static_cast<int64_t>(std::llround(nanos)));
  }

  // Mappings, one per module. pprof takes mapping[0] for the main binary,
  // so the executable's modules come first; otherwise the order is the
  // frames'.
  std::map<std::string, uint64_t> mapping_ids;
  for (int pass = 0; pass < 2; ++pass) {
    for (const ViewFrame& frame : view.frames) {
      if (frame.kind == FrameKind::kProcess || frame.module.empty()) continue;
      if ((frame.kind == FrameKind::kExecutable) != (pass == 0)) continue;
      if (mapping_ids.count(frame.module) != 0) continue;
      uint64_t id = profile.mapping_size() + 1;
      mapping_ids[frame.module] = id;
      pp::Mapping* mapping = profile.add_mapping();
      mapping->set_id(id);
      mapping->set_filename(strings.Index(frame.module));
      // Every location carries its function already: nothing for a reader
      // to symbolize.
      mapping->set_has_functions(true);
    }
  }

  // Functions, one per (name, module); locations, one per view frame, with
  // id = frame index + 1.
  std::map<std::pair<std::string, std::string>, uint64_t> function_ids;
  for (size_t i = 0; i < view.frames.size(); ++i) {
    const ViewFrame& frame = view.frames[i];
    auto [file, line] = SplitSource(frame.source);
    auto [it, inserted] =
        function_ids.emplace(std::make_pair(FunctionName(frame), frame.module),
                             profile.function_size() + 1);
    pp::Function* function = nullptr;
    if (inserted) {
      function = profile.add_function();
      function->set_id(it->second);
      function->set_name(strings.Index(FunctionName(frame)));
      function->set_system_name(function->name());
    } else {
      function = profile.mutable_function(static_cast<int>(it->second - 1));
    }
    if (function->filename() == 0 && !file.empty()) {
      function->set_filename(strings.Index(file));
    }

    pp::Location* location = profile.add_location();
    location->set_id(i + 1);
    if (frame.kind != FrameKind::kProcess && !frame.module.empty()) {
      uint64_t mapping_id = mapping_ids.at(frame.module);
      location->set_mapping_id(mapping_id);
      pp::Mapping* mapping =
          profile.mutable_mapping(static_cast<int>(mapping_id - 1));
      if (!file.empty()) mapping->set_has_filenames(true);
      if (line > 0) mapping->set_has_line_numbers(true);
    }
    pp::Line* l = location->add_line();
    l->set_function_id(it->second);
    l->set_line(line);
  }

  const int64_t comm_key = strings.Index("comm");
  const int64_t pid_key = strings.Index("pid");
  for (const ViewStack& stack : view.stacks) {
    pp::Sample* sample = profile.add_sample();
    // pprof lists the leaf first; the view's stacks start at the root.
    for (auto it = stack.frames.rbegin(); it != stack.frames.rend(); ++it) {
      if (*it >= view.frames.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "stack refers to frame ", *it, " of ", view.frames.size()));
      }
      sample->add_location_id(static_cast<uint64_t>(*it) + 1);
    }
    sample->add_value(ClampToInt64(stack.samples));
    sample->add_value(SaturatingProduct(stack.samples, period));
    const ViewFrame* process = stack.frames.empty()
                                   ? nullptr
                                   : &view.frames[ProcessFrame(view, stack)];
    if (process != nullptr && process->kind == FrameKind::kProcess) {
      pp::Label* comm = sample->add_label();
      comm->set_key(comm_key);
      comm->set_str(strings.Index(process->name));
    }
    if (!stack.host.empty()) {
      pp::Label* host = sample->add_label();
      host->set_key(strings.Index("host"));
      host->set_str(strings.Index(stack.host));
    }
    pp::Label* pid = sample->add_label();
    pid->set_key(pid_key);
    pid->set_num(stack.pid);
  }

  std::string raw;
  if (!profile.SerializeToString(&raw)) {
    return absl::InternalError("cannot serialize the pprof profile");
  }
  return Gzip(raw);
}

}  // namespace tracectl
