"""The kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go), byte for byte in behaviour.

A volume directory holds the payload in a timestamped directory `..YYYY_MM_DD_HH_MM_SS.<random>`,
a symlink `..data` to it, and one user-visible symlink per top-level path `key -> ..data/key`.
An update writes a new timestamped directory, points `..data_tmp` at it, renames `..data_tmp`
over `..data` (the atomic swap inotify watchers react to), adds new user-visible links, removes
the old ones and deletes the old directory. An unchanged payload writes nothing.
"""
import os
import shutil
import tempfile
import time

DATA_DIR = "..data"
DATA_TMP = "..data_tmp"


def _read_payload(ts_dir):
    out = {}
    for base, _dirs, files in os.walk(ts_dir):
        for f in files:
            p = os.path.join(base, f)
            rel = os.path.relpath(p, ts_dir)
            with open(p, "rb") as fh:
                out[rel] = (fh.read(), os.stat(p).st_mode & 0o7777)
    return out


def write(target_dir, payload):
    """payload: {relative path: (bytes, mode)}. Returns True when something was written."""
    for path in payload:
        if path.startswith("/") or ".." in path.split("/") or not path:
            raise ValueError("invalid payload path %r" % path)
    os.makedirs(target_dir, exist_ok=True)
    data_link = os.path.join(target_dir, DATA_DIR)
    old_ts = os.readlink(data_link) if os.path.islink(data_link) else None
    if old_ts is not None and _read_payload(os.path.join(target_dir, old_ts)) == payload:
        return False
    old_paths = set(_read_payload(os.path.join(target_dir, old_ts))) if old_ts else set()

    prefix = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    ts_dir = tempfile.mkdtemp(prefix=prefix, dir=target_dir)
    os.chmod(ts_dir, 0o755)
    for path, (content, mode) in payload.items():
        full = os.path.join(ts_dir, path)
        os.makedirs(os.path.dirname(full), mode=0o755, exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(content)
        os.chmod(full, mode)

    tmp_link = os.path.join(target_dir, DATA_TMP)
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(os.path.basename(ts_dir), tmp_link)
    os.rename(tmp_link, data_link)

    new_tops = {p.split("/")[0] for p in payload}
    for top in sorted(new_tops):
        link = os.path.join(target_dir, top)
        if not os.path.lexists(link):
            os.symlink(os.path.join(DATA_DIR, top), link)
    for top in sorted({p.split("/")[0] for p in old_paths} - new_tops):
        link = os.path.join(target_dir, top)
        if os.path.islink(link):
            os.unlink(link)
    if old_ts:
        shutil.rmtree(os.path.join(target_dir, old_ts), ignore_errors=True)
    return True
