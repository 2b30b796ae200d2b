"""The Checkpoints service against the session's server: put and get (latest
or by id) with pending writes, the writes' keep-first and replace rules,
listing order, `before`, metadata filters and paging, deletions (a thread,
pruning, runs), copies, namespace isolation, the keys as `store/keys.py`
names them (the Lua scripts build them on their own), DeleteNamespace
removing them, and refusals with the field they name."""

from __future__ import annotations

import json
from collections.abc import Sequence

import grpc
import pytest
import redis.asyncio

from memrpc.store import keys
from memrpc.v1 import administration_pb2 as admin_pb
from memrpc.v1 import administration_pb2_grpc, checkpoints_pb2_grpc
from memrpc.v1 import checkpoints_pb2 as pb
from support import assert_invalid, assert_reason

pytestmark = [pytest.mark.on_cluster, pytest.mark.genuine_redis]


@pytest.fixture
def cp(channel: grpc.aio.Channel) -> checkpoints_pb2_grpc.CheckpointsStub:
    return checkpoints_pb2_grpc.CheckpointsStub(channel)


def _id(i: int) -> str:
    """Ids that sort as they are numbered, as LangGraph's UUID v6 do."""
    return f"1ef00000-0000-6000-8000-{i:012d}"


async def _put(
    cp: checkpoints_pb2_grpc.CheckpointsStub,
    ns: str,
    thread: str,
    i: int,
    *,
    cpns: str = "",
    run: str = "",
    metadata: dict[str, object] | None = None,
) -> str:
    await cp.PutCheckpoint(
        pb.PutCheckpointRequest(
            namespace=ns,
            thread_id=thread,
            checkpoint_ns=cpns,
            checkpoint_id=_id(i),
            parent_checkpoint_id=_id(i - 1) if i > 0 else "",
            run_id=run,
            state=pb.SerializedValue(encoding="json", data=json.dumps({"i": i}).encode()),
            metadata=json.dumps(metadata if metadata is not None else {"step": i}),
        )
    )
    return _id(i)


def _write(task: str, index: int, channel: str, value: str, path: str = "") -> pb.CheckpointWrite:
    return pb.CheckpointWrite(
        task_id=task,
        index=index,
        channel=channel,
        value=pb.SerializedValue(encoding="str", data=value.encode()),
        task_path=path,
    )


async def _ids(
    cp: checkpoints_pb2_grpc.CheckpointsStub, ns: str, thread: str, cpns: str = "", **kw: object
) -> list[str]:
    """Every id of a listing, paging through it."""
    request = pb.ListCheckpointsRequest(namespace=ns, thread_id=thread, checkpoint_ns=cpns, **kw)
    ids: list[str] = []
    for _ in range(100):
        page = await cp.ListCheckpoints(request)
        ids += [c.checkpoint_id for c in page.checkpoints]
        if not page.next_page_token:
            return ids
        request.page_token = page.next_page_token
    raise AssertionError("the listing did not end")


async def test_put_then_get_latest_and_by_id_with_parent_run_and_metadata(
    cp: checkpoints_pb2_grpc.CheckpointsStub, ns: str
) -> None:
    for i in range(3):
        await _put(cp, ns, "t", i, run="run-a", metadata={"step": i, "source": "loop"})
    latest = (
        await cp.GetCheckpoint(pb.GetCheckpointRequest(namespace=ns, thread_id="t"))
    ).checkpoint
    assert latest.checkpoint_id == _id(2)
    assert latest.parent_checkpoint_id == _id(1)
    assert latest.run_id == "run-a"
    assert json.loads(latest.metadata) == {"step": 2, "source": "loop"}
    assert latest.state == pb.SerializedValue(encoding="json", data=b'{"i": 2}')
    assert latest.update_time.seconds > 0
    first = await cp.GetCheckpoint(
        pb.GetCheckpointRequest(namespace=ns, thread_id="t", checkpoint_id=_id(0))
    )
    assert first.checkpoint.parent_checkpoint_id == ""
    assert first.checkpoint.state.data == b'{"i": 0}'


async def test_a_missing_checkpoint_is_not_found(
    cp: checkpoints_pb2_grpc.CheckpointsStub, ns: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await cp.GetCheckpoint(pb.GetCheckpointRequest(namespace=ns, thread_id="none"))
    meta = assert_reason(err.value, grpc.StatusCode.NOT_FOUND, "CHECKPOINT_NOT_FOUND")
    assert meta == {"namespace": ns, "threadId": "none", "checkpointNs": "", "checkpointId": ""}
    await _put(cp, ns, "t", 1)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await cp.GetCheckpoint(
            pb.GetCheckpointRequest(namespace=ns, thread_id="t", checkpoint_id=_id(7))
        )
    assert_reason(err.value, grpc.StatusCode.NOT_FOUND, "CHECKPOINT_NOT_FOUND")


async def test_writes_keep_the_first_regular_write_and_replace_special_ones(
    cp: checkpoints_pb2_grpc.CheckpointsStub, ns: str
) -> None:
    cid = await _put(cp, ns, "t", 0)

    async def put(writes: Sequence[pb.CheckpointWrite]) -> int:
        reply = await cp.PutCheckpointWrites(
            pb.PutCheckpointWritesRequest(
                namespace=ns, thread_id="t", checkpoint_id=cid, writes=writes
            )
        )
        return reply.stored_count

    assert await put([_write("b", 0, "x", "1", "p2"), _write("a", 0, "y", "2", "p1")]) == 2
    assert (
        await put([_write("b", 0, "x", "changed", "p2"), _write("b", -1, "__error__", "e1")]) == 1
    )
    assert await put([_write("b", -1, "__error__", "e2")]) == 1
    got = (await cp.GetCheckpoint(pb.GetCheckpointRequest(namespace=ns, thread_id="t"))).checkpoint
    # Ordered by task path, task id, index; the regular write kept, the special one replaced.
    assert [(w.task_id, w.index, w.channel, w.value.data) for w in got.pending_writes] == [
        ("b", -1, "__error__", b"e2"),
        ("a", 0, "y", b"2"),
        ("b", 0, "x", b"1"),
    ]
    # A new checkpoint starts without writes; writes may come before their checkpoint.
    await put_early(cp, ns, "t", _id(1))
    await _put(cp, ns, "t", 1)
    later = (
        await cp.GetCheckpoint(pb.GetCheckpointRequest(namespace=ns, thread_id="t"))
    ).checkpoint
    assert [w.task_id for w in later.pending_writes] == ["early"]
    await _put(cp, ns, "t", 2)
    newest = (
        await cp.GetCheckpoint(pb.GetCheckpointRequest(namespace=ns, thread_id="t"))
    ).checkpoint
    assert list(newest.pending_writes) == []


async def put_early(
    cp: checkpoints_pb2_grpc.CheckpointsStub, ns: str, thread: str, cid: str, cpns: str = ""
) -> None:
    """Writes recorded against `cid`, stored or not."""
    await cp.PutCheckpointWrites(
        pb.PutCheckpointWritesRequest(
            namespace=ns,
            thread_id=thread,
            checkpoint_ns=cpns,
            checkpoint_id=cid,
            writes=[_write("early", 0, "c", "v")],
        )
    )


async def test_listing_is_newest_first_paged_bounded_by_before_and_filtered(
    cp: checkpoints_pb2_grpc.CheckpointsStub, ns: str
) -> None:
    for i in range(7):
        await _put(cp, ns, "t", i, metadata={"step": i, "source": "input" if i % 2 else "loop"})
    everything = [_id(i) for i in reversed(range(7))]
    assert await _ids(cp, ns, "t") == everything
    assert await _ids(cp, ns, "t", page_size=2) == everything
    first = await cp.ListCheckpoints(
        pb.ListCheckpointsRequest(namespace=ns, thread_id="t", page_size=3)
    )
    assert [c.checkpoint_id for c in first.checkpoints] == everything[:3]
    assert first.next_page_token
    assert await _ids(cp, ns, "t", before_checkpoint_id=_id(3)) == everything[4:]
    assert await _ids(cp, ns, "t", metadata_filter={"source": '"input"'}, page_size=1) == [
        _id(5),
        _id(3),
        _id(1),
    ]
    assert await _ids(cp, ns, "t", metadata_filter={"step": "4.0", "source": '"loop"'}) == [_id(4)]
    assert await _ids(cp, ns, "t", metadata_filter={"step": "true"}) == []
    assert await _ids(cp, ns, "t", metadata_filter={"absent": "null"}) == []
    assert await _ids(cp, ns, "nobody") == []
    # A page token only goes with the request it was made for.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await cp.ListCheckpoints(
            pb.ListCheckpointsRequest(
                namespace=ns, thread_id="other", page_token=first.next_page_token
            )
        )
    assert_invalid(err.value, "page_token", "PAGE_TOKEN_INVALID")


async def test_checkpoint_namespaces_threads_and_namespaces_are_apart(
    cp: checkpoints_pb2_grpc.CheckpointsStub, ns: str
) -> None:
    await _put(cp, ns, "t", 1)
    await _put(cp, ns, "t", 2, cpns="child:1")
    await _put(cp, ns, "u", 3)
    await _put(cp, f"{ns}-other", "t", 4)
    assert await _ids(cp, ns, "t") == [_id(1)]
    assert await _ids(cp, ns, "t", "child:1") == [_id(2)]
    assert await _ids(cp, ns, "u") == [_id(3)]
    assert await _ids(cp, f"{ns}-other", "t") == [_id(4)]


async def test_delete_prune_and_delete_runs(
    cp: checkpoints_pb2_grpc.CheckpointsStub, channel: grpc.aio.Channel, ns: str
) -> None:
    for thread in ("a", "b", "c"):
        for i in range(3):
            await _put(cp, ns, thread, i, run=f"run-{i}")
        await _put(cp, ns, thread, 5, cpns="sub", run="run-0")
    await put_early(cp, ns, "a", _id(0))
    reply = await cp.DeleteCheckpointThread(
        pb.DeleteCheckpointThreadRequest(namespace=ns, thread_id="a")
    )
    assert reply.deleted_count == 4
    assert await _ids(cp, ns, "a") == []
    assert await _ids(cp, ns, "a", "sub") == []
    deleted = await cp.DeleteCheckpointThread(
        pb.DeleteCheckpointThreadRequest(namespace=ns, thread_id="a")
    )
    assert deleted.deleted_count == 0
    pruned = await cp.PruneCheckpoints(
        pb.PruneCheckpointsRequest(namespace=ns, thread_ids=["b", "none"])
    )
    assert pruned.deleted_count == 2
    assert await _ids(cp, ns, "b") == [_id(2)]
    assert await _ids(cp, ns, "b", "sub") == [_id(5)]
    runs = await cp.DeleteCheckpointRuns(
        pb.DeleteCheckpointRunsRequest(namespace=ns, run_ids=["run-0", "x"])
    )
    assert runs.deleted_count == 3  # c's 0 and 5, b's 5
    assert await _ids(cp, ns, "c") == [_id(2), _id(1)]
    assert await _ids(cp, ns, "c", "sub") == []
    everything = await cp.PruneCheckpoints(
        pb.PruneCheckpointsRequest(
            namespace=ns, thread_ids=["c"], strategy=pb.PRUNE_STRATEGY_DELETE_ALL
        )
    )
    assert everything.deleted_count == 2
    assert await _ids(cp, ns, "c") == []
    # The bulk deletions are audited (one thread's deletion is routine), the
    # threads by digest.
    audit = administration_pb2_grpc.AdministrationStub(channel)
    records = await audit.ListAuditRecords(admin_pb.ListAuditRecordsRequest(namespace=ns))
    operations = [r.operation.rsplit("/", 1)[-1] for r in records.records]
    assert operations == ["PruneCheckpoints", "DeleteCheckpointRuns", "PruneCheckpoints"]
    assert "c" not in records.records[0].details["request"]["thread_ids"]


async def test_a_copy_keeps_ids_writes_and_runs(
    cp: checkpoints_pb2_grpc.CheckpointsStub, ns: str
) -> None:
    for i in range(3):
        await _put(cp, ns, "src", i, run="r")
    await _put(cp, ns, "src", 4, cpns="sub")
    await put_early(cp, ns, "src", _id(2))
    copied = await cp.CopyCheckpointThread(
        pb.CopyCheckpointThreadRequest(namespace=ns, source_thread_id="src", target_thread_id="dst")
    )
    assert copied.copied_count == 4
    assert await _ids(cp, ns, "dst") == await _ids(cp, ns, "src")
    assert await _ids(cp, ns, "dst", "sub") == [_id(4)]
    got = (
        await cp.GetCheckpoint(pb.GetCheckpointRequest(namespace=ns, thread_id="dst"))
    ).checkpoint
    assert got.run_id == "r"
    assert [w.task_id for w in got.pending_writes] == ["early"]
    # The copies belong to the run too.
    await cp.DeleteCheckpointRuns(pb.DeleteCheckpointRunsRequest(namespace=ns, run_ids=["r"]))
    assert await _ids(cp, ns, "dst") == []
    assert await _ids(cp, ns, "src") == []
    assert await _ids(cp, ns, "dst", "sub") == [_id(4)]


async def test_the_keys_are_those_store_keys_names_and_namespace_deletion_removes_them(
    cp: checkpoints_pb2_grpc.CheckpointsStub,
    channel: grpc.aio.Channel,
    redis_client: redis.asyncio.Redis,
    ns: str,
) -> None:
    await _put(cp, ns, "t:1", 0, cpns="a:b", run="r")
    await put_early(cp, ns, "t:1", _id(0), "a:b")
    expected = [
        keys.checkpoint_thread(ns, "t:1"),
        keys.checkpoint_index(ns, "t:1", "a:b"),
        keys.checkpoint_written(ns, "t:1", "a:b"),
        keys.checkpoint(ns, "t:1", "a:b", _id(0)),
        keys.checkpoint_writes(ns, "t:1", "a:b", _id(0)),
        keys.checkpoint_run(ns, "r"),
    ]
    assert [await redis_client.exists(key) for key in expected] == [1] * len(expected)
    admin = administration_pb2_grpc.AdministrationStub(channel)
    for _ in range(100):
        if (await admin.DeleteNamespace(admin_pb.DeleteNamespaceRequest(namespace=ns))).done:
            break
    assert [await redis_client.exists(key) for key in expected] == [0] * len(expected)


def _bad_put(**changes: object) -> pb.PutCheckpointRequest:
    """A valid PutCheckpointRequest but for `changes` (None: the field
    unset)."""
    fields = {
        "namespace": "n",
        "thread_id": "t",
        "checkpoint_id": "c",
        "state": pb.SerializedValue(encoding="e"),
    } | changes
    return pb.PutCheckpointRequest(**{k: v for k, v in fields.items() if v is not None})


def _bad_writes(*writes: pb.CheckpointWrite) -> pb.PutCheckpointWritesRequest:
    """A PutCheckpointWritesRequest of `writes`, valid but for them."""
    return pb.PutCheckpointWritesRequest(
        namespace="n", thread_id="t", checkpoint_id="c", writes=writes
    )


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (_bad_put(namespace=None), "namespace"),
        (_bad_put(thread_id=None), "thread_id"),
        (_bad_put(checkpoint_id=None), "checkpoint_id"),
        (_bad_put(checkpoint_id="a:b"), "checkpoint_id"),
        (_bad_put(parent_checkpoint_id="x y"), "parent_checkpoint_id"),
        (_bad_put(state=None), "state"),
        (_bad_put(state=pb.SerializedValue()), "state.encoding"),
        (
            _bad_put(state=pb.SerializedValue(encoding="e", data=b"x" * (3 * 1024 * 1024 + 1))),
            "state.data",
        ),
        (_bad_put(metadata="[1]"), "metadata"),
        (_bad_put(metadata="{"), "metadata"),
        (_bad_put(checkpoint_ns="\n"), "checkpoint_ns"),
        (_bad_writes(), "writes"),
        (
            _bad_writes(
                pb.CheckpointWrite(index=0, channel="c", value=pb.SerializedValue(encoding="e"))
            ),
            "writes[0].task_id",
        ),
        (_bad_writes(pb.CheckpointWrite(task_id="k", channel="c")), "writes[0].value"),
        (_bad_writes(_write("k", 1, "c", "v"), _write("k", 1, "d", "v")), "writes[1]"),
        (pb.ListCheckpointsRequest(namespace="n", thread_id="t", page_size=1001), "page_size"),
        (
            pb.ListCheckpointsRequest(
                namespace="n", thread_id="t", metadata_filter={"k": "not json"}
            ),
            "metadata_filter['k']",
        ),
        (
            pb.ListCheckpointsRequest(namespace="n", thread_id="t", before_checkpoint_id="a b"),
            "before_checkpoint_id",
        ),
        (
            pb.CopyCheckpointThreadRequest(
                namespace="n", source_thread_id="t", target_thread_id="t"
            ),
            "target_thread_id",
        ),
        (pb.PruneCheckpointsRequest(namespace="n", thread_ids=["t", ""]), "thread_ids[1]"),
        (pb.PruneCheckpointsRequest(namespace="n", thread_ids=["t"], strategy=9), "strategy"),
        (pb.DeleteCheckpointRunsRequest(namespace="n", run_ids=[""]), "run_ids[0]"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else value,
)
async def test_refusals_name_the_field(
    cp: checkpoints_pb2_grpc.CheckpointsStub, request_: object, field: str
) -> None:
    method = type(request_).__name__.removesuffix("Request")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(cp, method)(request_)
    assert_invalid(err.value, field)
