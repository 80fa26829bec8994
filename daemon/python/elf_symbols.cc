#include "daemon/python/elf_symbols.h"

#include <string.h>

#include <algorithm>

namespace tracectl {

Elf_Scn* FindSection(Elf* elf, const char* name, GElf_Word type,
                     GElf_Shdr* shdr) {
  size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) return nullptr;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    if (gelf_getshdr(scn, shdr) == nullptr ||
        (type != SHT_NULL && shdr->sh_type != type)) {
      continue;
    }
    const char* scn_name = elf_strptr(elf, names, shdr->sh_name);
    if (scn_name != nullptr && strcmp(scn_name, name) == 0) return scn;
  }
  return nullptr;
}

void ForEachDynamicSymbol(
    Elf* elf, const std::function<void(const GElf_Sym&, const char*)>& visit) {
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_DYNSYM ||
        shdr.sh_entsize == 0) {
      continue;
    }
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    const size_t count =
        std::min<size_t>(shdr.sh_size / shdr.sh_entsize, kMaxDynamicSymbols);
    for (size_t i = 1; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr ||
          sym.st_shndx == SHN_UNDEF) {
        continue;
      }
      const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
      if (name == nullptr || name[0] == '\0') continue;
      visit(sym, name);
    }
  }
}

}  // namespace tracectl
