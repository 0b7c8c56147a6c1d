#include "sidecar/source/exec_spec.h"

#include <elf.h>

#include <cstring>

namespace ferry::sidecar {
namespace {

template <typename T>
bool ReadAt(std::string_view image, uint64_t offset, T* out) {
  if (offset > image.size() || image.size() - offset < sizeof(T)) return false;
  std::memcpy(out, image.data() + offset, sizeof(T));
  return true;
}

template <typename Ehdr, typename Shdr, typename Dyn>
StatusOr<std::vector<std::string>> Needed(std::string_view image) {
  Ehdr eh;
  if (!ReadAt(image, 0, &eh)) return InvalidArgument("ELF header truncated");
  if (eh.e_shentsize != sizeof(Shdr) || eh.e_shnum == 0) {
    return InvalidArgument("ELF without section headers");
  }
  std::vector<std::string> out;
  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    Shdr sh;
    if (!ReadAt(image, eh.e_shoff + i * sizeof(Shdr), &sh)) return InvalidArgument("section header out of file");
    if (sh.sh_type != SHT_DYNAMIC) continue;
    Shdr strtab;
    if (sh.sh_link >= eh.e_shnum ||
        !ReadAt(image, eh.e_shoff + uint64_t{sh.sh_link} * sizeof(Shdr), &strtab) ||
        strtab.sh_offset > image.size() || image.size() - strtab.sh_offset < strtab.sh_size) {
      return InvalidArgument("dynamic string table out of file");
    }
    std::string_view strings = image.substr(strtab.sh_offset, strtab.sh_size);
    for (uint64_t off = 0; off + sizeof(Dyn) <= sh.sh_size; off += sizeof(Dyn)) {
      Dyn d;
      if (!ReadAt(image, sh.sh_offset + off, &d)) return InvalidArgument("dynamic section out of file");
      if (d.d_tag == DT_NULL) break;
      if (d.d_tag != DT_NEEDED) continue;
      if (d.d_un.d_val >= strings.size()) return InvalidArgument("DT_NEEDED name out of table");
      std::string_view rest = strings.substr(d.d_un.d_val);
      out.emplace_back(rest.substr(0, rest.find('\0')));
    }
  }
  return out;
}

}  // namespace

StatusOr<std::vector<std::string>> SplitArgs(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
        cur += text[++i];
      } else {
        cur += c;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < text.size()) {
      cur += text[++i];
    } else {
      cur += c;
    }
  }
  if (quote != 0) return InvalidArgument(std::string("unterminated ") + quote + " quote");
  if (in_word) out.push_back(std::move(cur));
  return out;
}

StatusOr<ExecSpec> ParseExecSpec(const MountSpec& spec) {
  constexpr std::string_view kScheme = "exec://";
  if (spec.source.rfind(kScheme, 0) != 0) {
    return InvalidArgument("source \"" + spec.source + "\" is not exec://");
  }
  ExecSpec e;
  e.program = spec.source.substr(kScheme.size());
  size_t q = e.program.find('?');
  if (q != std::string::npos) {
    return InvalidArgument("source \"" + spec.source +
                           "\": put arguments in options.args, not in the URL");
  }
  if (e.program.empty() || e.program == "/") {
    return InvalidArgument("source \"" + spec.source +
                           "\" names no program; write exec://s3fs or exec:///usr/bin/s3fs");
  }
  auto it = spec.options.find("args");
  if (it != spec.options.end()) {
    StatusOr<std::vector<std::string>> args = SplitArgs(it->second);
    if (!args.ok()) return args.status().WithContext("options.args");
    e.args = std::move(*args);
  }
  return e;
}

std::vector<std::string> BuildArgv(const ExecSpec& spec, const std::string& resolved_program,
                                   const std::string& mountpoint) {
  std::vector<std::string> argv = {resolved_program};
  bool substituted = false;
  bool foreground = false;
  for (const std::string& a : spec.args) {
    std::string arg = a;
    for (size_t at = arg.find("{mountpoint}"); at != std::string::npos;
         at = arg.find("{mountpoint}", at + mountpoint.size())) {
      arg.replace(at, 12, mountpoint);
      substituted = true;
    }
    foreground = foreground || arg == "-f" || arg == "-d";
    argv.push_back(std::move(arg));
  }
  if (!foreground) argv.push_back("-f");
  if (!substituted) argv.push_back(mountpoint);
  return argv;
}

StatusOr<std::vector<std::string>> ElfNeededLibraries(std::string_view image) {
  if (image.size() < EI_NIDENT || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0) {
    return InvalidArgument("not an ELF file");
  }
  if (image[EI_DATA] != ELFDATA2LSB) return InvalidArgument("big-endian ELF is not supported");
  if (image[EI_CLASS] == ELFCLASS64) return Needed<Elf64_Ehdr, Elf64_Shdr, Elf64_Dyn>(image);
  if (image[EI_CLASS] == ELFCLASS32) return Needed<Elf32_Ehdr, Elf32_Shdr, Elf32_Dyn>(image);
  return InvalidArgument("unknown ELF class");
}

FuseAbi FuseAbiOf(const std::vector<std::string>& needed) {
  FuseAbi abi = FuseAbi::kUnknown;
  for (const std::string& n : needed) {
    if (n.rfind("libfuse.so.2", 0) == 0) return FuseAbi::kFuse2;
    if (n.rfind("libfuse3.so.3", 0) == 0) abi = FuseAbi::kFuse3;
  }
  return abi;
}

}  // namespace ferry::sidecar
