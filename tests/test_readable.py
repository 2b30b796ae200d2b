"""Every accepted write stays readable by a client with no options.

A gRPC client refuses a message over 4 MiB by default, and the protobuf
runtimes of Python, Java and C++ refuse one nested deeper than 100 levels.
Whatever a write RPC accepts must come back through every read RPC to such a
client: `grpc.aio.insecure_channel(target)`, no options. The regression
tests pin each way this once failed (a consumer group jammed by a deep
payload, a receive batch of JSON that grew as protobuf, search and list
responses over 4 MiB, an unknown enum value accepted); the property test
writes maximal values through every write RPC and reads them all back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from google.protobuf import descriptor, json_format, message_factory, struct_pb2
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from memrpc.limits import (
    MAX_CONTENT_CHARS,
    MAX_GOAL_CHARS,
    MAX_METADATA_ENTRIES,
    MAX_METADATA_VALUE_CHARS,
    MAX_PAYLOAD_BYTES,
    MAX_PAYLOAD_DEPTH,
    MAX_SCRATCHPAD_CHARS,
    SESSION_PAGE_SIZE,
)
from memrpc.server import MemrpcServer
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm
from support import REPRODUCIBLE, assert_invalid

# Bound on any one wait; tests never rely on it being tight.
TIMEOUT = 30.0
DIM = 384
MIB = 1024 * 1024
# The server's default limits (conftest's server runs with them).
MAX_TEXT_CHARS = 8192
MAX_METADATA_BYTES = 256 * 1024
MAX_SEARCH_LIMIT = 100
# Characters of 4 bytes in UTF-8, the most a character can take.
WIDE = ["😀", "𝄞", "🦀", "𐍈"]
# A character of 4 bytes in UTF-8.
EMOJI = WIDE[0]


@pytest.fixture
async def default_channel(memrpc_server: MemrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    """A channel as a client makes it with no options: 4 MiB receive limit."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{memrpc_server.port}") as channel:
        yield channel


# -- Values at their limits -------------------------------------------------------


def nested(objects: int, leaf: Any = 1) -> dict[str, Any]:
    """`objects` JSON objects nested in one another, `leaf` in the innermost:
    3 protobuf message levels an object (with a scalar leaf)."""
    value: Any = leaf
    for _ in range(objects):
        value = {"a": value}
    return dict(value)


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(value, message)
    return message


# The deepest payload accepted: MAX_PAYLOAD_DEPTH (60) levels of objects.
DEEPEST = nested(MAX_PAYLOAD_DEPTH // 3)
# One level deeper: an empty list (ListValue, 61) in place of the leaf.
TOO_DEEP = nested(MAX_PAYLOAD_DEPTH // 3, leaf=[])
# The same through lists: 5 levels to the Struct in the outer list, 3 an
# object, then 2 a list: 5 + 3 * 17 + 4 = 60.
DEEPEST_LISTS = {"l": [nested(17, leaf=[[1]])]}
TOO_DEEP_LISTS = {"l": [nested(17, leaf=[[[]]])]}
# A list of one-digit numbers takes 5.5 times as much as protobuf as it does
# as JSON: this one is just within 1 MiB as protobuf (190 KB of JSON).
NUMBERS = {"n": [7] * ((MAX_PAYLOAD_BYTES - 16) // 11)}


def metadata(char: str, max_bytes: int = MAX_METADATA_BYTES) -> dict[str, str]:
    """A map at its limits: 64 entries, values of `char` up to 4,096
    characters, `max_bytes` of keys and values in all."""
    entries: dict[str, str] = {}
    left = max_bytes
    for i in range(MAX_METADATA_ENTRIES):
        key = f"k{i:02d}"
        chars = min(MAX_METADATA_VALUE_CHARS, (left - len(key)) // len(char.encode()))
        if chars <= 0:
            break
        entries[key] = char * chars
        left -= len(key) + len(entries[key].encode())
    return entries


def unit_vector(rng: np.random.Generator) -> list[float]:
    vector = rng.standard_normal(DIM)
    return [float(x) for x in vector / np.linalg.norm(vector)]


# -- Reading everything back ---------------------------------------------------------


async def list_all_events(
    stub: event_log_pb2_grpc.EventLogStub, ns: str, thread: str
) -> list[ev.Event]:
    found: list[ev.Event] = []
    token = ""
    for _ in range(1000):
        page = await stub.ListEvents(
            ev.ListEventsRequest(namespace=ns, thread_id=thread, page_size=1000, page_token=token),
            timeout=TIMEOUT,
        )
        found.extend(page.events)
        token = page.next_page_token
        if not token:
            return found
    raise AssertionError("ListEvents did not end")


async def tail_events(
    stub: event_log_pb2_grpc.EventLogStub, ns: str, thread: str, count: int
) -> list[ev.Event]:
    request = ev.TailEventsRequest(
        namespace=ns, cursors=[ev.ThreadCursor(thread_id=thread, after_event_id="0")]
    )
    tail = stub.TailEvents(request, timeout=TIMEOUT)
    found: list[ev.Event] = []
    async for message in tail:
        if message.HasField("event"):
            found.append(message.event)
        if len(found) == count:
            tail.cancel()
            return found
    raise AssertionError("TailEvents ended early")


async def receive_all(
    stub: event_log_pb2_grpc.EventLogStub, ns: str, group: str, count: int
) -> list[ev.Event]:
    found: list[ev.Event] = []
    for _ in range(count + 1):
        batch = await stub.ReceiveEvents(
            ev.ReceiveEventsRequest(namespace=ns, group=group, consumer="c", max_events=1000),
            timeout=TIMEOUT,
        )
        if not batch.events:
            return found
        found.extend(received.event for received in batch.events)
        await stub.AcknowledgeEvents(
            ev.AcknowledgeEventsRequest(
                namespace=ns, group=group, delivery_ids=[r.delivery_id for r in batch.events]
            ),
            timeout=TIMEOUT,
        )
    raise AssertionError("ReceiveEvents did not run dry")


async def list_all_sessions(
    stub: working_memory_pb2_grpc.WorkingMemoryStub, ns: str
) -> list[wm.Session]:
    found: list[wm.Session] = []
    token = ""
    for _ in range(1000):
        page = await stub.ListSessions(
            wm.ListSessionsRequest(
                namespace=ns,
                view=wm.SESSION_VIEW_FULL,
                page_size=int(SESSION_PAGE_SIZE.high),
                page_token=token,
            ),
            timeout=TIMEOUT,
        )
        found.extend(page.sessions)
        token = page.next_page_token
        if not token:
            return found
    raise AssertionError("ListSessions did not end")


async def check_events_read_back(
    channel: grpc.aio.Channel, ns: str, thread: str, payloads: list[ev.EventInput]
) -> None:
    """Every read of the event log gives back `payloads`, in order, to a
    default client; `ns` has a group created before they were appended."""
    stub = event_log_pb2_grpc.EventLogStub(channel)
    listed = await list_all_events(stub, ns, thread)
    tailed = await tail_events(stub, ns, thread, len(payloads))
    received = await receive_all(stub, ns, "g", len(payloads))
    for read in (listed, tailed, received):
        assert [(e.type, e.data, e.json, dict(e.attributes)) for e in read] == [
            (p.type, p.data, p.json, dict(p.attributes)) for p in payloads
        ]


# -- Regression tests ---------------------------------------------------------------


async def test_a_deep_payload_cannot_jam_a_consumer_group(
    default_channel: grpc.aio.Channel, ns: str
) -> None:
    """The deepest payload accepted is delivered by ListEvents, TailEvents
    and ReceiveEvents to a default client (a ReceiveEventsResponse wraps it
    three levels deeper); one level deeper is refused at AppendEvents."""
    stub = event_log_pb2_grpc.EventLogStub(default_channel)
    await stub.CreateConsumerGroup(ev.CreateConsumerGroupRequest(namespace=ns, group="g"))
    deepest = [
        ev.EventInput(type="deep", json=struct(DEEPEST)),
        ev.EventInput(type="deep.list", json=struct(DEEPEST_LISTS)),
    ]
    await stub.AppendEvents(ev.AppendEventsRequest(namespace=ns, thread_id="t", events=deepest))
    await check_events_read_back(default_channel, ns, "t", deepest)

    for too_deep in (TOO_DEEP, TOO_DEEP_LISTS, nested(32)):
        request = ev.AppendEventsRequest(
            namespace=ns,
            thread_id="t",
            events=[ev.EventInput(type="ok"), ev.EventInput(type="deep", json=struct(too_deep))],
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.AppendEvents(request)
        assert_invalid(refused.value, "events[1].json")
        assert f"at most {MAX_PAYLOAD_DEPTH} protobuf message levels" in str(
            refused.value.details()
        )
    assert len(await list_all_events(stub, ns, "t")) == len(deepest)


async def test_json_that_grows_as_protobuf_is_received_by_a_default_client(
    default_channel: grpc.aio.Channel, ns: str
) -> None:
    """JSON payloads are stored as text, up to 5.5 times smaller than as
    protobuf: a receive batch of them still fits in 4 MiB. A payload over
    1 MiB as protobuf is refused, however small its JSON."""
    stub = event_log_pb2_grpc.EventLogStub(default_channel)
    await stub.CreateConsumerGroup(ev.CreateConsumerGroupRequest(namespace=ns, group="g"))
    # Seven of them once made a batch of 7 MiB.
    payloads = [ev.EventInput(type="numbers", json=struct(NUMBERS)) for _ in range(7)]
    for payload in payloads:
        await stub.AppendEvents(
            ev.AppendEventsRequest(namespace=ns, thread_id="t", events=[payload])
        )
    received = await receive_all(stub, ns, "g", len(payloads))
    assert [e.json for e in received] == [p.json for p in payloads]

    over = {"n": NUMBERS["n"] * 2}
    request = ev.AppendEventsRequest(
        namespace=ns, thread_id="t", events=[ev.EventInput(type="n", json=struct(over))]
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.AppendEvents(request)
    assert_invalid(refused.value, "events[0].json")
    assert "encoded as protobuf" in str(refused.value.details())


async def test_an_unknown_null_value_in_a_payload_is_refused(
    default_channel: grpc.aio.Channel, ns: str
) -> None:
    payload = struct_pb2.Struct()
    payload.fields["a"].null_value = 3  # type: ignore[assignment]
    stub = event_log_pb2_grpc.EventLogStub(default_channel)
    request = ev.AppendEventsRequest(
        namespace=ns, thread_id="t", events=[ev.EventInput(type="n", json=payload)]
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.AppendEvents(request)
    assert_invalid(refused.value, "events[0].json")


async def test_search_responses_fit_in_a_default_client(
    default_channel: grpc.aio.Channel, ns: str
) -> None:
    """limit 100 over memories of 256 KiB of metadata each: the matches that
    fit in 4 MiB, nearest first (they once made 24.9 MB)."""
    stub = long_term_memory_pb2_grpc.LongTermMemoryStub(default_channel)
    rng = np.random.default_rng(7)
    query = np.asarray(unit_vector(rng))
    vectors = []
    for i in range(20):
        # Nearer to the query the later it is written.
        vector = query * (i + 1) / 20 + np.asarray(unit_vector(rng))
        vectors.append([float(x) for x in vector / np.linalg.norm(vector)])
        memory = ltm.MemoryInput(
            text=f"memory {i}", embedding=vectors[-1], metadata=metadata(EMOJI)
        )
        await stub.CreateMemories(
            ltm.CreateMemoriesRequest(namespace=ns, memories=[memory], dedup_max_distance=0.0),
            timeout=TIMEOUT,
        )
    found = await stub.SearchMemories(
        ltm.SearchMemoriesRequest(
            namespace=ns,
            vector=ltm.Vector(values=[float(x) for x in query]),
            limit=MAX_SEARCH_LIMIT,
            max_distance=2.0,
        ),
        timeout=TIMEOUT,
    )
    assert 10 <= len(found.matches) < 20
    assert found.ByteSize() < 4 * MIB
    distances = [m.distance for m in found.matches]
    assert distances == sorted(distances)
    assert [m.memory.text for m in found.matches] == [
        f"memory {i}" for i in range(19, 19 - len(found.matches), -1)
    ]


async def test_list_sessions_pages_fit_in_a_default_client(
    default_channel: grpc.aio.Channel, ns: str
) -> None:
    """FULL sessions of about 768 KiB each, page size 1,000: pages of at
    most 4 MiB whose tokens continue after their last session, each session
    listed once."""
    stub = working_memory_pb2_grpc.WorkingMemoryStub(default_channel)
    threads = [f"t{i}" for i in range(9)]
    for thread in threads:
        session = wm.SessionInput(
            scratchpad=EMOJI * MAX_SCRATCHPAD_CHARS, goal="g", metadata=metadata(EMOJI)
        )
        await stub.UpdateSession(
            wm.UpdateSessionRequest(namespace=ns, thread_id=thread, session=session),
            timeout=TIMEOUT,
        )
    sizes = []
    token = ""
    listed: list[str] = []
    for _ in range(len(threads) + 1):
        page = await stub.ListSessions(
            wm.ListSessionsRequest(
                namespace=ns, view=wm.SESSION_VIEW_FULL, page_size=1000, page_token=token
            ),
            timeout=TIMEOUT,
        )
        sizes.append(len(page.sessions))
        listed.extend(s.thread_id for s in page.sessions)
        token = page.next_page_token
        if not token:
            break
    assert sorted(listed) == sorted(threads)
    assert len(sizes) > 1
    assert max(sizes) < len(threads)


async def test_an_unknown_session_view_is_refused(
    default_channel: grpc.aio.Channel, ns: str
) -> None:
    stub = working_memory_pb2_grpc.WorkingMemoryStub(default_channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListSessions(wm.ListSessionsRequest(namespace=ns, view=99))  # type: ignore[arg-type]
    assert_invalid(refused.value, "view")


SERVICES = [
    wm.DESCRIPTOR.services_by_name["WorkingMemory"],
    ltm.DESCRIPTOR.services_by_name["LongTermMemory"],
    ev.DESCRIPTOR.services_by_name["EventLog"],
]
_JSON = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}


def enum_paths(message: descriptor.Descriptor, prefix: str = "") -> Iterator[tuple[list[str], str]]:
    """Every enum field reachable in a message type (JSON payloads aside), as
    the field names leading to it and the path an error names."""
    for field in message.fields:
        index = "[0]" if field.is_repeated else ""
        if field.enum_type is not None:
            yield [field.name], f"{prefix}{field.name}{index}"
        elif field.message_type is not None and field.message_type.full_name not in _JSON:
            for names, path in enum_paths(field.message_type, f"{prefix}{field.name}{index}."):
                yield [field.name, *names], path


def with_unknown_enum(message: Message, names: list[str]) -> None:
    """Sets the enum field at the end of `names` to 99, which no memrpc enum
    names, adding one element to each repeated field on the way."""
    field = message.DESCRIPTOR.fields_by_name[names[0]]
    value = getattr(message, names[0])
    if len(names) == 1:
        if field.is_repeated:
            value.append(99)
        else:
            setattr(message, names[0], 99)
        return
    with_unknown_enum(value.add() if field.is_repeated else value, names[1:])


ENUM_CASES = [
    (f"/{service.full_name}/{method.name}", method.input_type, names, path)
    for service in SERVICES
    for method in service.methods
    for names, path in enum_paths(method.input_type)
]


def test_every_enum_field_of_every_request_is_covered() -> None:
    """The requests hold the enum fields this issue knew about (a new one
    is covered by the same generic check, and joins the list on its own)."""
    paths = {(method.rsplit("/", 1)[1], path) for method, _, _, path in ENUM_CASES}
    assert {
        ("ListSessions", "view"),
        ("CreateMemories", "memories[0].kind"),
        ("SearchMemories", "filter.kinds[0]"),
        ("UpdateMemory", "memory.kind"),
        ("DeleteMemories", "filter.kinds[0]"),
        ("CreateConsumerGroup", "start_position"),
    } <= paths


@pytest.mark.parametrize(("method", "request_type", "names", "path"), ENUM_CASES)
async def test_unknown_enum_values_are_refused_everywhere(
    default_channel: grpc.aio.Channel,
    method: str,
    request_type: descriptor.Descriptor,
    names: list[str],
    path: str,
) -> None:
    request = message_factory.GetMessageClass(request_type)()
    with_unknown_enum(request, names)
    call = default_channel.unary_unary(
        method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=None
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(request, timeout=TIMEOUT)
    assert_invalid(refused.value, path)
    assert "unknown" in str(refused.value.details())


# -- Property: maximal writes through every write RPC, all read back -------------------


@st.composite
def maximal_writes(draw: st.DrawFn) -> dict[str, Any]:
    """Values at their limits, in 4-byte characters: which character, how
    many turns, memories and events, and the shape of the deepest payload."""
    return {
        "char": draw(st.sampled_from(WIDE)),
        "turns": draw(st.integers(1, 100)),
        "memories": draw(st.integers(1, 8)),
        "deep": draw(st.sampled_from([DEEPEST, DEEPEST_LISTS])),
        "events": draw(st.integers(1, 6)),
        "seed": draw(st.integers(0, 2**16)),
    }


async def write_and_read_back(
    writer: grpc.aio.Channel, reader: grpc.aio.Channel, ns: str, case: dict[str, Any]
) -> None:
    char = case["char"]
    sessions = working_memory_pb2_grpc.WorkingMemoryStub(writer)
    memories = long_term_memory_pb2_grpc.LongTermMemoryStub(writer)
    events = event_log_pb2_grpc.EventLogStub(writer)
    rng = np.random.default_rng(case["seed"])

    # Working memory: a session at its limits, and many small turns.
    session = wm.SessionInput(
        user_id=char * 32,
        goal=char * MAX_GOAL_CHARS,
        scratchpad=char * MAX_SCRATCHPAD_CHARS,
        metadata=metadata(char),
    )
    await sessions.UpdateSession(
        wm.UpdateSessionRequest(namespace=ns, thread_id="s", session=session), timeout=TIMEOUT
    )
    turns = [wm.TurnInput(role=char * 64, content=char * 256) for _ in range(case["turns"])]
    await sessions.AppendTurns(
        wm.AppendTurnsRequest(namespace=ns, thread_id="s", turns=turns, max_window_turns=1000),
        timeout=TIMEOUT,
    )

    # Long-term memory: texts and metadata at their limits, one updated.
    inputs = [
        ltm.MemoryInput(
            text=f"{i}" + char * (MAX_TEXT_CHARS - 1),
            embedding=unit_vector(rng),
            metadata=metadata(char),
            topics=[char * 64] * 1,
        )
        for i in range(case["memories"])
    ]
    created = await memories.CreateMemories(
        ltm.CreateMemoriesRequest(namespace=ns, memories=inputs, dedup_max_distance=0.0),
        timeout=TIMEOUT,
    )
    ids = [r.memory.id for r in created.results]
    await memories.UpdateMemory(
        ltm.UpdateMemoryRequest(
            namespace=ns,
            memory_id=ids[0],
            memory=ltm.MemoryInput(text=char * MAX_TEXT_CHARS, embedding=unit_vector(rng)),
            update_mask={"paths": ["text", "embedding"]},
            dedup_max_distance=0.0,
        ),
        timeout=TIMEOUT,
    )

    # Event log: the deepest payload, JSON at its protobuf limit, 1 MiB of
    # data, attributes at their limit; a group created before them.
    await events.CreateConsumerGroup(ev.CreateConsumerGroupRequest(namespace=ns, group="g"))
    kinds = [
        ev.EventInput(type=char * 128, json=struct(case["deep"]), attributes=metadata(char)),
        ev.EventInput(type="numbers", json=struct(NUMBERS), attributes=metadata(char)),
        ev.EventInput(type="data", data=b"\xff" * MAX_PAYLOAD_BYTES, attributes=metadata(char)),
    ]
    payloads = [kinds[i % len(kinds)] for i in range(case["events"])]
    for payload in payloads:
        await events.AppendEvents(
            ev.AppendEventsRequest(namespace=ns, thread_id="e", events=[payload]), timeout=TIMEOUT
        )

    # Everything reads back through a default client.
    read_sessions = working_memory_pb2_grpc.WorkingMemoryStub(reader)
    got = await read_sessions.GetSession(wm.GetSessionRequest(namespace=ns, thread_id="s"))
    assert got.session.scratchpad == session.scratchpad
    assert [s.thread_id for s in await list_all_sessions(read_sessions, ns)] == ["s"]
    read_memories = long_term_memory_pb2_grpc.LongTermMemoryStub(reader)
    for memory_id in ids:
        await read_memories.GetMemory(ltm.GetMemoryRequest(namespace=ns, memory_id=memory_id))
    found = await read_memories.SearchMemories(
        ltm.SearchMemoriesRequest(
            namespace=ns,
            vector=ltm.Vector(values=unit_vector(rng)),
            limit=MAX_SEARCH_LIMIT,
            max_distance=2.0,
        ),
        timeout=TIMEOUT,
    )
    assert 1 <= len(found.matches) <= len(ids)
    await check_events_read_back(reader, ns, "e", payloads)


@settings(REPRODUCIBLE, max_examples=3)
@given(case=maximal_writes())
async def test_maximal_writes_are_read_back_by_a_default_client(
    default_channel: grpc.aio.Channel, case: dict[str, Any]
) -> None:
    await write_and_read_back(default_channel, default_channel, f"r{uuid.uuid4().hex[:12]}", case)


async def test_a_full_window_of_maximal_turns_is_read_back(
    default_channel: grpc.aio.Channel, ns: str
) -> None:
    """20 turns of 65,536 emoji with metadata at its limit, in a session
    whose metadata is at its limit: GetSession and ListSessions still read it
    (once the window is bounded by bytes, the oldest turns are evicted)."""
    stub = working_memory_pb2_grpc.WorkingMemoryStub(default_channel)
    session = wm.SessionInput(scratchpad=EMOJI * MAX_SCRATCHPAD_CHARS, metadata=metadata(EMOJI))
    await stub.UpdateSession(wm.UpdateSessionRequest(namespace=ns, thread_id="s", session=session))
    for _ in range(20):
        turn = wm.TurnInput(
            role="user", content=EMOJI * MAX_CONTENT_CHARS, metadata=metadata(EMOJI)
        )
        await stub.AppendTurns(
            wm.AppendTurnsRequest(namespace=ns, thread_id="s", turns=[turn]), timeout=TIMEOUT
        )
    await stub.GetSession(wm.GetSessionRequest(namespace=ns, thread_id="s"), timeout=TIMEOUT)
    await list_all_sessions(stub, ns)
