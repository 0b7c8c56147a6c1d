#include "webhook/pod_json.h"

namespace ferry::webhook {

std::string EscapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size() + 4);
  for (char ch : token) {
    if (ch == '~') {
      out += "~0";
    } else if (ch == '/') {
      out += "~1";
    } else {
      out += ch;
    }
  }
  return out;
}

const Json* Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string_view StringMember(const Json& obj, std::string_view key, std::string_view fallback) {
  const Json* m = Member(obj, key);
  if (m == nullptr || !m->is_string()) return fallback;
  return m->get_ref<const std::string&>();
}

const Json* ArrayMember(const Json& obj, std::string_view key) {
  const Json* m = Member(obj, key);
  return (m != nullptr && m->is_array()) ? m : nullptr;
}

namespace {
const std::string* MetaString(const Json& pod, std::string_view map, std::string_view key) {
  const Json* meta = Member(pod, "metadata");
  if (meta == nullptr) return nullptr;
  const Json* m = Member(*meta, map);
  if (m == nullptr) return nullptr;
  const Json* v = Member(*m, key);
  return (v != nullptr && v->is_string()) ? &v->get_ref<const std::string&>() : nullptr;
}
}  // namespace

const std::string* Annotation(const Json& pod, std::string_view key) {
  return MetaString(pod, "annotations", key);
}

const std::string* Label(const Json& pod, std::string_view key) {
  return MetaString(pod, "labels", key);
}

bool HasBidirectionalFerryMount(const Json& c) {
  const Json* mounts = ArrayMember(c, "volumeMounts");
  if (mounts == nullptr) return false;
  for (const Json& m : *mounts) {
    if (StringMember(m, "name") == kMntVolume &&
        StringMember(m, "mountPropagation") == "Bidirectional") {
      return true;
    }
  }
  return false;
}

bool IsFerrySidecar(const Json& c) {
  return StringMember(c, "name") == kSidecarName || HasBidirectionalFerryMount(c);
}

SidecarLocation FindFerrySidecar(const Json& pod) {
  SidecarLocation loc;
  const Json* spec = Member(pod, "spec");
  if (spec == nullptr) return loc;
  for (bool init : {true, false}) {
    const Json* list = ArrayMember(*spec, init ? "initContainers" : "containers");
    if (list == nullptr) continue;
    for (size_t i = 0; i < list->size(); ++i) {
      if (IsFerrySidecar((*list)[i])) return {true, init, i};
    }
  }
  return loc;
}

std::string SafeName(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 63)) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '/' || ch == '-' || ch == ':';
    out += ok ? ch : '?';
  }
  if (s.size() > 63) out += "...";
  return out;
}

bool PatchBuilder::Exists(const std::string& pointer) const {
  try {
    return doc_.contains(Json::json_pointer(pointer));
  } catch (const Json::exception&) {
    return false;
  }
}

long PatchBuilder::FindCreated(const std::vector<Op>& ops, const std::string& pointer) {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].path == pointer) return static_cast<long>(i);
  }
  return -1;
}

void PatchBuilder::AddMapEntry(const std::string& map_pointer, std::string_view key, Json value) {
  if (Exists(map_pointer) && doc_.at(Json::json_pointer(map_pointer)).is_object()) {
    edits_.push_back({map_pointer + "/" + EscapePointerToken(key), std::move(value)});
    return;
  }
  long i = FindCreated(edits_, map_pointer);
  if (i >= 0) {
    edits_[static_cast<size_t>(i)].value[std::string(key)] = std::move(value);
    return;
  }
  Json obj = Json::object();
  obj[std::string(key)] = std::move(value);
  edits_.push_back({map_pointer, std::move(obj)});
}

void PatchBuilder::Append(const std::string& array_pointer, Json value) {
  if (Exists(array_pointer) && doc_.at(Json::json_pointer(array_pointer)).is_array()) {
    edits_.push_back({array_pointer + "/-", std::move(value)});
    return;
  }
  for (auto* ops : {&edits_, &inserts_}) {
    long i = FindCreated(*ops, array_pointer);
    if (i >= 0) {
      (*ops)[static_cast<size_t>(i)].value.push_back(std::move(value));
      return;
    }
  }
  edits_.push_back({array_pointer, Json::array({std::move(value)})});
}

void PatchBuilder::AddMember(const std::string& object_pointer, std::string_view key, Json value) {
  edits_.push_back({object_pointer + "/" + EscapePointerToken(key), std::move(value)});
}

void PatchBuilder::Insert(const std::string& array_pointer, size_t index, Json value) {
  if (Exists(array_pointer) && doc_.at(Json::json_pointer(array_pointer)).is_array()) {
    inserts_.push_back({array_pointer + "/" + std::to_string(index), std::move(value)});
    return;
  }
  for (auto* ops : {&edits_, &inserts_}) {
    long i = FindCreated(*ops, array_pointer);
    if (i >= 0) {
      Json& arr = (*ops)[static_cast<size_t>(i)].value;
      size_t at = std::min(index, arr.size());
      arr.insert(arr.begin() + static_cast<long>(at), std::move(value));
      return;
    }
  }
  inserts_.push_back({array_pointer, Json::array({std::move(value)})});
}

Json PatchBuilder::Build() && {
  Json patch = Json::array();
  patch.get_ref<Json::array_t&>().reserve(edits_.size() + inserts_.size());
  for (auto* ops : {&edits_, &inserts_}) {
    for (Op& op : *ops) {
      Json o(Json::value_t::object);
      o["op"] = "add";
      o["path"] = std::move(op.path);
      o["value"] = std::move(op.value);
      patch.push_back(std::move(o));
    }
  }
  edits_.clear();
  inserts_.clear();
  return patch;
}

Json PatchBuilder::Build() const& {
  Json patch = Json::array();
  for (const auto* ops : {&edits_, &inserts_}) {
    for (const Op& op : *ops) {
      patch.push_back(Json{{"op", "add"}, {"path", op.path}, {"value", op.value}});
    }
  }
  return patch;
}

}  // namespace ferry::webhook
