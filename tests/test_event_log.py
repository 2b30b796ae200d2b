"""EventLog end to end: through the gRPC stub, against the real server and Redis."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
import pytest
import redis.asyncio
from google.protobuf import duration_pb2, struct_pb2

from conftest import make_settings, running
from memrpc.embedding import BatchingEmbedder
from memrpc.server import MemrpcServer
from memrpc.store import keys
from memrpc.store.events import EventContent, EventStore, Retention
from memrpc.store.memory_changes import CHANGES_THREAD, Change
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import event_log_pb2 as pb
from memrpc.v1 import event_log_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import working_memory_pb2 as wm_pb
from support import assert_invalid, assert_reason, error_info

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

Stub = event_log_pb2_grpc.EventLogStub
# Generous bound on any single wait; tests never rely on it being tight.
TIMEOUT = 10.0
MIB = 1024 * 1024


def event(kind: str = "note", **fields: Any) -> pb.EventInput:
    return pb.EventInput(type=kind, **fields)


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def duration(seconds: float) -> duration_pb2.Duration:
    message = duration_pb2.Duration()
    message.FromNanoseconds(round(seconds * 1e9))
    return message


def id_key(event_id: str) -> tuple[int, int]:
    ms, seq = event_id.split("-")
    return int(ms), int(seq)


async def append(
    events: Stub, ns: str, thread: str, *inputs: pb.EventInput, max_len: int = 0
) -> list[str]:
    reply = await events.AppendEvents(
        pb.AppendEventsRequest(
            namespace=ns, thread_id=thread, events=inputs or [event()], max_len=max_len
        )
    )
    return list(reply.event_ids)


async def append_many(events: Stub, ns: str, thread: str, n: int) -> list[str]:
    return await append(events, ns, thread, *(event(f"e{i}") for i in range(n)))


async def list_pages(events: Stub, ns: str, thread: str, **request: Any) -> list[list[pb.Event]]:
    """Every page of a listing, following the tokens."""
    pages, token = [], ""
    while True:
        reply = await events.ListEvents(
            pb.ListEventsRequest(namespace=ns, thread_id=thread, page_token=token, **request)
        )
        pages.append(list(reply.events))
        token = reply.next_page_token
        if not token:
            return pages


async def list_ids(events: Stub, ns: str, thread: str, **request: Any) -> list[str]:
    return [e.id for page in await list_pages(events, ns, thread, **request) for e in page]


async def expect_error(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def wait_for_clients(redis_client: redis.asyncio.Redis, command: str, count: int) -> None:
    """Waits until exactly `count` Redis clients have `command` as their last command."""
    async with asyncio.timeout(TIMEOUT):
        while await clients_running(redis_client, command) != count:  # noqa: ASYNC110 - Redis has no event for this
            await asyncio.sleep(0.02)


async def clients_running(redis_client: redis.asyncio.Redis, command: str) -> int:
    """How many Redis clients have `command` as their last command (of
    every primary, on a Redis Cluster)."""
    if isinstance(redis_client, redis.asyncio.RedisCluster):
        primaries = redis.asyncio.RedisCluster.PRIMARIES
        found = await redis_client.client_list(target_nodes=primaries)
        lists = list(found.values()) if isinstance(found, dict) else [found]
    else:
        lists = [await redis_client.client_list()]
    return sum(client["cmd"] == command for clients in lists for client in clients)


# --- Append, list, trim ---------------------------------------------------------


async def test_append_batch_reads_back_intact(events: Stub, ns: str) -> None:
    payload = {"tool": "search", "args": {"q": "x", "n": 3}, "tags": ["a", None, True]}
    inputs = [
        event("tool_call", json=struct(payload), attributes={"model": "m1", "k": "ü"}),
        event("blob", data=bytes(range(256)) * 4),
        event("empty"),
        event("nothing", data=b""),
        event("obj", json=struct({})),
    ]
    ids = await append(events, ns, "t", *inputs)
    assert len(ids) == len(inputs)
    assert [id_key(i) for i in ids] == sorted({id_key(i) for i in ids})

    (page,) = await list_pages(events, ns, "t")
    assert [e.id for e in page] == ids
    call, blob, empty, nothing, obj = page
    assert call.thread_id == "t"
    assert call.type == "tool_call"
    assert call.WhichOneof("payload") == "json"
    assert call.json == struct(payload)
    assert dict(call.attributes) == {"model": "m1", "k": "ü"}
    assert blob.data == bytes(range(256)) * 4
    assert empty.WhichOneof("payload") is None
    assert nothing.WhichOneof("payload") == "data"
    assert obj.WhichOneof("payload") == "json"
    assert not obj.attributes
    for e in page:
        assert e.create_time.ToMilliseconds() == id_key(e.id)[0]


async def test_batch_with_one_bad_event_appends_nothing(events: Stub, ns: str) -> None:
    err = await expect_error(
        events.AppendEvents(
            pb.AppendEventsRequest(
                namespace=ns, thread_id="t", events=[event(), event(), event("memrpc.turn")]
            )
        )
    )
    assert_invalid(err, "events[2].type")
    assert await list_ids(events, ns, "t") == []


async def test_list_pages_both_directions(events: Stub, ns: str) -> None:
    ids = await append_many(events, ns, "t", 7)

    pages = await list_pages(events, ns, "t", page_size=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [e.id for p in pages for e in p] == ids

    pages = await list_pages(events, ns, "t", page_size=3, descending=True)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [e.id for p in pages for e in p] == ids[::-1]

    # An exact multiple of the page size ends without an empty page.
    assert [len(p) for p in await list_pages(events, ns, "t", page_size=7)] == [7]
    # The default page holds them all.
    assert await list_ids(events, ns, "t") == ids


async def test_list_pages_of_large_events_fit_in_a_message(events: Stub, ns: str) -> None:
    ids = await append(events, ns, "t", *[event(data=b"x" * MIB)] * 6)
    # At most 3 MiB a page, whatever page_size allows: a client's default
    # channel takes it (it refuses messages over 4 MiB).
    pages = await list_pages(events, ns, "t")
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [e.id for p in pages for e in p] == ids


async def test_list_bounds_are_inclusive(events: Stub, ns: str) -> None:
    ids = await append_many(events, ns, "t", 6)
    assert await list_ids(events, ns, "t", start_event_id=ids[1], end_event_id=ids[4]) == ids[1:5]
    assert (
        await list_ids(
            events,
            ns,
            "t",
            start_event_id=ids[1],
            end_event_id=ids[4],
            descending=True,
            page_size=2,
        )
        == ids[4:0:-1]
    )
    assert await list_ids(events, ns, "t", start_event_id=ids[3]) == ids[3:]
    assert await list_ids(events, ns, "t", end_event_id=ids[2], page_size=1) == ids[:3]
    # A bare millisecond time covers every id of that millisecond.
    first_ms = ids[0].split("-")[0]
    assert await list_ids(events, ns, "t", end_event_id=first_ms) == [
        i for i in ids if i.startswith(f"{first_ms}-")
    ]
    assert await list_ids(events, ns, "t", start_event_id="0") == ids
    assert await list_ids(events, ns, "missing") == []


async def test_trim_by_length_and_by_id(events: Stub, ns: str) -> None:
    ids = await append_many(events, ns, "t", 10)

    reply = await events.TrimEvents(pb.TrimEventsRequest(namespace=ns, thread_id="t", max_len=7))
    assert reply.trimmed_count == 3
    assert await list_ids(events, ns, "t") == ids[3:]

    reply = await events.TrimEvents(
        pb.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=ids[5])
    )
    assert reply.trimmed_count == 2
    assert await list_ids(events, ns, "t") == ids[5:]

    reply = await events.TrimEvents(pb.TrimEventsRequest(namespace=ns, thread_id="t", max_len=0))
    assert reply.trimmed_count == 5
    assert await list_ids(events, ns, "t") == []
    reply = await events.TrimEvents(pb.TrimEventsRequest(namespace=ns, thread_id="t", max_len=0))
    assert reply.trimmed_count == 0


def assert_trimmed(err: grpc.aio.AioRpcError, thread: str, after: str, first: str) -> None:
    """Asserts that an error tells that `thread` was trimmed past `after`."""
    metadata = assert_reason(err, grpc.StatusCode.OUT_OF_RANGE, "EVENTS_TRIMMED")
    assert metadata == {"threadId": thread, "afterEventId": after, "firstEventId": first}


async def test_a_list_token_overtaken_by_trimming_fails(events: Stub, ns: str) -> None:
    ids = await append_many(events, ns, "t", 10)
    ascending = pb.ListEventsRequest(namespace=ns, thread_id="t", page_size=3)
    descending = pb.ListEventsRequest(namespace=ns, thread_id="t", page_size=3, descending=True)
    asc = await events.ListEvents(ascending)
    desc = await events.ListEvents(descending)
    assert [e.id for e in desc.events] == ids[:-4:-1]

    # Trimmed up to the next event of neither listing: both go on.
    await events.TrimEvents(pb.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=ids[3]))
    ascending.page_token = asc.next_page_token
    asc = await events.ListEvents(ascending)
    assert [e.id for e in asc.events] == ids[3:6]
    descending.page_token = desc.next_page_token
    desc = await events.ListEvents(descending)
    assert [e.id for e in desc.events] == ids[6:3:-1]

    # Then past the next event of each: the rest of either listing is gone.
    await events.TrimEvents(pb.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=ids[7]))
    ascending.page_token = asc.next_page_token
    assert_trimmed(await expect_error(events.ListEvents(ascending)), "t", ids[5], ids[7])
    descending.page_token = desc.next_page_token
    assert_trimmed(await expect_error(events.ListEvents(descending)), "t", ids[4], ids[7])
    await events.TrimEvents(pb.TrimEventsRequest(namespace=ns, thread_id="t", max_len=0))
    assert_trimmed(await expect_error(events.ListEvents(ascending)), "t", ids[5], "")


async def test_a_list_token_is_bound_to_its_request(events: Stub, ns: str) -> None:
    await append_many(events, ns, "t", 4)
    first = await events.ListEvents(pb.ListEventsRequest(namespace=ns, thread_id="t", page_size=2))
    token = first.next_page_token
    # page_size may change between pages.
    more = pb.ListEventsRequest(namespace=ns, thread_id="t", page_size=5, page_token=token)
    assert len((await events.ListEvents(more)).events) == 2
    not_a_token = base64.urlsafe_b64encode(b"x-1").decode()
    for other in (
        pb.ListEventsRequest(namespace=ns, thread_id="u", page_token=token),
        pb.ListEventsRequest(namespace=ns, thread_id="t", descending=True, page_token=token),
        pb.ListEventsRequest(namespace=ns, thread_id="t", start_event_id="1", page_token=token),
        pb.ListEventsRequest(namespace=ns, thread_id="t", page_token="!!"),
        pb.ListEventsRequest(namespace=ns, thread_id="t", page_token=not_a_token),
    ):
        err = await expect_error(events.ListEvents(other))
        assert_invalid(err, "page_token", "PAGE_TOKEN_INVALID")


async def test_append_max_len_bounds_the_log(
    events: Stub, ns: str, redis_client: redis.asyncio.Redis
) -> None:
    ids: list[str] = []
    for _ in range(4):
        ids += await append(events, ns, "t", *(event() for _ in range(100)), max_len=5)
    kept = await list_ids(events, ns, "t", page_size=1000)
    # `MAXLEN ~` removes whole stream nodes only: at least 5 events stay.
    assert 5 <= len(kept) < len(ids)
    assert kept == ids[-len(kept) :]
    # The namespace feed still has every event.
    assert await redis_client.xlen(keys.feed(ns)) == len(ids)


@pytest.mark.parametrize("log_max_len", [5, 5000])
async def test_the_server_sets_the_default_log_length_turns_included(
    shared_url: str, embedder: BatchingEmbedder, ns: str, log_max_len: int
) -> None:
    settings = make_settings(shared_url, event_log_max_len=log_max_len)
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stub = event_log_pb2_grpc.EventLogStub(channel)
        ids: list[str] = []
        for _ in range(12):  # no max_len: the server's
            ids += await append(stub, ns, "t", *(event() for _ in range(100)))
        turn = wm_pb.AppendTurnsRequest(
            namespace=ns, thread_id="t", turns=[wm_pb.TurnInput(role="user", content="hi")]
        )
        ids += (
            await working_memory_pb2_grpc.WorkingMemoryStub(channel).AppendTurns(turn)
        ).event_ids
        kept = await list_ids(stub, ns, "t", page_size=1000)
    if log_max_len > len(ids):  # nothing trimmed, not even by the turn
        assert kept == ids
    else:  # `MAXLEN ~` trims whole stream nodes: at least the setting stays
        assert log_max_len <= len(kept) < 200
        assert kept == ids[-len(kept) :]


async def test_reads_turns_appended_by_working_memory(
    events: Stub, wm: working_memory_pb2_grpc.WorkingMemoryStub, ns: str
) -> None:
    await create_group(events, ns, "g")
    async with tail(events, ns, [pb.ThreadCursor(thread_id="t")]) as stream:
        await next_message(stream)
        reply = await wm.AppendTurns(
            wm_pb.AppendTurnsRequest(
                namespace=ns,
                thread_id="t",
                turns=[wm_pb.TurnInput(role="user", content="hi", metadata={"tool_call_id": "c1"})],
            )
        )
        (tailed,) = await next_events(stream, 1)
    listed = await list_ids(events, ns, "t")
    (received,) = await receive(events, ns, "g", "c")
    turn = struct({"role": "user", "content": "hi", "metadata": {"tool_call_id": "c1"}})
    for read in (tailed, received.event):
        assert (read.id, read.thread_id, read.type) == (reply.event_ids[0], "t", "memrpc.turn")
        assert read.json == turn
    assert listed == list(reply.event_ids)


async def test_a_repeated_request_id_appends_once(
    events: Stub, ns: str, redis_client: redis.asyncio.Redis
) -> None:
    batch = [event("a", json=struct({"x": 1, "y": [True, None]})), event("b", data=b"\0\1")]

    def request(thread: str = "t", request_id: str = "5f0c-retry.1") -> pb.AppendEventsRequest:
        return pb.AppendEventsRequest(
            namespace=ns, thread_id=thread, events=batch, request_id=request_id
        )

    first = await events.AppendEvents(request())
    assert not first.replayed
    again = await events.AppendEvents(request())
    assert again.replayed
    assert again.event_ids == first.event_ids
    assert await list_ids(events, ns, "t") == list(first.event_ids)
    assert await redis_client.xlen(keys.feed(ns)) == 2
    # The same id in another thread, or another id, is another append.
    other_thread = await events.AppendEvents(request(thread="u"))
    other_id = await events.AppendEvents(request(request_id="5f0c-retry.2"))
    assert (other_thread.replayed, other_id.replayed) == (False, False)
    assert len(await list_ids(events, ns, "t")) == 4
    assert await redis_client.xlen(keys.feed(ns)) == 6
    # Remembered for 24 hours, then gone with its key.
    ttl_ms = await redis_client.pttl(keys.append_request(ns, "5f0c-retry.1", "t"))
    assert 23 * 3600 * 1000 < ttl_ms <= 24 * 3600 * 1000


async def test_a_retry_after_an_ambiguous_failure_appends_once(
    one_node: None, events: Stub, ns: str, redis_client: redis.asyncio.Redis
) -> None:
    request = pb.AppendEventsRequest(
        namespace=ns, thread_id="t", events=[event("once")], request_id="ambiguous"
    )
    # Writes wait in Redis, so the client gives up on an append that the
    # server has already sent, and that happens once the pause ends.
    await redis_client.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await events.AppendEvents(request, timeout=0.1)
    assert failed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    retried = await events.AppendEvents(request, timeout=TIMEOUT)
    assert retried.replayed
    (page,) = await list_pages(events, ns, "t")
    assert [(e.id, e.type) for e in page] == [(retried.event_ids[0], "once")]


async def test_a_request_id_reused_for_other_events_appends_nothing(events: Stub, ns: str) -> None:
    def request(*inputs: pb.EventInput) -> pb.AppendEventsRequest:
        return pb.AppendEventsRequest(namespace=ns, thread_id="t", events=inputs, request_id="r1")

    first = await events.AppendEvents(request(event("a")))
    for changed in ([event("b")], [event("a"), event("a")], [event("a", data=b"x")]):
        err = await expect_error(events.AppendEvents(request(*changed)))
        assert_invalid(err, "request_id", "REQUEST_ID_REUSED")
        assert error_info(err).metadata["requestId"] == "r1"
    assert await list_ids(events, ns, "t") == list(first.event_ids)


# --- Identifiers and isolation ----------------------------------------------------

HOSTILE_THREADS = ["}", "{", "|", "@", "*", '"', "'", "a b", "ünï 😀", "{x}:y", "a:b", "t*"]


async def test_hostile_thread_ids_work_and_stay_apart(events: Stub, ns: str) -> None:
    appended = {}
    for i, thread in enumerate(HOSTILE_THREADS):
        (appended[thread],) = await append(events, ns, thread, event(f"k{i}"))
    for i, thread in enumerate(HOSTILE_THREADS):
        (page,) = await list_pages(events, ns, thread)
        assert [(e.id, e.type, e.thread_id) for e in page] == [(appended[thread], f"k{i}", thread)]


async def test_namespaces_are_isolated(events: Stub, ns: str) -> None:
    other = f"t{uuid.uuid4().hex[:16]}"
    await create_group(events, ns, "g", pb.GROUP_START_POSITION_EARLIEST)
    async with tail(events, ns, [pb.ThreadCursor(thread_id="t", after_event_id="0")]) as stream:
        assert (await next_message(stream)).HasField("checkpoint")
        await append(events, other, "t", event("theirs"))
        (mine,) = await append(events, ns, "t", event("mine"))
        seen = await next_message(stream)
        assert (seen.event.id, seen.event.type) == (mine, "mine")

    assert await list_ids(events, ns, "t") == [mine]
    assert [e.type for page in await list_pages(events, other, "t") for e in page] == ["theirs"]
    received = await receive(events, ns, "g", "c")
    assert [(r.event.id, r.event.type) for r in received] == [(mine, "mine")]
    # The other namespace has no such group.
    err = await expect_error(events.ReceiveEvents(receive_request(other, "g", "c")))
    assert err.code() == grpc.StatusCode.NOT_FOUND


# --- Reserved threads: the server's, read but not written ----------------------------

RESERVED_THREADS = [CHANGES_THREAD, "memrpc.", "memrpc.other"]


def _writes(ns: str, thread: str) -> list[tuple[str, Any]]:
    """A valid request of each method that writes a thread, on `thread`."""
    turn = wm_pb.TurnInput(role="user", content="hi")
    return [
        ("AppendEvents", pb.AppendEventsRequest(namespace=ns, thread_id=thread, events=[event()])),
        ("TrimEvents", pb.TrimEventsRequest(namespace=ns, thread_id=thread, max_len=0)),
        (
            "UpdateSession",
            wm_pb.UpdateSessionRequest(
                namespace=ns, thread_id=thread, session=wm_pb.SessionInput(goal="g")
            ),
        ),
        ("AppendTurns", wm_pb.AppendTurnsRequest(namespace=ns, thread_id=thread, turns=[turn])),
        ("DeleteSession", wm_pb.DeleteSessionRequest(namespace=ns, thread_id=thread)),
    ]


@pytest.mark.parametrize("thread", RESERVED_THREADS)
async def test_a_reserved_thread_is_not_written_by_clients(
    events: Stub, channel: grpc.aio.Channel, ns: str, thread: str
) -> None:
    wm = working_memory_pb2_grpc.WorkingMemoryStub(channel)
    for method, request in _writes(ns, thread):
        stub = events if method.endswith("Events") else wm
        err = await expect_error(getattr(stub, method)(request))
        assert_invalid(err, "thread_id")
        assert "must not start with 'memrpc.'" in (err.details() or ""), method
    assert await list_ids(events, ns, thread) == []
    get = wm_pb.GetSessionRequest(namespace=ns, thread_id=thread)
    assert (await expect_error(wm.GetSession(get))).code() == grpc.StatusCode.NOT_FOUND
    # Only the prefix, as written, is reserved: these are the client's.
    for own in ("memrpc", "memrpcx.y", "Memrpc.memories", "x.memrpc.memories"):
        for method, request in _writes(ns, own):
            stub = events if method.endswith("Events") else wm
            if method != "DeleteSession":
                await getattr(stub, method)(request)


async def test_a_reserved_thread_is_read_like_any_other(
    events: Stub, channel: grpc.aio.Channel, mux: RedisMux, ns: str
) -> None:
    await create_group(events, ns, "g", pb.GROUP_START_POSITION_EARLIEST)
    # What the server's jobs append (`store/memory_changes.py`).
    change = EventContent(type=Change.FORGOTTEN, json='{"memory_id": "m", "rule": "budget"}')
    log = EventStore(mux, Retention(log_max_len=100, feed_max_len=100))
    [written] = (await log.append(ns, CHANGES_THREAD, [change])).ids
    assert await list_ids(events, ns, CHANGES_THREAD) == [written]
    cursor = pb.ThreadCursor(thread_id=CHANGES_THREAD, after_event_id="0")
    async with tail(events, ns, [cursor]) as stream:
        assert (await next_message(stream)).HasField("checkpoint")  # the resolved cursors
        [seen] = await next_events(stream, 1)
    assert (seen.id, seen.thread_id, seen.type) == (written, CHANGES_THREAD, Change.FORGOTTEN)
    assert seen.json["rule"] == "budget"
    received = await receive(events, ns, "g", "c")
    assert [(r.event.id, r.event.thread_id) for r in received] == [(written, CHANGES_THREAD)]
    assert await acknowledge(events, ns, "g", received) == 1
    wm = working_memory_pb2_grpc.WorkingMemoryStub(channel)
    context = await wm.GetContext(wm_pb.GetContextRequest(namespace=ns, thread_id=CHANGES_THREAD))
    assert not context.HasField("session")


# --- Validation -------------------------------------------------------------------


def _append_request(**overrides: Any) -> pb.AppendEventsRequest:
    request: dict[str, Any] = {"namespace": "ns", "thread_id": "t", "events": [event()]}
    return pb.AppendEventsRequest(**(request | overrides))


INVALID_REQUESTS: list[tuple[str, str, Any]] = [
    ("AppendEvents", "namespace", _append_request(namespace="")),
    ("AppendEvents", "request_id", _append_request(request_id="a:b")),
    ("AppendEvents", "request_id", _append_request(request_id="{x}")),
    ("AppendEvents", "request_id", _append_request(request_id="x" * 65)),
    ("AppendEvents", "namespace", _append_request(namespace="a{b}")),
    ("AppendEvents", "namespace", _append_request(namespace="-a")),
    ("AppendEvents", "thread_id", _append_request(thread_id="")),
    ("AppendEvents", "thread_id", _append_request(thread_id=" t")),
    ("AppendEvents", "thread_id", _append_request(thread_id="a\nb")),
    ("AppendEvents", "thread_id", _append_request(thread_id="x" * 129)),
    ("AppendEvents", "events", _append_request(events=[])),
    ("AppendEvents", "events", _append_request(events=[event()] * 101)),
    ("AppendEvents", "events[1].type", _append_request(events=[event(), event("")])),
    ("AppendEvents", "events[0].type", _append_request(events=[event("x" * 129)])),
    ("AppendEvents", "events[0].type", _append_request(events=[event("memrpc.turn")])),
    ("AppendEvents", "events[0].data", _append_request(events=[event(data=b"x" * (MIB + 1))])),
    (
        "AppendEvents",
        "events[0].json",
        _append_request(events=[event(json=struct({"s": "x" * MIB}))]),
    ),
    (
        "AppendEvents",
        "events[0].json",
        _append_request(events=[event(json=struct({"n": float("nan")}))]),
    ),
    (
        "AppendEvents",
        "events[0].attributes",
        _append_request(events=[event(attributes={str(i): "v" for i in range(65)})]),
    ),
    ("AppendEvents", "max_len", _append_request(max_len=1_000_001)),
    ("AppendEvents", "max_len", _append_request(max_len=-1)),
    ("ListEvents", "thread_id", pb.ListEventsRequest(namespace="ns")),
    (
        "ListEvents",
        "start_event_id",
        pb.ListEventsRequest(namespace="ns", thread_id="t", start_event_id="abc"),
    ),
    (
        "ListEvents",
        "start_event_id",
        pb.ListEventsRequest(namespace="ns", thread_id="t", start_event_id=f"{2**64}-0"),
    ),
    (
        "ListEvents",
        "end_event_id",
        pb.ListEventsRequest(namespace="ns", thread_id="t", end_event_id="1-2-3"),
    ),
    (
        "ListEvents",
        "page_size",
        pb.ListEventsRequest(namespace="ns", thread_id="t", page_size=1001),
    ),
    ("TrimEvents", "strategy", pb.TrimEventsRequest(namespace="ns", thread_id="t")),
    ("TrimEvents", "max_len", pb.TrimEventsRequest(namespace="ns", thread_id="t", max_len=-1)),
    (
        "TrimEvents",
        "min_event_id",
        pb.TrimEventsRequest(namespace="ns", thread_id="t", min_event_id="1-x"),
    ),
    ("TrimEvents", "namespace", pb.TrimEventsRequest(namespace="", thread_id="t", max_len=1)),
    ("CreateConsumerGroup", "group", pb.CreateConsumerGroupRequest(namespace="ns")),
    ("CreateConsumerGroup", "group", pb.CreateConsumerGroupRequest(namespace="ns", group="a b")),
    (
        "CreateConsumerGroup",
        "start_position",
        pb.CreateConsumerGroupRequest(namespace="ns", group="g", start_position=7),  # type: ignore[arg-type]
    ),
    ("DeleteConsumerGroup", "group", pb.DeleteConsumerGroupRequest(namespace="ns", group="x" * 65)),
    ("DeleteConsumerGroup", "namespace", pb.DeleteConsumerGroupRequest(group="g")),
    ("ReceiveEvents", "group", pb.ReceiveEventsRequest(namespace="ns", consumer="c")),
    ("ReceiveEvents", "consumer", pb.ReceiveEventsRequest(namespace="ns", group="g")),
    (
        "ReceiveEvents",
        "consumer",
        pb.ReceiveEventsRequest(namespace="ns", group="g", consumer="c/1"),
    ),
    (
        "ReceiveEvents",
        "max_events",
        pb.ReceiveEventsRequest(namespace="ns", group="g", consumer="c", max_events=1001),
    ),
    (
        "ReceiveEvents",
        "wait",
        pb.ReceiveEventsRequest(namespace="ns", group="g", consumer="c", wait=duration(31)),
    ),
    (
        "ReceiveEvents",
        "wait",
        pb.ReceiveEventsRequest(namespace="ns", group="g", consumer="c", wait=duration(-1)),
    ),
    (
        "ReceiveEvents",
        "redeliver_after",
        pb.ReceiveEventsRequest(
            namespace="ns", group="g", consumer="c", redeliver_after=duration(0.05)
        ),
    ),
    (
        "ReceiveEvents",
        "redeliver_after",
        pb.ReceiveEventsRequest(
            namespace="ns", group="g", consumer="c", redeliver_after=duration(86_401)
        ),
    ),
    ("AcknowledgeEvents", "delivery_ids", pb.AcknowledgeEventsRequest(namespace="ns", group="g")),
    (
        "AcknowledgeEvents",
        "delivery_ids",
        pb.AcknowledgeEventsRequest(
            namespace="ns", group="g", delivery_ids=[f"1-{i}" for i in range(1001)]
        ),
    ),
    (
        "AcknowledgeEvents",
        "delivery_ids[2]",
        pb.AcknowledgeEventsRequest(namespace="ns", group="g", delivery_ids=["1-0", "1-0", "x"]),
    ),
]


@pytest.mark.parametrize(
    ("method", "field", "request_"),
    INVALID_REQUESTS,
    ids=[f"{method}-{field}-{i}" for i, (method, field, _) in enumerate(INVALID_REQUESTS)],
)
async def test_invalid_requests_name_the_field(
    events: Stub, method: str, field: str, request_: Any
) -> None:
    assert_invalid(await expect_error(getattr(events, method)(request_)), field)


INVALID_TAILS: list[tuple[str, pb.TailEventsRequest]] = [
    ("namespace", pb.TailEventsRequest(cursors=[pb.ThreadCursor(thread_id="t")])),
    ("cursors", pb.TailEventsRequest(namespace="ns")),
    (
        "cursors",
        pb.TailEventsRequest(
            namespace="ns", cursors=[pb.ThreadCursor(thread_id=f"t{i}") for i in range(101)]
        ),
    ),
    (
        "cursors[1].thread_id",
        pb.TailEventsRequest(
            namespace="ns", cursors=[pb.ThreadCursor(thread_id="t"), pb.ThreadCursor(thread_id="")]
        ),
    ),
    (
        "cursors[2].thread_id",
        pb.TailEventsRequest(
            namespace="ns",
            cursors=[
                pb.ThreadCursor(thread_id="t"),
                pb.ThreadCursor(thread_id="u"),
                pb.ThreadCursor(thread_id="t", after_event_id="0"),
            ],
        ),
    ),
    (
        "cursors[1].after_event_id",
        pb.TailEventsRequest(
            namespace="ns",
            cursors=[
                pb.ThreadCursor(thread_id="t"),
                pb.ThreadCursor(thread_id="u", after_event_id="$"),
            ],
        ),
    ),
    (
        "heartbeat_interval",
        pb.TailEventsRequest(
            namespace="ns",
            cursors=[pb.ThreadCursor(thread_id="t")],
            heartbeat_interval=duration(0.05),
        ),
    ),
    (
        "heartbeat_interval",
        pb.TailEventsRequest(
            namespace="ns",
            cursors=[pb.ThreadCursor(thread_id="t")],
            heartbeat_interval=duration(301),
        ),
    ),
]


@pytest.mark.parametrize(("field", "request_"), INVALID_TAILS)
async def test_invalid_tails_name_the_field(
    events: Stub, field: str, request_: pb.TailEventsRequest
) -> None:
    call = events.TailEvents(request_)
    err = await expect_error(call.read())
    assert_invalid(err, field)


# --- Tail -----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def tail(
    events: Stub, ns: str, cursors: Sequence[pb.ThreadCursor], heartbeat: float = 0.0
) -> AsyncIterator[Any]:
    """A tail call, cancelled when the `async with` block ends."""
    call = events.TailEvents(
        pb.TailEventsRequest(
            namespace=ns,
            cursors=cursors,
            heartbeat_interval=duration(heartbeat) if heartbeat else None,
        )
    )
    try:
        yield call
    finally:
        call.cancel()


async def next_message(call: Any) -> pb.TailEventsResponse:
    async with asyncio.timeout(TIMEOUT):
        message = await call.read()
    assert message is not grpc.aio.EOF
    return message  # type: ignore[no-any-return]


async def next_events(call: Any, n: int) -> list[pb.Event]:
    """The next `n` messages of a tail, all events."""
    messages = [await next_message(call) for _ in range(n)]
    assert all(m.HasField("event") for m in messages), messages
    return [m.event for m in messages]


def cursors_of(message: pb.TailEventsResponse) -> dict[str, str]:
    assert message.HasField("checkpoint"), message
    return {c.thread_id: c.after_event_id for c in message.checkpoint.cursors}


async def test_tail_starts_now_and_delivers_appended_events(events: Stub, ns: str) -> None:
    old = await append_many(events, ns, "t", 2)
    async with tail(events, ns, [pb.ThreadCursor(thread_id="t")]) as stream:
        assert cursors_of(await next_message(stream)) == {"t": old[-1]}
        new = await append(events, ns, "t", event("a", data=b"1"), event("b", json=struct({})))
        got = await next_events(stream, 2)
    assert [e.id for e in got] == new
    assert [(e.type, e.thread_id) for e in got] == [("a", "t"), ("b", "t")]
    assert got[0].data == b"1"
    assert got[1].WhichOneof("payload") == "json"


async def test_tail_of_empty_log_starts_at_zero(events: Stub, ns: str) -> None:
    async with tail(events, ns, [pb.ThreadCursor(thread_id="t")]) as stream:
        assert cursors_of(await next_message(stream)) == {"t": "0-0"}
        (new,) = await append(events, ns, "t")
        (got,) = await next_events(stream, 1)
    assert got.id == new


async def test_tail_sends_checkpoints_when_quiet(events: Stub, ns: str) -> None:
    (first,) = await append(events, ns, "t")
    cursors = [pb.ThreadCursor(thread_id="t"), pb.ThreadCursor(thread_id="u", after_event_id="0")]
    async with tail(events, ns, cursors, heartbeat=0.2) as stream:
        resolved = cursors_of(await next_message(stream))
        assert resolved == {"t": first, "u": "0"}
        assert cursors_of(await next_message(stream)) == resolved
        assert cursors_of(await next_message(stream)) == resolved
        (new,) = await append(events, ns, "u")
        (got,) = await next_events(stream, 1)
        assert got.id == new
        assert cursors_of(await next_message(stream)) == {"t": first, "u": new}


async def test_tail_resumes_from_cursor_without_gap_or_duplicate(events: Stub, ns: str) -> None:
    ids = await append_many(events, ns, "t", 3)
    async with tail(events, ns, [pb.ThreadCursor(thread_id="t")]) as stream:
        await next_message(stream)
        ids += await append_many(events, ns, "t", 2)
        (seen, _) = await next_events(stream, 2)
    # The client processed ids[3] only, then lost the stream; more come meanwhile.
    assert seen.id == ids[3]
    ids += await append_many(events, ns, "t", 2)

    cursors = [pb.ThreadCursor(thread_id="t", after_event_id=seen.id)]
    async with tail(events, ns, cursors, heartbeat=0.2) as stream:
        assert cursors_of(await next_message(stream)) == {"t": seen.id}
        missed = await next_events(stream, 3)
        assert [e.id for e in missed] == ids[4:]
        # Then nothing more than a checkpoint at the last event.
        assert cursors_of(await next_message(stream)) == {"t": ids[-1]}

    # `0` replays the whole log.
    async with tail(events, ns, [pb.ThreadCursor(thread_id="t", after_event_id="0")]) as stream:
        await next_message(stream)
        assert [e.id for e in await next_events(stream, len(ids))] == ids


async def read_to_the_end(call: Any, received: list[str]) -> None:
    """Reads a tail to its end, the ids of its events into `received`."""
    async with asyncio.timeout(TIMEOUT):
        while (message := await call.read()) is not grpc.aio.EOF:
            if message.HasField("event"):
                received.append(message.event.id)


async def tail_error(call: Any, received: list[str] | None = None) -> grpc.aio.AioRpcError:
    """How a tail ends, once every message before its end is read (the ids
    of its events into `received`)."""
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        await read_to_the_end(call, [] if received is None else received)
    return ended.value


async def test_a_tail_opened_below_the_trimmed_history_fails(events: Stub, ns: str) -> None:
    ids = await append_many(events, ns, "t", 6)
    await events.TrimEvents(pb.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=ids[3]))
    # Events after the cursor are gone.
    async with tail(events, ns, [pb.ThreadCursor(thread_id="t", after_event_id=ids[1])]) as stream:
        assert_trimmed(await tail_error(stream), "t", ids[1], ids[3])
    # From the cursor whose own event was the last one trimmed (nothing
    # after it is gone: the oldest event left records it came next), from
    # the oldest event left, or from `0`, nothing is missing.
    for after, missed in ((ids[2], ids[3:]), (ids[3], ids[4:]), ("0", ids[3:])):
        async with tail(
            events, ns, [pb.ThreadCursor(thread_id="t", after_event_id=after)]
        ) as stream:
            assert cursors_of(await next_message(stream)) == {"t": after}
            assert [e.id for e in await next_events(stream, len(missed))] == missed
    # An emptied log: trimmed past every cursor below its last event.
    await events.TrimEvents(pb.TrimEventsRequest(namespace=ns, thread_id="t", max_len=0))
    async with tail(events, ns, [pb.ThreadCursor(thread_id="t", after_event_id=ids[4])]) as stream:
        assert_trimmed(await tail_error(stream), "t", ids[4], "")
    cursors = [pb.ThreadCursor(thread_id="t", after_event_id=c) for c in (ids[5],)]
    async with tail(events, ns, cursors, heartbeat=0.2) as stream:
        assert cursors_of(await next_message(stream)) == {"t": ids[5]}
        assert cursors_of(await next_message(stream)) == {"t": ids[5]}


async def test_a_slow_tail_overtaken_by_trimming_gets_every_event_before_the_gap(
    memrpc_server: MemrpcServer, ns: str
) -> None:
    # The scenario, smaller: a log kept at about 1,000 events, a
    # tail whose client reads nothing while 5,000 events of 1 KiB come
    # (more than gRPC's windows hold: no BDP probing), then reads on.
    options = [("grpc.http2.bdp_probe", 0)]
    address = f"127.0.0.1:{memrpc_server.port}"
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        stub = event_log_pb2_grpc.EventLogStub(channel)
        (start,) = await append(stub, ns, "t")
        async with tail(stub, ns, [pb.ThreadCursor(thread_id="t", after_event_id=start)]) as stream:
            await next_message(stream)
            appended: list[str] = []
            for _ in range(50):
                batch = [event(data=b"x" * 1024)] * 100
                appended += await append(stub, ns, "t", *batch, max_len=1000)
            received: list[str] = []
            ended = await tail_error(stream, received)
        # Exactly a prefix of what was appended, then the gap, told.
        assert 0 < len(received) < len(appended)
        assert received == appended[: len(received)]
        (oldest,) = (
            await stub.ListEvents(pb.ListEventsRequest(namespace=ns, thread_id="t", page_size=1))
        ).events
        assert_trimmed(ended, "t", received[-1], oldest.id)


async def test_tail_follows_several_threads(events: Stub, ns: str) -> None:
    threads = ["a", "ünï }{ 😀", "c"]
    async with tail(events, ns, [pb.ThreadCursor(thread_id=t) for t in threads]) as stream:
        assert cursors_of(await next_message(stream)) == dict.fromkeys(threads, "0-0")
        appended = {(t, (await append(events, ns, t))[0]) for t in reversed(threads)}
        got = await next_events(stream, 3)
    assert {(e.thread_id, e.id) for e in got} == appended


async def test_tails_share_one_redis_read_released_when_they_end(
    one_node: None, events: Stub, ns: str, redis_client: redis.asyncio.Redis
) -> None:
    # The tails of earlier tests are gone (their closing is asynchronous).
    await wait_for_clients(redis_client, "xread", 0)
    async with contextlib.AsyncExitStack() as stack:
        streams = [
            await stack.enter_async_context(tail(events, ns, [pb.ThreadCursor(thread_id="t")]))
            for _ in range(100)
        ]
        for stream in streams:
            await next_message(stream)
        await wait_for_clients(redis_client, "xread", 1)
        appended = await append_many(events, ns, "t", 3)
        appended += await append(events, ns, "t")
        for stream in streams:
            assert [e.id for e in await next_events(stream, 4)] == appended
        # One connection reads for the hundred tails.
        assert await clients_running(redis_client, "xread") == 1
    await wait_for_clients(redis_client, "xread", 0)


async def test_server_shutdown_ends_tails_and_waits(
    one_node: None,
    shared_url: str,
    embedder: BatchingEmbedder,
    redis_client: redis.asyncio.Redis,
    ns: str,
) -> None:
    server = MemrpcServer(make_settings(shared_url), embedder=embedder)
    await server.start()
    stopped = False
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = event_log_pb2_grpc.EventLogStub(channel)
            await create_group(stub, ns, "g")
            cursors = [pb.ThreadCursor(thread_id="t")]
            async with tail(stub, ns, cursors, heartbeat=300) as stream:
                await next_message(stream)
                waiting = asyncio.ensure_future(receive(stub, ns, "g", "c", wait=duration(30)))
                # Both block in Redis.
                await wait_for_clients(redis_client, "xread", 1)
                await wait_for_clients(redis_client, "xreadgroup", 1)
                async with asyncio.timeout(TIMEOUT):
                    await server.stop()
                    stopped = True
                    # Where to resume, then OK.
                    final = await stream.read()
                    assert final.checkpoint.cursors == [
                        pb.ThreadCursor(thread_id="t", after_event_id="0-0")
                    ]
                    assert await stream.read() is grpc.aio.EOF
                    assert await stream.code() == grpc.StatusCode.OK
                    assert await waiting == []
    finally:
        if not stopped:
            await server.stop()


# --- Consumer groups --------------------------------------------------------------


def receive_request(ns: str, group: str, consumer: str, **fields: Any) -> pb.ReceiveEventsRequest:
    return pb.ReceiveEventsRequest(namespace=ns, group=group, consumer=consumer, **fields)


async def receive(
    events: Stub, ns: str, group: str, consumer: str, **fields: Any
) -> list[pb.ReceivedEvent]:
    reply = await events.ReceiveEvents(receive_request(ns, group, consumer, **fields))
    return list(reply.events)


async def create_group(
    events: Stub, ns: str, group: str, start: pb.GroupStartPosition.ValueType = 0
) -> None:
    await events.CreateConsumerGroup(
        pb.CreateConsumerGroupRequest(namespace=ns, group=group, start_position=start)
    )


async def acknowledge(
    events: Stub, ns: str, group: str, received: Sequence[pb.ReceivedEvent]
) -> int:
    reply = await events.AcknowledgeEvents(
        pb.AcknowledgeEventsRequest(
            namespace=ns, group=group, delivery_ids=[r.delivery_id for r in received]
        )
    )
    return reply.acknowledged_count


async def test_group_starts_latest_or_earliest(events: Stub, ns: str) -> None:
    (old,) = await append(events, ns, "t")
    await create_group(events, ns, "latest")
    await create_group(events, ns, "explicit", pb.GROUP_START_POSITION_LATEST)
    await create_group(events, ns, "earliest", pb.GROUP_START_POSITION_EARLIEST)
    (new,) = await append(events, ns, "t")
    for group in ("latest", "explicit"):
        assert [r.event.id for r in await receive(events, ns, group, "c")] == [new]
    assert [r.event.id for r in await receive(events, ns, "earliest", "c")] == [old, new]


async def test_group_receives_every_thread_and_acknowledges(events: Stub, ns: str) -> None:
    await create_group(events, ns, "g")
    appended = [
        ("t1", (await append(events, ns, "t1", event("a", data=b"x")))[0]),
        ("t2", (await append(events, ns, "t2", event("b", attributes={"k": "v"})))[0]),
        ("t1", (await append(events, ns, "t1", event("c", json=struct({"n": 1}))))[0]),
    ]
    first = await receive(events, ns, "g", "c", max_events=2)
    rest = await receive(events, ns, "g", "c")
    received = first + rest
    assert [len(first), len(rest)] == [2, 1]
    assert [(r.event.thread_id, r.event.id) for r in received] == appended
    assert all(r.delivery_count == 1 for r in received)
    assert [r.event.type for r in received] == ["a", "b", "c"]
    assert received[0].event.data == b"x"
    assert dict(received[1].event.attributes) == {"k": "v"}
    assert received[2].event.json == struct({"n": 1})
    assert received[0].event.create_time.ToMilliseconds() == id_key(appended[0][1])[0]
    assert await receive(events, ns, "g", "c") == []

    assert await acknowledge(events, ns, "g", received) == 3
    assert await acknowledge(events, ns, "g", received) == 0


async def test_receive_of_large_events_fits_in_a_message(events: Stub, ns: str) -> None:
    await create_group(events, ns, "g")
    ids = await append(events, ns, "t", *[event(data=b"x" * (MIB // 8))] * 5)
    # Events are taken until they hold about 333 KB stored, whatever
    # max_events allows: a client's default channel takes the batch (it
    # refuses messages over 4 MiB) even when JSON payloads grow as protobuf.
    batches = [await receive(events, ns, "g", "c") for _ in range(3)]
    assert [len(b) for b in batches] == [3, 2, 0]
    assert [r.event.id for b in batches for r in b] == ids


async def test_unacknowledged_events_go_to_another_consumer(events: Stub, ns: str) -> None:
    await create_group(events, ns, "g")
    ids = await append_many(events, ns, "t", 2)
    by_a = await receive(events, ns, "g", "a")
    assert [(r.event.id, r.delivery_count) for r in by_a] == [(i, 1) for i in ids]

    # Not idle for the default 60 s yet: B gets nothing.
    assert await receive(events, ns, "g", "b") == []
    await asyncio.sleep(0.3)
    by_b = await receive(events, ns, "g", "b", redeliver_after=duration(0.2))
    assert [(r.delivery_id, r.event.id, r.delivery_count) for r in by_b] == [
        (r.delivery_id, r.event.id, 2) for r in by_a
    ]
    assert await acknowledge(events, ns, "g", by_b) == 2

    await asyncio.sleep(0.3)
    assert await receive(events, ns, "g", "a", redeliver_after=duration(0.2)) == []


async def test_receive_waits_for_the_next_event(
    events: Stub, ns: str, redis_client: redis.asyncio.Redis
) -> None:
    await create_group(events, ns, "g")
    await wait_for_clients(redis_client, "xreadgroup", 0)
    waiting = asyncio.ensure_future(receive(events, ns, "g", "c", wait=duration(30)))
    # Once the receive blocks in Redis, append.
    await wait_for_clients(redis_client, "xreadgroup", 1)
    (new,) = await append(events, ns, "t")
    async with asyncio.timeout(TIMEOUT):
        received = await waiting
    assert [(r.event.id, r.delivery_count) for r in received] == [(new, 1)]
    await wait_for_clients(redis_client, "xreadgroup", 0)


async def test_receive_wait_ends_empty(events: Stub, ns: str) -> None:
    await create_group(events, ns, "g")
    assert await receive(events, ns, "g", "c", wait=duration(0.1)) == []


async def test_group_errors(events: Stub, ns: str) -> None:
    def missing(err: grpc.aio.AioRpcError) -> None:
        found = assert_reason(err, grpc.StatusCode.NOT_FOUND, "CONSUMER_GROUP_NOT_FOUND")
        assert found == {"namespace": ns, "group": "g"}
        assert "'g'" in (err.details() or "")
        assert ns in (err.details() or "")

    # No feed at all yet.
    missing(await expect_error(events.ReceiveEvents(receive_request(ns, "g", "c"))))
    missing(
        await expect_error(
            events.DeleteConsumerGroup(pb.DeleteConsumerGroupRequest(namespace=ns, group="g"))
        )
    )
    await create_group(events, ns, "other")
    # A feed without that group.
    missing(
        await expect_error(events.ReceiveEvents(receive_request(ns, "g", "c", wait=duration(1))))
    )

    await create_group(events, ns, "g")
    err = await expect_error(create_group(events, ns, "g", pb.GROUP_START_POSITION_EARLIEST))
    found = assert_reason(err, grpc.StatusCode.ALREADY_EXISTS, "CONSUMER_GROUP_ALREADY_EXISTS")
    assert found == {"namespace": ns, "group": "g"}

    await events.DeleteConsumerGroup(pb.DeleteConsumerGroupRequest(namespace=ns, group="g"))
    missing(await expect_error(events.ReceiveEvents(receive_request(ns, "g", "c"))))
    missing(
        await expect_error(
            events.DeleteConsumerGroup(pb.DeleteConsumerGroupRequest(namespace=ns, group="g"))
        )
    )
    reply = await events.AcknowledgeEvents(
        pb.AcknowledgeEventsRequest(namespace=ns, group="g", delivery_ids=["1-0"])
    )
    assert reply.acknowledged_count == 0
