/* A tiny libfuse3 filesystem for exec:// tests: one file, /hello. It takes
 * its mountpoint as /dev/fd/N like a vendor binary (s3fs, ossfs) would. */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char kContent[] = "hello from exec\n";

static int hello_getattr(const char* path, struct stat* st, struct fuse_file_info* fi) {
  (void)fi;
  memset(st, 0, sizeof(*st));
  if (strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
    return 0;
  }
  if (strcmp(path, "/hello") == 0) {
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = sizeof(kContent) - 1;
    return 0;
  }
  return -ENOENT;
}

static int hello_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t off,
                         struct fuse_file_info* fi, enum fuse_readdir_flags flags) {
  (void)off;
  (void)fi;
  (void)flags;
  if (strcmp(path, "/") != 0) return -ENOENT;
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  fill(buf, "hello", NULL, 0, 0);
  return 0;
}

static int hello_read(const char* path, char* buf, size_t size, off_t off,
                      struct fuse_file_info* fi) {
  (void)fi;
  size_t len = sizeof(kContent) - 1;
  if (strcmp(path, "/hello") != 0) return -ENOENT;
  if ((size_t)off >= len) return 0;
  if (off + size > len) size = len - off;
  memcpy(buf, kContent + off, size);
  return (int)size;
}

static const struct fuse_operations kOps = {
    .getattr = hello_getattr,
    .readdir = hello_readdir,
    .read = hello_read,
};

int main(int argc, char* argv[]) {
  fprintf(stderr, "hello_fuse3 starting\nsecond line\n");
  fflush(stderr);
  return fuse_main(argc, argv, &kOps, NULL);
}
