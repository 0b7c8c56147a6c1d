// libcrypto, loaded on first use (see lazy_curl.cc for why).
//
// sigv4.cc needs three one-shot OpenSSL functions; they are defined here and
// forwarded to libcrypto.so.3, dlopen()ed the first time one runs. A missing
// libcrypto is a broken image (libcurl needs it too): logged, then abort.
// OpenSSL's exported symbols are versioned (OPENSSL_3.0.0), so the library's
// own references never bind to these definitions.

#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <string>

#include "common/logging.h"
#include "common/status.h"

namespace {

struct CryptoApi {
  const EVP_MD* (*sha256_md)() = nullptr;
  unsigned char* (*hmac)(const EVP_MD*, const void*, int, const unsigned char*, size_t,
                         unsigned char*, unsigned int*) = nullptr;
  unsigned char* (*sha256)(const unsigned char*, size_t, unsigned char*) = nullptr;
};

CryptoApi Load() {
  CryptoApi api;
  void* lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
  if (lib != nullptr) {
    api.sha256_md = reinterpret_cast<decltype(api.sha256_md)>(dlsym(lib, "EVP_sha256"));
    api.hmac = reinterpret_cast<decltype(api.hmac)>(dlsym(lib, "HMAC"));
    api.sha256 = reinterpret_cast<decltype(api.sha256)>(dlsym(lib, "SHA256"));
  }
  if (api.sha256_md == nullptr || api.hmac == nullptr || api.sha256 == nullptr) {
    const char* why = lib == nullptr ? dlerror() : "a symbol is missing";
    ferry::GetLogger("sidecar.source")
        ->critical("cannot load libcrypto.so.3 (S3/OSS request signing): {}",
                   why != nullptr ? why : "unknown error");
  }
  FERRY_CHECK(api.sha256_md != nullptr && api.hmac != nullptr && api.sha256 != nullptr);
  return api;
}

const CryptoApi& Api() {
  static const CryptoApi api = Load();  // thread-safe, once
  return api;
}

}  // namespace

extern "C" {

const EVP_MD* EVP_sha256() { return Api().sha256_md(); }

unsigned char* HMAC(const EVP_MD* md, const void* key, int key_len, const unsigned char* data,
                    size_t data_len, unsigned char* out, unsigned int* out_len) {
  return Api().hmac(md, key, key_len, data, data_len, out, out_len);
}

unsigned char* SHA256(const unsigned char* data, size_t n, unsigned char* out) {
  return Api().sha256(data, n, out);
}

}  // extern "C"
