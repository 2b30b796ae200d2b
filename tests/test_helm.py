"""The Helm chart (deploy/helm/memrpc) and compose.yaml, without a cluster
or a container engine.

The chart is linted and rendered with helm itself, for the default values and
for deploy/values-production.yaml, and every rendered object is decoded
strictly into its Kubernetes (or prometheus-operator) Go type by
deploy/validate. tools/build-helm-tools builds both into .tools/ once per
machine; without Go the tests skip loudly, or fail under
MEMRPC_REQUIRE_ALL_LANGS=1 (CI). Cold (no .tools/, Go build cache empty)
this module takes about 5.5 min on 2 shared cores, warm about 5 s.

The rest checks what the chart and the compose file promise about memrpc
itself, against the code: every variable set is a setting of config.py, the
probes name the server's health services, the termination grace covers the
drain and the shutdown grace.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from memrpc import metrics
from memrpc.config import SETTINGS, Settings
from memrpc.server import LIVENESS_SERVICE
from support import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "memrpc"
VALUES = {"default": None, "production": ROOT / "deploy" / "values-production.yaml"}
SKIP = 77  # tools/build-helm-tools: the Go toolchain is missing
BUILD_TIMEOUT_S = 1200
RUN_TIMEOUT_S = 120
ENV = {each.env: each for each in SETTINGS}
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + 4 * RUN_TIMEOUT_S)


class Tools:
    def __init__(self, helm: str, validate: str) -> None:
        self.helm = helm
        self.validate = validate

    def run_helm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.helm, *args], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )

    def validate_stream(self, stream: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.validate],
            input=stream,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )

    def render(self, values: Path | None, *flags: str) -> str:
        extra = ["-f", str(values)] if values else []
        result = self.run_helm("template", "memrpc", str(CHART), *extra, *flags)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="session")
def tools() -> Tools:
    """helm and deploy/validate, built once per session (and cached in .tools/)."""
    result = subprocess.run(
        [str(ROOT / "tools" / "build-helm-tools")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if result.returncode == SKIP:
        skip_or_fail(f"helm chart checks: {result.stderr.strip()}")
    assert result.returncode == 0, f"tools/build-helm-tools failed:\n{result.stderr}"
    helm, validate = result.stdout.split()
    return Tools(helm, validate)


@pytest.fixture(params=sorted(VALUES), scope="session")
def rendered(request: pytest.FixtureRequest, tools: Tools) -> tuple[str, str]:
    """The chart rendered with one of the values files: (its name, the YAML stream)."""
    return request.param, tools.render(VALUES[request.param])


def objects(stream: str) -> Iterator[dict[str, Any]]:
    return (each for each in yaml.safe_load_all(stream) if each)


def deployment(stream: str) -> dict[str, Any]:
    (found,) = (each for each in objects(stream) if each["kind"] == "Deployment")
    return found


def container_env(stream: str) -> dict[str, str]:
    (container,) = deployment(stream)["spec"]["template"]["spec"]["containers"]
    return {each["name"]: each["value"] for each in container["env"]}


@pytest.mark.parametrize("values", sorted(VALUES))
def test_chart_lints(tools: Tools, values: str) -> None:
    extra = ["-f", str(VALUES[values])] if VALUES[values] else []
    result = tools.run_helm("lint", "--strict", str(CHART), *extra)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rendered_object_decodes_strictly(tools: Tools, rendered: tuple[str, str]) -> None:
    name, stream = rendered
    result = tools.validate_stream(stream)
    assert result.returncode == 0, result.stderr
    kinds = {line.split()[2] for line in result.stdout.splitlines()}
    expected = {"Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"}
    if name == "production":
        expected |= {"ServiceMonitor", "PrometheusRule", "ConfigMap"}
    else:
        expected |= {"PersistentVolumeClaim"}
    assert kinds == expected


def test_validate_refuses_an_unknown_field(tools: Tools) -> None:
    """The strict decoding is strict: a misspelt field fails."""
    stream = tools.render(None).replace("readinessProbe:", "readinessProbes:")
    result = tools.validate_stream(stream)
    assert result.returncode == 1
    assert "readinessProbes" in result.stderr


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (["replicaCount=2"], "replicaCount 2 needs an external Redis: set redis.url"),
        (["auth.keysSecret.name="], "refuses to serve beyond loopback without credentials"),
        (["redis.passwordSecret.name=pw"], "redis.passwordSecret needs redis.url"),
        (["tls.clientCaSecret.name=ca"], "tls.clientCaSecret needs tls.secretName"),
        (["server.workers=0"], "/server/workers"),
        (["server.terminationSlack=2"], "/server/terminationSlack"),
        (["redis.url=http://r"], "/redis/url"),
    ],
)
def test_values_that_could_not_serve_do_not_render(
    tools: Tools, flags: list[str], reason: str
) -> None:
    sets = [arg for flag in flags for arg in ("--set", flag)]
    refused = tools.run_helm("template", "memrpc", str(CHART), *sets)
    assert refused.returncode != 0
    assert reason in refused.stderr


def test_several_replicas_on_an_external_redis_roll(tools: Tools) -> None:
    stream = tools.render(None, "--set", "replicaCount=2", "--set", "redis.url=redis://r:6379")
    assert deployment(stream)["spec"]["strategy"]["type"] == "RollingUpdate"
    assert "PersistentVolumeClaim" not in {each["kind"] for each in objects(stream)}


def test_embedded_redis_keeps_its_data_on_a_claim_and_never_shares_it(tools: Tools) -> None:
    spec = deployment(tools.render(None))["spec"]
    assert spec["strategy"]["type"] == "Recreate"
    (data,) = (each for each in spec["template"]["spec"]["volumes"] if each["name"] == "data")
    assert data["persistentVolumeClaim"]["claimName"] == "memrpc-data"


def test_the_server_gets_only_its_own_settings(rendered: tuple[str, str]) -> None:
    """Every MEMRPC_* variable the chart sets is a setting, with a value it
    takes, and the whole set passes the server's own validation."""
    env = container_env(rendered[1])
    values = {ENV[name].name: ENV[name].parse(text) for name, text in env.items()}
    Settings(**values).validate()


def test_probes_read_the_servers_health(tools: Tools) -> None:
    """Readiness follows Redis and the drain (""); liveness does not follow
    Redis, so an outage restarts no pod."""
    (container,) = deployment(tools.render(None))["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["grpc"] == {"port": 50051, "service": ""}
    assert container["livenessProbe"]["grpc"] == {"port": 50051, "service": LIVENESS_SERVICE}
    assert container["startupProbe"]["grpc"]["service"] == LIVENESS_SERVICE
    assert container["ports"][0] == {"name": "grpc", "containerPort": 50051, "protocol": "TCP"}


def test_probes_under_tls_check_the_port(tools: Tools) -> None:
    """The kubelet's gRPC probes speak plaintext: under TLS they would fail."""
    stream = tools.render(None, "--set", "tls.secretName=memrpc-tls")
    (container,) = deployment(stream)["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert "grpc" not in container[probe]
        assert container[probe]["tcpSocket"] == {"port": "grpc"}


def test_service_port_is_declared_grpc(rendered: tuple[str, str]) -> None:
    (service,) = (each for each in objects(rendered[1]) if each["kind"] == "Service")
    assert service["spec"]["ports"][0]["appProtocol"] == "grpc"
    assert service["spec"]["ports"][0]["name"] == "grpc"


def test_termination_grace_outlasts_drain_and_shutdown_grace(rendered: tuple[str, str]) -> None:
    stream = rendered[1]
    env = container_env(stream)
    bound = float(env["MEMRPC_DRAIN_DELAY"]) + float(env["MEMRPC_SHUTDOWN_GRACE"])
    # The worker supervisor waits drain + grace + 5 s before its own SIGKILL.
    grace = deployment(stream)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= bound + 5


def test_secrets_are_mounted_files_the_server_reads(rendered: tuple[str, str]) -> None:
    """Each *_FILE setting points into a mounted volume (a whole Secret, not a
    subPath, so that rotation reaches the file)."""
    stream = rendered[1]
    (container,) = deployment(stream)["spec"]["template"]["spec"]["containers"]
    mounts = [each["mountPath"] for each in container["volumeMounts"]]
    assert all("subPath" not in each for each in container["volumeMounts"])
    files = {name: path for name, path in container_env(stream).items() if name.endswith("_FILE")}
    assert "MEMRPC_AUTH_KEYS_FILE" in files
    for name, path in files.items():
        assert any(path.startswith(mount + "/") for mount in mounts), (name, path)


def test_production_values_spread_over_an_external_redis(tools: Tools) -> None:
    stream = tools.render(VALUES["production"])
    env = container_env(stream)
    assert deployment(stream)["spec"]["replicas"] == 3
    assert urlsplit(env["MEMRPC_REDIS_URL"]).password is None
    assert {"MEMRPC_REDIS_PASSWORD_FILE", "MEMRPC_TLS_CERT_FILE", "MEMRPC_TLS_KEY_FILE"} <= set(env)
    (configmap,) = (each for each in objects(stream) if each["kind"] == "ConfigMap")
    dashboard = yaml.safe_load(configmap["data"]["memrpc.json"])  # JSON is YAML
    assert dashboard["panels"]


def test_alerts_and_dashboard_name_the_servers_metrics() -> None:
    """templates/_metrics.tpl names metrics the server exports."""
    exported = {family.name for family in metrics.REGISTRY.collect()}
    names = re.findall(r"-}}(memrpc_\w+){{", (CHART / "templates" / "_metrics.tpl").read_text())
    assert len(names) == 7
    for name in names:
        assert name.removesuffix("_total") in exported, name


# -- compose.yaml


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_runs_memrpc_on_its_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"memrpc", "redis"}
    memrpc = services["memrpc"]
    assert memrpc["build"] == "."
    assert memrpc["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert urlsplit(memrpc["environment"]["MEMRPC_REDIS_URL"]).hostname == "redis"
    for service in services.values():
        assert service["healthcheck"]["test"][0] == "CMD"
    (volume,) = services["redis"]["volumes"]
    assert volume.split(":")[0] in compose["volumes"]


def test_compose_gives_memrpc_only_its_own_settings(compose: dict[str, Any]) -> None:
    env = compose["services"]["memrpc"]["environment"]
    values = {ENV[name].name: ENV[name].parse(text) for name, text in env.items()}
    Settings(**values).validate()
    stop = int(compose["services"]["memrpc"]["stop_grace_period"].removesuffix("s"))
    assert stop > values["drain_delay"] + values["shutdown_grace"]
