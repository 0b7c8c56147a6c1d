#pragma once
// Builds a minimal ELF64 image whose .dynamic section lists `needed` as
// DT_NEEDED entries: enough for ElfNeededLibraries, not for running.

#include <elf.h>

#include <cstring>
#include <string>
#include <vector>

namespace ferry::testing {

inline std::string BuildElfWithNeeded(const std::vector<std::string>& needed) {
  std::string dynstr(1, '\0');
  std::vector<Elf64_Dyn> dyn;
  for (const std::string& n : needed) {
    Elf64_Dyn d{};
    d.d_tag = DT_NEEDED;
    d.d_un.d_val = dynstr.size();
    dyn.push_back(d);
    dynstr += n;
    dynstr += '\0';
  }
  dyn.push_back(Elf64_Dyn{});  // DT_NULL
  const size_t str_off = sizeof(Elf64_Ehdr);
  const size_t dyn_off = str_off + dynstr.size();
  const size_t sh_off = dyn_off + dyn.size() * sizeof(Elf64_Dyn);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shoff = sh_off;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 3;
  Elf64_Shdr sh[3] = {};
  sh[1].sh_type = SHT_STRTAB;
  sh[1].sh_offset = str_off;
  sh[1].sh_size = dynstr.size();
  sh[2].sh_type = SHT_DYNAMIC;
  sh[2].sh_offset = dyn_off;
  sh[2].sh_size = dyn.size() * sizeof(Elf64_Dyn);
  sh[2].sh_link = 1;
  std::string image(reinterpret_cast<const char*>(&eh), sizeof(eh));
  image += dynstr;
  image.append(reinterpret_cast<const char*>(dyn.data()), dyn.size() * sizeof(Elf64_Dyn));
  image.append(reinterpret_cast<const char*>(sh), sizeof(sh));
  return image;
}

}  // namespace ferry::testing
