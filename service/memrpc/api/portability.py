"""The Portability service: a namespace's data, or one user's, exported as
a stream of `ExportRecord`s (`store/export_reader.py`) and restored into an
empty namespace of any server of the same embedding model
(`store/import_writer.py`).

An export reads a page (`export_reader.PAGE_SIZE` keys, entries or
memories) at a time and sends it as responses of at most `MAX_PAGE_BYTES`
(a record larger than that alone), each written as the client reads (gRPC
flow control: a response waits for the client's window), so that a server
holds about one page whatever the namespace's size.

An import checks every record as the write paths check requests (ids,
lengths, metadata, the vector's length), then writes records in batches
of at most `IMPORT_BATCH` records or `MAX_PAGE_BYTES`, a batch written
before the next is read: the records a call holds stay bounded too. Records
come in export order; a batch is written when a record of another kind
comes, when it is full, and at the trailer, whose counts are compared with
the records received last.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import numpy as np
from google.protobuf import json_format

from memrpc import models as served_models
from memrpc.api import memory_fields
from memrpc.api.checkpoints import checked_checkpoint, checked_writes, checkpoint_message
from memrpc.api.convert import now_ms, set_timestamp, timestamp_ms
from memrpc.api.event_log import event_message
from memrpc.api.namespaces import NamespacesServicer
from memrpc.api.working_memory import session_message
from memrpc.limits import (
    MAX_CONTENT_CHARS,
    MAX_EVENT_TYPE_CHARS,
    MAX_GOAL_CHARS,
    MAX_PAGE_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_ROLE_CHARS,
    MAX_SCRATCHPAD_CHARS,
    MAX_TOPICS,
    Limits,
)
from memrpc.namespace_cache import NamespaceCache
from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError, Context, translate_errors
from memrpc.store.events import EventContent
from memrpc.store.export_reader import ExportReader
from memrpc.store.import_writer import (
    ImportedCheckpoint,
    ImportedEvent,
    ImportedMemory,
    ImportedSession,
    ImportWriter,
    SessionTurn,
)
from memrpc.store.long_term import LongTermStore, Memory, Source
from memrpc.store.memory_index import ModelField
from memrpc.store.namespace_settings import NamespaceSettingsStore
from memrpc.v1 import long_term_memory_pb2 as ltm_pb
from memrpc.v1 import portability_pb2 as pb
from memrpc.v1 import portability_pb2_grpc
from memrpc.v1.error_reason_pb2 import ErrorReason
from memrpc.version import VERSION

# The one format this server writes and reads.
FORMAT_VERSION = 1
# Most records one import batch writes.
IMPORT_BATCH = 100
# What each record's kind is counted as, in `ExportCounts`.
_COUNTED = {
    "settings": "settings",
    "session": "sessions",
    "user_threads": "user_threads",
    "event": "events",
    "memory": "memories",
    "checkpoint": "checkpoints",
}
_SOURCE_IN = {
    ltm_pb.MEMORY_SOURCE_UNSPECIFIED: Source.UNSPECIFIED,
    ltm_pb.MEMORY_SOURCE_CLIENT: Source.CLIENT,
    ltm_pb.MEMORY_SOURCE_FORMATION: Source.FORMATION,
    ltm_pb.MEMORY_SOURCE_EXTRACTION: Source.EXTRACTION,
}


class _Responses:
    """Records gathered into responses of at most `MAX_PAGE_BYTES`."""

    def __init__(self) -> None:
        self.counts = pb.ExportCounts()
        self._pending = pb.ExportDataResponse()
        self._size = 0

    def add(self, kind: str, record: pb.ExportRecord) -> pb.ExportDataResponse | None:
        """Adds a record; returns the response to send first when the
        record does not fit beside those gathered."""
        if kind in _COUNTED:
            counter = _COUNTED[kind]
            setattr(self.counts, counter, getattr(self.counts, counter) + 1)
        size = record.ByteSize() + 8
        full = None
        if self._size and self._size + size > MAX_PAGE_BYTES:
            full = self.take()
        self._pending.records.append(record)
        self._size += size
        return full

    def take(self) -> pb.ExportDataResponse | None:
        """The gathered records' response (None: none gathered)."""
        if not self._size:
            return None
        response, self._pending, self._size = self._pending, pb.ExportDataResponse(), 0
        return response


@dataclass
class _Import:
    """An import in progress: what came, what was written."""

    ns: str
    writer: ImportWriter
    received: pb.ExportCounts = field(default_factory=pb.ExportCounts)
    imported: pb.ExportCounts = field(default_factory=pb.ExportCounts)
    skipped_expired: int = 0
    # The batch not written yet: its kind and items, and their size.
    kind: str = ""
    batch: list[Any] = field(default_factory=list)
    size: int = 0
    trailer: pb.ExportTrailer | None = None
    header: pb.ExportHeader | None = None


@translate_errors
class PortabilityServicer(portability_pb2_grpc.PortabilityServicer):
    """Exports and restores namespaces' data."""

    def __init__(
        self,
        *,
        reader: ExportReader,
        long_term: LongTermStore,
        models: served_models.Models,
        settings: NamespaceSettingsStore,
        cache: NamespaceCache,
        limits: Limits,
        new_writer: Callable[[], ImportWriter],
    ) -> None:
        self._reader = reader
        self._long_term = long_term
        self._models = models
        self._settings = settings
        self._namespaces = NamespacesServicer(settings, cache, limits)
        self._cache = cache
        self._limits = limits
        self._new_writer = new_writer

    # -- Export ----------------------------------------------------------

    async def ExportData(
        self, request: pb.ExportDataRequest, context: Context
    ) -> AsyncIterator[pb.ExportDataResponse]:
        ns = validate.namespace(request.namespace)
        user = validate.user_id(request.user_id) or None
        choice = await self._models.choice(ns)
        identity = choice.model.embedder.identity
        header = pb.ExportHeader(
            format_version=FORMAT_VERSION,
            namespace=ns,
            user_id=user or "",
            server_version=VERSION,
            embedding_model=identity.name,
            embedding_dimensions=identity.dim,
            embedding_fingerprint=identity.fingerprint,
        )
        started = now_ms()
        set_timestamp(header.create_time, started)
        out = _Responses()
        out.add("header", pb.ExportRecord(header=header))
        async for record in self._records(ns, user, choice.model.field, started):
            kind = record.WhichOneof("record") or ""
            if (full := out.add(kind, record)) is not None:
                yield full
        trailer = pb.ExportTrailer()
        trailer.counts.CopyFrom(out.counts)
        if (full := out.add("trailer", pb.ExportRecord(trailer=trailer))) is not None:
            yield full
        if (last := out.take()) is not None:
            yield last

    async def _records(
        self, ns: str, user: str | None, vector_field: ModelField, started: int
    ) -> AsyncIterator[pb.ExportRecord]:
        """Every record of the export but the header and trailer, in order."""
        reader = self._reader
        if user is None:
            stored = await self._settings.get(ns)
            if stored.version:
                yield pb.ExportRecord(settings=self._namespaces.message(ns, stored))
            sessions = reader.sessions(ns)
        else:
            sessions = reader.user_sessions(ns, user)
        async for page in sessions:
            for session in page:
                yield pb.ExportRecord(session=session_message(ns, session.thread, session.fields))
        users = _one(user) if user is not None else reader.users(ns)
        async for who in users:
            async for threads in reader.user_threads_of(ns, who):
                record = pb.ExportRecord()
                record.user_threads.user_id = who
                for thread, first_seen in threads.threads:
                    entry = record.user_threads.threads.add(thread_id=thread)
                    set_timestamp(entry.first_seen_time, first_seen)
                yield record
        threads_pages = reader.threads(ns) if user is None else _threads_of(reader, ns, user)
        async for threads_page in threads_pages:
            for thread in threads_page:
                async for events in reader.events(ns, thread):
                    for event in events:
                        yield pb.ExportRecord(event=event_message(event))
        dtype = self._long_term.vector_type.dtype
        async for memories in reader.memories(ns, user, vector_field, started):
            for exported in memories:
                record = pb.ExportRecord()
                memory_fields.set_memory(record.memory.memory, exported.memory)
                if exported.vector:
                    values = np.frombuffer(exported.vector, dtype=dtype)
                    record.memory.embedding = values.astype("<f4").tobytes()
                if exported.recalled_ms is not None:
                    set_timestamp(record.memory.last_recall_time, exported.recalled_ms)
                record.memory.sequence = exported.seq
                yield record
        threads_pages = (
            reader.checkpoint_threads(ns) if user is None else _threads_of(reader, ns, user)
        )
        async for threads_page in threads_pages:
            for thread in threads_page:
                async for cpns, checkpoints in reader.checkpoints(ns, thread):
                    for checkpoint in checkpoints:
                        message = checkpoint_message(thread, cpns, checkpoint)
                        yield pb.ExportRecord(checkpoint=message)

    # -- Import ----------------------------------------------------------

    async def ImportData(
        self, request_iterator: AsyncIterator[pb.ImportDataRequest], context: Context
    ) -> pb.ImportDataResponse:
        state: _Import | None = None
        async for request in request_iterator:
            if state is None:
                ns = validate.namespace(request.namespace)
                state = _Import(ns, self._new_writer())
            elif request.namespace and request.namespace != state.ns:
                raise ApiError.invalid(
                    "namespace", f"must be empty or {state.ns!r}, that of the first request"
                )
            for i, record in enumerate(request.records):
                await self._take(state, record, f"records[{i}]")
        if state is None:
            raise ApiError.invalid("namespace", "required: no request came")
        if state.trailer is None:
            raise ApiError.invalid(
                "records",
                "the trailer is missing: the export was cut short, or is no export",
            )
        await state.writer.finish(state.ns)
        return pb.ImportDataResponse(imported=state.imported, skipped_expired=state.skipped_expired)

    async def _take(self, state: _Import, record: pb.ExportRecord, where: str) -> None:
        """Checks a record and adds it to the batch (writing the batch
        first when full or of another kind)."""
        kind = record.WhichOneof("record")
        if state.trailer is not None:
            raise ApiError.invalid(where, "no record may follow the trailer")
        if state.header is None:
            if kind != "header":
                raise ApiError.invalid(where, "the first record must be the header")
            await self._start(state, record.header, f"{where}.header")
            return
        if kind == "header":
            raise ApiError.invalid(where, "a second header")
        if kind == "trailer":
            await self._write(state)
            _check_counts(state.received, record.trailer.counts, f"{where}.trailer.counts")
            state.trailer = record.trailer
            return
        if kind is None:
            raise ApiError.invalid(where, "an empty record")
        counter = _COUNTED[kind]
        setattr(state.received, counter, getattr(state.received, counter) + 1)
        item = self._item(state, kind, record, f"{where}.{kind}")
        if item is None:
            return
        size = record.ByteSize()
        if (
            state.kind != kind
            or len(state.batch) >= IMPORT_BATCH
            or (state.size + size > MAX_PAGE_BYTES)
        ):
            await self._write(state)
        state.kind = kind
        state.batch.append(item)
        state.size += size

    async def _start(self, state: _Import, header: pb.ExportHeader, where: str) -> None:
        """Checks the header: the format, the model, then the namespace
        empty."""
        if header.format_version != FORMAT_VERSION:
            raise ApiError.invalid(
                f"{where}.format_version",
                f"format version {header.format_version} is not known: this server reads "
                f"version {FORMAT_VERSION}",
            )
        served = (await self._models.choice(state.ns, writing=True)).model.embedder.identity
        if (header.embedding_fingerprint, header.embedding_dimensions) != (
            served.fingerprint,
            served.dim,
        ):
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                ErrorReason.ERROR_REASON_EMBEDDING_MODEL_MISMATCH,
                f"the export's vectors were made by {header.embedding_model or '?'} (dim "
                f"{header.embedding_dimensions}, fingerprint {header.embedding_fingerprint}), "
                f"this server's by {served}: import into a server of the exported model",
                metadata={"exported": header.embedding_fingerprint, "served": served.fingerprint},
            )
        if not await state.writer.is_empty(state.ns):
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                ErrorReason.ERROR_REASON_NAMESPACE_NOT_EMPTY,
                f"namespace {state.ns!r} holds sessions, events, memories or checkpoints: "
                "an import restores into an empty namespace only (delete it, or choose "
                "another)",
                metadata={"namespace": state.ns},
            )
        state.header = header

    def _item(self, state: _Import, kind: str, record: pb.ExportRecord, where: str) -> Any:
        """The checked store item of a record; None for an expired one
        (counted) or settings (kept aside, written with the batch)."""
        now = now_ms()
        if kind == "settings":
            return self._namespaces.every_setting(record.settings, where)
        if kind == "session":
            session = _session(record.session, where, self._limits)
            if session.expire_ms <= now:
                state.skipped_expired += 1
                return None
            return session
        if kind == "user_threads":
            threads = record.user_threads
            user = validate.user_id(threads.user_id, f"{where}.user_id", required=True)
            return (
                user,
                [
                    (
                        validate.thread_id(t.thread_id, f"{where}.threads[{i}].thread_id"),
                        timestamp_ms(t.first_seen_time),
                    )
                    for i, t in enumerate(threads.threads)
                ],
            )
        if kind == "event":
            return _event(record.event, where, self._limits)
        if kind == "checkpoint":
            exported = record.checkpoint
            return ImportedCheckpoint(
                checkpoint=checked_checkpoint(exported, f"{where}."),
                update_ms=timestamp_ms(exported.update_time),
                writes=checked_writes(
                    exported.pending_writes, f"{where}.pending_writes", required=False
                ),
            )
        memory = _memory(record.memory, where, self._limits, self._long_term.dim)
        if memory.memory.expire_ms and memory.memory.expire_ms <= now:
            state.skipped_expired += 1
            return None
        return memory

    async def _write(self, state: _Import) -> None:
        """Writes the batch, and counts it."""
        kind, batch = state.kind, state.batch
        state.batch, state.size = [], 0
        if not batch:
            return
        writer, ns = state.writer, state.ns
        if kind == "settings":
            for changes in batch:
                stored = await self._settings.update(ns, changes, now_ms=now_ms(), expected=None)
                self._cache.remember(ns, stored)
        elif kind == "session":
            await writer.sessions(ns, batch)
        elif kind == "user_threads":
            for user, threads in batch:
                await writer.user_threads(ns, user, threads)
        elif kind == "event":
            repeats = await writer.events(ns, batch)
            state.imported.events += len(batch) - repeats
            return
        elif kind == "checkpoint":
            await writer.checkpoints(ns, batch)
        else:
            field_ = (await self._models.choice(ns, writing=True)).model.field
            await writer.memories(ns, batch, field_)
        counter = _COUNTED[kind]
        setattr(state.imported, counter, getattr(state.imported, counter) + len(batch))


async def _one(user: str) -> AsyncIterator[str]:
    yield user


async def _threads_of(reader: ExportReader, ns: str, user: str) -> AsyncIterator[list[str]]:
    """Pages of the threads of `user`'s durable threads."""
    async for page in reader.user_threads_of(ns, user):
        yield [thread for thread, _ in page.threads]


def _check_counts(received: pb.ExportCounts, stated: pb.ExportCounts, where: str) -> None:
    """The trailer's counts must be those of the records received."""
    for name in _COUNTED.values():
        got, said = getattr(received, name), getattr(stated, name)
        if got != said:
            raise ApiError.invalid(
                f"{where}.{name}",
                f"the trailer counts {said} records, {got} came: the export is incomplete "
                "or was changed",
            )


def _session(session: Any, where: str, limits: Limits) -> ImportedSession:
    """A checked session record."""
    turns = []
    for i, turn in enumerate(session.turns):
        at = f"{where}.turns[{i}]"
        turns.append(
            SessionTurn(
                role=validate.printable(
                    turn.role, f"{at}.role", max_chars=MAX_ROLE_CHARS, required=True
                ),
                content=validate.text(
                    turn.content, f"{at}.content", max_chars=MAX_CONTENT_CHARS, required=False
                ),
                metadata=validate.metadata(
                    turn.metadata, f"{at}.metadata", max_bytes=limits.max_metadata_bytes
                ),
                create_ms=timestamp_ms(turn.create_time),
                event_id=validate.event_id(turn.event_id, f"{at}.event_id")
                if turn.event_id
                else "",
            )
        )
    if session.version < 1:
        raise ApiError.invalid(f"{where}.version", "must be at least 1")
    summary = session.summary
    return ImportedSession(
        thread=validate.thread_id(session.thread_id, f"{where}.thread_id"),
        user=validate.user_id(session.user_id, f"{where}.user_id"),
        goal=validate.text(session.goal, f"{where}.goal", max_chars=MAX_GOAL_CHARS, required=False),
        scratchpad=validate.text(
            session.scratchpad,
            f"{where}.scratchpad",
            max_chars=MAX_SCRATCHPAD_CHARS,
            required=False,
        ),
        metadata=validate.metadata(
            session.metadata, f"{where}.metadata", max_bytes=limits.max_metadata_bytes
        ),
        turns=turns,
        create_ms=timestamp_ms(session.create_time),
        update_ms=timestamp_ms(session.update_time),
        expire_ms=timestamp_ms(session.expire_time),
        version=session.version,
        turn_count=max(session.turn_count, len(turns)),
        form_memories=session.form_memories if session.HasField("form_memories") else None,
        summary=summary.text,
        summary_first=_optional_event_id(summary.first_event_id, f"{where}.summary"),
        summary_last=_optional_event_id(summary.last_event_id, f"{where}.summary"),
        summary_turns=max(0, summary.turn_count),
        summary_skipped=max(0, summary.skipped_turn_count),
        summary_ms=timestamp_ms(summary.update_time) if summary.HasField("update_time") else 0,
        summarizer=summary.summarizer,
        pending=max(0, summary.pending_turn_count),
    )


def _optional_event_id(value: str, field: str) -> str:
    return validate.event_id(value, field) if value else ""


def _event(event: Any, where: str, limits: Limits) -> ImportedEvent:
    """A checked event record: as an append's, but with its id, and the
    server's reserved types allowed (the server wrote them)."""
    kind = validate.printable(
        event.type, f"{where}.type", max_chars=MAX_EVENT_TYPE_CHARS, required=True
    )
    attributes = validate.metadata(
        event.attributes, f"{where}.attributes", max_bytes=limits.max_metadata_bytes
    )
    payload = event.WhichOneof("payload")
    if payload == "data":
        if len(event.data) > MAX_PAYLOAD_BYTES:
            raise ApiError.invalid(f"{where}.data", f"must be at most {MAX_PAYLOAD_BYTES} bytes")
        content = EventContent(kind, data=event.data, attributes=attributes)
    elif payload == "json":
        text = json.dumps(
            _integral(json_format.MessageToDict(event.json)),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise ApiError.invalid(f"{where}.json", f"must be at most {MAX_PAYLOAD_BYTES} bytes")
        content = EventContent(kind, json=text, attributes=attributes)
    else:
        content = EventContent(kind, attributes=attributes)
    return ImportedEvent(
        thread=validate.thread_id(event.thread_id, f"{where}.thread_id"),
        id=validate.event_id(event.id, f"{where}.id"),
        content=content,
    )


def _integral(value: Any) -> Any:
    """A JSON value with its whole numbers as integers again (a Struct holds
    doubles only: `1` comes back `1.0`), as the server wrote them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


def _memory(exported: Any, where: str, limits: Limits, dim: int) -> ImportedMemory:
    """A checked memory record, its vector of `dim` float32 values."""
    message = exported.memory
    at = f"{where}.memory"
    if len(exported.embedding) != dim * 4:
        raise ApiError.invalid(
            f"{where}.embedding",
            f"must hold {dim} float32 values ({dim * 4} bytes), not {len(exported.embedding)} "
            "bytes",
        )
    values = np.frombuffer(exported.embedding, dtype="<f4")
    if not np.all(np.isfinite(values)) or not math.isfinite(float(np.dot(values, values))):
        raise ApiError.invalid(f"{where}.embedding", "must hold finite values")
    if message.version < 1 or message.hit_count < 1:
        raise ApiError.invalid(f"{at}.version", "version and hit_count must be at least 1")
    memory = Memory(
        id=validate.memory_id(message.id, f"{at}.id"),
        namespace="",
        user_id=validate.user_id(message.user_id, f"{at}.user_id"),
        kind=memory_fields.kind(message.kind),
        thread_id=validate.thread_id(message.thread_id, f"{at}.thread_id", required=False),
        topics=memory_fields.strings(
            message.topics, f"{at}.topics", memory_fields.topic, MAX_TOPICS
        ),
        text=memory_fields.text(message.text, f"{at}.text", limits),
        metadata=validate.metadata(
            message.metadata, f"{at}.metadata", max_bytes=limits.max_metadata_bytes
        ),
        create_ms=timestamp_ms(message.create_time),
        update_ms=timestamp_ms(message.update_time),
        expire_ms=_ms_or_zero(message, "expire_time"),
        hit_count=message.hit_count,
        version=message.version,
        source=_SOURCE_IN.get(message.source, Source.UNSPECIFIED),
        source_event_ids=tuple(
            validate.event_id(value, f"{at}.source_event_ids[{i}]")
            for i, value in enumerate(message.source_event_ids)
        ),
        start_ms=_ms_or_zero(message, "start_time"),
        end_ms=_ms_or_zero(message, "end_time"),
        pinned=message.pinned,
        access_count=max(0, message.access_count),
        last_access_ms=_ms_or_zero(message, "last_access_time"),
        merged_ids=tuple(
            validate.memory_id(value, f"{at}.merged_memory_ids[{i}]")
            for i, value in enumerate(message.merged_memory_ids)
        ),
        superseded_by=validate.memory_id(
            message.superseded_by_memory_id, f"{at}.superseded_by_memory_id"
        )
        if message.superseded_by_memory_id
        else "",
        event_ms=timestamp_ms(message.event_time) if message.HasField("event_time") else None,
    )
    recalled = exported.last_recall_time
    return ImportedMemory(
        memory=memory,
        vector=exported.embedding,
        recalled_ms=timestamp_ms(recalled) if exported.HasField("last_recall_time") else None,
        seq=max(0, exported.sequence),
    )


def _ms_or_zero(message: Any, name: str) -> int:
    return timestamp_ms(getattr(message, name)) if message.HasField(name) else 0
