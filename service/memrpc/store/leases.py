"""The leases of the periodic jobs (`jobs/periodic.py`): who may run a job
over a namespace now, across every process.

| key                       | type   | holds                                  |
|---------------------------|--------|----------------------------------------|
| `memrpc:lease:{ns}:<job>` | String | the token of the runner that took it;  |
|                           |        | it expires when the job may run again  |

A runner takes a lease with `SET NX PX <interval>` (`lua/lease.lua`):
of the runners of every process, one gets it, and none runs the job over
the namespace again until it expires, an interval later; the others learn
how long that is (`PTTL`) and do not ask again before. The runner that took it may shorten it
(`keep`, in the same script: only while it still holds it) so that the
job runs again sooner: after a run that left work, or one that failed.
"""

from __future__ import annotations

import secrets

from memrpc.store import keys, scripts
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import Lease


class Leases:
    """The leases of one periodic job, taken by one runner (its token)."""

    def __init__(self, redis: RedisClient, job: str) -> None:
        self.job = job
        self.token = secrets.token_hex(8)
        self._script = scripts.load(redis, Lease)

    async def take(self, ns: str, ttl_ms: int) -> int:
        """Takes the lease of `ns` for `ttl_ms`: 0 when taken, else the ms
        another runner holds it still."""
        return await self._call(ns, "take", ttl_ms)

    async def keep(self, ns: str, ttl_ms: int) -> bool:
        """Sets the lease of `ns` to expire `ttl_ms` from now, if this runner
        still holds it; False when it does not."""
        return bool(await self._call(ns, "keep", ttl_ms))

    async def _call(self, ns: str, action: str, ttl_ms: int) -> int:
        call = Lease(lease=keys.lease(ns, self.job), action=action, token=self.token, ttl_ms=ttl_ms)
        reply: int = await self._script(call)
        return reply
