"""`memrpc mcp` end to end: the official MCP SDK's own client drives the
command over stdio (spawned from the Claude Desktop configuration of
docs/mcp.md) and over streamable HTTP (the command line of docs/mcp.md),
against the tests' live memrpc."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from memrpc.client import AsyncMemoryClient
from memrpc.server import MemrpcServer
from memrpc.v1 import long_term_memory_pb2 as ltm

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "mcp.md").read_text()
MEMRPC = Path(sys.executable).parent / "memrpc"
TOOLS = {
    "remember",
    "recall",
    "get_context",
    "append_turns",
    "list_memories",
    "forget_memory",
    "recent_events",
}


def _block(language: str, starting: str = "") -> str:
    """The first fenced block of docs/mcp.md in `language` starting so."""
    for found in re.findall(rf"```{language}\n(.*?)```", DOC, re.DOTALL):
        if found.startswith(starting):
            return str(found)
    raise AssertionError(f"docs/mcp.md has no {language} block starting {starting!r}")


def _with(args: list[str], **values: str) -> list[str]:
    """`args` with the value after each `--flag` of `values` replaced."""
    args = list(args)
    for flag, value in values.items():
        args[args.index("--" + flag.replace("_", "-")) + 1] = value
    return args


@pytest.fixture(scope="module")
def ns() -> str:
    return f"t{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="module")
def target(memrpc_server: MemrpcServer) -> str:
    return f"127.0.0.1:{memrpc_server.port}"


@pytest.fixture
async def client(target: str, ns: str) -> AsyncIterator[AsyncMemoryClient]:
    async with AsyncMemoryClient(target, namespace=ns) as found:
        yield found


async def _call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def _error(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


async def test_claude_desktop_config_serves_every_tool_over_stdio(
    target: str, ns: str, client: AsyncMemoryClient
) -> None:
    config = json.loads(_block("json"))["mcpServers"]["memrpc"]
    assert config["command"] == "memrpc"
    args = _with(config["args"], target=target, namespace=ns, user_id="alice")
    params = StdioServerParameters(command=str(MEMRPC), args=args)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await _schemas(session)
        memory_id = await _remember_and_recall(session, client, ns)
        await _turns_and_context(session, client)
        await _list_and_forget(session, memory_id)
        await _errors(session, client, memory_id)


async def _schemas(session: ClientSession) -> None:
    listed = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(listed) == TOOLS
    for tool in listed.values():
        assert tool.description, tool.name
        assert tool.output_schema is not None, tool.name
        properties = tool.input_schema["properties"]
        # The namespace and the user are the configuration's, never the model's.
        assert not {"namespace", "user_id"} & set(properties), tool.name
        for name, schema in properties.items():
            assert schema.get("description") or "$ref" in str(schema), (tool.name, name)
    assert listed["recall"].input_schema["properties"]["limit"]["maximum"] == 20
    assert listed["append_turns"].input_schema["properties"]["turns"]["maxItems"] == 20


async def _remember_and_recall(session: ClientSession, client: AsyncMemoryClient, ns: str) -> str:
    """remember -> recall, the dedup outcome, the namespace bound; the memory's id."""
    text = "Alice is allergic to peanuts and carries an EpiPen"
    first = await _call(session, "remember", text=text, topics=["health"])
    assert first["outcome"] == "created"
    again = await _call(session, "remember", text=text)
    assert again["outcome"] == "duplicate"
    assert again["memory"]["id"] == first["memory"]["id"]
    assert again["memory"]["hit_count"] == 2
    recalled = await _call(session, "recall", query="what is Alice allergic to?")
    assert recalled["matches"][0]["memory"]["id"] == first["memory"]["id"]
    assert recalled["matches"][0]["memory"]["text"] == {"text": text, "truncated": False}

    # The namespace cannot be chosen: an argument naming one is ignored.
    other = f"{ns}-other"
    await _call(session, "remember", text="Alice likes sailing", namespace=other)
    stored = await client.long_term.ListMemories(ltm.ListMemoriesRequest(namespace=ns))
    assert {m.text for m in stored.memories} == {text, "Alice likes sailing"}
    assert {m.user_id for m in stored.memories} == {"alice"}
    elsewhere = await client.long_term.ListMemories(ltm.ListMemoriesRequest(namespace=other))
    assert not elsewhere.memories
    return str(first["memory"]["id"])


async def _turns_and_context(session: ClientSession, client: AsyncMemoryClient) -> None:
    """append_turns -> get_context and recent_events, texts bounded."""
    long = "x" * 5000
    appended = await _call(
        session,
        "append_turns",
        thread_id="chat-1",
        turns=[
            {"role": "user", "content": "I am allergic to peanuts, remember?"},
            {"role": "assistant", "content": long},
        ],
    )
    assert appended == {"appended": 2, "turn_count": 2, "evicted_turn_count": 0}
    context = await _call(
        session, "get_context", thread_id="chat-1", query="peanut allergy", limit=1
    )
    assert context["exists"]
    assert [t["role"] for t in context["turns"]] == ["user", "assistant"]
    assert context["turns"][1]["content"] == {"text": long[:2000], "truncated": True}
    assert len(context["matches"]) == 1
    session_of = await client.get_session("chat-1")
    assert session_of is not None
    assert session_of.user_id == "alice"
    events = await _call(session, "recent_events", thread_id="chat-1", limit=1)
    assert [e["type"] for e in events["events"]] == ["memrpc.turn"]
    assert events["more"]
    assert events["events"][0]["payload"]["text"].startswith('{"content": "xxx')
    assert events["events"][0]["payload"]["truncated"]
    fresh = await _call(session, "get_context", thread_id="chat-new")
    assert not fresh["exists"]
    assert fresh["turns"] == []


async def _list_and_forget(session: ClientSession, memory_id: str) -> None:
    page = await _call(session, "list_memories", page_size=1)
    assert len(page["memories"]) == 1
    assert page["next_page_token"]
    rest = await _call(session, "list_memories", page_token=page["next_page_token"])
    ids = [m["id"] for m in page["memories"] + rest["memories"]]
    assert len(ids) == 2
    assert memory_id in ids
    assert await _call(session, "forget_memory", memory_id=memory_id) == {
        "memory_id": memory_id,
        "deleted": True,
    }
    left = await _call(session, "list_memories")
    assert memory_id not in [m["id"] for m in left["memories"]]


async def _errors(session: ClientSession, client: AsyncMemoryClient, memory_id: str) -> None:
    """memrpc's refusals carry the code, the reason and the message."""
    refused = await _error(session, "forget_memory", memory_id=memory_id)
    assert "memrpc refused the call: NOT_FOUND ERROR_REASON_" in refused
    turns = [{"role": "user", "content": "hi"}]
    refused = await _error(session, "append_turns", thread_id="memrpc.mine", turns=turns)
    documented = _block("text", "Error executing tool append_turns:").strip()
    assert refused == documented
    # The schema's bounds are the SDK's to enforce, before memrpc is called.
    assert await _error(session, "recall", query="peanuts", limit=500)

    # Another user's thread is not this user's to read.
    await client.append_turns("bob-chat", [("user", "hi")], user_id="bob")
    refused = await _error(session, "get_context", thread_id="bob-chat")
    assert "belongs to another user" in refused
    [bobs] = await client.remember(ltm.MemoryInput(text="Bob likes jazz", user_id="bob"))
    refused = await _error(session, "forget_memory", memory_id=bobs.memory.id)
    assert "belongs to another user" in refused


async def _start_http(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    """`memrpc mcp` over streamable HTTP, and its URL once it serves."""
    process = await asyncio.create_subprocess_exec(
        str(MEMRPC), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    found = re.search(r"serving (http://\S+)", line)
    if found is None:
        process.kill()
        _, err = await process.communicate()
        raise AssertionError(f"memrpc mcp did not start: {line!r} {err.decode()!r}")
    return process, found.group(1)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def test_the_documented_http_server_requires_its_token(
    target: str, ns: str, tmp_path: Path
) -> None:
    line = shlex.split(_block("sh", "memrpc mcp --transport streamable-http"))
    assert line[0] == "memrpc"
    token_file = tmp_path / "mcp-token"
    token_file.write_text("s3cret-token\n")
    args = _with(
        line[1:],
        listen="127.0.0.1:0",
        target=target,
        namespace=ns,
        user_id="carol",
        mcp_token_file=str(token_file),
    )
    process, url = await _start_http(*args)
    try:
        async with httpx.AsyncClient() as http:
            initialize = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "curl", "version": "1"},
                },
            }
            headers = {"Accept": "application/json, text/event-stream"}
            for sent in ({}, {"Authorization": "Bearer wrong"}):
                refused = await http.post(url, json=initialize, headers={**headers, **sent})
                assert refused.status_code == 401
                assert refused.json()["error"]["message"].startswith("unauthenticated")
        # The documented client, with the token.
        namespace: dict[str, Any] = {}
        exec(_block("python"), namespace)
        assert set(await namespace["tool_names"](url, "s3cret-token")) == TOOLS
        await _round_trip_over_http(url, "s3cret-token")
    finally:
        await _stop(process)


async def _round_trip_over_http(url: str, token: str) -> None:
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with (
        http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        remembered = await _call(session, "remember", text="Carol takes the 7:40 train")
        assert remembered["outcome"] == "created"
        found = await _call(session, "recall", query="which train does Carol take?")
        assert found["matches"][0]["memory"]["id"] == remembered["memory"]["id"]
        refused = await _error(session, "recent_events", thread_id="", limit=1)
        assert refused


def test_beyond_loopback_a_token_is_required() -> None:
    import subprocess

    done = subprocess.run(
        [
            str(MEMRPC),
            "mcp",
            "--transport",
            "streamable-http",
            "--listen",
            "0.0.0.0:0",
            "--namespace",
            "n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "refusing to serve 0.0.0.0:0 without a token" in done.stderr
