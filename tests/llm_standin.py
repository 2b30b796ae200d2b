"""A scripted stand-in for a language model, for tests only.

memrpc's language-model client (`memrpc/llm/openai.py`) speaks the
OpenAI-compatible chat-completions API that vLLM, Ollama, llama.cpp's server
and hosted APIs serve. No model runs here: this is a small HTTP server on a
free loopback port that answers `POST /v1/chat/completions` as a model
would, from a script:

- `StandIn.script(...)` queues replies, taken one per request, oldest first:
  a completion of given content (`content`, `json_reply`), or a failure
  (`malformed`, `slow`, `rate_limited`, `server_error`, `status`);
- with the queue empty it answers by simple rules (`rules_reply`) from the
  task the request names (its `response_format` schema's name, else the
  keys of its input) and the JSON input of its last user message:
  extracted facts are the user's turns' sentences in the first person; a
  summary is the summary so far and each turn's first sentence; an older
  fact is contradicted by a newer one that differs from it in its last word
  only.

Every request is recorded (`requests`): its path, headers and JSON body.
The `llm_standin` fixture (tests/conftest.py) starts one per test.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
# How long a slow reply may hold its thread after the stand-in is closed.
_CLOSE_WAIT_S = 5.0
_SENTENCE = re.compile(r"[^.!?]+[.!?]?")
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|my|My|me)\b")


@dataclass(frozen=True)
class Reply:
    """One scripted answer: an HTTP status, headers and body, after a delay."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Request:
    """A request the stand-in received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def task(self) -> str:
        """The name of the schema the reply was asked to follow; without
        one, the task its input's keys tell ('' for none)."""
        schema = (self.body.get("response_format") or {}).get("json_schema") or {}
        if "name" in schema:
            return str(schema["name"])
        given = self.input if isinstance(self.input, dict) else {}
        for task, key in (("summary", "summary"), ("contradicted", "newer"), ("facts", "turns")):
            if key in given:
                return task
        return ""

    @property
    def input(self) -> Any:
        """The JSON of the last user message (None when it is not JSON)."""
        users = [m for m in self.body.get("messages", []) if m.get("role") == "user"]
        try:
            return json.loads(users[-1]["content"])
        except (IndexError, KeyError, ValueError):
            return None


def content(text: str, *, prompt_tokens: int = 11, completion_tokens: int = 7) -> Reply:
    """A completion whose message holds `text`, with its token usage."""
    body = {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "model": "standin",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return Reply(body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def json_reply(value: Any) -> Reply:
    """A completion whose message is `value` as JSON."""
    return content(json.dumps(value))


def malformed() -> Reply:
    """A completion whose message is not JSON, as small models write."""
    return content('Sure! Here are the facts: {"facts": ["The user')


def slow(delay_s: float, then: Reply | None = None) -> Reply:
    """`then` (by default an empty fact list) after `delay_s` seconds: past
    the client's time-out when that is shorter."""
    reply = then or json_reply({"facts": []})
    return Reply(reply.status, reply.body, reply.headers, delay_s)


def status(code: int, *, headers: dict[str, str] | None = None) -> Reply:
    """An HTTP error `code` with an OpenAI-style error body."""
    body = json.dumps({"error": {"message": f"stand-in error {code}", "code": code}})
    return Reply(code, body.encode(), {"Content-Type": "application/json", **(headers or {})})


def rate_limited(retry_after: str | None = None) -> Reply:
    """429 Too Many Requests, with `Retry-After` when given."""
    return status(429, headers={"Retry-After": retry_after} if retry_after is not None else {})


def server_error() -> Reply:
    """500 Internal Server Error."""
    return status(500)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def rules_reply(request: Request) -> Reply:
    """The answer of the simple rules to a request naming its task."""
    given = request.input if isinstance(request.input, dict) else {}
    if request.task == "facts":
        facts = [
            sentence
            for turn in given.get("turns", [])
            if turn.get("role") == "user"
            for sentence in _sentences(turn.get("content", ""))
            if _FIRST_PERSON.search(sentence)
        ]
        return json_reply({"facts": facts})
    if request.task == "summary":
        parts = [given.get("summary", "")] + [
            (_sentences(turn.get("content", "")) or [""])[0] for turn in given.get("turns", [])
        ]
        text = " ".join(p for p in parts if p)[: int(given.get("max_chars", 200))]
        return json_reply({"summary": text})
    if request.task == "contradicted":
        newer = given.get("newer", "").rstrip(".").split()
        indexes = [
            i
            for i, older in enumerate(given.get("older", []))
            if older.rstrip(".").split()[:-1] == newer[:-1] and older.rstrip(".").split() != newer
        ]
        return json_reply({"contradicted": indexes})
    return status(400)


class StandIn:
    """The stand-in server, on a thread of its own; `url` is its base URL
    (what `--llm-url` takes)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/v1"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stops serving; slow replies in progress end at once."""
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(_CLOSE_WAIT_S)

    def script(self, *replies: Reply) -> None:
        """Queues replies, one per request to come."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def scripted(self) -> int:
        """Scripted replies not taken yet."""
        with self._lock:
            return len(self._queue)

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        return rules_reply(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                request = Request(self.path, dict(self.headers.items()), body)
                reply = standin._next(request) if self.path == CHAT_PATH else status(404)
                if reply.delay_s and standin._closed.wait(reply.delay_s):
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its time-out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
