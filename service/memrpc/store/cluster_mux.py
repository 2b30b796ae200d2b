"""A Redis Cluster client with `RedisMux`'s interface: one multiplexed
connection per primary, each command sent to the primary of its key's slot.

Callers see what a `RedisMux` gives them (`execute`, `dedicated`, `aclose`,
`where`; the `RedisClient` protocol), so the server holds either. Behind it:

- **Slot map.** Read with `CLUSTER SHARDS` (`store/cluster_map.py`) from a
  known primary or a seed of the URL, when the first command comes and
  again after a `MOVED` or a lost node. One read is in flight at a time,
  shared by everyone who needs it, and reads are at least
  `CLUSTER_REFRESH_MIN_S` apart: a failing node is not asked once per
  failed command. A primary that leaves the map has its connection closed.
- **Routing.** A command goes to the primary of its first key's slot
  (`store/command_keys.py` finds the key, `store/hash_slot.py` its slot); a
  keyless one to any primary. `primaries()` and `execute_on()` reach each
  primary, for what must be done on all of them; `execute_at(key)` sends a
  keyless command to the primary of `key` (`CLIENT UNBLOCK` for a blocked
  read there). `dedicated(key)` opens a connection to the primary of
  `key`'s slot for blocking reads; a `MOVED` met on it, or a node lost or
  that cannot be reached when it opens, has the map learn or be read
  again, so the next one goes to the right node.
- **Per node**, a `RedisMux`: a pipelined connection, opened on demand,
  reconnected with backoff. A command is never retried on connection loss:
  the node's commands in flight fail with `ConnectionError` (their outcome
  is unknown) and the slot map is read again; while a primary is down and
  not yet replaced, commands for its slots fail fast with the same error
  (the node's backoff), and reach its promoted replica once a read of the
  map shows it.
- **Redirections**, followed once each, never in a loop. `MOVED` means
  the node did not run the command: it is sent once to the node named, the
  map learns the slot's new owner at once and is read again soon. `ASK`
  (a slot being moved, the key already gone) sends `ASKING` and the command
  to the node named, back to back on its shared connection: `ASKING` holds
  for the connection's next command only, and `Connection.execute` writes
  at once, so the two calls, with no `await` between them, put the two
  commands next to each other on the wire (no other task runs between
  them). A second redirection of the same command raises it
  (`MovedError`/`AskError`).
- **Errors** are `RedisMux`'s: `CLUSTERDOWN`, `TRYAGAIN` stay
  `RedisUnavailable` (retry later); `CROSSSLOT` is the node's
  `ResponseError`.

A command is timed once in the metrics, however many nodes it took, and
each node it was sent to gives it a span (`redis_mux.timed`, `traced`).

Not yet: replicas (reads go to primaries), `CLUSTER SLOTS` for servers
without `CLUSTER SHARDS`, and anything a moving slot needs beyond `ASK`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import redis.exceptions

from memrpc.limits import CLUSTER_REFRESH_MIN_S
from memrpc.store.cluster_map import NodeAddress, SlotMap
from memrpc.store.command_keys import key_of
from memrpc.store.hash_slot import slot_of
from memrpc.store.redis_errors import AskError, MovedError, classify
from memrpc.store.redis_mux import (
    Arg,
    Connection,
    RedisAddress,
    RedisClient,
    RedisMux,
    retrieve,
    timed,
    traced,
)

log = logging.getLogger("memrpc.redis")

# A cluster URL's scheme, and the scheme of its nodes' URLs.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
# Tags tried per primary by `keys_per_primary` and `key_on`: enough for a primary serving one slot
# in 16,384 to be found with near certainty.
_TAG_TRIES = 200_000
# What tells the slot map to be read again: the node is gone or wedged.
_NODE_LOST = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def is_cluster_url(url: str) -> bool:
    """Whether `url` names a Redis Cluster (`redis+cluster://...`)."""
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def client_for(url: str, **timeouts: float) -> RedisClient:
    """The client of the Redis at `url`, not yet connected: a `ClusterMux`
    for a cluster URL, else a `RedisMux` (`timeouts`: their
    `connect_timeout` and `command_timeout`)."""
    mux = ClusterMux if is_cluster_url(url) else RedisMux
    return mux(url, **timeouts)


class ClusterAddress:
    """A cluster's seeds and credentials, from
    `redis+cluster://[[user]:password@]host:port[,host:port...]` (or
    `rediss+cluster://` for TLS). Each seed is a `RedisAddress` of the same
    credentials; a cluster has database 0 only, so no path or query."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        scheme = CLUSTER_SCHEMES.get(parts.scheme)
        if scheme is None:
            raise ValueError(f"unsupported Redis Cluster URL scheme {parts.scheme!r}")
        if parts.path.strip("/") or parts.query:
            raise ValueError("a Redis Cluster has database 0 only: no path or query in its URL")
        userinfo, at, hosts = parts.netloc.rpartition("@")
        if not all(hosts.split(",")):
            raise ValueError("a Redis Cluster URL needs host:port seeds, separated by commas")
        self.seeds = [RedisAddress(f"{scheme}://{userinfo}{at}{host}") for host in hosts.split(",")]
        self.tls = scheme == "rediss"
        # Where it is, for logs: no credentials.
        self.where = ",".join(seed.where for seed in self.seeds)


class ClusterMux:
    """Every non-blocking command of the server, each on the connection to
    the primary serving its key (see the module docstring)."""

    def __init__(
        self, url: str, *, connect_timeout: float = 2.0, command_timeout: float = 5.0
    ) -> None:
        self.address = ClusterAddress(url)
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._nodes: dict[NodeAddress, RedisMux] = {}
        self._map: SlotMap | None = None
        self._reading: asyncio.Task[SlotMap] | None = None
        # The loop time the last read of the map began.
        self._read_at = -math.inf
        self._closed = False
        # Whether the last read of the map failed (logged once until one works).
        self._unreadable = False
        # Each primary's tag (`_tag`).
        self._tags: dict[NodeAddress, str] = {}
        # The MOVED and ASK replies followed (tests count them).
        self.redirections = 0

    @property
    def where(self) -> str:
        """Where the cluster is, for logs: its seeds, no credentials."""
        return f"cluster {self.address.where}"

    async def execute(self, *args: Arg, script: str | None = None) -> Any:
        """One command's reply from the primary of its key's slot, as
        `RedisMux.execute` gives it; a redirection is followed once (see the
        module docstring)."""
        return await timed(args, script, self._routed(args, script))

    async def execute_on(self, node: NodeAddress, *args: Arg, script: str | None = None) -> Any:
        """One command's reply from the primary `node` (of `primaries()`),
        whatever its keys: for what must run on every primary."""
        return await timed(args, script, self._sent(self._node(node), args, script))

    async def execute_at(self, key: Arg | None, *args: Arg) -> Any:
        """A command without keys (`CLIENT UNBLOCK`), on the primary of
        `key`'s slot (any primary for None): where `dedicated(key)` goes."""
        node = await self._owner(key)
        return await timed(args, None, self._sent(node, args, None))

    async def keys_per_primary(self, name: str) -> list[str]:
        """One key per primary of the slot map: `name{tag}`, the tag the
        first of `0`, `1`, ... whose slot that primary serves (a few tries
        per primary: each takes about its share of the slots)."""
        slot_map = await self._slot_map()
        return [f"{name}{{{self._tag(slot_map, owner)}}}" for owner in slot_map.primaries]

    async def key_on(self, key: Arg, name: str) -> str:
        """`name` tagged so that the primary serving `key` serves it too:
        that primary's key of `keys_per_primary(name)`."""
        slot_map = await self._slot_map()
        owner = slot_map.owner(slot_of(key))
        if owner is None:
            raise classify(f"CLUSTERDOWN no primary serves the slot of {key!r} in the slot map")
        return f"{name}{{{self._tag(slot_map, owner)}}}"

    def _tag(self, slot_map: SlotMap, owner: NodeAddress) -> str:
        """The first of `0`, `1`, ... whose slot `owner` serves, remembered
        while it does."""
        tag = self._tags.get(owner)
        if tag is not None and slot_map.owner(slot_of(tag)) == owner:
            return tag
        for number in range(_TAG_TRIES):
            if slot_map.owner(slot_of(str(number))) == owner:
                self._tags[owner] = str(number)
                return str(number)
        raise classify(f"CLUSTERDOWN no tag found for primary {owner[0]}:{owner[1]}")

    async def primaries(self) -> list[NodeAddress]:
        """The primaries of the slot map, as last read."""
        return list((await self._slot_map()).primaries)

    @contextlib.asynccontextmanager
    async def dedicated(self, key: Arg | None = None) -> AsyncIterator[Connection]:
        """A connection of its own to the primary of `key`'s slot (any
        primary for None), for blocking reads, closed on exit."""
        node = await self._owner(key)
        # A node that cannot be reached, or is lost, has the map read again.
        with self._noting_loss():
            async with node.dedicated() as connection:
                try:
                    yield connection
                except MovedError as moved:  # the slot moved: the next one goes there
                    self._learn(moved)
                    raise

    async def aclose(self) -> None:
        """Stops a read of the map under way and closes every connection."""
        self._closed = True
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(BaseException):
                await self._reading
        nodes, self._nodes = self._nodes, {}
        for node in nodes.values():
            await node.aclose()

    async def _routed(self, args: tuple[Arg, ...], script: str | None) -> Any:
        node = await self._owner(key_of(args))
        try:
            return await self._sent(node, args, script)
        except MovedError as moved:
            self._learn(moved)
            return await self._sent(self._node(moved.node_addr), args, script)
        except AskError as ask:
            self.redirections += 1
            return await self._asked(self._node(ask.node_addr), args, script)

    def _learn(self, moved: MovedError) -> None:
        """Notes a slot's new primary, and has the whole map read again."""
        self.redirections += 1
        if self._map is not None:
            self._map.moved(moved.slot_id, moved.node_addr)
        self._read_soon()

    async def _sent(self, node: RedisMux, args: tuple[Arg, ...], script: str | None) -> Any:
        with self._noting_loss():
            return await node.reply(args, script)

    async def _asked(self, node: RedisMux, args: tuple[Arg, ...], script: str | None) -> Any:
        with self._noting_loss():
            connection = await node.shared()
            # Adjacent on the wire: no await between the two writes.
            asking = connection.execute("ASKING")
            reply = connection.execute(*args)
            reply.add_done_callback(retrieve)  # unawaited if ASKING fails
            await asking
            return await traced(args, script, reply)

    @contextlib.contextmanager
    def _noting_loss(self) -> Iterator[None]:
        """Has the map read again when a node is lost or wedged."""
        try:
            yield
        except _NODE_LOST:
            self._read_soon()
            raise

    async def _owner(self, key: Arg | None) -> RedisMux:
        """The connection to the primary of `key`'s slot (any for None)."""
        slot_map = await self._slot_map()
        if key is None:
            owner = slot_map.primaries[0] if slot_map.primaries else None
        else:
            owner = slot_map.owner(slot_of(key))
        if owner is None:
            raise classify(f"CLUSTERDOWN no primary serves the slot of {key!r} in the slot map")
        return self._node(owner)

    def _node(self, address: NodeAddress) -> RedisMux:
        """The connection to the node at `address`, made on first use."""
        node = self._nodes.get(address)
        if node is None:
            node = self._nodes[address] = RedisMux(
                self.address.seeds[0].at(*address),
                connect_timeout=self._connect_timeout,
                command_timeout=self._command_timeout,
            )
        return node

    async def _slot_map(self) -> SlotMap:
        """The slot map, read now if it never was."""
        if self._map is not None:
            return self._map
        self._read_soon()
        if self._reading is None:
            raise redis.exceptions.ConnectionError("the Redis Cluster client is closed")
        return await asyncio.shield(self._reading)

    def _read_soon(self) -> None:
        """Starts a read of the map unless one is under way; it waits until
        `CLUSTER_REFRESH_MIN_S` after the last one began."""
        if self._reading is None and not self._closed:
            self._reading = asyncio.ensure_future(self._read())
            self._reading.add_done_callback(retrieve)

    async def _read(self) -> SlotMap:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(max(0.0, self._read_at + CLUSTER_REFRESH_MIN_S - loop.time()))
            self._read_at = loop.time()
            slot_map = await self._ask_for_map()
        finally:
            self._reading = None
        gone = [address for address in self._nodes if address not in slot_map.primaries]
        if self._unreadable:
            log.info("Redis Cluster %s: slot map read again", self.address.where)
        self._unreadable = False
        if self._map is None or self._map.primaries != slot_map.primaries:
            log.info("Redis Cluster %s: primaries %s", self.address.where, slot_map.primaries)
        self._map = slot_map
        for address in gone:
            await self._nodes.pop(address).aclose()
        return slot_map

    async def _ask_for_map(self) -> SlotMap:
        """The map from the first of the known primaries, then the seeds,
        that gives it."""
        known = self._map.primaries if self._map is not None else []
        seeds = [(seed.host, seed.port) for seed in self.address.seeds]
        failures = []
        for address in dict.fromkeys([*known, *seeds]):
            try:
                shards = await self._node(address).execute("CLUSTER", "SHARDS")
            except redis.exceptions.RedisError as exc:
                failures.append(f"{address[0]}:{address[1]}: {exc}")
                continue
            return SlotMap(shards, tls=self.address.tls)
        failed = redis.exceptions.ConnectionError(
            f"cannot read the slot map of the Redis Cluster: {'; '.join(failures)}"
        )
        if not self._unreadable:
            log.warning("Redis Cluster %s: %s; retrying on demand", self.address.where, failed)
        self._unreadable = True
        raise failed
