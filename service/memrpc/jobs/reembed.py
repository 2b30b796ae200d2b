"""The re-embed job: moves every namespace's vectors to the model a move
goes to (`memrpc:model:next{memrpc:model}`), while the server serves them
(`store/reembed.py`), then removes the old model's vectors, then ends.

Every process that runs jobs starts one runner. One holding both models of
a move (`--model-dir` the new, `--previous-model-dir` the default) walks the
namespaces (`memrpc:namespaces`): for each not done, it takes the
namespace's lease (`keys.lease(ns, "reembed")`, `REEMBED_LEASE_S`, so that a
runner that died lets another resume where the index says) and runs steps
of at most `REEMBED_BATCH` memories until `REEMBED_RUN_S` has passed (or
`REEMBED_RUN_STEPS` steps), then lets the lease go and rests in proportion
to the run's time (`RunnerPolicy.rest_after`, `--jobs-share`). A run that
found nothing to fill but must wait (Search indexing the new field, or the
switch settling: `store/reembed.py`) keeps the lease `PERIODIC_TICK_S`
instead, so that no runner asks again before. When every namespace is
done, it ends the move (the new model becomes the default).

Once a move has ended (the record's `previous_field`), any runner of a
process holding the new model waits until `REEMBED_CLEANUP_DELAY_S` after
the end, then removes the old vectors namespace by namespace in the same
bounded steps and leases, and ends. A runner with nothing to do ends at
once (one HMGET).

Each run is timed and counted like a periodic job's (`memrpc_job_runs`,
`memrpc_job_duration_seconds`, job `reembed`), and the vectors written
counted (`memrpc_reembed_vectors_total`). The progress (vectors filled of
the namespace's memories, and its state) is logged after each run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from memrpc import metrics
from memrpc.jobs.runner import RunnerPolicy
from memrpc.jobs.steps import StepLoop
from memrpc.limits import (
    PERIODIC_RETRY_FIRST_S,
    PERIODIC_TICK_S,
    REEMBED_CLEANUP_DELAY_S,
    REEMBED_LEASE_S,
    REEMBED_RUN_S,
    REEMBED_RUN_STEPS,
)
from memrpc.models import Models
from memrpc.store import keys
from memrpc.store.leases import Leases
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import ModelField
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import RedisClient
from memrpc.store.reembed import Reembed, Target, cleaned, ended_move

log = logging.getLogger("memrpc.jobs")

NAME = "reembed"


class Outcome(Enum):
    """What a run over a namespace left: nothing (`FINISHED`), more work
    (`MORE`), or only a wait (`WAITING`)."""

    FINISHED = "finished"
    MORE = "more"
    WAITING = "waiting"


@dataclass
class ReembedState:
    """What a re-embed runner has seen last: for health and the log."""

    # Vectors this runner wrote, and old vectors it removed.
    filled: int = 0
    removed: int = 0
    # Namespaces not done (not cleaned, in the cleanup) at its last walk.
    left: int = 0
    # Whether the runner has ended (nothing left to move or clean).
    done: bool = False


class ReembedRunner:
    """Runs the move to the next model, and the cleanup after it, until
    both are done, or stopped."""

    def __init__(
        self,
        redis: RedisClient,
        models: Models,
        policy: RunnerPolicy,
        vector_type: VectorType,
        *,
        now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.name = NAME
        self.state = ReembedState()
        self.loop = StepLoop(NAME, NAME)
        self._redis = redis
        self._models = models
        self._policy = policy
        self._vector_type = vector_type
        self._leases = Leases(redis, NAME)
        self._namespaces = NamespaceSet(redis)
        self._now_ms = now_ms

    async def stop(self) -> None:
        """Ends the loop after the run in progress."""
        self.loop.stop()

    async def run(self) -> None:
        """Runs until the move and its cleanup are done or `stop`; a failed
        step (Redis unreachable) is retried after a backoff."""
        await self.loop.run(self._runs)

    def _targets(self) -> dict[str, Target]:
        """The models of this process by fingerprint, as targets."""
        return {
            model.embedder.identity.fingerprint: Target(model.embedder, model.field)
            for model in self._models.models
        }

    async def _runs(self) -> None:
        next = self._models.next
        default_fp = await self._redis.execute("HGET", keys.model(), "fingerprint")
        if next is not None and default_fp != next.embedder.identity.fingerprint.encode():
            reembed = Reembed(self._redis, Target(next.embedder, next.field), self._vector_type)
            if await self._walk(lambda ns: self._move(reembed, ns)) and await reembed.finish(
                self._now_ms()
            ):
                log.info("re-embed: every namespace moved to %s", next.embedder.identity)
                metrics.reembed_moved()
            return
        ended = await ended_move(self._redis)
        target = None if ended is None else self._targets().get(ended[0])
        if ended is None or target is None:
            self._finish()
            return
        recorded = int(await self._redis.execute("HGET", keys.model(), "recorded_ms"))
        wait_ms = recorded + REEMBED_CLEANUP_DELAY_S * 1000 - self._now_ms()
        if wait_ms > 0:
            await self.loop.pause(min(wait_ms / 1000, PERIODIC_TICK_S))
            return
        reembed = Reembed(self._redis, target, self._vector_type)
        old = ended[1]
        if await self._walk(lambda ns: self._clean(reembed, ns, old)):
            await cleaned(self._redis)
            log.info(
                "re-embed: the old model's vectors (%s) are removed (%d by this runner)",
                old.hash,
                self.state.removed,
            )
            self._finish()

    async def _walk(self, run: Callable[[str], Awaitable[Outcome]]) -> bool:
        """Runs `run` over each namespace whose lease this runner gets;
        True when every namespace is finished. A walk that ran none (others hold them)
        waits for the first lease to lapse, `PERIODIC_TICK_S` at most."""
        left, ran_any, wait_ms = 0, False, PERIODIC_TICK_S * 1000
        for ns in sorted(await self._namespaces.members()):
            if self.loop.stopping:
                return False
            held_ms = await self._leases.take(ns, int(REEMBED_LEASE_S * 1000))
            if held_ms:
                left, wait_ms = left + 1, min(wait_ms, held_ms)
                continue
            ran_any = True
            started = time.perf_counter()
            ran = await self.loop.timed(ns, run(ns))
            self.loop.succeeded()
            if ran.error is not None:
                await self._leases.keep(ns, int(PERIODIC_RETRY_FIRST_S * 1000))
                left += 1
                continue
            # Anyone's turn (this runner's after its rest), or no one's
            # before the wait is over.
            waiting = ran.value is Outcome.WAITING
            await self._leases.keep(ns, int(PERIODIC_TICK_S * 1000) if waiting else 1)
            left += 0 if ran.value is Outcome.FINISHED else 1
            await self.loop.pause(self._policy.rest_after(time.perf_counter() - started))
        self.state.left = left
        if left and not ran_any:
            await self.loop.pause(wait_ms / 1000)
        return left == 0 and not self.loop.stopping

    async def _move(self, reembed: Reembed, ns: str) -> Outcome:
        """One run of the move over `ns`: steps until its time or count is
        out, or one finds nothing to fill."""
        deadline = time.perf_counter() + REEMBED_RUN_S
        filled = 0
        for _ in range(REEMBED_RUN_STEPS):
            step = await reembed.step(ns, self._now_ms())
            filled += step.filled
            if not step.seen or time.perf_counter() > deadline or self.loop.stopping:
                break
        self.state.filled += filled
        metrics.reembed_filled(filled)
        log.info(
            "re-embed of %s to %s: %d vectors filled (%d in all) of %d memories, %s",
            ns,
            reembed.target.embedder.identity.name,
            filled,
            step.state.filled,
            await reembed.memories(ns),
            "done" if step.state.done else "switched" if step.state.switched else "moving",
        )
        if step.state.done:
            return Outcome.FINISHED
        return Outcome.MORE if step.seen else Outcome.WAITING

    async def _clean(self, reembed: Reembed, ns: str, old: ModelField) -> Outcome:
        """One run of the cleanup over `ns`."""
        deadline = time.perf_counter() + REEMBED_RUN_S
        removed = 0
        for _ in range(REEMBED_RUN_STEPS):
            gone, state = await reembed.cleanup_step(ns, old)
            removed += gone
            if state.cleaned or time.perf_counter() > deadline or self.loop.stopping:
                break
        self.state.removed += removed
        return Outcome.FINISHED if state.cleaned else Outcome.MORE

    def _finish(self) -> None:
        """Nothing left to move or clean: the runner ends."""
        self.state.done = True
        self.state.left = 0
        self.loop.stop()
