"""Injection: hostile strings in every id, tag, topic and metadata field.

Property-based (hypothesis, derandomized): values full of Redis Search syntax,
hash-tag braces, RESP fragments, Lua patterns, control characters, unicode and
strings at their length limits go through every RPC over a real connection.

- Written in namespace A by user X, they read back exactly in A, and nothing
  of them is visible from namespace B or to user Y, whatever the filter.
- Every answer is a clean status: never INTERNAL or UNKNOWN.
- Afterwards every key in Redis follows the key grammar of
  `memrpc.store.keys`, with the namespace as its cluster hash tag, and holds
  the type that grammar gives it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
import redis.asyncio
from google.protobuf import duration_pb2, json_format, struct_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from memrpc import limits
from memrpc.rpc import validate
from memrpc.v1 import checkpoints_pb2 as cpb
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1 import working_memory_pb2 as wpb
from memrpc.v1.checkpoints_pb2_grpc import CheckpointsStub
from memrpc.v1.event_log_pb2_grpc import EventLogStub
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryStub
from support import REPRODUCIBLE

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

# Every run's namespaces start with this marker, so its keys can be told apart.
RUN = f"inj{uuid.uuid4().hex[:8]}"
_namespaces = itertools.count()

CLEAN = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
}
SEMANTIC = lpb.MEMORY_KIND_SEMANTIC
VECTOR = lpb.Vector(values=[1.0] + [0.0] * 383)
HEARTBEAT = duration_pb2.Duration(nanos=100_000_000)

# Printable pieces of query syntax, key layout, Lua patterns and unicode: any
# concatenation of them, not starting or ending in white space, is a valid id.
SYNTAX = [
    "@",
    "{",
    "}",
    "|",
    "*",
    "-",
    "(",
    ")",
    "$",
    "=>",
    "[KNN 10 @embedding $v AS d]",
    "x} | @ns:{*",
    "*}) | (@user:{*",
    "-@user:{x}",
    "@topics:{a|b}",
    "~",
    '"',
    "'",
    "\\",
    ",",
    ";",
    ":",
    "::",
    "%",
    "%s",
    "%d",
    "..",
    "[%w]",
    "ns}",
    "{t",
    "memrpc:ses:{a}:",
    "*3",
    "$3",
    "DEL",
    "none",
    "0",
    "-1",
    " ",
    "\u05e9\u05dc\u05d5\u05dd",
    "e\u0301",
    "\U0001f642",
    "\u65e5\u672c",
    "\u1e9e",
    "\uff5b",
    "\x7e",
]
# Pieces that make an id invalid (or a metadata value merely odd).
RAW = [
    "\x00",
    "\n",
    "\r\n",
    "\r\n*3\r\n$3\r\nDEL\r\n$1\r\nk\r\n",
    "\t",
    "\u202e",
    "\u200d",
    "\ufeff",
    "\u00a0",
    "\u2028",
    "\U0010fffd",
    "\x1b[2J",
    "memrpc.",
]
_PRINTABLE = st.characters(categories=["L", "M", "N", "P", "S"])
_piece = st.one_of(st.sampled_from(SYNTAX), st.text(_PRINTABLE, min_size=1, max_size=4))


def valid_text(limit: int) -> st.SearchStrategy[str]:
    """Hostile but valid ids of at most `limit` characters, some exactly at it."""
    joined = st.lists(_piece, min_size=1, max_size=8).map("".join)
    at_limit = joined.map(lambda s: (s * limit)[:limit])
    return st.one_of(joined, at_limit).map(lambda s: s[:limit].strip()).filter(bool)


def raw_text(limit: int) -> st.SearchStrategy[str]:
    """Any hostile string: valid ones, broken ones, white space, too long ones."""
    piece = st.one_of(_piece, st.sampled_from(RAW))
    joined = st.lists(piece, max_size=8).map("".join)
    return st.one_of(
        joined,
        st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
        st.sampled_from(["", " ", "\t \n", "\u3000"]),
        joined.map(lambda s: (s or "x") * (limit + 1)).map(lambda s: s[: limit + 1]),
        valid_text(limit),
    )


IDS = valid_text(limits.MAX_ID_CHARS)
TOPICS = valid_text(64)
EVENT_TYPES = IDS.filter(lambda s: not s.startswith("memrpc."))
NAMES = st.text("Aa0._:-", min_size=1, max_size=64)
METADATA = st.dictionaries(
    valid_text(limits.MAX_METADATA_KEY_CHARS),
    raw_text(limits.MAX_METADATA_VALUE_CHARS - 1),
    max_size=4,
)
NS_SUFFIX = st.one_of(st.text("aZ9._-", max_size=8), st.just("._-" * 20))
# Namespace B from namespace A (`<RUN><n>n<suffix>`, unique per example): never
# A, never another example's A.
OTHER_NS: list[Callable[[str], str]] = [
    lambda a: a + ".",
    lambda a: a + "-",
    lambda a: a[:-1],
    lambda a: a.swapcase(),
    lambda a: a + "_x",
]
OTHER_USER: list[Callable[[str], str]] = [
    lambda x: x[:-1] + "*",
    lambda x: x[:-1] + "}",
    lambda x: "*",
    lambda x: x.swapcase(),
    lambda x: x[:-1].strip(),
    lambda x: "",
    lambda x: f"{x[:100]} | *",
]


def namespace_pair(suffix: str, other: Callable[[str], str]) -> tuple[str, str]:
    """A fresh namespace A (up to the 64-character limit) and B from it."""
    a = f"{RUN}{next(_namespaces):04d}n{suffix}"[:62]
    return a, other(a)


async def status(call: Awaitable[Any]) -> tuple[grpc.StatusCode, Any]:
    """The status of a call and its response (None unless OK)."""
    try:
        return grpc.StatusCode.OK, await call
    except grpc.aio.AioRpcError as err:
        return err.code(), err.details()


async def ok(call: Awaitable[Any]) -> Any:
    """The response of a call that must succeed."""
    code, response = await status(call)
    assert code == grpc.StatusCode.OK, (code, response)
    return response


def struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


async def threads(wm: Any, ns: str, user: str = "") -> list[str]:
    listed = await ok(wm.ListSessions(wpb.ListSessionsRequest(namespace=ns, user_id=user)))
    return [s.thread_id for s in listed.sessions]


async def found(ltm: Any, ns: str, flt: lpb.MemoryFilter) -> list[str]:
    """The memories a search with `flt` finds, which a listing with it lists."""
    request = lpb.SearchMemoriesRequest(
        namespace=ns, vector=VECTOR, filter=flt, max_distance=2.0, limit=100
    )
    ids = [m.memory.id for m in (await ok(ltm.SearchMemories(request))).matches]
    listing = lpb.ListMemoriesRequest(namespace=ns, filter=flt, page_size=1000)
    listed = await ok(ltm.ListMemories(listing))
    assert sorted(m.id for m in listed.memories) == sorted(ids)
    return ids


async def tail_events(events: Any, ns: str, thread: str, until_type: str | None) -> list[Any]:
    """The events a tail of `thread` from its start delivers: up to one of
    `until_type`, or (None) up to the first quiet-stream checkpoint."""
    request = ev.TailEventsRequest(
        namespace=ns,
        cursors=[ev.ThreadCursor(thread_id=thread, after_event_id="0")],
        heartbeat_interval=HEARTBEAT,
    )
    call = events.TailEvents(request)
    seen: list[Any] = []
    try:
        first = await call.read()
        assert first.WhichOneof("message") == "checkpoint"
        async with asyncio.timeout(10):
            while (message := await call.read()).WhichOneof("message") == "event":
                seen.append(message.event)
                if message.event.type == until_type:
                    break
    finally:
        call.cancel()
    return seen


# ---------------------------------------------------------------- key grammar

_NS = r"(?P<ns>[A-Za-z0-9][A-Za-z0-9._-]{0,63})"
_THREAD_HEX = r"(?P<thread_hex>(?:[0-9a-f]{2})+)"
_CPNS = r"(?:none|(?:[0-9a-f]{2})+)"
_CHECKPOINT = r"[A-Za-z0-9._-]{1,64}"
# The grammar of `memrpc.store.keys`: each key shape and the type it holds.
KEY_GRAMMAR = [
    (re.compile(rf"memrpc:ses:\{{{_NS}\}}:(?P<thread>.+)", re.S), b"hash"),
    (re.compile(rf"memrpc:sesidx:\{{{_NS}\}}"), b"zset"),
    (re.compile(rf"memrpc:sesidx:\{{{_NS}\}}:u:(?P<user>(?:[0-9a-f]{{2}})+)"), b"zset"),
    (re.compile(rf"memrpc:userthreads:\{{{_NS}\}}:(?P<user>(?:[0-9a-f]{{2}})+)"), b"zset"),
    # A memory: a ULID, or a client's id (`store/memory_ids.py`).
    (
        re.compile(
            rf"memrpc:mem:\{{{_NS}\}}:([0-9A-HJKMNP-TV-Z]{{26}}|[a-z]([a-z0-9-]{{0,61}}[a-z0-9])?)"
        ),
        b"hash",
    ),
    (re.compile(rf"memrpc:memreq:\{{{_NS}\}}:[A-Za-z0-9._-]{{1,64}}"), b"hash"),
    (re.compile(rf"memrpc:memseq:\{{{_NS}\}}"), b"string"),
    (re.compile(rf"memrpc:ev:\{{{_NS}\}}:(?P<thread>.+)", re.S), b"stream"),
    *(
        (
            re.compile(rf"memrpc:{kind}:\{{{_NS}\}}:[A-Za-z0-9._-]{{1,64}}:(?P<thread>.+)", re.S),
            b"string",
        )
        for kind in ("evreq", "turnreq")
    ),
    (re.compile(rf"memrpc:feed:\{{{_NS}\}}"), b"stream"),
    (re.compile(rf"memrpc:jobdead:\{{{_NS}\}}"), b"stream"),
    (re.compile(rf"memrpc:nsset:\{{{_NS}\}}"), b"hash"),
    (re.compile(rf"memrpc:consol:\{{{_NS}\}}"), b"hash"),
    (re.compile(rf"memrpc:lease:\{{{_NS}\}}:[a-z_]+"), b"string"),
    (re.compile(rf"memrpc:llmcalls:\{{{_NS}\}}:[0-9]+"), b"string"),
    # Checkpoints (`store/checkpoints.py`): the thread as hex, the checkpoint
    # namespace as its tag (hex, `none` for the root), the checkpoint id.
    (re.compile(rf"memrpc:cpthread:\{{{_NS}\}}:{_THREAD_HEX}"), b"set"),
    (re.compile(rf"memrpc:cpidx:\{{{_NS}\}}:{_THREAD_HEX}:{_CPNS}"), b"zset"),
    (re.compile(rf"memrpc:cpwrote:\{{{_NS}\}}:{_THREAD_HEX}:{_CPNS}"), b"set"),
    (re.compile(rf"memrpc:cp:\{{{_NS}\}}:{_THREAD_HEX}:{_CPNS}:{_CHECKPOINT}"), b"hash"),
    (re.compile(rf"memrpc:cpw:\{{{_NS}\}}:{_THREAD_HEX}:{_CPNS}:{_CHECKPOINT}"), b"hash"),
    (re.compile(rf"memrpc:cprun:\{{{_NS}\}}:(?P<run>(?:[0-9a-f]{{2}})+)"), b"set"),
]
# Keys about a namespace kept outside it (their hash tag is not the
# namespace, so that nothing done to its keys reaches them): its audit log
# (`*`: the server-wide one), the credentials files as last audited, a
# namespace deletion's cursor; each shape, its type and its tag.
APART_GRAMMAR = [
    (re.compile(rf"memrpc:audit\{{memrpc:audit\}}:(?:{_NS}|\*)"), b"stream", "memrpc:audit"),
    (re.compile(r"memrpc:auditcred\{memrpc:audit\}:[a-z-]+"), b"hash", "memrpc:audit"),
    (re.compile(rf"memrpc:nsdel\{{memrpc:nsdel\}}:{_NS}"), b"string", "memrpc:nsdel"),
]
# The keys outside every namespace: the namespaces the jobs read, the
# storage schema and the embedding model of the stored memories, and the
# lease of the migration from storage schema 2.
GLOBAL_KEYS = {
    "memrpc:namespaces": b"set",
    "memrpc:schema": b"string",
    "memrpc:model": b"hash",
    "memrpc:lease:migration": b"string",
}


def hash_tag(key: str) -> str:
    """The part of a key Redis Cluster hashes (its `{...}` tag, else all)."""
    start = key.find("{")
    end = key.find("}", start + 1)
    return key[start + 1 : end] if start >= 0 and end > start + 1 else key


def grammar_violation(raw_key: bytes, key_type: bytes) -> str | None:
    """Why a key breaks the grammar, or None."""
    try:
        key = raw_key.decode()
    except UnicodeDecodeError:
        return "not UTF-8"
    if key in GLOBAL_KEYS:
        return None if key_type == GLOBAL_KEYS[key] else f"holds a {key_type!r}"
    for pattern, expected, tag in APART_GRAMMAR:
        if pattern.fullmatch(key):
            return None if key_type == expected and hash_tag(key) == tag else "not as keys.py"
    shapes = ((pattern.fullmatch(key), expected) for pattern, expected in KEY_GRAMMAR)
    match, expected = next(((m, t) for m, t in shapes if m), (None, b""))
    if match is None:
        return "matches no key shape"
    parts = match.groupdict()
    if key_type != expected:
        return f"holds a {key_type!r}, not a {expected!r}"
    if hash_tag(key) != parts["ns"]:
        return f"hash tag {hash_tag(key)!r} is not the namespace {parts['ns']!r}"
    if parts.get("thread") is not None and not valid_id(parts["thread"]):
        return "thread id part is not a valid thread id"
    for part in ("user", "thread_hex", "run"):
        if parts.get(part) is not None and not valid_id(bytes.fromhex(parts[part]).decode()):
            return f"{part} part is not a valid id"
    return None


def valid_id(value: str) -> bool:
    try:
        validate.thread_id(value)
    except Exception:
        return False
    return True


async def assert_keyspace_well_formed(client: redis.asyncio.Redis) -> int:
    """Checks every `memrpc:` key and every key of this run; returns how many
    keys of this run there are."""
    ours = 0
    bad: list[tuple[bytes, str]] = []
    async for key in client.scan_iter(count=1000):
        if not key.startswith(b"memrpc:") and RUN.encode() not in key:
            continue
        ours += RUN.encode() in key
        problem = grammar_violation(key, await client.type(key))
        if problem:
            bad.append((key, problem))
    assert not bad, bad[:10]
    return ours


# ------------------------------------------------------------------ isolation


@dataclass(frozen=True)
class Case:
    """Hostile values written in namespace `a` by user `user`, and the
    namespace `b`, user, thread and topics that must not see them."""

    a: str
    b: str
    user: str
    other_user: str
    thread: str
    other_thread: str
    topics: list[str]
    other_topics: list[str]
    metadata: dict[str, str]
    text: str
    event_type: str
    group: str
    consumer: str

    @property
    def role(self) -> str:
        return self.event_type[:64].strip()

    @property
    def payload(self) -> dict[str, Any]:
        return {**self.metadata, "nested": {k: [v, None, 1.5] for k, v in self.metadata.items()}}


@st.composite
def cases(draw: st.DrawFn) -> Case:
    a, b = namespace_pair(draw(NS_SUFFIX), draw(st.sampled_from(OTHER_NS)))
    user = draw(IDS)
    other_user = draw(st.sampled_from(OTHER_USER))(user)
    assume(other_user != user)
    thread = draw(IDS)
    topics = draw(st.lists(TOPICS, min_size=1, max_size=3, unique=True))
    other_topics = [f"{t[:63]}*" for t in topics if f"{t[:63]}*" not in topics]
    assume(other_topics)
    return Case(
        a=a,
        b=b,
        user=user,
        other_user=other_user,
        thread=thread,
        other_thread=draw(IDS.filter(lambda t: t != thread)),
        topics=topics,
        other_topics=other_topics,
        metadata=draw(METADATA),
        text=draw(raw_text(200).filter(str.strip)),
        event_type=draw(EVENT_TYPES),
        group=draw(NAMES),
        consumer=draw(NAMES),
    )


async def check_working_memory(wm: Any, c: Case) -> None:
    """Written in A: read back exactly there, listed for X only, not in B."""
    session = wpb.SessionInput(user_id=c.user, goal=c.text, metadata=c.metadata)
    update = wpb.UpdateSessionRequest(namespace=c.a, thread_id=c.thread, session=session)
    await ok(wm.UpdateSession(update))
    turn = wpb.TurnInput(role=c.role, content=c.text, metadata=c.metadata)
    append = wpb.AppendTurnsRequest(namespace=c.a, thread_id=c.thread, user_id=c.user, turns=[turn])
    await ok(wm.AppendTurns(append))

    got = (
        await ok(wm.GetSession(wpb.GetSessionRequest(namespace=c.a, thread_id=c.thread)))
    ).session
    assert (got.namespace, got.thread_id, got.user_id, got.goal) == (c.a, c.thread, c.user, c.text)
    assert dict(got.metadata) == c.metadata
    turns = [(t.role, t.content, dict(t.metadata)) for t in got.turns]
    assert turns == [(c.role, c.text, c.metadata)]
    code, _ = await status(wm.GetSession(wpb.GetSessionRequest(namespace=c.b, thread_id=c.thread)))
    assert code == grpc.StatusCode.NOT_FOUND
    assert await threads(wm, c.a) == [c.thread]
    assert await threads(wm, c.a, c.user) == [c.thread]
    assert await threads(wm, c.a, c.other_user) == ([c.thread] if c.other_user == "" else [])
    assert await threads(wm, c.b) == []
    assert await threads(wm, c.b, c.user) == []


async def check_long_term_memory(ltm: Any, c: Case) -> None:
    """Written in A: found there by every filter that names it, by none that
    names another user, thread or topic, and never from B."""
    item = lpb.MemoryInput(
        text=c.text,
        user_id=c.user,
        thread_id=c.thread,
        topics=c.topics,
        metadata=c.metadata,
        embedding=VECTOR.values,
        kind=SEMANTIC,
    )
    created = await ok(
        ltm.CreateMemories(lpb.CreateMemoriesRequest(namespace=c.a, memories=[item]))
    )
    [result] = created.results
    assert result.outcome == lpb.CREATE_OUTCOME_CREATED
    memory_id = result.memory.id

    get = lpb.GetMemoryRequest(namespace=c.a, memory_id=memory_id)
    got = (await ok(ltm.GetMemory(get))).memory
    assert (got.namespace, got.user_id, got.thread_id, got.text) == (c.a, c.user, c.thread, c.text)
    assert (list(got.topics), dict(got.metadata)) == (c.topics, c.metadata)
    code, _ = await status(ltm.GetMemory(lpb.GetMemoryRequest(namespace=c.b, memory_id=memory_id)))
    assert code == grpc.StatusCode.NOT_FOUND
    both_users = [c.user, c.other_user]
    hits = [
        lpb.MemoryFilter(),
        lpb.MemoryFilter(user_ids=[c.user]),
        lpb.MemoryFilter(user_ids=[c.user], kinds=[SEMANTIC]),
        lpb.MemoryFilter(thread_ids=[c.thread]),
        lpb.MemoryFilter(topics=[c.topics[-1]]),
        lpb.MemoryFilter(user_ids=both_users, thread_ids=[c.thread], topics=c.topics),
    ]
    misses = [
        lpb.MemoryFilter(user_ids=[c.other_user]),
        lpb.MemoryFilter(user_ids=[c.other_user], kinds=[SEMANTIC]),
        lpb.MemoryFilter(thread_ids=[c.other_thread]),
        lpb.MemoryFilter(topics=c.other_topics),
        lpb.MemoryFilter(user_ids=[c.user], thread_ids=[c.other_thread]),
    ]
    for flt in hits:
        assert await found(ltm, c.a, flt) == [memory_id], flt
        assert await found(ltm, c.b, flt) == [], flt
    for flt in misses:
        assert await found(ltm, c.a, flt) == [], flt
    for ns, flt in [(c.b, hits[1]), (c.a, misses[0])]:
        deleted = await ok(ltm.DeleteMemories(lpb.DeleteMemoriesRequest(namespace=ns, filter=flt)))
        assert deleted.deleted_count == 0
    await ok(ltm.GetMemory(get))


async def check_event_log(events: Any, c: Case) -> None:
    """Appended in A (after the turn of `check_working_memory`): read back
    exactly there by list, tail and consumer group; nothing from B."""
    event = ev.EventInput(type=c.event_type, attributes=c.metadata, json=struct(c.payload))
    append = ev.AppendEventsRequest(
        namespace=c.a, thread_id=c.thread, events=[event], request_id="r-1"
    )
    first = await ok(events.AppendEvents(append))
    again = await ok(events.AppendEvents(append))  # a retry: appends nothing
    assert (again.replayed, again.event_ids) == (True, first.event_ids)
    for ns in (c.a, c.b):
        create = ev.CreateConsumerGroupRequest(
            namespace=ns, group=c.group, start_position=ev.GROUP_START_POSITION_EARLIEST
        )
        await ok(events.CreateConsumerGroup(create))

    listed = await ok(events.ListEvents(ev.ListEventsRequest(namespace=c.a, thread_id=c.thread)))
    mine = [e for e in listed.events if not e.type.startswith("memrpc.")]
    assert [(e.type, dict(e.attributes), json_format.MessageToDict(e.json)) for e in mine] == [
        (c.event_type, c.metadata, json_format.MessageToDict(struct(c.payload)))
    ]
    in_b = await ok(events.ListEvents(ev.ListEventsRequest(namespace=c.b, thread_id=c.thread)))
    assert not in_b.events
    tailed = await tail_events(events, c.a, c.thread, c.event_type)
    assert [(e.thread_id, e.type) for e in tailed] == [
        (c.thread, "memrpc.turn"),
        (c.thread, c.event_type),
    ]
    assert await tail_events(events, c.b, c.thread, None) == []
    receive = ev.ReceiveEventsRequest(
        namespace=c.a, group=c.group, consumer=c.consumer, max_events=100
    )
    received = (await ok(events.ReceiveEvents(receive))).events
    assert [(r.event.thread_id, r.event.type) for r in received] == [
        (c.thread, "memrpc.turn"),
        (c.thread, c.event_type),
    ]
    receive.namespace = c.b
    assert not (await ok(events.ReceiveEvents(receive))).events


async def check_checkpoints(checkpoints: Any, c: Case) -> None:
    """Stored in A (the thread, a checkpoint namespace, metadata, a run and
    a write all hostile): read back exactly there, matched by its metadata,
    never from B nor another thread or checkpoint namespace."""
    where = {"thread_id": c.thread, "checkpoint_ns": c.other_thread}
    metadata = json.dumps({**c.metadata, "text": c.text})
    state = cpb.SerializedValue(encoding=c.role, data=c.text.encode())
    put = cpb.PutCheckpointRequest(
        namespace=c.a, checkpoint_id="c1", run_id=c.user, state=state, metadata=metadata, **where
    )
    await ok(checkpoints.PutCheckpoint(put))
    write = cpb.CheckpointWrite(task_id=c.user, channel=c.event_type, value=state, task_path=c.role)
    writes = cpb.PutCheckpointWritesRequest(
        namespace=c.a, checkpoint_id="c1", writes=[write], **where
    )
    await ok(checkpoints.PutCheckpointWrites(writes))
    got = await ok(checkpoints.GetCheckpoint(cpb.GetCheckpointRequest(namespace=c.a, **where)))
    stored = got.checkpoint
    assert (stored.thread_id, stored.checkpoint_ns, stored.run_id) == (
        c.thread,
        c.other_thread,
        c.user,
    )
    assert (stored.state, json.loads(stored.metadata)) == (state, json.loads(metadata))
    assert list(stored.pending_writes) == [write]
    # Every key whose value fits a filter value as JSON (the text's always does).
    as_json = {key: json.dumps(value) for key, value in json.loads(metadata).items()}
    wanted = {k: v for k, v in as_json.items() if len(v) <= limits.MAX_METADATA_VALUE_CHARS}
    listing = cpb.ListCheckpointsRequest(namespace=c.a, metadata_filter=wanted, **where)
    assert [
        s.checkpoint_id for s in (await ok(checkpoints.ListCheckpoints(listing))).checkpoints
    ] == ["c1"]
    for ns, thread, cpns in [
        (c.b, c.thread, c.other_thread),
        (c.a, c.other_thread, c.other_thread),
        (c.a, c.thread, c.thread),
    ]:
        get = cpb.GetCheckpointRequest(namespace=ns, thread_id=thread, checkpoint_ns=cpns)
        code, _ = await status(checkpoints.GetCheckpoint(get))
        assert code == grpc.StatusCode.NOT_FOUND
    runs = cpb.DeleteCheckpointRunsRequest(namespace=c.b, run_ids=[c.user])
    assert (await ok(checkpoints.DeleteCheckpointRuns(runs))).deleted_count == 0


@settings(REPRODUCIBLE, max_examples=40)
@given(case=cases())
async def test_hostile_values_stay_in_their_namespace_and_user(
    wm: Any, ltm: Any, events: Any, checkpoints: Any, case: Case
) -> None:
    await check_working_memory(wm, case)
    await check_long_term_memory(ltm, case)
    await check_event_log(events, case)
    await check_checkpoints(checkpoints, case)


# ------------------------------------------------------------ clean statuses


def _token(*parts: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


def every_field(v: str, ns: str) -> list[tuple[str, Message]]:
    """One request per user-supplied string field, `v` in that field, each
    with the RPC that takes it."""
    item = lpb.MemoryInput(
        text=v, user_id=v, thread_id=v, topics=[v], metadata={v: v}, embedding=VECTOR.values
    )
    turn = wpb.TurnInput(role=v, content=v, metadata={"k": v})
    event = ev.EventInput(type=v, attributes={v: v}, json=struct({v: v, "k": {v: [v]}}))
    filters = [
        lpb.MemoryFilter(user_ids=[v]),
        lpb.MemoryFilter(user_ids=[v], kinds=[SEMANTIC]),
        lpb.MemoryFilter(thread_ids=[v]),
        lpb.MemoryFilter(topics=[v]),
    ]
    session_tokens = [v, _token(v, v), _token("1", v), _token(v, "t")]
    event_tokens = [v, base64.urlsafe_b64encode(v.encode()).decode()]
    cursors = [
        ev.ThreadCursor(thread_id=v, after_event_id="0"),
        ev.ThreadCursor(thread_id="t", after_event_id=v),
    ]
    return [
        ("GetSession", wpb.GetSessionRequest(namespace=v, thread_id="t")),
        ("SearchMemories", lpb.SearchMemoriesRequest(namespace=v, vector=VECTOR)),
        ("ListEvents", ev.ListEventsRequest(namespace=v, thread_id="t")),
        (
            "UpdateSession",
            wpb.UpdateSessionRequest(
                namespace=ns,
                thread_id=v,
                session=wpb.SessionInput(user_id=v, goal=v, metadata={v: v}),
            ),
        ),
        (
            "UpdateSession",
            wpb.UpdateSessionRequest(namespace=ns, thread_id="t", update_mask=FieldMask(paths=[v])),
        ),
        ("AppendTurns", wpb.AppendTurnsRequest(namespace=ns, thread_id=v, user_id=v, turns=[turn])),
        ("GetSession", wpb.GetSessionRequest(namespace=ns, thread_id=v)),
        ("DeleteSession", wpb.DeleteSessionRequest(namespace=ns, thread_id=v)),
        ("ListSessions", wpb.ListSessionsRequest(namespace=ns, user_id=v)),
        *[
            ("ListSessions", wpb.ListSessionsRequest(namespace=ns, page_token=t))
            for t in session_tokens
        ],
        ("CreateMemories", lpb.CreateMemoriesRequest(namespace=ns, memories=[item])),
        ("SearchMemories", lpb.SearchMemoriesRequest(namespace=ns, text=v[:64])),
        *[
            ("SearchMemories", lpb.SearchMemoriesRequest(namespace=ns, vector=VECTOR, filter=f))
            for f in filters
        ],
        *[("ListMemories", lpb.ListMemoriesRequest(namespace=ns, filter=f)) for f in filters],
        ("ListMemories", lpb.ListMemoriesRequest(namespace=ns, page_token=v)),
        *[("DeleteMemories", lpb.DeleteMemoriesRequest(namespace=ns, filter=f)) for f in filters],
        ("GetMemory", lpb.GetMemoryRequest(namespace=ns, memory_id=v)),
        ("DeleteMemory", lpb.DeleteMemoryRequest(namespace=ns, memory_id=v)),
        (
            "UpdateMemory",
            lpb.UpdateMemoryRequest(
                namespace=ns, memory_id=v, memory=item, update_mask=FieldMask(paths=["topics"])
            ),
        ),
        ("AppendEvents", ev.AppendEventsRequest(namespace=ns, thread_id=v, events=[event])),
        (
            "AppendEvents",
            ev.AppendEventsRequest(namespace=ns, thread_id="t", events=[event], request_id=v),
        ),
        ("ListEvents", ev.ListEventsRequest(namespace=ns, thread_id=v, end_event_id=v)),
        *[
            ("ListEvents", ev.ListEventsRequest(namespace=ns, thread_id="t", page_token=t))
            for t in event_tokens
        ],
        ("TrimEvents", ev.TrimEventsRequest(namespace=ns, thread_id=v, min_event_id=v)),
        *[
            (
                "TailEvents",
                ev.TailEventsRequest(namespace=ns, cursors=[c], heartbeat_interval=HEARTBEAT),
            )
            for c in cursors
        ],
        ("CreateConsumerGroup", ev.CreateConsumerGroupRequest(namespace=ns, group=v)),
        ("ReceiveEvents", ev.ReceiveEventsRequest(namespace=ns, group=v, consumer=v)),
        ("ReceiveEvents", ev.ReceiveEventsRequest(namespace=ns, group="g", consumer=v)),
        ("AcknowledgeEvents", ev.AcknowledgeEventsRequest(namespace=ns, group=v, delivery_ids=[v])),
        ("DeleteConsumerGroup", ev.DeleteConsumerGroupRequest(namespace=ns, group=v)),
        *checkpoint_fields(v, ns),
    ]


def checkpoint_fields(v: str, ns: str) -> list[tuple[str, Message]]:
    """`every_field`'s requests of the Checkpoints service."""
    state = cpb.SerializedValue(encoding=v, data=v.encode())
    write = cpb.CheckpointWrite(task_id=v, index=-1, channel=v, value=state, task_path=v)
    where: dict[str, Any] = {"namespace": ns, "thread_id": v, "checkpoint_ns": v}
    return [
        ("GetCheckpoint", cpb.GetCheckpointRequest(namespace=v, thread_id="t")),
        (
            "PutCheckpoint",
            cpb.PutCheckpointRequest(
                checkpoint_id="c", run_id=v, state=state, metadata=json.dumps({v: v}), **where
            ),
        ),
        ("PutCheckpoint", cpb.PutCheckpointRequest(**where, checkpoint_id=v, state=state)),
        (
            "PutCheckpoint",
            cpb.PutCheckpointRequest(
                **where, checkpoint_id="c", parent_checkpoint_id=v, state=state, metadata=v
            ),
        ),
        (
            "PutCheckpointWrites",
            cpb.PutCheckpointWritesRequest(**where, checkpoint_id="c", writes=[write]),
        ),
        ("GetCheckpoint", cpb.GetCheckpointRequest(**where, checkpoint_id=v)),
        (
            "ListCheckpoints",
            cpb.ListCheckpointsRequest(**where, before_checkpoint_id=v, metadata_filter={v: v}),
        ),
        (
            "ListCheckpoints",
            cpb.ListCheckpointsRequest(**where, metadata_filter={v: json.dumps(v)}),
        ),
        *[
            (
                "ListCheckpoints",
                cpb.ListCheckpointsRequest(namespace=ns, thread_id="t", page_token=t),
            )
            for t in (v, _token("ListCheckpoints", "x", v))
        ],
        (
            "CopyCheckpointThread",
            cpb.CopyCheckpointThreadRequest(namespace=ns, source_thread_id=v, target_thread_id="t"),
        ),
        ("PruneCheckpoints", cpb.PruneCheckpointsRequest(namespace=ns, thread_ids=[v, "t"])),
        ("DeleteCheckpointRuns", cpb.DeleteCheckpointRunsRequest(namespace=ns, run_ids=[v])),
        ("DeleteCheckpointThread", cpb.DeleteCheckpointThreadRequest(namespace=ns, thread_id=v)),
    ]


async def answer(stubs: Mapping[str, Any], method: str, request: Message) -> Any:
    """The response of one call; a tail's first message (its checkpoint),
    after which the tail ends."""
    call = getattr(stubs[method], method)(request)
    if method != "TailEvents":
        return await call
    try:
        return await call.read()
    finally:
        call.cancel()


@pytest.fixture(scope="module")
async def group_ns(channel: grpc.aio.Channel) -> str:
    """A namespace with consumer group `g`, so receives reach Redis."""
    ns = f"{RUN}groups"
    events = EventLogStub(channel)
    await ok(events.CreateConsumerGroup(ev.CreateConsumerGroupRequest(namespace=ns, group="g")))
    return ns


@pytest.fixture(scope="module")
def checkpoints(channel: grpc.aio.Channel) -> CheckpointsStub:
    return CheckpointsStub(channel)


@pytest.fixture(scope="module")
def every_stub(channel: grpc.aio.Channel) -> dict[str, Any]:
    """Each RPC's stub, by the RPC's name."""
    services = (WorkingMemoryStub, LongTermMemoryStub, EventLogStub, CheckpointsStub)
    stubs = [service(channel) for service in services]
    return {name: stub for stub in stubs for name in dir(stub) if name[0].isupper()}


@settings(REPRODUCIBLE, max_examples=80)
@given(value=raw_text(limits.MAX_ID_CHARS))
async def test_every_field_answers_a_clean_status(
    every_stub: dict[str, Any], group_ns: str, value: str
) -> None:
    stubs = every_stub
    unclean = []
    for method, request in every_field(value, group_ns):
        code, details = await status(answer(stubs, method, request))
        if code not in CLEAN:
            unclean.append((method, code, details))
    assert not unclean, (value, unclean)


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (_token("nan", "t"), "Redis refuses a 'nan' score"),
        (_token(" 1", "t"), "Redis refuses a score with white space"),
        (_token("1_0", "t"), "Redis refuses a score with underscores"),
    ],
)
async def test_session_page_token_with_a_score_redis_refuses_is_invalid(
    wm: Any, group_ns: str, token: str, why: str
) -> None:
    """Found by `test_every_field_answers_a_clean_status`: Python's float()
    took these scores, Redis did not, and the caller got INTERNAL."""
    code, _ = await status(
        wm.ListSessions(wpb.ListSessionsRequest(namespace=group_ns, page_token=token))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT, why


# ----------------------------------------------------------------- key space


async def test_every_key_follows_the_key_grammar(
    wm: Any, ltm: Any, checkpoints: Any, redis_client: redis.asyncio.Redis
) -> None:
    """Runs after the property tests of this module (file order): their keys
    and every other `memrpc:` key are well formed."""
    # One write of each key shape, so the test holds even when run alone.
    a, _ = namespace_pair("", OTHER_NS[0])
    await ok(
        wm.AppendTurns(
            wpb.AppendTurnsRequest(
                namespace=a, thread_id="}{x}:", user_id="{u}", turns=[wpb.TurnInput(role="r")]
            )
        )
    )
    await ok(
        ltm.CreateMemories(
            lpb.CreateMemoriesRequest(
                namespace=a,
                memories=[lpb.MemoryInput(text="t", embedding=VECTOR.values)],
                request_id="r",
            )
        )
    )
    state = cpb.SerializedValue(encoding="e")
    where = {"namespace": a, "thread_id": "}{x}:", "checkpoint_ns": "{n}:1", "checkpoint_id": "c"}
    await ok(
        checkpoints.PutCheckpoint(cpb.PutCheckpointRequest(**where, run_id="{r}", state=state))
    )
    write = cpb.CheckpointWrite(task_id="t", channel="c", value=state)
    await ok(
        checkpoints.PutCheckpointWrites(cpb.PutCheckpointWritesRequest(**where, writes=[write]))
    )
    assert await assert_keyspace_well_formed(redis_client) >= 13


@pytest.mark.parametrize(
    ("key", "key_type"),
    [
        (b"memrpc:ses:{a}", b"hash"),
        (b"memrpc:ses:{a{b}:t", b"hash"),
        (b"memrpc:ses:{a}:", b"hash"),
        (b"memrpc:ses:{a}: t", b"hash"),
        (b"memrpc:ses:{a}:t", b"zset"),
        (b"memrpc:sesidx:{a}:u:7", b"zset"),
        (b"memrpc:mem:{a}:X", b"hash"),
        (b"memrpc:mem:{a}:x-", b"hash"),
        (b"memrpc:mem:{a}:" + b"x" * 64, b"hash"),
        (b"memrpc:memreq:{a}:", b"hash"),
        (b"memrpc:memreq:{a}:r:t", b"hash"),
        (b"memrpc:ev:{}:t", b"stream"),
        (b"memrpc:evreq:{a}:r", b"string"),
        (b"memrpc:evreq:{a}:r|x:t", b"string"),
        (b"memrpc:feed:{a}:x", b"stream"),
        (b"memrpc:ev:{a}:\xff", b"stream"),
        (b"memrpc:cpthread:{a}:7", b"set"),
        (b"memrpc:cpthread:{a}:0a", b"set"),  # a thread id that is not valid
        (b"memrpc:cpidx:{a}:74", b"zset"),
        (b"memrpc:cp:{a}:74:none:a:b", b"hash"),
        (b"memrpc:cpw:{a}:74:none:c", b"set"),
        (b"memrpc:cprun:{a}:none", b"set"),
    ],
)
def test_the_grammar_check_rejects_malformed_keys(key: bytes, key_type: bytes) -> None:
    assert grammar_violation(key, key_type) is not None
