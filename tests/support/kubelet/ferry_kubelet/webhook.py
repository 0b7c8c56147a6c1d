"""A real ferry-webhook over TLS, with a fresh test CA made by the openssl CLI."""
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import time


def make_certs(directory, sans=("IP:127.0.0.1", "DNS:localhost",
                                "DNS:ferry-webhook.ferry-system.svc")):
    """Creates ca.pem, tls.crt and tls.key in `directory`; returns their paths."""
    os.makedirs(directory, exist_ok=True)
    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, crt = (os.path.join(directory, n) for n in ("tls.key", "tls.csr", "tls.crt"))
    ext = os.path.join(directory, "san.ext")
    with open(ext, "w") as fh:
        fh.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % ",".join(sans))

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "1", "-subj", "/CN=ferry-test-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=ferry-webhook.ferry-system.svc")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "1", "-extfile", ext)
    return ca, crt, key


class Webhook:
    """ferry-webhook --listen 127.0.0.1:0 --tls-cert --tls-key [--config]; stop() ends it."""

    def __init__(self, binary, workdir, config_text=None, timeout=15, flags=()):
        """`flags`: more ferry-webhook flags (e.g. the ones a chart renders)."""
        self.workdir = workdir
        self.ca, crt, key = make_certs(os.path.join(workdir, "tls"))
        args = [binary, "--listen", "127.0.0.1:0", "--tls-cert", crt, "--tls-key", key]
        if config_text is not None:
            cfg = os.path.join(workdir, "webhook.yaml")
            with open(cfg, "w") as fh:
                fh.write(config_text)
            args += ["--config", cfg]
        args += list(flags)
        self.log_path = os.path.join(workdir, "webhook.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        pattern = re.compile(r"listening on https://([0-9.]+):(\d+)")
        while True:
            m = pattern.search(self.log())
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("ferry-webhook did not start:\n" + self.log())
            time.sleep(0.01)
        self.context = ssl.create_default_context(cafile=self.ca)

    def log(self):
        with open(self.log_path, "rb") as fh:
            return fh.read().decode(errors="replace")

    def post(self, path, body):
        """POSTs JSON over TLS (verified against the test CA); returns (status, parsed body)."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=10)
        try:
            data = json.dumps(body).encode()
            conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
        finally:
            conn.close()

    def mutate(self, review):
        try:
            status, answer = self.post("/mutate", review)
        except (OSError, http.client.HTTPException) as e:
            raise RuntimeError("POST /mutate failed (%s); ferry-webhook %s; its log:\n%s" % (
                e, "exited with %s" % self.proc.poll() if self.proc.poll() is not None
                else "is running", self.log()[-3000:])) from e
        if status != 200:
            raise RuntimeError("POST /mutate: HTTP %d: %r" % (status, answer))
        return answer

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
