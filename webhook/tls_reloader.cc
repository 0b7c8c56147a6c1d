#include "webhook/tls_reloader.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

namespace ferry::webhook {

struct TlsReloader::KeyPair {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  STACK_OF(X509)* chain = nullptr;
  std::string fingerprint;
  ~KeyPair() {
    X509_free(cert);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
  }
};

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

}  // namespace

TlsReloader::TlsReloader(Options options) : options_(std::move(options)) {}

TlsReloader::~TlsReloader() {
  {
    MutexLock lock(wake_mu_);
    stopping_ = true;
  }
  wake_.NotifyAll();
  if (watcher_.joinable()) {
    watcher_.request_stop();
    watcher_.join();
  }
  SSL_CTX_free(ctx_);
}

TlsReloader::FileStamp TlsReloader::Stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<long long>(st.st_ino), static_cast<long long>(st.st_size),
          static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec,
          static_cast<long long>(st.st_ctim.tv_sec) * 1000000000LL + st.st_ctim.tv_nsec};
}

StatusOr<std::shared_ptr<const TlsReloader::KeyPair>> TlsReloader::LoadPair(
    const std::string& cert_path, const std::string& key_path) {
  auto pair = std::make_shared<KeyPair>();
  File cf(std::fopen(cert_path.c_str(), "r"));
  if (!cf) return StatusFromErrno(errno, "--tls-cert " + cert_path);
  pair->cert = PEM_read_X509(cf.get(), nullptr, nullptr, nullptr);
  if (pair->cert == nullptr) {
    return InvalidArgument("--tls-cert " + cert_path + ": no PEM certificate: " + OpenSslError());
  }
  pair->chain = sk_X509_new_null();
  while (X509* extra = PEM_read_X509(cf.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(pair->chain, extra);
  }
  ERR_clear_error();  // the loop ends on "no start line"
  File kf(std::fopen(key_path.c_str(), "r"));
  if (!kf) return StatusFromErrno(errno, "--tls-key " + key_path);
  pair->key = PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr);
  if (pair->key == nullptr) {
    return InvalidArgument("--tls-key " + key_path + ": no PEM private key: " + OpenSslError());
  }
  if (X509_check_private_key(pair->cert, pair->key) != 1) {
    ERR_clear_error();
    return InvalidArgument("--tls-key " + key_path + " does not match --tls-cert " + cert_path);
  }
  char subject[256] = {0};
  X509_NAME_oneline(X509_get_subject_name(pair->cert), subject, sizeof(subject));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(pair->cert);
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  char* hex = bn ? BN_bn2hex(bn) : nullptr;
  pair->fingerprint = std::string(subject) + " serial " + (hex ? hex : "?");
  OPENSSL_free(hex);
  BN_free(bn);
  return std::shared_ptr<const KeyPair>(std::move(pair));
}

StatusOr<std::unique_ptr<TlsReloader>> TlsReloader::Create(Options options) {
  std::unique_ptr<TlsReloader> r(new TlsReloader(std::move(options)));
  FileStamp cs = Stamp(r->options_.cert_path);
  FileStamp ks = Stamp(r->options_.key_path);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const KeyPair> pair,
                         LoadPair(r->options_.cert_path, r->options_.key_path));
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Internal("SSL_CTX_new: " + OpenSslError());
  r->ctx_ = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // No session resumption (no tickets, no cache): a resumed session would keep the
  // certificate of its first handshake after a reload. Admission clients keep their
  // connections alive, so full handshakes are rare.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // Initial pair on the context too, so code that checks the context finds one.
  if (SSL_CTX_use_certificate(ctx, pair->cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, pair->key) != 1) {
    return Internal("SSL_CTX_use_certificate: " + OpenSslError());
  }
  SSL_CTX_set_cert_cb(ctx, &TlsReloader::CertCallback, r.get());
  {
    MutexLock lock(r->pair_mu_);
    r->pair_ = std::move(pair);
    r->cert_stamp_ = cs;
    r->key_stamp_ = ks;
  }
  TlsReloader* self = r.get();
  r->watcher_ = std::jthread([self](std::stop_token st) { self->WatchLoop(st); });
  return r;
}

std::shared_ptr<const TlsReloader::KeyPair> TlsReloader::Current() const {
  MutexLock lock(pair_mu_);
  return pair_;
}

std::string TlsReloader::CurrentFingerprint() const { return Current()->fingerprint; }

int TlsReloader::CertCallback(SSL* ssl, void* arg) {
  auto* self = static_cast<TlsReloader*>(arg);
  std::shared_ptr<const KeyPair> p = self->Current();
  // override = 1 replaces whatever the SSL inherited from the context.
  return SSL_use_cert_and_key(ssl, p->cert, p->key, p->chain, 1) == 1 ? 1 : 0;
}

Status TlsReloader::ReloadIfChanged() {
  FileStamp cs = Stamp(options_.cert_path);
  FileStamp ks = Stamp(options_.key_path);
  {
    MutexLock lock(pair_mu_);
    if (cs == cert_stamp_ && ks == key_stamp_) return Status::Ok();
    if (cs == failed_cert_stamp_ && ks == failed_key_stamp_) return Status::Ok();
  }
  auto pair = LoadPair(options_.cert_path, options_.key_path);
  Status result = pair.status();
  {
    MutexLock lock(pair_mu_);
    if (pair.ok()) {
      pair_ = std::move(pair).value();
      cert_stamp_ = cs;
      key_stamp_ = ks;
    } else {
      failed_cert_stamp_ = cs;
      failed_key_stamp_ = ks;
    }
  }
  if (options_.on_reload) options_.on_reload(result);
  return result;
}

void TlsReloader::WatchLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      MutexLock lock(wake_mu_);
      if (stopping_) return;
      (void)wake_.WaitFor(wake_mu_, options_.poll_interval);
      if (stopping_) return;
    }
    (void)ReloadIfChanged();  // outcome reported through on_reload
  }
}

}  // namespace ferry::webhook
