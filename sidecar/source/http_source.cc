#include "sidecar/source/http_source.h"

#include <charconv>

#include "common/logging.h"
#include "sidecar/source/http_date.h"
#include "sidecar/source/http_index.h"

namespace ferry::sidecar {
namespace {

constexpr int64_t kMinuteNs = 60LL * 1'000'000'000;

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Total size from "bytes a-b/total".
std::optional<uint64_t> ContentRangeTotal(std::string_view v) {
  size_t slash = v.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return ParseU64(v.substr(slash + 1));
}

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

StatusOr<std::unique_ptr<HttpSource>> HttpSource::Create(HttpSourceOptions options, Clock& clock) {
  FERRY_ASSIGN_OR_RETURN(ParsedUrl url, ParseHttpUrl(options.base_url));
  if (!url.query.empty()) {
    return InvalidArgument("source \"" + options.base_url + "\" must not carry a ?query");
  }
  if (url.path.back() != '/') url.path += '/';
  return std::unique_ptr<HttpSource>(new HttpSource(std::move(options), std::move(url), clock));
}

HttpSource::HttpSource(HttpSourceOptions options, ParsedUrl url, Clock& clock)
    : options_(std::move(options)),
      url_(std::move(url)),
      base_(url_.Origin() + url_.path),
      fetcher_(options_.http, options_.connections, options_.retry, clock) {}

std::string HttpSource::UrlFor(std::string_view path, bool dir) const {
  std::string u = base_ + UriEncode(path, true);
  if (dir && !path.empty()) u += '/';
  return u;
}

StatusOr<HttpResponse> HttpSource::Send(std::string method, std::string url,
                                        std::vector<std::string> headers,
                                        std::optional<std::pair<uint64_t, uint64_t>> range,
                                        std::span<const std::span<std::byte>> sinks) {
  return fetcher_.Fetch(
      [&](HttpRequest* r) {
        r->method = method;
        r->url = url;
        r->headers = headers;
        r->range = range;
        r->sinks = sinks;
        return Status::Ok();
      },
      url_.Authority());
}

Status HttpSource::ErrorFor(const HttpResponse& r, std::string_view url) const {
  std::string head = std::to_string(r.status) + " from " + url_.Authority() + ": ";
  if (r.status == 401 || r.status == 403) {
    return PermissionDenied(head + "access denied for " + std::string(url) +
                            ": the web server refuses it; check its access rules (ferry sends no "
                            "credentials to http(s) sources)");
  }
  if (r.status == 404 || r.status == 410) return NotFound(head + std::string(url) + " not found");
  if (r.status == 412) {
    return FailedPrecondition(head + std::string(url) + " changed since it was listed: list it again");
  }
  if (r.status >= 500) return Unavailable(head + "server error for " + std::string(url));
  return Internal(head + "unexpected answer for " + std::string(url));
}

StatusOr<Entry> HttpSource::FileFromHead(const HttpResponse& r, std::string name,
                                         std::string_view url) const {
  Entry e;
  e.name = std::move(name);
  e.type = EntryType::kFile;
  std::optional<std::string_view> len = r.Header("content-length");
  std::optional<uint64_t> size = len ? ParseU64(*len) : std::nullopt;
  if (!size) {
    return Internal("HEAD " + std::string(url) + " from " + url_.Authority() +
                    " gave no Content-Length: ferry needs file sizes (serve files statically)");
  }
  e.size = *size;
  if (auto lm = r.Header("last-modified")) e.mtime_ns = ParseHttpDateNs(*lm).value_or(0);
  if (auto etag = r.Header("etag")) e.etag = std::string(*etag);
  return e;
}

StatusOr<Entry> HttpSource::Stat(std::string_view path) {
  if (path.empty()) {
    FERRY_ASSIGN_OR_RETURN(HttpResponse r, Send("HEAD", base_));
    if (r.status != 200) return ErrorFor(r, base_);
    Entry root;
    root.type = EntryType::kDirectory;
    return root;
  }
  std::string url = UrlFor(path, false);
  FERRY_ASSIGN_OR_RETURN(HttpResponse r, Send("HEAD", url));
  if (r.status == 200) return FileFromHead(r, BaseName(path), url);
  Entry dir;
  dir.name = BaseName(path);
  dir.type = EntryType::kDirectory;
  if (IsRedirect(r.status)) {
    std::optional<std::string_view> loc = r.Header("location");
    if (loc && !loc->empty() && loc->back() == '/') return dir;
    return Internal(std::to_string(r.status) + " from " + url_.Authority() + " for " + url +
                    " redirects elsewhere; ferry does not follow redirects of files");
  }
  if (r.status != 404) return ErrorFor(r, url);
  std::string dir_url = UrlFor(path, true);
  FERRY_ASSIGN_OR_RETURN(HttpResponse d, Send("HEAD", dir_url));
  if (d.status == 200) return dir;
  return ErrorFor(r, url);
}

StatusOr<std::vector<Entry>> HttpSource::List(std::string_view dir) {
  std::string url = UrlFor(dir, true);
  FERRY_ASSIGN_OR_RETURN(HttpResponse r, Send("GET", url));
  if (r.status == 404 && !dir.empty()) {
    StatusOr<Entry> self = Stat(dir);
    if (self.ok() && self->type == EntryType::kFile) {
      return FailedPrecondition(UrlFor(dir, false) + " is a file, not a directory");
    }
  }
  if (r.status != 200) return ErrorFor(r, url);
  std::optional<std::string_view> type = r.Header("content-type");
  IndexFormat format = type && type->find("json") != std::string_view::npos ? IndexFormat::kJson
                                                                             : IndexFormat::kAuto;
  StatusOr<std::vector<IndexEntry>> index = ParseIndexPage(r.body, format);
  if (!index.ok()) {
    return Internal("index page " + url + ": " + std::string(index.status().message()) +
                    ": enable autoindex (nginx `autoindex on;`) for this location");
  }
  std::vector<Entry> out;
  out.reserve(index->size());
  for (IndexEntry& ie : *index) {
    Entry e;
    e.name = std::move(ie.name);
    e.mtime_ns = ie.mtime_ns.value_or(0);
    if (ie.is_dir) {
      e.type = EntryType::kDirectory;
    } else if (ie.size) {
      e.size = *ie.size;
    } else {
      std::string child = dir.empty() ? e.name : std::string(dir) + "/" + e.name;
      std::string curl = UrlFor(child, false);
      FERRY_ASSIGN_OR_RETURN(HttpResponse h, Send("HEAD", curl));
      if (h.status != 200) return ErrorFor(h, curl);
      FERRY_ASSIGN_OR_RETURN(e, FileFromHead(h, e.name, curl));
    }
    out.push_back(std::move(e));
  }
  return out;
}

Status HttpSource::CheckVersion(const HttpResponse& r, const Entry& version,
                                std::string_view url) const {
  auto changed = [&](const std::string& what) {
    return FailedPrecondition(std::string(url) + " changed since it was listed (" + what +
                              "): list it again");
  };
  std::optional<uint64_t> total;
  if (r.status == 206) {
    if (auto cr = r.Header("content-range")) total = ContentRangeTotal(*cr);
  } else if (auto len = r.Header("content-length")) {
    total = ParseU64(*len);
  }
  if (total && *total != version.size) {
    return changed("size " + std::to_string(version.size) + " is now " + std::to_string(*total));
  }
  std::optional<std::string_view> etag = r.Header("etag");
  if (!version.etag.empty() && etag && *etag != version.etag) {
    return changed("ETag " + version.etag + " is now " + std::string(*etag));
  }
  std::optional<std::string_view> lm = r.Header("last-modified");
  std::optional<int64_t> mtime = lm ? ParseHttpDateNs(*lm) : std::nullopt;
  if (version.mtime_ns != 0 && mtime && *mtime != version.mtime_ns) {
    bool minute_precision = version.mtime_ns % kMinuteNs == 0;
    if (!minute_precision || *mtime / kMinuteNs != version.mtime_ns / kMinuteNs) {
      return changed("Last-Modified " + std::string(*lm));
    }
  }
  return Status::Ok();
}

StatusOr<size_t> HttpSource::Read(std::string_view path, const Entry& version, uint64_t offset,
                                  std::span<std::byte> out) {
  const std::span<std::byte> one[1] = {out};
  return ReadScatter(path, version, offset, one);
}

StatusOr<size_t> HttpSource::ReadScatter(std::string_view path, const Entry& version,
                                         uint64_t offset,
                                         std::span<const std::span<std::byte>> outs) {
  std::vector<std::span<std::byte>> sinks = ClampSinks(outs, offset, version.size);
  if (sinks.empty()) return size_t{0};
  uint64_t len = 0;
  for (const auto& sk : sinks) len += sk.size();
  std::string url = UrlFor(path, false);
  std::vector<std::string> headers;
  if (!version.etag.empty() && version.etag.rfind("W/", 0) != 0) {
    headers.push_back("If-Match: " + version.etag);
  }
  FERRY_ASSIGN_OR_RETURN(HttpResponse r, Send("GET", url, headers,
                                              std::make_pair(offset, offset + len - 1), sinks));
  if (r.status == 416) {
    return FailedPrecondition(url + " shrank below offset " + std::to_string(offset) +
                              " since it was listed: list it again");
  }
  if (r.status != 200 && r.status != 206) return ErrorFor(r, url);
  if (r.status == 200 && !ranges_ignored_.exchange(true)) {
    GetLogger("sidecar.source")
        ->warn("{} ignores Range requests (200 instead of 206): reads stream from the start of "
               "each file; enable ranges on the server",
               url_.Authority());
  }
  FERRY_RETURN_IF_ERROR(CheckVersion(r, version, url));
  if (r.sink_bytes != len) {
    return FailedPrecondition(url + " returned " + std::to_string(r.sink_bytes) + " of " +
                              std::to_string(len) + " bytes: it changed; list it again");
  }
  return static_cast<size_t>(len);
}

}  // namespace ferry::sidecar
