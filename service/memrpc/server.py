"""The memrpc gRPC server: the memrpc services, health and reflection, on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import cast

import grpc
import redis.exceptions
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from memrpc import metrics, models, reflection
from memrpc.access_recorder import AccessRecorder
from memrpc.api.administration import AdministrationServicer
from memrpc.api.checkpoints import CheckpointsServicer
from memrpc.api.event_log import EventLogServicer
from memrpc.api.long_term_memory import LongTermMemoryServicer
from memrpc.api.memory_search import MemorySearch
from memrpc.api.namespaces import NamespacesServicer
from memrpc.api.portability import PortabilityServicer
from memrpc.api.working_memory import WorkingMemoryServicer
from memrpc.auth import auth_interceptors, check_settings
from memrpc.auth.keys import KeyRing
from memrpc.auth.scopes import METHOD_ACCESS, READ
from memrpc.config import Settings, SettingsError, effective, redacted_url
from memrpc.connections import server_options
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import Embedder, EmbeddingError, load_default_embedder
from memrpc.http.door import HttpDoor
from memrpc.jobs.runtime import BackgroundJobs
from memrpc.limits import DURABILITY_REPLICAS, Limits
from memrpc.llm.openai import api_key
from memrpc.model_check import check_model
from memrpc.models import Models
from memrpc.namespace_cache import NamespaceCache
from memrpc.namespace_defaults import server_defaults
from memrpc.redis_check import check_vector_type, connect_url, reach
from memrpc.rpc.audit import AuditInterceptor
from memrpc.rpc.correlation import CorrelationInterceptor, stamp_log_records
from memrpc.rpc.deadline import DefaultDeadlineInterceptor
from memrpc.rpc.decoding import DecodingInterceptor
from memrpc.rpc.durability import DurabilityInterceptor
from memrpc.rpc.fairness import FairnessInterceptor
from memrpc.rpc.pipeline import Pipeline, Registry
from memrpc.schema_check import check_schema
from memrpc.shutdown import Health, Signals
from memrpc.store.audit_log import KEYS_FILE, AuditLog
from memrpc.store.checkpoints import CheckpointStore
from memrpc.store.cluster_mux import client_for, is_cluster_url
from memrpc.store.erasure import Eraser
from memrpc.store.events import EventStore, Retention
from memrpc.store.export_reader import ExportReader
from memrpc.store.import_writer import ImportWriter
from memrpc.store.long_term import LongTermStore, VectorTypeMismatch
from memrpc.store.memory_document import VectorType
from memrpc.store.namespace_deletion import NamespaceDeleter
from memrpc.store.namespace_settings import NamespaceSettingsStore
from memrpc.store.redis_mux import RedisClient
from memrpc.store.replica_ack import ReplicaAck
from memrpc.store.working import WorkingStore
from memrpc.tails import TailHub
from memrpc.telemetry.export import SpanExport
from memrpc.tls import check_files, http_ssl_context, server_credentials, transport_name
from memrpc.v1 import (
    administration_pb2,
    administration_pb2_grpc,
    checkpoints_pb2,
    checkpoints_pb2_grpc,
    event_log_pb2,
    event_log_pb2_grpc,
    long_term_memory_pb2,
    long_term_memory_pb2_grpc,
    namespace_settings_pb2,
    namespace_settings_pb2_grpc,
    portability_pb2,
    portability_pb2_grpc,
    working_memory_pb2,
    working_memory_pb2_grpc,
)
from memrpc.version import VERSION

log = logging.getLogger("memrpc.server")

SERVICE_NAMES = (
    working_memory_pb2.DESCRIPTOR.services_by_name["WorkingMemory"].full_name,
    long_term_memory_pb2.DESCRIPTOR.services_by_name["LongTermMemory"].full_name,
    event_log_pb2.DESCRIPTOR.services_by_name["EventLog"].full_name,
    namespace_settings_pb2.DESCRIPTOR.services_by_name["Namespaces"].full_name,
    administration_pb2.DESCRIPTOR.services_by_name["Administration"].full_name,
    portability_pb2.DESCRIPTOR.services_by_name["Portability"].full_name,
    checkpoints_pb2.DESCRIPTOR.services_by_name["Checkpoints"].full_name,
)
# The health name for liveness probes: SERVING from start to drain whether
# Redis answers or not, so that a Redis outage takes pods out of rotation
# (readiness, on "" and SERVICE_NAMES) without restarting them in a loop.
LIVENESS_SERVICE = "memrpc.liveness"
# The health name of the background jobs (with --jobs): SERVING while their
# runners' last steps succeeded, NOT_SERVING while one fails (Redis errors);
# for monitoring, not for readiness: a server serves calls whatever its jobs
# do.
JOBS_SERVICE = "memrpc.jobs"
# How often health checks ping Redis, and how long a ping may take.
HEALTH_PERIOD_S = 1.0
HEALTH_TIMEOUT_S = 1.0
# How long connecting to Redis may take.
REDIS_CONNECT_TIMEOUT_S = 2.0


def bound_address(listen: str, port: int) -> str:
    """The address a server listening on `listen` serves on: `host:port`
    with the port bound (for a port of 0), a `unix:` address as it is."""
    if listen.startswith(("unix:", "unix-abstract:")):
        return listen
    return f"{listen.rsplit(':', 1)[0]}:{port}"


def check_startup(settings: Settings) -> None:
    """Raises `SettingsError` (naming the flag or file at fault) unless a
    server can start with these settings: `Settings.validate()`, then the TLS,
    authentication and language model key files load and the listen address
    may serve without credentials if none are set. `memrpc serve` calls it before starting any
    worker; `MemrpcServer.start` makes the same checks."""
    settings.validate()
    check_files(settings)
    check_settings(settings)
    api_key(settings)
    if settings.redis_url is not None:
        connect_url(settings, settings.redis_url)


def connect_redis(settings: Settings, url: str) -> RedisClient:
    """The shared connection to the Redis at `url` (with the password of
    --redis-password-file), not yet opened: a `ClusterMux` for a Redis
    Cluster (`redis+cluster://`), else a `RedisMux`."""
    return client_for(
        connect_url(settings, url),
        connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        command_timeout=settings.redis_command_timeout,
    )


async def load_model(settings: Settings, *, previous: bool = False) -> Embedder:
    """The embedding model of the settings (`previous`: of
    --previous-model-dir), loaded off the event loop; a model that does not
    load is a `SettingsError` naming its flag."""
    flag = "--previous-model-dir" if previous else "--model-dir"
    try:
        return await asyncio.to_thread(
            load_default_embedder,
            settings.previous_model_dir if previous else settings.model_dir,
            threads=settings.embed_threads,
            cache_size=settings.embed_cache_size,
            max_queue=settings.embed_queue_max,
        )
    except EmbeddingError as err:
        raise SettingsError(f"{flag}: {err}") from None


async def load_models(settings: Settings) -> list[Embedder]:
    """The model of --model-dir, then that of --previous-model-dir if set."""
    embedders = [await load_model(settings)]
    if settings.previous_model_dir is not None:
        embedders.append(await load_model(settings, previous=True))
    return embedders


async def check_models(
    redis: RedisClient, embedders: Sequence[Embedder], settings: Settings, url: str
) -> Models:
    """`check_model` of the models of `load_models`; the models the
    process serves with."""
    previous = embedders[1].identity if len(embedders) > 1 else None
    record = await check_model(redis, embedders[0].identity, settings, url, previous)
    return models.from_record(redis, record, embedders)


async def add_model_field(long_term: LongTermStore, served: Models) -> None:
    """Adds the vector field of the model a move goes to, if any, to the
    index (which exists)."""
    if served.next is not None and await long_term.ensure_model_field(
        served.next.field, served.next.embedder.dim
    ):
        log.info(
            "search index: added the field %s of %s, to move the memories to",
            served.next.field.index,
            served.next.embedder.identity,
        )


class MemrpcServer:
    """One memrpc server: start it, serve, stop it gracefully."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        previous_embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        # The models given (that of --model-dir, then --previous-model-dir's),
        # or loaded at start (owned, closed at the end).
        given = [e for e in (embedder, previous_embedder) if e is not None]
        self._embedders: list[Embedder] = given
        self._owns_embedder = embedder is None
        self._models: Models | None = None
        self._embedded: EmbeddedRedis | None = None
        self._redis: RedisClient | None = None
        # With --durability replica: what confirms that a replica holds a
        # call's writes, on a connection of its own.
        self._ack: ReplicaAck | None = None
        self._http: HttpDoor | None = None
        self._tails: TailHub | None = None
        self._defaults: NamespaceCache | None = None
        self._server: grpc.aio.Server | None = None
        # Set once the server stops accepting calls: tails and health
        # watches end then (memrpc/shutdown.py).
        self._draining = asyncio.Event()
        self._health = Health(self._draining)
        # The status health last reported, and since when (monotonic).
        self._status: int | None = None
        self._status_since = time.monotonic()
        self._drain_started: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # The audit log, once Redis is reached; records of the API key
        # file's versions being written to it.
        self._audit: AuditLog | None = None
        self._key_ring: KeyRing | None = None
        self._audit_writes: set[asyncio.Task[None]] = set()
        self._spans: SpanExport | None = None
        self._metrics: metrics.Endpoint | None = None
        self._jobs: BackgroundJobs | None = None
        self._jobs_status: int | None = None
        self._access: AccessRecorder | None = None
        self.port = 0
        self.metrics_port = 0
        # The port of the HTTP door (`--http-listen`), once started; 0 without.
        self.http_port = 0

    @property
    def tails(self) -> TailHub:
        """The server's tail hub (its `stats` show what the tails hold)."""
        assert self._tails is not None, "server not started"
        return self._tails

    @property
    def defaults(self) -> NamespaceCache:
        """The namespaces' defaults, cached: those every call of this
        server falls back on (background jobs read them here too)."""
        assert self._defaults is not None, "server not started"
        return self._defaults

    @property
    def access(self) -> AccessRecorder:
        """The recorder of the memories this server's searches return."""
        assert self._access is not None, "server not started"
        return self._access

    @property
    def redis_url(self) -> str:
        """The URL of the Redis the server uses."""
        if self.settings.redis_url:
            return self.settings.redis_url
        assert self._embedded is not None, "server not started"
        return self._embedded.url

    async def _long_term(
        self, redis: RedisClient, settings: Settings, served: Models
    ) -> LongTermStore:
        """The long-term store, its index made or completed (with the field
        of the model a move goes to)."""
        long_term = served.store(VectorType(settings.vector_type))
        try:
            added = await long_term.ensure_index()
        except VectorTypeMismatch as err:
            raise SettingsError(f"Redis at {redacted_url(self.redis_url)}: {err}") from None
        if added:
            log.warning(
                "search index: added the fields %s; Redis indexes the existing memories "
                "again in the background (FT.INFO percent_indexed), listings may miss "
                "some of them until it is done",
                ", ".join(added),
            )
        await add_model_field(long_term, served)
        return long_term

    def _interceptors(
        self, auth: list[grpc.aio.ServerInterceptor], audit: AuditLog
    ) -> list[grpc.aio.ServerInterceptor]:
        """The interceptors of every call, outermost first (`auth`: those of
        `auth_interceptors`)."""
        settings = self.settings
        # Refuses before anything starts. The correlation id first, so that
        # every log line about a call carries it, a refusal's too; then
        # decoding, so that the others see decoded requests only; fairness
        # after auth, whose caller it counts against; the audit after both
        # (it records the calls served, with their credential), outside
        # durability (it records the outcome the caller sees).
        fairness = FairnessInterceptor.from_settings(settings)
        interceptors: list[grpc.aio.ServerInterceptor] = [
            CorrelationInterceptor(settings.access_log_level),
            DecodingInterceptor(),
            DefaultDeadlineInterceptor(settings.default_call_timeout),
            *auth,
            *([fairness] if fairness else []),
            AuditInterceptor(audit),
        ]
        if settings.durability == "replica" and settings.redis_url is not None:
            self._ack = ReplicaAck(
                connect_redis(settings, settings.redis_url),
                replicas=DURABILITY_REPLICAS,
                timeout_s=settings.durability_timeout,
            )
            writing = [method for method, access in METHOD_ACCESS.items() if access is not READ]
            interceptors.append(DurabilityInterceptor(self._ack, writing))
        return interceptors

    def _add_services(
        self,
        server: grpc.aio.Server,
        long_term: LongTermStore,
        served: Models,
        *,
        audit: AuditLog,
        limits: Limits,
        retention: Retention,
    ) -> NamespaceCache:
        """Adds every service to `server` (which then installs them on the
        gRPC server, and serves them over HTTP); returns the namespaces'
        settings as the services see them."""
        assert self._redis is not None
        settings = self.settings
        search = MemorySearch(long_term, served, limits, self._record_access(long_term))
        settings_store = NamespaceSettingsStore(self._redis)
        defaults = self._defaults = NamespaceCache(settings_store, server_defaults(limits))
        working = WorkingStore(self._redis, retention)
        working_memory_pb2_grpc.add_WorkingMemoryServicer_to_server(
            WorkingMemoryServicer(working, search, limits, defaults),
            server,
        )
        long_term_memory_pb2_grpc.add_LongTermMemoryServicer_to_server(
            LongTermMemoryServicer(long_term, search, limits, defaults), server
        )
        namespace_settings_pb2_grpc.add_NamespacesServicer_to_server(
            NamespacesServicer(settings_store, defaults, limits), server
        )
        portability_pb2_grpc.add_PortabilityServicer_to_server(
            self._portability(long_term, served, settings_store, limits), server
        )
        checkpoints = CheckpointStore(self._redis)
        checkpoints_pb2_grpc.add_CheckpointsServicer_to_server(
            CheckpointsServicer(checkpoints), server
        )
        events = EventStore(self._redis, retention)
        self._tails = TailHub(
            events, max_lag=limits.tail_max_lag_events, by_slot=is_cluster_url(self.redis_url)
        )
        event_log_pb2_grpc.add_EventLogServicer_to_server(
            EventLogServicer(events, self._tails, self._draining, limits), server
        )
        administration_pb2_grpc.add_AdministrationServicer_to_server(
            AdministrationServicer(
                Eraser(self._redis, working, long_term, checkpoints),
                NamespaceDeleter(self._redis),
                audit,
                call_timeout_s=settings.default_call_timeout,
            ),
            server,
        )
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        if settings.reflection:
            # v1 and v1alpha, both listed (memrpc/reflection.py).
            reflection.enable(server, (*SERVICE_NAMES, health.SERVICE_NAME))
        return defaults

    def _keys_loaded(self, ring: KeyRing) -> None:
        """Records a version of the API key file (the first one too) in the
        audit log, once Redis is reached (`AuditLog.record_credentials`)."""
        self._key_ring = ring
        if self._audit is not None:
            write = asyncio.create_task(self._record_keys(self._audit, ring))
            self._audit_writes.add(write)
            write.add_done_callback(self._audit_writes.discard)

    @staticmethod
    async def _record_keys(audit: AuditLog, ring: KeyRing) -> None:
        try:
            if await audit.record_credentials(KEYS_FILE, ring.fingerprints()):
                log.info("audit: recorded a change of the API key file")
        except Exception as exc:  # the keys are in use whatever the log says
            log.error("audit: the API key file's change is not recorded: %s", exc)

    async def start(self) -> None:
        """Connects to (or starts) Redis, loads the model, starts serving."""
        settings = self.settings
        # Raises SettingsError naming the flag at fault; the TLS and auth
        # files are loaded (and refused) below.
        settings.validate()
        log.info("memrpc %s starting: %s", VERSION, effective(settings))
        stamp_log_records()  # log lines about a call name its correlation id
        self._spans = SpanExport.start(settings.otlp_endpoint)
        limits = Limits.from_settings(settings)
        retention = Retention.from_settings(settings)
        credentials = server_credentials(settings)
        auth = auth_interceptors(settings, self._keys_loaded)
        if not settings.redis_url:
            self._embedded = EmbeddedRedis.from_settings(settings)
            await self._embedded.astart()
            self._tasks.append(asyncio.create_task(self._embedded.supervise()))
            log.info(
                "embedded Redis serving at %s (data in %s)", self._embedded.url, settings.data_dir
            )
        self._redis = connect_redis(settings, self.redis_url)
        redis_info = await reach(self._redis, self.redis_url, timeout=settings.redis_start_timeout)
        audit = self._audit = AuditLog(self._redis)
        if self._key_ring is not None:
            self._keys_loaded(self._key_ring)
        if not self._embedders:
            self._embedders = await load_models(settings)
        # Before the index: a server of another model changes nothing.
        served = self._models = await check_models(
            self._redis, self._embedders, settings, self.redis_url
        )
        await check_schema(self._redis, self.redis_url)
        check_vector_type(redis_info, VectorType(settings.vector_type), self.redis_url)
        long_term = await self._long_term(self._redis, settings, served)

        interceptors = self._interceptors(auth, audit)
        server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", limits.max_message_bytes),
                ("grpc.max_send_message_length", limits.max_message_bytes),
                # Only workers share their address: a second lone server fails.
                ("grpc.so_reuseport", int(settings.workers > 1)),
                *server_options(settings),
            ],
        )
        registry = Registry()
        # The registry takes the services' handlers as a gRPC server does.
        defaults = self._add_services(
            cast(grpc.aio.Server, registry),
            long_term,
            served,
            audit=audit,
            limits=limits,
            retention=retention,
        )
        registry.install(server)
        self.port = (
            server.add_insecure_port(settings.listen)
            if credentials is None
            else server.add_secure_port(settings.listen, credentials)
        )
        if self.port == 0:
            raise OSError(f"cannot listen on {settings.listen}")
        await self._health.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        if settings.jobs:
            self._jobs = BackgroundJobs.from_settings(
                self._redis, served, settings, defaults, in_server=True
            )
            self._jobs.start()
        await server.start()
        self._server = server
        if settings.http_listen is not None:
            await self._open_http(settings.http_listen, Pipeline(registry, interceptors), limits)
        if settings.metrics_listen is not None:
            self._start_metrics(settings.metrics_listen, alone=settings.workers == 1)
        await self._check_health()
        self._tasks.append(asyncio.create_task(self._watch_health()))
        log.info(
            "memrpc %s serving on %s (%s); model %s from %s; Redis %s (%s)",
            VERSION,
            bound_address(settings.listen, self.port),
            transport_name(settings),
            " moving to ".join(str(model.embedder.identity) for model in served.models),
            settings.model_dir or "the package",
            redacted_url(self.redis_url),
            redis_info,
        )

    async def _open_http(self, listen: str, pipeline: Pipeline, limits: Limits) -> None:
        """Serves the memrpc services over HTTP on `listen` too (`--http-listen`)."""
        settings = self.settings
        self._http = HttpDoor(
            pipeline,
            SERVICE_NAMES,
            listen=listen,
            tls=http_ssl_context(settings),
            max_message_bytes=limits.max_message_bytes,
            reuse_port=settings.workers > 1,
        )
        await self._http.start()
        self.http_port = self._http.port
        log.info(
            "serving HTTP (Connect, JSON) on %s://%s",
            "http" if settings.tls_cert_file is None else "https",
            bound_address(listen, self.http_port),
        )

    def _portability(
        self,
        long_term: LongTermStore,
        served: Models,
        settings_store: NamespaceSettingsStore,
        limits: Limits,
    ) -> PortabilityServicer:
        """The Portability service, on the server's stores."""
        redis = self._redis
        assert redis is not None
        return PortabilityServicer(
            reader=ExportReader(redis, long_term),
            long_term=long_term,
            models=served,
            settings=settings_store,
            cache=self.defaults,
            limits=limits,
            new_writer=lambda: ImportWriter(redis, long_term.vector_type),
        )

    def _record_access(self, long_term: LongTermStore) -> AccessRecorder:
        """The recorder of the memories searches of `long_term` return,
        writing them in the background from now on."""
        self._access = AccessRecorder(long_term.access_store())
        self._access.start()
        return self._access

    def _start_metrics(self, listen: str, *, alone: bool) -> None:
        """Turns the metrics on, samples the tails for them, and serves them
        unless a worker (whose supervisor serves the sum of its workers')."""
        metrics.enable()
        if alone:
            self._metrics = metrics.Endpoint(listen)
            self.metrics_port = self._metrics.port
            log.info(
                "serving metrics on http://%s/metrics", bound_address(listen, self.metrics_port)
            )
        self._tasks.append(asyncio.create_task(self._sample_tails()))

    async def _sample_tails(self) -> None:
        while True:
            stats = self.tails.stats()
            metrics.tails_sampled(
                stats.subscriptions, stats.failed, stats.queued_events, stats.queued_bytes
            )
            await asyncio.sleep(metrics.SAMPLE_PERIOD_S)

    async def drain(self, delay: float, hurry: asyncio.Event) -> None:
        """The first phase of a graceful stop (memrpc/shutdown.py): health
        `NOT_SERVING` for every service at once, then `delay` seconds (fewer
        once `hurry` is set) of serving every call and connection as before,
        so that load balancers take the server out of rotation before
        `stop` refuses calls."""
        self._drain_started = time.monotonic()
        await self._health.enter_graceful_shutdown()
        log.info(
            "shutting down: drain started, health NOT_SERVING, still serving for %.1f s "
            "(drain delay; a second SIGTERM/SIGINT ends it)",
            delay,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hurry.wait(), delay)

    async def stop(self, grace: float | None = None) -> None:
        """Stops accepting calls and ends tails and health watches (with
        `OK`), lets in-flight calls finish within `grace` (default: the
        shutdown grace), writes the access counts recorded (within what is
        left of it), then closes Redis (and stops the embedded one).
        Health turns `NOT_SERVING` first unless `drain` did."""
        grace = self.settings.shutdown_grace if grace is None else grace
        started = time.monotonic()
        drained = started - (self._drain_started or started)
        await self._health.enter_graceful_shutdown()
        stopping = None
        if self._server is not None:
            stopping = asyncio.ensure_future(self._server.stop(grace))
            # The task refuses new calls on its first step, before it waits
            # for the calls in flight: streams end only once none can start.
            await asyncio.sleep(0)
            log.info(
                "stopped accepting calls after %.1f s of drain; in-flight calls get up to "
                "%.1f s (shutdown grace)",
                drained,
                grace,
            )
        # HTTP too (its calls are the same handlers', whose tails end below).
        http_stopping = (
            None if self._http is None else asyncio.ensure_future(self._http.stop(grace))
        )
        self._draining.set()
        if stopping is not None:
            await stopping
        if http_stopping is not None:
            await http_stopping
        finished = time.monotonic()
        if self._access is not None:  # the searches are over: what is left of the grace
            await self._access.close(max(0.0, grace - (finished - started)))
        if self._jobs is not None:
            await self._jobs.stop(grace)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._audit_writes:  # short: one script each
            await asyncio.wait(self._audit_writes, timeout=grace)
        if self._owns_embedder:
            for embedder in self._embedders:
                await embedder.aclose()
        if self._tails is not None:
            await self._tails.aclose()
        if self._redis is not None:
            await self._redis.aclose()
        if self._ack is not None:
            await self._ack.aclose()
        if self._metrics is not None:
            self._metrics.close()
            metrics.disable()
        if self._embedded is not None:
            await self._embedded.astop()
        if self._spans is not None:  # sends the spans still queued
            await asyncio.to_thread(self._spans.shutdown)
        log.info(
            "stopped: in-flight calls took %.1f s, %.1f s in all since the drain started",
            finished - started,
            time.monotonic() - started + drained,
        )

    async def wait_for_termination(self) -> None:
        """Returns when the server has stopped."""
        assert self._server is not None
        await self._server.wait_for_termination()

    async def _check_health(self) -> None:
        assert self._redis is not None
        try:
            await asyncio.wait_for(self._redis.execute("PING"), HEALTH_TIMEOUT_S)
            status, reason = health_pb2.HealthCheckResponse.SERVING, "Redis answers"
        except TimeoutError:
            status = health_pb2.HealthCheckResponse.NOT_SERVING
            reason = f"no reply to a PING of Redis within {HEALTH_TIMEOUT_S:g} s"
        except (redis.exceptions.RedisError, OSError) as exc:
            status, reason = health_pb2.HealthCheckResponse.NOT_SERVING, f"Redis: {exc}"
        if status != self._status:
            self._log_transition(status, reason)
        for name in ("", *SERVICE_NAMES):
            await self._health.set(name, status)
        if self._jobs is not None:
            await self._check_jobs(self._jobs)

    async def _check_jobs(self, jobs: BackgroundJobs) -> None:
        """The jobs' health (`JOBS_SERVICE`); a change is logged with their state."""
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if jobs.healthy
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        if status != self._jobs_status:
            name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
            log.log(
                logging.INFO if jobs.healthy else logging.WARNING,
                "health of %s %s: %s",
                JOBS_SERVICE,
                name,
                jobs.describe(),
            )
            self._jobs_status = status
        await self._health.set(JOBS_SERVICE, status)

    def _log_transition(self, status: int, reason: str) -> None:
        """Logs a change of health once, with why and how long the last lasted."""
        now = time.monotonic()
        name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
        if self._status is not None:
            was = health_pb2.HealthCheckResponse.ServingStatus.Name(self._status)
            reason += f" ({was} for {now - self._status_since:.1f} s)"
        if status != health_pb2.HealthCheckResponse.SERVING:
            log.warning("health %s: %s", name, reason)
        elif self._status is not None:
            log.info("health %s: %s", name, reason)
        self._status, self._status_since = status, now

    async def _watch_health(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_PERIOD_S)
            await self._check_health()


async def run(
    settings: Settings,
    *,
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serves until one of `signals`, then drains for the drain delay (a
    second signal ends it) and stops within the shutdown grace; calls
    `on_ready` once serving."""
    server = MemrpcServer(settings)
    try:
        await server.start()
    except BaseException:
        await server.stop(0)
        raise
    if on_ready is not None:
        on_ready()
    received = Signals(signals)
    await received.stop.wait()
    await server.drain(settings.drain_delay, received.hurry)
    await server.stop()
