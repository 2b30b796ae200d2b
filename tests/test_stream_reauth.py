"""Open TailEvents streams check their credential again while they run: a
key removed or narrowed in the key file, a JWT whose signing key left the
JWKS file or whose `exp` passed, ends the stream with the status a new call
gets; a credential that stays valid keeps its stream.

The server checks its files on every call and streams re-check before every
message here (both intervals 0); events appended with another key make the
messages flow, except for the expiring JWT, which is fed by heartbeats."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import grpc
import pytest

from memrpc.auth import interceptor, reloading
from memrpc.auth.jwt import LEEWAY_S
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc
from test_auth import (
    NS_A,
    NS_B,
    PERMISSION_DENIED,
    UNAUTHENTICATED,
    bearer,
    make_jwt,
    tail_messages,
)
from test_credentials_reload import (
    ALPHA,
    BETA,
    OTHER_KID,
    OTHER_SIGNING_KEY,
    Reloaded,
    rescoped,
    serving_files,
)

TAIL_EVENTS = "/memrpc.v1.EventLog/TailEvents"


@dataclass
class Streams:
    """A running server that allows one tail per connection, its credentials
    files (`files`), a stub to tail and append with, and a thread of NS_A
    of the test's own."""

    files: Reloaded
    event_log: event_log_pb2_grpc.EventLogStub
    thread: str

    async def tail(self, token: str, heartbeat_s: float | None = None) -> grpc.aio.UnaryStreamCall:
        """A tail of the thread with `token`, from now, past its first message
        (a checkpoint)."""
        request = ev.TailEventsRequest(
            namespace=NS_A, cursors=[ev.ThreadCursor(thread_id=self.thread)]
        )
        if heartbeat_s is not None:
            request.heartbeat_interval.FromTimedelta(timedelta(seconds=heartbeat_s))
        call = self.event_log.TailEvents(request, metadata=bearer(token), timeout=5)
        first = await call.read()
        assert first.WhichOneof("message") == "checkpoint"
        return call

    async def append(self) -> str:
        """Appends an event to the thread (with ALPHA); its id."""
        request = ev.AppendEventsRequest(
            namespace=NS_A, thread_id=self.thread, events=[ev.EventInput(type="x", data=b"1")]
        )
        reply = await self.event_log.AppendEvents(request, metadata=bearer(ALPHA.token), timeout=5)
        return str(reply.event_ids[0])

    async def refused(self, token: str) -> grpc.aio.AioRpcError:
        """The error of a new tail of NS_A with `token`."""
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await tail_messages(self.event_log, NS_A, bearer(token))
        return err.value


@pytest.fixture
async def server(
    tmp_path: Path,
    redis_server: EmbeddedRedis,
    embedder: BatchingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Streams]:
    monkeypatch.setattr(reloading, "CHECK_INTERVAL_S", 0.0)
    monkeypatch.setattr(interceptor, "RECHECK_INTERVAL_S", 0.0)
    async with serving_files(
        tmp_path,
        redis_server.url,
        embedder,
        f"{ALPHA.entry}\n\n{BETA.entry}",
        max_tails_per_caller=1,  # an ended tail must free its slot
    ) as (files, channel):
        event_log = event_log_pb2_grpc.EventLogStub(channel)
        yield Streams(files, event_log, thread=f"t{uuid.uuid4().hex}")


async def next_error(call: grpc.aio.UnaryStreamCall) -> grpc.aio.AioRpcError:
    """The status that ends `call` instead of its next message."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call.read()
    return err.value


async def next_event_id(call: grpc.aio.UnaryStreamCall) -> str:
    """The id of the next event of `call`, past any heartbeat checkpoint."""
    while (message := await call.read()).WhichOneof("message") != "event":
        pass
    return str(message.event.id)


async def read_to_the_end(call: grpc.aio.UnaryStreamCall) -> None:
    """Reads every message of `call`; raises its error status, if any."""
    while await call.read() is not grpc.aio.EOF:
        pass


async def assert_ended_as_new_calls_are(
    server: Streams, call: grpc.aio.UnaryStreamCall, token: str, code: grpc.StatusCode
) -> str:
    """Asserts that `call` ends with `code` at its next message, with the
    message a new tail with `token` gets, and that it freed its tail slot;
    the message."""
    await server.append()
    ended = await next_error(call)
    fresh = await server.refused(token)
    assert (ended.code(), ended.details()) == (fresh.code(), fresh.details())
    assert ended.code() == code, ended.details()
    (await server.tail(ALPHA.token)).cancel()
    return str(ended.details())


# --- API keys


async def test_a_removed_key_ends_its_open_tail_unauthenticated(server, caplog):
    caplog.set_level(logging.INFO, logger="memrpc.auth")
    call = await server.tail(BETA.token)
    server.files.install_keys(ALPHA.entry)
    details = await assert_ended_as_new_calls_are(server, call, BETA.token, UNAUTHENTICATED)
    assert "invalid API key" in details

    (ended,) = [r for r in caplog.records if r.getMessage().startswith("ended")]
    assert ended.levelno == logging.INFO
    assert ended.getMessage() == f"ended {TAIL_EVENTS} of API key 'beta': {details}"
    secret = BETA.token.removeprefix("mrk_beta_")
    assert not any(secret in record.getMessage() for record in caplog.records)


async def test_a_key_narrowed_away_from_the_namespace_ends_its_tail_permission_denied(server):
    call = await server.tail(BETA.token)
    server.files.install_keys(ALPHA.entry, rescoped(BETA, namespaces=[NS_B]))
    details = await assert_ended_as_new_calls_are(server, call, BETA.token, PERMISSION_DENIED)
    assert f"may not use namespace {NS_A!r}" in details


async def test_a_still_valid_key_keeps_its_tail_across_rechecks(server):
    call = await server.tail(BETA.token)
    # Changes that keep the tail allowed: it reads, in NS_A.
    for still_valid in (
        rescoped(BETA, access="read"),
        rescoped(BETA, namespaces=[NS_B, NS_A]),
        rescoped(BETA, namespaces=["*"], access="read"),
    ):
        server.files.install_keys(ALPHA.entry, still_valid)
        appended = await server.append()
        assert await next_event_id(call) == appended
    # The checks above did run: a revocation now ends the tail.
    server.files.install_keys(ALPHA.entry)
    await assert_ended_as_new_calls_are(server, call, BETA.token, UNAUTHENTICATED)


async def test_a_tail_is_rechecked_only_once_its_interval_has_passed(server, monkeypatch):
    monkeypatch.setattr(interceptor, "RECHECK_INTERVAL_S", 3600.0)
    call = await server.tail(BETA.token)
    server.files.install_keys(ALPHA.entry)
    appended = await server.append()
    assert await next_event_id(call) == appended  # not checked again yet
    monkeypatch.setattr(interceptor, "RECHECK_INTERVAL_S", 0.0)
    await assert_ended_as_new_calls_are(server, call, BETA.token, UNAUTHENTICATED)


# --- JWTs


async def test_a_removed_jwks_key_ends_its_tokens_tails(server):
    token = make_jwt(key=OTHER_SIGNING_KEY, kid=OTHER_KID)
    call = await server.tail(token)
    server.files.install_jwks()
    details = await assert_ended_as_new_calls_are(server, call, token, UNAUTHENTICATED)
    assert "kid names no key" in details


async def test_an_expiring_jwt_ends_its_tail_unauthenticated(server):
    # Expires, leeway included, 1 to 2 seconds from now; heartbeats carry on.
    token = make_jwt({"exp": int(time.time()) + 2 - LEEWAY_S})
    call = await server.tail(token, heartbeat_s=0.1)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await read_to_the_end(call)
    assert err.value.code() == UNAUTHENTICATED, err.value.details()
    assert err.value.details() == (await server.refused(token)).details()
    assert "expired" in err.value.details()
