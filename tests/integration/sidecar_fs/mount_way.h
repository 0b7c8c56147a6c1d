#pragma once
// The two ways a data plane gets a FUSE mount, for tests parameterized over
// both: StartOnPath (it mounts by itself) and StartOnFd (someone else opened
// /dev/fuse and mounted it, keeping a dup, as ferry-propagator does).

#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>

#include "sidecar/fs/fuse_server.h"
#include "tests/support/fuse_fixture.h"

namespace ferry::sidecar {

enum class MountWay { kPath, kFd };

inline std::string MountWayName(const ::testing::TestParamInfo<MountWay>& p) {
  return p.param == MountWay::kPath ? "StartOnPath" : "StartOnFd";
}

// Serves `fs` at `mnt`. With kFd, `kept` gets the dup of /dev/fuse and
// `with_kept` may adjust the options with it before the server starts.
inline StatusOr<std::unique_ptr<FuseServer>> StartMountWay(
    MountWay way, const std::string& mnt, std::unique_ptr<Filesystem> fs,
    FuseServerOptions options, bool read_only, UniqueFd& kept,
    const std::function<void(int kept_fd, FuseServerOptions&)>& with_kept = {}) {
  options.read_only = read_only;
  if (way == MountWay::kPath) return FuseServer::StartOnPath(mnt, std::move(fs), std::move(options));
  ferry::testing::DevFuseMountOptions mo;
  mo.read_only = read_only;
  StatusOr<UniqueFd> fd = ferry::testing::MountDevFuse(mnt, mo);
  if (!fd.ok()) return fd.status();
  kept.Reset(::dup(fd->get()));
  if (with_kept) with_kept(kept.get(), options);
  return FuseServer::StartOnFd(std::move(*fd), std::move(fs), std::move(options));
}

}  // namespace ferry::sidecar
