"""The real webhook's answer, checked the way the apiserver would use it (needs only
ferry-webhook): the patch applies strictly, no field is unknown to the 1.35 schema, ValidatePod
passes, the sidecar is where the contract says, and a second pass is a no-op."""
import glob
import os

import pytest
from ferry_env import EXAMPLES, FALLBACK_DEPLOYMENT, NAMESPACE
from ferry_kubelet import apiserver
from ferry_kubelet import inject as inj


def manifests():
    found = []
    for path in sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml"))):
        for doc in inj.load_manifests(path):
            try:
                inj.pod_from_manifest(doc)
            except (ValueError, KeyError, TypeError):
                continue
            found.append(pytest.param(doc, id="%s:%s" % (os.path.basename(path), doc["kind"])))
    return found or [pytest.param(FALLBACK_DEPLOYMENT, id="fallback-deployment")]


@pytest.mark.parametrize("manifest", manifests())
def test_injected_pod_is_what_the_contract_says(webhook, manifest):
    result = inj.inject(webhook, inj.pod_from_manifest(manifest), NAMESPACE)
    assert result.unknown_fields == []
    assert result.errors == []
    spec = result.pod["spec"]
    sidecar = result.container("ferry-sidecar")
    assert sidecar["restartPolicy"] == "Always"
    assert sidecar["startupProbe"]["exec"]["command"][0] == "ferryctl"
    assert sidecar["command"] == ["ferry-propagator"]
    mounts = {m["name"]: m for m in sidecar["volumeMounts"]}
    assert mounts["ferry-mnt"]["mountPropagation"] == "Bidirectional"
    assert mounts["ferry-config"]["readOnly"] is True and "subPath" not in mounts["ferry-config"]
    vols = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in vols["ferry-mnt"] and "medium" not in vols["ferry-mnt"]["emptyDir"]
    assert all(s[k].get("optional") for s in vols["ferry-config"]["projected"]["sources"]
               for k in s)
    for c in (c for c in spec["containers"] if c["name"] != "queue-proxy"):
        m = next(m for m in c["volumeMounts"] if m["name"] == "ferry-mnt")
        assert m["mountPropagation"] == "HostToContainer" and m["readOnly"] is True
        assert all(m["name"] != "ferry-config" for m in c["volumeMounts"])
    # Fixed point: the injected pod sent again gets no patch.
    again = apiserver.review(result.pod, NAMESPACE)
    answer = webhook.mutate(again)
    assert answer["response"]["allowed"] is True
    assert "patch" not in answer["response"]


def test_non_create_and_opt_out_get_no_patch(webhook):
    pod = inj.pod_from_manifest(FALLBACK_DEPLOYMENT)
    for op in ("UPDATE", "DELETE", "CONNECT"):
        answer = webhook.mutate(apiserver.review(pod, NAMESPACE, operation=op))
        assert answer["response"]["allowed"] is True and "patch" not in answer["response"], op
    pod["metadata"]["annotations"] = {"ferry.io/inject": "false"}
    answer = webhook.mutate(apiserver.review(pod, NAMESPACE))
    assert "patch" not in answer["response"]
