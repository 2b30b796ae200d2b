"""The LangChain chat-message history of the Python client
(`memrpc.integrations.langchain_history`), on the tests' live memrpc, and
the example of docs/integrations.md.

The blocking client runs in a thread: the server shares the test's loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from memrpc.client import AsyncMemoryClient, MemoryClient
from memrpc.integrations.langchain_history import EVENT_TYPE, MemrpcChatMessageHistory
from memrpc.server import MemrpcServer
from memrpc.v1 import event_log_pb2 as ev
from support import doc_examples

ROOT = Path(__file__).resolve().parent.parent


def _conversation() -> list[BaseMessage]:
    """One message of each kind, with what a round trip must keep."""
    return [
        SystemMessage("You are a travel agent."),
        HumanMessage("Book me a flight to Oslo", id="h-1", additional_kwargs={"source": "web"}),
        AIMessage(
            "",
            id="run-1",
            tool_calls=[
                {"name": "search_flights", "args": {"to": "OSL", "adults": 2}, "id": "call-1"}
            ],
            response_metadata={"model_name": "m", "token_usage": {"total": 42}},
            usage_metadata={"input_tokens": 30, "output_tokens": 12, "total_tokens": 42},
        ),
        ToolMessage('{"flights": 3}', tool_call_id="call-1", name="search_flights"),
        HumanMessage(
            [
                {"type": "text", "text": "Here is my passport"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ]
        ),
        ChatMessage("Looks fine to me", role="critic"),
        AIMessage("Booked: SK 4021 on Friday.", name="agent", id="run-2"),
    ]


@pytest.fixture
def target(memrpc_server: MemrpcServer) -> str:
    return f"127.0.0.1:{memrpc_server.port}"


@pytest.fixture
def memory(target: str, ns: str) -> Iterator[MemoryClient]:
    with MemoryClient(target, namespace=ns) as client:
        yield client


@pytest.fixture
async def amemory(target: str, ns: str) -> AsyncIterator[AsyncMemoryClient]:
    async with AsyncMemoryClient(target, namespace=ns) as client:
        yield client


async def test_messages_round_trip_exactly_and_in_order(
    memory: MemoryClient, amemory: AsyncMemoryClient
) -> None:
    history = MemrpcChatMessageHistory("trip", memory, user_id="u-1")
    sent = _conversation()

    def write_and_read() -> list[BaseMessage]:
        assert history.messages == []
        history.add_messages(sent[:3])
        history.add_message(sent[3])
        history.add_messages(sent[4:])
        return history.messages

    assert await asyncio.to_thread(write_and_read) == sent
    # The window holds them as turns of the session's user.
    session = await amemory.get_session("trip")
    assert session is not None
    assert session.user_id == "u-1"
    assert [t.role for t in session.turns] == [
        "system",
        "user",
        "assistant",
        "tool",
        "user",
        "critic",
        "assistant",
    ]
    assert session.turns[0].content == "You are a travel agent."
    assert session.turns[4].content == "Here is my passport"
    assert session.turns[3].metadata["langchain.type"] == "tool"
    # Other events of the thread are not messages.
    await amemory.append_events("trip", [("note", {"x": 1})])
    assert await MemrpcChatMessageHistory("trip", async_client=amemory).aget_messages() == sent


async def test_the_history_goes_beyond_the_window_and_clears(memory: MemoryClient) -> None:
    history = MemrpcChatMessageHistory("long", memory, max_window_turns=3)
    sent: list[BaseMessage] = [
        HumanMessage(f"message {i}") if i % 2 else AIMessage(f"reply {i}") for i in range(150)
    ]

    def work() -> None:
        history.add_messages(sent)  # two batches of appends
        assert history.messages == sent
        session = memory.get_session("long")
        assert session is not None
        assert [t.content for t in session.turns] == ["message 147", "reply 148", "message 149"]
        history.clear()
        assert history.messages == []
        assert memory.get_session("long") is None
        history.clear()  # nothing left: fine
        history.add_user_message("again")
        assert history.messages == [HumanMessage("again")]

    await asyncio.to_thread(work)


async def test_two_workers_on_one_thread_share_the_history(
    target: str, ns: str, amemory: AsyncMemoryClient
) -> None:
    async with AsyncMemoryClient(target, namespace=ns) as other:
        one = MemrpcChatMessageHistory("shared", async_client=amemory)
        two = MemrpcChatMessageHistory("shared", async_client=other)
        await one.aadd_messages([HumanMessage("hi from one")])
        await two.aadd_messages([AIMessage("hi from two")])
        await one.aadd_messages([HumanMessage("and one again")])
        expected = [
            HumanMessage("hi from one"),
            AIMessage("hi from two"),
            HumanMessage("and one again"),
        ]
        assert await one.aget_messages() == expected
        assert await two.aget_messages() == expected
        await two.aclear()
        assert await one.aget_messages() == []
        assert await amemory.get_session("shared") is None
        listed = await amemory.events.ListEvents(
            ev.ListEventsRequest(namespace=ns, thread_id="shared")
        )
        assert not [e for e in listed.events if e.type == EVENT_TYPE]


async def test_the_async_api_without_an_async_client_uses_the_blocking_one(
    memory: MemoryClient,
) -> None:
    history = MemrpcChatMessageHistory("fallback", memory)
    await history.aadd_messages([HumanMessage("one"), AIMessage("two")])
    assert await history.aget_messages() == [HumanMessage("one"), AIMessage("two")]
    await history.aclear()
    assert await history.aget_messages() == []
    with pytest.raises(ValueError, match="MemoryClient"):
        MemrpcChatMessageHistory("x")
    async with AsyncMemoryClient(namespace="n") as unused:
        with pytest.raises(ValueError, match="blocking methods need a MemoryClient"):
            _ = MemrpcChatMessageHistory("x", async_client=unused).messages


async def test_the_documented_example_runs(target: str, ns: str) -> None:
    [code] = doc_examples("## LangChain chat-message history")
    code = code.replace('"127.0.0.1:50051"', repr(target)).replace('"acme"', repr(ns))
    await asyncio.to_thread(exec, code, {})
    async with AsyncMemoryClient(target, namespace=ns) as client:
        # The example clears what it wrote; its appends reached the log.
        listed = await client.events.ListEvents(
            ev.ListEventsRequest(namespace=ns, thread_id="thread-1")
        )
        assert listed.events == []
