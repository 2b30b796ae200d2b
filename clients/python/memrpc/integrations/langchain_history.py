"""A LangChain chat-message history on memrpc (extra `langchain`).

`MemrpcChatMessageHistory` keeps a thread's conversation in memrpc:

- every message is an event of the thread's log, type `langchain.message`,
  whose payload is the message as `langchain_core.messages.message_to_dict`
  writes it (JSON bytes): `messages` reads them back, oldest first, with
  `messages_from_dict`, so a message round-trips exactly (type, content
  blocks, `additional_kwargs`, `response_metadata`, `id`, `name`, tool
  calls), however long the conversation, within the log's retention (the
  server's `--event-log-max-len`, 1,000 entries by default: each message
  takes two, its own and its turn's);
- every message is also a turn of the thread's working memory (role `user`,
  `assistant`, `system`, `tool`, ... and its text), so the bounded window,
  the running summary, memory formation and `GetContext` see the
  conversation as they see any agent's.

Any number of instances, in any number of processes, on the same namespace
and thread see the same history: nothing is cached here. Each append is
retry-safe (a request id per batch, AIP-155). `clear` empties the log and
deletes the session.

    from memrpc.client import MemoryClient
    from memrpc.integrations.langchain_history import MemrpcChatMessageHistory

    with MemoryClient("127.0.0.1:50051", namespace="acme") as memory:
        history = MemrpcChatMessageHistory("thread-1", memory, user_id="u-42")
        history.add_user_message("Book me a flight to Oslo")
        print(history.messages)

The blocking methods need `client` (a `MemoryClient`), the asyncio ones
(`aget_messages`, `aadd_messages`, `aclear`) use `async_client` (an
`AsyncMemoryClient`) when given, else run the blocking ones in a thread.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import grpc
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from memrpc.client import AsyncMemoryClient, MemoryClient
from memrpc.client import _requests as req
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import working_memory_pb2 as wm

__all__ = ["EVENT_TYPE", "MemrpcChatMessageHistory"]

EVENT_TYPE = "langchain.message"
"""The type of the events that hold the messages."""

# Messages one append sends: the server's default bound of the events (and
# turns) of one AppendEvents (AppendTurns), see event_log.proto.
_BATCH = 100
# The most characters of a turn's content (`TurnInput.content`): the window
# keeps a longer message's text cut there; its event keeps it whole.
_TURN_CHARS = 65_536
# Events one page of ListEvents reads (its most), and the most pages read:
# a log holds at most 1,000,000 events (`AppendEventsRequest.max_len`).
_PAGE = 1000
_MAX_PAGES = 1000
# The roles of the turns, by message type; another type is its own role.
_ROLES = {"human": "user", "ai": "assistant", "AIMessageChunk": "assistant"}


def _role(message: BaseMessage) -> str:
    role = getattr(message, "role", None) if message.type == "chat" else None
    return str(role or _ROLES.get(message.type, message.type))[:64]


def _batches(
    namespace: str,
    thread_id: str,
    messages: Sequence[BaseMessage],
    *,
    user_id: str,
    max_window_turns: int,
    ttl: float | None,
) -> Iterator[tuple[ev.AppendEventsRequest, wm.AppendTurnsRequest]]:
    """The requests of an append: for each batch, the events of its
    messages, then their turns, under one request id."""
    for start in range(0, len(messages), _BATCH):
        batch = messages[start : start + _BATCH]
        request_id = uuid.uuid4().hex
        events = [
            ev.EventInput(type=EVENT_TYPE, data=json.dumps(message_to_dict(m)).encode())
            for m in batch
        ]
        turns = [
            wm.TurnInput(
                role=_role(m), content=m.text[:_TURN_CHARS], metadata={"langchain.type": m.type}
            )
            for m in batch
        ]
        yield (
            ev.AppendEventsRequest(
                namespace=namespace, thread_id=thread_id, events=events, request_id=request_id
            ),
            req.append_turns(
                namespace,
                thread_id,
                turns,
                max_window_turns=max_window_turns,
                user_id=user_id,
                ttl=ttl,
                request_id=request_id,
                form_memories=None,
            ),
        )


def _decoded(events: Sequence[ev.Event]) -> list[BaseMessage]:
    """The messages of a page of events (the others are skipped)."""
    found = [json.loads(e.data) for e in events if e.type == EVENT_TYPE]
    return messages_from_dict(found)


class MemrpcChatMessageHistory(BaseChatMessageHistory):
    """The chat history of one thread of a memrpc namespace (the client's)."""

    def __init__(
        self,
        thread_id: str,
        client: MemoryClient | None = None,
        *,
        async_client: AsyncMemoryClient | None = None,
        user_id: str = "",
        max_window_turns: int = 0,
        ttl: float | None = None,
    ) -> None:
        """`user_id` is recorded on the thread's session when an append
        creates it; `max_window_turns` (0: the server's default) and `ttl`
        (seconds; None: the server's default) are those of the appends."""
        namespaces = {c.namespace for c in (client, async_client) if c is not None}
        if len(namespaces) != 1:
            raise ValueError(
                "pass a MemoryClient (client) or an AsyncMemoryClient (async_client), "
                "or both on the same namespace"
            )
        self.thread_id = thread_id
        self.client = client
        self.async_client = async_client
        [self.namespace] = namespaces
        self.user_id = user_id
        self.max_window_turns = max_window_turns
        self.ttl = ttl

    def _sync(self) -> MemoryClient:
        if self.client is None:
            raise ValueError("the blocking methods need a MemoryClient: pass client=")
        return self.client

    def _list(self, page_token: str) -> ev.ListEventsRequest:
        return ev.ListEventsRequest(
            namespace=self.namespace,
            thread_id=self.thread_id,
            page_size=_PAGE,
            page_token=page_token,
        )

    def _requests(
        self, messages: Sequence[BaseMessage]
    ) -> Iterator[tuple[ev.AppendEventsRequest, wm.AppendTurnsRequest]]:
        return _batches(
            self.namespace,
            self.thread_id,
            messages,
            user_id=self.user_id,
            max_window_turns=self.max_window_turns,
            ttl=self.ttl,
        )

    def _trim(self) -> ev.TrimEventsRequest:
        return ev.TrimEventsRequest(namespace=self.namespace, thread_id=self.thread_id, max_len=0)

    def _delete(self) -> wm.DeleteSessionRequest:
        return wm.DeleteSessionRequest(namespace=self.namespace, thread_id=self.thread_id)

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """Every message of the thread, oldest first."""
        client = self._sync()
        found: list[BaseMessage] = []
        token = ""
        for _ in range(_MAX_PAGES):
            page = client.events.ListEvents(self._list(token), timeout=client.timeout)
            found.extend(_decoded(page.events))
            token = page.next_page_token
            if not token:
                break
        return found

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Appends the messages, in order, to the log and to the window."""
        client = self._sync()
        for events, turns in self._requests(messages):
            client.events.AppendEvents(events, timeout=client.timeout)
            client.working.AppendTurns(turns, timeout=client.timeout)

    def clear(self) -> None:
        """Forgets the thread's messages: empties its log, deletes its session."""
        client = self._sync()
        client.events.TrimEvents(self._trim(), timeout=client.timeout)
        try:
            client.working.DeleteSession(self._delete(), timeout=client.timeout)
        except grpc.RpcError as err:
            if not _gone(err):
                raise

    async def aget_messages(self) -> list[BaseMessage]:
        """Every message of the thread, oldest first."""
        if self.async_client is None:
            return await super().aget_messages()
        client = self.async_client
        found: list[BaseMessage] = []
        token = ""
        for _ in range(_MAX_PAGES):
            page = await client.events.ListEvents(self._list(token), timeout=client.timeout)
            found.extend(_decoded(page.events))
            token = page.next_page_token
            if not token:
                break
        return found

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Appends the messages, in order, to the log and to the window."""
        if self.async_client is None:
            await super().aadd_messages(messages)
            return
        client = self.async_client
        for events, turns in self._requests(messages):
            await client.events.AppendEvents(events, timeout=client.timeout)
            await client.working.AppendTurns(turns, timeout=client.timeout)

    async def aclear(self) -> None:
        """Forgets the thread's messages: empties its log, deletes its session."""
        if self.async_client is None:
            await super().aclear()
            return
        client = self.async_client
        await client.events.TrimEvents(self._trim(), timeout=client.timeout)
        try:
            await client.working.DeleteSession(self._delete(), timeout=client.timeout)
        except grpc.RpcError as err:
            if not _gone(err):
                raise


def _gone(err: grpc.RpcError) -> bool:
    """Whether a DeleteSession failed for a session already gone."""
    call: Any = err
    return bool(call.code() == grpc.StatusCode.NOT_FOUND)
