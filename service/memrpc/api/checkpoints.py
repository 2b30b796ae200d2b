"""The Checkpoints service: thread checkpoints on `store.checkpoints`.

Page tokens follow `api/page_tokens.py` (the position: the id of the last
checkpoint examined). Metadata is a JSON object the server parses only to
check it and to match `metadata_filter`; states and write values are opaque.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from memrpc.api import page_tokens, paging, resources
from memrpc.api.convert import now_ms, set_timestamp
from memrpc.limits import (
    CHECKPOINT_FILTERED_READ,
    CHECKPOINT_LIST_SCAN_BUDGET,
    CHECKPOINT_PAGE_SIZE,
    MAX_CHANNEL_CHARS,
    MAX_CHECKPOINT_BATCH,
    MAX_CHECKPOINT_BYTES,
    MAX_CHECKPOINT_ID_CHARS,
    MAX_CHECKPOINT_METADATA_BYTES,
    MAX_CHECKPOINT_NS_CHARS,
    MAX_ENCODING_CHARS,
    MAX_METADATA_FILTERS,
    MAX_METADATA_KEY_CHARS,
    MAX_TASK_PATH_CHARS,
)
from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError, Context, translate_errors
from memrpc.store.checkpoints import CheckpointStore, NewCheckpoint, StoredCheckpoint, Write
from memrpc.v1 import checkpoints_pb2 as pb
from memrpc.v1 import checkpoints_pb2_grpc

LIST_CHECKPOINTS = "ListCheckpoints"
_CHECKPOINT_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_CHECKPOINT_ID_CHARS}}}")


def checkpoint_id(value: str, field: str, *, required: bool) -> str:
    """A checkpoint id: 1 to 64 of `[A-Za-z0-9._-]` (no `:`, which the
    keys and run Sets split on)."""
    if not value:
        if required:
            raise ApiError.invalid(field, "required")
        return value
    if not _CHECKPOINT_ID.fullmatch(value):
        raise ApiError.invalid(
            field, f"must be 1 to {MAX_CHECKPOINT_ID_CHARS} characters of [A-Za-z0-9._-]"
        )
    return value


def _checkpoint_ns(value: str, field: str = "checkpoint_ns") -> str:
    return validate.printable(value, field, max_chars=MAX_CHECKPOINT_NS_CHARS, required=False)


def _thread_place(
    request: pb.GetCheckpointRequest | pb.ListCheckpointsRequest | pb.PutCheckpointWritesRequest,
) -> tuple[str, str, str]:
    """The namespace, thread and checkpoint namespace a request names, each
    checked."""
    return (
        validate.namespace(request.namespace),
        validate.thread_id(request.thread_id),
        _checkpoint_ns(request.checkpoint_ns),
    )


def _batch(values: Sequence[str], field: str, check: Callable[[str, str], object]) -> list[str]:
    """The ids of a batch, each checked by `check(value, field)`, without
    repeats, at most `MAX_CHECKPOINT_BATCH`."""
    for i, value in enumerate(values):
        check(value, f"{field}[{i}]")
    return validate.each_unique(values, field, max_items=MAX_CHECKPOINT_BATCH)


def _run_id(value: str, field: str) -> str:
    return validate.printable(value, field, required=True)


def _serialized(value: pb.SerializedValue, field: str) -> None:
    validate.printable(
        value.encoding, f"{field}.encoding", max_chars=MAX_ENCODING_CHARS, required=True
    )
    if len(value.data) > MAX_CHECKPOINT_BYTES:
        raise ApiError.invalid(f"{field}.data", f"must be at most {MAX_CHECKPOINT_BYTES} bytes")


def _metadata(value: str, field: str) -> str:
    """The metadata as stored: a JSON object, `{}` for empty."""
    if not value:
        return "{}"
    if len(value.encode()) > MAX_CHECKPOINT_METADATA_BYTES:
        raise ApiError.invalid(
            field, f"must be at most {MAX_CHECKPOINT_METADATA_BYTES} bytes of UTF-8"
        )
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise ApiError.invalid(field, f"must be a JSON object: {exc}") from None
    if not isinstance(parsed, dict):
        raise ApiError.invalid(field, "must be a JSON object")
    return value


def checked_checkpoint(
    message: pb.PutCheckpointRequest | pb.ThreadCheckpoint, where: str = ""
) -> NewCheckpoint:
    """A checkpoint to store, from a request or an exported checkpoint
    (their fields named alike), each field checked; `where` prefixes the
    fields an error names."""
    if not message.HasField("state"):
        raise ApiError.invalid(f"{where}state", "required")
    _serialized(message.state, f"{where}state")
    return NewCheckpoint(
        thread=validate.thread_id(message.thread_id, f"{where}thread_id"),
        cpns=_checkpoint_ns(message.checkpoint_ns, f"{where}checkpoint_ns"),
        checkpoint_id=checkpoint_id(message.checkpoint_id, f"{where}checkpoint_id", required=True),
        parent=checkpoint_id(
            message.parent_checkpoint_id, f"{where}parent_checkpoint_id", required=False
        ),
        run=validate.printable(message.run_id, f"{where}run_id", required=False),
        metadata=_metadata(message.metadata, f"{where}metadata"),
        encoding=message.state.encoding,
        data=message.state.data,
    )


def _filter(value: Mapping[str, str]) -> dict[str, Any]:
    """`metadata_filter` with each value parsed as JSON."""
    if len(value) > MAX_METADATA_FILTERS:
        raise ApiError.invalid(
            "metadata_filter", f"must have at most {MAX_METADATA_FILTERS} entries"
        )
    parsed: dict[str, Any] = {}
    for key in sorted(value):
        field = f"metadata_filter[{key!r}]"
        if not 1 <= len(key) <= MAX_METADATA_KEY_CHARS:
            raise ApiError.invalid(field, f"keys must be 1 to {MAX_METADATA_KEY_CHARS} characters")
        try:
            parsed[key] = json.loads(validate.metadata_value(value[key], field))
        except ValueError as exc:
            raise ApiError.invalid(field, f"must be a JSON value: {exc}") from None
    return parsed


def same_json(a: Any, b: Any) -> bool:
    """Whether two parsed JSON values are equal as JSON: numbers by value,
    booleans apart from numbers, objects and arrays element by element."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _matches(stored: StoredCheckpoint, wanted: dict[str, Any]) -> bool:
    if not wanted:
        return True
    metadata = json.loads(stored.fields.get(b"metadata") or b"{}")
    return all(key in metadata and same_json(metadata[key], v) for key, v in wanted.items())


def checked_writes(
    writes: Sequence[pb.CheckpointWrite], field: str, *, required: bool = True
) -> list[Write]:
    """The pending writes to store (`field` names the list in errors), each
    checked, at least one when `required`."""
    if required or writes:
        validate.batch(writes, field, max_items=MAX_CHECKPOINT_BATCH)
    checked: list[Write] = []
    seen: set[tuple[str, int]] = set()
    total = 0
    for i, write in enumerate(writes):
        at = f"{field}[{i}]"
        task = validate.printable(write.task_id, f"{at}.task_id", required=True)
        validate.printable(
            write.channel, f"{at}.channel", max_chars=MAX_CHANNEL_CHARS, required=True
        )
        validate.printable(
            write.task_path, f"{at}.task_path", max_chars=MAX_TASK_PATH_CHARS, required=False
        )
        if not write.HasField("value"):
            raise ApiError.invalid(f"{at}.value", "required")
        _serialized(write.value, f"{at}.value")
        total += len(write.value.data)
        if total > MAX_CHECKPOINT_BYTES:
            raise ApiError.invalid(
                field, f"their values must be at most {MAX_CHECKPOINT_BYTES} bytes in all"
            )
        if (task, write.index) in seen:
            raise ApiError.invalid(
                at, f"repeats the task_id and index of an earlier write ({write.index})"
            )
        seen.add((task, write.index))
        checked.append(Write(f"{task}:{write.index}", write.SerializeToString(), write.index < 0))
    return checked


def checkpoint_message(thread: str, cpns: str, stored: StoredCheckpoint) -> pb.ThreadCheckpoint:
    """A stored checkpoint as the service (and an export) returns it."""
    fields = stored.fields
    message = pb.ThreadCheckpoint(
        thread_id=thread,
        checkpoint_ns=cpns,
        checkpoint_id=stored.checkpoint_id,
        parent_checkpoint_id=fields.get(b"parent", b"").decode(),
        run_id=fields.get(b"run", b"").decode(),
        state=pb.SerializedValue(
            encoding=fields.get(b"encoding", b"").decode(), data=fields.get(b"data", b"")
        ),
        metadata=fields.get(b"metadata", b"{}").decode(),
    )
    writes = [pb.CheckpointWrite.FromString(value) for value in stored.writes]
    writes.sort(key=lambda w: (w.task_path, w.task_id, w.index))
    message.pending_writes.extend(writes)
    set_timestamp(message.update_time, int(fields.get(b"update_ms", 0)))
    return message


def _position(request: pb.ListCheckpointsRequest) -> str:
    """The id the page of `request` starts below (its page token's), else
    `before_checkpoint_id` ('' for the top)."""
    position = page_tokens.decode(LIST_CHECKPOINTS, request)
    if position is None:
        return request.before_checkpoint_id
    match position:
        case [str(after)] if _CHECKPOINT_ID.fullmatch(after):
            return after
    raise page_tokens.invalid(LIST_CHECKPOINTS)


@translate_errors
class CheckpointsServicer(checkpoints_pb2_grpc.CheckpointsServicer):
    """Serves thread checkpoints from `store`."""

    def __init__(self, store: CheckpointStore) -> None:
        self._store = store

    async def PutCheckpoint(
        self, request: pb.PutCheckpointRequest, context: Context
    ) -> pb.PutCheckpointResponse:
        ns = validate.namespace(request.namespace)
        new = checked_checkpoint(request)
        now = now_ms()
        await self._store.put(ns, new, now_ms=now)
        response = pb.PutCheckpointResponse()
        set_timestamp(response.update_time, now)
        return response

    async def GetCheckpoint(
        self, request: pb.GetCheckpointRequest, context: Context
    ) -> pb.GetCheckpointResponse:
        ns, thread, cpns = _thread_place(request)
        cid = checkpoint_id(request.checkpoint_id, "checkpoint_id", required=False)
        stored = await self._store.get(ns, thread, cpns, cid)
        if stored is None:
            raise resources.checkpoint_not_found(ns, thread, cpns, cid)
        return pb.GetCheckpointResponse(checkpoint=checkpoint_message(thread, cpns, stored))

    async def ListCheckpoints(
        self, request: pb.ListCheckpointsRequest, context: Context
    ) -> pb.ListCheckpointsResponse:
        ns, thread, cpns = _thread_place(request)
        checkpoint_id(request.before_checkpoint_id, "before_checkpoint_id", required=False)
        wanted = _filter(request.metadata_filter)
        limit = validate.count(request.page_size, "page_size", CHECKPOINT_PAGE_SIZE)
        cursor = _position(request)
        budget = limit + CHECKPOINT_LIST_SCAN_BUDGET
        page: list[StoredCheckpoint] = []
        examined = 0
        more = False
        while True:
            # One more than the page lacks: whether the listing goes on.
            want = min(
                budget - examined,
                limit - len(page) + 1 + (CHECKPOINT_FILTERED_READ if wanted else 0),
            )
            found = await self._store.read(ns, thread, cpns, before=cursor, count=want)
            for stored in found:
                if len(page) == limit:
                    more = True
                    break
                examined += 1
                cursor = stored.checkpoint_id
                if _matches(stored, wanted):
                    page.append(stored)
            else:
                if len(found) < want:
                    break  # the end of the listing
                if examined >= budget:
                    more = True
                    break
                continue
            break
        messages = paging.fitting(checkpoint_message(thread, cpns, stored) for stored in page)
        if len(messages) < len(page):
            cursor, more = messages[-1].checkpoint_id, True
        token = page_tokens.encode(LIST_CHECKPOINTS, request, [cursor]) if more else ""
        return pb.ListCheckpointsResponse(checkpoints=messages, next_page_token=token)

    async def PutCheckpointWrites(
        self, request: pb.PutCheckpointWritesRequest, context: Context
    ) -> pb.PutCheckpointWritesResponse:
        ns, thread, cpns = _thread_place(request)
        cid = checkpoint_id(request.checkpoint_id, "checkpoint_id", required=True)
        writes = checked_writes(request.writes, "writes")
        stored = await self._store.put_writes(ns, thread, cpns, cid, writes)
        return pb.PutCheckpointWritesResponse(stored_count=stored)

    async def DeleteCheckpointThread(
        self, request: pb.DeleteCheckpointThreadRequest, context: Context
    ) -> pb.DeleteCheckpointThreadResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.thread_id(request.thread_id)
        deleted = await self._store.prune(ns, thread, keep_latest=False)
        return pb.DeleteCheckpointThreadResponse(deleted_count=deleted)

    async def CopyCheckpointThread(
        self, request: pb.CopyCheckpointThreadRequest, context: Context
    ) -> pb.CopyCheckpointThreadResponse:
        ns = validate.namespace(request.namespace)
        source = validate.thread_id(request.source_thread_id, "source_thread_id")
        target = validate.thread_id(request.target_thread_id, "target_thread_id")
        if source == target:
            raise ApiError.invalid("target_thread_id", "must not be the source thread")
        copied = await self._store.copy(ns, source, target)
        return pb.CopyCheckpointThreadResponse(copied_count=copied)

    async def PruneCheckpoints(
        self, request: pb.PruneCheckpointsRequest, context: Context
    ) -> pb.PruneCheckpointsResponse:
        ns = validate.namespace(request.namespace)
        threads = _batch(request.thread_ids, "thread_ids", validate.thread_id)
        if request.strategy not in pb.PruneStrategy.values():
            raise ApiError.invalid("strategy", f"unknown value {request.strategy}")
        keep = request.strategy != pb.PRUNE_STRATEGY_DELETE_ALL
        deleted = 0
        for thread in threads:
            deleted += await self._store.prune(ns, thread, keep_latest=keep)
        return pb.PruneCheckpointsResponse(deleted_count=deleted)

    async def DeleteCheckpointRuns(
        self, request: pb.DeleteCheckpointRunsRequest, context: Context
    ) -> pb.DeleteCheckpointRunsResponse:
        ns = validate.namespace(request.namespace)
        runs = _batch(request.run_ids, "run_ids", _run_id)
        deleted = await self._store.delete_runs(ns, runs)
        return pb.DeleteCheckpointRunsResponse(deleted_count=deleted)
