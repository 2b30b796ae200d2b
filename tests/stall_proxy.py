"""A loopback TCP proxy in front of a server (a Redis, or a memrpc named by a
`redis://host:port` URL) whose established connections can be made to go
silent, as a proxy or a network path that stops forwarding does, or a host
that vanished, while new connections through it still work.

`stall()` stops every connection open at that moment: it forwards nothing
more in either direction and reads no more than the chunk it holds (so the
peers' kernel buffers fill), yet stays open until the proxy closes. Connections accepted
afterwards forward normally.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from memrpc.store.redis_mux import RedisAddress

CHUNK = 64 * 1024


class StallingProxy:
    """Forwards 127.0.0.1:`port` to the Redis at `redis_url`; `stall()` makes
    the connections open now silent for good."""

    def __init__(self, redis_url: str) -> None:
        self._target = RedisAddress(redis_url)
        self._server: asyncio.Server | None = None
        # Per connection: the event that lets it forward, and its sockets.
        self._flowing: list[asyncio.Event] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._pumps: set[asyncio.Task[None]] = set()
        self.port = 0
        self.accepted = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    async def __aenter__(self) -> StallingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()

    def stall(self) -> None:
        """Every connection open now stops forwarding and reading, for good."""
        for flowing in self._flowing:
            flowing.clear()
        self._flowing = []

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        target = self._target
        if target.path is not None:
            upstream = await asyncio.open_unix_connection(target.path)
        else:
            upstream = await asyncio.open_connection(target.host, target.port)
        flowing = asyncio.Event()
        flowing.set()
        self._flowing.append(flowing)
        self._writers += [writer, upstream[1]]
        for source, sink in ((reader, upstream[1]), (upstream[0], writer)):
            pump = asyncio.create_task(self._pump(source, sink, flowing))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    @staticmethod
    async def _pump(
        source: asyncio.StreamReader, sink: asyncio.StreamWriter, flowing: asyncio.Event
    ) -> None:
        """Forwards until end of file, or for as long as the stall lasts."""
        with contextlib.suppress(ConnectionError):
            while data := await source.read(CHUNK):
                await flowing.wait()
                sink.write(data)
                await sink.drain()
        sink.close()
