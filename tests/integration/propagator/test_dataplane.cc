// ferry-test-dataplane: a tiny stand-in for ferry-sidecar, run by
// ferry-propagator in the propagator's integration tests.
//
//   ferry-test-dataplane [NAME[:rw]]...
//
// Prints "pid <pid>" and "adopt <n>", then asks for a mount per NAME over
// FERRY_CONTROL_FD and serves it with libfuse's low-level API on
// /dev/fd/<fd> (no privilege needed): a root directory holding one file,
// "hello", that reads "hello from NAME\n". Then obeys stdin, one command a
// line: "mount NAME [rw]", "unmount NAME", "ping", "exit CODE". Each result
// is one stdout line: "mounted NAME", "unmounted NAME", "pong", or
// "error <what>". Test code only: libfuse is used directly here.

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "common/control_protocol.h"

namespace {

constexpr fuse_ino_t kHelloIno = 2;

struct Served {
  std::string name;
  std::string content;
  fuse_session* session = nullptr;
  std::thread loop;
};

std::string ContentOf(fuse_req_t req) {
  return static_cast<Served*>(fuse_req_userdata(req))->content;
}

void FillAttr(fuse_ino_t ino, size_t size, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  st->st_ino = ino;
  if (ino == FUSE_ROOT_ID) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
  } else {
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = static_cast<off_t>(size);
  }
}

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (parent != FUSE_ROOT_ID || std::strcmp(name, "hello") != 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  fuse_entry_param e{};
  e.ino = kHelloIno;
  FillAttr(kHelloIno, ContentOf(req).size(), &e.attr);
  fuse_reply_entry(req, &e);
}

void GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  if (ino != FUSE_ROOT_ID && ino != kHelloIno) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct stat st {};
  FillAttr(ino, ContentOf(req).size(), &st);
  fuse_reply_attr(req, &st, 0);
}

void ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  if (ino != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  std::string buf(size, '\0');
  size_t used = 0;
  const char* names[] = {".", "..", "hello"};
  fuse_ino_t inos[] = {FUSE_ROOT_ID, FUSE_ROOT_ID, kHelloIno};
  for (off_t i = off; i < 3; ++i) {
    struct stat st {};
    st.st_ino = inos[i];
    st.st_mode = i == 2 ? S_IFREG : S_IFDIR;
    size_t n = fuse_add_direntry(req, buf.data() + used, size - used, names[i], &st, i + 1);
    if (n > size - used) break;
    used += n;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (ino != kHelloIno) {
    fuse_reply_err(req, EISDIR);
    return;
  }
  fuse_reply_open(req, fi);
}

void Read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info*) {
  std::string c = ContentOf(req);
  if (static_cast<size_t>(off) >= c.size()) {
    fuse_reply_buf(req, nullptr, 0);
    return;
  }
  size_t n = std::min(size, c.size() - static_cast<size_t>(off));
  fuse_reply_buf(req, c.data() + off, n);
}

void Say(const std::string& line) {
  std::cout << line << std::endl;  // flushes: the test reads line by line
}

class DataPlane {
 public:
  explicit DataPlane(std::unique_ptr<ferry::PropagatorClient> client)
      : client_(std::move(client)) {}

  void Mount(const std::string& name, bool rw) {
    ferry::StatusOr<ferry::UniqueFd> fd = client_->Mount({name, !rw, "ferry:" + name});
    if (!fd.ok()) {
      Say("error mount " + name + ": " + fd.status().ToString());
      return;
    }
    auto s = std::make_unique<Served>();
    s->name = name;
    s->content = "hello from " + name + "\n";
    fuse_lowlevel_ops ops{};
    ops.lookup = Lookup;
    ops.getattr = GetAttr;
    ops.readdir = ReadDir;
    ops.open = Open;
    ops.read = Read;
    char arg0[] = "ferry-test-dataplane";
    char* argv[] = {arg0, nullptr};
    fuse_args args = FUSE_ARGS_INIT(1, argv);
    s->session = fuse_session_new(&args, &ops, sizeof(ops), s.get());
    int raw = fd->Release();  // the session owns it now
    std::string mountpoint = "/dev/fd/" + std::to_string(raw);
    if (s->session == nullptr || fuse_session_mount(s->session, mountpoint.c_str()) != 0) {
      Say("error serve " + name);
      return;
    }
    fuse_session* se = s->session;
    s->loop = std::thread([se] { fuse_session_loop(se); });
    served_[name] = std::move(s);
    Say("mounted " + name);
  }

  void Unmount(const std::string& name) {
    ferry::Status st = client_->Unmount(name);
    if (!st.ok()) {
      Say("error unmount " + name + ": " + st.ToString());
      return;
    }
    auto it = served_.find(name);
    if (it != served_.end()) {
      // The detached mount dies once unused; the kernel then ends the loop.
      it->second->loop.join();
      fuse_session_destroy(it->second->session);
      served_.erase(it);
    }
    Say("unmounted " + name);
  }

  void Adopt() {
    auto kept = client_->Adopt();
    Say(kept.ok() ? "adopt " + std::to_string(kept->size()) : "error adopt");
  }

  void Ping() { Say(client_->Ping().ok() ? "pong" : "error ping"); }

 private:
  std::unique_ptr<ferry::PropagatorClient> client_;
  std::map<std::string, std::unique_ptr<Served>> served_;
};

}  // namespace

int main(int argc, char** argv) {
  auto client = ferry::PropagatorClient::FromEnv();
  if (!client.ok()) {
    std::cerr << client.status().ToString() << "\n";
    return 2;
  }
  DataPlane dp(std::move(client).value());
  Say("pid " + std::to_string(getpid()));
  dp.Adopt();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool rw = a.size() > 3 && a.substr(a.size() - 3) == ":rw";
    dp.Mount(rw ? a.substr(0, a.size() - 3) : a, rw);
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd, name, mode;
    in >> cmd >> name >> mode;
    if (cmd == "mount") {
      dp.Mount(name, mode == "rw");
    } else if (cmd == "unmount") {
      dp.Unmount(name);
    } else if (cmd == "ping") {
      dp.Ping();
    } else if (cmd == "exit") {
      std::fflush(stdout);
      _exit(std::atoi(name.c_str()));
    }
  }
  for (;;) pause();  // stdin closed: keep serving until a signal ends us
}
