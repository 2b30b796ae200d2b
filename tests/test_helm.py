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
drain and the shutdown grace, the workers (`memrpc worker`) share the
servers' Redis and are selected by no Service.
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


WORKER = "memrpc-worker"  # the workers' Deployment, beside the servers' "memrpc"
WITH_WORKERS = ("--set", "worker.enabled=true", "--set", "redis.url=redis://r:6379")


def deployments(stream: str) -> dict[str, dict[str, Any]]:
    """The rendered Deployments by name."""
    found = (each for each in objects(stream) if each["kind"] == "Deployment")
    return {each["metadata"]["name"]: each for each in found}


def deployment(stream: str) -> dict[str, Any]:
    """The servers' Deployment."""
    return deployments(stream)["memrpc"]


def the_container(found: dict[str, Any]) -> dict[str, Any]:
    (container,) = found["spec"]["template"]["spec"]["containers"]
    return container


def env_of(found: dict[str, Any]) -> dict[str, str]:
    """A Deployment's container's variables (the last of a name wins, as in Kubernetes)."""
    return {each["name"]: each["value"] for each in the_container(found)["env"]}


def container_env(stream: str) -> dict[str, str]:
    return env_of(deployment(stream))


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


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
        expected |= {"ServiceMonitor", "PrometheusRule", "ConfigMap", "PodMonitor"}
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
        (["worker.enabled=true"], "worker.enabled needs redis.url"),
        (["jobs.share=0"], "/jobs/share"),
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


def test_an_upgrade_that_cannot_roll_recreates_servers_and_workers(tools: Tools) -> None:
    """`strategy.type=Recreate`: for releases that cannot run side by side
    (docs/deployment.md#which-versions-can-run-side-by-side)."""
    external = ("--set", "replicaCount=2", "--set", "redis.url=redis://r:6379")
    stream = tools.render(None, *external, *WITH_WORKERS, "--set", "strategy.type=Recreate")
    assert {name: d["spec"]["strategy"]["type"] for name, d in deployments(stream).items()} == {
        "memrpc": "Recreate",
        WORKER: "Recreate",
    }
    rolled = tools.render(None, *external, *WITH_WORKERS)
    assert {d["spec"]["strategy"]["type"] for d in deployments(rolled).values()} == {
        "RollingUpdate"
    }


def test_embedded_redis_keeps_its_data_on_a_claim_and_never_shares_it(tools: Tools) -> None:
    spec = deployment(tools.render(None))["spec"]
    assert spec["strategy"]["type"] == "Recreate"
    (data,) = (each for each in spec["template"]["spec"]["volumes"] if each["name"] == "data")
    assert data["persistentVolumeClaim"]["claimName"] == "memrpc-data"


def test_the_server_gets_only_its_own_settings(rendered: tuple[str, str]) -> None:
    """Every MEMRPC_* variable the chart sets, for servers and workers, is a
    setting, with a value it takes, and the whole set passes the server's
    own validation."""
    for found in deployments(rendered[1]).values():
        env = env_of(found)
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


# -- workers (memrpc worker)


def test_workers_render_only_when_enabled_and_then_take_the_jobs(tools: Tools) -> None:
    """Without workers the servers run the jobs; with them the servers do
    not, unless jobs.inServer says so."""
    alone = tools.render(None)
    assert set(deployments(alone)) == {"memrpc"}
    assert "PodMonitor" not in {each["kind"] for each in objects(alone)}
    assert container_env(alone)["MEMRPC_JOBS"] == "true"
    assert (
        container_env(tools.render(None, "--set", "jobs.inServer=false"))["MEMRPC_JOBS"] == "false"
    )
    with_workers = tools.render(None, *WITH_WORKERS)
    assert set(deployments(with_workers)) == {"memrpc", WORKER}
    assert container_env(with_workers)["MEMRPC_JOBS"] == "false"
    both = tools.render(None, *WITH_WORKERS, "--set", "jobs.inServer=true")
    assert container_env(both)["MEMRPC_JOBS"] == "true"


def test_workers_run_memrpc_worker_on_the_servers_redis(tools: Tools) -> None:
    stream = tools.render(
        VALUES["production"],
        "--set",
        "worker.replicas=3",
        "--set",
        "worker.extraEnv[0].name=MEMRPC_JOB_CLAIM_IDLE",
        "--set-string",
        "worker.extraEnv[0].value=60",
    )
    found = deployments(stream)[WORKER]
    container = the_container(found)
    assert found["spec"]["replicas"] == 3
    assert container["command"] == ["/opt/memrpc/bin/memrpc", "worker"]
    assert "args" not in container
    env, servers = env_of(found), container_env(stream)
    shared = ("MEMRPC_REDIS_URL", "MEMRPC_REDIS_PASSWORD_FILE", "MEMRPC_EMBED_THREADS")
    assert {name: env[name] for name in shared} == {name: servers[name] for name in shared}
    assert env["MEMRPC_JOB_CLAIM_IDLE"] == "60"
    # The password file is in the mounted Secret; no gRPC, no credentials.
    mounts = [each["mountPath"] for each in container["volumeMounts"]]
    assert any(env["MEMRPC_REDIS_PASSWORD_FILE"].startswith(mount + "/") for mount in mounts)
    assert not {"MEMRPC_LISTEN", "MEMRPC_AUTH_KEYS_FILE", "MEMRPC_TLS_CERT_FILE"} & set(env)
    assert [port["name"] for port in container["ports"]] == ["metrics"]
    grace = found["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= float(env["MEMRPC_SHUTDOWN_GRACE"]) + 5


@pytest.mark.parametrize("values", sorted(VALUES))
def test_no_service_or_budget_selects_the_workers(tools: Tools, values: str) -> None:
    """The servers' selectors (immutable) match the servers' pods, never the
    workers', which their own Deployment selects."""
    stream = tools.render(VALUES[values], *WITH_WORKERS)
    found = deployments(stream)
    pods = {name: each["spec"]["template"]["metadata"]["labels"] for name, each in found.items()}
    assert pods[WORKER]["app.kubernetes.io/component"] == "worker"
    assert selects(found[WORKER]["spec"]["selector"]["matchLabels"], pods[WORKER])
    assert not selects(found[WORKER]["spec"]["selector"]["matchLabels"], pods["memrpc"])
    selectors = {
        each["kind"]: each["spec"]["selector"].get("matchLabels", each["spec"]["selector"])
        for each in objects(stream)
        if each["kind"] in {"Service", "PodDisruptionBudget"}
    }
    assert set(selectors) == {"Service", "PodDisruptionBudget"}
    for selector in selectors.values():
        assert selects(selector, pods["memrpc"])
        assert not selects(selector, pods[WORKER])


def test_workers_are_scraped_and_probed_on_their_metrics_port(tools: Tools) -> None:
    """No gRPC port: liveness is the metrics endpoint, a PodMonitor scrapes
    it under a job the alert rules name."""
    stream = tools.render(VALUES["production"])
    container = the_container(deployments(stream)[WORKER])
    (port,) = container["ports"]
    assert (
        f"0.0.0.0:{port['containerPort']}"
        == env_of(deployments(stream)[WORKER])["MEMRPC_METRICS_LISTEN"]
    )
    assert container["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": port["name"]}
    assert not {"readinessProbe", "startupProbe"} & set(container)
    (monitor,) = (each for each in objects(stream) if each["kind"] == "PodMonitor")
    pods = deployments(stream)[WORKER]["spec"]["template"]["metadata"]["labels"]
    assert selects(monitor["spec"]["selector"]["matchLabels"], pods)
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == port["name"]
    (relabel,) = endpoint["relabelings"]
    assert relabel == {"targetLabel": "job", "replacement": WORKER}
    (rules,) = (each for each in objects(stream) if each["kind"] == "PrometheusRule")
    alerts = {rule["alert"]: rule["expr"] for rule in rules["spec"]["groups"][0]["rules"]}
    for name in ("MemrpcJobLag", "MemrpcJobDeadLetters", "MemrpcDown", "MemrpcRedisErrors"):
        assert f'job=~"memrpc|{WORKER}"' in alerts[name], name


def test_workers_without_metrics_have_no_port_and_no_probe(tools: Tools) -> None:
    stream = tools.render(None, *WITH_WORKERS, "--set", "metrics.enabled=false")
    container = the_container(deployments(stream)[WORKER])
    assert "ports" not in container
    assert "livenessProbe" not in container
    assert "MEMRPC_METRICS_LISTEN" not in env_of(deployments(stream)[WORKER])
