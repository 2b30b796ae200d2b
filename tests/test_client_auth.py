"""The Python client's `token` against a real server with an API-keys file,
over plaintext loopback: every call (unary and TailEvents) carries it, sync
and async; a call's own metadata is kept; the token never shows in a repr."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from conftest import make_settings, running
from memrpc.auth.credentials import Access
from memrpc.auth.keys import PREFIX, new_key
from memrpc.client import AsyncMemoryClient, MemoryClient
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import working_memory_pb2 as wm

NS = f"c{uuid.uuid4().hex[:12]}"
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED


class Secured:
    """The address of a server with authentication on, and its API keys by role."""

    def __init__(self, port: int, tokens: dict[str, str]) -> None:
        self.target = f"127.0.0.1:{port}"
        self.tokens = tokens


@pytest.fixture(scope="module")
async def secured(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: EmbeddedRedis,
    embedder: BatchingEmbedder,
) -> AsyncIterator[Secured]:
    keys = {
        "writer": new_key("client-writer", [NS], access=Access.WRITE),
        "reader": new_key("client-reader", [NS], access=Access.READ),
    }
    keys_file = tmp_path_factory.mktemp("client-auth") / "keys.toml"
    keys_file.write_text("\n\n".join(key.entry for key in keys.values()))
    async with running(
        make_settings(redis_server.url, auth_keys_file=keys_file), embedder
    ) as server:
        yield Secured(server.port, {role: key.token for role, key in keys.items()})


def code_of(call: Any) -> grpc.StatusCode:
    """The status code a blocking call fails with."""
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code()  # type: ignore[no-any-return]


# --- without a token, with a good one, with a read-only one


async def test_without_a_token_every_call_is_unauthenticated(secured):
    async with AsyncMemoryClient(secured.target, namespace=NS) as memory:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await memory.get_session("t")
        assert err.value.code() == UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await anext(memory.tail(["t"]))
        assert err.value.code() == UNAUTHENTICATED

    def sync() -> list[grpc.StatusCode]:
        with MemoryClient(secured.target, namespace=NS) as memory:
            return [
                code_of(lambda: memory.get_session("t")),
                code_of(lambda: next(memory.tail(["t"]))),
            ]

    assert await asyncio.to_thread(sync) == [UNAUTHENTICATED, UNAUTHENTICATED]


async def test_async_client_with_a_key_calls_and_tails(secured):
    token = secured.tokens["writer"]
    async with AsyncMemoryClient(secured.target, namespace=NS, token=token) as memory:
        await memory.update_session("async", goal="g")
        session = await memory.get_session("async")
        assert session is not None
        assert session.goal == "g"
        tail = memory.tail(["async"], heartbeat_interval=0.2)
        first = await anext(tail)
        assert first.WhichOneof("message") == "checkpoint"
        ids = await memory.append_events("async", [("x", b"1")])
        assert (await anext(tail)).event.id == ids[0]
        await tail.aclose()


async def test_sync_client_with_a_key_calls_and_tails(secured):
    token = secured.tokens["writer"]

    def run() -> tuple[str, list[str], list[ev.TailEventsResponse]]:
        with MemoryClient(secured.target, namespace=NS, token=token) as memory:
            session = memory.update_session("sync", goal="g")
            tail = memory.tail(["sync"], heartbeat_interval=0.2)
            first = next(tail)
            ids = memory.append_events("sync", [("x", b"1")])
            received = [first, next(tail)]
            tail.close()
            return session.goal, ids, received

    goal, ids, (first, event) = await asyncio.to_thread(run)
    assert goal == "g"
    assert first.WhichOneof("message") == "checkpoint"
    assert event.event.id == ids[0]


async def test_read_only_key_reads_but_may_not_write(secured):
    token = secured.tokens["reader"]
    async with AsyncMemoryClient(secured.target, namespace=NS, token=token) as memory:
        await memory.get_session("t")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await memory.update_session("t", goal="g")
        assert err.value.code() == PERMISSION_DENIED
        assert "has read access" in (err.value.details() or "")

    def sync() -> grpc.StatusCode:
        with MemoryClient(secured.target, namespace=NS, token=token) as memory:
            memory.get_session("t")
            return code_of(lambda: memory.remember("a fact"))

    assert await asyncio.to_thread(sync) == PERMISSION_DENIED


# --- a token function, a call's own metadata


async def test_a_token_function_is_asked_before_every_call(secured):
    tokens: Iterator[str] = iter([secured.tokens["reader"], secured.tokens["writer"]])
    async with AsyncMemoryClient(
        secured.target, namespace=NS, token=lambda: next(tokens)
    ) as memory:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await memory.update_session("refreshed", goal="g")
        assert err.value.code() == PERMISSION_DENIED
        assert (await memory.update_session("refreshed", goal="g")).goal == "g"


async def test_a_calls_own_authorization_is_sent_instead(secured):
    own = (("authorization", f"Bearer {secured.tokens['writer']}"),)
    request = wm.UpdateSessionRequest(
        namespace=NS, thread_id="own", session=wm.SessionInput(goal="g")
    )
    token = secured.tokens["reader"]
    async with AsyncMemoryClient(secured.target, namespace=NS, token=token) as memory:
        response = await memory.working.UpdateSession(request, metadata=own, timeout=5)
    assert response.session.goal == "g"


class Recorder:
    """A server answering GetSession and TailEvents with the metadata it received."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        handlers = {
            "GetSession": grpc.unary_unary_rpc_method_handler(
                self.get_session,
                request_deserializer=wm.GetSessionRequest.FromString,
                response_serializer=wm.GetSessionResponse.SerializeToString,
            ),
        }
        tail = {
            "TailEvents": grpc.unary_stream_rpc_method_handler(
                self.tail_events,
                request_deserializer=ev.TailEventsRequest.FromString,
                response_serializer=ev.TailEventsResponse.SerializeToString,
            ),
        }
        self.server = grpc.aio.server()
        self.server.add_generic_rpc_handlers(
            [
                grpc.method_handlers_generic_handler("memrpc.v1.WorkingMemory", handlers),
                grpc.method_handlers_generic_handler("memrpc.v1.EventLog", tail),
            ]
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def record(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.received.append({str(k): str(v) for k, v in context.invocation_metadata() or ()})

    async def get_session(self, _request: Any, context: Any) -> wm.GetSessionResponse:
        self.record(context)
        return wm.GetSessionResponse()

    async def tail_events(self, _request: Any, context: Any) -> AsyncIterator[Any]:
        self.record(context)
        yield ev.TailEventsResponse(checkpoint=ev.Checkpoint())


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    recording = Recorder()
    await recording.server.start()
    yield recording
    await recording.server.stop(grace=None)


async def test_a_calls_own_metadata_goes_along_with_the_token(recorder):
    target = f"127.0.0.1:{recorder.port}"
    mine = (("x-request-id", "r-1"),)
    get = wm.GetSessionRequest(namespace=NS, thread_id="t")
    tail = ev.TailEventsRequest(namespace=NS)
    async with AsyncMemoryClient(target, namespace=NS, token="mrk_a_secret") as memory:
        await memory.working.GetSession(get, metadata=mine)
        call = memory.events.TailEvents(tail, metadata=mine)
        await call.read()
        call.cancel()

    def sync() -> None:
        with MemoryClient(target, namespace=NS, token=lambda: "mrk_a_secret") as memory:
            memory.working.GetSession(get, metadata=mine)
            next(memory.events.TailEvents(tail, metadata=mine))

    await asyncio.to_thread(sync)
    assert len(recorder.received) == 4
    for received in recorder.received:
        assert received["x-request-id"] == "r-1"
        assert received["authorization"] == "Bearer mrk_a_secret"


# --- the token stays secret


async def test_the_token_shows_in_no_repr_or_error(secured):
    token = secured.tokens["writer"]
    # The whole secret, as the server splits a key (a secret may hold "_").
    secret = token.removeprefix(PREFIX).partition("_")[2]
    async with AsyncMemoryClient(secured.target, namespace=NS, token=token) as memory:
        shown = [repr(memory), repr(vars(memory))]
    with MemoryClient(secured.target, namespace=NS, token=lambda: token) as blocking:
        shown += [repr(blocking), repr(vars(blocking))]
    assert shown[0] == f"AsyncMemoryClient({secured.target!r}, namespace={NS!r}, token=<redacted>)"
    assert all(secret not in text for text in shown), shown
    for bad in (f"Bearer {token}", f"{token} ", ""):
        with pytest.raises(ValueError, match="token") as err:
            MemoryClient(secured.target, namespace=NS, token=bad)
        assert secret not in str(err.value)


async def test_a_bad_token_from_a_function_fails_the_call_before_sending(secured):
    async with AsyncMemoryClient(secured.target, namespace=NS, token=lambda: "two words") as memory:
        with pytest.raises(ValueError, match="printable ASCII without spaces"):
            await memory.get_session("t")
