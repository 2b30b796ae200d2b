"""Overload against a real server: a burst of text searches is shed by the
bounded embedding queue, and one tenant flooding the server is refused
while another's calls all succeed, whether tenants are namespaces or
credentials. The model is held by a gate, so who is refused is decided by
the limits, never by timing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from conftest import make_settings, running
from memrpc.auth.credentials import Access
from memrpc.auth.keys import new_key
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder, OnnxModel
from memrpc.rpc.errors import PUSHBACK_KEY
from memrpc.server import MemrpcServer
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import working_memory_pb2 as wm
from support import Gate, assert_reason

# How long a test waits for calls it expects at most (never reached when
# the server is right).
PATIENCE_S = 30.0


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return OnnxModel()


@pytest.fixture
def gate(model: OnnxModel, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """The model, held until the test opens the gate."""
    wrapper = Gate(model.embed)
    wrapper.open.clear()
    monkeypatch.setattr(model, "embed", wrapper)
    yield wrapper
    wrapper.open.set()


@contextlib.asynccontextmanager
async def serving(
    redis_server: EmbeddedRedis, model: OnnxModel, max_queue: int | None, **settings: object
) -> AsyncIterator[tuple[MemrpcServer, BatchingEmbedder, grpc.aio.Channel]]:
    embedder = BatchingEmbedder(model, cache_size=0, max_queue=max_queue)
    try:
        async with (
            running(make_settings(redis_server.url, **settings), embedder) as server,
            grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
        ):
            yield server, embedder, channel
    finally:
        await embedder.aclose()


def search(ns: str, text: str) -> ltm.SearchMemoriesRequest:
    return ltm.SearchMemoriesRequest(namespace=ns, text=text)


def details(err: grpc.aio.AioRpcError) -> dict[str, object]:
    """The error's RetryInfo and QuotaFailure details, by name."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    found: dict[str, object] = {}
    for kind in (error_details_pb2.RetryInfo, error_details_pb2.QuotaFailure):
        for detail in status.details:
            if detail.Is(kind.DESCRIPTOR):
                found[kind.DESCRIPTOR.name] = unpacked = kind()
                detail.Unpack(unpacked)
    return found


async def outcomes(calls: list[asyncio.Future[object]]) -> list[object]:
    """Each call's response, or its error."""
    return list(await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), PATIENCE_S))


async def settled(calls: list[asyncio.Future[object]], count: int) -> None:
    """Waits (at most PATIENCE_S) until `count` of `calls` have ended."""
    pending = set(calls)
    async with asyncio.timeout(PATIENCE_S):
        while len(calls) - len(pending) < count:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)


def exhausted(results: list[object], reason: str) -> list[grpc.aio.AioRpcError]:
    """The calls refused, each checked to be for `reason`, with the limit's
    setting in its metadata."""
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    for err in refused:
        metadata = assert_reason(err, grpc.StatusCode.RESOURCE_EXHAUSTED, reason)
        assert f"(server setting {metadata['setting']})" in (err.details() or "")
    return refused


async def test_a_burst_of_text_searches_is_shed_by_the_embedding_queue(
    redis_server: EmbeddedRedis, model: OnnxModel, gate: Gate, ns: str
) -> None:
    async with serving(redis_server, model, max_queue=3) as (_, embedder, channel):
        stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        first = asyncio.ensure_future(
            stub.SearchMemories(search(ns, "the first"), timeout=PATIENCE_S)
        )
        await gate.wait_entered()  # the model holds "the first"
        burst = [
            asyncio.ensure_future(stub.SearchMemories(search(ns, f"burst {i}"), timeout=PATIENCE_S))
            for i in range(12)
        ]
        # 3 texts queue behind the first; the other 9 are refused at once,
        # while the model is still held.
        await settled(burst, 9)
        gate.open.set()
        results = await outcomes([first, *burst])
        refused = exhausted(results, "EMBEDDING_QUEUE_FULL")
        assert len(refused) == 9
        assert embedder.texts_refused == 9
        for err in refused:
            message = err.details() or ""
            assert message.startswith("embedding queue full: 3 texts waiting, the limit is 3")
            assert "(server setting --embed-queue-max)" in message
            assert "send vectors" in message
            delay = details(err)["RetryInfo"]
            assert isinstance(delay, error_details_pb2.RetryInfo)
            assert delay.retry_delay.ToNanoseconds() > 0
            # gRPC's retry policies read the delay from a trailer.
            pushback = dict(err.trailing_metadata() or ())[PUSHBACK_KEY]
            assert pushback == str(delay.retry_delay.ToMilliseconds())
        # The server is healthy after, and the queue takes texts again.
        await stub.SearchMemories(search(ns, "after the burst"), timeout=PATIENCE_S)
        health = health_pb2_grpc.HealthStub(channel)
        status = await health.Check(health_pb2.HealthCheckRequest(), timeout=PATIENCE_S)
        assert status.status == health_pb2.HealthCheckResponse.SERVING


def quota_failure(err: grpc.aio.AioRpcError) -> error_details_pb2.QuotaFailure:
    """The error's QuotaFailure, checked to come with a RetryInfo."""
    found = details(err)
    assert isinstance(found.get("RetryInfo"), error_details_pb2.RetryInfo), err.details()
    failure = found["QuotaFailure"]
    assert isinstance(failure, error_details_pb2.QuotaFailure)
    return failure


async def all_succeed(calls: list[Callable[[], Awaitable[object]]]) -> None:
    """Runs `calls` one after the other; each must succeed."""
    for call in calls:
        await asyncio.wait_for(call(), PATIENCE_S)


def victim_calls(channel: grpc.aio.Channel, ns: str) -> list[Callable[[], Awaitable[object]]]:
    """A tenant's everyday calls that need no embedding: sessions, and
    memories written and searched by vector."""
    sessions = working_memory_pb2_grpc.WorkingMemoryStub(channel)
    memories = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
    vector = [1.0] + [0.0] * 383
    turn = wm.TurnInput(role="user", content="hello")
    return [
        lambda: sessions.AppendTurns(
            wm.AppendTurnsRequest(namespace=ns, thread_id="t", turns=[turn])
        ),
        lambda: sessions.GetSession(wm.GetSessionRequest(namespace=ns, thread_id="t")),
        lambda: memories.CreateMemories(
            ltm.CreateMemoriesRequest(
                namespace=ns, memories=[ltm.MemoryInput(text="fact", embedding=vector)]
            )
        ),
        lambda: memories.SearchMemories(
            ltm.SearchMemoriesRequest(namespace=ns, vector=ltm.Vector(values=vector))
        ),
    ] * 5


async def test_a_flooding_namespace_is_refused_while_another_is_served(
    redis_server: EmbeddedRedis, model: OnnxModel, gate: Gate
) -> None:
    flooder, victim = (f"{who}{uuid.uuid4().hex[:12]}" for who in ("flood", "calm"))
    async with serving(redis_server, model, None, tenant_max_in_flight=4) as (_, _, channel):
        stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        flood = [
            asyncio.ensure_future(
                stub.SearchMemories(search(flooder, f"flood {i}"), timeout=PATIENCE_S)
            )
            for i in range(20)
        ]
        # The flooder's first 4 searches wait for the held model; the other
        # 16 are refused at once.
        await settled(flood, 16)
        await all_succeed(victim_calls(channel, victim))
        gate.open.set()
        refused = exhausted(await outcomes(flood), "TENANT_CONCURRENCY_EXCEEDED")
        assert len(refused) == 16
        for err in refused:
            assert (err.details() or "").startswith(
                f"namespace:{flooder} has 4 calls in progress, the limit is 4 "
                "(server setting --tenant-max-in-flight)"
            )
            violation = quota_failure(err).violations[0]
            assert violation.subject == f"namespace:{flooder}"
            assert "--tenant-max-in-flight" in violation.description
        await stub.SearchMemories(search(victim, "served"), timeout=PATIENCE_S)
        await stub.SearchMemories(search(flooder, "served again"), timeout=PATIENCE_S)


async def test_a_credential_over_its_rate_is_refused_in_every_namespace(
    redis_server: EmbeddedRedis, model: OnnxModel, tmp_path: Path
) -> None:
    keys = {name: new_key(name, ["*"], access=Access.WRITE) for name in ("flood", "calm")}
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text("\n\n".join(key.entry for key in keys.values()))
    # One token per 100 s: a credential makes 3 calls, then waits.
    limits = {"tenant_rate": 0.01, "tenant_burst": 3, "auth_keys_file": keys_file}
    async with serving(redis_server, model, None, **limits) as (_, _, channel):
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)

        def call(key: str, ns: str) -> Awaitable[object]:
            metadata = (("authorization", f"Bearer {keys[key].token}"),)
            request = wm.UpdateSessionRequest(
                namespace=ns, thread_id="t", session=wm.SessionInput(goal="g")
            )
            return stub.UpdateSession(request, metadata=metadata, timeout=PATIENCE_S)

        await all_succeed([lambda ns=ns: call("flood", ns) for ns in ("x", "y", "z")])
        for ns in ("x", "other"):
            with pytest.raises(grpc.aio.AioRpcError) as over:
                await call("flood", ns)
            assert exhausted([over.value], "TENANT_RATE_EXCEEDED")
            assert (over.value.details() or "").startswith(
                "credential:API key 'flood' is over its call rate, the limit is 0.01 "
                "(server setting --tenant-rate)"
            )
            failure = quota_failure(over.value)
            assert failure.violations[0].subject == "credential:API key 'flood'"
            delay = details(over.value)["RetryInfo"]
            assert isinstance(delay, error_details_pb2.RetryInfo)
            assert delay.retry_delay.seconds >= 90
        await all_succeed([lambda ns=ns: call("calm", ns) for ns in ("x", "y", "z")])
