"""The processes a run measures: the embedded Redis, the memrpc server and
the echo server, each on loopback, each stopped at the end of the run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import NamedTuple

import grpc
import redis.asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.echo import echo_call
from memrpc.embedded_redis import EmbeddedRedis

REPO = Path(__file__).resolve().parents[1]
MEMRPC = Path(sys.executable).with_name("memrpc")
# What the server logs once it serves ("memrpc <version> serving on ...").
_READY_LINE = " serving on "
_POLL_S = 0.05


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_redis(data_dir: Path) -> EmbeddedRedis:
    """The embedded Redis (Search + JSON) memrpc itself would start, in
    `data_dir`, on a free TCP loopback port (every client, Agent Memory
    Server included, reaches it the same way); call from the main thread."""
    redis = EmbeddedRedis(data_dir, port=0)
    redis.start()
    return redis


class ServerProcess:
    """A server child process on 127.0.0.1:`port`, its output in `log_path`.

    `workers`: how many processes serve (memrpc `--workers`); `redis_url`:
    the Redis it uses ("" if none). `env`: its environment (default: ours)."""

    def __init__(
        self,
        name: str,
        args: list[str],
        port: int,
        log_path: Path,
        *,
        workers: int = 1,
        redis_url: str = "",
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.target = f"127.0.0.1:{port}"
        self.log_path = log_path
        self.workers = workers
        self.redis_url = redis_url
        with log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def server_pids(self) -> list[int]:
        """The pids serving: the process itself, or its workers (children
        started by multiprocessing, `spawn_main` in their command line)."""
        if self.workers == 1:
            return [self._proc.pid]
        return self._children(b"spawn_main")

    def redis_pid(self) -> int | None:
        """The embedded Redis (a `valkey-server` child) while it runs, else None."""
        found = self._children(b"valkey-server")
        return found[0] if found else None

    def _children(self, marker: bytes) -> list[int]:
        """The child processes whose command line holds `marker`."""
        pid = self._proc.pid
        found = []
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError):  # exited meanwhile
                if marker in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
        return found

    def check_alive(self) -> None:
        """Raises RuntimeError, with the end of the log, if the process exited."""
        if self._proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace").splitlines()[-20:]
            raise RuntimeError(
                f"{self.name} exited with code {self._proc.returncode}:\n" + "\n".join(tail)
            )

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds."""
        if self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()


async def start_memrpc(
    redis_url: str | None,
    work_dir: Path,
    *,
    workers: int = 1,
    within_s: float = 90.0,
    log_level: str = "INFO",
    extra_args: Sequence[str] = (),
) -> ServerProcess:
    """`memrpc serve` on a free port, once it serves: with `redis_url`, or
    (None) with its own embedded Redis in `work_dir`/memrpc-data, on the unix
    socket `redis.sock` there (so keep `work_dir` short: see `embedded_memrpc`).
    Its output goes to `work_dir`/memrpc-w<workers>.log; MEMRPC_* variables
    are not passed on, so it runs with these flags and the defaults."""
    port = free_port()
    data_dir = work_dir / "memrpc-data"
    args = [str(MEMRPC), "serve", "--listen", f"127.0.0.1:{port}"]
    if redis_url is not None:
        args += ["--redis-url", redis_url]
    else:
        redis_url = f"unix://{data_dir / 'redis.sock'}"
    args += ["--data-dir", str(data_dir), "--log-level", log_level]
    if workers != 1:
        args += ["--workers", str(workers)]
    args += extra_args
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMRPC_")}
    server = ServerProcess(
        f"memrpc (workers={workers})",
        args,
        port,
        work_dir / f"memrpc-w{workers}.log",
        workers=workers,
        redis_url=redis_url,
        env=env,
    )
    try:
        level = logging.getLevelNamesMapping().get(log_level.upper(), logging.INFO)
        if level <= logging.INFO:  # else it logs no ready line
            ready = _READY_LINE if workers == 1 else f"with {workers} workers"
            await _wait_for_log(server, ready, within_s)
        await _wait_serving(server, within_s)
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.asynccontextmanager
async def embedded_memrpc(
    *,
    workers: int = 1,
    log_level: str = "WARNING",
    within_s: float = 120.0,
    extra_args: Sequence[str] = (),
) -> AsyncIterator[ServerProcess]:
    """`start_memrpc` (with `extra_args`) with its own embedded Redis in a
    temporary directory under /tmp (a short path: the Redis unix socket is in
    it); stopped (SIGTERM, 60 s to exit) and the directory removed on exit."""
    with tempfile.TemporaryDirectory(prefix="memrpc-bench-", dir="/tmp") as work:
        server = await start_memrpc(
            None,
            Path(work),
            workers=workers,
            log_level=log_level,
            within_s=within_s,
            extra_args=extra_args,
        )
        try:
            yield server
        finally:
            server.stop(60.0)


class MemrpcTarget(NamedTuple):
    """A memrpc to measure: its gRPC address, a client of its Redis, and its
    process if we started it."""

    address: str
    redis: redis.asyncio.Redis
    server: ServerProcess | None


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """`--address` and `--redis-url`: a running memrpc to measure instead of
    an embedded one (`given_or_embedded_memrpc`)."""
    parser.add_argument("--address", help="an already running memrpc (needs --redis-url)")
    parser.add_argument("--redis-url", help="the Redis of --address")


def parse_with_target(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """The arguments, with `--address` and `--redis-url` both given or neither."""
    args = parser.parse_args(argv)
    if (args.address is None) != (args.redis_url is None):
        parser.error("--address and --redis-url go together")
    return args


@contextlib.asynccontextmanager
async def given_or_embedded_memrpc(
    address: str | None,
    redis_url: str | None,
    *,
    workers: int = 1,
    extra_args: Sequence[str] = (),
) -> AsyncIterator[MemrpcTarget]:
    """The memrpc at `address` with its Redis at `redis_url`, or, when both
    are None, `embedded_memrpc` with `workers` and `extra_args`; the Redis
    client is closed (then the server stopped) on exit."""
    if (address is None) != (redis_url is None):
        raise ValueError("give both address and redis_url, or neither")
    async with contextlib.AsyncExitStack() as stack:
        server = None
        if address is None or redis_url is None:
            server = await stack.enter_async_context(
                embedded_memrpc(workers=workers, extra_args=extra_args)
            )
            address, redis_url = server.target, server.redis_url
        client = redis.asyncio.from_url(redis_url)
        stack.push_async_callback(client.aclose)
        yield MemrpcTarget(address, client, server)


async def start_echo(work_dir: Path, *, within_s: float = 30.0) -> ServerProcess:
    """The echo server (`bench.echo`) on a free port, once it answers."""
    port = free_port()
    args = [sys.executable, "-m", "bench.echo", "--listen", f"127.0.0.1:{port}"]
    server = ServerProcess("echo", args, port, work_dir / "echo.log")
    deadline = time.monotonic() + within_s
    try:
        async with grpc.aio.insecure_channel(server.target) as channel:
            echo = echo_call(channel)
            while True:
                server.check_alive()
                try:
                    await echo(b"ping", timeout=1.0)
                    return server
                except grpc.aio.AioRpcError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("echo server did not answer") from None
                    await asyncio.sleep(_POLL_S)
    except BaseException:
        server.stop()
        raise


async def _wait_for_log(server: ServerProcess, line: str, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while line not in server.log_path.read_text(errors="replace"):
        server.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{server.name} did not log {line!r} within {within_s} s")
        await asyncio.sleep(_POLL_S)


async def _wait_serving(server: ServerProcess, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    async with grpc.aio.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            server.check_alive()
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{server.name} is not SERVING after {within_s} s")
            await asyncio.sleep(_POLL_S)
