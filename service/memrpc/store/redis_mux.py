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

A connection that goes silent (a proxy or a network path that stops
forwarding, while the socket stays open) must not wedge the server:

- **Command timeout.** Each command has a deadline: the command timeout
  after it is sent (plus its blocking wait, for a blocking read). Replies
  come in order, so a reply missing past its deadline means every later
  one is stuck behind it: the connection is wedged. One timer per
  connection watches the oldest command in flight (re-armed only when it
  fires, so not one timer per command). When that command is overdue, it
  fails with `CommandTimeout` (a `redis.exceptions.TimeoutError`), every
  other command in flight with `ConnectionError` (outcomes unknown), and the
  connection is aborted; the next command opens a new one. A cancelled
  command (a health check's PING given up after 1 s) still waits for its
  reply, so it is watched too: a silent connection is detected even when
  its callers have gone.
- **TCP keepalive** on every TCP connection (`KEEPALIVE_*`), so that a peer
  gone without a FIN or RST (a host down, a path cut) is noticed even
  while no command is in flight.
- **Reconnection with backoff.** Concurrent callers share one connection
  attempt. After a failed one, commands fail at once with the last error
  until the next attempt is due (`RECONNECT_*`, doubling): a down Redis
  is not hammered once per command.

With tracing on, each command made during a traced call has a span of its
own (`telemetry/tracing.py`), named for the command (`EVALSHA <script>` for
a script); with it off, a command pays one attribute test.

Callers hold a `RedisClient`: a `RedisMux`, or a `ClusterMux` for a Redis
Cluster (`store/cluster_mux.py`), which keeps one `RedisMux` per primary
and times each command once (`timed`) however many nodes it took.

The shared connection's loss, a failed reconnection and the reconnection
are each logged once (`memrpc.redis`), not per command. Failures to connect
a first time are the caller's to report (start-up waits for Redis and logs
its tries: `memrpc/redis_check.py`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import functools
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis
import redis.exceptions

from memrpc import metrics
from memrpc.backoff import RestartBackoff
from memrpc.store.redis_errors import CommandTimeout, classify
from memrpc.telemetry import tracing

log = logging.getLogger("memrpc.redis")

Arg = str | bytes | int | float
# TCP keepalive of every connection: probes after 15 s idle, every 5 s; the
# connection is dropped after 3 unanswered, 30 s after the peer went away.
KEEPALIVE_IDLE_S = 15
KEEPALIVE_INTERVAL_S = 5
KEEPALIVE_PROBES = 3
# The delays before connecting again after a failed attempt: the first,
# doubled up to the last (reset once a connection stayed up for 30 s).
RECONNECT_FIRST_S = 0.05
RECONNECT_LAST_S = 1.0


def retrieve(task: asyncio.Future[Any]) -> None:
    """Marks a future's error as seen (a done callback): its awaiters get
    it, and when there are none (all cancelled) nobody needs it."""
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
        # Where it is, for logs: no credentials.
        self.where = self.path or f"{self.host}:{self.port}"

    def at(self, host: str, port: int) -> RedisAddress:
        """The same credentials and TLS at another TCP address, database 0:
        a node of a cluster (`store/cluster_mux.py`) named by another."""
        other = copy.copy(self)
        other.path, other.host, other.port, other.db = None, host, port, 0
        other.where = f"{host}:{port}"
        return other

    def handshake(self) -> list[tuple[Arg, ...]]:
        """The commands that set a new connection up."""
        commands: list[tuple[Arg, ...]] = []
        if self.password is not None:
            user = (self.username,) if self.username else ()
            commands.append(("AUTH", *user, self.password))
        if self.db:
            commands.append(("SELECT", self.db))
        return commands


# Called once when a connection is lost, with the exception its commands got.
OnLost = Callable[[redis.exceptions.ConnectionError], None]


def _keepalive(transport: asyncio.BaseTransport) -> None:
    """Turns TCP keepalive on for a TCP connection's socket."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)


class _Protocol(asyncio.Protocol):
    """Replies matched to the futures of the commands, in order; the
    connection aborted when the oldest command's reply is overdue."""

    def __init__(self, command_timeout: float, on_lost: OnLost | None) -> None:
        self._reader = hiredis.Reader(replyError=classify)
        self._pending: collections.deque[asyncio.Future[Any]] = collections.deque()
        # The loop time by which each pending command's reply is due.
        self._deadlines: collections.deque[float] = collections.deque()
        self._loop = asyncio.get_running_loop()
        self._timeout = command_timeout
        self._watchdog: asyncio.TimerHandle | None = None
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self.lost: redis.exceptions.ConnectionError | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not `asyncio.Transport` subclasses).
        self._transport = cast(asyncio.Transport, transport)
        _keepalive(transport)

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        pending = self._pending
        while (reply := reader.gets()) is not False:
            future = pending.popleft()
            self._deadlines.popleft()
            if future.done():  # cancelled: its reply is dropped
                continue
            if isinstance(reply, redis.exceptions.RedisError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(
            redis.exceptions.ConnectionError(f"connection to Redis lost{f': {exc}' if exc else ''}")
        )

    def send(self, args: tuple[Arg, ...], wait: float) -> asyncio.Future[Any]:
        """Writes one command, due `wait` seconds plus the command timeout
        from now; its reply will be the future's result."""
        if self.lost is not None or self._transport is None:
            raise self.lost or redis.exceptions.ConnectionError("not connected to Redis")
        future = self._loop.create_future()
        deadline = self._loop.time() + self._timeout + wait
        self._pending.append(future)
        self._deadlines.append(deadline)
        if self._watchdog is None:
            self._watchdog = self._loop.call_at(deadline, self._watch)
        # hiredis types its argument as a 1-tuple; it takes any length.
        self._transport.write(hiredis.pack_command(args))  # type: ignore[arg-type]
        return future

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _watch(self) -> None:
        """Aborts the connection if the oldest command's reply is overdue;
        otherwise watches the oldest command now in flight."""
        self._watchdog = None
        if not self._pending:
            return
        if self._loop.time() < self._deadlines[0]:
            self._watchdog = self._loop.call_at(self._deadlines[0], self._watch)
            return
        overdue = self._pending[0]
        if not overdue.done():
            overdue.set_exception(
                CommandTimeout(
                    f"no reply from Redis within {self._timeout:g} s (the command timeout, "
                    "after any blocking wait); the connection was closed, the command's "
                    "outcome is unknown"
                )
            )
            overdue.exception()  # its caller may have gone
        self._end(
            redis.exceptions.ConnectionError(
                f"connection to Redis closed: a reply was overdue by the {self._timeout:g} s "
                "command timeout, so no later one would come"
            )
        )
        assert self._transport is not None
        self._transport.abort()

    def _end(self, lost: redis.exceptions.ConnectionError) -> None:
        """Fails the commands in flight with `lost`, once."""
        if self.lost is not None:
            return
        self.lost = lost
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._pending:
            future = self._pending.popleft()
            if not future.done():
                future.set_exception(lost)
                # Nobody may be waiting any more (a cancelled caller).
                future.exception()
        self._deadlines.clear()
        if self._on_lost is not None:
            self._on_lost(lost)


class Connection:
    """One Redis connection; commands on it are pipelined."""

    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol

    @classmethod
    async def open(
        cls,
        address: RedisAddress,
        *,
        connect_timeout: float,
        command_timeout: float,
        on_lost: OnLost | None = None,
    ) -> Connection:
        """Connects and runs the handshake (AUTH, SELECT). A command without
        a reply within `command_timeout` (after its blocking wait) fails
        with `CommandTimeout` and closes the connection; `on_lost` is called
        once the connection is lost."""
        loop = asyncio.get_running_loop()
        factory = functools.partial(_Protocol, command_timeout, on_lost)
        try:
            async with asyncio.timeout(connect_timeout):
                if address.path is not None:
                    _, protocol = await loop.create_unix_connection(factory, address.path)
                else:
                    _, protocol = await loop.create_connection(
                        factory, address.host, address.port, ssl=address.tls
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

    def execute(self, *args: Arg, wait: float = 0.0) -> asyncio.Future[Any]:
        """Sends one command now; await the result for its reply. An error
        reply raises its typed exception (`redis_errors.classify`). `wait`:
        the seconds a blocking command may wait in Redis, before its command
        timeout starts."""
        return self._protocol.send(args, wait)

    def close(self) -> None:
        """Closes the connection; commands in flight fail."""
        self._protocol.close()


def _name_of(args: tuple[Arg, ...], script: str | None) -> str:
    """A command's name in spans and metrics: `HGETALL`, `EVALSHA <script>`."""
    command = str(args[0])
    return command if script is None else f"{command} {script}"


def _span_of(args: tuple[Arg, ...], script: str | None) -> tuple[str, dict[str, str]]:
    """The name and attributes of a command's span."""
    attributes = {"db.system.name": "redis", "db.operation.name": str(args[0])}
    if script is None:
        return _name_of(args, script), attributes
    return _name_of(args, script), {**attributes, "memrpc.script": script}


def timed(args: tuple[Arg, ...], script: str | None, reply: Awaitable[Any]) -> Awaitable[Any]:
    """`reply`, the reply of the command `args`, timed and counted by the
    command's name in the metrics when they are on (`script`: the name of
    the script an `EVALSHA` runs); `reply` itself when they are off, so an
    untimed command costs no extra coroutine."""
    return _timed(args, script, reply) if metrics.enabled() else reply


async def _timed(args: tuple[Arg, ...], script: str | None, reply: Awaitable[Any]) -> Any:
    started = time.monotonic()
    try:
        result = await reply
    except Exception as exc:
        metrics.redis_command(_name_of(args, script), time.monotonic() - started, exc)
        raise
    metrics.redis_command(_name_of(args, script), time.monotonic() - started, None)
    return result


def traced(args: tuple[Arg, ...], script: str | None, reply: Awaitable[Any]) -> Awaitable[Any]:
    """`reply`, the reply of the command `args` sent on one connection,
    awaited in a span of its own under the call's when tracing is on;
    `reply` itself when it is off."""
    return reply if tracing.tracer is None else _traced(args, script, reply)


async def _traced(args: tuple[Arg, ...], script: str | None, reply: Awaitable[Any]) -> Any:
    with tracing.child(*_span_of(args, script)):
        return await reply


class RedisClient(Protocol):
    """What the server holds to talk to Redis: a `RedisMux` (one node) or a
    `ClusterMux` (a Redis Cluster, `store/cluster_mux.py`)."""

    @property
    def where(self) -> str:
        """Where Redis is, for logs: no credentials."""
        ...

    async def execute(self, *args: Arg, script: str | None = None) -> Any:
        """One command's reply (see `RedisMux.execute`)."""
        ...

    async def execute_at(self, key: Arg | None, *args: Arg) -> Any:
        """A command without keys, on the node of `key` (that of
        `dedicated(key)`): on one node, `execute`."""
        ...

    async def keys_per_primary(self, name: str) -> list[str]:
        """One key per primary, each `name` tagged so that its primary
        serves it: on one node, `[name]`."""
        ...

    async def key_on(self, key: Arg, name: str) -> str:
        """`name` tagged so that the primary of `key` serves it too (its
        key of `keys_per_primary(name)`): on one node, `name`."""
        ...

    def dedicated(self, key: Arg | None = None) -> AbstractAsyncContextManager[Connection]:
        """A connection of its own for blocking commands on `key`."""
        ...

    async def aclose(self) -> None:
        """Closes every connection."""
        ...


class RedisMux:
    """Every non-blocking command of the server, on one shared connection,
    reconnected on demand."""

    def __init__(
        self,
        url: str | RedisAddress,
        *,
        connect_timeout: float = 2.0,
        command_timeout: float = 5.0,
    ) -> None:
        self.address = url if isinstance(url, RedisAddress) else RedisAddress(url)
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._connection: Connection | None = None
        self._connecting: asyncio.Task[Connection] | None = None
        self._backoff = RestartBackoff(RECONNECT_FIRST_S, RECONNECT_LAST_S)
        # The last failed attempt's error, and when the next attempt is due.
        self._failure: redis.exceptions.ConnectionError | None = None
        self._retry_at = 0.0
        # Since when the shared connection is lost and not yet reconnected
        # (failures to connect a first time are for the caller to report).
        self._down_since: float | None = None
        self._closed = False

    async def execute(self, *args: Arg, script: str | None = None) -> Any:
        """One command's reply. An error reply raises its typed exception
        (`redis_errors.classify`: a `redis.exceptions.ResponseError`, or a
        `RedisUnavailable` for the codes that mean "retry later"),
        `CommandTimeout` is raised when the reply does not come within the
        command timeout, and `redis.exceptions.ConnectionError` when Redis
        cannot be reached or the connection drops before the reply. With
        tracing on, the command has a span under the call's (`script`: the
        name of the script an `EVALSHA` runs, for its span's name). Timed
        and counted by that name in the metrics, when they are on."""
        return await timed(args, script, self.reply(args, script))

    async def reply(self, args: tuple[Arg, ...], script: str | None) -> Any:
        """One command's reply, traced as `execute` does but not timed: for
        a `ClusterMux`, which times a command once whichever nodes it took."""
        connection = await self.shared()
        return await traced(args, script, connection.execute(*args))

    @property
    def where(self) -> str:
        """Where Redis is, for logs: no credentials."""
        return self.address.where

    async def shared(self) -> Connection:
        """The shared connection, connected now if it is not (or raising the
        last failure's `ConnectionError` until the next attempt is due)."""
        connection = self._connection
        if connection is None or not connection.usable:
            connection = await self._connect()
        return connection

    async def _connect(self) -> Connection:
        # Concurrent callers share one attempt; a cancelled caller does not
        # cancel it for the others.
        if self._connecting is None:
            loop = asyncio.get_running_loop()
            if self._failure is not None and loop.time() < self._retry_at:
                raise redis.exceptions.ConnectionError(f"{self._failure} (retrying soon)")
            self._connecting = asyncio.ensure_future(self._open())
            self._connecting.add_done_callback(retrieve)
        return await asyncio.shield(self._connecting)

    async def _open(self) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            self._connection = await Connection.open(
                self.address,
                connect_timeout=self._connect_timeout,
                command_timeout=self._command_timeout,
                on_lost=self._lost,
            )
        except redis.exceptions.ConnectionError as exc:
            delay = self._backoff.next_delay()
            self._retry_at = loop.time() + delay
            if self._failure is None and self._down_since is not None:
                log.warning(
                    "cannot reconnect to Redis at %s: %s; retrying with backoff (up to every %g s)",
                    self.address.where,
                    exc,
                    RECONNECT_LAST_S,
                )
            self._failure = exc
            raise
        finally:
            self._connecting = None
        self._backoff.started()
        if self._down_since is not None:
            log.info(
                "reconnected to Redis at %s after %.1f s",
                self.address.where,
                loop.time() - self._down_since,
            )
        self._failure = None
        self._down_since = None
        return self._connection

    async def execute_at(self, key: Arg | None, *args: Arg) -> Any:
        """`execute(*args)`: one node serves every key."""
        return await self.execute(*args)

    async def keys_per_primary(self, name: str) -> list[str]:
        """`[name]`: one node serves every key."""
        return [name]

    async def key_on(self, key: Arg, name: str) -> str:
        """`name`: one node serves every key."""
        return name

    def _lost(self, lost: redis.exceptions.ConnectionError) -> None:
        """Logs the loss of the shared connection (not its closing)."""
        if self._closed:
            return
        self._down_since = asyncio.get_running_loop().time()
        log.warning("Redis at %s: %s; the next command reconnects", self.address.where, lost)

    @contextlib.asynccontextmanager
    async def dedicated(self, key: Arg | None = None) -> AsyncIterator[Connection]:
        """A connection of its own for blocking commands, closed on exit (so
        a cancelled blocking read leaves no reply behind on a shared one).
        `key`: unused on one node (a cluster's goes to the key's node)."""
        connection = await Connection.open(
            self.address,
            connect_timeout=self._connect_timeout,
            command_timeout=self._command_timeout,
        )
        try:
            yield connection
        finally:
            connection.close()

    async def aclose(self) -> None:
        """Closes the shared connection."""
        self._closed = True
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(BaseException):
                await self._connecting
        if self._connection is not None:
            self._connection.close()
            self._connection = None
