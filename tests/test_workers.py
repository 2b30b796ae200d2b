"""`memrpc serve --workers N`: several server processes on one address and
one embedded Redis; calls from any connection see the same data, a worker
that dies is replaced, SIGTERM stops the workers and then Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from memrpc.v1 import working_memory_pb2 as wm
from memrpc.v1 import working_memory_pb2_grpc

WORKERS = 2
# Enough connections that the kernel's SO_REUSEPORT hash puts some on each
# worker: all 16 on one of 2 workers has a chance of 2 in 65,536.
CHANNELS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def children_running(parent: int, program: bytes) -> list[int]:
    """The child processes whose command line contains `program`."""
    return [pid for pid in children(parent) if program in Path(f"/proc/{pid}/cmdline").read_bytes()]


def worker_pids(parent: int) -> list[int]:
    """The worker processes of a `memrpc serve --workers` process."""
    return children_running(parent, b"spawn_main")


def is_running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def sockets_on_port(pid: int, port: int, state: str) -> int:
    """How many TCP sockets on local `port` in `state` (/proc/net/tcp:
    01 established, 0A listening) a process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state and fields[9] in inodes:
                count += 1
    return count


async def wait_serving(address: str) -> None:
    for _ in range(300):
        async with grpc.aio.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
                if response.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
        await asyncio.sleep(0.1)
    pytest.fail(f"nothing serving at {address}")


async def wait_workers(parent: int, port: int, old: frozenset[int] = frozenset()) -> list[int]:
    """The pids of `WORKERS` workers, none of them in `old`, once each listens."""
    for _ in range(300):
        pids = worker_pids(parent)
        fresh = len(pids) == WORKERS and not old & set(pids)
        if fresh and all(sockets_on_port(pid, port, "0A") for pid in pids):
            return pids
        await asyncio.sleep(0.1)
    pytest.fail(f"workers did not come up: {worker_pids(parent)}")


async def test_workers_share_the_address_and_the_data_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMRPC_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "memrpc.cli",
        "serve",
        "--workers",
        str(WORKERS),
        "--listen",
        address,
        "--data-dir",
        str(data_dir),
        "--shutdown-grace",
        "2",
        "--drain-delay",
        "0",
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    # A subchannel pool of its own: each channel makes its own connection.
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(address, options=options) for _ in range(CHANNELS)]
    try:
        await wait_serving(address)
        workers = await wait_workers(proc.pid, port)
        [redis_pid] = children_running(proc.pid, b"valkey-server")
        stubs = [working_memory_pb2_grpc.WorkingMemoryStub(channel) for channel in channels]
        for index, stub in enumerate(stubs):
            session = wm.SessionInput(goal=f"goal {index}")
            update = wm.UpdateSessionRequest(namespace="w", thread_id=f"t{index}", session=session)
            await stub.UpdateSession(update, timeout=10)
        assert all(sockets_on_port(pid, port, "01") for pid in workers)
        for reader in stubs:  # some of these reads go to another worker than the write
            for index in range(CHANNELS):
                request = wm.GetSessionRequest(namespace="w", thread_id=f"t{index}")
                response = await reader.GetSession(request, timeout=10)
                assert response.session.goal == f"goal {index}"

        os.kill(workers[0], signal.SIGKILL)
        await wait_workers(proc.pid, port, old=frozenset({workers[0]}))
        await wait_serving(address)
        request = wm.GetSessionRequest(namespace="w", thread_id="t0")
        async with grpc.aio.insecure_channel(address) as channel:
            stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
            assert (await stub.GetSession(request, timeout=10)).session.goal == "goal 0"

        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err
        assert err.count(b"shutting down") == 1 + WORKERS, err
        assert not (data_dir / "redis.sock").exists()
        assert not is_running(redis_pid)
    finally:
        for channel in channels:
            await channel.close()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def serve_workers(data_dir: Path, *args: str) -> tuple[int, bytes]:
    """`memrpc serve --workers WORKERS args` with an embedded Redis in
    `data_dir`, expected to exit by itself: its status and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMRPC_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "memrpc.cli",
        "serve",
        "--workers",
        str(WORKERS),
        "--data-dir",
        str(data_dir),
        *args,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, err


async def test_a_worker_that_cannot_start_stops_everything_with_status_1(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # A socket in a directory that does not exist: no worker can listen.
    listen = f"unix:{tmp_path / 'missing' / 'memrpc.sock'}"
    status, err = await serve_workers(data_dir, "--listen", listen)
    assert status == 1, err
    assert b"a worker failed to start" in err
    assert not (data_dir / "redis.sock").exists()


async def test_a_model_that_does_not_load_is_refused_before_any_worker(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    model_dir = tmp_path / "no-model"
    status, err = await serve_workers(
        data_dir, "--listen", "127.0.0.1:0", "--model-dir", str(model_dir)
    )
    assert status == 2, err
    assert (
        err.decode()
        .strip()
        .splitlines()[-1]
        .startswith(
            f"memrpc serve: error: --model-dir: embedding model file not found: {model_dir}"
        )
    )
    assert b"worker" not in err  # none was started
    assert not (data_dir / "redis.sock").exists()
