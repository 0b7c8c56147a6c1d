#include "ferryctl/spec_edit.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace ferry::ferryctl {

// Built with append: gcc 12 warns falsely (-Wrestrict) on
// "literal" + std::string.
std::string Quoted(std::string_view text) {
  std::string q;
  q.reserve(text.size() + 2);
  q.append(1, '"').append(text).append(1, '"');
  return q;
}

namespace {

bool IsConfigMap(const YAML::Node& doc) {
  return doc.IsMap() && doc["kind"] && doc["kind"].IsScalar() &&
         doc["kind"].Scalar() == "ConfigMap";
}

// The first ConfigMap document of `text`, if any.
StatusOr<std::optional<YAML::Node>> FindConfigMap(const std::string& text) {
  try {
    for (const YAML::Node& doc : YAML::LoadAll(text)) {
      if (IsConfigMap(doc)) return std::optional<YAML::Node>(doc);
    }
    return std::optional<YAML::Node>();
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("not valid YAML: ") + e.what());
  }
}

StatusOr<std::string> SpecOfConfigMap(const YAML::Node& cm) {
  try {
    YAML::Node data = cm["data"];
    if (!data || data.IsNull()) return std::string();
    YAML::Node v = data[kSpecKey];
    if (!v || v.IsNull()) return std::string();
    if (!v.IsScalar()) return InvalidArgument("data.datasets.yaml must be a string");
    return v.Scalar();
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("bad ConfigMap: ") + e.what());
  }
}

size_t Indent(const std::string& line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

bool Blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

// `key: |` + the spec indented under it.
std::vector<std::string> BlockLines(const std::string& key_text, size_t indent,
                                    std::string_view spec_text) {
  std::string pad(indent, ' ');
  if (spec_text.empty()) return {pad + key_text + ": \"\""};
  bool trailing_newline = spec_text.back() == '\n';
  std::vector<std::string> out = {pad + key_text + (trailing_newline ? ": |" : ": |-")};
  for (const std::string& l : SplitLines(spec_text)) {
    out.push_back(l.empty() ? "" : pad + "  " + l);
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// Index of the line holding the `datasets.yaml:` key (any quoting), or -1.
int FindKeyLine(const std::vector<std::string>& lines, std::string* key_text) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    size_t ind = Indent(l);
    if (ind == 0) continue;  // a data key is never top level
    for (const std::string& k :
         {std::string(kSpecKey), Quoted(kSpecKey), std::string("'datasets.yaml'")}) {
      if (l.compare(ind, k.size() + 1, k + ":") == 0) {
        *key_text = k;
        return static_cast<int>(i);
      }
    }
  }
  return -1;
}

StatusOr<std::string> EditConfigMapYaml(const std::string& text, std::string_view spec_text) {
  std::vector<std::string> lines = SplitLines(text);
  std::string key_text;
  int k = FindKeyLine(lines, &key_text);
  std::vector<std::string> out;
  if (k >= 0) {
    size_t key_indent = Indent(lines[k]);
    size_t end = k + 1;  // first line after the value
    size_t last_content = k + 1;
    while (end < lines.size() && (Blank(lines[end]) || Indent(lines[end]) > key_indent)) {
      ++end;
      if (!Blank(lines[end - 1])) last_content = end;
    }
    out.assign(lines.begin(), lines.begin() + k);
    for (std::string& l : BlockLines(key_text, key_indent, spec_text)) out.push_back(std::move(l));
    out.insert(out.end(), lines.begin() + static_cast<long>(last_content), lines.end());
  } else {
    int data_line = -1;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i] == "data:" || lines[i] == "data: {}" || lines[i].rfind("data: #", 0) == 0) {
        data_line = static_cast<int>(i);
        break;
      }
    }
    if (data_line >= 0) {
      out.assign(lines.begin(), lines.begin() + data_line);
      out.push_back("data:");
      for (std::string& l : BlockLines(kSpecKey, 2, spec_text)) out.push_back(std::move(l));
      out.insert(out.end(), lines.begin() + data_line + 1, lines.end());
    } else {
      out = lines;
      out.push_back("data:");
      for (std::string& l : BlockLines(kSpecKey, 2, spec_text)) out.push_back(std::move(l));
    }
  }
  std::string result = JoinLines(out);
  auto cm = FindConfigMap(result);
  bool verified = false;
  if (cm.ok() && cm->has_value()) {
    auto got = SpecOfConfigMap(**cm);
    verified = got.ok() && *got == spec_text;
  }
  if (!verified) {
    return Internal("could not edit data.datasets.yaml of this manifest in place; edit it by hand");
  }
  return result;
}

StatusOr<std::string> EditConfigMapJson(const std::string& text, std::string_view spec_text) {
  auto doc = nlohmann::ordered_json::parse(text, nullptr, false);
  if (!doc.is_object()) return InvalidArgument("not a JSON object");
  if (!doc.contains("data") || !doc["data"].is_object())
    doc["data"] = nlohmann::ordered_json::object();
  doc["data"][kSpecKey] = std::string(spec_text);
  return doc.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

StatusOr<DatasetSpec> ParseEditable(std::string_view spec_text) {
  if (IsFluidSpec(spec_text)) {
    return FailedPrecondition(
        "this spec is a Fluid Dataset manifest; ferryctl add/remove edit native specs only "
        "(mounts: [...]): edit it by hand");
  }
  auto spec = ParseDatasetSpec(spec_text);
  if (!spec.ok()) return spec.status().WithContext("the current spec is invalid");
  return spec;
}

}  // namespace

StatusOr<SpecDocument> LoadSpecDocument(std::string text) {
  SpecDocument doc;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return InvalidArgument("not valid JSON");
    if (j.is_object() && j.value("kind", "") == "ConfigMap") {
      doc.kind = DocKind::kConfigMapJson;
      if (j.contains("data") && j["data"].is_object() && j["data"].contains(kSpecKey)) {
        if (!j["data"][kSpecKey].is_string()) {
          return InvalidArgument("data.datasets.yaml must be a string");
        }
        doc.spec_text = j["data"][kSpecKey].get<std::string>();
      }
      doc.text = std::move(text);
      return doc;
    }
  }
  FERRY_ASSIGN_OR_RETURN(std::optional<YAML::Node> cm, FindConfigMap(text));
  if (cm.has_value()) {
    doc.kind = DocKind::kConfigMapYaml;
    FERRY_ASSIGN_OR_RETURN(doc.spec_text, SpecOfConfigMap(*cm));
  } else {
    doc.kind = DocKind::kDatasetsYaml;
    doc.spec_text = text;
  }
  doc.text = std::move(text);
  return doc;
}

StatusOr<std::string> WithSpecText(const SpecDocument& doc, std::string_view spec_text) {
  switch (doc.kind) {
    case DocKind::kDatasetsYaml:
      return std::string(spec_text);
    case DocKind::kConfigMapJson:
      return EditConfigMapJson(doc.text, spec_text);
    case DocKind::kConfigMapYaml:
      return EditConfigMapYaml(doc.text, spec_text);
  }
  return Internal("unknown document kind");
}

bool IsFluidSpec(std::string_view spec_text) {
  try {
    for (const YAML::Node& d : YAML::LoadAll(std::string(spec_text))) {
      if (!d.IsMap()) continue;
      if (d["kind"] && d["kind"].IsScalar() && d["kind"].Scalar() == "Dataset") return true;
      if (d["apiVersion"] && d["apiVersion"].IsScalar() &&
          d["apiVersion"].Scalar().rfind("data.fluid.io/", 0) == 0) {
        return true;
      }
    }
  } catch (const YAML::Exception&) {
  }
  return false;
}

StatusOr<std::string> AddMount(std::string_view spec_text, const AddRequest& request) {
  FERRY_ASSIGN_OR_RETURN(DatasetSpec spec, ParseEditable(spec_text));
  for (const MountSpec& m : spec.mounts) {
    if (m.name == request.name) {
      return AlreadyExists("dataset \"" + request.name +
                           "\" already exists; remove it first to change it");
    }
  }
  MountSpec m;
  m.name = request.name;
  m.source = request.source;
  m.options = request.options;
  m.credentials = request.credentials;
  m.read_only = request.read_only.value_or(true);
  spec.mounts.push_back(std::move(m));
  std::string text = SerializeDatasetSpec(spec);
  auto check = ParseDatasetSpec(text);
  if (!check.ok()) return check.status();
  return text;
}

StatusOr<std::string> RemoveMount(std::string_view spec_text, std::string_view name) {
  FERRY_ASSIGN_OR_RETURN(DatasetSpec spec, ParseEditable(spec_text));
  auto it = std::find_if(spec.mounts.begin(), spec.mounts.end(),
                         [&](const MountSpec& m) { return m.name == name; });
  if (it == spec.mounts.end()) return NotFound("no dataset named " + Quoted(name));
  spec.mounts.erase(it);
  return SerializeDatasetSpec(spec);
}

}  // namespace ferry::ferryctl
