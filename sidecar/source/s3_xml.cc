#include "sidecar/source/s3_xml.h"

#include <tinyxml2.h>

#include <charconv>

#include "sidecar/source/http_date.h"

namespace ferry::sidecar {
namespace {

std::string_view Text(const tinyxml2::XMLElement* parent, const char* name, bool* present) {
  const tinyxml2::XMLElement* e = parent->FirstChildElement(name);
  *present = e != nullptr;
  if (e == nullptr || e->GetText() == nullptr) return {};
  return e->GetText();
}

StatusOr<S3Object> ParseContents(const tinyxml2::XMLElement* c) {
  S3Object o;
  bool present = false;
  std::string_view key = Text(c, "Key", &present);
  if (!present || key.empty()) return InvalidArgument("ListBucketResult: Contents without Key");
  o.key = std::string(key);
  std::string_view size = Text(c, "Size", &present);
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
  if (!present || ec != std::errc() || end != size.data() + size.size()) {
    return InvalidArgument("ListBucketResult: Contents \"" + o.key + "\": bad Size \"" +
                           std::string(size) + "\"");
  }
  std::string_view modified = Text(c, "LastModified", &present);
  std::optional<int64_t> ns = ParseIso8601Ns(modified);
  if (!ns) {
    return InvalidArgument("ListBucketResult: Contents \"" + o.key + "\": bad LastModified \"" +
                           std::string(modified) + "\"");
  }
  o.mtime_ns = *ns;
  o.etag = std::string(Text(c, "ETag", &present));
  return o;
}

}  // namespace

StatusOr<S3ListPage> ParseListObjectsV2(std::string_view xml) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS) {
    return InvalidArgument(std::string("listing is not XML: ") + doc.ErrorStr());
  }
  const tinyxml2::XMLElement* root = doc.RootElement();
  if (root == nullptr || std::string_view(root->Name()) != "ListBucketResult") {
    return InvalidArgument("listing is not a ListBucketResult document");
  }
  S3ListPage page;
  bool present = false;
  page.truncated = Text(root, "IsTruncated", &present) == "true";
  for (const tinyxml2::XMLElement* c = root->FirstChildElement("Contents"); c != nullptr;
       c = c->NextSiblingElement("Contents")) {
    FERRY_ASSIGN_OR_RETURN(S3Object o, ParseContents(c));
    page.objects.push_back(std::move(o));
  }
  for (const tinyxml2::XMLElement* p = root->FirstChildElement("CommonPrefixes"); p != nullptr;
       p = p->NextSiblingElement("CommonPrefixes")) {
    std::string_view prefix = Text(p, "Prefix", &present);
    if (!prefix.empty()) page.common_prefixes.emplace_back(prefix);
  }
  if (page.truncated) {
    page.next_continuation_token = std::string(Text(root, "NextContinuationToken", &present));
    if (page.next_continuation_token.empty()) {
      return Internal("listing is truncated but has no NextContinuationToken");
    }
  }
  return page;
}

S3Error ParseS3Error(std::string_view xml) {
  S3Error err;
  tinyxml2::XMLDocument doc;
  if (xml.empty() || doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS) return err;
  const tinyxml2::XMLElement* root = doc.RootElement();
  if (root == nullptr || std::string_view(root->Name()) != "Error") return err;
  bool present = false;
  err.code = std::string(Text(root, "Code", &present));
  err.message = std::string(Text(root, "Message", &present));
  return err;
}

}  // namespace ferry::sidecar
