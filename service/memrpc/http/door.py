"""Serving memrpc's methods over HTTP/1.1 (`--http-listen`), in the
server's process and event loop, next to gRPC.

The protocol is Connect's (connectrpc.com/docs/protocol), spoken by
`connectrpc`: a unary call is a `POST /<service>/<method>` with a JSON
(`application/json`) or binary (`application/proto`) body, answered with
the response or a JSON error; a server stream (`TailEvents`, `ExportData`)
and a client stream (`ImportData`) are enveloped messages
(`application/connect+json`); gRPC-Web clients (browsers) are served too.
uvicorn runs the ASGI application on a socket bound here, without its own
signal handling (memrpc's drain and stop apply) or logging setup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import uvicorn
from connectrpc.server import ConnectASGIApplication

from memrpc.http.codecs import BinaryCodec, JsonCodec
from memrpc.http.endpoints import endpoints
from memrpc.listening import listening_socket
from memrpc.rpc.pipeline import Pipeline

# uvicorn's own lines (started, shutting down) repeat memrpc's at INFO.
logging.getLogger("uvicorn.error").setLevel(logging.WARNING)


class _Application(ConnectASGIApplication[None]):
    """memrpc's Connect endpoints, at the root."""

    def __init__(self, served: Mapping[str, Any], max_bytes: int) -> None:
        super().__init__(
            service=None,
            endpoints=lambda _: served,
            read_max_bytes=max_bytes,
            codecs=[BinaryCodec(), JsonCodec()],
        )

    @property
    def path(self) -> str:
        return "/"


class _Server(uvicorn.Server):
    """uvicorn's server, leaving the process's signals to memrpc, and
    saying when it has started."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


class HttpDoor:
    """The HTTP door on `listen` (`host:port`, port 0: any free one)."""

    def __init__(
        self,
        pipeline: Pipeline,
        service_names: Iterable[str],
        *,
        listen: str,
        tls: ssl.SSLContext | None,
        max_message_bytes: int,
        reuse_port: bool = False,
    ) -> None:
        self._app = _Application(endpoints(pipeline, service_names), max_message_bytes)
        self._listen = listen
        self._tls = tls
        # Workers share the address (`--workers`), as they do gRPC's.
        self._reuse_port = reuse_port
        self._server: _Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> None:
        """Binds the socket (raising `OSError` if it cannot) and serves."""
        sock = listening_socket(self._listen, reuse_port=self._reuse_port)
        self.port = sock.getsockname()[1]
        tls = self._tls
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            ssl_context_factory=None if tls is None else lambda _config, _default: tls,
        )
        self._server = _Server(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        listening = asyncio.ensure_future(self._server.listening.wait())
        await asyncio.wait((listening, self._serving), return_when=asyncio.FIRST_COMPLETED)
        if self._serving.done():
            listening.cancel()
            self._serving.result()  # raises why it could not start
            raise OSError(f"the HTTP server on {self._listen} stopped as it started")

    async def stop(self, grace: float) -> None:
        """Stops accepting requests; calls in flight get up to `grace`
        seconds (streams end with the server's drain)."""
        if self._server is None or self._serving is None:
            return
        self._server.config.timeout_graceful_shutdown = max(1, round(grace))
        self._server.should_exit = True
        await self._serving
