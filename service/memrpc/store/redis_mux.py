"""One multiplexed Redis connection for every non-blocking command.

Concurrent calls write their commands to one connection as they come and
take their replies in order (Redis answers a connection's commands in the
order sent), so commands are pipelined with no pool to check out, no lock
and no per-command Python object beyond a future: the per-command cost of a
redis-py pool is what this saves (see docs/performance.md). Commands are
packed and replies parsed by hiredis, in C. An error reply raises the
exception `redis_errors.classify` makes of it (`NoScriptError`,
`BusyLoadingError`, ...; see `store/redis_errors.py`).

A command is sent once and never retried: when the connection drops, the
commands in flight fail with `redis.exceptions.ConnectionError` (their
outcome is unknown), and the next command opens a new connection. A
cancelled command's reply is read and dropped, so the connection stays in
step.

Blocking commands (`XREAD BLOCK`, `XREADGROUP BLOCK`) would stall every
command behind them: they run on a `dedicated()` connection instead.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis
import redis.exceptions

from memrpc.store.redis_errors import classify

Arg = str | bytes | int | float


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Marks a failed connection attempt's error as seen: its callers get it,
    and when they were all cancelled nobody needs it."""
    if not task.cancelled():
        task.exception()


class RedisAddress:
    """Where and how to connect: a `redis://`, `rediss://` or `unix://` URL
    (`redis://[[user]:password@]host[:port][/db]`,
    `unix://[[user]:password@]/path?db=N`)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"unsupported Redis URL scheme {parts.scheme!r} in {url!r}")
        self.path = unquote(parts.path) if parts.scheme == "unix" else None
        self.host = parts.hostname or "localhost"
        self.port = parts.port or 6379
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        db = query.get("db", [""])[0] or (parts.path.strip("/") if parts.scheme != "unix" else "")
        self.db = int(db or 0)
        self.tls = ssl.create_default_context() if parts.scheme == "rediss" else None

    def handshake(self) -> list[tuple[Arg, ...]]:
        """The commands that set a new connection up."""
        commands: list[tuple[Arg, ...]] = []
        if self.password is not None:
            user = (self.username,) if self.username else ()
            commands.append(("AUTH", *user, self.password))
        if self.db:
            commands.append(("SELECT", self.db))
        return commands


class _Protocol(asyncio.Protocol):
    """Replies matched to the futures of the commands, in order."""

    def __init__(self) -> None:
        self._reader = hiredis.Reader(replyError=classify)
        self._pending: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._transport: asyncio.Transport | None = None
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not `asyncio.Transport` subclasses).
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        pending = self._pending
        while (reply := reader.gets()) is not False:
            future = pending.popleft()
            if future.done():  # cancelled: its reply is dropped
                continue
            if isinstance(reply, redis.exceptions.RedisError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = redis.exceptions.ConnectionError(
            f"connection to Redis lost{f': {exc}' if exc else ''}"
        )
        while self._pending:
            future = self._pending.popleft()
            if not future.done():
                future.set_exception(self.lost)
                # Nobody may be waiting any more (a cancelled caller).
                future.exception()

    def send(self, args: tuple[Arg, ...]) -> asyncio.Future[Any]:
        """Writes one command; its reply will be the future's result."""
        if self.lost is not None or self._transport is None:
            raise self.lost or redis.exceptions.ConnectionError("not connected to Redis")
        future = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        # hiredis types its argument as a 1-tuple; it takes any length.
        self._transport.write(hiredis.pack_command(args))  # type: ignore[arg-type]
        return future

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class Connection:
    """One Redis connection; commands on it are pipelined."""

    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol

    @classmethod
    async def open(cls, address: RedisAddress, *, connect_timeout: float) -> Connection:
        """Connects and runs the handshake (AUTH, SELECT)."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_timeout):
                if address.path is not None:
                    _, protocol = await loop.create_unix_connection(_Protocol, address.path)
                else:
                    _, protocol = await loop.create_connection(
                        _Protocol, address.host, address.port, ssl=address.tls
                    )
                connection = cls(protocol)
                for command in address.handshake():
                    await connection.execute(*command)
        except (OSError, TimeoutError) as exc:
            raise redis.exceptions.ConnectionError(f"cannot connect to Redis: {exc}") from exc
        return connection

    @property
    def usable(self) -> bool:
        """False once the connection is lost or closed."""
        return self._protocol.lost is None

    def execute(self, *args: Arg) -> asyncio.Future[Any]:
        """Sends one command now; await the result for its reply. An error
        reply raises its typed exception (`redis_errors.classify`)."""
        return self._protocol.send(args)

    def close(self) -> None:
        """Closes the connection; commands in flight fail."""
        self._protocol.close()


class RedisMux:
    """Every non-blocking command of the server, on one shared connection,
    reconnected on demand."""

    def __init__(self, url: str, *, connect_timeout: float = 2.0) -> None:
        self.address = RedisAddress(url)
        self._connect_timeout = connect_timeout
        self._connection: Connection | None = None
        self._connecting: asyncio.Task[Connection] | None = None

    async def execute(self, *args: Arg) -> Any:
        """One command's reply. An error reply raises its typed exception
        (`redis_errors.classify`: a `redis.exceptions.ResponseError`, or a
        `RedisUnavailable` for the codes that mean "retry later"), and
        `redis.exceptions.ConnectionError` is raised when Redis cannot be
        reached or the connection drops before the reply."""
        connection = self._connection
        if connection is None or not connection.usable:
            connection = await self._connect()
        return await connection.execute(*args)

    async def _connect(self) -> Connection:
        # Concurrent callers share one attempt; a cancelled caller does not
        # cancel it for the others.
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
            self._connecting.add_done_callback(_retrieve)
        return await asyncio.shield(self._connecting)

    async def _open(self) -> Connection:
        try:
            self._connection = await Connection.open(
                self.address, connect_timeout=self._connect_timeout
            )
            return self._connection
        finally:
            self._connecting = None

    @contextlib.asynccontextmanager
    async def dedicated(self) -> AsyncIterator[Connection]:
        """A connection of its own for blocking commands, closed on exit (so
        a cancelled blocking read leaves no reply behind on a shared one)."""
        connection = await Connection.open(self.address, connect_timeout=self._connect_timeout)
        try:
            yield connection
        finally:
            connection.close()

    async def aclose(self) -> None:
        """Closes the shared connection."""
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(BaseException):
                await self._connecting
        if self._connection is not None:
            self._connection.close()
            self._connection = None
