#include "daemon/usdt_notes.h"

#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/python/elf_symbols.h"

namespace tracectl {
namespace {

constexpr uint32_t kNtStapsdt = 3;
constexpr char kStapsdtOwner[] = "stapsdt";

uint32_t Load32(const char* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

uint64_t Load64(const char* p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

// The NUL-terminated string at `*pos` in `desc`, advancing past it.
bool TakeString(absl::string_view desc, size_t* pos, std::string* out) {
  if (*pos >= desc.size()) return false;
  const size_t end = desc.find('\0', *pos);
  if (end == absl::string_view::npos) return false;
  *out = std::string(desc.substr(*pos, end - *pos));
  *pos = end + 1;
  return true;
}

}  // namespace

absl::StatusOr<std::vector<UsdtNote>> ParseUsdtNotes(absl::string_view section,
                                                     const std::string& path) {
  if (section.size() > kMaxUsdtNoteSectionBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": .note.stapsdt is larger than ",
                     kMaxUsdtNoteSectionBytes, " bytes"));
  }
  auto malformed = [&](size_t at) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": malformed USDT note at offset ", at, " of .note.stapsdt"));
  };
  std::vector<UsdtNote> notes;
  size_t pos = 0;
  while (pos < section.size()) {
    const size_t at = pos;
    if (section.size() - pos < 12) return malformed(at);
    const uint32_t namesz = Load32(section.data() + pos);
    const uint32_t descsz = Load32(section.data() + pos + 4);
    const uint32_t type = Load32(section.data() + pos + 8);
    pos += 12;
    // Sizes are checked against what is left before anything is added, so
    // nothing overflows.
    if (namesz > section.size() - pos ||
        Align4(namesz) > section.size() - pos) {
      return malformed(at);
    }
    const absl::string_view owner = section.substr(pos, namesz);
    pos += Align4(namesz);
    if (descsz > section.size() - pos) return malformed(at);
    const absl::string_view desc = section.substr(pos, descsz);
    pos += std::min<size_t>(Align4(descsz), section.size() - pos);
    if (type != kNtStapsdt ||
        owner != absl::string_view(kStapsdtOwner, sizeof(kStapsdtOwner))) {
      continue;
    }
    if (desc.size() < 24) return malformed(at);
    UsdtNote note;
    note.location = Load64(desc.data());
    note.base = Load64(desc.data() + 8);
    note.semaphore = Load64(desc.data() + 16);
    size_t s = 24;
    if (!TakeString(desc, &s, &note.provider) ||
        !TakeString(desc, &s, &note.name) ||
        !TakeString(desc, &s, &note.args) || note.provider.empty() ||
        note.name.empty()) {
      return malformed(at);
    }
    if (notes.size() == kMaxUsdtNotes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          path, ": more than ", kMaxUsdtNotes, " USDT probe sites"));
    }
    notes.push_back(std::move(note));
  }
  return notes;
}

absl::StatusOr<std::vector<UsdtNote>> ReadUsdtNotes(int fd,
                                                    const std::string& path) {
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", elf_errmsg(-1)));
  }
  size_t shstrndx = 0;
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr ||
      ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
      ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
      elf_getshdrstrndx(elf, &shstrndx) != 0) {
    elf_end(elf);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a 64-bit little-endian ELF file"));
  }
  GElf_Shdr notes_shdr;
  const bool found =
      FindSection(elf, ".note.stapsdt", SHT_NOTE, &notes_shdr) != nullptr;
  elf_end(elf);
  if (!found) return std::vector<UsdtNote>();
  if (notes_shdr.sh_size > kMaxUsdtNoteSectionBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": .note.stapsdt is larger than ",
                     kMaxUsdtNoteSectionBytes, " bytes"));
  }
  std::string bytes(notes_shdr.sh_size, '\0');
  const ssize_t n = pread(fd, bytes.data(), bytes.size(),
                          static_cast<off_t>(notes_shdr.sh_offset));
  if (n < 0 || static_cast<size_t>(n) != bytes.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read .note.stapsdt of ", path, ": ",
                     n < 0 ? strerror(errno) : "file too short"));
  }
  return ParseUsdtNotes(bytes, path);
}

int UsdtArgCount(const UsdtNote& note) {
  int count = 0;
  for (absl::string_view arg :
       absl::StrSplit(note.args, ' ', absl::SkipEmpty())) {
    (void)arg;
    ++count;
  }
  return count;
}

}  // namespace tracectl
