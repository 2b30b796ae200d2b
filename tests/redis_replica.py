"""A primary and its replica of the embedded server on loopback ports, for
the tests and benches of `--durability replica` (`tests/test_replica_durability.py`,
`bench/durability.py`)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis.asyncio

from memrpc.embedded_redis import VALKEY, EmbeddedRedis, ServerBinary
from memrpc.store.redis_mux import RedisMux

# Bounds the wait for the replica to acknowledge (each try up to 50 ms).
ACK_TRIES = 200


@dataclass
class Replicated:
    """A primary, its replica, and a client of the replica (to read what it holds)."""

    primary: EmbeddedRedis
    replica: EmbeddedRedis
    on_replica: redis.asyncio.Redis

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """The replica stopped (SIGSTOP) until the block ends: it
        acknowledges nothing meanwhile."""
        pid = self.replica.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)


@contextlib.asynccontextmanager
async def replicated(work: Path, binary: ServerBinary = VALKEY) -> AsyncIterator[Replicated]:
    """A primary and a replica in `work`, once the primary counts the
    replica as acknowledging; both stopped on exit."""
    primary = EmbeddedRedis(work / "primary", port=0, binary=binary)
    replica = EmbeddedRedis(work / "replica", port=0, binary=binary)
    primary.start()
    replica.start()
    # Bounded: a replica that stops answering fails the test instead of hanging it.
    on_replica = redis.asyncio.from_url(replica.url, decode_responses=True, socket_timeout=10)
    try:
        on_primary, to_replica = RedisMux(primary.url), RedisMux(replica.url)
        try:
            # The first sync at once, not after the default 5 s for more replicas.
            await on_primary.execute("CONFIG", "SET", "repl-diskless-sync-delay", 0)
            await to_replica.execute("REPLICAOF", "127.0.0.1", urlsplit(primary.url).port or 0)
            for _ in range(ACK_TRIES):
                if await on_primary.execute("WAIT", 1, 50) == 1:
                    break
            else:
                raise AssertionError("the replica did not come to acknowledge its primary")
        finally:
            await on_primary.aclose()
            await to_replica.aclose()
        yield Replicated(primary, replica, on_replica)
    finally:
        await on_replica.aclose()
        replica.stop()
        primary.stop()
