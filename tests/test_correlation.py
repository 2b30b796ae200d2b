"""Correlation ids: `x-request-id` sent is echoed in the response trailers,
one is made when absent or invalid, failed calls carry it too, and every log
line about a call names it (an authentication refusal's as well)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import grpc
import pytest

from conftest import make_settings, running
from memrpc.auth.credentials import Access
from memrpc.auth.keys import new_key
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.limits import MAX_CORRELATION_ID_CHARS
from memrpc.rpc.correlation import HEADER, LogFormatter
from memrpc.v1 import working_memory_pb2 as pb
from memrpc.v1 import working_memory_pb2_grpc

MADE = re.compile(r"[0-9a-f]{32}")


def sent_id(metadata: grpc.aio.Metadata | None) -> str | None:
    """The correlation id in response metadata."""
    values = [value for key, value in metadata or () if key == HEADER]
    assert len(values) <= 1, values
    return str(values[0]) if values else None


async def update_session(stub: working_memory_pb2_grpc.WorkingMemoryStub, ns: str, *sent: str):
    """An UpdateSession call sending `sent` as x-request-id values; its response trailers."""
    request = pb.UpdateSessionRequest(
        namespace=ns, thread_id="t", session=pb.SessionInput(goal="g")
    )
    call = stub.UpdateSession(request, metadata=[(HEADER, value) for value in sent])
    await call
    return await call.trailing_metadata()


@pytest.mark.parametrize("sent", ["abc-123", "0f" * 16, "!" * MAX_CORRELATION_ID_CHARS])
async def test_a_valid_id_is_echoed(wm, ns: str, sent: str) -> None:
    assert sent_id(await update_session(wm, ns, sent)) == sent


async def test_an_id_is_made_when_none_is_sent(wm, ns: str) -> None:
    first = sent_id(await update_session(wm, ns))
    second = sent_id(await update_session(wm, ns))
    assert MADE.fullmatch(first or ""), first
    assert MADE.fullmatch(second or ""), second
    assert second != first


@pytest.mark.parametrize(
    "sent",
    ["has space", "x" * (MAX_CORRELATION_ID_CHARS + 1), ""],
    ids=["space", "too-long", "empty"],
)
async def test_an_invalid_id_is_replaced(wm, ns: str, sent: str) -> None:
    made = sent_id(await update_session(wm, ns, sent))
    assert MADE.fullmatch(made or ""), made


async def test_only_the_first_id_counts(wm, ns: str) -> None:
    assert sent_id(await update_session(wm, ns, "first", "second")) == "first"


async def test_a_failed_call_carries_the_id(wm, ns: str) -> None:
    request = pb.GetSessionRequest(namespace=ns, thread_id="missing")
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await wm.GetSession(request, metadata=[(HEADER, "lost-1")])
    assert failed.value.code() == grpc.StatusCode.NOT_FOUND
    assert sent_id(failed.value.trailing_metadata()) == "lost-1"


@pytest.fixture(scope="module")
async def secured(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: EmbeddedRedis,
    embedder: BatchingEmbedder,
) -> AsyncIterator[working_memory_pb2_grpc.WorkingMemoryStub]:
    """A stub of a server that takes API keys only."""
    keys_file = tmp_path_factory.mktemp("keys") / "keys.toml"
    keys_file.write_text(new_key("k", ["n"], access=Access.WRITE).entry)
    settings = make_settings(redis_server.url, auth_keys_file=keys_file)
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        yield working_memory_pb2_grpc.WorkingMemoryStub(channel)


async def test_every_log_line_of_a_call_names_its_id(
    secured: working_memory_pb2_grpc.WorkingMemoryStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="memrpc")
    request = pb.GetSessionRequest(namespace="n", thread_id="t")
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await secured.GetSession(request, metadata=[(HEADER, "denied-7")])
    assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert sent_id(denied.value.trailing_metadata()) == "denied-7"
    # The server logs a call's end just after its status is out: wait for it.
    ended = "/memrpc.v1.WorkingMemory/GetSession ended UNAUTHENTICATED"
    for _ in range(100):
        lines = [r for r in caplog.records if getattr(r, "request_id", None) == "denied-7"]
        messages = [r.getMessage() for r in lines]
        if any(m.startswith(ended) for m in messages):
            break
        await asyncio.sleep(0.05)
    assert any(m.startswith(ended) for m in messages), messages
    assert any(m.startswith("denied /memrpc.v1.WorkingMemory/GetSession") for m in messages)
    formatted = LogFormatter("%(name)s: %(message)s").format(lines[0])
    assert formatted.endswith(" request_id=denied-7"), formatted


def test_lines_outside_calls_have_no_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="memrpc.test"):
        logging.getLogger("memrpc.test").info("not about a call")
    [record] = caplog.records
    assert LogFormatter("%(message)s").format(record) == "not about a call"
