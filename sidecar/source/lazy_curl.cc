// libcurl, loaded on first use.
//
// ferry-sidecar does not link libcurl: this file defines the few curl_*
// functions curl_easy.cc calls and forwards them to libcurl.so.4, which it
// dlopen()s the first time one of them runs (and then calls
// curl_global_init_mem(CURL_GLOBAL_DEFAULT, ...) once, thread-safe since curl
// 7.84).
// A pod serving only local:// datasets never maps libcurl and what it pulls in
// (OpenSSL, GnuTLS, Kerberos, LDAP, libssh2, ...): about 6 MiB of resident
// pages in an idle data plane (bench/results/sidecar_e2e.md).
//
// libcurl's exported symbols carry the version CURL_OPENSSL_4, so its own
// references never bind to these unversioned definitions. If the library
// cannot be loaded, the reason is logged once and the functions fail the way
// libcurl fails without memory (curl_easy_init returns null, the others
// CURLE_FAILED_INIT).

#include <curl/curl.h>
#include <dlfcn.h>

#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/logging.h"

#undef curl_easy_setopt
#undef curl_easy_getinfo

namespace {

struct CurlApi {
  bool ok = false;
  std::string error;
  CURLcode (*global_init_mem)(long, curl_malloc_callback, curl_free_callback,
                             curl_realloc_callback, curl_strdup_callback,
                             curl_calloc_callback) = nullptr;
  CURL* (*easy_init)() = nullptr;
  void (*easy_cleanup)(CURL*) = nullptr;
  void (*easy_reset)(CURL*) = nullptr;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
  CURLcode (*easy_perform)(CURL*) = nullptr;
  const char* (*easy_strerror)(CURLcode) = nullptr;
  curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
  void (*slist_free_all)(curl_slist*) = nullptr;
};

// libcurl's allocations, with its receive buffer (CURLOPT_BUFFERSIZE, 512
// KiB) on a page boundary: the kernel copies socket data into it, and a
// destination at malloc's 16-byte offset from the source pages makes that
// copy several times slower (4 KiB aliasing; see BlockAllocator).
void* CurlMalloc(size_t size) {
  if (size < (64u << 10)) return std::malloc(size);
  void* p = nullptr;
  return ::posix_memalign(&p, 4096, size) == 0 ? p : nullptr;
}

template <typename F>
bool Resolve(void* lib, const char* name, F& out, std::string& error) {
  out = reinterpret_cast<F>(dlsym(lib, name));
  if (out == nullptr && error.empty()) error = std::string("libcurl.so.4 lacks ") + name;
  return out != nullptr;
}

CurlApi Load() {
  CurlApi api;
  void* lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    api.error = std::string("cannot load libcurl.so.4 (needed by s3://, oss://, http(s):// "
                            "sources): ") + (why != nullptr ? why : "unknown error");
  } else {
    bool all = Resolve(lib, "curl_global_init_mem", api.global_init_mem, api.error);
    all &= Resolve(lib, "curl_easy_init", api.easy_init, api.error);
    all &= Resolve(lib, "curl_easy_cleanup", api.easy_cleanup, api.error);
    all &= Resolve(lib, "curl_easy_reset", api.easy_reset, api.error);
    all &= Resolve(lib, "curl_easy_setopt", api.easy_setopt, api.error);
    all &= Resolve(lib, "curl_easy_getinfo", api.easy_getinfo, api.error);
    all &= Resolve(lib, "curl_easy_perform", api.easy_perform, api.error);
    all &= Resolve(lib, "curl_easy_strerror", api.easy_strerror, api.error);
    all &= Resolve(lib, "curl_slist_append", api.slist_append, api.error);
    all &= Resolve(lib, "curl_slist_free_all", api.slist_free_all, api.error);
    if (all) {
      CURLcode rc = api.global_init_mem(CURL_GLOBAL_DEFAULT, &CurlMalloc, &std::free, &std::realloc,
                                        &strdup, &std::calloc);
      api.ok = rc == CURLE_OK;
      if (!api.ok) api.error = "curl_global_init failed: " + std::string(api.easy_strerror(rc));
    }
    // The library stays loaded for the life of the process (handles may live
    // in static pools).
  }
  if (!api.ok) ferry::GetLogger("sidecar.source")->error("{}", api.error);
  return api;
}

const CurlApi& Api() {
  static const CurlApi api = Load();  // thread-safe, once
  return api;
}

}  // namespace

// va_start on the enum parameters curl.h declares (CURLoption, CURLINFO):
// both are int-sized enums, promoted to int, as in libcurl's own definitions.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wvarargs"
#endif

extern "C" {

CURLcode curl_global_init(long /*flags*/) { return Api().ok ? CURLE_OK : CURLE_FAILED_INIT; }

CURL* curl_easy_init() {
  const CurlApi& api = Api();
  return api.ok ? api.easy_init() : nullptr;
}

void curl_easy_cleanup(CURL* handle) {
  if (handle != nullptr) Api().easy_cleanup(handle);  // a handle means the library loaded
}

void curl_easy_reset(CURL* handle) {
  if (handle != nullptr) Api().easy_reset(handle);
}

CURLcode curl_easy_setopt(CURL* handle, CURLoption option, ...) {
  const CurlApi& api = Api();
  if (!api.ok || handle == nullptr) return CURLE_FAILED_INIT;
  // The argument's type follows from the option's number range, as in
  // libcurl's own setopt.c.
  va_list ap;
  va_start(ap, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = api.easy_setopt(handle, option, va_arg(ap, long));
  } else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {
    rc = api.easy_setopt(handle, option, va_arg(ap, curl_off_t));
  } else {  // object, function (same size and passing as void* on every ABI curl supports) or blob
    rc = api.easy_setopt(handle, option, va_arg(ap, void*));
  }
  va_end(ap);
  return rc;
}

CURLcode curl_easy_getinfo(CURL* handle, CURLINFO info, ...) {
  const CurlApi& api = Api();
  if (!api.ok || handle == nullptr) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, info);
  CURLcode rc = api.easy_getinfo(handle, info, va_arg(ap, void*));  // always a pointer
  va_end(ap);
  return rc;
}

CURLcode curl_easy_perform(CURL* handle) {
  const CurlApi& api = Api();
  if (!api.ok || handle == nullptr) return CURLE_FAILED_INIT;
  return api.easy_perform(handle);
}

const char* curl_easy_strerror(CURLcode code) {
  const CurlApi& api = Api();
  return api.ok ? api.easy_strerror(code) : api.error.c_str();
}

curl_slist* curl_slist_append(curl_slist* list, const char* text) {
  const CurlApi& api = Api();
  return api.ok ? api.slist_append(list, text) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  if (list != nullptr) Api().slist_free_all(list);
}

}  // extern "C"
