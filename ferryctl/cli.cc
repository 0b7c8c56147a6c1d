#include "ferryctl/cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "common/dataset_spec.h"
#include "common/unique_fd.h"
#include "ferryctl/probe.h"
#include "ferryctl/spec_edit.h"
#include "ferryctl/status_file.h"

namespace ferry::ferryctl {
namespace {

// A FileWatcher that never reports: ProbeWait then re-checks on its timer.
class NoWatcher final : public FileWatcher {
 public:
  Status Watch(std::string_view) override { return Status::Ok(); }
  void Unwatch(std::string_view) override {}
  StatusOr<std::vector<WatchEvent>> Wait(std::chrono::milliseconds timeout) override {
    usleep(static_cast<useconds_t>(timeout.count()) * 1000);
    return std::vector<WatchEvent>{};
  }
  void Interrupt() override {}
};

struct Flags {
  std::vector<std::string> positional;
  std::string mnt_dir;
  std::optional<std::string> wait;  // --wait[=D]
  std::string file;                 // -f
  bool kubectl = false;
  KubectlTarget target;
  std::map<std::string, std::string> options;  // -o k=v
  std::optional<bool> read_only;
  std::string credentials;
  bool json = false;
  bool dry_run = false;
  bool help = false;
};

StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return InvalidArgument("bad duration " + Quoted(text));
  uint64_t n = std::stoull(std::string(text.substr(0, digits)));
  std::string_view unit = text.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s" || unit.empty()) return std::chrono::milliseconds(n * 1000);
  if (unit == "m") return std::chrono::milliseconds(n * 60'000);
  if (unit == "h") return std::chrono::milliseconds(n * 3'600'000);
  return InvalidArgument("bad duration " + Quoted(text) + "; use e.g. 600s, 10m, 500ms");
}

// Accepts --name=value and --name value for value flags.
StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags f;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    bool has_value = false;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
      has_value = true;
    }
    auto take = [&](const std::string& name) -> StatusOr<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return InvalidArgument(name + " needs a value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      f.help = true;
    } else if (a == "--mnt-dir") {
      FERRY_ASSIGN_OR_RETURN(f.mnt_dir, take(a));
    } else if (a == "--wait") {
      f.wait = has_value ? value : "600s";
    } else if (a == "-f" || a == "--file") {
      FERRY_ASSIGN_OR_RETURN(f.file, take(a));
    } else if (a == "--kubectl") {
      f.kubectl = true;
    } else if (a == "-n" || a == "--namespace") {
      FERRY_ASSIGN_OR_RETURN(f.target.namespace_name, take(a));
    } else if (a == "--configmap") {
      FERRY_ASSIGN_OR_RETURN(f.target.configmap, take(a));
    } else if (a == "-o" || a == "--option") {
      FERRY_ASSIGN_OR_RETURN(std::string kv, take(a));
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return InvalidArgument("-o " + kv + ": expected key=value");
      }
      f.options[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (a == "--ro") {
      f.read_only = true;
    } else if (a == "--rw") {
      f.read_only = false;
    } else if (a == "--credentials") {
      FERRY_ASSIGN_OR_RETURN(f.credentials, take(a));
    } else if (a == "--json") {
      f.json = true;
    } else if (a == "--dry-run") {
      f.dry_run = true;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      return InvalidArgument("unknown flag " + a);
    } else {
      f.positional.push_back(args[i]);
    }
  }
  if (f.kubectl && !f.file.empty()) return InvalidArgument("use either -f FILE or --kubectl");
  return f;
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` to `path` through a temp file and rename (mode kept).
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".ferryctl.tmp";
  struct stat st {};
  mode_t mode = stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return StatusFromErrno(errno, "create " + tmp);
  if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    int e = errno;
    unlink(tmp.c_str());
    return StatusFromErrno(e, "write " + tmp);
  }
  fd.Reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    return StatusFromErrno(e, "rename to " + path);
  }
  return Status::Ok();
}

int Fail(CliEnv& env, const Status& s) {
  env.err << "ferryctl: " << s.message() << "\n";
  return 1;
}

int UsageError(CliEnv& env, const std::string& msg) {
  env.err << "ferryctl: " << msg << "\n(see ferryctl --help)\n";
  return 2;
}

int Probe(const Flags& f, CliEnv& env) {
  std::string mnt = f.mnt_dir.empty() ? kDefaultSidecarMntDir : f.mnt_dir;
  ProbeResult r;
  if (f.wait) {
    auto d = ParseDuration(*f.wait);
    if (!d.ok()) return UsageError(env, std::string(d.status().message()));
    NoWatcher fallback;
    r = ProbeWait(mnt, *d, env.watcher != nullptr ? *env.watcher : fallback, env.clock);
  } else {
    r = ProbeOnce(mnt);
  }
  (r.exit_code == 0 ? env.out : env.err) << r.message << "\n";
  return r.exit_code;
}

int ShowStatus(const Flags& f, CliEnv& env) {
  std::vector<std::string> dirs;
  if (!f.mnt_dir.empty()) {
    dirs = {f.mnt_dir};
  } else {
    dirs = {kDefaultSidecarMntDir, kDefaultAppMntDir};
  }
  Status last;
  for (const std::string& d : dirs) {
    auto s = ReadSidecarStatus(d);
    if (!s.ok()) {
      last = s.status();
      continue;
    }
    if (f.json) {
      auto text = ReadFile(StatusPath(d));
      env.out << (text.ok() ? *text : "");
    } else {
      env.out << FormatStatusTable(*s, StatusPath(d));
    }
    return 0;
  }
  return Fail(env, last);
}

int Validate(const Flags& f, CliEnv& env) {
  if (f.positional.size() != 2)
    return UsageError(env, "usage: ferryctl validate FILE (or - for stdin)");
  const std::string& path = f.positional[1];
  std::string text;
  if (path == "-") {
    text = env.stdin_text;
  } else {
    auto t = ReadFile(path);
    if (!t.ok()) return Fail(env, t.status());
    text = *t;
  }
  auto doc = LoadSpecDocument(text);
  if (!doc.ok()) return Fail(env, doc.status().WithContext(path));
  auto spec = ParseDatasetSpec(doc->spec_text);
  if (!spec.ok()) {
    env.err << path << ": invalid: " << spec.status().message() << "\n";
    return 1;
  }
  env.out << path << ": valid, " << spec->mounts.size() << " dataset"
          << (spec->mounts.size() == 1 ? "" : "s") << "\n";
  return 0;
}

// Loads the spec from -f FILE or kubectl; `apply` writes the edited one back.
struct SpecStore {
  bool from_file = false;
  std::string file;
  KubectlTarget target;
  std::optional<SpecDocument> doc;  // nullopt: a ConfigMap that does not exist yet
};

StatusOr<SpecStore> LoadStore(const Flags& f, CliEnv& env) {
  SpecStore st;
  st.target = f.target;
  if (!f.file.empty()) {
    st.from_file = true;
    st.file = f.file;
    FERRY_ASSIGN_OR_RETURN(std::string text, ReadFile(f.file));
    FERRY_ASSIGN_OR_RETURN(SpecDocument doc, LoadSpecDocument(std::move(text)));
    st.doc = std::move(doc);
    return st;
  }
  FERRY_ASSIGN_OR_RETURN(std::optional<std::string> json,
                         KubectlGetConfigMap(env.runner, st.target));
  if (json.has_value()) {
    FERRY_ASSIGN_OR_RETURN(SpecDocument doc, LoadSpecDocument(std::move(*json)));
    st.doc = std::move(doc);
  }
  return st;
}

Status SaveStore(const SpecStore& st, const std::string& spec_text, const Flags& f, CliEnv& env) {
  std::string out;
  if (st.doc.has_value()) {
    FERRY_ASSIGN_OR_RETURN(out, WithSpecText(*st.doc, spec_text));
  } else {
    out = NewConfigMapJson(st.target, spec_text);
  }
  if (!st.from_file) out = PrepareForApply(out);
  if (f.dry_run) {
    env.out << out;
    return Status::Ok();
  }
  if (st.from_file) return WriteFileAtomically(st.file, out);
  return KubectlApply(env.runner, st.target, out);
}

int List(const Flags& f, CliEnv& env) {
  auto st = LoadStore(f, env);
  if (!st.ok()) return Fail(env, st.status());
  std::string text = st->doc.has_value() ? st->doc->spec_text : "";
  auto spec = ParseDatasetSpec(text);
  if (!spec.ok()) return Fail(env, spec.status().WithContext("invalid spec"));
  if (spec->mounts.empty()) {
    env.out << "no datasets\n";
    return 0;
  }
  for (const MountSpec& m : spec->mounts) {
    env.out << m.name << "\t" << m.source << "\t" << (m.read_only ? "ro" : "rw");
    if (!m.credentials.empty()) env.out << "\tcredentials=" << m.credentials;
    env.out << "\n";
  }
  return 0;
}

int Edit(const Flags& f, CliEnv& env, bool add) {
  if (add && f.positional.size() != 3)
    return UsageError(env, "usage: ferryctl add NAME SOURCE [flags]");
  if (!add && f.positional.size() != 2)
    return UsageError(env, "usage: ferryctl remove NAME [flags]");
  auto st = LoadStore(f, env);
  if (!st.ok()) return Fail(env, st.status());
  std::string current = st->doc.has_value() ? st->doc->spec_text : "";
  StatusOr<std::string> next = Status(StatusCode::kInternal, "unset");
  if (add) {
    AddRequest req{f.positional[1], f.positional[2], f.options, f.read_only, f.credentials};
    next = AddMount(current, req);
  } else {
    next = RemoveMount(current, f.positional[1]);
  }
  if (!next.ok()) return Fail(env, next.status());
  if (Status s = SaveStore(*st, *next, f, env); !s.ok()) return Fail(env, s);
  if (!f.dry_run) {
    std::string where = st->from_file ? st->file : "configmap/" + st->target.configmap;
    env.out << (add ? "added " : "removed ") << f.positional[1] << " (" << where << ")\n";
  }
  return 0;
}

}  // namespace

std::string Usage() {
  return R"(usage: ferryctl COMMAND [flags]

Inspect a pod's datasets:
  probe [--mnt-dir=DIR] [--wait[=DURATION]]
        exit 0 when the sidecar's status says ready (every dataset of the initial
        spec mounted or failed for good); --wait blocks until then (default 600s)
        and exits 1 with the reason on timeout. DIR defaults to /run/ferry/mnt.
  status [--mnt-dir=DIR] [--json]
        the datasets, their phase, source and errors. Without --mnt-dir it tries
        /run/ferry/mnt (sidecar) then /datasets (app containers).

Edit the dataset spec (ConfigMap ferry-datasets, key datasets.yaml):
  validate FILE|-                   check a datasets.yaml or a ConfigMap manifest
  list   [-f FILE | --kubectl]
  add    NAME SOURCE [-o KEY=VALUE]... [--ro|--rw] [--credentials PREFIX]
  remove NAME
        -f FILE edits a datasets.yaml or ConfigMap manifest (YAML or JSON) in
        place; without -f (or with --kubectl) ferryctl runs
        `kubectl get configmap ferry-datasets -o json` and `kubectl apply -f -`.
        Flags: -n NAMESPACE, --configmap NAME (default ferry-datasets), --dry-run
        (print the result instead of writing it).

  --help, --version
)";
}

int RunCli(const std::vector<std::string>& args, CliEnv& env) {
  if (args.empty()) {
    env.err << Usage();
    return 2;
  }
  if (args[0] == "--version" || args[0] == "version") {
    env.out << "ferryctl " << FERRY_VERSION << "\n";
    return 0;
  }
  auto flags = ParseFlags(args);
  if (!flags.ok()) return UsageError(env, std::string(flags.status().message()));
  if (flags->help || args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
    env.out << Usage();
    return 0;
  }
  const std::string& cmd = flags->positional.empty() ? args[0] : flags->positional[0];
  if (cmd == "probe") return Probe(*flags, env);
  if (cmd == "status") return ShowStatus(*flags, env);
  if (cmd == "validate") return Validate(*flags, env);
  if (cmd == "list") return List(*flags, env);
  if (cmd == "add") return Edit(*flags, env, /*add=*/true);
  if (cmd == "remove" || cmd == "rm") return Edit(*flags, env, /*add=*/false);
  return UsageError(env, "unknown command \"" + cmd + "\"");
}

}  // namespace ferry::ferryctl
