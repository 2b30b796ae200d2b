"""`memrpc demo`: the agent-memory pattern in a browser, live over memrpc.

A small web app on loopback that talks to a memrpc server only through its
public gRPC API, with the Python async client (`memrpc.client`): started
against an embedded server when no `--target` is given, so one command
shows the whole product. The page (`demo_static/`: plain HTML, CSS and
JavaScript, nothing fetched from elsewhere) sends turns through the seed
flow of an agent step, and shows working memory, recall with distances, the
write-time deduplication of what is remembered, the thread's event log live
(`TailEvents` relayed as server-sent events), the long-term memories and
what the background jobs did.

| route                      | does                                               |
|----------------------------|----------------------------------------------------|
| `GET /`, `/static/<file>`  | the page                                           |
| `GET /api/state`           | session, memories (`ListMemories`), jobs' changes  |
| `POST /api/turn`           | `GetContext`, `AppendTurns`, `CreateMemories`      |
| `POST /api/goal`           | `UpdateSession` (the goal)                         |
| `POST /api/seed`           | `CreateMemories` of eight example memories         |
| `POST /api/pin`            | `UpdateMemory` (pinned)                            |
| `POST /api/delete`         | `DeleteMemory`                                     |
| `POST /api/reset`          | `Administration.DeleteNamespace`, until done       |
| `GET /api/events`          | `TailEvents` of the thread and the jobs' thread    |

A failed call answers JSON `{"error": {"code", "reason", "message"}}` with
an HTTP status for its gRPC code, which the page shows.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import grpc
from aiohttp import web
from google.protobuf import field_mask_pb2, json_format
from google.protobuf.message import Message

from memrpc.client import AsyncMemoryClient, error_info
from memrpc.store.memory_changes import CHANGES_THREAD
from memrpc.v1 import administration_pb2 as adm
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm

log = logging.getLogger("memrpc.demo")
STATIC = Path(__file__).resolve().parent / "demo_static"
# Memories the table lists, newest first.
LISTED_MEMORIES = 200
# Candidates recalled per turn: every one is shown, with its distance, and
# those within the page's threshold marked.
RECALLED = 10
# The user and the memories "load the seed memories" writes.
SEED_MEMORIES = [
    ("Prefers window seats on long flights", ltm.MEMORY_KIND_SEMANTIC),
    ("Is vegetarian and avoids mushrooms", ltm.MEMORY_KIND_SEMANTIC),
    ("Works as a data engineer in Lisbon", ltm.MEMORY_KIND_SEMANTIC),
    ("Their daughter Maya is allergic to peanuts", ltm.MEMORY_KIND_SEMANTIC),
    ("Likes short answers in bullet points", ltm.MEMORY_KIND_SEMANTIC),
    ("Planned a trip to Kyoto for the cherry blossom season", ltm.MEMORY_KIND_EPISODIC),
    ("Asked for help moving a Postgres database to Redis", ltm.MEMORY_KIND_EPISODIC),
    ("Booked an Italian restaurant for their anniversary on 12 May", ltm.MEMORY_KIND_EPISODIC),
]
_KINDS = {"episodic": ltm.MEMORY_KIND_EPISODIC, "semantic": ltm.MEMORY_KIND_SEMANTIC}
_MODES = {
    "hybrid": ltm.RECALL_MODE_HYBRID,
    "vector": ltm.RECALL_MODE_VECTOR,
    "keyword": ltm.RECALL_MODE_KEYWORD,
}
# The HTTP status of each gRPC code the page may meet; any other is 502.
_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def as_json(message: Message) -> dict[str, Any]:
    """A message as the page reads it: proto3 JSON, field names as in the proto."""
    found: dict[str, Any] = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return found


class BadRequest(Exception):
    """A request the page should not have sent (HTTP 400)."""


def _error(status: int, code: str, reason: str, message: str) -> web.Response:
    body = {"error": {"code": code, "reason": reason, "message": message}}
    return web.json_response(body, status=status)


def _handled(
    serve: Callable[[Demo, web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[Demo, web.Request], Awaitable[web.StreamResponse]]:
    """`serve` answering a failed call, or a bad request, as a JSON error."""

    async def handled(demo: Demo, request: web.Request) -> web.StreamResponse:
        try:
            return await serve(demo, request)
        except grpc.aio.AioRpcError as err:
            info = error_info(err)
            status = _HTTP_STATUS.get(err.code(), 502)
            return _error(status, err.code().name, info.reason if info else "", err.details() or "")
        except (BadRequest, ValueError, KeyError) as err:
            return _error(400, "BAD_REQUEST", "", f"bad request: {err}")

    return handled


class Demo:
    """The web app: one memrpc client per namespace the page uses."""

    def __init__(self, target: str, token: str | None) -> None:
        self.target = target
        self._token = token
        self._clients: dict[str, AsyncMemoryClient] = {}

    def client(self, ns: str) -> AsyncMemoryClient:
        """The client of namespace `ns`."""
        if not ns:
            raise BadRequest("a namespace is needed")
        if ns not in self._clients:
            self._clients[ns] = AsyncMemoryClient(self.target, namespace=ns, token=self._token)
        return self._clients[ns]

    async def close(self) -> None:
        """Closes every client."""
        for client in self._clients.values():
            await client.close()

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()

        def route(
            serve: Callable[[Demo, web.Request], Awaitable[web.StreamResponse]],
        ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
            async def handler(request: web.Request) -> web.StreamResponse:
                return await serve(self, request)

            return handler

        app.router.add_get("/", route(_index))
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/state", route(_state))
        app.router.add_get("/api/events", route(_events))
        app.router.add_post("/api/turn", route(_turn))
        app.router.add_post("/api/goal", route(_goal))
        app.router.add_post("/api/seed", route(_seed))
        app.router.add_post("/api/pin", route(_pin))
        app.router.add_post("/api/delete", route(_delete))
        app.router.add_post("/api/reset", route(_reset))

        async def close(_app: web.Application) -> None:
            await self.close()

        app.on_cleanup.append(close)
        return app


async def _body(request: web.Request) -> dict[str, Any]:
    found = await request.json()
    if not isinstance(found, dict):
        raise BadRequest("the body must be a JSON object")
    return found


async def _index(demo: Demo, request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


@_handled
async def _state(demo: Demo, request: web.Request) -> web.StreamResponse:
    """The thread's session, the namespace's memories, the jobs' changes."""
    client = demo.client(request.query.get("ns", ""))
    thread = request.query.get("thread", "")
    session = await client.get_session(thread) if thread else None
    memories = await client.long_term.ListMemories(
        ltm.ListMemoriesRequest(namespace=client.namespace, page_size=LISTED_MEMORIES),
        timeout=client.timeout,
    )
    return web.json_response(
        {
            "session": as_json(session) if session is not None else None,
            "memories": [as_json(memory) for memory in memories.memories],
        }
    )


@_handled
async def _turn(demo: Demo, request: web.Request) -> web.StreamResponse:
    """One agent step: recall for the turn, append it, remember it."""
    body = await _body(request)
    client = demo.client(str(body["ns"]))
    thread, user, text = str(body["thread"]), str(body["user"]), str(body["text"])
    threshold = float(body.get("distance", 0.55))
    context = await client.working.GetContext(
        wm.GetContextRequest(
            namespace=client.namespace,
            thread_id=thread,
            text=text,
            filter=ltm.MemoryFilter(user_ids=[user]),
            limit=RECALLED,
            max_distance=2.0,  # every candidate: the page marks those within the threshold
            mode=_MODES[str(body.get("mode", "hybrid"))],
        ),
        timeout=client.timeout,
    )
    appended = await client.append_turns(
        thread,
        [(str(body.get("role", "user")), text)],
        user_id=user,
        max_window_turns=int(body.get("window", 0)),
    )
    remembered = None
    kind = str(body.get("kind", "none"))
    if kind != "none":
        [result] = await client.remember(
            ltm.MemoryInput(text=text, user_id=user, kind=_KINDS[kind], thread_id=thread)
        )
        remembered = as_json(result)
    return web.json_response(
        {
            "matches": [
                {**as_json(match), "within": match.distance <= threshold}
                for match in context.matches
            ],
            "appended": as_json(appended),
            "remembered": remembered,
            "session": as_json(await client.get_session(thread) or wm.Session()),
        }
    )


@_handled
async def _goal(demo: Demo, request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    client = demo.client(str(body["ns"]))
    session = await client.update_session(
        str(body["thread"]), goal=str(body["goal"]), user_id=str(body["user"])
    )
    return web.json_response({"session": as_json(session)})


@_handled
async def _seed(demo: Demo, request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    client = demo.client(str(body["ns"]))
    user = str(body["user"])
    results = await client.remember(
        *(ltm.MemoryInput(text=text, user_id=user, kind=kind) for text, kind in SEED_MEMORIES)
    )
    return web.json_response({"results": [as_json(result) for result in results]})


@_handled
async def _pin(demo: Demo, request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    client = demo.client(str(body["ns"]))
    updated = await client.long_term.UpdateMemory(
        ltm.UpdateMemoryRequest(
            namespace=client.namespace,
            memory_id=str(body["id"]),
            memory=ltm.MemoryInput(pinned=bool(body["pinned"])),
            update_mask=field_mask_pb2.FieldMask(paths=["pinned"]),
        ),
        timeout=client.timeout,
    )
    return web.json_response({"memory": as_json(updated.memory)})


@_handled
async def _delete(demo: Demo, request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    client = demo.client(str(body["ns"]))
    await client.long_term.DeleteMemory(
        ltm.DeleteMemoryRequest(namespace=client.namespace, memory_id=str(body["id"])),
        timeout=client.timeout,
    )
    return web.json_response({})


@_handled
async def _reset(demo: Demo, request: web.Request) -> web.StreamResponse:
    """Deletes the namespace (bounded calls, until done)."""
    body = await _body(request)
    client = demo.client(str(body["ns"]))
    deleted = 0
    for _ in range(1000):
        done = await client.administration.DeleteNamespace(
            adm.DeleteNamespaceRequest(namespace=client.namespace), timeout=30
        )
        deleted += done.deleted_keys
        if done.done:
            return web.json_response({"deleted_keys": deleted})
    raise BadRequest("the namespace is still being deleted: reset again")


@_handled
async def _events(demo: Demo, request: web.Request) -> web.StreamResponse:
    """Server-sent events: every event of the thread and of the jobs'
    thread (`memrpc.memories`), from the first, then live; a comment line
    on each checkpoint keeps the connection open."""
    client = demo.client(request.query.get("ns", ""))
    thread = request.query.get("thread", "")
    if not thread:
        raise BadRequest("a thread is needed")
    # The client's tail is an async generator: closing it cancels the call.
    tail = cast(
        AsyncGenerator[Any, None],
        client.tail({thread: "0", CHANGES_THREAD: "0"}, heartbeat_interval=10.0),
    )
    first = await anext(tail)  # the first checkpoint: the tail is open (or its error)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)

    async def send(found: Any) -> None:
        if found.WhichOneof("message") == "event":
            data = json.dumps(as_json(found.event))
            await response.write(f"event: memrpc\ndata: {data}\n\n".encode())
        else:
            await response.write(b": checkpoint\n\n")

    try:
        await send(first)
        async for found in tail:
            await send(found)
    except (grpc.aio.AioRpcError, ConnectionResetError) as err:
        log.info("events of %s/%s ended: %s", client.namespace, thread, err)
    finally:
        await tail.aclose()
    return response


class Running:
    """The demo serving on a socket of its own (`start`)."""

    def __init__(self, runner: web.AppRunner, url: str) -> None:
        self._runner = runner
        self.url = url

    async def stop(self) -> None:
        """Stops serving; open event streams end."""
        await self._runner.cleanup()


async def start(target: str, token: str | None, listen: socket.socket) -> Running:
    """Serves the demo of the memrpc at `target` on `listen`, a bound TCP
    socket (port 0 picks a free one)."""
    runner = web.AppRunner(Demo(target, token).app(), shutdown_timeout=1.0)
    await runner.setup()
    await web.SockSite(runner, listen).start()
    host, port = listen.getsockname()[:2]
    return Running(runner, f"http://{host}:{port}/")
