"""ferry's kubelet emulator: runs a pod the way a kubelet and container runtime would.

See docs/testing.md. Pieces:
  apiserver      AdmissionReview in/out, RFC 6902 patch, OpenAPI pruning and pod validation
  webhook        test CA (openssl CLI) and a real ferry-webhook process over TLS
  atomic_writer  projected ConfigMap/Secret volumes with the ..data swap
  node, pod      namespaces, volumes and containers through ferry-kubelet-run
"""
from .node import Node, Paths  # noqa: F401
from .pod import Pod, PodError  # noqa: F401
