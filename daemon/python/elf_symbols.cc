#include "daemon/python/elf_symbols.h"

#include <algorithm>

namespace tracectl {

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
