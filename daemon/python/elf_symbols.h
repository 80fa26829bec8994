// The defined symbols of an ELF file's .dynsym, for the readers that need
// a few of them (the Python loader's _PyRuntime, the symbolizer's names when
// it will not let libdwfl read a file its own way). Bounded: a file's
// tables are its author's to shape.
#ifndef TRACECTL_DAEMON_PYTHON_ELF_SYMBOLS_H_
#define TRACECTL_DAEMON_PYTHON_ELF_SYMBOLS_H_

#include <gelf.h>

#include <cstddef>
#include <functional>

namespace tracectl {

// Symbols looked at at most, per .dynsym section.
inline constexpr size_t kMaxDynamicSymbols = 1 << 20;

// Calls `visit` with each defined (not SHN_UNDEF) symbol of `elf`'s .dynsym
// that has a name, and its name.
void ForEachDynamicSymbol(
    Elf* elf, const std::function<void(const GElf_Sym&, const char*)>& visit);

// The first section of `elf` named `name` (of type `type`, unless it is
// SHT_NULL), its header in `*shdr`; nullptr if there is none.
Elf_Scn* FindSection(Elf* elf, const char* name, GElf_Word type,
                     GElf_Shdr* shdr);

}  // namespace tracectl

#endif  // TRACECTL_DAEMON_PYTHON_ELF_SYMBOLS_H_
