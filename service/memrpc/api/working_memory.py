"""The WorkingMemory service: sessions on `store.working`.

Update masks follow `api/update_masks.py` (the paths: `SessionInput`'s
fields, plus `turns` to empty the window), request ids `api/request_ids.py`,
page tokens `api/page_tokens.py` (the position: the listing index's score
and thread id of the last session sent). What a request leaves unset (its
`ttl`, an append's window in turns, and the window's byte budget, which a
request cannot set) follows its namespace's settings, else the server's
defaults (`namespace_cache`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any

from memrpc.api import memory_search, page_tokens, paging, request_ids, resources, update_masks
from memrpc.api.convert import now_ms, set_timestamp
from memrpc.api.memory_search import MemorySearch, Query
from memrpc.limits import (
    MAX_CONTENT_CHARS,
    MAX_GOAL_CHARS,
    MAX_PAGE_BYTES,
    MAX_ROLE_CHARS,
    MAX_SCRATCHPAD_CHARS,
    SESSION_PAGE_SIZE,
    SESSION_TTL_S,
    WINDOW_TURNS,
    Limits,
)
from memrpc.namespace_defaults import DefaultsSource, NamespaceDefaults
from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError, Context, translate_errors
from memrpc.store.long_term import Match
from memrpc.store.memory_index import MemoryFilter
from memrpc.store.request_ids import RequestIdReused
from memrpc.store.summaries import pending_turns
from memrpc.store.versions import VersionMismatch
from memrpc.store.working import EMPTY_WINDOW, Fields, WorkingStore, window_ids
from memrpc.v1 import working_memory_pb2 as pb
from memrpc.v1 import working_memory_pb2_grpc

# UpdateSession's `*`: every field of SessionInput.
SESSION_INPUT = tuple(field.name for field in pb.SessionInput.DESCRIPTOR.fields)
# The paths an UpdateSession mask may name: `turns` empties the window.
UPDATABLE = (*SESSION_INPUT, "turns")
LIST_SESSIONS = "ListSessions"
# A page token's score, as Redis writes a ZSet score (and is sure to parse it
# back: Python's float() also takes 'nan', ' 1' or '1_0', which Redis refuses).
_SCORE = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _ttl_ms(
    request: pb.UpdateSessionRequest | pb.AppendTurnsRequest, defaults: NamespaceDefaults
) -> int:
    ttl = validate.seconds(request.ttl, "ttl", SESSION_TTL_S, default=defaults.session_ttl_s)
    return round(ttl * 1000)


def _aborted(mismatch: VersionMismatch, expected: int | None) -> ApiError:
    return ApiError.version_mismatch("the session", expected or 0, mismatch.current)


def _turn(turn: pb.TurnInput, field: str, limits: Limits) -> dict[str, Any]:
    return {
        "role": validate.printable(
            turn.role, f"{field}.role", max_chars=MAX_ROLE_CHARS, required=True
        ),
        "content": validate.text(
            turn.content, f"{field}.content", max_chars=MAX_CONTENT_CHARS, required=False
        ),
        "metadata": validate.metadata(
            turn.metadata, f"{field}.metadata", max_bytes=limits.max_metadata_bytes
        ),
    }


def _summary(summary: pb.SessionSummary, fields: Fields) -> None:
    """Fills the running summary of a session from its Hash `fields`
    (`store/summaries.py`); the text only if `fields` hold it (not in a
    listing's basic view)."""
    summary.text = fields.get(b"summary", b"").decode()
    summary.first_event_id = fields.get(b"summary_first", b"").decode()
    summary.last_event_id = fields.get(b"summary_last", b"").decode()
    summary.turn_count = int(fields.get(b"summary_turns", 0))
    summary.skipped_turn_count = int(fields.get(b"summary_skipped", 0))
    summary.pending_turn_count = pending_turns(fields)
    summary.summarizer = fields.get(b"summarizer", b"").decode()
    if folded_ms := fields.get(b"summary_ms"):
        set_timestamp(summary.update_time, int(folded_ms))


def session_message(ns: str, thread: str, fields: Fields) -> pb.Session:
    """A Session message from the Hash fields of a session (an export's record)."""
    return _session(ns, thread, fields)


def _session(ns: str, thread: str, fields: Fields) -> pb.Session:
    """A Session message from the Hash fields of a session.

    On the GetSession hot path: fields are set in place and empty maps
    skipped, which halves the cost against building sub-messages.
    """
    session = pb.Session(
        namespace=ns,
        thread_id=thread,
        user_id=fields.get(b"user_id", b"").decode(),
        goal=fields.get(b"goal", b"").decode(),
        scratchpad=fields.get(b"scratchpad", b"").decode(),
        version=int(fields.get(b"version", 0)),
        turn_count=int(fields.get(b"turn_count", 0)),
    )
    metadata = fields.get(b"metadata")
    if metadata and metadata != b"{}":
        session.metadata.update(json.loads(metadata))
    set_timestamp(session.create_time, int(fields.get(b"create_ms", 0)))
    update_ms = int(fields.get(b"update_ms", 0))
    set_timestamp(session.update_time, update_ms)
    set_timestamp(session.expire_time, update_ms + int(fields.get(b"ttl_ms", 0)))
    add_turn = session.turns.add
    entries = json.loads(fields.get(b"turns") or b"[]")
    for entry, event_id in zip(entries, window_ids(fields, len(entries)), strict=True):
        turn = add_turn(role=entry["role"], content=entry["content"], event_id=event_id)
        if entry["metadata"]:
            turn.metadata.update(entry["metadata"])
        set_timestamp(turn.create_time, entry["create_ms"])
    if int(fields.get(b"evicted_count", 0)):
        _summary(session.summary, fields)
    if form_memories := fields.get(b"form_memories"):
        session.form_memories = form_memories == b"1"
    return session


def _scope(query: Query, fields: Fields | None) -> MemoryFilter:
    """The filter of a GetContext search: the query's, scoped to the
    session's user unless it names users (no session, no user: the
    namespace's memories)."""
    user = fields.get(b"user_id", b"").decode() if fields is not None else ""
    return query.scoped_to(user)


def _position(request: pb.ListSessionsRequest) -> tuple[str, str] | None:
    """The (score, thread) the page of `request` starts after, from its page
    token: None for the first page."""
    position = page_tokens.decode(LIST_SESSIONS, request)
    if position is None:
        return None
    match position:
        case [str(score), str(thread)] if _SCORE.fullmatch(score):
            return score, thread
    raise page_tokens.invalid(LIST_SESSIONS)


@translate_errors
class WorkingMemoryServicer(working_memory_pb2_grpc.WorkingMemoryServicer):
    """Serves sessions from Redis Hashes, requests within `limits`;
    `GetContext` searches long-term memories with `search`. What a request
    leaves unset follows its namespace's `defaults`."""

    def __init__(
        self, store: WorkingStore, search: MemorySearch, limits: Limits, defaults: DefaultsSource
    ) -> None:
        self._store = store
        self._search = search
        self._limits = limits
        self._defaults = defaults

    async def GetSession(
        self, request: pb.GetSessionRequest, context: Context
    ) -> pb.GetSessionResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.thread_id(request.thread_id)
        fields = await self._store.get(ns, thread)
        if fields is None:
            raise resources.session_not_found(ns, thread)
        return pb.GetSessionResponse(session=_session(ns, thread, fields))

    async def UpdateSession(
        self, request: pb.UpdateSessionRequest, context: Context
    ) -> pb.UpdateSessionResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.writable_thread_id(request.thread_id)
        ttl_ms = _ttl_ms(request, await self._defaults.defaults(ns))
        expected = validate.expected_version(request, creates=True)
        new = request.session
        paths = update_masks.paths_to_write(
            request.update_mask,
            allowed=UPDATABLE,
            full_replace=SESSION_INPUT,
            populated=update_masks.populated(new),
        )
        user = validate.user_id(new.user_id, "session.user_id") if "user_id" in paths else None
        values: dict[str, str] = {}
        if "goal" in paths:
            values["goal"] = validate.text(
                new.goal, "session.goal", max_chars=MAX_GOAL_CHARS, required=False
            )
        if "scratchpad" in paths:
            values["scratchpad"] = validate.text(
                new.scratchpad, "session.scratchpad", max_chars=MAX_SCRATCHPAD_CHARS, required=False
            )
        if "metadata" in paths:
            metadata = validate.metadata(
                new.metadata, "session.metadata", max_bytes=self._limits.max_metadata_bytes
            )
            values["metadata"] = json.dumps(metadata)
        if "turns" in paths:
            values["turns"] = EMPTY_WINDOW
        try:
            fields = await self._store.update(
                ns,
                thread,
                now_ms=now_ms(),
                ttl_ms=ttl_ms,
                expected=expected,
                user=user,
                values=values,
            )
        except VersionMismatch as mismatch:
            raise _aborted(mismatch, expected) from None
        return pb.UpdateSessionResponse(session=_session(ns, thread, fields))

    async def AppendTurns(
        self, request: pb.AppendTurnsRequest, context: Context
    ) -> pb.AppendTurnsResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.writable_thread_id(request.thread_id)
        user = validate.user_id(request.user_id)
        validate.batch(request.turns, "turns", max_items=self._limits.max_batch_items)
        defaults = await self._defaults.defaults(ns)
        window = validate.count(
            request.max_window_turns,
            "max_window_turns",
            WINDOW_TURNS,
            default=defaults.window_turns,
        )
        ttl_ms = _ttl_ms(request, defaults)
        expected = validate.expected_version(request, creates=True)
        now = now_ms()
        budget = defaults.window_bytes
        turns = []
        for i, turn in enumerate(request.turns):
            payload = _turn(turn, f"turns[{i}]", self._limits)
            entry = json.dumps({**payload, "create_ms": now}, ensure_ascii=False).encode()
            if len(entry) > budget:
                raise ApiError.invalid(
                    f"turns[{i}]",
                    f"takes {len(entry)} bytes in the session window (as JSON), more than "
                    f"the window's budget of {budget} bytes",
                )
            turns.append((entry, json.dumps(payload)))
        request_id = request_ids.parse(request.request_id, request.turns)
        await self._store.namespaces.note(ns)  # before the append: the jobs will see its feed
        try:
            appended = await self._store.append_turns(
                ns,
                thread,
                now_ms=now,
                ttl_ms=ttl_ms,
                expected=expected,
                window=window,
                window_bytes=budget,
                user=user,
                turns=turns,
                request=request_id,
                form_memories=(
                    request.form_memories if request.HasField("form_memories") else None
                ),
            )
        except VersionMismatch as mismatch:
            raise _aborted(mismatch, expected) from None
        except RequestIdReused:
            raise request_ids.reused(request.request_id, "in this thread", "turns") from None
        return pb.AppendTurnsResponse(
            version=appended.version,
            event_ids=appended.event_ids,
            evicted_turn_count=appended.evicted,
            turn_count=appended.turn_count,
            replayed=appended.replayed,
        )

    async def DeleteSession(
        self, request: pb.DeleteSessionRequest, context: Context
    ) -> pb.DeleteSessionResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.writable_thread_id(request.thread_id)
        expected = validate.expected_version(request, creates=False)
        try:
            deleted = await self._store.delete(ns, thread, expected=expected)
        except VersionMismatch as mismatch:
            raise _aborted(mismatch, expected) from None
        if not deleted:
            raise resources.session_not_found(ns, thread)
        return pb.DeleteSessionResponse()

    async def ListSessions(
        self, request: pb.ListSessionsRequest, context: Context
    ) -> pb.ListSessionsResponse:
        ns = validate.namespace(request.namespace)
        user = validate.user_id(request.user_id)
        size = validate.count(request.page_size, "page_size", SESSION_PAGE_SIZE)
        after = _position(request)
        full = request.view == pb.SESSION_VIEW_FULL
        listing = await self._store.list(ns, user, size=size, full=full, after=after)
        listed = listing.sessions
        page = paging.fitting(_session(ns, s.thread_id, s.fields) for s in listed)
        response = pb.ListSessionsResponse(sessions=page)
        if len(page) < len(listed):  # cut by bytes: go on after the last one sent
            last = listed[len(page) - 1]
            after = last.score, last.thread_id
        else:
            after = listing.after
        if after is not None:
            response.next_page_token = page_tokens.encode(LIST_SESSIONS, request, [*after])
        return response

    async def GetContext(
        self, request: pb.GetContextRequest, context: Context
    ) -> pb.GetContextResponse:
        ns = validate.namespace(request.namespace)
        thread = validate.thread_id(request.thread_id)
        choice = await self._search.choice(ns)
        query = self._search.parse(request, await self._defaults.defaults(ns), choice.model)
        fields, found = await self._context(ns, thread, query)
        response = pb.GetContextResponse()
        budget = MAX_PAGE_BYTES
        if fields is not None:
            response.session.CopyFrom(_session(ns, thread, fields))
            budget -= response.ByteSize()
        if found:
            page = memory_search.matches(found, budget, at_least_one=False)
            response.matches.extend(page)
        return response

    async def _context(
        self, ns: str, thread: str, query: Query
    ) -> tuple[Fields | None, list[Match]]:
        """The session's fields (None: no session) and the memories `query`
        finds, scoped to the session's user unless its filter names users.

        The session is read while the query text is embedded; when the
        filter names users, the search need not wait for the session
        either, and its command goes to Redis right behind the session's
        (`RedisMux` pipelines them). Without either, the search waits for
        the session's user: two round trips to Redis, one after the other
        (a script doing both in one step measured no faster: the Lua
        conversion of the search's reply costs what the round trip saves)."""
        if query.empty:
            return await self._store.get(ns, thread), []
        scoped = not query.filter.user_ids
        if query.vector is not None and scoped:
            fields = await self._store.get(ns, thread)
            return fields, await self._search.search(ns, query, query.vector, _scope(query, fields))
        reading = asyncio.ensure_future(self._store.get(ns, thread))
        try:
            vector = await self._search.vector(query)
            found = None if scoped else await self._search.search(ns, query, vector)
            fields = await reading
        except BaseException:
            reading.cancel()
            with contextlib.suppress(BaseException):  # its outcome, seen
                await reading
            raise
        if found is None:
            found = await self._search.search(ns, query, vector, _scope(query, fields))
        return fields, found
