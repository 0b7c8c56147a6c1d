#include "sidecar/source/curl_easy.h"

#include <curl/curl.h>

#include <charconv>
#include <cstring>

#include "sidecar/source/url.h"

namespace ferry::sidecar {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

CURL* H(void* p) { return static_cast<CURL*>(p); }

std::string HostOf(std::string_view url) {
  StatusOr<ParsedUrl> u = ParseHttpUrl(url);
  return u.ok() ? u->Authority() : std::string("(bad URL)");
}

bool RetryableCode(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

std::string Hint(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return ": check the endpoint host name and the pod's DNS";
    case CURLE_COULDNT_CONNECT:
      return ": check the endpoint address/port and network policies";
    case CURLE_OPERATION_TIMEDOUT:
      return ": the server is slow or unreachable; raise option `timeout` if it is just slow";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return ": TLS certificate not trusted: set option `ca_file` to the CA bundle (or "
             "`tls_verify: \"false\"` for testing only)";
    default:
      return "";
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

struct CurlEasy::Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  size_t upload_pos = 0;
  uint64_t skip = 0;          // bytes of a 200 answer still to drop before the range
  bool skip_set = false;
  std::optional<uint64_t> content_range_first;
  std::string failure;        // set by callbacks that abort the transfer
  size_t sink_index = 0;      // HttpRequest::sinks: where the next byte goes
  size_t sink_offset = 0;
};

namespace {

size_t SinkCapacity(const HttpRequest& req) {
  if (req.sinks.empty()) return req.sink.size();
  size_t n = 0;
  for (const auto& s : req.sinks) n += s.size();
  return n;
}

}  // namespace

void CurlGlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }

std::optional<std::string_view> HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

CurlEasy::CurlEasy(HttpClientOptions options) : options_(std::move(options)) {
  curl_ = curl_easy_init();
  FERRY_CHECK(curl_ != nullptr);
  for (const std::string& r : options_.resolve) {
    resolve_ = curl_slist_append(static_cast<curl_slist*>(resolve_), r.c_str());
  }
}

CurlEasy::~CurlEasy() {
  curl_easy_cleanup(H(curl_));
  curl_slist_free_all(static_cast<curl_slist*>(resolve_));
}

size_t CurlEasy::OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100-continue or a redirect)
    t->response->headers.clear();
    t->content_range_first.reset();
    size_t sp = line.find(' ');
    long code = 0;
    if (sp != std::string_view::npos) {
      std::from_chars(line.data() + sp + 1, line.data() + line.size(), code);
    }
    t->response->status = code;
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name = Lower(Trim(line.substr(0, colon)));
  std::string_view value = Trim(line.substr(colon + 1));
  if (name == "content-range" && value.rfind("bytes ", 0) == 0) {
    std::string_view spec = value.substr(6);
    uint64_t first = 0;
    auto [end, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), first);
    if (ec == std::errc() && end != spec.data() + spec.size() && *end == '-') {
      t->content_range_first = first;
    }
  }
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return size * n;
}

size_t CurlEasy::OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& req = *t->request;
  HttpResponse& resp = *t->response;
  size_t len = size * n;
  // The header callback has parsed the status line by now.
  bool success = resp.status >= 200 && resp.status < 300;
  const bool has_sink = !req.sink.empty() || !req.sinks.empty();
  if (!has_sink || !success) {
    size_t cap = success ? req.max_body_bytes : kMaxErrorBody;
    if (resp.body.size() + len > cap) {
      if (!success) {  // keep the start of an error document, drop the rest
        resp.body.append(data, cap - resp.body.size());
        return len;
      }
      t->failure = "response body larger than " + std::to_string(cap) + " bytes";
      return 0;
    }
    resp.body.append(data, len);
    return len;
  }
  if (resp.status == 206 && req.range &&
      (!t->content_range_first || *t->content_range_first != req.range->first)) {
    t->failure = "206 answer whose Content-Range does not start at the requested offset " +
                 std::to_string(req.range->first);
    return 0;
  }
  if (resp.status == 200 && req.range && !t->skip_set) {
    t->skip = req.range->first;
    t->skip_set = true;
  }
  if (t->skip > 0) {
    size_t drop = static_cast<size_t>(std::min<uint64_t>(t->skip, len));
    t->skip -= drop;
    data += drop;
    len -= drop;
    if (len == 0) return size * n;
  }
  size_t room = SinkCapacity(req) - resp.sink_bytes;
  size_t take = std::min(room, len);
  if (req.sinks.empty()) {
    std::memcpy(req.sink.data() + resp.sink_bytes, data, take);
  } else {
    for (size_t left = take, from = 0; left > 0;) {
      const std::span<std::byte>& s = req.sinks[t->sink_index];
      size_t k = std::min(left, s.size() - t->sink_offset);
      std::memcpy(s.data() + t->sink_offset, data + from, k);
      from += k;
      left -= k;
      t->sink_offset += k;
      if (t->sink_offset == s.size()) {
        ++t->sink_index;
        t->sink_offset = 0;
      }
    }
  }
  resp.sink_bytes += take;
  if (take < len) {
    if (resp.status == 200 && req.range) {
      resp.sink_full_early = true;  // the rest of the object is not wanted
      return 0;
    }
    t->failure = "server sent more bytes than requested";
    return 0;
  }
  return size * n;
}

size_t CurlEasy::OnUpload(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view body = t->request->upload;
  size_t take = std::min(size * n, body.size() - t->upload_pos);
  std::memcpy(data, body.data() + t->upload_pos, take);
  t->upload_pos += take;
  return take;
}

Status CurlEasy::Perform(const HttpRequest& request, HttpResponse* response) {
  *response = HttpResponse();
  CURL* c = H(curl_);
  curl_easy_reset(c);  // keeps live connections, DNS and TLS session caches
  Transfer t{&request, response};
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, static_cast<long>(options_.buffer_bytes));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  if (options_.timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  }
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.low_speed_bytes_per_sec));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.tls_verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.tls_verify ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (resolve_ != nullptr) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve_);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &CurlEasy::OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &CurlEasy::OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);

  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  std::string range;
  if (request.range) {
    range = "Range: bytes=" + std::to_string(request.range->first) + "-" +
            std::to_string(request.range->second);
    headers = curl_slist_append(headers, range.c_str());
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &CurlEasy::OnUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.upload.size()));
    headers = curl_slist_append(headers, "Expect:");
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response->status = status;

  if (rc == CURLE_WRITE_ERROR && response->sink_full_early) return Status::Ok();
  if (!t.failure.empty()) {
    return Internal(request.method + " " + HostOf(request.url) + ": " + t.failure);
  }
  if (rc != CURLE_OK) {
    response->retryable = RetryableCode(rc);
    std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
    return Unavailable(request.method + " " + HostOf(request.url) + ": " + detail + Hint(rc));
  }
  return Status::Ok();
}

}  // namespace ferry::sidecar
