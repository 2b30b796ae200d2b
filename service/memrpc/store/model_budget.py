"""Each namespace's budget of calls to the language model
(`LanguageModelPolicy.max_calls_per_minute`), shared by every job of every
process: one counter per namespace and minute window,
`keys.model_calls(ns, window)`, taken from by `lua/language_model_budget.lua`
(which refuses a call once the window's are spent, counting nothing) and
expiring after its window."""

from __future__ import annotations

from memrpc.limits import LLM_BUDGET_WINDOW_S
from memrpc.store import keys, scripts
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import LanguageModelBudget

_WINDOW_MS = LLM_BUDGET_WINDOW_S * 1000


class ModelBudget:
    """Takes calls from the namespaces' budgets."""

    def __init__(self, redis: RedisClient) -> None:
        self._take = scripts.load(redis, LanguageModelBudget)

    async def take(self, ns: str, per_window: int, *, now_ms: int) -> bool:
        """Whether `ns` may make one more call in the window of `now_ms`,
        at most `per_window` a window (the call is then counted)."""
        window = now_ms // _WINDOW_MS
        taken = await self._take(
            LanguageModelBudget(
                counter=keys.model_calls(ns, window),
                limit=per_window,
                # Past its window's end, with a window's margin for clocks.
                ttl_ms=(window + 2) * _WINDOW_MS - now_ms,
            )
        )
        return bool(taken)
