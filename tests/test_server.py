"""The server as a whole: health, reflection, errors when Redis is down,
persistence across restarts, the `memrpc serve` command and its shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from conftest import make_settings, running
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.server import LIVENESS_SERVICE, MemrpcServer
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm
from support import assert_reason

SERVICES = {"memrpc.v1.WorkingMemory", "memrpc.v1.LongTermMemory", "memrpc.v1.EventLog"}


async def health_status(channel: grpc.aio.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return (await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)).status


async def test_health_is_serving_for_every_service(channel):
    for service in ("", *SERVICES, LIVENESS_SERVICE):
        assert await health_status(channel, service) == health_pb2.HealthCheckResponse.SERVING


async def test_health_lists_every_service_as_check_answers_it(channel, caplog):
    stub = health_pb2_grpc.HealthStub(channel)
    listed = await stub.List(health_pb2.HealthListRequest(), timeout=5)
    statuses = {name: found.status for name, found in listed.statuses.items()}
    assert statuses.keys() >= {"", *SERVICES, LIVENESS_SERVICE}
    for service, status in statuses.items():
        assert status == await health_status(channel, service), service
    assert "Traceback" not in caplog.text


async def test_reflection_can_be_turned_off(redis_server, embedder):
    settings = make_settings(redis_server.url, reflection=False)
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in stub.ServerReflectionInfo(iter([request]), timeout=5):
                pass
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert await health_status(channel) == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for response in stub.ServerReflectionInfo(iter([request])):
        names = {s.name for s in response.list_services_response.service}
        break
    assert names >= SERVICES | {"grpc.health.v1.Health"}


async def test_redis_outage_gives_unavailable_and_not_serving_then_recovers(tmp_path, embedder):
    redis_server = EmbeddedRedis(tmp_path / "redis")
    redis_server.start()
    server = MemrpcServer(make_settings(redis_server.url), embedder=embedder)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
            request = wm.UpdateSessionRequest(
                namespace="n", thread_id="t", session=wm.SessionInput(goal="g")
            )
            await stub.UpdateSession(request)
            redis_server.kill()
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.UpdateSession(request)
            assert_reason(err.value, grpc.StatusCode.UNAVAILABLE, "REDIS_UNAVAILABLE")
            assert "Traceback" not in err.value.details()
            await asyncio.sleep(1.5)
            assert await health_status(channel) == health_pb2.HealthCheckResponse.NOT_SERVING
            # Liveness does not follow Redis: a probe on it restarts no pod.
            live = await health_status(channel, LIVENESS_SERVICE)
            assert live == health_pb2.HealthCheckResponse.SERVING
            redis_server.start()
            await asyncio.sleep(1.5)
            assert await health_status(channel) == health_pb2.HealthCheckResponse.SERVING
            await stub.UpdateSession(request)
    finally:
        await server.stop(grace=1.0)
        redis_server.stop()


async def test_everything_persists_across_a_restart_with_embedded_redis(tmp_path, embedder):
    settings = make_settings(None, data_dir=tmp_path / "data")
    server = MemrpcServer(settings, embedder=embedder)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        await working_memory_pb2_grpc.WorkingMemoryStub(channel).AppendTurns(
            wm.AppendTurnsRequest(
                namespace="n", thread_id="t", turns=[wm.TurnInput(role="user", content="hi")]
            )
        )
        created = await long_term_memory_pb2_grpc.LongTermMemoryStub(channel).CreateMemories(
            ltm.CreateMemoriesRequest(
                namespace="n", memories=[ltm.MemoryInput(text="Alice likes tea")]
            )
        )
        await event_log_pb2_grpc.EventLogStub(channel).AppendEvents(
            ev.AppendEventsRequest(
                namespace="n", thread_id="t", events=[ev.EventInput(type="note", data=b"x")]
            )
        )
    await server.stop()

    server = MemrpcServer(settings, embedder=embedder)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            session = await working_memory_pb2_grpc.WorkingMemoryStub(channel).GetSession(
                wm.GetSessionRequest(namespace="n", thread_id="t")
            )
            assert [t.content for t in session.session.turns] == ["hi"]
            found = await long_term_memory_pb2_grpc.LongTermMemoryStub(channel).SearchMemories(
                ltm.SearchMemoriesRequest(namespace="n", text="What does Alice drink?")
            )
            assert [m.memory.id for m in found.matches] == [created.results[0].memory.id]
            logged = await event_log_pb2_grpc.EventLogStub(channel).ListEvents(
                ev.ListEventsRequest(namespace="n", thread_id="t")
            )
            assert [e.type for e in logged.events] == ["memrpc.turn", "note"]
    finally:
        await server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_help_documents_every_setting():
    out = subprocess.run(
        [sys.executable, "-m", "memrpc.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for env in ("MEMRPC_LISTEN", "MEMRPC_DATA_DIR", "MEMRPC_REDIS_URL", "MEMRPC_MODEL_DIR"):
        assert env in out


async def test_memrpc_serve_starts_serves_and_stops_on_sigterm(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "MEMRPC_DATA_DIR": str(tmp_path / "data")}
    env.pop("MEMRPC_REDIS_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "memrpc.cli",
        "serve",
        "--listen",
        f"127.0.0.1:{port}",
        "--drain-delay",
        "0",
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            for _ in range(300):
                try:
                    if await health_status(channel) == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("memrpc serve did not become healthy")
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, err
        assert b"shutting down" in err
        assert not (tmp_path / "data" / "redis.sock").exists()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
