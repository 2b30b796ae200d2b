"""Rolling updates: a server asked to stop drains without failing a call.

Two `memrpc serve` processes share one Redis; a client balances calls over
both with `round_robin` and gRPC client-side health checking (the service
config's `healthCheckConfig`: grpc-core, under grpcio too, watches each
server's `Health.Watch` and picks only `SERVING` ones), about 100 calls/s.
One server gets SIGTERM: no call fails, and once its `NOT_SERVING` has been
seen, no new call reaches it. Which server served a call is read from its
DEBUG log, where each call's end names the correlation id the client sent.

Also: health watches end with `OK` when a server stops (instead of holding
it for the whole grace), and a second SIGTERM skips the rest of the drain.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import make_settings
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.rpc.correlation import HEADER
from memrpc.server import MemrpcServer
from memrpc.v1 import working_memory_pb2 as pb
from memrpc.v1 import working_memory_pb2_grpc
from test_faults import WITHIN_S, eventually, free_port, serve_process

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# The drained server's drain delay; the other's is long, ended by a second SIGTERM.
DRAIN_DELAY_S = 3.0
LONG_DRAIN_S = 600.0
CALL_INTERVAL_S = 0.01  # about 100 calls/s
MAX_CALLS = 5000
# How long after the test itself saw NOT_SERVING the client must have seen it too.
HEALTH_SPREAD_S = 0.5
SERVICE_CONFIG = json.dumps(
    {"loadBalancingConfig": [{"round_robin": {}}], "healthCheckConfig": {"serviceName": ""}}
)
_SERVED = re.compile(
    r"GetSession ended OK in [0-9.]+ ms \(tenant \S+\) request_id=(\S+)$", re.MULTILINE
)


class Server:
    """A `memrpc serve` process on a free loopback port, logging at DEBUG to its own file."""

    def __init__(self, redis_url: str, work_dir: Path, drain_delay: float) -> None:
        work_dir.mkdir()
        self.port = free_port()
        self.log = work_dir / "memrpc.log"
        extra = ["--log-level", "DEBUG", "--drain-delay", str(drain_delay)]
        self.proc = serve_process(redis_url, self.port, work_dir, *extra)

    def text(self) -> str:
        return self.log.read_text()

    def served(self) -> set[str]:
        """The correlation ids of the GetSession calls it served."""
        return set(_SERVED.findall(self.text()))

    async def health(self) -> int:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
            return int(response.status)

    async def status(self) -> int | None:
        """Its health, None when it does not answer."""
        try:
            return await self.health()
        except grpc.aio.AioRpcError:
            return None

    async def exited(self) -> int:
        return await asyncio.to_thread(self.proc.wait, WITHIN_S)

    def end(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Caller:
    """GetSession every `CALL_INTERVAL_S` through `channel`, each with a
    correlation id of its own; remembers when each started and what failed."""

    def __init__(self, channel: grpc.aio.Channel, ns: str) -> None:
        self._stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        self._ns = ns
        self.started: dict[str, float] = {}
        self.failed: list[tuple[str, grpc.StatusCode]] = []
        self._calls: list[asyncio.Task[None]] = []
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*self._calls)

    async def _run(self) -> None:
        for index in range(MAX_CALLS):
            call_id = f"drain-{index}"
            self.started[call_id] = time.monotonic()
            self._calls.append(asyncio.create_task(self._call(call_id)))
            await asyncio.sleep(CALL_INTERVAL_S)

    async def _call(self, call_id: str) -> None:
        request = pb.GetSessionRequest(namespace=self._ns, thread_id="t")
        try:
            await self._stub.GetSession(request, metadata=[(HEADER, call_id)], timeout=WITHIN_S)
        except grpc.aio.AioRpcError as err:
            self.failed.append((call_id, err.code()))


async def test_a_sigterm_drains_a_server_without_failing_a_call(
    redis_server: EmbeddedRedis, tmp_path: Path, ns: str
) -> None:
    drained = Server(redis_server.url, tmp_path / "drained", DRAIN_DELAY_S)
    other = Server(redis_server.url, tmp_path / "other", LONG_DRAIN_S)
    try:
        for server in (drained, other):
            await eventually(lambda s=server: _serving(s), f"server on {server.port} SERVING")
        target = f"ipv4:127.0.0.1:{drained.port},127.0.0.1:{other.port}"
        options = [("grpc.service_config", SERVICE_CONFIG)]
        async with grpc.aio.insecure_channel(target, options=options) as channel:
            stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
            session = pb.UpdateSessionRequest(
                namespace=ns, thread_id="t", session=pb.SessionInput()
            )
            await stub.UpdateSession(session, timeout=WITHIN_S)
            caller = Caller(channel, ns)
            try:
                await eventually(lambda: bool(drained.served() and other.served()), "calls to both")
                drained.proc.send_signal(signal.SIGTERM)
                await eventually(lambda: _status_is(drained, NOT_SERVING), "NOT_SERVING")
                seen = time.monotonic()
                assert await drained.exited() == 0, drained.text()
                after = len(caller.started)
                await eventually(lambda: len(caller.started) > after + 50, "calls after the stop")
            finally:
                await caller.stop()
        # No call failed; once the client could have seen NOT_SERVING, every
        # new call went to the other server, and calls went on throughout.
        assert caller.failed == []
        late = {i for i, started in caller.started.items() if started > seen + HEALTH_SPREAD_S}
        assert late
        assert not late & drained.served()
        log = drained.text()
        for phase in (
            "shutting down: drain started",
            "stopped accepting calls",
            "stopped: in-flight",
        ):
            assert log.count(phase) == 1, (phase, log)

        # The other server: a second SIGTERM ends its 600 s drain.
        other.proc.send_signal(signal.SIGTERM)
        await eventually(lambda: "drain started" in other.text(), "the other server draining")
        other.proc.send_signal(signal.SIGTERM)
        assert await other.exited() == 0, other.text()
        assert "stopped accepting calls after" in other.text()
        # Its log is complete now: every call reached one of the two.
        assert late <= other.served()
        assert drained.served() | other.served() == set(caller.started)
    finally:
        drained.end()
        other.end()


async def _serving(server: Server) -> bool:
    assert server.proc.poll() is None, server.text()
    return await server.status() == SERVING


async def _status_is(server: Server, status: int) -> bool:
    return await server.status() == status


async def test_health_watches_end_with_ok_when_the_server_stops(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder
) -> None:
    server = MemrpcServer(make_settings(redis_server.url), embedder=embedder)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
        try:
            statuses = [(await watch.read()).status]
            hurry = asyncio.Event()
            hurry.set()  # as after a second signal: no drain delay
            await server.drain(LONG_DRAIN_S, hurry)
            statuses.append((await watch.read()).status)
        finally:
            # A grace longer than the test may take: the watch must end at once.
            await server.stop(grace=10 * WITHIN_S)
        assert statuses == [SERVING, NOT_SERVING]
        assert await watch.read() == grpc.aio.EOF
        assert await watch.code() == grpc.StatusCode.OK
