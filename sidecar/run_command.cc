#include "sidecar/run_command.h"

#include <malloc.h>

#include <charconv>

#include "common/logging.h"

namespace ferry::sidecar {
namespace {

std::shared_ptr<spdlog::logger> Log() { return GetLogger("sidecar.run"); }

// "\"text\"". Built with append: gcc 12 warns falsely (-Wrestrict) on
// "literal" + std::string.
std::string Quoted(std::string_view text) {
  std::string q;
  q.reserve(text.size() + 2);
  q.append(1, '"').append(text).append(1, '"');
  return q;
}

StatusOr<int> ParsePositiveInt(std::string_view flag, std::string_view text) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 1 || v > 1024) {
    return InvalidArgument(std::string(flag) + "=" + std::string(text) +
                           ": expected a whole number from 1 to 1024");
  }
  return v;
}

}  // namespace

StatusOr<std::chrono::milliseconds> ParseDurationFlag(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string_view unit = text.substr(digits);
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (digits == 0 || ec != std::errc() || n > 1'000'000'000ULL) {
    return InvalidArgument(Quoted(text) + " is not a duration; use e.g. 50ms, 2s, 1m");
  }
  uint64_t ms = 0;
  if (unit.empty() || unit == "ms") {
    ms = n;
  } else if (unit == "s") {
    ms = n * 1000;
  } else if (unit == "m") {
    ms = n * 60'000;
  } else if (unit == "h") {
    ms = n * 3'600'000;
  } else {
    return InvalidArgument(Quoted(text) + ": unknown unit; use ms, s, m or h");
  }
  return std::chrono::milliseconds(ms);
}

std::string RunUsage() {
  return R"(usage: ferry-sidecar run [flags]

Watches the dataset spec and serves each dataset as a FUSE mount under
--mnt-dir. Runs under ferry-propagator, which passes the control socket in
FERRY_CONTROL_FD and does every mount and unmount.

flags:
  --config-dir=DIR       projected config volume (default /etc/ferry)
  --spec-file=NAME       spec key inside it (default datasets.yaml)
  --mnt-dir=DIR          shared mount dir; status in DIR/.ferry/status.json
                         (default /run/ferry/mnt)
  --cache-dir=DIR        disk cache root, one subdir per dataset (default /var/cache/ferry)
  --status-addr=H:P      /healthz /readyz /status /metrics (default 127.0.0.1:9781;
                         "off" disables)
  --debounce=D           quiet time after a config event (default 50ms)
  --rescan=D             full re-read backstop (default 60s)
  --unmount-grace=D      how long a removed dataset with open files is still
                         served after its lazy unmount (default 30s)
  --fuse-threads=N       max FUSE worker threads per mount (default 4; idle mounts use 1)
  --parallel-mounts=N    datasets brought up at once (default 4)
Durations: 250ms, 2s, 1m, 1h. Log level: env FERRY_LOG_LEVEL (default info).
)";
}

StatusOr<RunOptions> ParseRunFlags(const std::vector<std::string>& args) {
  RunOptions o;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") return Cancelled("help");
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      return InvalidArgument("unexpected argument \"" + arg +
                             "\"; flags are --name=value (see --help)");
    }
    std::string name = arg.substr(0, eq);
    std::string value = arg.substr(eq + 1);
    if (name == "--config-dir") {
      o.config_dir = value;
    } else if (name == "--spec-file") {
      o.spec_file = value;
    } else if (name == "--mnt-dir") {
      o.mnt_dir = value;
    } else if (name == "--cache-dir") {
      o.cache_dir = value;
    } else if (name == "--status-addr") {
      o.status_addr = value == "off" ? "" : value;
    } else if (name == "--debounce" || name == "--rescan" || name == "--unmount-grace") {
      auto d = ParseDurationFlag(value);
      if (!d.ok()) return d.status().WithContext(name);
      (name == "--debounce" ? o.debounce : name == "--rescan" ? o.rescan : o.unmount_grace) = *d;
    } else if (name == "--fuse-threads") {
      FERRY_ASSIGN_OR_RETURN(o.fuse_threads, ParsePositiveInt(name, value));
    } else if (name == "--parallel-mounts") {
      FERRY_ASSIGN_OR_RETURN(o.parallel_mounts, ParsePositiveInt(name, value));
    } else {
      return InvalidArgument("unknown flag " + name + " (see --help)");
    }
  }
  for (const std::string* dir : {&o.config_dir, &o.mnt_dir, &o.cache_dir}) {
    if (dir->empty() || dir->front() != '/') {
      return InvalidArgument("directory \"" + *dir + "\" must be an absolute path");
    }
  }
  if (o.spec_file.empty() || o.spec_file.find('/') != std::string::npos) {
    return InvalidArgument("--spec-file must be a plain file name, e.g. datasets.yaml");
  }
  return o;
}

namespace {

ConfigWatcherOptions WatcherOptions(const RunOptions& o) {
  ConfigWatcherOptions w;
  w.dir = o.config_dir;
  w.file_name = o.spec_file;
  w.debounce = o.debounce;
  w.rescan = o.rescan;
  return w;
}

ReconcilerOptions ReconcileOptions(const RunOptions& o) {
  ReconcilerOptions r;
  r.unmount_grace = o.unmount_grace;
  r.parallel_mounts = o.parallel_mounts;
  return r;
}

}  // namespace

RunCommand::RunCommand(RunOptions options, MountProvider& provider, DatasetServerFactory& factory,
                       FileWatcher& watcher, Clock& clock)
    : options_(std::move(options)),
      model_(clock),
      writer_(options_.mnt_dir),
      reconciler_(provider, factory, model_, clock, ReconcileOptions(options_)),
      config_watcher_(
          watcher, clock, WatcherOptions(options_),
          [this](const ConfigSnapshot& s) { reconciler_.OnConfig(s); },
          [this] { reconciler_.Tick(); }) {
  model_.SetListener([this](const StatusSnapshot& s) { WriteStatus(s); });
}

void RunCommand::WriteStatus(const StatusSnapshot& snapshot) {
  Status s = writer_.Write(snapshot);
  TrimWhenSettled(snapshot);
  MutexLock lock(write_mu_);
  if (s.ok()) {
    last_write_error_.clear();
    return;
  }
  if (s.ToString() != last_write_error_) {
    last_write_error_ = s.ToString();
    Log()->error("cannot write {}: {}", writer_.path(), last_write_error_);
  }
}

void RunCommand::TrimWhenSettled(const StatusSnapshot& snapshot) {
  // Mounting allocates and frees (spec parsing, listings, start-up threads'
  // arenas); once nothing is pending, give the freed pages back so the idle
  // data plane stays small. Only on a change of what is mounted: the periodic
  // byte-counter refreshes do not trim.
  std::string key = std::to_string(snapshot.generation) + (snapshot.ready ? "r" : "-");
  for (const auto& [name, d] : snapshot.datasets) {
    if (d.phase == DatasetPhase::kPending) return;
    key.append(name).append(DatasetPhaseName(d.phase));
  }
  {
    MutexLock lock(write_mu_);
    if (key == last_trim_key_) return;
    last_trim_key_ = std::move(key);
  }
  malloc_trim(0);
}

int RunCommand::Run() {
  Log()->info(
      "starting: config {}/{}, mounts under {}, cache {}, status {}, debounce {} ms, rescan {} ms, "
      "unmount grace {} ms, {} FUSE threads per mount",
      options_.config_dir, options_.spec_file, options_.mnt_dir, options_.cache_dir,
      options_.status_addr.empty() ? "off" : options_.status_addr, options_.debounce.count(),
      options_.rescan.count(), options_.unmount_grace.count(), options_.fuse_threads);
  WriteStatus(model_.Snapshot());  // replace a predecessor's status at once: not ready yet
  if (!options_.status_addr.empty()) {
    auto server = StatusServer::Start(options_.status_addr, model_);
    if (server.ok()) {
      status_server_ = std::move(server).value();
      status_port_ = status_server_->port();
      Log()->info("status endpoints on http://127.0.0.1:{}/ (healthz, readyz, status, metrics)",
                  status_port_.load());
    } else {
      Log()->error("status endpoints disabled: {}", server.status().ToString());
    }
  }
  reconciler_.DropKeptMounts();
  config_watcher_.Run();
  Log()->info("stopping: ending every FUSE server (the propagator unmounts)");
  reconciler_.StopAll();
  status_server_.reset();
  Log()->info("stopped");
  return 0;
}

void RunCommand::Stop() { config_watcher_.Stop(); }

}  // namespace ferry::sidecar
