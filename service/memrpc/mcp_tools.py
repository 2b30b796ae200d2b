"""The tools of `memrpc mcp`, free of any transport: what an assistant
connected over the Model Context Protocol may do with memrpc memory.

`build(client, user_id)` makes an `MCPServer` (the official SDK, PyPI `mcp`)
whose tools call memrpc through the async client (`memrpc.client`), bound to
the namespace of `client` and to `user_id` (empty: no user): no tool takes a
namespace or a user, so the model cannot choose either. Each tool's
arguments are typed and described (the SDK turns them into the tool's JSON
schema), and what it returns is bounded: lists are capped (`*_LIMIT`), texts
are cut at `MAX_TEXT_CHARS` with `truncated` set. A call memrpc refuses
becomes a tool error whose text is `memrpc refused the call: CODE REASON:
message` (the gRPC status code, the `ErrorReason` and the message).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

import grpc
from google.protobuf import json_format
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from memrpc import remote
from memrpc.client import AsyncMemoryClient
from memrpc.limits import MAX_CONTENT_CHARS, MAX_ID_CHARS, MAX_ROLE_CHARS
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm
from memrpc.version import VERSION

# The most characters of one text a tool returns (a memory, a turn, a
# summary, an event's payload); a longer one is cut, with `truncated` set.
MAX_TEXT_CHARS = 2000
# The most memories `recall` and `get_context` return, and their default.
RECALL_LIMIT = 20
RECALL_DEFAULT = 5
# The most memories one page of `list_memories` holds, and its default.
LIST_LIMIT = 50
LIST_DEFAULT = 20
# The most turns of the window `get_context` returns (the newest).
CONTEXT_TURNS_LIMIT = 50
# The most turns one `append_turns` call appends.
APPEND_LIMIT = 20
# The most events `recent_events` returns, and its default.
EVENTS_LIMIT = 50
EVENTS_DEFAULT = 20

INSTRUCTIONS = (
    "Long-term and working memory of this assistant, kept by memrpc. Call `recall` (or "
    "`get_context` with a thread and a query) before answering about the user, `remember` "
    "durable facts and preferences worth keeping, `append_turns` to record a conversation's "
    "turns. Memories and threads are those of one namespace and user, set by whoever "
    "configured this server."
)

ThreadId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="The conversation's thread id (1 to 128 printable characters), "
        "e.g. `chat-2024-06-01`. Thread ids starting with `memrpc.` are the server's.",
    ),
]
Kind = Literal["semantic", "episodic"]
_KINDS: dict[str, ltm.MemoryKind.ValueType] = {
    "semantic": ltm.MEMORY_KIND_SEMANTIC,
    "episodic": ltm.MEMORY_KIND_EPISODIC,
}
_KIND_NAMES = {value: name for name, value in _KINDS.items()}


class Text(BaseModel):
    """A text as returned: cut at `MAX_TEXT_CHARS`."""

    text: str = Field(description=f"The text, at most {MAX_TEXT_CHARS} characters.")
    truncated: bool = Field(description="True when the text was longer and was cut.")


def _text(value: str) -> Text:
    return Text(text=value[:MAX_TEXT_CHARS], truncated=len(value) > MAX_TEXT_CHARS)


def _time(message: Any, field: str) -> str:
    """A Timestamp field as RFC 3339, empty when unset."""
    return str(getattr(message, field).ToJsonString()) if message.HasField(field) else ""


class MemoryOut(BaseModel):
    """A long-term memory."""

    id: str = Field(description="The memory's id (for forget_memory).")
    text: Text
    kind: str = Field(description="semantic (a fact, a preference) or episodic (an event).")
    thread_id: str = Field(description="The thread it came from, empty when none.")
    topics: list[str]
    create_time: str = Field(description="When it was stored (RFC 3339).")
    hit_count: int = Field(description="How many times it was stored again (deduplicated).")
    pinned: bool = Field(description="Pinned memories are never forgotten by the server.")


def _memory(memory: ltm.Memory) -> MemoryOut:
    return MemoryOut(
        id=memory.id,
        text=_text(memory.text),
        kind=_KIND_NAMES.get(memory.kind, "unspecified"),
        thread_id=memory.thread_id,
        topics=list(memory.topics),
        create_time=_time(memory, "create_time"),
        hit_count=memory.hit_count,
        pinned=memory.pinned,
    )


class Match(BaseModel):
    """A memory found by a search."""

    memory: MemoryOut
    distance: float = Field(description="Cosine distance to the query: 0 same meaning, 2 opposite.")


def _matches(found: Any) -> list[Match]:
    return [Match(memory=_memory(m.memory), distance=round(m.distance, 4)) for m in found]


class Remembered(BaseModel):
    """What `remember` did."""

    outcome: Literal["created", "duplicate"] = Field(
        description="created: a new memory; duplicate: a memory with the same meaning was "
        "already stored, and it was kept (its hit_count grew) instead of a new one."
    )
    memory: MemoryOut = Field(description="The memory stored, or the one it duplicates.")
    distance: float = Field(description="For a duplicate, its distance to the text given.")


class Recalled(BaseModel):
    """What `recall` found."""

    matches: list[Match] = Field(description="Nearest first.")


class TurnOut(BaseModel):
    """A turn of a thread's window."""

    role: str
    content: Text
    create_time: str


class Context(BaseModel):
    """A thread's working context."""

    thread_id: str
    exists: bool = Field(description="False when the thread has no session (new or expired).")
    goal: str
    summary: Text = Field(description="The running summary of the turns that left the window.")
    turn_count: int = Field(description="Turns appended to the thread in all.")
    turns: list[TurnOut] = Field(
        description=f"The window's newest turns, oldest first, at most {CONTEXT_TURNS_LIMIT}."
    )
    omitted_turns: int = Field(description="Older turns of the window not returned here.")
    matches: list[Match] = Field(description="Memories nearest to the query, if one was given.")


class TurnIn(BaseModel):
    """A turn to append."""

    role: str = Field(
        min_length=1,
        max_length=MAX_ROLE_CHARS,
        description="Who spoke: user, assistant, tool, system or an agent's name.",
    )
    content: str = Field(max_length=MAX_CONTENT_CHARS, description="What was said.")


class Appended(BaseModel):
    """What `append_turns` did."""

    appended: int = Field(description="Turns appended.")
    turn_count: int = Field(description="Turns appended to the thread in all.")
    evicted_turn_count: int = Field(description="Older turns that left the window for it.")


class MemoryPage(BaseModel):
    """A page of memories."""

    memories: list[MemoryOut] = Field(description="Newest first.")
    next_page_token: str = Field(description="Pass it to get the next page; empty at the end.")


class Forgotten(BaseModel):
    """What `forget_memory` did."""

    memory_id: str
    deleted: bool


class EventOut(BaseModel):
    """An event of a thread's log."""

    id: str
    type: str = Field(description="memrpc.turn for a turn; others are the application's.")
    create_time: str
    payload: Text = Field(description="The event's JSON payload (or its bytes, as text).")


class Events(BaseModel):
    """The newest events of a thread."""

    events: list[EventOut] = Field(description="Oldest first.")
    more: bool = Field(description="True when the log holds older events than these.")


def _payload(event: ev.Event) -> Text:
    if event.HasField("json"):
        found = json_format.MessageToDict(event.json)
        return _text(json.dumps(found, ensure_ascii=False, sort_keys=True))
    return _text(event.data.decode("utf-8", "replace"))


Result = TypeVar("Result")


async def _call(work: Awaitable[Result]) -> Result:
    """`work`'s result; a refusal of memrpc as a tool error."""
    try:
        return await work
    except grpc.aio.AioRpcError as err:
        raise ToolError(f"memrpc refused the call: {remote.describe(err)}") from None


class Memory:
    """The tools, on `client`'s namespace and for `user_id` (empty: none)."""

    def __init__(self, client: AsyncMemoryClient, user_id: str) -> None:
        self.client = client
        self.user_id = user_id

    def _filter(self, kinds: list[Kind] | None = None) -> ltm.MemoryFilter:
        return ltm.MemoryFilter(
            user_ids=[self.user_id] if self.user_id else [],
            kinds=[_KINDS[kind] for kind in kinds or ()],
        )

    async def _own(self, thread_id: str) -> wm.Session | None:
        """The thread's session; a tool error when it is another user's."""
        session = await _call(self.client.get_session(thread_id))
        if session is not None and self.user_id and session.user_id not in ("", self.user_id):
            raise ToolError(f"thread {thread_id!r} belongs to another user")
        return session

    async def remember(
        self,
        text: Annotated[
            str, Field(min_length=1, description="The fact, preference or event, self-contained.")
        ],
        kind: Annotated[
            Kind, Field(description="semantic: a fact or preference; episodic: an event.")
        ] = "semantic",
        topics: Annotated[
            list[str], Field(max_length=8, description="A few topic words to filter by later.")
        ] = [],  # noqa: B006 (never mutated)
        thread_id: Annotated[
            str, Field(max_length=MAX_ID_CHARS, description="The thread it came from, if any.")
        ] = "",
    ) -> Remembered:
        """Store a memory for later conversations. Memories are deduplicated: when one with the
        same meaning is already stored, it is kept instead of a new one (outcome `duplicate`)."""
        memory = ltm.MemoryInput(
            text=text, kind=_KINDS[kind], topics=topics, thread_id=thread_id, user_id=self.user_id
        )
        [result] = await _call(self.client.remember(memory))
        duplicate = result.outcome == ltm.CREATE_OUTCOME_DUPLICATE
        return Remembered(
            outcome="duplicate" if duplicate else "created",
            memory=_memory(result.memory),
            distance=round(result.distance, 4) if duplicate else 0.0,
        )

    async def recall(
        self,
        query: Annotated[str, Field(min_length=1, description="What to look for, in words.")],
        limit: Annotated[
            int, Field(ge=1, le=RECALL_LIMIT, description="The most memories to return.")
        ] = RECALL_DEFAULT,
        kinds: Annotated[
            list[Kind], Field(description="Only memories of these kinds; empty: every kind.")
        ] = [],  # noqa: B006 (never mutated)
    ) -> Recalled:
        """Search long-term memory by meaning: the memories nearest to the
        query, nearest first."""
        found = await _call(self.client.recall(query, filter=self._filter(kinds), limit=limit))
        return Recalled(matches=_matches(found))

    async def get_context(
        self,
        thread_id: ThreadId,
        query: Annotated[
            str, Field(description="Also recall the memories nearest to this; empty: none.")
        ] = "",
        limit: Annotated[
            int, Field(ge=1, le=RECALL_LIMIT, description="The most memories to return.")
        ] = RECALL_DEFAULT,
    ) -> Context:
        """The working context of a conversation thread: its goal, the running summary of its
        older turns, its recent turns (newest last) and, with a query, the memories nearest to
        it, in one call."""
        await self._own(thread_id)
        found = await _call(
            self.client.get_context(thread_id, query or None, filter=self._filter(), limit=limit)
        )
        session = found.session
        turns = list(session.turns)[-CONTEXT_TURNS_LIMIT:]
        return Context(
            thread_id=thread_id,
            exists=found.HasField("session"),
            goal=session.goal,
            summary=_text(session.summary.text),
            turn_count=session.turn_count,
            turns=[
                TurnOut(role=t.role, content=_text(t.content), create_time=_time(t, "create_time"))
                for t in turns
            ],
            omitted_turns=len(session.turns) - len(turns),
            matches=_matches(found.matches),
        )

    async def append_turns(
        self,
        thread_id: ThreadId,
        turns: Annotated[
            list[TurnIn],
            Field(min_length=1, max_length=APPEND_LIMIT, description="The turns, oldest first."),
        ],
    ) -> Appended:
        """Record turns of a conversation in its thread's working memory (a bounded window of
        recent turns, with older turns summarized) and its event log."""
        await self._own(thread_id)
        done = await _call(
            self.client.append_turns(
                thread_id, [(t.role, t.content) for t in turns], user_id=self.user_id
            )
        )
        return Appended(
            appended=len(done.event_ids),
            turn_count=done.turn_count,
            evicted_turn_count=done.evicted_turn_count,
        )

    async def list_memories(
        self,
        page_size: Annotated[
            int, Field(ge=1, le=LIST_LIMIT, description="The most memories of this page.")
        ] = LIST_DEFAULT,
        page_token: Annotated[
            str, Field(description="next_page_token of the previous page; empty: the first.")
        ] = "",
        kinds: Annotated[
            list[Kind], Field(description="Only memories of these kinds; empty: every kind.")
        ] = [],  # noqa: B006 (never mutated)
    ) -> MemoryPage:
        """List stored memories, newest first, a page at a time."""
        request = ltm.ListMemoriesRequest(
            namespace=self.client.namespace,
            filter=self._filter(kinds),
            order=ltm.MEMORY_ORDER_NEWEST_FIRST,
            page_size=page_size,
            page_token=page_token,
        )
        found = await _call(
            self.client.long_term.ListMemories(request, timeout=self.client.timeout)
        )
        return MemoryPage(
            memories=[_memory(m) for m in found.memories], next_page_token=found.next_page_token
        )

    async def forget_memory(
        self,
        memory_id: Annotated[
            str, Field(min_length=1, description="The id of the memory, as listed or recalled.")
        ],
    ) -> Forgotten:
        """Delete a memory for good (when the user asks to forget something, or it is wrong)."""
        if self.user_id:  # another user's memory is not this one's to forget
            request = ltm.GetMemoryRequest(namespace=self.client.namespace, memory_id=memory_id)
            got = await _call(self.client.long_term.GetMemory(request, timeout=self.client.timeout))
            if got.memory.user_id not in ("", self.user_id):
                raise ToolError(f"memory {memory_id!r} belongs to another user")
        delete = ltm.DeleteMemoryRequest(namespace=self.client.namespace, memory_id=memory_id)
        await _call(self.client.long_term.DeleteMemory(delete, timeout=self.client.timeout))
        return Forgotten(memory_id=memory_id, deleted=True)

    async def recent_events(
        self,
        thread_id: ThreadId,
        limit: Annotated[
            int, Field(ge=1, le=EVENTS_LIMIT, description="The most events to return.")
        ] = EVENTS_DEFAULT,
    ) -> Events:
        """The newest events of a thread's event log (its turns, and what the application
        recorded), oldest first."""
        await self._own(thread_id)
        request = ev.ListEventsRequest(
            namespace=self.client.namespace, thread_id=thread_id, descending=True, page_size=limit
        )
        found = await _call(self.client.events.ListEvents(request, timeout=self.client.timeout))
        return Events(
            events=[
                EventOut(
                    id=e.id, type=e.type, create_time=_time(e, "create_time"), payload=_payload(e)
                )
                for e in reversed(found.events)
            ],
            more=bool(found.next_page_token),
        )

    def tools(self) -> list[Callable[..., Awaitable[BaseModel]]]:
        """Every tool, in the order they are listed."""
        return [
            self.remember,
            self.recall,
            self.get_context,
            self.append_turns,
            self.list_memories,
            self.forget_memory,
            self.recent_events,
        ]


def build(client: AsyncMemoryClient, user_id: str) -> MCPServer:
    """The MCP server of memrpc's tools on `client`'s namespace, for `user_id`."""
    server: MCPServer = MCPServer("memrpc", instructions=INSTRUCTIONS, version=VERSION)
    for tool in Memory(client, user_id).tools():
        server.add_tool(tool, description=inspect.cleandoc(tool.__doc__ or ""))
    return server
