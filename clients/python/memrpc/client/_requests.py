"""Request builders shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from google.protobuf import duration_pb2, field_mask_pb2, struct_pb2

from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm

TurnLike = wm.TurnInput | tuple[str, str]
EventLike = ev.EventInput | tuple[str, bytes | Mapping[str, Any]]


def seconds(value: float | None) -> duration_pb2.Duration | None:
    """A Duration from seconds, None passing through."""
    if value is None:
        return None
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(round(value * 1e9))
    return duration


def update_session(
    namespace: str,
    thread_id: str,
    *,
    goal: str | None,
    scratchpad: str | None,
    metadata: Mapping[str, str] | None,
    user_id: str | None,
    expected_version: int | None,
    ttl: float | None,
) -> wm.UpdateSessionRequest:
    """An UpdateSession writing exactly the arguments that are not None."""
    values = {"goal": goal, "scratchpad": scratchpad, "user_id": user_id}
    paths = [k for k, v in values.items() if v is not None]
    session = wm.SessionInput(goal=goal or "", scratchpad=scratchpad or "", user_id=user_id or "")
    if metadata is not None:
        session.metadata.update(metadata)
        paths.append("metadata")
    request = wm.UpdateSessionRequest(
        namespace=namespace,
        thread_id=thread_id,
        session=session,
        update_mask=field_mask_pb2.FieldMask(paths=paths),
        ttl=seconds(ttl),
    )
    if expected_version is not None:
        request.expected_version = expected_version
    return request


def append_turns(
    namespace: str,
    thread_id: str,
    turns: Iterable[TurnLike],
    *,
    max_window_turns: int,
    user_id: str,
    ttl: float | None,
    request_id: str,
    form_memories: bool | None,
) -> wm.AppendTurnsRequest:
    """An AppendTurns of `TurnInput`s or (role, content) pairs; `request_id`
    empty for none, `form_memories` None for no choice."""
    return wm.AppendTurnsRequest(
        namespace=namespace,
        thread_id=thread_id,
        turns=[
            t if isinstance(t, wm.TurnInput) else wm.TurnInput(role=t[0], content=t[1])
            for t in turns
        ],
        max_window_turns=max_window_turns,
        user_id=user_id,
        ttl=seconds(ttl),
        request_id=request_id,
        form_memories=form_memories,
    )


def create_memories(
    namespace: str,
    memories: Iterable[ltm.MemoryInput | str],
    *,
    dedup_max_distance: float | None,
    request_id: str,
) -> ltm.CreateMemoriesRequest:
    """A CreateMemories of `MemoryInput`s or plain texts (semantic memories);
    `request_id` empty for none."""
    request = ltm.CreateMemoriesRequest(
        namespace=namespace,
        memories=[
            m if isinstance(m, ltm.MemoryInput) else ltm.MemoryInput(text=m) for m in memories
        ],
        request_id=request_id,
    )
    if dedup_max_distance is not None:
        request.dedup_max_distance = dedup_max_distance
    return request


# The requests that search memories: the same query, filter, limit and
# distance fields, with the same rules.
Search = TypeVar("Search", ltm.SearchMemoriesRequest, wm.GetContextRequest)


def with_search(
    request: Search, query: str | Sequence[float] | None, max_distance: float | None
) -> Search:
    """`request` with its query (a text or a vector; None: none) and its
    distance (None: the server's)."""
    if isinstance(query, str):
        request.text = query
    elif query is not None:
        request.vector.values.extend(query)
    if max_distance is not None:
        request.max_distance = max_distance
    return request


def search_memories(
    namespace: str,
    query: str | Sequence[float],
    *,
    filter: ltm.MemoryFilter | None,
    limit: int,
    max_distance: float | None,
) -> ltm.SearchMemoriesRequest:
    """A SearchMemories by text or by vector."""
    request = ltm.SearchMemoriesRequest(namespace=namespace, filter=filter, limit=limit)
    return with_search(request, query, max_distance)


def get_context(
    namespace: str,
    thread_id: str,
    query: str | Sequence[float] | None,
    *,
    filter: ltm.MemoryFilter | None,
    limit: int,
    max_distance: float | None,
) -> wm.GetContextRequest:
    """A GetContext of a thread, searching by text or by vector (None: no
    search)."""
    request = wm.GetContextRequest(
        namespace=namespace, thread_id=thread_id, filter=filter, limit=limit
    )
    return with_search(request, query, max_distance)


def event_input(event: EventLike) -> ev.EventInput:
    """An EventInput from a message or a (type, bytes | JSON object) pair."""
    if isinstance(event, ev.EventInput):
        return event
    kind, payload = event
    if isinstance(payload, bytes):
        return ev.EventInput(type=kind, data=payload)
    json = struct_pb2.Struct()
    json.update(payload)
    return ev.EventInput(type=kind, json=json)


def append_events(
    namespace: str, thread_id: str, events: Iterable[EventLike], request_id: str
) -> ev.AppendEventsRequest:
    """An AppendEventsRequest; `request_id` empty for none."""
    return ev.AppendEventsRequest(
        namespace=namespace,
        thread_id=thread_id,
        events=[event_input(e) for e in events],
        request_id=request_id,
    )


def tail_events(
    namespace: str,
    cursors: Mapping[str, str] | Iterable[str],
    *,
    heartbeat_interval: float | None,
) -> ev.TailEventsRequest:
    """A TailEvents from {thread: after_event_id} or thread ids (from now)."""
    pairs = cursors.items() if isinstance(cursors, Mapping) else ((t, "") for t in cursors)
    return ev.TailEventsRequest(
        namespace=namespace,
        cursors=[ev.ThreadCursor(thread_id=t, after_event_id=a) for t, a in pairs],
        heartbeat_interval=seconds(heartbeat_interval),
    )
