#include "tests/support/server_fixtures.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;
using Ms = std::chrono::milliseconds;

std::string ToolsDir() {
  const char* d = std::getenv("FERRY_TOOLS_DIR");
  return d != nullptr && *d != '\0' ? d : "/opt/ferry-tools";
}

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string FindInPath(const std::string& name, std::initializer_list<const char*> dirs) {
  for (const char* d : dirs) {
    std::string p = std::string(d) + "/" + name;
    if (Executable(p)) return p;
  }
  return "";
}

// Polls `pred` every 20 ms until true or the deadline passes.
template <typename Pred>
bool PollUntil(Pred pred, Ms deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(Ms(20));
  }
  return pred();
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  char* p = ::mkdtemp(tmpl.data());
  if (p == nullptr) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                            const std::string& log_path,
                                                            const std::vector<std::string>& extra_env) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    std::string_view name = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const std::string& x : extra_env) overridden = overridden || x.rfind(std::string(name) + "=", 0) == 0;
    if (!overridden) env_strings.emplace_back(kv);
  }
  for (const std::string& x : extra_env) env_strings.push_back(x);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return StatusFromErrno(rc, "spawn " + argv[0]);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() { Stop(); }

bool ChildProcess::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

void ChildProcess::Stop(Ms grace) {
  if (reaped_) return;
  ::kill(pid_, SIGTERM);
  if (!PollUntil([&] { return !Running(); }, grace)) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
  }
  ::kill(-pid_, SIGKILL);  // leftovers of the group (nginx workers), if any
}

int ChildProcess::Wait() {
  int status = 0;
  if (!reaped_ && ::waitpid(pid_, &status, 0) == pid_) reaped_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

StatusOr<int> RunCommand(const std::vector<std::string>& argv, const std::string& log_path) {
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> p, ChildProcess::Start(argv, log_path));
  return p->Wait();
}

uint16_t PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Status WaitForPort(uint16_t port, Ms deadline) {
  bool up = PollUntil(
      [&] {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        return ok;
      },
      deadline);
  return up ? Status::Ok() : Unavailable("nothing listens on 127.0.0.1:" + std::to_string(port));
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFile(const std::string& path, std::string_view content) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return Internal("cannot write " + path);
  return Status::Ok();
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

StatusOr<std::unique_ptr<S3rverServer>> S3rverServer::Start(const std::vector<std::string>& buckets) {
  std::string bin = ToolsDir() + "/node_modules/.bin/s3rver";
  if (!Executable(bin)) {
    return Unavailable("s3rver is not installed at " + bin +
                       ": run `source scripts/lib/common.sh; install_npm_tools`");
  }
  std::unique_ptr<S3rverServer> s(new S3rverServer());
  std::vector<std::string> argv = {bin, "-d", s->dir_.path() + "/data", "-a", "127.0.0.1", "-p", "0"};
  for (const std::string& b : buckets) {
    argv.push_back("--configure-bucket");
    argv.push_back(b);
  }
  std::string log = s->dir_.path() + "/s3rver.log";
  FERRY_ASSIGN_OR_RETURN(s->process_,
                         ChildProcess::Start(argv, log, {"NODE_OPTIONS=--openssl-legacy-provider"}));
  const std::string marker = "S3rver listening on 127.0.0.1:";
  bool up = PollUntil(
      [&] {
        std::string text = ReadFileOrEmpty(log);
        size_t at = text.find(marker);
        if (at == std::string::npos) return false;
        s->port_ = static_cast<uint16_t>(std::atoi(text.c_str() + at + marker.size()));
        return s->port_ != 0;
      },
      std::chrono::seconds(60));
  if (!up || !s->process_->Running()) {
    return Unavailable("s3rver did not start: " + ReadFileOrEmpty(log));
  }
  return s;
}

std::string NginxServer::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + "/";
}

StatusOr<std::unique_ptr<NginxServer>> NginxServer::Start(Options options) {
  std::string bin = FindInPath("nginx", {"/usr/sbin", "/usr/bin", "/usr/local/sbin"});
  if (bin.empty()) return Unavailable("nginx is not installed (apt-get install nginx-light)");
  std::unique_ptr<NginxServer> n(new NginxServer());
  const std::string& d = n->dir_.path();
  n->root_ = d + "/root";
  n->tls_ = options.tls;
  fs::create_directories(n->root_);
  fs::create_directories(d + "/tmp");
  if (options.tls) {
    std::string ext = d + "/ext.cnf";
    FERRY_RETURN_IF_ERROR(WriteFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n"));
    std::vector<std::vector<std::string>> cmds = {
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj",
         "/CN=ferry test CA"},
        {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", d + "/server.key", "-out", d + "/server.csr", "-subj", "/CN=127.0.0.1"},
        {"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey",
         d + "/ca.key", "-CAcreateserial", "-out", d + "/server.pem", "-days", "2", "-extfile", ext},
    };
    for (const auto& cmd : cmds) {
      FERRY_ASSIGN_OR_RETURN(int rc, RunCommand(cmd, d + "/openssl.log"));
      if (rc != 0) return Internal("openssl failed: " + ReadFileOrEmpty(d + "/openssl.log"));
    }
  }
  n->port_ = PickFreePort();
  std::string listen = "listen 127.0.0.1:" + std::to_string(n->port_) +
                       (options.tls ? " ssl http2;\n    ssl_certificate " + d +
                                          "/server.pem;\n    ssl_certificate_key " + d +
                                          "/server.key;\n"
                                    : ";\n");
  std::string conf = std::string(::geteuid() == 0 ? "user root;\n" : "") +
                     "daemon off;\nworker_processes 1;\npid " + d + "/nginx.pid;\nerror_log " + d +
                     "/error.log;\nevents {}\nhttp {\n  access_log off;\n"
                     "  client_body_temp_path " + d + "/tmp;\n  proxy_temp_path " + d +
                     "/tmp;\n  fastcgi_temp_path " + d + "/tmp;\n  uwsgi_temp_path " + d +
                     "/tmp;\n  scgi_temp_path " + d + "/tmp;\n  default_type application/octet-stream;\n" +
                     (options.ranges ? "" : "  max_ranges 0;\n") +
                     "  server {\n    " + listen +
                     "    location /json/ { alias " + n->root_ + "/; autoindex on; autoindex_format json; }\n"
                     "    location / { root " + n->root_ + "; autoindex on; }\n  }\n}\n";
  FERRY_RETURN_IF_ERROR(WriteFile(d + "/nginx.conf", conf));
  FERRY_ASSIGN_OR_RETURN(n->process_, ChildProcess::Start({bin, "-p", d, "-c", d + "/nginx.conf"},
                                                          d + "/nginx.out"));
  Status up = WaitForPort(n->port_);
  if (!up.ok() || !n->process_->Running()) {
    return Unavailable("nginx did not start: " + ReadFileOrEmpty(d + "/error.log") +
                       ReadFileOrEmpty(d + "/nginx.out"));
  }
  return n;
}

StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start() {
  std::string bin = FindInPath("redis-server", {"/usr/bin", "/usr/local/bin", "/usr/sbin"});
  if (bin.empty()) return Unavailable("redis-server is not installed (apt-get install redis-server)");
  std::unique_ptr<RedisServer> r(new RedisServer());
  r->port_ = PickFreePort();
  const std::string& d = r->dir_.path();
  FERRY_ASSIGN_OR_RETURN(
      r->process_,
      ChildProcess::Start({bin, "--port", std::to_string(r->port_), "--bind", "127.0.0.1", "--save",
                           "", "--appendonly", "no", "--dir", d, "--daemonize", "no"},
                          d + "/redis.log"));
  Status up = WaitForPort(r->port_);
  if (!up.ok() || !r->process_->Running()) {
    return Unavailable("redis-server did not start: " + ReadFileOrEmpty(d + "/redis.log"));
  }
  return r;
}

}  // namespace ferry::testing
