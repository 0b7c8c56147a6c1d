#include "sidecar/source/s3_source.h"

#include <algorithm>
#include <map>

#include "common/logging.h"
#include "sidecar/source/sigv4.h"

namespace ferry::sidecar {
namespace {

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Entry DirEntry(std::string name) {
  Entry e;
  e.name = std::move(name);
  e.type = EntryType::kDirectory;
  return e;
}

Entry FileEntry(std::string name, const S3Object& o) {
  Entry e;
  e.name = std::move(name);
  e.type = EntryType::kFile;
  e.size = o.size;
  e.mtime_ns = o.mtime_ns;
  e.etag = o.etag;
  return e;
}

bool IsCredentialError(const S3Error& e) {
  return e.code == "InvalidAccessKeyId" || e.code == "SignatureDoesNotMatch" ||
         e.code == "ExpiredToken" || e.code == "InvalidToken" || e.code == "TokenRefreshRequired" ||
         e.code == "AccessDenied" || e.code == "InvalidSecurity";
}

}  // namespace

StatusOr<std::unique_ptr<S3Source>> S3Source::Create(S3Options options,
                                                     std::unique_ptr<CredentialSource> credentials,
                                                     Clock& clock) {
  if (options.bucket.empty()) return InvalidArgument("S3 source without a bucket");
  if (!options.prefix.empty() && options.prefix.back() != '/') options.prefix += '/';
  StatusOr<ParsedUrl> endpoint = ParseHttpUrl(options.endpoint);
  if (!endpoint.ok()) return endpoint.status().WithContext("option endpoint");
  if (endpoint->path != "/" || !endpoint->query.empty()) {
    return InvalidArgument("option endpoint \"" + options.endpoint +
                           "\" must be scheme://host[:port] without a path");
  }
  return std::unique_ptr<S3Source>(
      new S3Source(std::move(options), *std::move(endpoint), std::move(credentials), clock));
}

S3Source::S3Source(S3Options options, ParsedUrl endpoint,
                   std::unique_ptr<CredentialSource> credentials, Clock& clock)
    : options_(std::move(options)),
      endpoint_(std::move(endpoint)),
      host_(options_.path_style ? endpoint_.Authority()
                                : options_.bucket + "." + endpoint_.Authority()),
      credentials_(std::move(credentials)),
      clock_(clock),
      fetcher_(options_.http, options_.connections, options_.retry, clock),
      list_mode_(options_.list_mode) {}

std::string S3Source::Describe() const {
  return options_.scheme + "://" + options_.bucket + "/" + options_.prefix;
}

std::string S3Source::Url(std::string_view what) const {
  return options_.scheme + "://" + options_.bucket + "/" + std::string(what);
}

Status S3Source::BuildRequest(const Call& call, HttpRequest* request) {
  FERRY_ASSIGN_OR_RETURN(AwsCredentials creds, credentials_->Get());
  std::string path;
  if (options_.path_style) {
    path = "/" + UriEncode(options_.bucket, false);
    if (!call.key.empty()) path += "/" + UriEncode(call.key, true);
  } else {
    path = "/" + UriEncode(call.key, true);
  }
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : call.query) query.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(query.begin(), query.end());
  std::string qs;
  for (const auto& [k, v] : query) qs += (qs.empty() ? "" : "&") + k + "=" + v;

  request->method = call.method;
  request->url = endpoint_.scheme + "://" + host_ + path + (qs.empty() ? "" : "?" + qs);
  request->headers = call.headers;
  request->headers.push_back("Host: " + host_);
  request->headers.push_back(std::string("x-amz-content-sha256: ") + kEmptyPayloadSha256);
  request->range = call.range;
  request->sink = call.sink;
  request->sinks = call.sinks;
  if (creds.anonymous()) return Status::Ok();

  SigV4Request sig;
  sig.method = call.method;
  sig.canonical_uri = path;
  sig.query = call.query;
  sig.headers = {{"host", host_}, {"x-amz-content-sha256", kEmptyPayloadSha256}};
  sig.payload_sha256 = kEmptyPayloadSha256;
  sig.region = options_.region;
  sig.service = "s3";
  sig.time = clock_.WallNow();
  SigV4Signature signature = SignV4(sig, SigV4Key{creds.access_key_id, creds.secret_access_key,
                                                  creds.session_token});
  for (const auto& [name, value] : signature.added_headers) {
    request->headers.push_back(name + ": " + value);
  }
  request->headers.push_back("Authorization: " + signature.authorization);
  return Status::Ok();
}

StatusOr<HttpResponse> S3Source::Execute(const Call& call) {
  auto build = [&](HttpRequest* r) { return BuildRequest(call, r); };
  StatusOr<HttpResponse> r = fetcher_.Fetch(build, host_);
  if (r.ok() && (r->status == 403 || r->status == 400) &&
      IsCredentialError(ParseS3Error(r->body)) && credentials_->Refresh()) {
    r = fetcher_.Fetch(build, host_);  // the kubelet rotated the Secret meanwhile
  }
  return r;
}

Status S3Source::ErrorFor(const HttpResponse& response, std::string_view what) const {
  S3Error e = ParseS3Error(response.body);
  std::string detail = e.code.empty() ? "" : " (" + e.code + (e.message.empty() ? "" : ": " + e.message) + ")";
  std::string head = std::to_string(response.status) + " from " + host_ + ": ";
  std::string where = " for " + Url(what);
  if (response.status == 403 || IsCredentialError(e)) {
    return PermissionDenied(head + "access denied" + detail + where + ": check " +
                            credentials_->Describe());
  }
  if (response.status == 404) {
    if (e.code == "NoSuchBucket") {
      return NotFound(head + "bucket '" + options_.bucket + "' does not exist" + detail +
                      ": check the source URL and options endpoint/region");
    }
    return NotFound(head + "no such object" + detail + where);
  }
  if (response.status == 412) {
    return FailedPrecondition(head + Url(what) + " changed since it was listed: list it again");
  }
  if (response.status == 301 || response.status == 307 || e.code == "AuthorizationHeaderMalformed" ||
      e.code == "PermanentRedirect") {
    return Unavailable(head + "wrong region or endpoint" + detail + where +
                       ": set options region/endpoint to the bucket's (region now '" +
                       options_.region + "')");
  }
  if (response.status >= 500) return Unavailable(head + "server error" + detail + where);
  return Internal(head + "unexpected answer" + detail + where);
}

StatusOr<S3ListPage> S3Source::ListPage(const std::string& prefix, bool delimiter,
                                        const std::string& token, uint32_t max_keys) {
  Call call;
  call.query = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys)}};
  if (delimiter) call.query.emplace_back("delimiter", "/");
  if (!token.empty()) call.query.emplace_back("continuation-token", token);
  FERRY_ASSIGN_OR_RETURN(HttpResponse r, Execute(call));
  if (r.status != 200) return ErrorFor(r, prefix);
  StatusOr<S3ListPage> page = ParseListObjectsV2(r.body);
  if (!page.ok()) return Internal("listing " + Url(prefix) + " from " + host_ + ": " +
                                  std::string(page.status().message()));
  return page;
}

StatusOr<std::vector<Entry>> S3Source::ListChildren(const std::string& dirkey, bool flat,
                                                    bool* found) {
  std::map<std::string, Entry> children;
  *found = false;
  std::string token;
  do {
    FERRY_ASSIGN_OR_RETURN(S3ListPage page, ListPage(dirkey, !flat, token, options_.max_keys));
    for (const S3Object& o : page.objects) {
      *found = true;
      if (o.key.size() <= dirkey.size()) continue;  // the "dir/" marker itself
      std::string rel = o.key.substr(dirkey.size());
      size_t slash = rel.find('/');
      if (slash == std::string::npos) {
        children.try_emplace(rel, FileEntry(rel, o));  // a same-named directory wins
      } else if (slash > 0) {
        std::string name = rel.substr(0, slash);
        children.insert_or_assign(name, DirEntry(name));
      }
    }
    for (const std::string& p : page.common_prefixes) {
      *found = true;
      if (p.size() <= dirkey.size() + 1) continue;
      std::string name = p.substr(dirkey.size(), p.size() - dirkey.size() - 1);
      if (name.find('/') != std::string::npos) continue;
      children.insert_or_assign(name, DirEntry(name));
    }
    token = page.truncated ? page.next_continuation_token : "";
  } while (!token.empty());
  std::vector<Entry> out;
  out.reserve(children.size());
  for (auto& [name, e] : children) out.push_back(std::move(e));
  return out;
}

StatusOr<bool> S3Source::PrefixExists(const std::string& dirkey) {
  FERRY_ASSIGN_OR_RETURN(S3ListPage page, ListPage(dirkey, true, "", 1));
  return !page.objects.empty() || !page.common_prefixes.empty();
}

StatusOr<std::vector<Entry>> S3Source::List(std::string_view dir) {
  const std::string dirkey = dir.empty() ? options_.prefix : KeyFor(dir) + "/";
  bool flat = list_mode_.load() == S3ListMode::kFlat;
  bool found = false;
  FERRY_ASSIGN_OR_RETURN(std::vector<Entry> entries, ListChildren(dirkey, flat, &found));
  if (list_mode_.load() == S3ListMode::kAuto && !auto_checked_.exchange(true)) {
    // Cross-check the server's CommonPrefixes against one flat page.
    StatusOr<S3ListPage> page = ListPage(dirkey, false, "", options_.max_keys);
    if (page.ok()) {
      std::map<std::string, bool> dirs;
      for (const Entry& e : entries) dirs[e.name] = e.type == EntryType::kDirectory;
      for (const S3Object& o : page->objects) {
        std::string rel = o.key.substr(std::min(o.key.size(), dirkey.size()));
        size_t slash = rel.find('/');
        if (slash == std::string::npos || slash == 0 || dirs[rel.substr(0, slash)]) continue;
        GetLogger("sidecar.source")->info(
            "{}: the server's delimiter listing omitted directory '{}': listing subtrees flat",
            Describe(), rel.substr(0, slash));
        list_mode_.store(S3ListMode::kFlat);
        return List(dir);
      }
    }
  }
  if (found || dir.empty()) return entries;
  StatusOr<Entry> self = Stat(dir);
  if (self.ok() && self->type == EntryType::kFile) {
    return FailedPrecondition(Url(KeyFor(dir)) + " is an object, not a directory");
  }
  if (self.ok()) return std::vector<Entry>{};  // only a marker of a marker: empty
  return self.status();
}

StatusOr<Entry> S3Source::Stat(std::string_view path) {
  if (path.empty()) {
    FERRY_ASSIGN_OR_RETURN(S3ListPage page, ListPage(options_.prefix, true, "", 1));
    (void)page;
    return DirEntry("");
  }
  const std::string key = KeyFor(path);
  const std::string dirkey = key + "/";
  std::optional<Entry> file;
  bool dir = false;
  std::string token;
  do {
    FERRY_ASSIGN_OR_RETURN(S3ListPage page, ListPage(key, true, token, options_.max_keys));
    std::string last;
    for (const S3Object& o : page.objects) {
      if (o.key == key) file = FileEntry(BaseName(path), o);
      if (o.key.rfind(dirkey, 0) == 0) dir = true;
      last = std::max(last, o.key);
    }
    for (const std::string& p : page.common_prefixes) {
      if (p == dirkey) dir = true;
      last = std::max(last, p);
    }
    // Keys come sorted: nothing further can match once past "key/".
    token = page.truncated && last <= dirkey ? page.next_continuation_token : "";
  } while (!token.empty() && !dir);
  if (dir) return DirEntry(BaseName(path));
  if (file) return *file;
  FERRY_ASSIGN_OR_RETURN(bool below, PrefixExists(dirkey));
  if (below) return DirEntry(BaseName(path));
  return NotFound(Url(key) + ": no such object or prefix");
}

StatusOr<size_t> S3Source::Read(std::string_view path, const Entry& version, uint64_t offset,
                                std::span<std::byte> out) {
  const std::span<std::byte> one[1] = {out};
  return ReadScatter(path, version, offset, one);
}

StatusOr<size_t> S3Source::ReadScatter(std::string_view path, const Entry& version,
                                       uint64_t offset, std::span<const std::span<std::byte>> outs) {
  std::vector<std::span<std::byte>> sinks = ClampSinks(outs, offset, version.size);
  if (sinks.empty()) return size_t{0};
  uint64_t len = 0;
  for (const auto& sk : sinks) len += sk.size();
  Call call;
  call.key = KeyFor(path);
  call.range = std::make_pair(offset, offset + len - 1);
  call.sinks = sinks;
  if (!version.etag.empty()) call.headers.push_back("If-Match: " + version.etag);
  FERRY_ASSIGN_OR_RETURN(HttpResponse r, Execute(call));
  if (r.status == 416) {
    return FailedPrecondition(Url(call.key) + " shrank below offset " + std::to_string(offset) +
                              " since it was listed: list it again");
  }
  if (r.status != 200 && r.status != 206) return ErrorFor(r, call.key);
  std::optional<std::string_view> etag = r.Header("etag");
  if (!version.etag.empty() && etag && *etag != version.etag) {
    return FailedPrecondition(Url(call.key) + " changed since it was listed (ETag " +
                              version.etag + " is now " + std::string(*etag) + "): list it again");
  }
  if (r.sink_bytes != len) {
    return FailedPrecondition(Url(call.key) + " returned " + std::to_string(r.sink_bytes) +
                              " of " + std::to_string(len) + " bytes: it changed size; list it again");
  }
  return static_cast<size_t>(len);
}

}  // namespace ferry::sidecar
