"""deploy/k8s/: schema-valid Kubernetes objects, wired to each other and to the daemon.

`kubectl apply --dry-run=client` needs an API server even with --validate=false (it asks the
server which kinds exist), so it cannot run here. Instead:
- every object is validated against the Kubernetes OpenAPI schemas shipped by the
  `kubernetes-validate` package, in strict mode (unknown fields are errors), for the oldest and
  newest Kubernetes versions we support;
- when kubectl is installed, `kubectl kustomize deploy/k8s` builds the real output (generated
  ConfigMaps with their hash names) and that output is validated the same way;
- the references between objects (ConfigMap keys, Secret, selectors, ports, probes) and the
  container's command line are checked here, since no schema sees them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import DEPLOY, REPO, cli_problem

kv = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate (a dev dependency) is not installed"
)

K8S = DEPLOY / "k8s"
VERSIONS = ["1.29.0", kv.latest_version()]  # oldest supported Kubernetes, newest schemas
APP_LABELS = {"app.kubernetes.io/name": "monitor", "app.kubernetes.io/component": "daemon"}


@cache
def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


@cache
def raw_objects() -> tuple[dict[str, Any], ...]:
    objects = []
    for name in kustomization()["resources"]:
        objects += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return tuple(objects)


@cache
def generated() -> dict[str, dict[str, Path]]:
    """ConfigMap name -> {key: file} from configMapGenerator (keys are file names)."""
    out: dict[str, dict[str, Path]] = {}
    for gen in kustomization().get("configMapGenerator", []):
        out[gen["name"]] = {Path(f).name: K8S / f for f in gen.get("files", [])}
    return out


@cache
def built_objects() -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; `kubectl kustomize` builds the real output")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def one(objects: tuple[dict[str, Any], ...], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"{kind} {name or ''}: found {len(found)}"
    return found[0]


def deployment() -> dict[str, Any]:
    return one(raw_objects(), "Deployment", "monitor")


def pod_spec() -> dict[str, Any]:
    return deployment()["spec"]["template"]["spec"]


def container() -> dict[str, Any]:
    containers = pod_spec()["containers"]
    assert len(containers) == 1
    return containers[0]


def _validate(obj: dict[str, Any], version: str) -> None:
    try:
        kv.validate(obj, version, strict=True)
    except kv.ValidationError as exc:  # pragma: no cover - the message is the point
        pytest.fail(f"{obj['kind']} {obj['metadata'].get('name')}: {str(exc)[:1500]}")


# --- schemas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_file_is_schema_valid(version: str) -> None:
    for obj in raw_objects():
        _validate(obj, version)


@pytest.mark.parametrize("version", VERSIONS)
def test_kustomize_output_is_schema_valid(version: str) -> None:
    objects = built_objects()
    kinds = sorted({o["kind"] for o in objects})
    assert kinds == sorted(
        {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "StatefulSet"}
        | {"PodDisruptionBudget"}
    )
    for obj in objects:
        _validate(obj, version)


def test_strict_validation_catches_a_typo() -> None:
    """Guards the guard: a misspelt field is an error, not silently dropped."""
    obj = yaml.safe_load((K8S / "pdb.yaml").read_text())
    obj["spec"]["minAvailabel"] = 1
    with pytest.raises(kv.ValidationError):
        kv.validate(obj, VERSIONS[-1], strict=True)


def test_kustomize_uses_the_generated_names_everywhere() -> None:
    objects = built_objects()
    maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    for name in generated():
        assert any(re.fullmatch(rf"{name}-[a-z0-9]{{10}}", m) for m in maps), name
    spec = one(objects, "Deployment", "monitor")["spec"]["template"]["spec"]
    used = {v["configMap"]["name"] for v in spec["volumes"] if "configMap" in v}
    for volume in spec["volumes"]:
        for source in volume.get("projected", {}).get("sources", []):
            used.add(source["configMap"]["name"])
    assert used == maps, "every ConfigMap is mounted under its hash name"
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        kustomization()["namespace"]
    }


# --- references -------------------------------------------------------------------------------


def test_generator_files_exist() -> None:
    for files in generated().values():
        for path in files.values():
            assert path.is_file(), path


def test_volumes_reference_existing_configmaps_and_keys() -> None:
    maps = generated()
    for volume in pod_spec()["volumes"]:
        sources = (
            [volume] if "configMap" in volume else volume.get("projected", {}).get("sources", [])
        )
        for source in sources:
            ref = source["configMap"]
            assert ref["name"] in maps, f"volume {volume['name']}: no ConfigMap {ref['name']}"
            for item in ref.get("items", []):
                assert item["key"] in maps[ref["name"]], (
                    f"{ref['name']} has no key {item['key']}: the pod would not start"
                )


def test_entities_land_in_rules_entities() -> None:
    rules = next(v for v in pod_spec()["volumes"] if v["name"] == "rules")
    entities = [
        s["configMap"] for s in rules["projected"]["sources"] if s["configMap"].get("items")
    ]
    assert entities, "entity files need items: a ConfigMap is flat"
    for ref in entities:
        keys = set(generated()[ref["name"]])
        assert {i["key"] for i in ref["items"]} == keys, "every entity file is mounted"
        assert all(i["path"].startswith("entities/") for i in ref["items"])


def test_monitor_config_points_at_the_mounted_file() -> None:
    env = {e["name"]: e.get("value") for e in container()["env"]}
    config = Path(env["MONITOR_CONFIG"])
    mount = next(m for m in container()["volumeMounts"] if m["mountPath"] == str(config.parent))
    volume = next(v for v in pod_spec()["volumes"] if v["name"] == mount["name"])
    assert config.name in generated()[volume["configMap"]["name"]]
    assert env["MONITOR_HTTP_LISTEN"].endswith(":9108")


def test_secret_is_referenced_and_holds_placeholders_only() -> None:
    secret = one(raw_objects(), "Secret", "monitor-secrets")
    names = {e["secretRef"]["name"] for e in container()["envFrom"]}
    assert names == {"monitor-secrets"}
    data = secret["stringData"]
    assert set(data) >= {"REDIS_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID", "SLACK_WEBHOOK_URL"}
    text = (K8S / "secret.yaml").read_text()
    assert "PLACEHOLDER" in text
    for key, value in data.items():
        assert not re.search(
            r"\d{6,}:[\w-]{30,}|xox[abpr]-|hooks\.slack\.com/services/\w", value
        ), f"{key} looks like a real secret"


def test_redis_url_names_the_bundled_redis_service() -> None:
    url = one(raw_objects(), "Secret", "monitor-secrets")["stringData"]["REDIS_URL"]
    host = re.match(r"rediss?://(?:[^@]*@)?([^:/]+)", url).group(1)
    service = one(raw_objects(), "Service", host)
    assert service["spec"]["ports"][0]["port"] == int(re.search(r":(\d+)", url[8:]).group(1))


def test_every_mount_has_a_volume() -> None:
    volumes = {v["name"] for v in pod_spec()["volumes"]}
    mounts = {m["name"] for m in container()["volumeMounts"]}
    assert mounts == volumes


# --- the Deployment ---------------------------------------------------------------------------


def test_container_runs_a_real_command() -> None:
    argv = container()["command"] + container()["args"]
    assert argv == ["monitor", "run"]
    assert cli_problem(argv) is None


def test_replicas_and_rollout() -> None:
    spec = deployment()["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"] == APP_LABELS
    assert APP_LABELS.items() <= spec["template"]["metadata"]["labels"].items()
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_security_context() -> None:
    pod = pod_spec()["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] == 10001, "the image's USER"
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"
    ctr = container()["securityContext"]
    assert ctr["readOnlyRootFilesystem"] is True
    assert ctr["allowPrivilegeEscalation"] is False
    assert ctr["capabilities"]["drop"] == ["ALL"]
    assert pod_spec()["automountServiceAccountToken"] is False


def test_writable_paths_are_empty_dirs() -> None:
    mounts = {m["mountPath"]: m["name"] for m in container()["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec()["volumes"]}
    for path in ("/app/var", "/tmp"):
        assert "emptyDir" in volumes[mounts[path]], path
    for path in ("/app/config", "/app/rules"):
        mount = next(m for m in container()["volumeMounts"] if m["mountPath"] == path)
        assert mount["readOnly"] is True


def test_resources() -> None:
    resources = container()["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert "memory" in resources["limits"]


def test_probes() -> None:
    ctr = container()
    port_names = {p["name"]: p["containerPort"] for p in ctr["ports"]}
    assert port_names == {"metrics": 9108}
    paths = {}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = ctr[probe]["httpGet"]
        assert get["port"] in port_names
        paths[probe] = get["path"]
    assert paths == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    startup = ctr["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_termination_grace_period_covers_the_drain() -> None:
    assert 20 < pod_spec()["terminationGracePeriodSeconds"] <= 60


def test_config_change_rolls_the_pods() -> None:
    """Hash-suffixed ConfigMaps (the default) roll the pods; the checksum annotation is the
    documented alternative."""
    options = kustomization().get("generatorOptions", {})
    assert not options.get("disableNameSuffixHash")
    assert "checksum/config" in (K8S / "deployment.yaml").read_text()


# --- Service, PDB, Redis ------------------------------------------------------------------------


def test_metrics_service() -> None:
    svc = one(raw_objects(), "Service", "monitor-metrics")
    assert svc["spec"]["selector"] == APP_LABELS
    assert svc["spec"]["ports"] == [
        {"name": "metrics", "port": 9108, "targetPort": "metrics", "protocol": "TCP"}
    ]
    notes = svc["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true" and notes["prometheus.io/port"] == "9108"
    assert notes["prometheus.io/path"] == "/metrics"
    assert svc["spec"]["publishNotReadyAddresses"] is True


def test_pdb_selects_the_pods() -> None:
    pdb = one(raw_objects(), "PodDisruptionBudget", "monitor")
    assert pdb["spec"]["selector"]["matchLabels"] == APP_LABELS
    assert pdb["spec"]["minAvailable"] == 1


def test_redis_statefulset() -> None:
    sts = one(raw_objects(), "StatefulSet", "monitor-redis")
    spec = sts["spec"]["template"]["spec"]
    args = " ".join(spec["containers"][0]["args"])
    assert "--appendonly yes" in args
    assert "--maxmemory-policy noeviction" in args
    claim = sts["spec"]["volumeClaimTemplates"][0]
    mount = spec["containers"][0]["volumeMounts"][0]
    assert (mount["name"], mount["mountPath"]) == (claim["metadata"]["name"], "/data")
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert sts["spec"]["serviceName"] == "monitor-redis"


# --- the files the pods read ----------------------------------------------------------------------


def test_config_loads_with_redis_and_refuses_without() -> None:
    from monitor.config import load_config
    from monitor.errors import ConfigError

    path = K8S / "monitor.yaml"
    loaded = load_config(path, env={"REDIS_URL": "redis://monitor-redis:6379/0"})
    assert loaded.config.store.url == "redis://monitor-redis:6379/0"
    assert loaded.rules_path == Path("/app/rules")
    assert set(loaded.disabled_sinks) == {"desk", "slack-alerts"}, "optional until secrets exist"
    for env in ({}, {"REDIS_URL": ""}):
        with pytest.raises(ConfigError):
            load_config(path, env=env)  # no silent fallback to a per-pod embedded store


def test_example_rules_pass_the_rule_checker(tmp_path: Path) -> None:
    """The rules as the pod sees them (/app/rules with entities/) pass `monitor rules check`
    and `monitor rules test`."""
    try:
        from monitor.matching import tools
    except ImportError:
        pytest.skip("the rule checker (monitor.matching.tools) is not in this checkout yet")
    rules = tmp_path / "rules"
    (rules / "entities").mkdir(parents=True)
    for name, files in generated().items():
        if name == "monitor-config":
            continue
        for key, path in files.items():
            target = rules / "entities" / key if name == "monitor-entities" else rules / key
            target.write_bytes(path.read_bytes())
    import io

    out = io.StringIO()
    assert tools.rules_check(rules, out) == 0, out.getvalue()
    out = io.StringIO()
    assert tools.rules_test(rules, out) == 0, out.getvalue()  # each rule's own examples


def test_example_rules_follow_the_documented_shape() -> None:
    for key, path in generated()["monitor-rules"].items():
        rule = yaml.safe_load(path.read_text())
        assert {"id", "title", "level"} <= set(rule), key
        assert "keywords" in rule or "match" in rule, key
        assert rule["examples"]["match"] and rule["examples"]["no_match"], key
    entities = yaml.safe_load(generated()["monitor-entities"]["places.yaml"].read_text())
    ids = {e["id"] for e in entities}
    for path in generated()["monitor-rules"].values():
        for ref in re.findall(r'"@([\w-]+)"', path.read_text()):
            assert ref in ids, f"{path.name}: unknown entity @{ref}"
    assert REPO.joinpath("deploy", "k8s", "rules").is_dir()
