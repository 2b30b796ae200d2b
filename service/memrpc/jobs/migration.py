"""The migration job: converts the memories an older version stored as JSON
documents (storage schema 2) into Hashes (schema 4) in the background,
while the server serves them (`store/migration.py`), then ends.

Every process that runs jobs (`memrpc serve` with `--jobs`, `memrpc worker`)
starts one runner. It first asks whether the legacy index exists (one
`FT._LIST`): once the migration is done, that is all it ever costs, and the
runner ends. Otherwise it takes the migration's lease (one runner at a time
across every process; `MIGRATION_LEASE_S`, so that the lease of a runner
that died lapses and another resumes where the legacy index says) and
runs: steps of at most `MIGRATION_BATCH` memories until `MIGRATION_RUN_S`
has passed (or `MIGRATION_RUN_STEPS` steps), then it lets the lease go and
rests in proportion to the run's time (`RunnerPolicy.rest_after`,
`--jobs-share`), and again, until a step finds no legacy document left and
drops the legacy index. A runner that finds the lease held waits for it
(`PERIODIC_TICK_S` at most) and asks again.

Each run is timed and counted like a periodic job's (`memrpc_job_runs`,
`memrpc_job_duration_seconds`, job `migration`); a failed run is logged
and tried again after `PERIODIC_RETRY_FIRST_S`. The progress (memories
converted, and left: the legacy index's `num_docs`) is logged when the
runner starts, every `MIGRATION_LOG_S` at most, and at the end.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from memrpc.jobs.runner import RunnerPolicy
from memrpc.jobs.steps import StepLoop
from memrpc.limits import (
    MIGRATION_LEASE_S,
    MIGRATION_LOG_S,
    MIGRATION_RUN_S,
    MIGRATION_RUN_STEPS,
    PERIODIC_RETRY_FIRST_S,
    PERIODIC_TICK_S,
)
from memrpc.store.memory_index import LEGACY_INDEX
from memrpc.store.migration import Migration, MigrationLease
from memrpc.store.redis_mux import RedisClient

log = logging.getLogger("memrpc.jobs")

NAME = "migration"


@dataclass
class MigrationState:
    """What a migration runner has seen last: for health and the log."""

    # Memories this runner converted; legacy documents left at its last run.
    converted: int = 0
    left: int = 0
    # Whether the legacy index is gone (the runner has ended).
    done: bool = False


class MigrationRunner:
    """Runs the migration to storage schema 4 until it is done, or stopped."""

    def __init__(self, redis: RedisClient, policy: RunnerPolicy) -> None:
        self.name = NAME
        self.state = MigrationState()
        self.loop = StepLoop(NAME, NAME)
        self._migration = Migration(redis)
        self._lease = MigrationLease(redis)
        self._policy = policy
        self._logged = 0.0

    async def stop(self) -> None:
        """Ends the loop after the run in progress."""
        self.loop.stop()

    async def run(self) -> None:
        """Runs until the migration is done or `stop`; a failed step (Redis
        unreachable) is retried after a backoff."""
        await self.loop.run(self._runs)

    async def _runs(self) -> None:
        if not await self._migration.pending():
            self._finish()
            return
        self.state.left = await self._migration.left()
        log.info("migration to storage schema 4: %d memories to convert", self.state.left)
        while not self.loop.stopping:
            held_ms = await self._lease.take(int(MIGRATION_LEASE_S * 1000))
            if held_ms:
                await self.loop.pause(min(held_ms / 1000, PERIODIC_TICK_S))
                if not await self._migration.pending():
                    self._finish()
                continue
            started = time.perf_counter()
            ran = await self.loop.timed(LEGACY_INDEX, self._run())
            self.loop.succeeded()
            if ran.error is not None:
                await self._lease.keep(int(PERIODIC_RETRY_FIRST_S * 1000))
                continue
            await self._lease.keep(1)  # anyone's turn, this runner's after its rest
            if ran.value:
                self._finish()
                return
            await self.loop.pause(self._policy.rest_after(time.perf_counter() - started))

    async def _run(self) -> bool:
        """One run: steps until its time or count is out; True when the
        migration is done."""
        vector_type = await self._migration.vector_type()
        deadline = time.perf_counter() + MIGRATION_RUN_S
        for _ in range(MIGRATION_RUN_STEPS):
            step = await self._migration.step(vector_type)
            self.state.converted += step.converted
            if step.dropped:
                return True
            if time.perf_counter() > deadline or self.loop.stopping:
                break
        if time.monotonic() > self._logged + MIGRATION_LOG_S:
            self._logged = time.monotonic()
            self.state.left = await self._migration.left()
            log.info(
                "migration to storage schema 4: %d memories converted here, %d left",
                self.state.converted,
                self.state.left,
            )
        return False

    def _finish(self) -> None:
        """The legacy index is gone: the runner ends."""
        if not self.state.done and self.state.converted:
            log.info(
                "migration to storage schema 4 done: %d memories converted here, %s dropped",
                self.state.converted,
                LEGACY_INDEX,
            )
        self.state.done = True
        self.state.left = 0
        self.loop.stop()
