"""`memrpc worker`: a process that runs the background jobs only, no gRPC.

It takes the settings of `memrpc serve` (those of Redis, the model, the
background jobs, the logs and --metrics-listen matter to it) and runs every
job on the consumer groups, so any number of worker processes, on any hosts,
share the work with each other and with the servers running jobs
in-process. Without --redis-url it uses the embedded Redis of a
`memrpc serve` sharing its --data-dir (`<data-dir>/redis.sock`).

SIGTERM or SIGINT stops it: each runner ends after the batch in progress,
within --shutdown-grace, or abandons it (the entries it had not acknowledged
are claimed again by other runners after --job-claim-idle).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Sequence

from memrpc import metrics
from memrpc.config import Settings, redacted_url
from memrpc.embedding import Embedder
from memrpc.jobs.runtime import BackgroundJobs
from memrpc.limits import Limits
from memrpc.namespace_cache import NamespaceCache
from memrpc.namespace_defaults import server_defaults
from memrpc.redis_check import reach
from memrpc.schema_check import check_schema
from memrpc.server import add_model_field, bound_address, check_models, connect_redis, load_models
from memrpc.shutdown import Signals
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_indexes import MemoryIndexes
from memrpc.store.namespace_settings import NamespaceSettingsStore

log = logging.getLogger("memrpc.jobs")


def redis_url(settings: Settings) -> str:
    """The Redis a worker uses: --redis-url, else the socket of the embedded
    Redis of a `memrpc serve` with the same --data-dir."""
    if settings.redis_url:
        return settings.redis_url
    return f"unix://{(settings.data_dir / 'redis.sock').resolve()}"


async def run_worker(
    settings: Settings,
    *,
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Runs the background jobs until one of `signals`; calls `on_ready`
    once they run."""
    settings.validate()
    url = redis_url(settings)
    redis = connect_redis(settings, url)
    embedders: list[Embedder] = []
    endpoint = None
    jobs = None
    try:
        info = await reach(redis, url, timeout=settings.redis_start_timeout)
        embedders = await load_models(settings)
        served = await check_models(redis, embedders, settings, url)
        await check_schema(redis, url)
        if await MemoryIndexes(redis).made():  # else a server makes them
            await add_model_field(served.store(VectorType(settings.vector_type)), served)
        if settings.metrics_listen is not None:
            metrics.enable()
            endpoint = metrics.Endpoint(settings.metrics_listen)
            log.info(
                "serving metrics on http://%s/metrics",
                bound_address(settings.metrics_listen, endpoint.port),
            )
        received = Signals(signals)
        # The namespaces' settings, as the servers read them (cached 2 s).
        defaults = server_defaults(Limits.from_settings(settings))
        jobs = BackgroundJobs.from_settings(
            redis,
            served,
            settings,
            NamespaceCache(NamespaceSettingsStore(redis), defaults),
            in_server=False,
        )
        jobs.start()
        log.info(
            "memrpc worker running the background jobs; Redis %s (%s)", redacted_url(url), info
        )
        if on_ready is not None:
            on_ready()
        await received.stop.wait()
        log.info("stopping: the jobs finish their batches within %.1f s", settings.shutdown_grace)
    finally:
        if jobs is not None:
            await jobs.stop(settings.shutdown_grace)
        for embedder in embedders:
            await embedder.aclose()
        await redis.aclose()
        if endpoint is not None:
            endpoint.close()
            metrics.disable()
    log.info("stopped")
