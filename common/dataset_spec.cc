// ParseDatasetSpec / SerializeDatasetSpec: the native reader and writer, the
// multi-document driver; Fluid documents go to dataset_spec_fluid.cc, the
// checks to dataset_spec_validate.cc, ConfigHash to dataset_spec_hash.cc.
#include "common/dataset_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "common/dataset_spec_fluid.h"
#include "common/dataset_spec_validate.h"
#include "common/yaml_util.h"

namespace ferry {
namespace {

using spec_internal::ParsedMount;
using yaml::AtLine;
using yaml::MapEntry;
using yaml::Quote;

Status UnknownField(std::string_view where, const MapEntry& e,
                    std::initializer_list<std::string_view> known, std::string_view known_text) {
  std::string msg = std::string(where) + ": unknown field " + Quote(e.key) + AtLine(e.key_node);
  std::string guess = yaml::Suggest(e.key, known);
  if (!guess.empty()) {
    msg += "; did you mean " + Quote(guess) + "?";
  } else {
    msg += "; known fields: " + std::string(known_text);
  }
  return InvalidArgument(std::move(msg));
}

Status ReadCache(const YAML::Node& node, const std::string& label, CacheSpec& cache) {
  if (node.IsNull()) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(std::vector<MapEntry> entries, yaml::MapEntries(node, label + ": cache"));
  for (const MapEntry& e : entries) {
    if (e.key != "preload") {
      return UnknownField(label + ": cache", e, {"preload"}, "preload");
    }
    FERRY_ASSIGN_OR_RETURN(cache.preload, yaml::StringList(e.value, label + ": cache.preload"));
  }
  return Status::Ok();
}

StatusOr<ParsedMount> ReadNativeMount(const YAML::Node& node, std::string_view prefix,
                                      size_t index) {
  ParsedMount pm;
  pm.line = yaml::LineOf(node);
  pm.label = spec_internal::MountLabel(prefix, index, "");
  if (!node.IsMap()) {
    return InvalidArgument(pm.label + ": expected a map with name and source, got " +
                           std::string(yaml::KindName(node)) + AtLine(node));
  }
  FERRY_ASSIGN_OR_RETURN(std::vector<MapEntry> entries, yaml::MapEntries(node, pm.label));
  // Read the name first so that every later message can carry it.
  for (const MapEntry& e : entries) {
    if (e.key == "name") {
      FERRY_ASSIGN_OR_RETURN(pm.spec.name, yaml::ScalarString(e.value, pm.label + ": name"));
      pm.label = spec_internal::MountLabel(prefix, index, pm.spec.name);
    }
  }
  MountSpec& m = pm.spec;
  const std::string& label = pm.label;
  for (const MapEntry& e : entries) {
    if (e.key == "name") continue;
    if (e.key == "source") {
      FERRY_ASSIGN_OR_RETURN(m.source, yaml::ScalarString(e.value, label + ": source"));
    } else if (e.key == "options") {
      FERRY_ASSIGN_OR_RETURN(m.options, yaml::StringMap(e.value, label + ": options"));
    } else if (e.key == "credentials") {
      if (!e.value.IsNull()) {
        FERRY_ASSIGN_OR_RETURN(m.credentials,
                               yaml::ScalarString(e.value, label + ": credentials"));
      }
    } else if (e.key == "cache") {
      FERRY_RETURN_IF_ERROR(ReadCache(e.value, label, m.cache));
    } else if (e.key == "readOnly") {
      FERRY_ASSIGN_OR_RETURN(m.read_only, yaml::ScalarBool(e.value, label + ": readOnly"));
    } else if (e.key == "mountPoint") {
      return InvalidArgument(label + ": unknown field \"mountPoint\"" + AtLine(e.key_node) +
                             "; ferry calls it source (or write a whole Fluid Dataset with "
                             "apiVersion: data.fluid.io/v1alpha1 and kind: Dataset)");
    } else {
      return UnknownField(label, e,
                          {"name", "source", "options", "credentials", "cache", "readOnly"},
                          "name, source, options, credentials, cache, readOnly");
    }
  }
  return pm;
}

Status ReadNativeDocument(const std::vector<MapEntry>& entries, std::string_view prefix,
                          std::vector<ParsedMount>& out) {
  std::string where = prefix.empty() ? "datasets.yaml" : std::string(prefix.substr(0, prefix.size() - 2));
  for (const MapEntry& e : entries) {
    if (e.key == "spec" || e.key == "metadata") {
      return InvalidArgument(where + ": unknown top-level field " + Quote(e.key) +
                             AtLine(e.key_node) +
                             "; for a Fluid Dataset add apiVersion: data.fluid.io/v1alpha1 and "
                             "kind: Dataset, otherwise write mounts: [...]");
    }
    if (e.key == "data") {
      return InvalidArgument(where + ": unknown top-level field \"data\"" + AtLine(e.key_node) +
                             "; this looks like a ConfigMap: put only the dataset list (mounts: "
                             "[...]) in its datasets.yaml key");
    }
    if (e.key != "mounts") return UnknownField(where, e, {"mounts"}, "mounts");
    if (e.value.IsNull()) continue;
    if (!e.value.IsSequence()) {
      return InvalidArgument(std::string(prefix) + "mounts: expected a list (- name: ...), got " +
                             std::string(yaml::KindName(e.value)) + AtLine(e.value));
    }
    size_t index = 0;
    for (auto it = e.value.begin(); it != e.value.end(); ++it, ++index) {
      FERRY_ASSIGN_OR_RETURN(ParsedMount pm, ReadNativeMount(*it, prefix, index));
      out.push_back(std::move(pm));
    }
  }
  return Status::Ok();
}

StatusOr<DatasetSpec> ParseImpl(std::string_view text) {
  if (text.size() > spec_internal::kMaxSpecBytes) {
    return InvalidArgument("datasets.yaml is " + std::to_string(text.size()) +
                           " bytes; a ConfigMap holds at most 1 MiB (1048576 bytes): split the "
                           "datasets over several ConfigMaps (annotation ferry.io/datasets)");
  }
  // Kubernetes keeps ConfigMap data as UTF-8 strings; anything else cannot come
  // from a real ConfigMap and would not survive SerializeDatasetSpec.
  if (size_t bad = yaml::FindInvalidUtf8(text); bad != std::string_view::npos) {
    return InvalidArgument("datasets.yaml is not valid UTF-8 (byte " + std::to_string(bad) +
                           "); save the file as UTF-8");
  }
  FERRY_ASSIGN_OR_RETURN(std::vector<YAML::Node> docs, yaml::LoadAll(text));
  size_t non_empty = 0;
  for (const YAML::Node& d : docs) non_empty += d.IsNull() ? 0 : 1;

  std::vector<ParsedMount> mounts;
  size_t doc_number = 0;
  for (const YAML::Node& doc : docs) {
    ++doc_number;
    if (doc.IsNull()) continue;
    std::string prefix = non_empty > 1 ? "document " + std::to_string(doc_number) + ": " : "";
    if (!doc.IsMap()) {
      return InvalidArgument(prefix + "datasets.yaml must be a map (mounts: [...]) or a Fluid "
                                      "Dataset, got " +
                             std::string(yaml::KindName(doc)) + AtLine(doc));
    }
    FERRY_ASSIGN_OR_RETURN(std::vector<MapEntry> entries,
                           yaml::MapEntries(doc, prefix.empty() ? "datasets.yaml" : prefix));
    bool manifest = false;
    for (const MapEntry& e : entries) manifest |= e.key == "apiVersion" || e.key == "kind";
    if (manifest) {
      FERRY_RETURN_IF_ERROR(spec_internal::ReadFluidDocument(entries, prefix, mounts));
    } else {
      FERRY_RETURN_IF_ERROR(ReadNativeDocument(entries, prefix, mounts));
    }
  }

  DatasetSpec spec;
  for (ParsedMount& pm : mounts) FERRY_RETURN_IF_ERROR(spec_internal::ValidateMount(pm));
  FERRY_RETURN_IF_ERROR(spec_internal::CheckUniqueNames(mounts));
  spec.mounts.reserve(mounts.size());
  for (ParsedMount& pm : mounts) spec.mounts.push_back(std::move(pm.spec));
  return spec;
}

// yaml-cpp's emitter writes a string holding '\r' (or other control
// characters) as a plain scalar, which reads back differently; quote those.
void EmitString(YAML::Emitter& out, const std::string& s) {
  bool control = std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
  if (control) out << YAML::DoubleQuoted;
  out << s;
}

}  // namespace

StatusOr<DatasetSpec> ParseDatasetSpec(std::string_view yaml_text) {
  try {
    return ParseImpl(yaml_text);
  } catch (const std::exception& e) {
    // Belt and braces: the readers catch yaml-cpp's exceptions themselves.
    return InvalidArgument(std::string("datasets.yaml could not be read: ") + e.what());
  }
}

std::string SerializeDatasetSpec(const DatasetSpec& spec) {
  try {
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "mounts" << YAML::Value;
    if (spec.mounts.empty()) {
      out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
    } else {
      out << YAML::BeginSeq;
      for (const MountSpec& m : spec.mounts) {
        out << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value;
        EmitString(out, m.name);
        out << YAML::Key << "source" << YAML::Value;
        EmitString(out, m.source);
        if (!m.options.empty()) {
          out << YAML::Key << "options" << YAML::Value << YAML::BeginMap;
          for (const auto& [k, v] : m.options) {
            out << YAML::Key;
            EmitString(out, k);
            out << YAML::Value;
            EmitString(out, v);
          }
          out << YAML::EndMap;
        }
        if (!m.credentials.empty()) {
          out << YAML::Key << "credentials" << YAML::Value;
          EmitString(out, m.credentials);
        }
        if (!m.cache.preload.empty()) {
          out << YAML::Key << "cache" << YAML::Value << YAML::BeginMap << YAML::Key << "preload"
              << YAML::Value << YAML::BeginSeq;
          for (const std::string& g : m.cache.preload) EmitString(out, g);
          out << YAML::EndSeq << YAML::EndMap;
        }
        out << YAML::Key << "readOnly" << YAML::Value << m.read_only;
        out << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
    if (!out.good()) return "mounts: error-serializing-the-spec\n";
    return std::string(out.c_str()) + "\n";
  } catch (const std::exception&) {
    // yaml-cpp's emitter reports errors through its state, not by throwing;
    // an empty document would parse as an empty spec, so fail loudly instead.
    return "mounts: error-serializing-the-spec\n";
  }
}

}  // namespace ferry
