"""Prometheus metrics: every metric of the server, defined here, and the
endpoint that serves them (`--metrics-listen`, off by default).

Each metric is named `memrpc_...` with its unit in the name. The layers
that count call the small hooks below (a store or the tail fan-out may:
this module knows neither gRPC nor Redis), and every hook returns at once
while metrics are off (`enable` was not called), so a server without
`--metrics-listen` pays one flag test per hook:

- calls: `call_ended` from the correlation interceptor's end-of-call hook,
  counted by method and status code, timed per method;
- Redis: `redis_command` from `RedisMux.execute` (and `ClusterMux.execute`,
  once per command whichever nodes it took), timed per command name
  (the first word, and a script's name: a bounded set), errors counted by
  exception type;
- embedding: the batcher sets the queue depth on each change, observes each
  batch's size and counts the texts it sheds;
- tails: `tails_sampled` sets the open tails and their queues from the
  hub's `stats()` once a `SAMPLE_PERIOD_S` (not per event); a subscriber
  dropped for lagging is counted when it is;
- consumer groups: `consumer_group_lag` observes, after each
  ReceiveEvents, the feed entries its group has not yet been delivered
  (`XINFO GROUPS` lag): a histogram over all groups, as a label per
  namespace and group would have no bound;
- background jobs (`memrpc/jobs/`): each runner samples its group's lag
  (entries of every feed not yet delivered, `XINFO GROUPS` lag, summed)
  and pending entries (delivered, unacknowledged) once a `JOB_SAMPLE_S`
  (`job_sampled`; the most recent sample of any live process, as every
  runner of a job sees the same groups); job runs are counted by outcome
  and timed, dead-lettered entries and failed runner steps (Redis errors)
  counted, by job (label `job_name`: Prometheus keeps `job` for its
  scrape jobs); the running-summary job counts the turns it folds, the
  forgetting job the memories it forgets, by rule, the consolidation job
  the memories it examines, merges and supersedes; the periodic jobs'
  runs are counted and timed like the others, by job;
- the language model (`memrpc/llm/`): each job's calls counted by outcome
  and timed, the tokens of their replies' `usage` and their retries
  counted;
- access tracking (`access_recorder.py`): the memories searches returned,
  recorded or dropped for a full recorder (`accesses_recorded`), and the
  time each flush of them to Redis took (`access_flushed`);
- searches: `searched` counts the searches of long-term memories by
  recall mode (`vector`, `keyword`, `hybrid`);
- refusals: `refused` counts calls refused for a quota by the setting that
  refused them (`tenant_rate`, `tenant_max_in_flight`, `embed_queue_max`);
  not by tenant, whose number has no bound (the logs name the tenant).

With `--workers N`, prometheus_client's multiprocess mode
aggregates the workers: the supervisor points `PROMETHEUS_MULTIPROC_DIR` at
a fresh directory before starting them, each worker's metrics go to files
there, and the supervisor alone serves `/metrics` (`workers_metrics`), summing counters and
histograms over every worker that ever ran (restarted ones too), and gauges
over the live ones.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

log = logging.getLogger("memrpc.server")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# How often the sampled gauges (the tails) are brought up to date.
SAMPLE_PERIOD_S = 1.0
# Seconds: from a sub-millisecond read to a tail of minutes.
_LATENCY_BUCKETS_S = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 600.0,
)  # fmt: skip
_COUNT_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096, 16384, 65536)

RPC_CALLS = Counter(
    "memrpc_rpc_calls", "RPCs ended, by full method name and gRPC status code", ("method", "code")
)
RPC_DURATION = Histogram(
    "memrpc_rpc_duration_seconds",
    "Time from the start of an RPC to its end (a stream's whole life), by full method name",
    ("method",),
    buckets=_LATENCY_BUCKETS_S,
)
REDIS_DURATION = Histogram(
    "memrpc_redis_command_duration_seconds",
    "Time from sending a command on the shared Redis connection to its reply, by command name",
    ("command",),
    buckets=_LATENCY_BUCKETS_S,
)
REDIS_ERRORS = Counter(
    "memrpc_redis_command_errors",
    "Redis commands failed (error reply, timeout, lost connection), by command and error type",
    ("command", "error"),
)
EMBED_QUEUE = Gauge(
    "memrpc_embed_queue_texts",
    "Texts of calls waiting for an embedding batch (not the background lane's)",
    multiprocess_mode="livesum",
)
EMBED_BATCH = Histogram(
    "memrpc_embed_batch_texts", "Texts in each batch sent to the model", buckets=_COUNT_BUCKETS
)
EMBED_SHED = Counter(
    "memrpc_embed_shed_texts", "Texts refused because the embedding queue was full"
)
TAILS_OPEN = Gauge(
    "memrpc_tails_open", "Open tails (TailEvents streams)", multiprocess_mode="livesum"
)
TAILS_FAILED = Gauge(
    "memrpc_tails_failed",
    "Open tails that failed and are about to end",
    multiprocess_mode="livesum",
)
TAILS_QUEUED_EVENTS = Gauge(
    "memrpc_tails_queued_events",
    "Events read for open tails and not yet sent (the tails' lag)",
    multiprocess_mode="livesum",
)
TAILS_QUEUED_BYTES = Gauge(
    "memrpc_tails_queued_bytes",
    "Bytes of the events queued for open tails",
    multiprocess_mode="livesum",
)
TAILS_DROPPED_SLOW = Counter(
    "memrpc_tails_dropped_slow",
    "Tails ended for lagging more than --tail-max-lag-events behind their threads",
)
GROUP_LAG = Histogram(
    "memrpc_consumer_group_lag_events",
    "Feed entries a consumer group had not been delivered yet, after each ReceiveEvents",
    buckets=_COUNT_BUCKETS,
)
JOB_LAG = Gauge(
    "memrpc_job_lag_events",
    "Feed entries a background job's group has not been delivered yet, over every namespace",
    ("job_name",),
    multiprocess_mode="livemostrecent",
)
JOB_PENDING = Gauge(
    "memrpc_job_pending_entries",
    "Feed entries delivered to a background job and not acknowledged yet (in progress, "
    "or waiting to be claimed again), over every namespace",
    ("job_name",),
    multiprocess_mode="livemostrecent",
)
JOB_RUNS = Counter(
    "memrpc_job_runs",
    "Background job runs (one per thread and batch), by job and outcome (done, failed)",
    ("job_name", "outcome"),
)
JOB_DURATION = Histogram(
    "memrpc_job_duration_seconds",
    "Time one background job run took, by job",
    ("job_name",),
    buckets=_LATENCY_BUCKETS_S,
)
JOB_DEAD_LETTERS = Counter(
    "memrpc_job_dead_letters",
    "Feed entries a background job gave up on after its most deliveries (moved to the "
    "namespace's dead-letter stream), by job",
    ("job_name",),
)
JOB_STEP_ERRORS = Counter(
    "memrpc_job_step_errors",
    "Steps of a background job's runner that failed (Redis unreachable...) and were retried "
    "after a backoff, by job",
    ("job_name",),
)
SUMMARY_FOLDED_TURNS = Counter("memrpc_summary_folded_turns", "Turns folded into running summaries")
FORMED_MEMORIES = Counter(
    "memrpc_formed_memories",
    "Memories formed from the turns that left windows, by outcome",
    ("outcome",),
)
REEMBED_VECTORS = Counter(
    "memrpc_reembed_vectors",
    "Vectors the re-embed job wrote of memories lacking the vector of the model moved to",
)
REEMBED_MOVES = Counter(
    "memrpc_reembed_moves", "Moves to another embedding model that the re-embed job ended"
)
CONSOLIDATED = Counter(
    "memrpc_consolidation_memories",
    "Memories the consolidation job examined, merged away, or marked superseded, by outcome",
    ("outcome",),
)
LLM_CALLS = Counter(
    "memrpc_llm_calls",
    "Calls of the background jobs to the language model, by job and outcome (ok, or why it "
    "gave up: malformed, timeout, rate_limited, unavailable, refused)",
    ("job_name", "outcome"),
)
LLM_DURATION = Histogram(
    "memrpc_llm_call_duration_seconds",
    "Time one call to the language model took, its retries included, by job",
    ("job_name",),
    buckets=_LATENCY_BUCKETS_S,
)
LLM_TOKENS = Counter(
    "memrpc_llm_tokens",
    "Tokens the language model reported (`usage`), by job and direction (in: the prompt, "
    "out: the completion), retries included",
    ("job_name", "direction"),
)
LLM_RETRIES = Counter(
    "memrpc_llm_retries",
    "Attempts of calls to the language model repeated after a failed one, by job and the "
    "failure (malformed, timeout, rate_limited, unavailable)",
    ("job_name", "reason"),
)
EXTRACTED_FACTS = Counter(
    "memrpc_extracted_facts",
    "Facts a language model extracted from the turns that left windows, formed as semantic "
    "memories, by outcome",
    ("outcome",),
)
FORGOTTEN_MEMORIES = Counter(
    "memrpc_memories_forgotten",
    "Memories the forgetting job forgot, by rule (budget, unrecalled)",
    ("rule",),
)
ACCESSES_RECORDED = Counter(
    "memrpc_memory_accesses_recorded",
    "Memories returned by searches, recorded for their access counts (written within about "
    "a second)",
)
ACCESSES_DROPPED = Counter(
    "memrpc_memory_accesses_dropped",
    "Memories returned by searches whose access was not recorded: the recorder held its "
    "most memories waiting to be written",
)
ACCESS_FLUSH_DURATION = Histogram(
    "memrpc_memory_access_flush_seconds",
    "Time one write of the recorded accesses to Redis took (every memory waiting, in batches)",
    buckets=_LATENCY_BUCKETS_S,
)
SEARCHES = Counter(
    "memrpc_searches",
    "Searches of long-term memories (SearchMemories, GetContext), by recall mode",
    ("mode",),
)
REFUSED = Counter(
    "memrpc_refused_calls",
    "Calls refused for a quota, by the setting that refused them",
    ("setting",),
)
# The labelled children of the hot-path metrics, looked up once per label
# values (`labels()` takes a lock and builds a key each time, ~1 µs).
_rpc_calls = functools.cache(RPC_CALLS.labels)
_rpc_duration = functools.cache(RPC_DURATION.labels)
_redis_duration = functools.cache(REDIS_DURATION.labels)
_searches = functools.cache(SEARCHES.labels)


class _Switch:
    on = False


_switch = _Switch()


def enable() -> None:
    """Turns the hooks on (for the process: metrics are process-wide)."""
    _switch.on = True


def disable() -> None:
    """Turns the hooks off again (a stopped server, in tests)."""
    _switch.on = False


def enabled() -> bool:
    """Whether the hooks count."""
    return _switch.on


def call_ended(method: str, code: str, seconds: float) -> None:
    """An RPC ended with status `code` (`OK`, `NOT_FOUND`, ...)."""
    if _switch.on:
        _rpc_calls(method, code).inc()
        _rpc_duration(method).observe(seconds)


def redis_command(command: str, seconds: float, error: BaseException | None) -> None:
    """A command on the shared connection got its reply, or failed."""
    if _switch.on:
        _redis_duration(command).observe(seconds)
        if error is not None:
            REDIS_ERRORS.labels(command, type(error).__name__).inc()


def embed_queue(texts: int) -> None:
    """The embedding queue (of calls; not the background lane) now holds `texts` texts."""
    if _switch.on:
        EMBED_QUEUE.set(texts)


def embed_batch(texts: int) -> None:
    """A batch of `texts` texts went to the model."""
    if _switch.on:
        EMBED_BATCH.observe(texts)


def embed_shed(texts: int) -> None:
    """A call's `texts` new texts were refused for a full queue."""
    if _switch.on:
        EMBED_SHED.inc(texts)
        REFUSED.labels("embed_queue_max").inc()


def tails_sampled(open_tails: int, failed: int, queued_events: int, queued_bytes: int) -> None:
    """What the tails hold now (`TailHub.stats()`)."""
    if _switch.on:
        TAILS_OPEN.set(open_tails)
        TAILS_FAILED.set(failed)
        TAILS_QUEUED_EVENTS.set(queued_events)
        TAILS_QUEUED_BYTES.set(queued_bytes)


def tail_dropped_slow() -> None:
    """A tail failed for lagging too far."""
    if _switch.on:
        TAILS_DROPPED_SLOW.inc()


def consumer_group_lag(entries: int) -> None:
    """A group had `entries` feed entries left to deliver after a receive."""
    if _switch.on:
        GROUP_LAG.observe(entries)


def job_sampled(job: str, lag: int, pending: int) -> None:
    """A job's groups have `lag` entries to deliver and `pending` unacknowledged."""
    if _switch.on:
        JOB_LAG.labels(job).set(lag)
        JOB_PENDING.labels(job).set(pending)


def job_ran(job: str, *, ok: bool, seconds: float) -> None:
    """A job run ended, done or failed."""
    if _switch.on:
        JOB_RUNS.labels(job, "done" if ok else "failed").inc()
        JOB_DURATION.labels(job).observe(seconds)


def job_dead_letter(job: str) -> None:
    """A job gave up on a feed entry."""
    if _switch.on:
        JOB_DEAD_LETTERS.labels(job).inc()


def job_step_failed(job: str) -> None:
    """A step of a job's runner failed and is retried."""
    if _switch.on:
        JOB_STEP_ERRORS.labels(job).inc()


def turns_folded(turns: int) -> None:
    """`turns` turns were folded into a running summary."""
    if _switch.on:
        SUMMARY_FOLDED_TURNS.inc(turns)


def memory_formed(duplicate: bool) -> None:
    """The formation job formed a memory (`duplicate`: it repeated a live
    memory, which gained a hit)."""
    if _switch.on:
        FORMED_MEMORIES.labels("duplicate" if duplicate else "created").inc()


def reembed_filled(vectors: int) -> None:
    """The re-embed job wrote `vectors` vectors of the model moved to."""
    if _switch.on:
        REEMBED_VECTORS.inc(vectors)


def reembed_moved() -> None:
    """The re-embed job ended a move: the new model is the default."""
    if _switch.on:
        REEMBED_MOVES.inc()


def consolidated(outcome: str) -> None:
    """The consolidation job examined, merged (away) or superseded a memory."""
    if _switch.on:
        CONSOLIDATED.labels(outcome).inc()


def llm_call(job: str, outcome: str, seconds: float) -> None:
    """A job's call to the language model ended: `ok`, or the `Failure` it
    gave up on."""
    if _switch.on:
        LLM_CALLS.labels(job, outcome).inc()
        LLM_DURATION.labels(job).observe(seconds)


def llm_tokens(job: str, prompt: int, completion: int) -> None:
    """An attempt of a job's call used `prompt` tokens in, `completion` out."""
    if _switch.on:
        LLM_TOKENS.labels(job, "in").inc(prompt)
        LLM_TOKENS.labels(job, "out").inc(completion)


def llm_retry(job: str, reason: str) -> None:
    """A job's call to the language model is attempted again after `reason`."""
    if _switch.on:
        LLM_RETRIES.labels(job, reason).inc()


def fact_extracted(duplicate: bool) -> None:
    """The formation job formed an extracted fact (`duplicate`: it repeated
    a live memory, which gained a hit)."""
    if _switch.on:
        EXTRACTED_FACTS.labels("duplicate" if duplicate else "created").inc()


def memories_forgotten(rule: str, count: int) -> None:
    """The forgetting job forgot `count` memories by `rule` (`budget`,
    `unrecalled`)."""
    if _switch.on and count:
        FORGOTTEN_MEMORIES.labels(rule).inc(count)


def accesses_recorded(recorded: int, dropped: int) -> None:
    """A search's matches: `recorded` of them recorded, `dropped` not."""
    if _switch.on:
        if recorded:
            ACCESSES_RECORDED.inc(recorded)
        if dropped:
            ACCESSES_DROPPED.inc(dropped)


def access_flushed(seconds: float) -> None:
    """A flush of the recorded accesses took `seconds`."""
    if _switch.on:
        ACCESS_FLUSH_DURATION.observe(seconds)


def searched(mode: str) -> None:
    """A search of long-term memories ran in recall mode `mode`."""
    if _switch.on:
        _searches(mode).inc()


def refused(setting: str) -> None:
    """A call was refused by the quota of `setting`."""
    if _switch.on:
        REFUSED.labels(setting).inc()


class Endpoint:
    """An HTTP server answering `GET /metrics`, on a thread of its own."""

    def __init__(self, listen: str, registry: CollectorRegistry = REGISTRY) -> None:
        host, port = split_listen(listen)
        server, thread = start_http_server(port, host, registry)
        self._server: WSGIServer = server
        self._thread: threading.Thread = thread
        self.port: int = server.server_port

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def split_listen(listen: str) -> tuple[str, int]:
    """`host:port` (`[v6]:port` too, as `Settings.validate` checks it) as a
    host and a port."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


@contextmanager
def workers_metrics(listen: str | None) -> Iterator[None]:
    """While the context lasts, with `listen` set: a fresh directory for
    the workers' metrics, named in the environment that the workers
    inherit, and the endpoint serving their sum; both gone after."""
    if listen is None:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="memrpc-metrics-") as path:
        os.environ[MULTIPROC_ENV] = path
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        endpoint = Endpoint(listen, registry)
        log.info(
            "serving the workers' metrics on http://%s:%d/metrics",
            listen.rpartition(":")[0],
            endpoint.port,
        )
        try:
            yield
        finally:
            endpoint.close()
            del os.environ[MULTIPROC_ENV]


def worker_exited(pid: int | None) -> None:
    """Drops a dead worker's gauges (its counters stay in the sums)."""
    if pid is not None and MULTIPROC_ENV in os.environ:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
