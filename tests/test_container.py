"""The container image (Dockerfile), built and run with podman as a user would.

The image is built from a Debian base made here with debootstrap
(`tools/container-base`: no container registry is reachable), with the
settings of `tools/containers.conf`. podman's layer cache keeps the
dependency layers between runs on one machine, so a code change rebuilds
only the source layers; the build time and the image size are printed.

The image refuses to start without credentials; with an API-keys file
mounted read-only it becomes healthy (its HEALTHCHECK, the gRPC health
service), serves one call of each service on a loopback-published port as its
non-root user, and exits 0 on SIGTERM. Without podman (and no root to install
it) the tests skip, loudly; `MEMRPC_REQUIRE_CONTAINER=1` (CI) makes that a
failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from memrpc.auth.credentials import Access
from memrpc.auth.keys import new_key
from memrpc.client import MemoryClient

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "localhost/memrpc:test"
USER_ID = "10001"
REQUIRED = os.environ.get("MEMRPC_REQUIRE_CONTAINER") == "1"
ENV = {**os.environ, "CONTAINERS_CONF": str(ROOT / "tools" / "containers.conf")}
BUILD_TIMEOUT = 1800
# `podman healthcheck run` tries, a second apart: the server loads its model
# and starts Redis in seconds.
HEALTH_TRIES = 120
# More than --drain-delay plus --shutdown-grace (5 + 10 s by default).
STOP_TIMEOUT = 60
NS = f"c{uuid.uuid4().hex[:12]}"
# The first test builds the image (minutes when cold) in its setup.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 300)


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], env=ENV, capture_output=True, text=True, timeout=timeout, check=False
    )


def report(config: pytest.Config, line: str) -> None:
    """A line in pytest's output, even while output is captured."""
    with config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        config.pluginmanager.getplugin("terminalreporter").write_line(f"container: {line}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def image(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The id of the image built from this tree (the tag may move: other
    trees on the machine build it too)."""
    base = subprocess.run(
        [ROOT / "tools" / "container-base"], env=ENV, capture_output=True, text=True, check=False
    )
    if base.returncode != 0:
        reason = f"no podman base image: {base.stderr.strip()[-2000:]}"
        if REQUIRED:
            pytest.fail(f"{reason} (MEMRPC_REQUIRE_CONTAINER=1 forbids skipping)")
        pytest.skip(reason)
    iidfile = tmp_path_factory.mktemp("container") / "image-id"
    started = time.monotonic()
    build = podman(
        "build",
        "--format=docker",  # podman's default OCI format drops HEALTHCHECK
        f"--build-arg=BASE={base.stdout.strip()}",
        f"--tag={IMAGE}",
        f"--iidfile={iidfile}",
        str(ROOT),
        timeout=BUILD_TIMEOUT,
    )
    assert build.returncode == 0, f"podman build failed:\n{build.stdout[-4000:]}{build.stderr}"
    image_id = iidfile.read_text().strip()
    size = int(podman("image", "inspect", "--format={{.Size}}", image_id).stdout)
    report(
        pytestconfig,
        f"built {IMAGE} in {time.monotonic() - started:.0f} s; image size {size / 1e6:.0f} MB",
    )
    return image_id


@pytest.fixture
def container(image: str, tmp_path: Path) -> Iterator[tuple[str, int, str]]:
    """A container serving with an API-keys file: its name, host port and a token."""
    key = new_key("container", [NS], access=Access.WRITE)
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    (keys_dir / "keys.toml").write_text(key.entry)
    # Read by the image's user, not by root.
    keys_dir.chmod(0o755)
    (keys_dir / "keys.toml").chmod(0o644)
    name, port = f"memrpc-test-{uuid.uuid4().hex[:8]}", free_port()
    run = podman(
        "run",
        "--detach",
        f"--name={name}",
        f"--publish=127.0.0.1:{port}:50051",
        f"--volume={keys_dir}:/etc/memrpc:ro",
        "--env=MEMRPC_AUTH_KEYS_FILE=/etc/memrpc/keys.toml",
        image,
    )
    assert run.returncode == 0, run.stderr
    try:
        yield name, port, key.token
    finally:
        podman("rm", "--force", "--volumes", name)


def test_without_credentials_it_refuses_to_start(image: str) -> None:
    run = podman("run", "--rm", image)
    assert run.returncode == 2
    assert "refusing to serve 0.0.0.0:50051 without authentication" in run.stderr


def test_it_becomes_healthy_serves_each_service_and_stops_cleanly(
    container: tuple[str, int, str],
) -> None:
    name, port, token = container
    for _ in range(HEALTH_TRIES):
        if podman("healthcheck", "run", name).returncode == 0:
            break
        time.sleep(1)
    logs = podman("logs", name).stderr
    assert podman("inspect", "--format={{.State.Health.Status}}", name).stdout.strip() == (
        "healthy"
    ), logs
    assert podman("exec", name, "id", "-u").stdout.strip() == USER_ID

    with MemoryClient(f"127.0.0.1:{port}", namespace=NS, token=token) as memory:
        memory.update_session("t", goal="contained")
        session = memory.get_session("t")
        assert session is not None
        assert session.goal == "contained"
        [created] = memory.remember("the container stores memories")
        assert [m.memory.id for m in memory.recall("container memories")] == [created.memory.id]
        assert len(memory.append_events("t", [("note", b"1")])) == 1

    stop = podman("stop", f"--time={STOP_TIMEOUT}", name, timeout=STOP_TIMEOUT + 30)
    assert stop.returncode == 0, stop.stderr
    state = podman("inspect", "--format={{.State.ExitCode}} {{.State.Status}}", name).stdout
    assert state.split() == ["0", "exited"], podman("logs", name).stderr
