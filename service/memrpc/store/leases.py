"""The leases of the periodic jobs (`jobs/periodic.py`): who may run a job
over a namespace now, across every process.

| key                       | type   | holds                                  |
|---------------------------|--------|----------------------------------------|
| `memrpc:lease:{ns}:<job>` | String | the token of the runner that took it;  |
|                           |        | it expires when the job may run again  |

A runner takes a lease with `SET NX PX <interval>`: of the runners of
every process, one gets it, and none runs the job over the namespace again
until it expires, an interval later. The runner that took it may shorten it
(`keep`, in `lua/lease_keep.lua`: only while it still holds it) so that the
job runs again sooner: after a run that left work, or one that failed.
"""

from __future__ import annotations

import secrets

from memrpc.store import keys, scripts
from memrpc.store.redis_mux import RedisMux
from memrpc.store.script_args import LeaseKeep


class Leases:
    """The leases of one periodic job, taken by one runner (its token)."""

    def __init__(self, redis: RedisMux, job: str) -> None:
        self._redis = redis
        self.job = job
        self.token = secrets.token_hex(8)
        self._keep = scripts.load(redis, LeaseKeep)

    async def take(self, ns: str, ttl_ms: int) -> bool:
        """Takes the lease of `ns` for `ttl_ms`; False when another holds it."""
        taken = await self._redis.execute(
            "SET", keys.lease(ns, self.job), self.token, "NX", "PX", ttl_ms
        )
        return taken is not None

    async def keep(self, ns: str, ttl_ms: int) -> bool:
        """Sets the lease of `ns` to expire `ttl_ms` from now, if this runner
        still holds it; False when it does not."""
        kept = await self._keep(
            LeaseKeep(lease=keys.lease(ns, self.job), token=self.token, ttl_ms=ttl_ms)
        )
        return bool(kept)
