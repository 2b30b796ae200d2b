"""The HTTP door (`--http-listen`, `memrpc/http/`): every memrpc method
called with raw HTTP requests and JSON bodies, in the Connect protocol,
with no memrpc client code: the answers, the errors (HTTP status, Connect
code, the `ErrorInfo` reason), authentication, the deadline header, and
the streams (`TailEvents`, `ExportData` and `ImportData`) as enveloped
messages.

A server with API keys serves gRPC and HTTP; the calls go through httpx."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import struct
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import descriptor_pool
from google.rpc import error_details_pb2

from conftest import make_settings, running
from memrpc.auth.keys import Access, new_key
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.server import SERVICE_NAMES

NS = f"http{uuid.uuid4().hex[:10]}"
COPY = f"{NS}-copy"
JSON = {"Content-Type": "application/json"}
STREAM = {"Content-Type": "application/connect+json"}
# End-of-stream flag of a Connect envelope.
END = 0x02


@dataclass
class Door:
    """The server's HTTP address, and the tokens of its keys."""

    url: str
    root: str
    admin: str
    reader: str
    other: str


@pytest.fixture(scope="module")
async def door(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: EmbeddedRedis,
    embedder: BatchingEmbedder,
) -> AsyncIterator[Door]:
    directory: Path = tmp_path_factory.mktemp("http")
    keys = {
        "root": new_key("root", ["*"], access=Access.ADMIN),
        "admin": new_key("admin", [NS, COPY], access=Access.ADMIN),
        "reader": new_key("reader", [NS], access=Access.READ),
        "other": new_key("other", ["elsewhere"], access=Access.ADMIN),
    }
    keys_file = directory / "keys.toml"
    keys_file.write_text("\n\n".join(key.entry for key in keys.values()))
    settings = make_settings(redis_server.url, http_listen="127.0.0.1:0", auth_keys_file=keys_file)
    async with running(settings, embedder) as server:
        yield Door(
            f"http://127.0.0.1:{server.http_port}",
            keys["root"].token,
            keys["admin"].token,
            keys["reader"].token,
            keys["other"].token,
        )


def _client(door: Door, token: str) -> httpx.AsyncClient:
    """A client of the HTTP door sending `token`."""
    return httpx.AsyncClient(
        base_url=door.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.fixture(scope="module")
async def http(door: Door) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(door, door.admin) as client:
        yield client


def every_method() -> list[str]:
    pool = descriptor_pool.Default()
    return [
        f"/{name}/{method.name}"
        for name in SERVICE_NAMES
        for method in pool.FindServiceByName(name).methods
    ]


async def call(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer of a unary call that succeeds."""
    response = await http.post(path, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    return answer


def envelope(message: dict[str, Any], flags: int = 0) -> bytes:
    data = json.dumps(message).encode()
    return struct.pack(">BI", flags, len(data)) + data


def envelopes(body: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """The (flags, message) of each envelope of a stream's body."""
    at = 0
    while at < len(body):
        flags, size = struct.unpack(">BI", body[at : at + 5])
        yield flags, json.loads(body[at + 5 : at + 5 + size])
        at += 5 + size


async def stream(
    http: httpx.AsyncClient, path: str, *messages: dict[str, Any], timeout_ms: int | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages of a streaming call, and its end-of-stream message."""
    headers = dict(STREAM)
    if timeout_ms is not None:
        headers["Connect-Timeout-Ms"] = str(timeout_ms)
    body = b"".join(envelope(message) for message in messages)
    response = await http.post(path, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/connect+json"
    found = list(envelopes(response.content))
    assert found, response.content
    assert found[-1][0] == END, found
    return [message for flags, message in found[:-1]], found[-1][1]


def reason(error: dict[str, Any]) -> str:
    """The memrpc reason of a Connect error, read from the detail's bytes."""
    [info] = [d for d in error["details"] if d["type"] == "google.rpc.ErrorInfo"]
    value = info["value"]
    decoded = error_details_pb2.ErrorInfo.FromString(
        base64.b64decode(value + "=" * (-len(value) % 4))
    )
    assert info["debug"]["reason"] == decoded.reason  # the same, readable
    return decoded.reason


# A unary call of the scenario: its path, its body's fields besides the namespace.
Rpc = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
WM, LTM, LOG = "/memrpc.v1.WorkingMemory", "/memrpc.v1.LongTermMemory", "/memrpc.v1.EventLog"
SETTINGS, ADMIN, CHECKPOINTS = (
    "/memrpc.v1.Namespaces",
    "/memrpc.v1.Administration",
    "/memrpc.v1.Checkpoints",
)
STREAMS = {
    f"{LOG}/TailEvents",
    "/memrpc.v1.Portability/ExportData",
    "/memrpc.v1.Portability/ImportData",
}


async def test_every_unary_method_answers_json(http: httpx.AsyncClient) -> None:
    called: set[str] = set()

    async def rpc(path: str, body: dict[str, Any]) -> dict[str, Any]:
        called.add(path)
        return await call(http, path, {"namespace": NS, **body})

    await working_memory(rpc)
    memory_id = await long_term_memory(rpc)
    await event_log(rpc)
    await checkpoints(rpc)
    await rpc(f"{SETTINGS}/GetNamespaceSettings", {})
    await rpc(
        f"{SETTINGS}/UpdateNamespaceSettings",
        {"settings": {"sessions": {"ttl": "7200s"}}, "updateMask": "sessions.ttl"},
    )
    await rpc(f"{LTM}/DeleteMemory", {"memoryId": memory_id})
    await rpc(f"{LTM}/DeleteMemories", {"filter": {"userIds": ["u1"]}})
    await rpc(f"{ADMIN}/EraseUser", {"userId": "u1"})
    audit = await rpc(f"{ADMIN}/ListAuditRecords", {})
    assert any(r["operation"].endswith("/EraseUser") for r in audit["records"])
    await rpc(f"{WM}/DeleteSession", {"threadId": "t1"})
    await rpc(f"{ADMIN}/DeleteNamespace", {})
    assert called == set(every_method()) - STREAMS


async def working_memory(rpc: Rpc) -> None:
    updated = await rpc(
        f"{WM}/UpdateSession",
        {"threadId": "t1", "session": {"goal": "plan a trip"}, "updateMask": "goal"},
    )
    assert updated["session"]["goal"] == "plan a trip"
    appended = await rpc(
        f"{WM}/AppendTurns",
        {"threadId": "t1", "turns": [{"role": "user", "content": "I like window seats"}]},
    )
    assert appended["turnCount"] == "1"  # int64: a string in JSON
    got = await rpc(f"{WM}/GetSession", {"threadId": "t1"})
    assert got["session"]["turns"][0]["content"] == "I like window seats"
    listed = await rpc(f"{WM}/ListSessions", {})
    assert [s["threadId"] for s in listed["sessions"]] == ["t1"]


async def long_term_memory(rpc: Rpc) -> str:
    """Creates, recalls and pins a memory of user u1; its id."""
    created = await rpc(
        f"{LTM}/CreateMemories",
        {"memories": [{"text": "The user prefers window seats", "userId": "u1"}]},
    )
    memory = created["results"][0]["memory"]
    assert memory["kind"] == "MEMORY_KIND_SEMANTIC"  # enums by name
    context = await rpc(
        f"{WM}/GetContext", {"threadId": "t1", "text": "seats", "filter": {"userIds": ["u1"]}}
    )
    assert context["matches"][0]["memory"]["id"] == memory["id"], context
    searched = await rpc(
        f"{LTM}/SearchMemories", {"text": "seat preference", "filter": {"userIds": ["u1"]}}
    )
    assert searched["matches"][0]["memory"]["id"] == memory["id"]
    assert (await rpc(f"{LTM}/GetMemory", {"memoryId": memory["id"]}))["memory"]["id"]
    await rpc(
        f"{LTM}/UpdateMemory",
        {"memoryId": memory["id"], "memory": {"pinned": True}, "updateMask": "pinned"},
    )
    assert (await rpc(f"{LTM}/ListMemories", {}))["memories"][0]["pinned"] is True
    return str(memory["id"])


async def event_log(rpc: Rpc) -> None:
    events = await rpc(
        f"{LOG}/AppendEvents",
        {"threadId": "t1", "events": [{"type": "tool.call", "json": {"tool": "search"}}]},
    )
    assert len(events["eventIds"]) == 1
    listed_events = await rpc(f"{LOG}/ListEvents", {"threadId": "t1"})
    assert {e["type"] for e in listed_events["events"]} >= {"tool.call"}
    await rpc(
        f"{LOG}/CreateConsumerGroup",
        {"group": "g", "startPosition": "GROUP_START_POSITION_EARLIEST"},
    )
    received = await rpc(f"{LOG}/ReceiveEvents", {"group": "g", "consumer": "c", "maxEvents": 10})
    delivered = [d["deliveryId"] for d in received["events"]]
    assert delivered
    await rpc(f"{LOG}/AcknowledgeEvents", {"group": "g", "deliveryIds": delivered})
    await rpc(f"{LOG}/DeleteConsumerGroup", {"group": "g"})
    await rpc(f"{LOG}/TrimEvents", {"threadId": "t1", "maxLen": 1})


async def checkpoints(rpc: Rpc) -> None:
    state = {"encoding": "json", "data": base64.b64encode(b'{"step": 1}').decode()}
    await rpc(
        f"{CHECKPOINTS}/PutCheckpoint",
        {
            "threadId": "t1",
            "checkpointId": "c1",
            "runId": "r1",
            "state": state,
            "metadata": '{"source": "input"}',
        },
    )
    write = {"taskId": "task", "index": 0, "channel": "messages", "value": state}
    await rpc(
        f"{CHECKPOINTS}/PutCheckpointWrites",
        {"threadId": "t1", "checkpointId": "c1", "writes": [write]},
    )
    checkpoint = (await rpc(f"{CHECKPOINTS}/GetCheckpoint", {"threadId": "t1"}))["checkpoint"]
    assert base64.b64decode(checkpoint["state"]["data"]) == b'{"step": 1}'
    assert checkpoint["pendingWrites"][0]["channel"] == "messages"
    listed = await rpc(
        f"{CHECKPOINTS}/ListCheckpoints",
        {"threadId": "t1", "metadataFilter": {"source": '"input"'}},
    )
    assert [c["checkpointId"] for c in listed["checkpoints"]] == ["c1"]
    await rpc(
        f"{CHECKPOINTS}/CopyCheckpointThread", {"sourceThreadId": "t1", "targetThreadId": "t2"}
    )
    await rpc(
        f"{CHECKPOINTS}/PruneCheckpoints",
        {"threadIds": ["t2"], "strategy": "PRUNE_STRATEGY_KEEP_LATEST"},
    )
    await rpc(f"{CHECKPOINTS}/DeleteCheckpointRuns", {"runIds": ["r1"]})
    await rpc(f"{CHECKPOINTS}/DeleteCheckpointThread", {"threadId": "t2"})


@pytest.fixture(scope="module")
async def root(door: Door) -> AsyncIterator[httpx.AsyncClient]:
    """A client with a key of every namespace."""
    async with _client(door, door.root) as client:
        yield client


@pytest.mark.parametrize("path", every_method())
async def test_every_method_refuses_a_request_without_namespace(
    root: httpx.AsyncClient, path: str
) -> None:
    if path in STREAMS:
        messages, end = await stream(root, path, {})
        assert messages == []
        error = end["error"]
    else:
        response = await root.post(path, json={})
        assert response.status_code == 400
        error = response.json()
    assert error["code"] == "invalid_argument"
    assert reason(error) == "ERROR_REASON_FIELD_INVALID"
    assert "namespace" in error["message"]


async def test_an_unknown_json_field_is_refused_not_ignored(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/memrpc.v1.WorkingMemory/GetSession",
        json={"namespace": NS, "threadId": "t", "thread": "typo"},
    )
    assert response.status_code == 400
    error = response.json()
    assert reason(error) == "ERROR_REASON_REQUEST_UNDECODABLE"
    assert '"thread"' in error["message"]


async def test_errors_map_to_http_statuses_with_their_reasons(http: httpx.AsyncClient) -> None:
    created = await call(
        http,
        "/memrpc.v1.LongTermMemory/CreateMemories",
        {"namespace": NS, "memories": [{"text": "soon forgotten"}]},
    )
    gone = {"namespace": NS, "memoryId": created["results"][0]["memory"]["id"]}
    await call(http, "/memrpc.v1.LongTermMemory/DeleteMemory", gone)
    missing = await http.post("/memrpc.v1.LongTermMemory/GetMemory", json=gone)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert reason(missing.json()) == "ERROR_REASON_MEMORY_NOT_FOUND"
    unknown = await http.post("/memrpc.v1.WorkingMemory/NoSuchMethod", json={})
    assert unknown.status_code == 404


async def test_credentials_are_checked_as_on_grpc(door: Door) -> None:
    path = "/memrpc.v1.WorkingMemory/AppendTurns"
    body = {"namespace": NS, "threadId": "a", "turns": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=door.url, timeout=30) as bare:
        none = await bare.post(path, json=body)
        assert none.status_code == 401
        assert reason(none.json()) == "ERROR_REASON_CREDENTIAL_MISSING"
        read_only = await bare.post(
            path, json=body, headers={"Authorization": f"Bearer {door.reader}"}
        )
        assert read_only.status_code == 403
        elsewhere = await bare.post(
            path, json=body, headers={"Authorization": f"Bearer {door.other}"}
        )
        assert elsewhere.status_code == 403
        assert reason(elsewhere.json()) == "ERROR_REASON_NAMESPACE_FORBIDDEN"


async def test_the_request_id_comes_back_as_a_header(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/memrpc.v1.WorkingMemory/GetSession",
        json={"namespace": NS, "threadId": "nobody"},
        headers={"x-request-id": "trace-me-42"},
    )
    assert response.headers["x-request-id"] == "trace-me-42"


async def test_a_tail_streams_events_until_its_deadline(http: httpx.AsyncClient) -> None:
    await call(
        http,
        "/memrpc.v1.EventLog/AppendEvents",
        {"namespace": NS, "threadId": "tail", "events": [{"type": "a"}, {"type": "b"}]},
    )
    messages, end = await stream(
        http,
        "/memrpc.v1.EventLog/TailEvents",
        {"namespace": NS, "cursors": [{"threadId": "tail", "afterEventId": "0-0"}]},
        timeout_ms=1500,
    )
    assert [m["event"]["type"] for m in messages if "event" in m] == ["a", "b"]
    assert end["error"]["code"] == "deadline_exceeded"


async def test_export_and_import_stream_over_http(http: httpx.AsyncClient) -> None:
    await call(
        http,
        "/memrpc.v1.LongTermMemory/CreateMemories",
        {"namespace": NS, "memories": [{"text": "exported over HTTP", "userId": "u2"}]},
    )
    exported, end = await stream(http, "/memrpc.v1.Portability/ExportData", {"namespace": NS})
    assert "error" not in end
    records = [record for message in exported for record in message["records"]]
    assert any(
        r.get("memory", {}).get("memory", {}).get("text") == "exported over HTTP" for r in records
    )
    response = await http.post(
        "/memrpc.v1.Portability/ImportData",
        content=envelope({"namespace": COPY, "records": records}),
        headers=STREAM,
    )
    assert response.status_code == 200, response.text
    [(_, imported), (end_flags, end)] = list(envelopes(response.content))
    assert end_flags == END
    assert "error" not in end
    assert int(imported["imported"]["memories"]) >= 1
    listed = await call(http, "/memrpc.v1.LongTermMemory/ListMemories", {"namespace": COPY})
    assert [m["text"] for m in listed["memories"]] == ["exported over HTTP"]


async def test_binary_protobuf_bodies_are_served_too(http: httpx.AsyncClient) -> None:
    from memrpc.v1 import working_memory_pb2 as wm

    request = wm.GetSessionRequest(namespace=NS, thread_id="nobody")
    response = await http.post(
        "/memrpc.v1.WorkingMemory/GetSession",
        content=request.SerializeToString(),
        headers={"Content-Type": "application/proto"},
    )
    assert response.status_code == 404  # no such session
    assert response.headers["content-type"] == "application/json"  # errors are JSON


def doc_commands() -> list[str]:
    """The shell blocks of docs/http.md, in order."""
    text = (Path(__file__).parent.parent / "docs" / "http.md").read_text()
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


async def test_the_docs_commands_work_as_written(door: Door) -> None:
    commands = doc_commands()
    assert len(commands) == 4
    outputs = []
    for command in commands:
        shell = await asyncio.create_subprocess_exec(
            "bash",
            "-o",
            "pipefail",
            "-ec",
            command.replace("http://127.0.0.1:8080", door.url),
            env={**os.environ, "MEMRPC_KEY": door.root},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(shell.communicate(), 60)
        assert shell.returncode == 0, (command, out, err)
        outputs.append(out.decode())
    session, memories, error, tail = outputs
    assert "I prefer window seats" in session
    assert "The user prefers window seats" in memories.splitlines()[-1]  # recalled
    assert "ERROR_REASON_SESSION_NOT_FOUND" in error
    assert "I prefer window seats" in tail
    assert "deadline_exceeded" in tail
