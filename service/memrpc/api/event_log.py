"""The `EventLog` service: requests checked, mapped onto the event store,
stream entries turned back into `Event` messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2

from memrpc.api import page_tokens, paging, request_ids, resources
from memrpc.api.tail_slots import TailSlots
from memrpc.limits import (
    EVENT_PAGE_SIZE,
    HEARTBEAT_S,
    MAX_CURSORS,
    MAX_DELIVERY_IDS,
    MAX_EVENT_TYPE_CHARS,
    MAX_LOG_LEN,
    MAX_PAYLOAD_BYTES,
    MAX_PAYLOAD_DEPTH,
    MAX_RECEIVE_BYTES,
    RECEIVE_EVENTS,
    RECEIVE_WAIT_S,
    REDELIVER_AFTER_S,
    Limits,
    Range,
)
from memrpc.rpc import validate
from memrpc.rpc.caller import caller
from memrpc.rpc.errors import ApiError, Context, translate_errors
from memrpc.shutdown import unless
from memrpc.store.events import (
    EventContent,
    EventStore,
    EventsTrimmed,
    GroupExists,
    GroupNotFound,
    StoredEvent,
)
from memrpc.store.request_ids import RequestIdReused
from memrpc.tails import SubscriberTooSlow, Subscription, TailHub
from memrpc.v1 import event_log_pb2, event_log_pb2_grpc
from memrpc.v1.error_reason_pb2 import ErrorReason

RESERVED_TYPE_PREFIX = "memrpc."
# The method whose page tokens `ListEvents` makes and takes.
LIST_EVENTS = "ListEvents"


@translate_errors
class EventLogServicer(event_log_pb2_grpc.EventLogServicer):
    """Serves `EventLog` from an `EventStore`, tails from a `TailHub` on it,
    requests and open tails within `limits`. Once `draining` is set, and
    when a tail reaches `--max-tail-lifetime`, tails end with a final
    checkpoint then `OK`; once `draining` is set receives stop waiting."""

    def __init__(
        self, store: EventStore, tails: TailHub, draining: asyncio.Event, limits: Limits
    ) -> None:
        self._store = store
        self._tails = tails
        self._draining = draining
        self._limits = limits
        self._tail_slots = TailSlots(limits)
        self._log_len = Range(default=store.retention.log_max_len, low=1, high=MAX_LOG_LEN)

    async def AppendEvents(
        self, request: event_log_pb2.AppendEventsRequest, context: Context
    ) -> event_log_pb2.AppendEventsResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.writable_thread_id(request.thread_id)
        limits = self._limits
        validate.batch(request.events, "events", max_items=limits.max_batch_items)
        events = [_content(event, f"events[{i}]", limits) for i, event in enumerate(request.events)]
        max_len = validate.count(request.max_len, "max_len", self._log_len)
        request_id = request_ids.parse(request.request_id, request.events)
        try:
            appended = await self._store.append(
                ns, thread, events, max_len=max_len, request=request_id
            )
        except RequestIdReused:
            raise request_ids.reused(request.request_id, "in this thread", "events") from None
        return event_log_pb2.AppendEventsResponse(
            event_ids=appended.ids, replayed=appended.replayed
        )

    async def ListEvents(
        self, request: event_log_pb2.ListEventsRequest, context: Context
    ) -> event_log_pb2.ListEventsResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.thread_id(request.thread_id)
        low = _bound(request.start_event_id, "start_event_id", "-")
        high = _bound(request.end_event_id, "end_event_id", "+")
        page_size = validate.count(request.page_size, "page_size", EVENT_PAGE_SIZE)
        resume = _resume_at(page_tokens.decode(LIST_EVENTS, request))
        descending = request.descending
        with _gaps_reported():
            if resume is None:
                events = await self._store.range(
                    ns, thread, low, high, descending=descending, count=page_size + 1
                )
            else:
                after, at = resume
                events = await self._store.read_on(
                    ns,
                    thread,
                    at,
                    low if descending else high,
                    after=after,
                    descending=descending,
                    count=page_size + 1,
                )
        page = paging.fitting(_event(event) for event in events[:page_size])
        token = ""
        if len(events) > len(page):  # the last event of the page, and the next one
            token = page_tokens.encode(LIST_EVENTS, request, [page[-1].id, events[len(page)].id])
        return event_log_pb2.ListEventsResponse(events=page, next_page_token=token)

    async def TrimEvents(
        self, request: event_log_pb2.TrimEventsRequest, context: Context
    ) -> event_log_pb2.TrimEventsResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.writable_thread_id(request.thread_id)
        strategy = request.WhichOneof("strategy")
        if strategy == "max_len":
            if request.max_len < 0:
                raise ApiError.invalid("max_len", "must be 0 or more")
            trimmed = await self._store.trim(ns, thread, max_len=request.max_len)
        elif strategy == "min_event_id":
            min_id = validate.event_id(request.min_event_id, "min_event_id")
            trimmed = await self._store.trim(ns, thread, min_id=min_id)
        else:
            raise ApiError.invalid("strategy", "required: set max_len or min_event_id")
        return event_log_pb2.TrimEventsResponse(trimmed_count=trimmed)

    async def TailEvents(
        self, request: event_log_pb2.TailEventsRequest, context: Context
    ) -> AsyncIterator[event_log_pb2.TailEventsResponse]:
        ns = validate.namespace(request.namespace)
        cursors = _cursors(request.cursors)
        heartbeat = validate.seconds(request.heartbeat_interval, "heartbeat_interval", HEARTBEAT_S)
        with self._tail_slots.hold(caller(context)):
            positions = await self._store.resolve(ns, cursors)
            async with (
                self._tails.subscribe(ns, positions) as tail,
                _ending(tail, self._draining, self._limits.max_tail_lifetime),
            ):
                yield _checkpoint(positions)
                while (events := await _next_events(tail, heartbeat)) is not None:
                    if not events:
                        yield _checkpoint(positions)
                    for event in events:
                        positions[event.thread] = event.id
                        yield event_log_pb2.TailEventsResponse(event=_event(event))
                # Ended by the server: where to resume, then OK.
                yield _checkpoint(positions)

    async def CreateConsumerGroup(
        self, request: event_log_pb2.CreateConsumerGroupRequest, context: Context
    ) -> event_log_pb2.CreateConsumerGroupResponse:
        ns = validate.namespace(request.namespace)
        group = validate.group(request.group)
        from_start = request.start_position == event_log_pb2.GROUP_START_POSITION_EARLIEST
        try:
            await self._store.create_group(ns, group, from_start=from_start)
        except GroupExists as exists:
            raise resources.group_exists(exists.ns, exists.group) from None
        return event_log_pb2.CreateConsumerGroupResponse()

    async def DeleteConsumerGroup(
        self, request: event_log_pb2.DeleteConsumerGroupRequest, context: Context
    ) -> event_log_pb2.DeleteConsumerGroupResponse:
        ns = validate.namespace(request.namespace)
        group = validate.group(request.group)
        with _group_must_exist():
            await self._store.delete_group(ns, group)
        return event_log_pb2.DeleteConsumerGroupResponse()

    async def ReceiveEvents(
        self, request: event_log_pb2.ReceiveEventsRequest, context: Context
    ) -> event_log_pb2.ReceiveEventsResponse:
        ns = validate.namespace(request.namespace)
        group = validate.group(request.group)
        consumer = validate.name(request.consumer, "consumer")
        count = validate.count(request.max_events, "max_events", RECEIVE_EVENTS)
        wait = validate.seconds(request.wait, "wait", RECEIVE_WAIT_S)
        redeliver_after = validate.seconds(
            request.redeliver_after, "redeliver_after", REDELIVER_AFTER_S
        )
        with _group_must_exist():
            deliveries = await self._store.receive(
                ns,
                group,
                consumer,
                count=count,
                max_bytes=MAX_RECEIVE_BYTES,
                redeliver_after_ms=_ms(redeliver_after),
            )
            if not deliveries and wait:
                waiting = self._store.receive_next(ns, group, consumer, wait_ms=_ms(wait))
                deliveries = await unless(self._draining, waiting) or []
        return event_log_pb2.ReceiveEventsResponse(
            events=[
                event_log_pb2.ReceivedEvent(
                    delivery_id=delivery.id,
                    event=_event(delivery.event),
                    delivery_count=delivery.count,
                )
                for delivery in deliveries
            ]
        )

    async def AcknowledgeEvents(
        self, request: event_log_pb2.AcknowledgeEventsRequest, context: Context
    ) -> event_log_pb2.AcknowledgeEventsResponse:
        ns = validate.namespace(request.namespace)
        group = validate.group(request.group)
        if not request.delivery_ids:
            raise ApiError.invalid("delivery_ids", "required")
        ids = validate.each_unique(request.delivery_ids, "delivery_ids", max_items=MAX_DELIVERY_IDS)
        for i, delivery_id in enumerate(request.delivery_ids):
            validate.event_id(delivery_id, f"delivery_ids[{i}]")
        acknowledged = await self._store.acknowledge(ns, group, ids)
        return event_log_pb2.AcknowledgeEventsResponse(acknowledged_count=acknowledged)


@contextlib.contextmanager
def _group_must_exist() -> Iterator[None]:
    """Reports a missing consumer group as `NOT_FOUND`."""
    try:
        yield
    except GroupNotFound as missing:
        raise resources.group_not_found(missing.ns, missing.group) from None


def _content(event: event_log_pb2.EventInput, field: str, limits: Limits) -> EventContent:
    """An event to append, checked; `field` names it in errors."""
    kind = validate.printable(
        event.type, f"{field}.type", max_chars=MAX_EVENT_TYPE_CHARS, required=True
    )
    if kind.startswith(RESERVED_TYPE_PREFIX):
        raise ApiError.invalid(
            f"{field}.type", f"types starting with {RESERVED_TYPE_PREFIX!r} are reserved"
        )
    attributes = validate.metadata(
        event.attributes, f"{field}.attributes", max_bytes=limits.max_metadata_bytes
    )
    payload = event.WhichOneof("payload")
    if payload == "data":
        _payload_size(len(event.data), f"{field}.data")
        return EventContent(kind, data=event.data, attributes=attributes)
    if payload == "json":
        _payload_size(event.json.ByteSize(), f"{field}.json", "encoded as protobuf")
        validate.json_payload(event.json, f"{field}.json", max_levels=MAX_PAYLOAD_DEPTH)
        text = _json_text(event.json, f"{field}.json")
        _payload_size(len(text.encode()), f"{field}.json", "encoded as JSON")
        return EventContent(kind, json=text, attributes=attributes)
    return EventContent(kind, attributes=attributes)


def _payload_size(size: int, field: str, encoded: str = "") -> None:
    """Rejects a payload of more than 1 MiB (`encoded` as what)."""
    if size > MAX_PAYLOAD_BYTES:
        how = f" {encoded}" if encoded else ""
        raise ApiError.invalid(field, f"must be at most {MAX_PAYLOAD_BYTES} bytes{how}")


def _json_text(payload: struct_pb2.Struct, field: str) -> str:
    """A JSON object payload as compact JSON text."""
    try:
        return json.dumps(
            json_format.MessageToDict(payload), ensure_ascii=False, separators=(",", ":")
        )
    except ValueError:
        raise ApiError.invalid(field, "must not hold NaN or infinite numbers") from None


def event_message(event: StoredEvent) -> event_log_pb2.Event:
    """The `Event` message of a stored event (an export's record)."""
    return _event(event)


def _event(event: StoredEvent) -> event_log_pb2.Event:
    """The `Event` message of a stored event."""
    content = event.content
    message = event_log_pb2.Event(
        id=event.id, thread_id=event.thread, type=content.type, attributes=content.attributes
    )
    if content.data is not None:
        message.data = content.data
    elif content.json is not None:
        message.json.SetInParent()
        json_format.Parse(content.json, message.json)
    message.create_time.FromMilliseconds(int(event.id.split("-", 1)[0]))
    return message


def _bound(value: str, field: str, unbounded: str) -> str:
    """An inclusive range bound, `unbounded` when empty."""
    return validate.event_id(value, field) if value else unbounded


def _resume_at(position: list[Any] | None) -> tuple[str, str] | None:
    """Where a `ListEvents` page token goes on (None for the first page):
    the last event of the page before, and the event that came next then,
    whose absence now tells that the log was trimmed past the listing."""
    if position is None:
        return None
    try:
        after, at = (validate.event_id(event_id, "page_token") for event_id in position)
    except (ValueError, TypeError, ApiError):  # not two ids
        raise page_tokens.invalid(LIST_EVENTS) from None
    return after, at


@contextlib.contextmanager
def _gaps_reported() -> Iterator[None]:
    """Reports a cursor (or page token) the log was trimmed past as
    `OUT_OF_RANGE` with `ERROR_REASON_EVENTS_TRIMMED`."""
    try:
        yield
    except EventsTrimmed as gap:
        raise _events_trimmed(gap) from None


def _events_trimmed(gap: EventsTrimmed) -> ApiError:
    """`OUT_OF_RANGE` for a cursor its thread's log was trimmed past."""
    left = f"the oldest event left is {gap.first}" if gap.first else "the log is empty"
    return ApiError(
        grpc.StatusCode.OUT_OF_RANGE,
        ErrorReason.ERROR_REASON_EVENTS_TRIMMED,
        f"the events of thread {gap.thread!r} after {gap.after} were trimmed before they "
        f"were read ({left}); read from 0 to go on with the events left",
        metadata={"threadId": gap.thread, "afterEventId": gap.after, "firstEventId": gap.first},
    )


def _cursors(cursors: Sequence[event_log_pb2.ThreadCursor]) -> dict[str, str]:
    """The requested cursors, checked, as thread id to position."""
    if not 1 <= len(cursors) <= MAX_CURSORS:
        raise ApiError.invalid("cursors", f"must have 1 to {MAX_CURSORS} cursors")
    checked: dict[str, str] = {}
    for i, cursor in enumerate(cursors):
        thread = validate.thread_id(cursor.thread_id, f"cursors[{i}].thread_id")
        if thread in checked:
            raise ApiError.invalid(f"cursors[{i}].thread_id", "duplicate thread id")
        after = cursor.after_event_id
        checked[thread] = validate.event_id(after, f"cursors[{i}].after_event_id") if after else ""
    return checked


def _checkpoint(positions: Mapping[str, str]) -> event_log_pb2.TailEventsResponse:
    """A tail message holding every thread's position."""
    cursors = [
        event_log_pb2.ThreadCursor(thread_id=thread, after_event_id=after)
        for thread, after in positions.items()
    ]
    return event_log_pb2.TailEventsResponse(checkpoint=event_log_pb2.Checkpoint(cursors=cursors))


def _ms(seconds: float) -> int:
    """A positive duration in whole milliseconds, at least 1 (0 blocks forever)."""
    return max(1, round(seconds * 1000))


async def _next_events(tail: Subscription, within: float) -> list[StoredEvent] | None:
    """`tail.next(within)`; a tail dropped as too slow ends its call with
    `RESOURCE_EXHAUSTED`, one whose log was trimmed past its cursor with
    `OUT_OF_RANGE`. (A dropped tail holds no events. When its client has
    stopped reading, the handler waits in a gRPC write until the client
    reads on, then comes here; the status follows the messages in flight.)"""
    try:
        with _gaps_reported():
            return await tail.next(within)
    except SubscriberTooSlow as slow:
        message = f"subscriber too slow: {slow.lag} events behind"
        advice = "resume from the last cursor received"
        raise ApiError.exhausted(
            ErrorReason.ERROR_REASON_TAIL_TOO_SLOW,
            message,
            slow.limit,
            "tail_max_lag_events",
            advice,
        ) from None


@contextlib.asynccontextmanager
async def _ending(tail: Subscription, stop: asyncio.Event, lifetime: float) -> AsyncIterator[None]:
    """Ends a tail once `stop` is set or `lifetime` seconds have passed (0:
    never), while the context lasts. Every tail the server ends goes this
    way: its call then sends a final checkpoint and ends with `OK`."""

    async def end_on_stop() -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(lifetime or None):
                await stop.wait()
        tail.end()

    watcher = asyncio.create_task(end_on_stop())
    try:
        yield
    finally:
        watcher.cancel()
