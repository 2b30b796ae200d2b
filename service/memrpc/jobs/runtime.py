"""The background jobs of one process, started and stopped together: in
`memrpc serve` (unless `--jobs=false`) beside the gRPC services, in
`memrpc worker` alone.

Each job gets one runner (`runner.py`) with a consumer of its own; the
runners of every process share the work through the consumer groups.
`healthy` and `describe` sum their state up for health and the logs.

With `--llm-url`, the process's jobs share one language model client
(`llm/openai.py`), made at start (its key file read then) and closed when
the jobs stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from memrpc.config import Settings, redacted_url
from memrpc.embedding import Embedder
from memrpc.jobs.base import Job, group_of
from memrpc.jobs.fold import FoldJob
from memrpc.jobs.formation import FormationJob
from memrpc.jobs.runner import JobRunner, RunnerPolicy
from memrpc.limits import JOB_DEAD_MAX_LEN
from memrpc.llm.jobs_model import JobsModel
from memrpc.llm.openai import OpenAICompatibleModel
from memrpc.namespace_defaults import DefaultsSource
from memrpc.store.events import EventStore, Retention
from memrpc.store.formation import FormationStore
from memrpc.store.job_feeds import JobFeeds
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import RedisMux
from memrpc.store.summaries import SummaryStore
from memrpc.summaries.extractive import ExtractiveSummarizer

log = logging.getLogger("memrpc.jobs")


def process_jobs(
    redis: RedisMux,
    embedder: Embedder,
    defaults: DefaultsSource,
    model: JobsModel | None = None,
) -> list[Job]:
    """Every background job, as one process runs them, with the language
    `model` if any. They embed in the embedder's background lane: never
    refused for a full queue, behind the interactive calls of the same
    process."""
    summarizer = ExtractiveSummarizer(embedder.background())
    return [
        FoldJob(SummaryStore(redis), summarizer, defaults, model),
        FormationJob(FormationStore(redis), summarizer, embedder.background(), defaults, model),
    ]


class BackgroundJobs:
    """The runners of a process's jobs."""

    def __init__(
        self,
        redis: RedisMux,
        jobs: list[Job],
        policy: RunnerPolicy,
        model: OpenAICompatibleModel | None = None,
    ) -> None:
        self._model = model
        namespaces = NamespaceSet(redis)
        self.runners = [
            JobRunner(job, JobFeeds(redis, group_of(job), dead_max_len=JOB_DEAD_MAX_LEN),
                      namespaces, policy)
            for job in jobs
        ]  # fmt: skip
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_settings(
        cls,
        redis: RedisMux,
        embedder: Embedder,
        settings: Settings,
        defaults: DefaultsSource,
        *,
        in_server: bool,
    ) -> BackgroundJobs:
        """Every job, with the policy of the settings (`in_server`: beside
        the calls of `memrpc serve`, in their share of the time)."""
        policy = RunnerPolicy.from_settings(settings, in_server=in_server)
        model = OpenAICompatibleModel.from_settings(settings, redis, defaults)
        if model is None:
            return cls(redis, process_jobs(redis, embedder, defaults), policy)
        log.info("background jobs: language model %s at %s", model.name, redacted_url(model.url))
        if settings.llm_timeout * settings.llm_max_attempts > settings.job_claim_idle:
            log.warning(
                "--llm-timeout x --llm-max-attempts (%g s) exceeds --job-claim-idle (%g s): a "
                "job run waiting on slow calls may be claimed again by another runner meanwhile",
                settings.llm_timeout * settings.llm_max_attempts,
                settings.job_claim_idle,
            )
        events = EventStore(redis, Retention.from_settings(settings))
        jobs = process_jobs(redis, embedder, defaults, JobsModel(model, events))
        return cls(redis, jobs, policy, model)

    def start(self) -> None:
        """Starts every runner, each a task."""
        self._tasks = [asyncio.create_task(runner.run()) for runner in self.runners]

    async def stop(self, grace: float) -> None:
        """Asks every runner to stop after its step in progress, waits up to
        `grace` seconds, then cancels those still running (their entries
        not acknowledged are claimed again by other runners); then closes
        the language model's connections."""
        for runner in self.runners:
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
        return not any(runner.state.error for runner in self.runners)

    def describe(self) -> str:
        """Each runner's lag, pending entries and error, in one line."""
        return "; ".join(
            f"{group_of(runner.job)}: {runner.state.lag} behind, {runner.state.pending} pending"
            + (f", failing: {runner.state.error}" if runner.state.error else "")
            for runner in self.runners
        )
