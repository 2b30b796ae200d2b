"""Acknowledging a call's writes only once a replica holds them
(`--durability replica`).

Redis replicates asynchronously: a primary that fails right after a write
can be replaced by a replica that never received it, and a client told the
write succeeded loses it. `WAIT n timeout` closes that gap: it returns
once `n` replicas acknowledged every write of the connection it is sent
on, or at the timeout with how many did.

It is not sent on the shared connection (`RedisMux`): `WAIT` blocks the
connection it is sent on, and every command pipelined behind it would wait
too. And it counts the writes of its own connection only (Redis keeps, per
connection, the replication offset after its last write). So `confirm`
sends, on a connection of its own, a write that advances that offset past
every write Redis applied before it, then `WAIT`:

    INCR memrpc:replica-ack           (one small key, replicated)
    WAIT 1 <timeout ms>

A caller confirms after its writes were answered, so once that `INCR` is
applied they are before it: when a replica acknowledges the `INCR`, it
holds them. Confirmations are batched (group commit): callers that come
while a round is in flight share the next round, so a burst of writes costs
two commands, two round trips and one replica acknowledgement, however many
calls it holds.

On a Redis Cluster each primary has its own offset, and a call may have
written on any of them: a round confirms every primary at once, each with
its own counter (`memrpc:replica-ack{<tag>}`, a tag its primary serves:
`keys_per_primary`), and holds when each has the replicas required. A
round so costs one `INCR` and one `WAIT` per primary, however few the call
wrote on.
"""

from __future__ import annotations

import asyncio
import contextlib

from memrpc.store import keys
from memrpc.store.redis_mux import RedisClient


class NotReplicatedError(Exception):
    """Fewer replicas than required confirmed the writes in time."""

    def __init__(self, confirmed: int, required: int, timeout_s: float) -> None:
        super().__init__(
            f"{confirmed} of the {required} replica(s) required confirmed the writes within "
            f"{timeout_s:g} s"
        )
        self.confirmed = confirmed
        self.required = required
        self.timeout_s = timeout_s


class ReplicaAck:
    """Confirms that replicas hold every write Redis applied so far, in
    shared rounds, on `redis` (a client of its own: `WAIT` blocks it)."""

    def __init__(self, redis: RedisClient, *, replicas: int, timeout_s: float) -> None:
        self._redis = redis
        self._replicas = replicas
        self._timeout_s = timeout_s
        # The round the next callers join, not yet sent; and the task
        # sending the rounds, while there are any.
        self._next: asyncio.Future[None] | None = None
        self._sending: asyncio.Task[None] | None = None
        self.rounds = 0

    async def confirm(self) -> None:
        """Returns once `replicas` replicas hold every write Redis applied
        before the call. Raises `NotReplicatedError` when fewer confirm
        within the timeout, and the client's errors when Redis cannot be
        reached (the writes' fate is then unknown)."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if self._sending is None or self._sending.done():
                self._sending = asyncio.create_task(self._send_rounds())
        # A cancelled caller leaves the round to the others.
        await asyncio.shield(self._next)

    async def _send_rounds(self) -> None:
        while self._next is not None:
            current, self._next = self._next, None
            try:
                await self._round()
            except Exception as error:  # every caller of the round gets it
                _fail(current, error)
            except BaseException:
                # Cancelled (the connection closing): no caller may wait
                # for ever on a round that will never be answered.
                for waiting in (current, self._next):
                    if waiting is not None:
                        _fail(waiting, ConnectionError("the replica confirmation was cancelled"))
                self._next = None
                raise
            else:
                current.set_result(None)

    async def _round(self) -> None:
        self.rounds += 1
        routes = await self._redis.keys_per_primary(keys.replica_ack())
        confirmed = min(await asyncio.gather(*(self._confirm(route) for route in routes)))
        if confirmed < self._replicas:
            raise NotReplicatedError(confirmed, self._replicas, self._timeout_s)

    async def _confirm(self, route: str) -> int:
        """How many replicas of the primary of `route` hold its writes."""
        timeout_ms = max(1, round(self._timeout_s * 1000))
        # In this order, each once the one before is answered: a `WAIT`
        # sent first would count the previous round's offset.
        await self._redis.execute("INCR", route)
        return int(await self._redis.execute_at(route, "WAIT", self._replicas, timeout_ms))

    async def aclose(self) -> None:
        """Closes its connection; a round in flight fails."""
        if self._sending is not None:
            self._sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sending
        await self._redis.aclose()


def _fail(round_: asyncio.Future[None], error: Exception) -> None:
    """Fails every caller of `round_` with `error`."""
    round_.set_exception(error)
    # Retrieved here, so that a round whose callers were all cancelled logs
    # no "never retrieved".
    with contextlib.suppress(Exception):
        round_.exception()
