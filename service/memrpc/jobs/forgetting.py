"""The forgetting job: a periodic job (`jobs/periodic.py`) that forgets
what a namespace's `ForgettingPolicy` says, beyond the memories' own time
to live, never a pinned memory (`store/forgetting.py` finds and forgets):

1. **unrecalled** (`unrecalled_s` > 0): the memories no search returned
   for that long (counted from their creation when none did);
2. **budget** (`max_memories_per_user` > 0): per user (memories without a
   user are one user's), the least recently recalled unpinned memories
   beyond the budget.

A run examines and forgets at most `FORGETTING_RUN_MEMORIES` memories over
both rules, unrecalled first (what it forgets no longer counts against a
budget), and returns True when more may be left (a full page of unrecalled
memories, or a user still over budget), so that the runner runs it again
soon. Each memory forgotten is counted by rule
(`memrpc_memories_forgotten_total`) and recorded as an event (see
`store/forgetting.py`).
"""

from __future__ import annotations

from memrpc import metrics
from memrpc.limits import FORGETTING_RUN_MEMORIES
from memrpc.namespace_defaults import DefaultsSource, ForgettingPolicy
from memrpc.store.forgetting import ForgettingStore
from memrpc.store.memory_changes import ForgetRule


def _has_rule(policy: ForgettingPolicy) -> bool:
    return policy.enabled and (policy.max_memories_per_user > 0 or policy.unrecalled_s > 0)


class ForgettingJob:
    """Forgets a namespace's memories by its policy."""

    name = "forgetting"

    def __init__(self, store: ForgettingStore, defaults: DefaultsSource) -> None:
        self._store = store
        self._defaults = defaults

    async def interval_s(self, ns: str) -> float | None:
        """The policy's interval; None when it is off or sets no rule."""
        policy = (await self._defaults.defaults(ns)).forgetting
        return policy.interval_s if _has_rule(policy) else None

    async def run(self, ns: str, now_ms: int) -> bool:
        """One bounded run as of `now_ms`; True when more may be left."""
        policy = (await self._defaults.defaults(ns)).forgetting
        if not _has_rule(policy):
            return False
        budget = FORGETTING_RUN_MEMORIES
        more = False
        if policy.unrecalled_s > 0:
            before_ms = now_ms - int(policy.unrecalled_s * 1000)
            stale = await self._store.unrecalled(ns, now_ms, before_ms, count=budget)
            forgot = await self._store.forget(
                ns, ForgetRule.UNRECALLED, stale, keep=None, now_ms=now_ms
            )
            metrics.memories_forgotten(ForgetRule.UNRECALLED, forgot.forgotten)
            budget -= len(stale)
            more = budget <= 0
        if policy.max_memories_per_user > 0:
            keep = policy.max_memories_per_user
            for user, excess in await self._store.over_budget(ns, now_ms, keep):
                if budget <= 0:
                    return True
                chosen = await self._store.least_recalled(
                    ns, now_ms, user, count=min(excess, budget)
                )
                forgot = await self._store.forget(
                    ns, ForgetRule.BUDGET, chosen, keep=keep, now_ms=now_ms, user=user
                )
                metrics.memories_forgotten(ForgetRule.BUDGET, forgot.forgotten)
                budget -= len(chosen)
                more = more or forgot.left > 0
        return more
