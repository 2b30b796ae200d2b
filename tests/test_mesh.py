"""Connections for a service mesh (docs/deployment.md): a client that pings
every 10 s keeps a quiet tail; a client gone silent is pinged away and its
tail freed; a connection past its age is told to
reconnect while its calls go on; a tail the server ends sends where to
resume, then `OK`; tail caps count callers, not connections.

The keepalive test observes a quiet tail for 60 s, as issue 11 asks: the
server's former grpc-core defaults ended it with GOAWAY `too_many_pings`
after 30 s."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from conftest import make_settings, running
from memrpc.config import Settings, SettingsError
from memrpc.connections import server_options
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.server import MemrpcServer
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc
from stall_proxy import StallingProxy
from test_auth import NS_A, bearer
from test_credentials_reload import ALPHA, BETA
from test_event_log import duration

# Generous bound on every wait; no test relies on it being tight.
WITHIN_S = 20.0
# How a Go, Java or Envoy client keeps its connections alive: a ping every
# 10 s, whether or not calls or data flow.
PINGING_EVERY_10_S = [
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_permit_without_calls", 1),
]
QUIET_S = 60.0

TailCall = grpc.aio.UnaryStreamCall  # type: ignore[type-arg]


@contextlib.asynccontextmanager
async def serving(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, **settings: object
) -> AsyncIterator[MemrpcServer]:
    async with running(make_settings(redis_server.url, **settings), embedder) as server:
        yield server


def connect(server: MemrpcServer, options: list[tuple[str, int]] | None = None) -> grpc.aio.Channel:
    """A channel on a connection of its own."""
    return grpc.aio.insecure_channel(
        f"127.0.0.1:{server.port}",
        options=[("grpc.use_local_subchannel_pool", 1), *(options or [])],
    )


def tail(
    channel: grpc.aio.Channel,
    ns: str,
    cursors: list[ev.ThreadCursor],
    token: str | None = None,
) -> TailCall:
    """A tail of `cursors` that heartbeats only every 5 min."""
    request = ev.TailEventsRequest(namespace=ns, cursors=cursors, heartbeat_interval=duration(300))
    metadata = bearer(token) if token else None
    return event_log_pb2_grpc.EventLogStub(channel).TailEvents(request, metadata=metadata)


async def next_message(call: TailCall) -> ev.TailEventsResponse:
    message = await asyncio.wait_for(call.read(), WITHIN_S)
    assert isinstance(message, ev.TailEventsResponse), message
    return message


async def append(channel: grpc.aio.Channel, ns: str, thread: str, token: str | None = None) -> str:
    reply = await event_log_pb2_grpc.EventLogStub(channel).AppendEvents(
        ev.AppendEventsRequest(namespace=ns, thread_id=thread, events=[ev.EventInput(type="e")]),
        metadata=bearer(token) if token else None,
        timeout=WITHIN_S,
    )
    return str(reply.event_ids[0])


# --- Keepalive -------------------------------------------------------------------


async def test_a_client_pinging_every_10_s_keeps_a_quiet_tail_for_60_s(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    async with (
        serving(redis_server, embedder) as server,
        connect(server, PINGING_EVERY_10_S) as pinging,
        connect(server) as writer,
    ):
        call = tail(pinging, ns, [ev.ThreadCursor(thread_id="t")])
        assert (await next_message(call)).HasField("checkpoint")
        reading = asyncio.ensure_future(call.read())
        done, _ = await asyncio.wait({reading}, timeout=QUIET_S)
        assert not done, f"the quiet tail ended: {reading.result()!r}"
        event_id = await append(writer, ns, "t")
        message = await asyncio.wait_for(reading, WITHIN_S)
        assert isinstance(message, ev.TailEventsResponse)
        assert message.event.id == event_id
        call.cancel()


async def test_the_server_pings_a_dead_client_away_and_frees_its_tail(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    """A client whose connection goes silent (a host that vanished, a proxy
    that stopped forwarding) answers no ping: the server closes the
    connection after its keepalive timeout, and the tail it held is freed."""
    async with (
        serving(redis_server, embedder, keepalive_time=1.0, keepalive_timeout=1.0) as server,
        StallingProxy(f"redis://127.0.0.1:{server.port}") as proxy,
        grpc.aio.insecure_channel(
            f"127.0.0.1:{proxy.port}", options=[("grpc.use_local_subchannel_pool", 1)]
        ) as vanishing,
    ):
        call = tail(vanishing, ns, [ev.ThreadCursor(thread_id="t")])
        await next_message(call)
        assert server.tails.stats().subscriptions == 1
        proxy.stall()
        async with asyncio.timeout(WITHIN_S):
            while server.tails.stats().subscriptions:  # noqa: ASYNC110 - the server's state
                await asyncio.sleep(0.05)
        call.cancel()


# --- Connection age ----------------------------------------------------------------


async def test_a_connection_past_its_age_is_replaced_while_its_tail_goes_on(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    async with (
        serving(redis_server, embedder, max_connection_age=1.0) as server,
        connect(server) as channel,
    ):
        call = tail(channel, ns, [ev.ThreadCursor(thread_id="t")])
        await next_message(call)
        assert channel.get_state() is grpc.ChannelConnectivity.READY
        # GOAWAY after about a second: the channel leaves its connection ...
        async with asyncio.timeout(WITHIN_S):
            await channel.wait_for_state_change(grpc.ChannelConnectivity.READY)
        # ... and the next call opens another, transparently.
        event_id = await append(channel, ns, "t")
        # The tail on the old connection goes on (no grace: until it ends).
        assert (await next_message(call)).event.id == event_id
        call.cancel()


# --- Tails the server ends ------------------------------------------------------------


async def test_a_tail_past_its_lifetime_ends_with_a_checkpoint_then_ok_and_resumes(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    async with (
        serving(redis_server, embedder, max_tail_lifetime=0.5) as server,
        connect(server) as channel,
    ):
        first = await append(channel, ns, "t")
        call = tail(channel, ns, [ev.ThreadCursor(thread_id="t", after_event_id="0")])
        assert (await next_message(call)).HasField("checkpoint")
        assert (await next_message(call)).event.id == first
        final = await next_message(call)
        assert list(final.checkpoint.cursors) == [
            ev.ThreadCursor(thread_id="t", after_event_id=first)
        ]
        assert await call.read() is grpc.aio.EOF
        assert await call.code() == grpc.StatusCode.OK
        # Resumed from the final checkpoint: only what came after.
        second = await append(channel, ns, "t")
        resumed = tail(channel, ns, list(final.checkpoint.cursors))
        assert (await next_message(resumed)).checkpoint == final.checkpoint
        assert (await next_message(resumed)).event.id == second


# --- Tail caps per caller -------------------------------------------------------------


async def test_tails_are_capped_per_key_over_its_connections(
    tmp_path: Path, redis_server: EmbeddedRedis, embedder: BatchingEmbedder
) -> None:
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(f"{ALPHA.entry}\n\n{BETA.entry}")
    cursors = [ev.ThreadCursor(thread_id="t")]
    async with (
        serving(redis_server, embedder, auth_keys_file=keys_file, max_tails_per_caller=1) as srv,
        connect(srv) as one,
        connect(srv) as another,
    ):
        open_tail = tail(one, NS_A, cursors, ALPHA.token)
        await next_message(open_tail)
        # The same key on another connection: the same caller, over its cap.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await next_message(tail(another, NS_A, cursors, ALPHA.token))
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "for this caller, the limit is 1" in (refused.value.details() or "")
        # Another key, even on the same connection: another caller.
        await next_message(tail(one, NS_A, cursors, BETA.token))
        # A tail that ends frees its key's place.
        open_tail.cancel()
        async with asyncio.timeout(WITHIN_S):
            while srv.tails.stats().subscriptions != 1:  # noqa: ASYNC110 - the server's state
                await asyncio.sleep(0.01)
        await next_message(tail(another, NS_A, cursors, ALPHA.token))


# --- Settings ---------------------------------------------------------------------------


def test_connection_settings_become_grpc_options_and_0_leaves_them_unset() -> None:
    options = dict(server_options(Settings(max_connection_age=90, max_connection_idle=0)))
    assert options["grpc.keepalive_time_ms"] == 60_000
    assert options["grpc.keepalive_timeout_ms"] == options["grpc.http2.ping_timeout_ms"] == 20_000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.http2.min_ping_interval_without_data_ms"] == 5_000
    assert options["grpc.max_connection_age_ms"] == 90_000
    assert "grpc.max_connection_age_grace_ms" not in options
    assert "grpc.max_connection_idle_ms" not in options


@pytest.mark.parametrize("lifetime", [0.0, 300.0, 400.0])
def test_a_connection_age_grace_needs_a_shorter_tail_lifetime(lifetime: float) -> None:
    settings = Settings(max_connection_age_grace=300, max_tail_lifetime=lifetime)
    with pytest.raises(SettingsError, match="--max-tail-lifetime below it"):
        settings.validate()
    Settings(max_connection_age_grace=300, max_tail_lifetime=290).validate()
    Settings(max_connection_age=0, max_connection_age_grace=300).validate()
