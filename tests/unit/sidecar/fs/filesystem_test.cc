#include "sidecar/fs/filesystem.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <vector>

#include "sidecar/fs/fuse_errno.h"
#include "sidecar/source/local_source.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_data_source.h"
#include "tests/support/server_fixtures.h"

namespace ferry::sidecar {
namespace {

using std::chrono::seconds;

class RecordingSink final : public InvalidationSink {
 public:
  void InvalidateInode(uint64_t ino) override { inodes.push_back(ino); }
  void InvalidateEntry(uint64_t parent, std::string name) override {
    entries.emplace_back(parent, std::move(name));
  }
  std::vector<uint64_t> inodes;
  std::vector<std::pair<uint64_t, std::string>> entries;
};

// Routes reads through the BlockCache interface and counts them.
class CountingCache final : public BlockCache {
 public:
  explicit CountingCache(DataSource& s) : source_(s) {}
  StatusOr<size_t> Read(std::string_view path, const Entry& version, uint64_t offset,
                        std::span<std::byte> out, uint64_t handle) override {
    reads++;
    last_handle = handle;
    return source_.Read(path, version, offset, out);
  }
  void Release(uint64_t handle) override { released.insert(handle); }
  CacheStats Stats() const override { return {}; }
  int reads = 0;
  uint64_t last_handle = 0;
  std::set<uint64_t> released;

 private:
  DataSource& source_;
};

class FilesystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int d = 0; d < 3; ++d) {
      for (int f = 0; f < 5; ++f) {
        src_.PutFile("dir" + std::to_string(d) + "/f" + std::to_string(f),
                     "content-" + std::to_string(d * 10 + f));
      }
    }
    src_.PutDir("dir1/sub");
    src_.PutFile("dir1/sub/deep", "deep");
    src_.PutSymlink("link", "dir0/f0");
    src_.PutFile("top", "0123456789");
  }
  std::unique_ptr<Filesystem> Make(FilesystemOptions o = FilesystemOptions::ForLocal(),
                                   BlockCache* cache = nullptr) {
    auto fs = std::make_unique<Filesystem>(src_, cache, o, clock_);
    fs->SetInvalidationSink(&sink_);
    return fs;
  }
  // Like the kernel: readdirplus every directory, recursively.
  void Walk(Filesystem& fs, uint64_t ino, int* dirs) {
    ++*dirs;
    auto h = fs.OpenDir(ino);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    std::vector<DirEntry> entries;
    ASSERT_TRUE(fs.ReadDirPlus(h->fh, 0, [&](const DirEntry& d) {
                    entries.push_back(d);
                    return true;
                  }).ok());
    fs.ReleaseDir(h->fh);
    for (const DirEntry& d : entries) {
      if (d.entry.ino == 0) continue;
      // `ls -l` stats every name: lookups and getattrs hit the cache.
      ASSERT_TRUE(fs.Lookup(ino, d.name).ok());
      ASSERT_TRUE(fs.GetAttr(d.entry.ino).ok());
      if ((d.entry.attr.mode & S_IFMT) == S_IFDIR) Walk(fs, d.entry.ino, dirs);
    }
  }
  std::string ReadAll(Filesystem& fs, uint64_t ino) {
    auto h = fs.Open(ino, O_RDONLY);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (!h.ok()) return "";
    std::string out(100, '\0');
    auto n = fs.Read(h->fh, 0, std::as_writable_bytes(std::span<char>(out)));
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    fs.Release(h->fh);
    out.resize(n.ok() ? *n : 0);
    return out;
  }

  testing::FakeDataSource src_;
  testing::FakeClock clock_;
  RecordingSink sink_;
};

TEST_F(FilesystemTest, LsLRCostsOneListPerDirectoryAndNoStat) {
  auto fs = Make();
  src_.ClearLog();
  int dirs = 0;
  Walk(*fs, kRootIno, &dirs);
  EXPECT_EQ(dirs, 5);  // root, dir0..2, dir1/sub
  EXPECT_EQ(src_.CountOps("list:"), 5u);
  EXPECT_EQ(src_.CountOps("stat:"), 0u);
  // A second walk within the TTLs costs nothing.
  Walk(*fs, kRootIno, &dirs);
  EXPECT_EQ(src_.CountOps("list:"), 5u);
  EXPECT_EQ(src_.CountOps("stat:"), 0u);
}

TEST_F(FilesystemTest, FileAndDirModesOverrideTheSourceBits) {
  FilesystemOptions o = FilesystemOptions::ForLocal();
  o.uid = 1000;
  o.file_mode = 0640;
  o.dir_mode = 0750;
  auto fs = Make(o);
  StatusOr<EntryReply> dir = fs->Lookup(kRootIno, "dir0");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->attr.mode, S_IFDIR | 0750u);
  EXPECT_EQ(dir->attr.uid, 1000u);
  StatusOr<EntryReply> file = fs->Lookup(dir->ino, "f0");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->attr.mode, S_IFREG | 0640u);
  StatusOr<EntryReply> link = fs->Lookup(kRootIno, "link");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->attr.mode & S_IFMT, static_cast<uint32_t>(S_IFLNK));  // symlinks keep theirs
  auto plain = Make();
  StatusOr<EntryReply> dflt = plain->Lookup(kRootIno, "top");
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->attr.mode, S_IFREG | 0444u);  // the fake source gives no bits
}

TEST_F(FilesystemTest, LookupInUnlistedDirectoryListsParentOnce) {
  auto fs = Make();
  src_.ClearLog();
  auto d = fs->Lookup(kRootIno, "dir2");
  ASSERT_TRUE(d.ok());
  for (int f = 0; f < 5; ++f) ASSERT_TRUE(fs->Lookup(d->ino, std::string("f").append(std::to_string(f))).ok());
  EXPECT_EQ(fs->Lookup(d->ino, "missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(src_.CountOps("list:"), 2u);
  EXPECT_EQ(src_.CountOps("stat:"), 0u);
}

TEST_F(FilesystemTest, WithoutListOnLookupEachNameIsOneStatAndMissesAreCached) {
  FilesystemOptions o;
  o.list_on_lookup = false;
  auto fs = Make(o);
  src_.ClearLog();
  ASSERT_TRUE(fs->Lookup(kRootIno, "top").ok());
  EXPECT_EQ(fs->Lookup(kRootIno, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs->Lookup(kRootIno, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(src_.CountOps("stat:"), 2u);
  EXPECT_EQ(src_.CountOps("list:"), 0u);
  clock_.Advance(o.negative_ttl);
  EXPECT_EQ(fs->Lookup(kRootIno, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(src_.CountOps("stat:"), 3u);
  src_.PutFile("nope", "now here");
  clock_.Advance(o.negative_ttl);
  EXPECT_TRUE(fs->Lookup(kRootIno, "nope").ok());
}

TEST_F(FilesystemTest, AttributesExpireWithTtl) {
  FilesystemOptions o;
  o.attr_ttl = o.dir_ttl = seconds(5);
  auto fs = Make(o);
  auto e = fs->Lookup(kRootIno, "top");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->attr.size, 10u);
  EXPECT_EQ(e->attr_timeout, seconds(5));
  src_.PutFile("top", "longer content");
  clock_.Advance(seconds(4));
  EXPECT_EQ(fs->GetAttr(e->ino)->attr.size, 10u);  // cached
  clock_.Advance(seconds(1));
  EXPECT_EQ(fs->GetAttr(e->ino)->attr.size, 14u);
  // The change is pushed to the kernel through the sink.
  EXPECT_EQ(sink_.inodes, std::vector<uint64_t>{e->ino});
}

TEST_F(FilesystemTest, LookupCountsAndEstale) {
  auto fs = Make();
  auto a = fs->Lookup(kRootIno, "top");
  auto b = fs->Lookup(kRootIno, "top");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ino, b->ino);
  fs->Forget(a->ino, 1);
  EXPECT_TRUE(fs->GetAttr(a->ino).ok());
  fs->Forget(a->ino, 1);
  EXPECT_EQ(ToErrno(fs->GetAttr(a->ino).status()), ESTALE);
  EXPECT_EQ(ToErrno(fs->Open(a->ino, O_RDONLY).status()), ESTALE);
  EXPECT_EQ(ToErrno(fs->Lookup(a->ino, "x").status()), ESTALE);
  EXPECT_EQ(ToErrno(fs->OpenDir(987654321).status()), ESTALE);
  EXPECT_EQ(ToErrno(fs->ReadLink(987654321).status()), ESTALE);
}

TEST_F(FilesystemTest, RefusedReaddirplusEntriesHoldNoReference) {
  auto fs = Make();
  auto h = fs->OpenDir(kRootIno);
  ASSERT_TRUE(h.ok());
  std::vector<DirEntry> got;
  ASSERT_TRUE(fs->ReadDirPlus(h->fh, 0, [&](const DirEntry& d) {
                  if (got.size() == 3) return false;  // ".", "..", first child
                  got.push_back(d);
                  return true;
                }).ok());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].name, ".");
  EXPECT_EQ(got[0].entry.ino, 0u);
  EXPECT_EQ(got[1].name, "..");
  EXPECT_EQ(got[2].name, "dir0");
  EXPECT_EQ(fs->InodeCountForTest(), 2u);  // root + dir0
  // Continue from the offset the kernel saw last.
  std::vector<std::string> rest;
  ASSERT_TRUE(fs->ReadDirPlus(h->fh, got.back().next_offset, [&](const DirEntry& d) {
                  rest.push_back(d.name);
                  return true;
                }).ok());
  EXPECT_EQ(rest, (std::vector<std::string>{"dir1", "dir2", "link", "top"}));
  fs->ReleaseDir(h->fh);
  EXPECT_EQ(ToErrno(fs->ReadDirPlus(h->fh, 0, [](const DirEntry&) { return true; })), EBADF);
}

TEST_F(FilesystemTest, PlainReaddirTakesNoReferences) {
  auto fs = Make();
  auto h = fs->OpenDir(kRootIno);
  ASSERT_TRUE(h.ok());
  std::vector<DirEntry> got;
  ASSERT_TRUE(fs->ReadDir(h->fh, 0, [&](const DirEntry& d) {
                  got.push_back(d);
                  return true;
                }).ok());
  EXPECT_EQ(got.size(), 7u);
  EXPECT_EQ(fs->InodeCountForTest(), 1u);
  auto top = fs->Lookup(kRootIno, "top");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(got.back().entry.attr.ino, top->ino);  // d_ino matches st_ino
}

TEST_F(FilesystemTest, KeepCacheOnlyForUnchangedVersion) {
  auto fs = Make();
  auto e = fs->Lookup(kRootIno, "top");
  ASSERT_TRUE(e.ok());
  auto o1 = fs->Open(e->ino, O_RDONLY);
  ASSERT_TRUE(o1.ok());
  EXPECT_FALSE(o1->keep_cache);
  auto o2 = fs->Open(e->ino, O_RDONLY);
  ASSERT_TRUE(o2.ok());
  EXPECT_TRUE(o2->keep_cache);
  fs->Release(o1->fh);
  fs->Release(o2->fh);
  src_.PutFile("top", "changed!!!");  // same size, new etag
  clock_.Advance(seconds(1));
  auto o3 = fs->Open(e->ino, O_RDONLY);
  ASSERT_TRUE(o3.ok());
  EXPECT_FALSE(o3->keep_cache);
  EXPECT_EQ(sink_.inodes, std::vector<uint64_t>{e->ino});
  auto o4 = fs->Open(e->ino, O_RDONLY);
  EXPECT_TRUE(o4->keep_cache);
  EXPECT_EQ(fs->Stats().keep_cache_opens, 2u);
}

TEST_F(FilesystemTest, DirectoryCacheKeptWhileListingUnchanged) {
  auto fs = Make();
  auto d1 = fs->OpenDir(kRootIno);
  EXPECT_TRUE(d1->cache_dir);
  EXPECT_FALSE(d1->keep_cache);
  EXPECT_TRUE(fs->OpenDir(kRootIno)->keep_cache);
  clock_.Advance(seconds(1));
  EXPECT_TRUE(fs->OpenDir(kRootIno)->keep_cache);  // re-listed, same content
  src_.PutFile("new", "x");
  clock_.Advance(seconds(1));
  EXPECT_FALSE(fs->OpenDir(kRootIno)->keep_cache);
  ASSERT_EQ(sink_.entries.size(), 1u);
  EXPECT_EQ(sink_.entries[0], (std::pair<uint64_t, std::string>{kRootIno, "new"}));
}

TEST_F(FilesystemTest, ReadsGoToSourceOrCache) {
  auto fs = Make();
  auto e = fs->Lookup(kRootIno, "top");
  EXPECT_EQ(ReadAll(*fs, e->ino), "0123456789");
  EXPECT_EQ(src_.CountOps("read:top"), 1u);

  CountingCache cache(src_);
  auto cached = Make(FilesystemOptions(), &cache);
  auto e2 = cached->Lookup(kRootIno, "top");
  auto h = cached->Open(e2->ino, O_RDONLY);
  std::string buf(4, '\0');
  auto n = cached->Read(h->fh, 3, std::as_writable_bytes(std::span<char>(buf)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf, "3456");
  EXPECT_EQ(cache.reads, 1);
  EXPECT_EQ(cache.last_handle, h->fh);
  cached->Release(h->fh);
  EXPECT_TRUE(cache.released.count(h->fh));
}

TEST_F(FilesystemTest, ObjectChangedUnderOpenHandleIsEio) {
  auto fs = Make();
  auto e = fs->Lookup(kRootIno, "top");
  auto h = fs->Open(e->ino, O_RDONLY);
  src_.PutFile("top", "other");
  std::string buf(4, '\0');
  auto n = fs->Read(h->fh, 0, std::as_writable_bytes(std::span<char>(buf)));
  EXPECT_EQ(ToErrno(n.status()), EIO);
  // The next open sees the new version without waiting for the TTL (direct:
  // the kernel still has the old size).
  EXPECT_EQ(ReadAll(*fs, e->ino), "other");
}

TEST_F(FilesystemTest, WritesAreErofs) {
  auto fs = Make();
  auto e = fs->Lookup(kRootIno, "top");
  EXPECT_EQ(ToErrno(fs->Open(e->ino, O_WRONLY).status()), EROFS);
  EXPECT_EQ(ToErrno(fs->Open(e->ino, O_RDWR).status()), EROFS);
  EXPECT_EQ(ToErrno(fs->Open(e->ino, O_RDONLY | O_TRUNC).status()), EROFS);
  EXPECT_EQ(ToErrno(fs->RejectWrite("unlink")), EROFS);
}

TEST_F(FilesystemTest, TypesModesAndSymlinks) {
  auto fs = Make();
  auto dir = fs->Lookup(kRootIno, "dir0");
  EXPECT_EQ(dir->attr.mode, static_cast<uint32_t>(S_IFDIR | 0555));
  auto file = fs->Lookup(kRootIno, "top");
  EXPECT_EQ(file->attr.mode, static_cast<uint32_t>(S_IFREG | 0444));
  EXPECT_EQ(file->attr.blocks, 1u);
  auto link = fs->Lookup(kRootIno, "link");
  EXPECT_EQ(link->attr.mode & S_IFMT, static_cast<uint32_t>(S_IFLNK));
  EXPECT_EQ(*fs->ReadLink(link->ino), "dir0/f0");
  EXPECT_EQ(ToErrno(fs->ReadLink(file->ino).status()), EINVAL);
  EXPECT_EQ(ToErrno(fs->Open(dir->ino, O_RDONLY).status()), EISDIR);
  EXPECT_EQ(ToErrno(fs->OpenDir(file->ino).status()), ENOTDIR);
  EXPECT_EQ(ToErrno(fs->Lookup(file->ino, "x").status()), ENOTDIR);
  EXPECT_EQ(ToErrno(fs->Lookup(kRootIno, std::string(256, 'a')).status()), ENAMETOOLONG);
}

TEST_F(FilesystemTest, SourceErrorsPropagate) {
  auto fs = Make();
  src_.FailPath("dir0", Unavailable("backend down"));
  auto d = fs->Lookup(kRootIno, "dir0");  // from the root listing
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(ToErrno(fs->OpenDir(d->ino).status()), EIO);
  src_.FailPath("dir0", Status());
  EXPECT_TRUE(fs->OpenDir(d->ino).ok());
}

TEST_F(FilesystemTest, AResizedFileOpensDirectUntilTheKernelKnowsItsSize) {
  auto fs = Make();  // 1 s TTLs
  auto f = fs->Lookup(kRootIno, "top");  // the kernel now has size 10
  ASSERT_TRUE(f.ok());
  auto before = fs->Open(f->ino, O_RDONLY);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->direct_io);
  fs->Release(before->fh);
  src_.PutFile("top", "0123456789abcdef");  // grows
  clock_.Advance(std::chrono::seconds(2));  // metadata stale; the kernel keeps size 10
  auto open = fs->Open(f->ino, O_RDONLY);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_TRUE(open->direct_io);  // reads give exactly the 16 bytes, EOF at 16
  EXPECT_FALSE(open->keep_cache);
  EXPECT_EQ(sink_.inodes.back(), f->ino);  // and the kernel is told to ask again
  fs->Release(open->fh);
  ASSERT_TRUE(fs->GetAttr(f->ino).ok());  // it asks: size 16
  auto after = fs->Open(f->ino, O_RDONLY);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->direct_io);
  fs->Release(after->fh);
  src_.PutFile("top", "fedcba9876543210");  // same size: cached, page cache dropped at open
  clock_.Advance(std::chrono::seconds(2));
  auto same = fs->Open(f->ino, O_RDONLY);
  EXPECT_FALSE(same->direct_io);
  EXPECT_FALSE(same->keep_cache);
  fs->Release(same->fh);
  EXPECT_EQ(fs->Stats().direct_opens, 1u);
}

// A reader half way through a file that changes keeps the size of the version
// it opened when the kernel asks on its behalf (GETATTR with the handle), so
// it reads that version to its end, never the old bytes cut at the new size.
TEST_F(FilesystemTest, AnOpenFileKeepsTheSizeOfItsVersion) {
  auto fs = Make();
  auto f = fs->Lookup(kRootIno, "top");  // 10 bytes
  ASSERT_TRUE(f.ok());
  auto open = fs->Open(f->ino, O_RDONLY);
  ASSERT_TRUE(open.ok());
  src_.PutFile("top", "abc");  // shrinks
  clock_.Advance(std::chrono::seconds(2));
  StatusOr<AttrReply> mine = fs->GetAttr(f->ino, open->fh);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->attr.size, 10u);
  EXPECT_EQ(mine->timeout, std::chrono::nanoseconds(0));
  EXPECT_EQ(ReadAll(*fs, f->ino), "abc");  // a new open reads the new version
  StatusOr<AttrReply> anyone = fs->GetAttr(f->ino);
  ASSERT_TRUE(anyone.ok());
  EXPECT_EQ(anyone->attr.size, 3u);
  fs->Release(open->fh);
  EXPECT_EQ(fs->GetAttr(f->ino, open->fh)->attr.size, 3u);  // unknown handle: the current one
}

TEST_F(FilesystemTest, InodesSurviveHandOver) {
  auto fs = Make();
  auto e = fs->Lookup(kRootIno, "dir1");
  auto f = fs->Lookup(e->ino, "f3");
  std::string image = fs->SerializeInodes();
  auto restarted = Make();
  ASSERT_TRUE(restarted->RestoreInodes(image).ok());
  EXPECT_EQ(ReadAll(*restarted, f->ino), "content-13");
}

// Passthrough bookkeeping: a LocalSource on a temp dir gives real fds; the
// registrar is a fake (the real ioctl needs a FUSE connection).
class FakeRegistrar final : public BackingRegistrar {
 public:
  StatusOr<int32_t> Open(int file_fd) override {
    if (fail) return PermissionDenied("no CAP_SYS_ADMIN");
    EXPECT_GE(file_fd, 0);
    live.insert(next);
    opens++;
    return next++;
  }
  void Close(int32_t id) override { EXPECT_EQ(live.erase(id), 1u) << id; }
  bool fail = false;
  int opens = 0;
  int32_t next = 1;
  std::set<int32_t> live;
};

class PassthroughBookkeepingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/x") << "xx";
    std::ofstream(dir_.path() + "/y") << "yy";
    source_ = std::make_unique<LocalSource>(dir_.path());
    FilesystemOptions o = FilesystemOptions::ForLocal();
    o.passthrough = true;
    o.passthrough_min_bytes = 0;
    fs_ = std::make_unique<Filesystem>(*source_, nullptr, o, clock_);
    x_ = fs_->Lookup(kRootIno, "x")->ino;
    y_ = fs_->Lookup(kRootIno, "y")->ino;
  }
  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<LocalSource> source_;
  std::unique_ptr<Filesystem> fs_;
  FakeRegistrar reg_;
  uint64_t x_ = 0, y_ = 0;
};

TEST_F(PassthroughBookkeepingTest, NoRegistrarNoBackingId) {
  auto h = fs_->Open(x_, O_RDONLY);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->backing_id, 0);
  EXPECT_FALSE(fs_->Stats().passthrough);
  fs_->Release(h->fh);
}

TEST_F(PassthroughBookkeepingTest, OpenHandlesOfOneInodeShareOneRegistration) {
  fs_->EnablePassthrough(&reg_);
  auto a = fs_->Open(x_, O_RDONLY);
  auto b = fs_->Open(x_, O_RDONLY);
  auto c = fs_->Open(y_, O_RDONLY);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_GT(a->backing_id, 0);
  EXPECT_EQ(a->backing_id, b->backing_id);
  EXPECT_NE(a->backing_id, c->backing_id);
  EXPECT_EQ(reg_.opens, 2);
  fs_->Release(a->fh);
  fs_->Release(b->fh);
  EXPECT_EQ(reg_.live.count(b->backing_id), 1u);  // kept idle for the next open
  auto d = fs_->Open(x_, O_RDONLY);  // same file version: reused, no round trip
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->backing_id, a->backing_id);
  EXPECT_EQ(reg_.opens, 2);
  fs_->Release(d->fh);
  std::ofstream(dir_.path() + "/x") << "changed, longer";  // a new version of x
  clock_.Advance(std::chrono::seconds(5));                 // past the metadata TTL
  auto e = fs_->Open(x_, O_RDONLY);
  ASSERT_TRUE(e.ok());
  EXPECT_GT(e->backing_id, 0);
  EXPECT_NE(e->backing_id, a->backing_id);  // the stale registration was replaced
  EXPECT_EQ(reg_.live.count(a->backing_id), 0u);
  fs_->Release(e->fh);
  fs_->Release(c->fh);
  fs_->Forget(x_, 1);  // the kernel forgets the inodes: registrations closed
  fs_->Forget(y_, 1);
  EXPECT_TRUE(reg_.live.empty());
  EXPECT_EQ(fs_->Stats().passthrough_opens, 5u);
}

TEST(PassthroughMinSizeTest, SmallFilesStayInFerryUnlessAPassthroughOpenPinsTheInode) {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/f") << "tiny";
  LocalSource source(dir.path());
  testing::FakeClock clock;
  FilesystemOptions o = FilesystemOptions::ForLocal();
  o.passthrough = true;
  o.passthrough_min_bytes = 1 << 20;
  Filesystem fs(source, nullptr, o, clock);
  FakeRegistrar reg;
  fs.EnablePassthrough(&reg);
  uint64_t ino = fs.Lookup(kRootIno, "f")->ino;
  auto h = fs.Open(ino, O_RDONLY);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->backing_id, 0);
  EXPECT_EQ(reg.opens, 0);
  fs.Release(h->fh);
  EXPECT_TRUE(fs.Stats().passthrough);  // still on for large files
}

TEST_F(PassthroughBookkeepingTest, AFailedRegistrationTurnsItOffButOpenIdsStillClose) {
  fs_->EnablePassthrough(&reg_);
  auto a = fs_->Open(x_, O_RDONLY);
  ASSERT_TRUE(a.ok());
  ASSERT_GT(a->backing_id, 0);
  reg_.fail = true;
  auto b = fs_->Open(y_, O_RDONLY);
  ASSERT_TRUE(b.ok());  // the open itself succeeds, served by ferry
  EXPECT_EQ(b->backing_id, 0);
  EXPECT_FALSE(fs_->Stats().passthrough);
  reg_.fail = false;
  auto c = fs_->Open(y_, O_RDONLY);  // not asked again
  EXPECT_EQ(c->backing_id, 0);
  EXPECT_EQ(reg_.opens, 1);
  auto d = fs_->Open(x_, O_RDONLY);  // x is open with passthrough: must stay so
  EXPECT_EQ(d->backing_id, a->backing_id);
  for (uint64_t fh : {a->fh, b->fh, c->fh, d->fh}) fs_->Release(fh);
  fs_->Forget(x_, 1);
  EXPECT_TRUE(reg_.live.empty());  // registered before the failure, closed all the same
  std::byte buf[2];
  auto e = fs_->Open(y_, O_RDONLY);
  EXPECT_EQ(*fs_->Read(e->fh, 0, buf), 2u);  // ferry reads still work
  fs_->Release(e->fh);
}

}  // namespace
}  // namespace ferry::sidecar
