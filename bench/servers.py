"""The processes a run measures: the embedded Redis, the memrpc server and
the echo server, each on loopback, each stopped at the end of the run."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.echo import echo_call
from memrpc.embedded_redis import EmbeddedRedis

REPO = Path(__file__).resolve().parents[1]
MEMRPC = Path(sys.executable).with_name("memrpc")
_READY_LINE = "memrpc serving on"
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
    """A server child process on 127.0.0.1:`port`, its output in `log_path`."""

    def __init__(self, name: str, args: list[str], port: int, log_path: Path) -> None:
        self.name = name
        self.port = port
        self.target = f"127.0.0.1:{port}"
        self.log_path = log_path
        with log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

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
    redis_url: str, work_dir: Path, *, workers: int = 1, within_s: float = 90.0
) -> ServerProcess:
    """`memrpc serve` on a free port with `redis_url`, once it serves."""
    port = free_port()
    args = [str(MEMRPC), "serve", "--listen", f"127.0.0.1:{port}", "--redis-url", redis_url]
    args += ["--data-dir", str(work_dir / "memrpc-data"), "--log-level", "INFO"]
    if workers != 1:
        args += ["--workers", str(workers)]
    server = ServerProcess(
        f"memrpc (workers={workers})", args, port, work_dir / f"memrpc-w{workers}.log"
    )
    try:
        ready = _READY_LINE if workers == 1 else f"with {workers} workers"
        await _wait_for_log(server, ready, within_s)
        await _wait_serving(server, within_s)
    except BaseException:
        server.stop()
        raise
    return server


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
