"""pytest fixtures for ferry's end-to-end tier (run as root; see docs/testing.md)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support", "kubelet"))

from ferry_kubelet import Node, Paths  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "ferry: needs ferry's own binaries in <build>/bin")


@pytest.fixture(scope="session")
def paths():
    if os.geteuid() != 0:
        pytest.skip("the e2e tier needs root (mount and network namespaces)")
    p = Paths()
    if not os.access(p.launcher, os.X_OK):
        pytest.skip("ferry-kubelet-run not built in %s" % p.build_dir)
    return p


@pytest.fixture
def node(paths):
    n = Node(paths)
    try:
        yield n
    finally:
        n.close()


def require(paths, *names):
    missing = [n for n in names if not paths.have(n)]
    if missing:
        pytest.skip("not built yet: %s (in %s)" % (", ".join(missing), paths.bin_dir))


@pytest.fixture(scope="session")
def webhook(paths, tmp_path_factory):
    from ferry_kubelet.webhook import Webhook
    require(paths, "ferry-webhook")
    w = Webhook(paths.binary("ferry-webhook"), str(tmp_path_factory.mktemp("webhook")))
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture
def ferry(paths, webhook, node):
    """Builds FerryPods on a fresh node; needs the whole sidecar."""
    from ferry_env import FerryPod
    require(paths, "ferry-propagator", "ferry-sidecar", "ferryctl")
    return lambda **kw: FerryPod(node, webhook, **kw)
