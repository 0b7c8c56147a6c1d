#include "common/dataset_spec_fluid.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <string>
#include <utility>

namespace ferry::spec_internal {
namespace {

using yaml::AtLine;
using yaml::MapEntry;
using yaml::Quote;

// Fluid / Alluxio / Hadoop option keys with a ferry equivalent.
struct OptionAlias {
  std::string_view fluid;
  std::string_view ferry;
};
constexpr std::array<OptionAlias, 10> kOptionAliases = {{
    {"fs.oss.endpoint", "endpoint"},
    {"fs.oss.region", "region"},
    {"fs.s3a.endpoint", "endpoint"},
    {"fs.s3a.endpoint.region", "region"},
    {"fs.s3.endpoint", "endpoint"},
    {"fs.s3.region", "region"},
    {"alluxio.underfs.s3.endpoint", "endpoint"},
    {"alluxio.underfs.s3.region", "region"},
    {"alluxio.underfs.s3.endpoint.region", "region"},
    {"aws.region", "region"},
}};

// Boolean switches that pick the S3 addressing style when "true".
constexpr std::array<std::string_view, 2> kPathStyleSwitches = {
    "fs.s3a.path.style.access", "alluxio.underfs.s3.disable.dns.buckets"};

enum class CredentialPart { kAccessKeyId, kSecretAccessKey, kSessionToken };

// encryptOptions names (Fluid, Alluxio, Hadoop, JindoFS, JuiceFS spellings).
struct CredentialAlias {
  std::string_view name;
  CredentialPart part;
};
constexpr std::array<CredentialAlias, 20> kCredentialAliases = {{
    {"fs.oss.accessKeyId", CredentialPart::kAccessKeyId},
    {"fs.oss.accessKeySecret", CredentialPart::kSecretAccessKey},
    {"fs.oss.securityToken", CredentialPart::kSessionToken},
    {"fs.oss.sessionToken", CredentialPart::kSessionToken},
    {"aws.accessKeyId", CredentialPart::kAccessKeyId},
    {"aws.secretKey", CredentialPart::kSecretAccessKey},
    {"aws.secretAccessKey", CredentialPart::kSecretAccessKey},
    {"aws.sessionToken", CredentialPart::kSessionToken},
    {"fs.s3a.access.key", CredentialPart::kAccessKeyId},
    {"fs.s3a.secret.key", CredentialPart::kSecretAccessKey},
    {"fs.s3a.session.token", CredentialPart::kSessionToken},
    {"fs.s3.accessKeyId", CredentialPart::kAccessKeyId},
    {"fs.s3.accessKeySecret", CredentialPart::kSecretAccessKey},
    {"access-key", CredentialPart::kAccessKeyId},
    {"secret-key", CredentialPart::kSecretAccessKey},
    {"accessKeyId", CredentialPart::kAccessKeyId},
    {"secretAccessKey", CredentialPart::kSecretAccessKey},
    {"accessKeySecret", CredentialPart::kSecretAccessKey},
    {"sessionToken", CredentialPart::kSessionToken},
    {"securityToken", CredentialPart::kSessionToken},
}};

constexpr std::string_view kCredentialNames =
    "fs.oss.accessKeyId, fs.oss.accessKeySecret, fs.oss.securityToken, aws.accessKeyId, "
    "aws.secretKey, fs.s3a.access.key, fs.s3a.secret.key, access-key, secret-key";

// Context shared by every mount of one Dataset document.
struct DatasetContext {
  std::string prefix;        // "" or "document 2: "
  std::string dataset_name;  // metadata.name, may be empty
  std::string label_prefix;  // `Dataset "d": spec.`
  std::map<std::string, std::string> shared_options;
  std::map<CredentialPart, std::string> shared_parts;  // from sharedEncryptOptions
  bool read_write_access = false;
  size_t mount_count = 0;
};

Status UnknownField(std::string_view where, const MapEntry& e,
                    std::initializer_list<std::string_view> known) {
  std::string msg = std::string(where) + ": unknown field " + Quote(e.key) + AtLine(e.key_node);
  std::string guess = yaml::Suggest(e.key, known);
  msg += guess.empty() ? "; it is not part of Fluid's Dataset API"
                       : "; did you mean " + Quote(guess) + "?";
  return InvalidArgument(std::move(msg));
}

StatusOr<bool> ParseBoolText(const std::string& label, std::string_view key,
                             std::string_view value) {
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "true") return true;
  if (v == "false") return false;
  return InvalidArgument(label + ": options." + std::string(key) + " " + Quote(value) +
                         ": expected \"true\" or \"false\"");
}

// Fluid options -> ferry options (aliases mapped, unknown keys kept).
StatusOr<std::map<std::string, std::string>> MapOptions(
    const std::string& label, const std::string& label_name_hint,
    const std::map<std::string, std::string>& fluid) {
  std::map<std::string, std::string> out;
  std::map<std::string, std::string> origin;  // ferry key -> fluid key that set it
  auto set = [&](const std::string& key, std::string value, const std::string& from) -> Status {
    auto [it, inserted] = out.emplace(key, value);
    if (!inserted && it->second != value) {
      return InvalidArgument(label + ": options." + origin[key] + " and options." + from +
                             " both set " + key + " (" + Quote(it->second) + " vs " +
                             Quote(value) + "); keep one");
    }
    origin[key] = from;
    return Status::Ok();
  };
  for (const auto& [key, value] : fluid) {
    if (IsCredentialOptionKey(key)) {
      return InvalidArgument(label + ": options." + key +
                             ": credentials do not belong in a ConfigMap; list them under "
                             "encryptOptions and store the values in Secret ferry-credentials as " +
                             label_name_hint + ".accessKeyId / .secretAccessKey");
    }
    std::string ferry_key = key;
    std::string ferry_value = value;
    for (const OptionAlias& a : kOptionAliases) {
      if (key == a.fluid) ferry_key = a.ferry;
    }
    if (std::find(kPathStyleSwitches.begin(), kPathStyleSwitches.end(), key) !=
        kPathStyleSwitches.end()) {
      FERRY_ASSIGN_OR_RETURN(bool path_style, ParseBoolText(label, key, value));
      ferry_key = "style";
      ferry_value = path_style ? "path" : "virtual";
    }
    // Fluid's OSS examples give bare hosts (oss-cn-hangzhou.aliyuncs.com).
    if (ferry_key == "endpoint" && key != "endpoint" &&
        ferry_value.find("://") == std::string::npos && !ferry_value.empty()) {
      ferry_value = "https://" + ferry_value;
    }
    FERRY_RETURN_IF_ERROR(set(ferry_key, std::move(ferry_value), key));
  }
  return out;
}

// Reads one encryptOptions list; records which credential parts it names.
Status ReadEncryptOptions(const YAML::Node& list, const std::string& where,
                          std::map<CredentialPart, std::string>& parts) {
  if (list.IsNull()) return Status::Ok();
  if (!list.IsSequence()) {
    return InvalidArgument(where + ": expected a list of {name, valueFrom}, got " +
                           std::string(yaml::KindName(list)) + AtLine(list));
  }
  size_t i = 0;
  for (auto it = list.begin(); it != list.end(); ++it, ++i) {
    std::string item = where + "[" + std::to_string(i) + "]";
    FERRY_ASSIGN_OR_RETURN(std::vector<MapEntry> entries, yaml::MapEntries(*it, item));
    std::string name;
    for (const MapEntry& e : entries) {
      if (e.key == "name") {
        FERRY_ASSIGN_OR_RETURN(name, yaml::ScalarString(e.value, item + ".name"));
      } else if (e.key != "valueFrom") {
        return UnknownField(item, e, {"name", "valueFrom"});
      }
    }
    const CredentialAlias* alias = nullptr;
    for (const CredentialAlias& a : kCredentialAliases) {
      if (name == a.name) alias = &a;
    }
    if (alias == nullptr) {
      return InvalidArgument(item + ": unsupported encryptOption name " + Quote(name) +
                             AtLine(*it) + "; ferry understands " + std::string(kCredentialNames));
    }
    parts[alias->part] = name;
  }
  return Status::Ok();
}

// The directory name of a mount: path, name, or the Dataset's name.
StatusOr<std::string> RawMountName(const DatasetContext& ctx, const std::string& name, const std::string& path,
                                   const std::string& where) {
  if (!path.empty() && path.front() == '/') {
    std::string_view p(path);
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    if (p.empty()) {
      if (ctx.dataset_name.empty()) {
        return InvalidArgument(where + ": path \"/\" mounts the dataset at its root, which ferry "
                                       "names after metadata.name; set metadata.name");
      }
      return ctx.dataset_name;
    }
    if (p.find('/') != std::string_view::npos) {
      return InvalidArgument(where + ": path " + Quote(path) +
                             " is nested; ferry mounts each dataset one level below /datasets: "
                             "write path: /<name>");
    }
    return std::string(p);
  }
  if (!name.empty()) return name;
  if (ctx.mount_count == 1 && !ctx.dataset_name.empty()) return ctx.dataset_name;
  return InvalidArgument(where + ": no name; set name: (it becomes /datasets/<name>)");
}

// Fluid names may use upper case and '_'; convert only when that is unambiguous.
StatusOr<std::string> NormalizeName(const std::string& raw, const std::string& where) {
  if (CheckMountName(raw).ok()) return raw;
  std::string conv = raw;
  for (char& c : conv) {
    c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  Status s = CheckMountName(conv);
  if (s.ok()) return conv;
  return InvalidArgument(where + ": Fluid name " + Quote(raw) +
                         " cannot become a directory under /datasets (" + std::string(s.message()) +
                         "); set name: (or path: /<name>) to lowercase letters, digits and '-'");
}

StatusOr<ParsedMount> ReadFluidMount(const DatasetContext& ctx, const YAML::Node& node,
                                     size_t index) {
  ParsedMount pm;
  pm.line = yaml::LineOf(node);
  std::string where = ctx.prefix + MountLabel(ctx.label_prefix, index, "");
  FERRY_ASSIGN_OR_RETURN(std::vector<MapEntry> entries, yaml::MapEntries(node, where));
  std::string name, path;
  for (const MapEntry& e : entries) {
    if (e.key == "name") {
      FERRY_ASSIGN_OR_RETURN(name, yaml::ScalarString(e.value, where + ".name"));
    } else if (e.key == "path") {
      FERRY_ASSIGN_OR_RETURN(path, yaml::ScalarString(e.value, where + ".path"));
    }
  }
  FERRY_ASSIGN_OR_RETURN(std::string raw, RawMountName(ctx, name, path, where));
  where = ctx.prefix + MountLabel(ctx.label_prefix, index, raw);
  FERRY_ASSIGN_OR_RETURN(pm.spec.name, NormalizeName(raw, where));
  if (pm.spec.name != raw) pm.original_name = raw;
  pm.label = ctx.prefix + MountLabel(ctx.label_prefix, index, pm.spec.name);
  const std::string& label = pm.label;

  std::map<std::string, std::string> options = ctx.shared_options;
  std::map<CredentialPart, std::string> parts = ctx.shared_parts;
  bool read_only = false;
  bool have_source = false;
  for (const MapEntry& e : entries) {
    if (e.key == "name" || e.key == "path") continue;
    if (e.key == "mountPoint") {
      FERRY_ASSIGN_OR_RETURN(pm.spec.source, yaml::ScalarString(e.value, label + ": mountPoint"));
      have_source = true;
    } else if (e.key == "options") {
      FERRY_ASSIGN_OR_RETURN(auto own, yaml::StringMap(e.value, label + ": options"));
      for (auto& [k, v] : own) options[k] = std::move(v);  // the mount's own options win
    } else if (e.key == "readOnly") {
      FERRY_ASSIGN_OR_RETURN(read_only, yaml::ScalarBool(e.value, label + ": readOnly"));
    } else if (e.key == "shared") {
      FERRY_RETURN_IF_ERROR(yaml::ScalarBool(e.value, label + ": shared").status());
    } else if (e.key == "encryptOptions") {
      FERRY_RETURN_IF_ERROR(ReadEncryptOptions(e.value, label + ": encryptOptions", parts));
    } else {
      return UnknownField(label, e,
                          {"mountPoint", "name", "path", "options", "readOnly", "shared",
                           "encryptOptions"});
    }
  }
  if (!have_source) {
    return InvalidArgument(label + ": mountPoint: missing" + AtLine(node) +
                           "; write e.g. mountPoint: oss://bucket/prefix/");
  }
  FERRY_ASSIGN_OR_RETURN(pm.spec.options, MapOptions(label, pm.spec.name, options));
  if (!parts.empty()) {
    if (!parts.contains(CredentialPart::kAccessKeyId) ||
        !parts.contains(CredentialPart::kSecretAccessKey)) {
      return InvalidArgument(label + ": encryptOptions need both an access key id (e.g. "
                                     "fs.oss.accessKeyId) and a secret (e.g. "
                                     "fs.oss.accessKeySecret)");
    }
    pm.spec.credentials = pm.spec.name;
  }
  pm.spec.read_only = read_only || !ctx.read_write_access;
  return pm;
}

Status ReadMetadata(const YAML::Node& node, const std::string& where, std::string& name) {
  if (node.IsNull()) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(std::vector<MapEntry> entries, yaml::MapEntries(node, where));
  for (const MapEntry& e : entries) {
    if (e.key == "name") {
      FERRY_ASSIGN_OR_RETURN(name, yaml::ScalarString(e.value, where + ".name"));
    }
  }
  return Status::Ok();
}

Status ReadSpec(const YAML::Node& node, DatasetContext& ctx, std::vector<ParsedMount>& out) {
  std::string where = ctx.prefix + ctx.label_prefix.substr(0, ctx.label_prefix.size() - 1);
  if (node.IsNull()) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(std::vector<MapEntry> entries, yaml::MapEntries(node, where));
  YAML::Node mounts;
  for (const MapEntry& e : entries) {
    const std::string field = where + "." + e.key;
    if (e.key == "mounts") {
      if (!e.value.IsNull() && !e.value.IsSequence()) {
        return InvalidArgument(field + ": expected a list, got " +
                               std::string(yaml::KindName(e.value)) + AtLine(e.value));
      }
      mounts = e.value;
    } else if (e.key == "sharedOptions") {
      FERRY_ASSIGN_OR_RETURN(ctx.shared_options, yaml::StringMap(e.value, field));
    } else if (e.key == "sharedEncryptOptions") {
      FERRY_RETURN_IF_ERROR(ReadEncryptOptions(e.value, field, ctx.shared_parts));
    } else if (e.key == "accessModes") {
      FERRY_ASSIGN_OR_RETURN(std::vector<std::string> modes, yaml::StringList(e.value, field));
      for (const std::string& m : modes) ctx.read_write_access |= m.starts_with("ReadWrite");
    } else if (e.key != "owner" && e.key != "nodeAffinity" && e.key != "tolerations" &&
               e.key != "runtimes" && e.key != "placement" && e.key != "dataRestoreLocation") {
      return UnknownField(where, e,
                          {"mounts", "sharedOptions", "sharedEncryptOptions", "accessModes",
                           "owner", "nodeAffinity", "tolerations", "runtimes", "placement",
                           "dataRestoreLocation"});
    }
  }
  if (!mounts.IsDefined() || mounts.IsNull()) return Status::Ok();
  ctx.mount_count = mounts.size();
  // sharedOptions are copied into every mount: bound what that may cost.
  size_t shared_bytes = 0;
  for (const auto& [k, v] : ctx.shared_options) shared_bytes += k.size() + v.size();
  size_t copied_bytes = 0;
  size_t index = 0;
  for (auto it = mounts.begin(); it != mounts.end(); ++it, ++index) {
    copied_bytes += shared_bytes;
    if (copied_bytes > yaml::kMaxExpandedBytes) {
      return InvalidArgument(where + ".sharedOptions: copied into " +
                             std::to_string(ctx.mount_count) + " mounts they exceed " +
                             std::to_string(yaml::kMaxExpandedBytes >> 20) +
                             " MiB; keep them short or split the Dataset");
    }
    FERRY_ASSIGN_OR_RETURN(ParsedMount pm, ReadFluidMount(ctx, *it, index));
    out.push_back(std::move(pm));
  }
  return Status::Ok();
}

}  // namespace

Status ReadFluidDocument(const std::vector<MapEntry>& entries, std::string_view prefix,
                         std::vector<ParsedMount>& out) {
  std::string api_version, kind;
  for (const MapEntry& e : entries) {
    if (e.key == "apiVersion") {
      FERRY_ASSIGN_OR_RETURN(api_version,
                             yaml::ScalarString(e.value, std::string(prefix) + "apiVersion"));
    } else if (e.key == "kind") {
      FERRY_ASSIGN_OR_RETURN(kind, yaml::ScalarString(e.value, std::string(prefix) + "kind"));
    }
  }
  // A Fluid runtime (AlluxioRuntime, JindoRuntime, ThinRuntime...) configures
  // Fluid's cache cluster; ferry has no use for it, so it may stay in the file.
  if (api_version.starts_with("data.fluid.io/") && kind.ends_with("Runtime")) {
    return Status::Ok();
  }
  if (api_version != "data.fluid.io/v1alpha1" || kind != "Dataset") {
    std::string msg = std::string(prefix) + "apiVersion " + Quote(api_version) + ", kind " +
                      Quote(kind) + ": only Fluid Datasets (apiVersion: data.fluid.io/v1alpha1, "
                      "kind: Dataset) or a ferry list (mounts: [...]) can go in datasets.yaml";
    if (kind == "ConfigMap") {
      msg += "; the ConfigMap's datasets.yaml key holds the list itself, not another ConfigMap";
    }
    return InvalidArgument(std::move(msg));
  }
  DatasetContext ctx;
  ctx.prefix = std::string(prefix);
  for (const MapEntry& e : entries) {
    if (e.key == "metadata") {
      FERRY_RETURN_IF_ERROR(ReadMetadata(e.value, ctx.prefix + "metadata", ctx.dataset_name));
    }
  }
  ctx.label_prefix = "Dataset " + Quote(ctx.dataset_name) + ": spec.";
  for (const MapEntry& e : entries) {
    if (e.key == "spec") {
      FERRY_RETURN_IF_ERROR(ReadSpec(e.value, ctx, out));
    } else if (e.key != "apiVersion" && e.key != "kind" && e.key != "metadata" &&
               e.key != "status") {
      return UnknownField(ctx.prefix + "Dataset " + Quote(ctx.dataset_name), e,
                          {"apiVersion", "kind", "metadata", "spec", "status"});
    }
  }
  return Status::Ok();
}

}  // namespace ferry::spec_internal
