"""The Administration service on the real Redis and model: EraseUser leaves
no trace of the user in any Redis key (every key scanned, names and values)
and nothing of anyone else is touched; DeleteNamespace deletes exactly the
namespace's keys in bounded, resumable steps; the audit log records every
destructive or administrative call (who, what, outcome), keeps no user id,
and survives the namespace's deletion."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from conftest import make_settings, running
from memrpc import remote
from memrpc.auth.credentials import Access
from memrpc.auth.keys import new_key
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.jobs.forgetting import ForgettingJob
from memrpc.store import keys
from memrpc.store.audit_log import user_digest
from memrpc.store.events import Retention
from memrpc.store.forgetting import ForgettingStore
from memrpc.store.hash_slot import hash_tag
from memrpc.store.memory_changes import CHANGES_THREAD
from memrpc.store.namespace_deletion import NamespaceDeleter
from memrpc.store.redis_mux import RedisClient
from memrpc.v1 import administration_pb2 as adm
from memrpc.v1 import (
    administration_pb2_grpc,
    checkpoints_pb2_grpc,
    event_log_pb2_grpc,
    long_term_memory_pb2_grpc,
    namespace_settings_pb2,
    namespace_settings_pb2_grpc,
    working_memory_pb2_grpc,
)
from memrpc.v1 import checkpoints_pb2 as cp
from memrpc.v1 import event_log_pb2 as el
from memrpc.v1 import long_term_memory_pb2 as lt
from memrpc.v1 import working_memory_pb2 as wmp
from support import assert_invalid, assert_reason
from test_auth import bearer
from test_forgetting import Policy, budget

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

Stubs = tuple[
    working_memory_pb2_grpc.WorkingMemoryStub,
    long_term_memory_pb2_grpc.LongTermMemoryStub,
    event_log_pb2_grpc.EventLogStub,
]


@pytest.fixture
def stubs(channel: grpc.aio.Channel) -> Stubs:
    return (
        working_memory_pb2_grpc.WorkingMemoryStub(channel),
        long_term_memory_pb2_grpc.LongTermMemoryStub(channel),
        event_log_pb2_grpc.EventLogStub(channel),
    )


@pytest.fixture
def admin(channel: grpc.aio.Channel) -> administration_pb2_grpc.AdministrationStub:
    return administration_pb2_grpc.AdministrationStub(channel)


async def every_key(redis: RedisClient, nodes: list[str]) -> AsyncIterator[bytes]:
    """Every key of every node (`nodes`: a key served by each)."""
    for anchor in nodes:
        cursor = b"0"
        while True:
            cursor, found = await redis.execute_at(anchor, "SCAN", cursor, "COUNT", 1000)
            for key in found:
                yield key
            if cursor == b"0":
                break


async def contents(redis: RedisClient, key: bytes) -> bytes:
    """A key's value, whatever its type, as bytes to search."""
    kind = (await redis.execute("TYPE", key)).decode()
    read = {
        "string": ("GET",),
        "hash": ("HGETALL",),
        "set": ("SMEMBERS",),
        "zset": ("ZRANGE", 0, -1),
        "list": ("LRANGE", 0, -1),
        "stream": ("XRANGE", "-", "+"),
        "ReJSON-RL": ("JSON.GET",),
    }.get(kind)
    if read is None:
        return b""
    return repr(await redis.execute(read[0], key, *read[1:])).encode()


async def traces(mux: RedisClient, *needles: str) -> list[str]:
    """The keys whose name or value holds any of `needles`."""
    wanted = [needle.encode() for needle in needles]
    nodes = await mux.keys_per_primary("memrpc:trace")
    found = []
    async for key in every_key(mux, nodes):
        text = key + b" " + await contents(mux, key)
        if any(needle in text for needle in wanted):
            found.append(key.decode(errors="replace"))
    return found


async def user_data(stubs: Stubs, ns: str, user: str, secret: str, threads: list[str]) -> None:
    """Sessions with turns (request ids too), and memories of `user`."""
    wm, ltm, _ = stubs
    for n, thread in enumerate(threads):
        await wm.AppendTurns(
            wmp.AppendTurnsRequest(
                namespace=ns,
                thread_id=thread,
                user_id=user,
                turns=[
                    wmp.TurnInput(role="user", content=f"{secret} said turn {i}") for i in range(3)
                ],
                request_id=f"r{n}{uuid.uuid4().hex[:8]}",
            )
        )
    texts = [
        f"{secret} prefers window seats",
        f"{secret} is allergic to peanuts",
        f"{secret} works night shifts as a nurse",
    ]
    await ltm.CreateMemories(
        lt.CreateMemoriesRequest(
            namespace=ns,
            memories=[
                lt.MemoryInput(text=text, user_id=user, kind=lt.MEMORY_KIND_SEMANTIC)
                for text in texts
            ],
        )
    )


async def checkpoint(
    channel: grpc.aio.Channel, ns: str, thread: str, cpns: str, secret: str
) -> None:
    """A checkpoint of the thread holding `secret`, with a pending write."""
    checkpoints = checkpoints_pb2_grpc.CheckpointsStub(channel)
    state = cp.SerializedValue(encoding="str", data=secret.encode())
    await checkpoints.PutCheckpoint(
        cp.PutCheckpointRequest(
            namespace=ns, thread_id=thread, checkpoint_ns=cpns, checkpoint_id="c1", state=state
        )
    )
    await checkpoints.PutCheckpointWrites(
        cp.PutCheckpointWritesRequest(
            namespace=ns,
            thread_id=thread,
            checkpoint_ns=cpns,
            checkpoint_id="c1",
            writes=[cp.CheckpointWrite(task_id="t", channel="c", value=state)],
        )
    )


async def test_erase_user_leaves_no_trace_and_spares_everyone_else(
    stubs: Stubs,
    channel: grpc.aio.Channel,
    admin: administration_pb2_grpc.AdministrationStub,
    mux: RedisClient,
    ns: str,
) -> None:
    wm, ltm, events = stubs
    tag = uuid.uuid4().hex[:10]
    alice, bob = f"alice-{tag}", f"bob-{tag}"
    alice_secret, bob_secret = f"Alicia{tag}", f"Roberto{tag}"
    alice_threads = [f"alice-chat-{tag}-1", f"alice-chat-{tag}-2"]
    await user_data(stubs, ns, alice, alice_secret, alice_threads)
    await user_data(stubs, ns, bob, bob_secret, [f"bob-chat-{tag}"])
    # LangGraph checkpoints of the threads (MemrpcSaver), in two checkpoint namespaces.
    for cpns in ("", "sub:1"):
        await checkpoint(channel, ns, alice_threads[0], cpns, alice_secret)
    await checkpoint(channel, ns, f"bob-chat-{tag}", "", bob_secret)
    # A consumer group holding the feed's entries pending, and a session
    # gone while its log stays: the durable record of threads finds it.
    await events.CreateConsumerGroup(
        el.CreateConsumerGroupRequest(
            namespace=ns, group="g", start_position=el.GROUP_START_POSITION_EARLIEST
        )
    )
    received = await events.ReceiveEvents(
        el.ReceiveEventsRequest(namespace=ns, group="g", consumer="c", max_events=100)
    )
    assert len(received.events) == 9
    await wm.DeleteSession(wmp.DeleteSessionRequest(namespace=ns, thread_id=alice_threads[1]))
    # The forgetting job keeps one memory per user: the others become
    # events of the changes thread that hold their text.
    forgetting = ForgettingStore(mux, Retention(log_max_len=1000, feed_max_len=1000))

    await ForgettingJob(forgetting, Policy(budget(1))).run(ns, 4_200_000_000_000)
    changes = await events.ListEvents(
        el.ListEventsRequest(namespace=ns, thread_id=CHANGES_THREAD, page_size=100)
    )
    assert len(changes.events) == 4  # two of each user's three

    assert await traces(mux, alice_secret, alice)  # before: everywhere
    erased = (await admin.EraseUser(adm.EraseUserRequest(namespace=ns, user_id=alice))).erased

    assert (erased.sessions, erased.threads, erased.thread_events) == (1, 2, 6)
    assert erased.feed_entries == 6 + 2  # the turns, and the changes about alice
    assert erased.pending_entries == 6
    assert erased.memories == 1
    assert erased.change_events == 2
    assert erased.request_records == 2
    assert erased.checkpoints == 2
    hex_ids = [keys.tag_value(alice), *(keys.tag_value(t) for t in alice_threads)]
    assert await traces(mux, alice_secret, alice, *alice_threads, *hex_ids) == []

    # Bob is whole: his session, log, memory, feed entries and change events.
    session = await wm.GetSession(wmp.GetSessionRequest(namespace=ns, thread_id=f"bob-chat-{tag}"))
    assert session.session.user_id == bob
    assert len(session.session.turns) == 3
    kept = await checkpoints_pb2_grpc.CheckpointsStub(channel).GetCheckpoint(
        cp.GetCheckpointRequest(namespace=ns, thread_id=f"bob-chat-{tag}")
    )
    assert kept.checkpoint.state.data == bob_secret.encode()
    listed = await ltm.ListMemories(lt.ListMemoriesRequest(namespace=ns))
    assert [m.user_id for m in listed.memories] == [bob]
    changes = await events.ListEvents(
        el.ListEventsRequest(namespace=ns, thread_id=CHANGES_THREAD, page_size=100)
    )
    assert {e.json["user_id"] for e in changes.events} == {bob}
    assert await mux.execute("XLEN", keys.feed(ns)) == 3 + 2
    # Nothing of alice's is delivered again to the group.
    pending = await mux.execute("XPENDING", keys.feed(ns), "g")
    assert pending[0] == 3

    again = (await admin.EraseUser(adm.EraseUserRequest(namespace=ns, user_id=alice))).erased
    assert again == adm.ErasureCounts()

    records = await admin.ListAuditRecords(adm.ListAuditRecordsRequest(namespace=ns))
    erasures = [r for r in records.records if r.operation.endswith("/EraseUser")]
    assert len(erasures) == 2
    assert all(r.code == "OK" for r in erasures)
    assert erasures[1].details["request"]["user_id"] == user_digest(ns, alice)
    assert erasures[1].details["response"]["erased"]["memories"] == "1"  # int64 as JSON


async def test_erase_user_needs_a_user(admin: administration_pb2_grpc.AdministrationStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.EraseUser(adm.EraseUserRequest(namespace="n"))
    assert_invalid(refused.value, "user_id")


async def test_delete_namespace_deletes_its_keys_only_in_resumable_steps(
    stubs: Stubs,
    channel: grpc.aio.Channel,
    admin: administration_pb2_grpc.AdministrationStub,
    mux: RedisClient,
    ns: str,
) -> None:
    other = f"{ns}x"
    for name in (ns, other):
        await user_data(stubs, name, "u", f"secret-{name}", [f"t{i}" for i in range(60)])
    settings = namespace_settings_pb2_grpc.NamespacesStub(channel)
    await settings.UpdateNamespaceSettings(
        namespace_settings_pb2.UpdateNamespaceSettingsRequest(
            namespace=ns,
            settings=namespace_settings_pb2.NamespaceSettings(
                sessions=namespace_settings_pb2.SessionDefaults(max_window_turns=5)
            ),
            update_mask={"paths": ["sessions.max_window_turns"]},
        )
    )
    before = sorted(await traces(mux, f"{{{other}}}"))

    # No time at all: one step, then the cursor is kept for the next call.
    deleter = NamespaceDeleter(mux)
    step = await deleter.delete(ns, seconds=0)
    calls, deleted = 1, step.deleted_keys
    while not step.done and calls < 100_000:
        step = await deleter.delete(ns, seconds=0)
        calls, deleted = calls + 1, deleted + step.deleted_keys
    assert step.done
    assert deleted > 60 * 2
    finished = await admin.DeleteNamespace(adm.DeleteNamespaceRequest(namespace=ns))
    assert finished.done
    assert finished.deleted_keys == 0
    nodes = await mux.keys_per_primary("memrpc:trace")
    assert [key async for key in every_key(mux, nodes) if hash_tag(key) == ns.encode()] == []
    assert not await mux.execute("SISMEMBER", keys.namespaces(), ns)
    assert sorted(await traces(mux, f"{{{other}}}")) == before

    # The audit log outlives the namespace, and records its deletion.
    records = await admin.ListAuditRecords(adm.ListAuditRecordsRequest(namespace=ns))
    operations = [r.operation.rsplit("/", 1)[1] for r in records.records]
    assert operations == ["DeleteNamespace", "UpdateNamespaceSettings"]
    assert records.records[0].details["response"]["done"] is True


async def test_audit_records_outcomes_pages_and_refuses_bad_tokens(
    channel: grpc.aio.Channel, admin: administration_pb2_grpc.AdministrationStub, ns: str
) -> None:
    ltm = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
    await ltm.DeleteMemories(
        lt.DeleteMemoriesRequest(namespace=ns, filter=lt.MemoryFilter(user_ids=["carol"]))
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await ltm.DeleteMemories(lt.DeleteMemoriesRequest(namespace=ns))  # no filter
    # Reads are not recorded.
    await ltm.ListMemories(lt.ListMemoriesRequest(namespace=ns))

    first = await admin.ListAuditRecords(adm.ListAuditRecordsRequest(namespace=ns, page_size=1))
    [failed] = first.records
    assert (failed.operation, failed.namespace) == ("/memrpc.v1.LongTermMemory/DeleteMemories", ns)
    assert (failed.code, failed.reason) == ("INVALID_ARGUMENT", "ERROR_REASON_FIELD_INVALID")
    assert failed.credential_id == "anonymous"
    assert failed.time.seconds > 0
    second = await admin.ListAuditRecords(
        adm.ListAuditRecordsRequest(namespace=ns, page_size=1, page_token=first.next_page_token)
    )
    [done] = second.records
    assert done.code == "OK"
    assert done.reason == ""
    assert done.details["request"]["filter"]["user_ids"] == [user_digest(ns, "carol")]
    assert done.details["response"] == {}  # deleted_count 0: proto JSON leaves it out
    assert second.next_page_token == ""

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.ListAuditRecords(
            adm.ListAuditRecordsRequest(namespace=f"{ns}x", page_token=first.next_page_token)
        )
    assert_reason(refused.value, grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.ListAuditRecords(adm.ListAuditRecordsRequest(namespace="no spaces"))
    assert_invalid(refused.value, "namespace")
    # A call naming no valid namespace is recorded in the server-wide log, `*`.
    with pytest.raises(grpc.aio.AioRpcError):
        await admin.EraseUser(adm.EraseUserRequest(namespace="no }{ namespace", user_id="x"))
    server_wide = await admin.ListAuditRecords(
        adm.ListAuditRecordsRequest(namespace="*", page_size=1)
    )
    [refused] = server_wide.records
    assert (refused.operation, refused.namespace) == ("/memrpc.v1.Administration/EraseUser", "*")
    assert refused.code == "INVALID_ARGUMENT"


def memrpc_command(*args: str, key: str = "") -> subprocess.CompletedProcess[str]:
    """`memrpc <args>` in a process of its own (`MEMRPC_KEY` as given)."""
    environment = {k: v for k, v in os.environ.items() if k != remote.KEY_ENV}
    if key:
        environment[remote.KEY_ENV] = key
    return subprocess.run(
        [sys.executable, "-m", "memrpc.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )


async def test_the_commands_export_import_erase_delete_and_audit_with_a_key(
    tmp_path: Path, redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    root = new_key("root", ["*"], access=Access.ADMIN)
    writer = new_key("writer", ["*"], access=Access.WRITE)
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(f"{root.entry}\n\n{writer.entry}")
    settings = make_settings(redis_server.url, auth_keys_file=keys_file)
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        sessions = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        await sessions.AppendTurns(
            wmp.AppendTurnsRequest(
                namespace=ns,
                thread_id="dave-1",
                user_id="dave",
                turns=[wmp.TurnInput(role="user", content="Dave likes rye bread")],
            ),
            metadata=bearer(root.token),
        )
        target = ["--target", f"127.0.0.1:{server.port}"]
        key_file = tmp_path / "root.key"
        key_file.write_text(root.token + "\n")
        exported, copy = tmp_path / "dave.jsonl", f"{ns}copy"

        def run(*args: str, key: str = "") -> subprocess.CompletedProcess[str]:
            return memrpc_command(*args, *target, key=key)

        done = await asyncio.to_thread(
            run, "export", "--namespace", ns, "--user", "dave", "--output", str(exported),
            "--key-file", str(key_file),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        done = await asyncio.to_thread(
            run, "import", "--namespace", copy, "--input", str(exported), key=root.token
        )
        assert done.returncode == 0, done.stderr
        assert "1 sessions" in done.stdout

        done = await asyncio.to_thread(
            run, "erase-user", "--namespace", ns, "--user", "dave", key=writer.token
        )
        assert done.returncode == 1
        assert "PERMISSION_DENIED ERROR_REASON_METHOD_FORBIDDEN" in done.stderr
        done = await asyncio.to_thread(
            run, "erase-user", "--namespace", ns, "--user", "dave", key=root.token
        )
        assert done.returncode == 0, done.stderr
        assert "1 sessions, 1 threads, 1 thread_events" in done.stdout
        done = await asyncio.to_thread(run, "delete-namespace", "--namespace", copy, key=root.token)
        assert done.returncode == 0, done.stderr
        assert f"deleted namespace {copy!r}" in done.stdout

        done = await asyncio.to_thread(run, "audit", "--namespace", ns, key=root.token)
        assert done.returncode == 0, done.stderr
        records = [json.loads(line) for line in done.stdout.splitlines()]
        assert [(r["operation"].rsplit("/", 1)[1], r["credentialId"]) for r in records] == [
            ("EraseUser", "key:root"),
            ("ExportData", "key:root"),
        ]
        assert records[1]["details"]["request"]["user_id"] == user_digest(ns, "dave")
        done = await asyncio.to_thread(run, "audit", "--namespace", copy, key=root.token)
        operations = [json.loads(line)["operation"] for line in done.stdout.splitlines()]
        assert [o.rsplit("/", 1)[1] for o in operations] == ["DeleteNamespace", "ImportData"]
