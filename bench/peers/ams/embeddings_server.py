"""A loopback OpenAI-compatible ``/v1/embeddings`` endpoint serving memrpc's own model.

Runs under memrpc's venv so that Agent Memory Server embeds with the very same
all-MiniLM-L6-v2 (int8, onnxruntime) model, batcher and cache that memrpc uses.
A minimal asyncio HTTP/1.1 server (keep-alive, ``Content-Length`` bodies only),
so memrpc's venv needs no web framework. Answers ``float`` and ``base64``
encodings; token-id inputs are refused.

Usage: ``python embeddings_server.py --port PORT`` (127.0.0.1 only; ``--port 0``
picks a free port and prints it as ``listening PORT`` on stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import signal
from typing import Any

import numpy as np

from memrpc.embedding import Embedder, load_default_embedder

MODEL_NAME = "all-MiniLM-L6-v2"
_MAX_BODY = 16 * 1024 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}


class BadRequest(Exception):
    """The request cannot be answered; carries the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _embeddings(embedder: Embedder, body: bytes) -> dict[str, Any]:
    """Answer one ``/v1/embeddings`` request body as OpenAI would."""
    try:
        request = json.loads(body)
    except ValueError as exc:
        raise BadRequest(400, f"invalid JSON: {exc}") from exc
    if not isinstance(request, dict):
        raise BadRequest(400, "body must be a JSON object")
    texts = request.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise BadRequest(400, "input must be a string or a non-empty list of strings")
    vectors = await embedder.embed(texts)
    as_base64 = request.get("encoding_format") == "base64"
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": (
                base64.b64encode(np.ascontiguousarray(row, dtype="<f4").tobytes()).decode()
                if as_base64
                else row.tolist()
            ),
        }
        for i, row in enumerate(vectors)
    ]
    tokens = sum(len(t.split()) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": request.get("model") or MODEL_NAME,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


async def _answer(embedder: Embedder, method: str, path: str, body: bytes) -> dict[str, Any]:
    """Route one request."""
    path = path.split("?", 1)[0].rstrip("/")
    if method == "POST" and path in ("/v1/embeddings", "/embeddings"):
        return await _embeddings(embedder, body)
    if method == "GET" and path in ("/v1/models", "/models"):
        return {"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]}
    if method == "GET" and path == "/health":
        return {"status": "ok", "dim": embedder.dim}
    raise BadRequest(404, f"no route {method} {path}")


async def _serve_connection(
    embedder: Embedder, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve keep-alive requests on one connection until the peer closes it."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            status = 200
            try:
                if length > _MAX_BODY:
                    raise BadRequest(413, "body too large")
                body = await reader.readexactly(length)
                payload = await _answer(embedder, method, path, body)
            except BadRequest as exc:
                status, payload = exc.status, {"error": {"message": str(exc), "type": "invalid"}}
            data = json.dumps(payload).encode()
            keep_alive = headers.get("connection", "").lower() != "close" and version != "HTTP/1.0"
            writer.write(
                f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n"
                f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
                + data
            )
            await writer.drain()
            if not keep_alive or status == 413:
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    """Load the model, serve on 127.0.0.1:``port`` until SIGTERM or SIGINT."""
    embedder = await asyncio.to_thread(load_default_embedder)
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(embedder, r, w), "127.0.0.1", port
    )
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    await embedder.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))
