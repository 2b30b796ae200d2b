"""The background jobs of one process, started and stopped together: in
`memrpc serve` (unless `--jobs=false`) beside the gRPC services, in
`memrpc worker` alone.

Each job on events gets one runner (`runner.py`) with a consumer of its
own; the runners of every process share the work through the consumer
groups. Each periodic job gets one runner (`periodic.py`); those of every
process share the namespaces through leases. The migration of memories
stored by older versions gets one runner too (`migration.py`), which ends
once there is none. `healthy` and `describe` sum their state up for
health and the logs.

With `--llm-url`, the process's jobs share one language model client
(`llm/openai.py`), made at start (its key file read then) and closed when
the jobs stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from memrpc.config import Settings, redacted_url
from memrpc.jobs.base import Job, PeriodicJob, group_of
from memrpc.jobs.consolidation import ConsolidationJob
from memrpc.jobs.fold import FoldJob
from memrpc.jobs.forgetting import ForgettingJob
from memrpc.jobs.formation import FormationJob
from memrpc.jobs.migration import MigrationRunner
from memrpc.jobs.periodic import PeriodicRunner
from memrpc.jobs.reembed import ReembedRunner
from memrpc.jobs.runner import JobRunner, RunnerPolicy
from memrpc.limits import JOB_DEAD_MAX_LEN
from memrpc.llm.jobs_model import JobsModel
from memrpc.llm.openai import OpenAICompatibleModel
from memrpc.models import Models
from memrpc.namespace_defaults import DefaultsSource
from memrpc.store.cluster_mux import is_cluster_url
from memrpc.store.consolidation import ConsolidationStore
from memrpc.store.events import EventStore, Retention
from memrpc.store.forgetting import ForgettingStore
from memrpc.store.formation import FormationStore
from memrpc.store.job_feeds import JobFeeds
from memrpc.store.leases import Leases
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE, VectorType
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import RedisClient
from memrpc.store.summaries import SummaryStore
from memrpc.summaries.extractive import ExtractiveSummarizer

log = logging.getLogger("memrpc.jobs")


@dataclass(frozen=True)
class Jobs:
    """The background jobs of a process: on events, and periodic."""

    events: list[Job]
    periodic: list[PeriodicJob]


def process_jobs(
    redis: RedisClient,
    models: Models,
    defaults: DefaultsSource,
    retention: Retention,
    model: JobsModel | None = None,
    *,
    vector_type: VectorType = DEFAULT_VECTOR_TYPE,
) -> Jobs:
    """Every background job, as one process runs them, with the language
    `model` if any, on memories whose vectors are `vector_type` values, of
    `models` (each namespace's). They embed in the embedders' background
    lanes: never refused for a full queue, behind the interactive calls of
    the same process. The events they record (the memory changes) are kept
    as `retention` says."""
    background = models.background()
    summarizer = ExtractiveSummarizer(background.default.embedder)
    events = EventStore(redis, retention)
    long_term = background.store(vector_type)
    consolidation = ConsolidationStore(redis, long_term, events)
    return Jobs(
        events=[
            FoldJob(SummaryStore(redis), summarizer, defaults, model),
            FormationJob(FormationStore(redis, long_term), summarizer, background, defaults, model),
        ],
        periodic=[
            ConsolidationJob(consolidation, defaults, model),
            ForgettingJob(ForgettingStore(redis, retention, vector_type), defaults),
        ],
    )


class BackgroundJobs:
    """The runners of a process's jobs."""

    def __init__(
        self,
        redis: RedisClient,
        jobs: Jobs,
        policy: RunnerPolicy,
        model: OpenAICompatibleModel | None = None,
        *,
        reembed: ReembedRunner | None = None,
        by_slot: bool = False,
    ) -> None:
        """The runners of `jobs`, and `reembed`'s (None: no re-embed
        runner, as in a process that holds no model); `by_slot`: `redis`
        is a Redis Cluster, whose feeds are read by slot."""
        self._model = model
        namespaces = NamespaceSet(redis)
        self.runners = [
            JobRunner(job, JobFeeds(redis, group_of(job), dead_max_len=JOB_DEAD_MAX_LEN),
                      namespaces, policy, by_slot=by_slot)
            for job in jobs.events
        ]  # fmt: skip
        self.periodic = [
            PeriodicRunner(job, Leases(redis, job.name), namespaces, policy)
            for job in jobs.periodic
        ]
        self.migration = MigrationRunner(redis, policy)
        self.reembed = reembed
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_settings(
        cls,
        redis: RedisClient,
        models: Models,
        settings: Settings,
        defaults: DefaultsSource,
        *,
        in_server: bool,
    ) -> BackgroundJobs:
        """Every job, with the policy of the settings (`in_server`: beside
        the calls of `memrpc serve`, in their share of the time); the feeds
        are read by slot when `--redis-url` names a Redis Cluster."""
        policy = RunnerPolicy.from_settings(settings, in_server=in_server)
        by_slot = settings.redis_url is not None and is_cluster_url(settings.redis_url)
        retention = Retention.from_settings(settings)
        model = OpenAICompatibleModel.from_settings(settings, redis, defaults)
        vector_type = VectorType(settings.vector_type)
        reembed = ReembedRunner(redis, models.background(), policy, vector_type)
        if model is None:
            jobs = process_jobs(redis, models, defaults, retention, vector_type=vector_type)
            return cls(redis, jobs, policy, reembed=reembed, by_slot=by_slot)
        log.info("background jobs: language model %s at %s", model.name, redacted_url(model.url))
        if settings.llm_timeout * settings.llm_max_attempts > settings.job_claim_idle:
            log.warning(
                "--llm-timeout x --llm-max-attempts (%g s) exceeds --job-claim-idle (%g s): a "
                "job run waiting on slow calls may be claimed again by another runner meanwhile",
                settings.llm_timeout * settings.llm_max_attempts,
                settings.job_claim_idle,
            )
        events = EventStore(redis, retention)
        jobs = process_jobs(
            redis, models, defaults, retention, JobsModel(model, events), vector_type=vector_type
        )
        return cls(redis, jobs, policy, model, reembed=reembed, by_slot=by_slot)

    def _all(self) -> list[JobRunner | PeriodicRunner | MigrationRunner | ReembedRunner]:
        reembed = [] if self.reembed is None else [self.reembed]
        return [*self.runners, *self.periodic, self.migration, *reembed]

    def start(self) -> None:
        """Starts every runner, each a task."""
        self._tasks = [asyncio.create_task(runner.run()) for runner in self._all()]

    async def stop(self, grace: float) -> None:
        """Asks every runner to stop after its step in progress, waits up to
        `grace` seconds, then cancels those still running (their entries
        not acknowledged are claimed again by other runners); then closes
        the language model's connections."""
        for runner in self._all():
            await runner.stop()
        if self._tasks:
            _, running = await asyncio.wait(self._tasks, timeout=grace)
            for task in running:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if running:
                log.warning("background jobs: %d runner(s) cancelled mid-batch", len(running))
        if self._model is not None:
            await self._model.aclose()

    @property
    def healthy(self) -> bool:
        """Whether every runner's last step succeeded."""
        return not any(runner.loop.error for runner in self._all())

    def describe(self) -> str:
        """Each runner's lag, pending entries (periodic: namespaces on, and
        unfinished; the migration: memories left until it is done; the re-embed:
        namespaces left) and
        error, in one line."""
        parts = [
            f"{group_of(runner.job)}: {runner.state.lag} behind, "
            f"{runner.state.pending} pending" + _failing(runner.loop.error)
            for runner in self.runners
        ]
        parts += [
            f"{runner.job.name}: {runner.state.namespaces} namespaces on, "
            f"{runner.state.unfinished} unfinished" + _failing(runner.loop.error)
            for runner in self.periodic
        ]
        if not self.migration.state.done:
            migration = self.migration
            parts.append(
                f"{migration.name}: {migration.state.left} left" + _failing(migration.loop.error)
            )
        if self.reembed is not None and not self.reembed.state.done:
            reembed = self.reembed
            parts.append(
                f"{reembed.name}: {reembed.state.left} namespaces left"
                + _failing(reembed.loop.error)
            )
        return "; ".join(parts)


def _failing(error: str) -> str:
    return f", failing: {error}" if error else ""
