"""Per-tenant call quotas: a token bucket for the rate of calls and a cap on
the calls in progress, free of gRPC.

A tenant is a key (`fairness` says whose). Its bucket holds at most `burst`
tokens and gains `rate` a second; starting a call takes one (rate 0: no
bucket). A unary call counts as in progress until it ends, and at most
`max_in_flight` may be (0: no cap). A call over either is refused at once
with `OverQuota`, which says when to try again: when the bucket next holds a
token, or after `IN_FLIGHT_RETRY_S` for calls in progress.

The table of tenants stays bounded by recent activity, whatever the number
of tenants: a tenant is kept only while it has calls in progress or a bucket
not yet full again (at most burst/rate seconds after its last call). The
table is kept in order of last use; each admission drops up to
`EVICT_PER_ADMISSION` of the least recently used tenants that are neither,
and a tenant whose last call ends while its bucket is full is dropped then.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# The delay a tenant refused for its calls in progress is advised to wait:
# most calls take milliseconds, a text search up to the embedding queue's
# drain time.
IN_FLIGHT_RETRY_S = 0.1
# Idle tenants dropped, at most, each time a call is admitted: more than one,
# so that the table shrinks while calls come in.
EVICT_PER_ADMISSION = 2


class OverQuota(Exception):
    """A call refused for its tenant's quota: `what` happened, against the
    server setting `setting` of value `limit`; try again after
    `retry_after_s`."""

    def __init__(
        self, tenant: str, what: str, limit: float, setting: str, retry_after_s: float
    ) -> None:
        super().__init__(what)
        self.tenant = tenant
        self.what = what
        self.limit = limit
        self.setting = setting
        self.retry_after_s = retry_after_s


@dataclass
class _Tenant:
    tokens: float
    # When `tokens` was last brought up to date (monotonic seconds).
    stamp: float
    in_flight: int = 0


class TenantQuotas:
    """The quotas of every tenant, on one event loop (not thread-safe)."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        max_in_flight: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 0 or burst < 1 or max_in_flight < 0:
            raise ValueError("rate and max_in_flight must not be negative, burst at least 1")
        self._rate = rate
        self._burst = burst
        self._max_in_flight = max_in_flight
        self._clock = clock
        self._tenants: OrderedDict[str, _Tenant] = OrderedDict()

    def __len__(self) -> int:
        """How many tenants the table holds."""
        return len(self._tenants)

    def admit(self, tenant: str, *, in_flight: bool) -> None:
        """Starts a call of `tenant`, counted in progress if `in_flight`
        (then `release` it when it ends); raises `OverQuota` instead."""
        now = self._clock()
        self._evict(now)
        state = self._tenants.get(tenant)
        if state is None:
            state = self._tenants[tenant] = _Tenant(tokens=self._burst, stamp=now)
        self._tenants.move_to_end(tenant)
        cap = self._max_in_flight
        if in_flight and cap and state.in_flight >= cap:
            raise OverQuota(
                tenant,
                f"{tenant} has {state.in_flight} calls in progress",
                cap,
                "tenant_max_in_flight",
                IN_FLIGHT_RETRY_S,
            )
        if self._rate:
            state.tokens = self._tokens(state, now)
            state.stamp = now
            if state.tokens < 1:
                raise OverQuota(
                    tenant,
                    f"{tenant} is over its call rate",
                    self._rate,
                    "tenant_rate",
                    (1 - state.tokens) / self._rate,
                )
            state.tokens -= 1
        if in_flight:
            state.in_flight += 1

    def release(self, tenant: str) -> None:
        """Ends a call of `tenant` admitted `in_flight`."""
        state = self._tenants[tenant]
        state.in_flight -= 1
        if self._idle(state, self._clock()):
            del self._tenants[tenant]

    def _tokens(self, state: _Tenant, now: float) -> float:
        return min(self._burst, state.tokens + (now - state.stamp) * self._rate)

    def _idle(self, state: _Tenant, now: float) -> bool:
        """Whether forgetting the tenant changes nothing: no calls in
        progress, and a full bucket (or none)."""
        return state.in_flight == 0 and (not self._rate or self._tokens(state, now) >= self._burst)

    def _evict(self, now: float) -> None:
        """Looks at the first tenants of the table: drops the idle ones,
        and moves a busy one to the end, so that one tenant with a long call
        does not keep the idle ones behind it."""
        for _ in range(min(EVICT_PER_ADMISSION, len(self._tenants))):
            tenant, state = next(iter(self._tenants.items()))
            if self._idle(state, now):
                del self._tenants[tenant]
            else:
                self._tenants.move_to_end(tenant)
