#pragma once
// Editing the dataset spec where users keep it: a plain datasets.yaml, or a
// ConfigMap manifest (YAML or JSON, e.g. `kubectl get -o json` output) whose
// data key `datasets.yaml` holds it. Parsing and validation are the shared
// ParseDatasetSpec; the new spec text is SerializeDatasetSpec's.
//
// ConfigMap YAML is edited as text: only the `datasets.yaml:` value (written
// back as a `|` block) changes, every other byte (comments, other keys, other
// documents) stays; the result is re-parsed to check the edit. A plain
// datasets.yaml is rewritten whole (its comments are lost). Fluid `Dataset`
// documents are read (list, validate) but not edited.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/dataset_spec.h"
#include "common/status.h"

namespace ferry::ferryctl {

inline constexpr char kSpecKey[] = "datasets.yaml";

enum class DocKind { kDatasetsYaml, kConfigMapYaml, kConfigMapJson };

struct SpecDocument {
  DocKind kind = DocKind::kDatasetsYaml;
  std::string text;       // the whole file
  std::string spec_text;  // the datasets.yaml content ("" when the key is absent)
};

// Recognizes the document kind and extracts the spec text. kInvalidArgument
// for YAML/JSON syntax errors or a ConfigMap whose datasets.yaml is not a string.
// `text` in double quotes, for messages (no escaping). Thread-safe.
std::string Quoted(std::string_view text);

StatusOr<SpecDocument> LoadSpecDocument(std::string text);

// The whole file with its spec replaced by `spec_text`. kInternal if the
// in-place edit could not be verified (the message says to edit by hand).
StatusOr<std::string> WithSpecText(const SpecDocument& doc, std::string_view spec_text);

// True for a Fluid `Dataset` manifest.
bool IsFluidSpec(std::string_view spec_text);

struct AddRequest {
  std::string name;
  std::string source;
  std::map<std::string, std::string> options;  // -o k=v
  std::optional<bool> read_only;               // --ro / --rw; default read-only
  std::string credentials;                     // --credentials
};

// The spec text with one more mount. kAlreadyExists: name taken;
// kFailedPrecondition: a Fluid document; kInvalidArgument: the current spec or
// the new mount is invalid (ParseDatasetSpec's message).
StatusOr<std::string> AddMount(std::string_view spec_text, const AddRequest& request);

// The spec text without mount `name`. kNotFound: no such mount; others as AddMount.
StatusOr<std::string> RemoveMount(std::string_view spec_text, std::string_view name);

}  // namespace ferry::ferryctl
