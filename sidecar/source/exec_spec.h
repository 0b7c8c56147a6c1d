#pragma once
// The pure half of `exec://` mounts (the process half is sidecar/exec_mount.h):
// turning a MountSpec into a program and argv, and telling a libfuse3 binary
// from a libfuse2 one by the ELF's DT_NEEDED entries (no ldd: never run the
// binary to inspect it). Text and bytes in, values out; thread-safe.
//
// Syntax (docs/sources.md): source `exec://s3fs` (looked up in PATH) or
// `exec:///usr/bin/s3fs`; options.args the arguments, split like a shell
// (quotes, backslash), where `{mountpoint}` is replaced by the FUSE mountpoint
// ("/dev/fd/3"); without it the mountpoint is appended last. ferry adds `-f`
// (stay in the foreground, so it can be supervised) unless args have -f or -d.

#include <string>
#include <string_view>
#include <vector>

#include "common/dataset_spec.h"
#include "common/status.h"

namespace ferry::sidecar {

struct ExecSpec {
  std::string program;            // as written: a name or an absolute path
  std::vector<std::string> args;  // argv[1..], "{mountpoint}" still unreplaced
};

// kInvalidArgument for a source that is not exec://, an empty program or
// unbalanced quotes in options.args.
StatusOr<ExecSpec> ParseExecSpec(const MountSpec& spec);

// Shell-like split: whitespace separates, '...' and "..." group, backslash
// escapes. kInvalidArgument on an unterminated quote.
StatusOr<std::vector<std::string>> SplitArgs(std::string_view text);

// argv (program first) with the mountpoint substituted or appended, and -f added.
std::vector<std::string> BuildArgv(const ExecSpec& spec, const std::string& resolved_program,
                                   const std::string& mountpoint);

// DT_NEEDED names of an ELF64/ELF32 little-endian file image. kInvalidArgument
// when `image` is not such an ELF or is malformed (every offset is checked).
StatusOr<std::vector<std::string>> ElfNeededLibraries(std::string_view image);

enum class FuseAbi { kFuse3, kFuse2, kUnknown };
// kFuse2 if a DT_NEEDED names libfuse.so.2, kFuse3 for libfuse3.so.3, else kUnknown.
FuseAbi FuseAbiOf(const std::vector<std::string>& needed);

}  // namespace ferry::sidecar
