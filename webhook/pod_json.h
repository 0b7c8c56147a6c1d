#pragma once
// Helpers over the pod as generic nlohmann JSON (KUBERNETES.md §5: never round-trip
// the pod through C++ structs, fields a model lacks would be lost) and PatchBuilder,
// which emits an add-only RFC 6902 patch.
//
// Invariants of PatchBuilder output, applied to the document it was built from:
//  - only `add` ops; each parent exists when its op runs (a missing map or array is
//    added whole, with every entry queued for it);
//  - edits of existing elements come first, insertions into arrays (which shift the
//    indices of later elements) last, in the order they were queued;
//  - pointer tokens are escaped (~ -> ~0, / -> ~1).
// Accessors never throw: a wrong type reads as absent.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ferry::webhook {

using Json = nlohmann::json;

inline constexpr std::string_view kSidecarName = "ferry-sidecar";
inline constexpr std::string_view kMntVolume = "ferry-mnt";
inline constexpr std::string_view kConfigVolume = "ferry-config";
inline constexpr std::string_view kCacheVolume = "ferry-cache";
inline constexpr std::string_view kSidecarMntDir = "/run/ferry/mnt";
inline constexpr std::string_view kSidecarConfigDir = "/etc/ferry";
inline constexpr std::string_view kSidecarCacheDir = "/var/cache/ferry";

inline constexpr std::string_view kAnnoInject = "ferry.io/inject";
inline constexpr std::string_view kAnnoDatasets = "ferry.io/datasets";
inline constexpr std::string_view kAnnoMountPath = "ferry.io/mount-path";
inline constexpr std::string_view kAnnoInitContainers = "ferry.io/init-containers";
inline constexpr std::string_view kAnnoInjected = "ferry.io/injected";
inline constexpr std::string_view kAnnoDefaultContainer = "kubectl.kubernetes.io/default-container";

// RFC 6901 token escaping: "~" -> "~0", then "/" -> "~1".
std::string EscapePointerToken(std::string_view token);

// obj[key] when obj is an object holding key, else nullptr.
const Json* Member(const Json& obj, std::string_view key);
// obj[key] as a string view when it is a string, else `fallback`.
std::string_view StringMember(const Json& obj, std::string_view key,
                              std::string_view fallback = "");
// obj[key] when it is an array, else nullptr.
const Json* ArrayMember(const Json& obj, std::string_view key);

// metadata.annotations[key] / metadata.labels[key] of `pod`, or nullptr when absent or
// not a string.
const std::string* Annotation(const Json& pod, std::string_view key);
const std::string* Label(const Json& pod, std::string_view key);

// True when container `c` has a volumeMount of ferry-mnt with Bidirectional propagation.
bool HasBidirectionalFerryMount(const Json& c);
// True when `c` is ferry's sidecar: named ferry-sidecar, or mounting ferry-mnt
// Bidirectional (a renamed copy is still ferry's).
bool IsFerrySidecar(const Json& c);

// Where ferry's sidecar sits in `pod`, if anywhere.
struct SidecarLocation {
  bool found = false;
  bool in_init_containers = false;
  size_t index = 0;
};
SidecarLocation FindFerrySidecar(const Json& pod);

// Makes a user-supplied string safe to quote in a message or warning: keeps
// [A-Za-z0-9._/-:], replaces anything else with '?', cuts at 63 characters.
std::string SafeName(std::string_view user_string);

class PatchBuilder {
 public:
  explicit PatchBuilder(const Json& doc) : doc_(doc) {}

  // Sets `key` in the object at `map_pointer` (e.g. "/metadata/annotations"), adding
  // the whole object when absent. Parent of the map must exist.
  void AddMapEntry(const std::string& map_pointer, std::string_view key, Json value);
  // Appends `value` to the array at `array_pointer`, adding the array when absent.
  // The parent of the array must exist.
  void Append(const std::string& array_pointer, Json value);
  // Sets member `key` of the existing object at `object_pointer` (e.g. one container).
  void AddMember(const std::string& object_pointer, std::string_view key, Json value);
  // Inserts `value` at `index` of the array at `array_pointer` (index <= size), adding
  // the array when absent. Queued after every edit.
  void Insert(const std::string& array_pointer, size_t index, Json value);

  bool empty() const { return edits_.empty() && inserts_.empty(); }
  // The patch: a JSON array of add ops.
  Json Build() const&;
  // The same, moving the queued values out (no copy of the sidecar container).
  Json Build() &&;

 private:
  struct Op {
    std::string path;
    Json value;
  };
  // Index in ops of the op creating the container at `pointer`, or -1.
  static long FindCreated(const std::vector<Op>& ops, const std::string& pointer);
  bool Exists(const std::string& pointer) const;

  const Json& doc_;
  std::vector<Op> edits_;
  std::vector<Op> inserts_;
};

}  // namespace ferry::webhook
