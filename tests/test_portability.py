"""Export and restore (`Portability`): a namespace, and one user's data,
exported from the session's server and imported into an empty namespace of
another server on a Redis of its own, compared record by record through the
public API; the CLI's round trip through JSON Lines files; the refusals
(a namespace not empty, another format version, another model, a trailer
that does not count what came); expired records skipped; and the export
reading in pages however large the namespace (`ExportReader`)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from conftest import make_settings, running
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.server import MemrpcServer
from memrpc.store.export_reader import ExportReader
from memrpc.store.long_term import LongTermStore
from memrpc.store.memory_document import VectorType
from memrpc.store.redis_mux import Arg, RedisClient
from memrpc.v1 import checkpoints_pb2 as cp_pb
from memrpc.v1 import (
    checkpoints_pb2_grpc,
    event_log_pb2_grpc,
    long_term_memory_pb2_grpc,
    namespace_settings_pb2_grpc,
    portability_pb2_grpc,
    working_memory_pb2_grpc,
)
from memrpc.v1 import event_log_pb2 as ev_pb
from memrpc.v1 import long_term_memory_pb2 as ltm_pb
from memrpc.v1 import namespace_settings_pb2 as ns_pb
from memrpc.v1 import portability_pb2 as pb
from memrpc.v1 import working_memory_pb2 as wm_pb
from support import assert_invalid, assert_reason

pytestmark = [pytest.mark.on_cluster, pytest.mark.genuine_redis]

ROOT = Path(__file__).resolve().parent.parent


class Stubs:
    """The stubs of one server."""

    def __init__(self, channel: grpc.aio.Channel, server: MemrpcServer) -> None:
        self.server = server
        self.wm = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        self.ltm = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        self.events = event_log_pb2_grpc.EventLogStub(channel)
        self.settings = namespace_settings_pb2_grpc.NamespacesStub(channel)
        self.port = portability_pb2_grpc.PortabilityStub(channel)
        self.cp = checkpoints_pb2_grpc.CheckpointsStub(channel)


@pytest.fixture
async def source(channel: grpc.aio.Channel, memrpc_server: MemrpcServer) -> Stubs:
    return Stubs(channel, memrpc_server)


@pytest.fixture
async def target(own_redis: EmbeddedRedis, embedder: BatchingEmbedder) -> AsyncIterator[Stubs]:
    """Another server, on a Redis of its own."""
    async with (
        running(make_settings(own_redis.url), embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as chan,
    ):
        yield Stubs(chan, server)


async def _fill(s: Stubs, ns: str) -> dict[str, Any]:
    """Sessions of two users, a thread only AppendEvents wrote, memories of
    both, settings; returns what it made."""
    await s.settings.UpdateNamespaceSettings(
        ns_pb.UpdateNamespaceSettingsRequest(
            namespace=ns,
            settings=ns_pb.NamespaceSettings(sessions=ns_pb.SessionDefaults(max_window_turns=3)),
        )
    )
    for thread, user in (("a1", "alice"), ("a2", "alice"), ("b1", "bob")):
        await s.wm.UpdateSession(
            wm_pb.UpdateSessionRequest(
                namespace=ns,
                thread_id=thread,
                session=wm_pb.SessionInput(
                    user_id=user, goal=f"goal {thread}", metadata={"k": thread}
                ),
            )
        )
        await s.wm.AppendTurns(
            wm_pb.AppendTurnsRequest(
                namespace=ns,
                thread_id=thread,
                user_id=user,
                turns=[
                    wm_pb.TurnInput(role="user", content=f"turn {i} of {thread}") for i in range(5)
                ],
            )
        )
    appended = ev_pb.EventInput(type="tool.call", attributes={"a": "b"})
    appended.json.update({"n": 1, "x": [1, 2.5]})
    await s.events.AppendEvents(
        ev_pb.AppendEventsRequest(
            namespace=ns,
            thread_id="lonely",
            events=[appended, ev_pb.EventInput(type="raw", data=b"\x00\x01")],
        )
    )
    created = await s.ltm.CreateMemories(
        ltm_pb.CreateMemoriesRequest(
            namespace=ns,
            memories=[
                ltm_pb.MemoryInput(text="alice prefers window seats", user_id="alice"),
                ltm_pb.MemoryInput(
                    text="alice flew to Lisbon", user_id="alice", thread_id="a1",
                    kind=ltm_pb.MEMORY_KIND_EPISODIC, topics=["travel"], metadata={"m": "1"},
                ),
                ltm_pb.MemoryInput(text="bob likes green tea", user_id="bob", pinned=True),
            ],
        )
    )  # fmt: skip
    ids = [item.memory.id for item in created.results]
    # A repeat: a hit; a search: an access count.
    await s.ltm.CreateMemories(
        ltm_pb.CreateMemoriesRequest(
            namespace=ns, memories=[ltm_pb.MemoryInput(text="bob likes green tea", user_id="bob")]
        )
    )
    await s.ltm.SearchMemories(ltm_pb.SearchMemoriesRequest(namespace=ns, text="green tea"))
    # The search's access counts are written in the background: now, so
    # that the export reads what a listing reads afterwards.
    await s.server.access.flush()
    # LangGraph checkpoints: two of a1 (one with writes), one of b1 in a
    # subgraph's checkpoint namespace, one of a thread with nothing else.
    for thread, cpns, cid in (
        ("a1", "", "c1"),
        ("a1", "", "c2"),
        ("b1", "sub:1", "c1"),
        ("cp", "", "c9"),
    ):
        await s.cp.PutCheckpoint(
            cp_pb.PutCheckpointRequest(
                namespace=ns,
                thread_id=thread,
                checkpoint_ns=cpns,
                checkpoint_id=cid,
                parent_checkpoint_id="c1" if cid == "c2" else "",
                run_id=f"run-{thread}",
                state=cp_pb.SerializedValue(encoding="msgpack", data=f"{thread}{cid}".encode()),
                metadata=json.dumps({"step": int(cid[1:]), "source": "loop"}),
            )
        )
    write = cp_pb.CheckpointWrite(
        task_id="t",
        index=-3,
        channel="__interrupt__",
        task_path="p",
        value=cp_pb.SerializedValue(encoding="json", data=b'{"ask": 1}'),
    )
    await s.cp.PutCheckpointWrites(
        cp_pb.PutCheckpointWritesRequest(
            namespace=ns, thread_id="a1", checkpoint_id="c2", writes=[write]
        )
    )  # fmt: skip
    return {"ids": ids}


async def _same_checkpoints(source: Stubs, ns: str, target: Stubs, other: str) -> None:
    """The checkpoints `_fill` made in `ns` are those of `other`, with the
    same ids, states, metadata, times and writes."""
    for thread, cpns in (("a1", ""), ("b1", "sub:1"), ("cp", "")):
        copies = await _checkpoints(target, other, thread, cpns)
        assert copies == await _checkpoints(source, ns, thread, cpns)
    assert len((await _checkpoints(target, other, "a1"))[0].pending_writes) == 1


async def _checkpoints(
    s: Stubs, ns: str, thread: str, cpns: str = ""
) -> list[cp_pb.ThreadCheckpoint]:
    got = await s.cp.ListCheckpoints(
        cp_pb.ListCheckpointsRequest(namespace=ns, thread_id=thread, checkpoint_ns=cpns)
    )
    return list(got.checkpoints)


async def _export(s: Stubs, ns: str, user: str = "") -> list[pb.ExportRecord]:
    records: list[pb.ExportRecord] = []
    async for response in s.port.ExportData(pb.ExportDataRequest(namespace=ns, user_id=user)):
        records.extend(response.records)
    return records


async def _import(
    s: Stubs, ns: str, records: Sequence[pb.ExportRecord], per_request: int = 7
) -> pb.ImportDataResponse:
    async def requests() -> AsyncIterator[pb.ImportDataRequest]:
        for first in range(0, len(records), per_request):
            yield pb.ImportDataRequest(
                namespace=ns if first == 0 else "", records=records[first : first + per_request]
            )

    response: pb.ImportDataResponse = await s.port.ImportData(requests())
    return response


async def _session(s: Stubs, ns: str, thread: str) -> wm_pb.Session:
    got = await s.wm.GetSession(wm_pb.GetSessionRequest(namespace=ns, thread_id=thread))
    session = wm_pb.Session()
    session.CopyFrom(got.session)
    session.namespace = ""
    return session


async def _events(s: Stubs, ns: str, thread: str) -> list[ev_pb.Event]:
    got = await s.events.ListEvents(ev_pb.ListEventsRequest(namespace=ns, thread_id=thread))
    return list(got.events)


async def _memories(s: Stubs, ns: str, user: str = "") -> dict[str, ltm_pb.Memory]:
    flt = ltm_pb.MemoryFilter(user_ids=[user] if user else [])
    got = await s.ltm.ListMemories(ltm_pb.ListMemoriesRequest(namespace=ns, filter=flt))
    found = {}
    for memory in got.memories:
        copy = ltm_pb.Memory()
        copy.CopyFrom(memory)
        copy.namespace = ""
        found[memory.id] = copy
    return found


async def _search(s: Stubs, ns: str, query: str) -> list[tuple[str, float]]:
    got = await s.ltm.SearchMemories(
        ltm_pb.SearchMemoriesRequest(
            namespace=ns, text=query, mode=ltm_pb.RECALL_MODE_VECTOR, limit=3, max_distance=2
        )
    )
    return [(match.memory.id, round(match.distance, 5)) for match in got.matches]


def _kinds(records: Sequence[pb.ExportRecord]) -> list[str]:
    return [str(record.WhichOneof("record")) for record in records]


async def test_a_namespace_round_trips_into_another_server(
    source: Stubs, target: Stubs, ns: str
) -> None:
    made = await _fill(source, ns)
    records = await _export(source, ns)
    kinds = _kinds(records)
    assert kinds[0] == "header"
    assert kinds[-1] == "trailer"
    assert kinds.count("settings") == 1
    assert kinds.count("session") == 3
    assert kinds.count("memory") == 3
    assert kinds.count("user_threads") == 2
    assert kinds.count("checkpoint") == 4
    # The order of the contract: each kind after the ones before it.
    order = [
        "header", "settings", "session", "user_threads", "event", "memory", "checkpoint", "trailer"
    ]  # fmt: skip
    assert kinds == sorted(kinds, key=order.index)
    header = records[0].header
    assert header.format_version == 1
    assert header.namespace == ns
    assert header.embedding_dimensions == 384
    assert header.embedding_fingerprint
    counts = records[-1].trailer.counts
    assert (counts.sessions, counts.memories, counts.settings, counts.checkpoints) == (3, 3, 1, 4)

    other = ns + "x"
    result = await _import(target, other, records)
    assert result.imported == counts
    assert result.skipped_expired == 0

    for thread in ("a1", "a2", "b1"):
        assert await _session(target, other, thread) == await _session(source, ns, thread)
    for thread in ("a1", "a2", "b1", "lonely", "memrpc.memories"):
        assert await _events(target, other, thread) == await _events(source, ns, thread)
    await _same_checkpoints(source, ns, target, other)
    lonely = await _events(target, other, "lonely")
    assert [e.type for e in lonely] == ["tool.call", "raw"]
    assert lonely[1].data == b"\x00\x01"
    before, after = await _memories(source, ns), await _memories(target, other)
    assert set(after) == set(made["ids"])
    for memory_id, memory in before.items():
        got = after[memory_id]
        assert got.HasField("expire_time") == memory.HasField("expire_time")
        if memory.HasField("expire_time"):
            assert abs(got.expire_time.seconds - memory.expire_time.seconds) <= 1
            got.expire_time.CopyFrom(memory.expire_time)
        assert got == memory
    assert before[made["ids"][2]].hit_count == 2
    assert before[made["ids"][2]].pinned
    for query in ("window seat", "tea", "Lisbon trip"):
        assert await _search(target, other, query) == await _search(source, ns, query)
    settings = await target.settings.GetNamespaceSettings(
        ns_pb.GetNamespaceSettingsRequest(namespace=other)
    )
    assert settings.settings.sessions.max_window_turns == 3
    # The restored namespace goes on: an append continues the thread's log.
    appended = await target.wm.AppendTurns(
        wm_pb.AppendTurnsRequest(
            namespace=other, thread_id="a1", turns=[wm_pb.TurnInput(role="user", content="more")]
        )
    )
    log = await _events(target, other, "a1")
    assert log[-1].id == appended.event_ids[-1]
    assert appended.version == (await _session(source, ns, "a1")).version + 1
    listed = await target.wm.ListSessions(wm_pb.ListSessionsRequest(namespace=other))
    assert {s.thread_id for s in listed.sessions} == {"a1", "a2", "b1"}
    alice = await target.wm.ListSessions(
        wm_pb.ListSessionsRequest(namespace=other, user_id="alice")
    )
    assert {s.thread_id for s in alice.sessions} == {"a1", "a2"}


async def test_one_users_data_round_trips(source: Stubs, target: Stubs, ns: str) -> None:
    await _fill(source, ns)
    records = await _export(source, ns, "alice")
    kinds = _kinds(records)
    assert "settings" not in kinds
    assert kinds.count("session") == 2
    assert kinds.count("user_threads") == 1
    assert kinds.count("memory") == 2
    threads = {r.event.thread_id for r in records if r.WhichOneof("record") == "event"}
    assert threads == {"a1", "a2"}
    checkpoints = [r.checkpoint for r in records if r.WhichOneof("record") == "checkpoint"]
    assert [(c.thread_id, c.checkpoint_id) for c in checkpoints] == [("a1", "c2"), ("a1", "c1")]
    assert records[0].header.user_id == "alice"
    result = await _import(target, ns, records)
    assert result.imported.sessions == 2
    assert set(await _memories(target, ns)) == set(await _memories(source, ns, "alice"))
    assert await _session(target, ns, "a2") == await _session(source, ns, "a2")
    assert await _checkpoints(target, ns, "a1") == await _checkpoints(source, ns, "a1")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await target.wm.GetSession(wm_pb.GetSessionRequest(namespace=ns, thread_id="b1"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_namespace_not_empty_is_refused(source: Stubs, ns: str) -> None:
    await _fill(source, ns)
    records = await _export(source, ns)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _import(source, ns, records)
    metadata = assert_reason(err.value, grpc.StatusCode.FAILED_PRECONDITION, "NAMESPACE_NOT_EMPTY")
    assert metadata == {"namespace": ns}


async def test_a_namespace_holding_only_checkpoints_is_not_empty(source: Stubs, ns: str) -> None:
    records = await _export(source, ns)  # of nothing
    await source.cp.PutCheckpoint(
        cp_pb.PutCheckpointRequest(
            namespace=ns,
            thread_id="t",
            checkpoint_id="c",
            state=cp_pb.SerializedValue(encoding="e"),
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _import(source, ns, records)
    assert_reason(err.value, grpc.StatusCode.FAILED_PRECONDITION, "NAMESPACE_NOT_EMPTY")


async def test_another_format_version_is_refused(source: Stubs, ns: str) -> None:
    records = await _export(source, ns)
    records[0].header.format_version = 2
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _import(source, ns + "v", records)
    assert_invalid(err.value, "records[0].header.format_version")


async def test_vectors_of_another_model_are_refused(source: Stubs, ns: str) -> None:
    records = await _export(source, ns)
    served = records[0].header.embedding_fingerprint
    records[0].header.embedding_fingerprint = "0" * len(served)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _import(source, ns + "m", records)
    metadata = assert_reason(
        err.value, grpc.StatusCode.FAILED_PRECONDITION, "EMBEDDING_MODEL_MISMATCH"
    )
    assert metadata == {"exported": "0" * len(served), "served": served}
    records[0].header.embedding_fingerprint = served
    records[0].header.embedding_dimensions = 768
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _import(source, ns + "m", records)
    assert_reason(err.value, grpc.StatusCode.FAILED_PRECONDITION, "EMBEDDING_MODEL_MISMATCH")


async def test_a_trailer_that_does_not_count_what_came_is_refused(
    source: Stubs, target: Stubs, ns: str
) -> None:
    await _fill(source, ns)
    records = await _export(source, ns)
    dropped = [r for r in records if r.WhichOneof("record") != "memory" or r.memory.memory.pinned]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _import(target, ns, dropped)
    # The trailer's index in the last request (7 records a request).
    at = (len(dropped) - 1) % 7
    assert_invalid(err.value, f"records[{at}].trailer.counts.memories")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _import(target, ns + "t", records[:-1])
    assert_invalid(err.value, "records")


async def test_expired_records_are_skipped_and_counted(
    source: Stubs, target: Stubs, ns: str
) -> None:
    await _fill(source, ns)
    records = await _export(source, ns)
    for record in records:
        if record.WhichOneof("record") == "session" and record.session.thread_id == "b1":
            record.session.expire_time.FromSeconds(1)
        if record.WhichOneof("record") == "memory" and record.memory.memory.user_id == "bob":
            record.memory.memory.expire_time.FromSeconds(1)
    result = await _import(target, ns, records)
    assert result.skipped_expired == 2
    assert result.imported.sessions == 2
    assert result.imported.memories == 2
    assert len(await _memories(target, ns)) == 2


# -- The CLI ----------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memrpc.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_cli_round_trips_through_a_file(
    source: Stubs, target: Stubs, ns: str, memrpc_server: MemrpcServer, tmp_path: Path
) -> None:
    await _fill(source, ns)
    out = tmp_path / "export.jsonl"
    here = f"127.0.0.1:{memrpc_server.port}"
    there = f"127.0.0.1:{target.server.port}"
    done = await asyncio.to_thread(
        _cli, "export", "--target", here, "--namespace", ns, "--output", str(out)
    )
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert first["header"]["namespace"] == ns
    assert "trailer" in last
    assert len(lines) == sum(int(v) for v in last["trailer"]["counts"].values()) + 2
    record = json_format.Parse(lines[-1], pb.ExportRecord())
    assert record.trailer.counts.sessions == 3
    done = await asyncio.to_thread(
        _cli, "import", "--target", there, "--namespace", ns, "--input", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "3 sessions" in done.stdout
    assert await _session(target, ns, "a1") == await _session(source, ns, "a1")
    # Again: refused, one line, exit status 1.
    again = await asyncio.to_thread(
        _cli, "import", "--target", there, "--namespace", ns, "--input", str(out)
    )
    assert again.returncode == 1
    assert "NAMESPACE_NOT_EMPTY" in again.stderr
    assert "Traceback" not in again.stderr
    missing = await asyncio.to_thread(
        _cli, "import", "--target", there, "--namespace", ns, "--input", str(tmp_path / "no")
    )
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


# -- Bounded reads ----------------------------------------------------------


class CountingRedis:
    """A client that counts the replies of each command and their largest
    size (in items), passing every call on."""

    def __init__(self, inner: RedisClient) -> None:
        self._inner = inner
        self.largest: dict[str, int] = {}
        self.calls: dict[str, int] = {}

    def _count(self, name: Arg, reply: Any) -> Any:
        key = str(name).upper()
        size = len(reply[1]) if key == "SCAN" else len(reply) if isinstance(reply, list) else 1
        self.largest[key] = max(self.largest.get(key, 0), size)
        self.calls[key] = self.calls.get(key, 0) + 1
        return reply

    async def execute(self, *args: Arg, script: str | None = None) -> Any:
        return self._count(args[0], await self._inner.execute(*args, script=script))

    async def execute_at(self, key: Arg | None, *args: Arg) -> Any:
        return self._count(args[0], await self._inner.execute_at(key, *args))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_an_export_reads_in_pages_of_its_size(
    source: Stubs, memrpc_server: MemrpcServer, mux: RedisClient, ns: str
) -> None:
    """Every read of an export is a page: no reply holds more than the page
    size (the replies of `HGETALL`: one key's fields), however many
    sessions, events and memories there are; the reads grow with them."""
    threads = 30
    for i in range(threads):
        await source.wm.AppendTurns(
            wm_pb.AppendTurnsRequest(
                namespace=ns,
                thread_id=f"t{i}",
                user_id="u",
                turns=[wm_pb.TurnInput(role="user", content=f"{i}.{j}") for j in range(12)],
            )
        )
    await source.ltm.CreateMemories(
        ltm_pb.CreateMemoriesRequest(
            namespace=ns,
            memories=[ltm_pb.MemoryInput(text=f"fact number {i} of many") for i in range(25)],
            dedup_max_distance=0,
        )
    )
    counting = CountingRedis(mux)
    page = 5
    reader = ExportReader(counting, _long_term(memrpc_server, counting), page_size=page)  # type: ignore[arg-type]
    sessions = [s async for p in reader.sessions(ns) for s in p]
    assert len(sessions) == threads
    logs = [t async for p in reader.threads(ns) for t in p]
    assert len(logs) == threads
    events = [e async for e_page in reader.events(ns, "t0") for e in e_page]
    assert len(events) == 12
    served = await _choice(memrpc_server, ns)
    memories = [m async for p in reader.memories(ns, None, served, 2**62) for m in p]
    assert len(memories) == 25
    assert counting.largest["XRANGE"] <= page
    assert counting.calls["XRANGE"] >= 12 // page
    # A SCAN's COUNT is a hint: a reply holds about as many keys.
    assert counting.largest["SCAN"] <= 4 * page
    # On a Redis Cluster each search runs inside a script (index_query.lua).
    searches = ("FT.SEARCH", "FT.AGGREGATE", "EVALSHA")
    assert sum(counting.calls.get(command, 0) for command in searches) >= 25 // page


def _long_term(server: MemrpcServer, redis: RedisClient) -> LongTermStore:
    return LongTermStore(redis, dim=384, vector_type=VectorType(server.settings.vector_type))


async def _choice(server: MemrpcServer, ns: str) -> Any:
    models = server._models
    assert models is not None
    return (await models.choice(ns)).model.field
