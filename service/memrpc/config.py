"""Server settings, each declared once.

A setting is a field of `Settings`: its name, type (the annotation) and
default, and in its metadata (`about(...)`) its help text, group, and the
range or choices it must be within. Everything else is derived from that one
declaration:

- its flag (`max_batch_items` -> `--max-batch-items`) and environment
  variable (`MEMRPC_MAX_BATCH_ITEMS`), how a value is read from text, and
  `memrpc serve --help` (`memrpc/cli.py`);
- the checks of `Settings.validate()`: every type, range and choice, and
  the rules between settings (`memrpc.server.check_startup` adds the TLS and
  authentication files, which their own modules load);
- the README configuration table and the limits table of
  `docs/security.md` (`memrpc/docgen.py`).

Adding a setting is adding a field here (and using it).
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union
from urllib.parse import urlsplit

from memrpc.limits import (
    DEFAULT_VECTOR_TYPE,
    DURABILITIES,
    DURABILITY_TIMEOUT_S,
    MAX_LOG_LEN,
    MAX_METADATA_BYTES_SETTING,
    MAX_NAME_CHARS,
    RECEIVE_WAIT_S,
    REDIS_LOADING_WINDOWS,
    REDIS_START_TIMEOUT_S,
    TAIL_BATCH,
    VECTOR_TYPES,
)

# The groups of `memrpc serve --help` and of the README table, in order.
GROUPS = (
    "serving",
    "connections",
    "Redis",
    "model",
    "event retention",
    "background jobs",
    "language model",
    "TLS",
    "authentication",
    "limits",
    "tracing and logs",
)
ENV_PREFIX = "MEMRPC_"
# The largest value gRPC takes for a channel argument (a C int).
_MAX_GRPC_INT = 2**31 - 1
# The longest duration a connection setting takes, in seconds.
_DAY_S = 86_400
# An address of --metrics-listen: `host:port`, `[v6]:port`.
_HOST_PORT = re.compile(r"(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):[0-9]{1,5}")


class SettingsError(ValueError):
    """Settings the server must not start with; the message names the flag
    and says what to change."""


@dataclass(frozen=True)
class _Declared:
    """What `about(...)` adds to a field."""

    help: str
    group: str
    low: float | None
    high: float | None
    choices: tuple[str, ...]
    over: str


def about(
    help: str,
    *,
    group: str,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    over: str = "",
) -> dict[str, _Declared]:
    """The metadata of a setting's field: its help text (a phrase, no final
    period), group (one of `GROUPS`), inclusive bounds or choices, and for a
    limit what a request over it gets (`over`, for docs/security.md; `{limit}`
    and `{over}` stand for the default and one more)."""
    assert group in GROUPS, group
    return {"setting": _Declared(help, group, low, high, choices, over)}


def flag(name: str) -> str:
    """The command-line flag of the setting `name`."""
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start; see `memrpc serve --help`."""

    # -- serving
    listen: str = field(
        default="127.0.0.1:50051", metadata=about("host:port to serve gRPC on", group="serving")
    )
    reflection: bool = field(
        default=True,
        metadata=about(
            "serve gRPC server reflection (grpc.reflection.v1 and v1alpha), so that tools such "
            "as grpcurl and ghz list, describe and call the methods without the .proto files; "
            "false: do not",
            group="serving",
        ),
    )
    workers: int = field(
        default=1,
        metadata=about(
            "server processes sharing --listen (SO_REUSEPORT) and one Redis, each restarted if it "
            "dies; the kernel spreads connections, so a client needs several connections to use "
            "more than one worker",
            group="serving",
            low=1,
        ),
    )
    metrics_listen: str | None = field(
        default=None,
        metadata=about(
            "host:port to serve Prometheus metrics on (GET /metrics; with --workers, the "
            "supervisor serves the sum of its workers'); unset: no metrics "
            "(docs/deployment.md#metrics)",
            group="serving",
        ),
    )
    http_listen: str | None = field(
        default=None,
        metadata=about(
            "host:port to serve every memrpc method over HTTP/1.1 too, with JSON bodies (the "
            "Connect protocol; gRPC-Web too), with the same authentication, limits and TLS as "
            "gRPC (docs/http.md); unset: gRPC only",
            group="serving",
        ),
    )
    drain_delay: float = field(
        default=5.0,
        metadata=about(
            "seconds a server keeps serving after SIGTERM/SIGINT with its health NOT_SERVING, "
            "so that load balancers and health-checking clients stop sending it calls before it "
            "stops accepting them; a second signal skips the rest (docs/deployment.md)",
            group="serving",
            low=0,
        ),
    )
    shutdown_grace: float = field(
        default=10.0,
        metadata=about(
            "seconds in-flight calls get to finish once the drain delay is over (tails and "
            "health watches end at once, with OK)",
            group="serving",
            low=0,
        ),
    )
    default_call_timeout: float = field(
        default=60.0,
        metadata=about(
            "seconds a unary call without a client deadline may run before it ends with "
            "DEADLINE_EXCEEDED (streams exempt); keep it above ReceiveEvents' longest wait "
            f"({RECEIVE_WAIT_S.high:g} s)",
            group="serving",
            low=0.1,
        ),
    )
    log_level: str = field(
        default="INFO",
        metadata=about(
            "log level; logs go to stderr",
            group="serving",
            choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        ),
    )
    # -- tracing and logs (docs/deployment.md; memrpc/telemetry/)
    log_format: str = field(
        default="text",
        metadata=about(
            "text: one line per record, ending with request_id=<id> for a call's; json: one "
            "JSON object per line, with request_id, trace_id and span_id",
            group="tracing and logs",
            choices=("text", "json"),
        ),
    )
    access_log_level: str = field(
        default="DEBUG",
        metadata=about(
            "level of the access log line logged at the end of every call (method, status, "
            "duration, tenant, request id); OFF: none",
            group="tracing and logs",
            choices=("DEBUG", "INFO", "WARNING", "OFF"),
        ),
    )
    otlp_endpoint: str | None = field(
        default=None,
        metadata=about(
            "OTLP/gRPC collector to export trace spans to (http://host:4317 plaintext, https:// "
            "TLS): a span per call, with Redis and embedding child spans, parented by the "
            "caller's traceparent; unset: no spans are made",
            group="tracing and logs",
        ),
    )
    # -- connections (docs/deployment.md; memrpc/connections.py makes them gRPC options)
    keepalive_time: float = field(
        default=60.0,
        metadata=about(
            "seconds between the server's keepalive pings on each connection, with or without "
            "calls; a client that does not answer within --keepalive-timeout is disconnected "
            "and its tails end",
            group="connections",
            low=1,
            high=_DAY_S,
        ),
    )
    keepalive_timeout: float = field(
        default=20.0,
        metadata=about(
            "seconds a keepalive ping may wait for its answer",
            group="connections",
            low=1,
            high=_DAY_S,
        ),
    )
    keepalive_permit_without_calls: bool = field(
        default=True,
        metadata=about(
            "keepalive pings, the server's and the clients', also on connections with no call "
            "open; false: a client pinging an idle connection is disconnected (GOAWAY "
            "too_many_pings)",
            group="connections",
        ),
    )
    min_client_ping_interval: float = field(
        default=5.0,
        metadata=about(
            "shortest interval between a client's pings the server accepts while it sends no "
            "data (a quiet tail); a client pinging faster three times is disconnected (GOAWAY "
            "too_many_pings)",
            group="connections",
            low=0,
            high=_DAY_S,
        ),
    )
    max_connection_age: float = field(
        default=1800.0,
        metadata=about(
            "seconds (±10%) after which the server asks a client to reconnect (GOAWAY), so "
            "that load balancers spread long-lived connections again; calls in flight go on; "
            "0: never",
            group="connections",
            low=0,
            high=_DAY_S,
        ),
    )
    max_connection_age_grace: float = field(
        default=0.0,
        metadata=about(
            "seconds the calls of a connection past --max-connection-age get to finish before "
            "it is closed; 0: until they end. When set, --max-tail-lifetime must be shorter, "
            "so that tails end cleanly first",
            group="connections",
            low=0,
            high=_DAY_S,
        ),
    )
    max_connection_idle: float = field(
        default=0.0,
        metadata=about(
            "seconds a connection with no call open is kept before the server closes it "
            "(GOAWAY); 0: for ever",
            group="connections",
            low=0,
            high=_DAY_S,
        ),
    )
    max_tail_lifetime: float = field(
        default=0.0,
        metadata=about(
            "seconds after which the server ends a TailEvents call with a final checkpoint, "
            "then OK (the client resumes from it); 0: never",
            group="connections",
            low=0,
            high=_DAY_S,
        ),
    )
    # -- Redis
    redis_url: str | None = field(
        default=None,
        metadata=about(
            "Redis 8 / Redis Stack URL (redis://, rediss://, unix://), or a Redis Cluster's "
            "(redis+cluster://host:port,host:port..., rediss+cluster://; docs/scaling.md); "
            "unset: start an embedded Redis in --data-dir",
            group="Redis",
        ),
    )
    redis_command_timeout: float = field(
        default=5.0,
        metadata=about(
            "seconds a Redis command may go without a reply (after its wait, for a blocking "
            "read) before it fails with UNAVAILABLE and its connection is closed and replaced",
            group="Redis",
            low=0.1,
        ),
    )
    data_dir: Path = field(
        default=Path("data"),
        metadata=about(
            "where the embedded Redis keeps its files (AOF, log, unix socket)", group="Redis"
        ),
    )
    redis_password_file: Path | None = field(
        default=None,
        metadata=about(
            "file holding the Redis password (surrounding white space dropped), sent with the "
            "user of --redis-url if it names one; the URL then holds no password",
            group="Redis",
        ),
    )
    redis_start_timeout: float = field(
        default=REDIS_START_TIMEOUT_S,
        metadata=about(
            "seconds to keep trying an unreachable Redis at start, with backoff, before giving "
            "up, 0: try once; the embedded Redis gets as long at each start and restart, and "
            f"up to {REDIS_LOADING_WINDOWS} times as long while it loads its data and the load "
            "advances",
            group="Redis",
            low=0,
        ),
    )
    durability: str = field(
        default=DURABILITIES[0],
        metadata=about(
            "when a write is acknowledged: local, once the primary applied it; replica, once a "
            "replica of --redis-url holds it too (WAIT), so that a replica promoted by a "
            "failover has every acknowledged write (docs/deployment.md#durability)",
            group="Redis",
            choices=DURABILITIES,
        ),
    )
    durability_timeout: float = field(
        default=DURABILITY_TIMEOUT_S,
        metadata=about(
            "seconds a call's writes wait for a replica with --durability replica; past it the "
            "call fails with UNAVAILABLE (ERROR_REASON_NOT_REPLICATED), its writes applied on "
            "the primary only",
            group="Redis",
            low=0.01,
        ),
    )
    # -- model
    model_dir: Path | None = field(
        default=None,
        metadata=about(
            "directory of a sentence-transformers ONNX export (model.onnx and tokenizer.json); "
            "unset: the packaged all-MiniLM-L6-v2 (int8). It must be the model that made the "
            "memories in Redis, or the one they move to (--previous-model-dir): another is "
            "refused at start (docs/deployment.md#model-identity)",
            group="model",
        ),
    )
    previous_model_dir: Path | None = field(
        default=None,
        metadata=about(
            "directory of the model that made the memories in Redis, when --model-dir is "
            "another one to move them to: the process holds both, serves each namespace with "
            "its model and (with jobs) re-embeds the memories with the new one; unused once "
            "the move is over (docs/deployment.md#moving-to-another-model)",
            group="model",
        ),
    )
    vector_type: str = field(
        default=DEFAULT_VECTOR_TYPE,
        metadata=about(
            "how the stored vectors hold each value, chosen when the index is created: FLOAT16 "
            "takes half the memory of FLOAT32 for the same dedup and recall "
            "(docs/performance.md#float16-vectors) and needs Redis Search 2.10 (Redis 8, Redis "
            "Stack 7.4; FLOAT32 on older ones); a server whose setting differs from the index's "
            "is refused at start",
            group="model",
            choices=VECTOR_TYPES,
        ),
    )
    embed_threads: int = field(
        default=1,
        metadata=about(
            "onnxruntime intra-op threads for the embedding model", group="model", low=1
        ),
    )
    embed_cache_size: int = field(
        default=4096,
        metadata=about(
            "texts whose embeddings are cached (LRU); 0: no cache", group="model", low=0
        ),
    )
    # -- event retention
    feed_max_len: int = field(
        default=100_000,
        metadata=about(
            "about how many events each namespace feed keeps for consumer groups",
            group="event retention",
            low=1,
        ),
    )
    event_log_max_len: int = field(
        default=1000,
        metadata=about(
            "about how many events each thread's log keeps, turns included, unless an "
            "AppendEvents sets its own max_len",
            group="event retention",
            low=1,
            high=MAX_LOG_LEN,
        ),
    )
    # -- background jobs (memrpc/jobs/; docs/deployment.md#background-jobs)
    jobs: bool = field(
        default=True,
        metadata=about(
            "run the background jobs (running summaries, memory formation, forgetting) in "
            "each server process, beside serving; false: leave them to `memrpc worker` "
            "processes (with neither, none of that is done)",
            group="background jobs",
        ),
    )
    jobs_share: float = field(
        default=0.5,
        metadata=about(
            "in `memrpc serve`, the most of the time each in-process job runner spends "
            "running jobs: after each batch it rests so that its runs take at most this share "
            "of the time, leaving the rest to the calls; 1: no rest. `memrpc worker` runs "
            "its jobs flat out",
            group="background jobs",
            low=0.05,
            high=1.0,
        ),
    )
    job_claim_idle: float = field(
        default=30.0,
        metadata=about(
            "seconds a feed entry delivered to a job may stay unacknowledged (its runner "
            "crashed, or its run failed) before another runner claims it again; longer than "
            "a job run takes",
            group="background jobs",
            low=0.1,
            high=_DAY_S,
        ),
    )
    job_max_deliveries: int = field(
        default=5,
        metadata=about(
            "deliveries of a feed entry whose job keeps failing before it is given up on: "
            "moved to the namespace's dead letters (memrpc:jobdead:{ns}), acknowledged, "
            "counted and logged",
            group="background jobs",
            low=1,
            high=1000,
        ),
    )
    # -- language model (memrpc/llm/; docs/deployment.md#language-model)
    llm_url: str | None = field(
        default=None,
        metadata=about(
            "base URL of an OpenAI-compatible chat-completions API (vLLM, Ollama, llama.cpp "
            "server, a hosted API), e.g. http://127.0.0.1:8000/v1: the background jobs POST "
            "<url>/chat/completions to extract facts, write abstractive summaries and find "
            "contradicted facts; unset: no language model (episodic memories and extractive "
            "summaries only)",
            group="language model",
        ),
    )
    llm_model: str | None = field(
        default=None,
        metadata=about(
            "the model every call names (`model`), which summaries record as their summarizer; "
            "needed with --llm-url",
            group="language model",
        ),
    )
    llm_key_file: Path | None = field(
        default=None,
        metadata=about(
            "file holding the API key sent as `Authorization: Bearer <key>` (surrounding white "
            "space dropped), read once at start and never logged; unset: no key",
            group="language model",
        ),
    )
    llm_timeout: float = field(
        default=30.0,
        metadata=about(
            "seconds one attempt of a call may take, reply included, before it is abandoned "
            "and retried",
            group="language model",
            low=0.1,
            high=600,
        ),
    )
    llm_max_attempts: int = field(
        default=3,
        metadata=about(
            "attempts of one call (malformed output, time-outs, 429 and 5xx are retried with "
            "backoff) before the job does that work without the model and reports it",
            group="language model",
            low=1,
            high=10,
        ),
    )
    # -- TLS (docs/security.md); replaced files are picked up without a restart.
    tls_cert_file: Path | None = field(
        default=None,
        metadata=about(
            "PEM certificate chain to serve TLS with (needs --tls-key-file), reloaded when it "
            "changes; unset: plaintext",
            group="TLS",
        ),
    )
    tls_key_file: Path | None = field(
        default=None,
        metadata=about(
            "unencrypted PEM key of --tls-cert-file, reloaded when it changes", group="TLS"
        ),
    )
    tls_client_ca_file: Path | None = field(
        default=None,
        metadata=about(
            "PEM CA certificate(s): clients must present a certificate signed by one (mutual "
            "TLS); reloaded when it changes",
            group="TLS",
        ),
    )
    # -- authentication (docs/security.md)
    auth_keys_file: Path | None = field(
        default=None,
        metadata=about(
            "TOML file of hashed API keys, each scoped to namespaces and read or write (make "
            "one with `memrpc keys new`); reloaded when it changes",
            group="authentication",
        ),
    )
    jwks_file: Path | None = field(
        default=None,
        metadata=about(
            "local JWKS file of the keys that sign accepted JWTs; reloaded when it changes",
            group="authentication",
        ),
    )
    jwt_issuer: str | None = field(
        default=None,
        metadata=about("the iss every JWT must carry (with --jwks-file)", group="authentication"),
    )
    jwt_audience: str | None = field(
        default=None,
        metadata=about(
            "a value every JWT's aud must hold (with --jwks-file)", group="authentication"
        ),
    )
    allow_unauthenticated: bool = field(
        default=False,
        metadata=about(
            "serve without credentials even beyond loopback: anyone who reaches the port can "
            "read and write every namespace",
            group="authentication",
        ),
    )
    # -- limits (memrpc/limits.py holds the fixed ones; docs/security.md lists both)
    max_message_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata=about(
            "largest gRPC message received or sent, in bytes",
            group="limits",
            low=1,
            high=_MAX_GRPC_INT,
            over="`RESOURCE_EXHAUSTED` from gRPC itself: `Received message larger than max "
            "({over} vs. {limit})`",
        ),
    )
    max_batch_items: int = field(
        default=100,
        metadata=about(
            "most memories per CreateMemories, events per AppendEvents, turns per AppendTurns",
            group="limits",
            low=1,
            over="`INVALID_ARGUMENT`, field `memories` / `events` / `turns`: `must have at most "
            "{limit} items, not {over}`",
        ),
    )
    max_text_chars: int = field(
        default=8192,
        metadata=about(
            "most characters of a memory's text (create, update) or a search's query text",
            group="limits",
            low=1,
            over="`INVALID_ARGUMENT`, field e.g. `memories[0].text`: `must be at most {limit} "
            "characters`",
        ),
    )
    max_metadata_bytes: int = field(
        default=256 * 1024,
        metadata=about(
            "most UTF-8 bytes of one metadata map (memory, session, turn) or event attributes, "
            "keys and values together; at most what leaves a session's turns room in the 4 MiB "
            "a gRPC client receives by default",
            group="limits",
            low=1,
            high=MAX_METADATA_BYTES_SETTING,
            over="`INVALID_ARGUMENT`, field e.g. `events[0].attributes`: `must hold at most "
            "{limit} bytes of keys and values (UTF-8), not {over}`",
        ),
    )
    max_search_limit: int = field(
        default=100,
        metadata=about(
            "most memories one SearchMemories returns (its limit)",
            group="limits",
            low=1,
            over="`INVALID_ARGUMENT`, field `limit`: `must be between 1 and {limit}`",
        ),
    )
    max_tails_per_caller: int = field(
        default=100,
        metadata=about(
            "most TailEvents calls open for one caller: one API key or JWT subject on a server "
            "with authentication, else one client IP address, over all its connections",
            group="limits",
            low=1,
            over="`RESOURCE_EXHAUSTED` before any message: `too many tails open for this "
            "caller, the limit is {limit} (server setting --max-tails-per-caller); close a "
            "tail, or follow more threads per tail`",
        ),
    )
    max_tails: int = field(
        default=2000,
        metadata=about(
            "most TailEvents calls open on one server process",
            group="limits",
            low=1,
            over="`RESOURCE_EXHAUSTED` before any message: `too many tails open on this server, "
            "the limit is {limit} (server setting --max-tails); retry later`",
        ),
    )
    tail_max_lag_events: int = field(
        default=10_000,
        metadata=about(
            "events a tail may fall behind one of its threads before it ends with "
            "RESOURCE_EXHAUSTED; at least the events of one read of a thread",
            group="limits",
            low=TAIL_BATCH,
            over="the tail ends with `RESOURCE_EXHAUSTED`: `subscriber too slow: {over} events "
            "behind, the limit is {limit} (server setting --tail-max-lag-events); resume from "
            "the last cursor received`",
        ),
    )
    # -- overload: shed at once rather than queue (docs/deployment.md#overload)
    embed_queue_max: int = field(
        default=200,
        metadata=about(
            "texts of calls waiting for the embedding model, at most (about 2 s of its work on "
            "one thread; the background jobs' texts wait apart, not counted); at least "
            "--max-batch-items",
            group="limits",
            low=1,
            over="`RESOURCE_EXHAUSTED` at once, with a `RetryInfo` of the time the queue takes "
            "to drain: `embedding queue full: 190 texts waiting, the limit is {limit} (server "
            "setting --embed-queue-max); retry after the RetryInfo delay, or send vectors`",
        ),
    )
    tenant_max_in_flight: int = field(
        default=64,
        metadata=about(
            "unary calls one tenant (its credential; without authentication, its namespace) may "
            "have in progress on one server process; 0: no cap",
            group="limits",
            low=0,
            over="`RESOURCE_EXHAUSTED` with `QuotaFailure` and `RetryInfo`: `namespace:acme has "
            "{limit} calls in progress, the limit is {limit} (server setting "
            "--tenant-max-in-flight); retry after the RetryInfo delay`",
        ),
    )
    tenant_rate: float = field(
        default=0.0,
        metadata=about(
            "calls per second one tenant may start on one server process, on average (a token "
            "bucket holding --tenant-burst); 0: no rate limit",
            group="limits",
            low=0,
            over="`RESOURCE_EXHAUSTED` with `QuotaFailure` and `RetryInfo` (when the next call "
            "is allowed): `namespace:acme is over its call rate, the limit is 50 (server setting "
            "--tenant-rate); retry after the RetryInfo delay`",
        ),
    )
    tenant_burst: int = field(
        default=100,
        metadata=about(
            "calls one tenant may start at once beyond --tenant-rate (the bucket's size)",
            group="limits",
            low=1,
            over="see --tenant-rate",
        ),
    )

    def validate(self) -> None:
        """Raises `SettingsError` (naming the flag) unless every value is of
        its type and within its range or choices, and the settings are
        consistent with each other."""
        for declared in SETTINGS:
            declared.check(getattr(self, declared.name))
        self._check_rules()

    def _check_durability(self) -> None:
        """The rules of `--durability replica`."""
        if self.redis_url is None:
            raise SettingsError(
                "--durability replica needs --redis-url: the embedded Redis has no replica"
            )
        if self.durability_timeout >= self.redis_command_timeout:
            raise SettingsError(
                "--durability-timeout must be shorter than --redis-command-timeout: a wait "
                "for a replica longer than a command may take would close the connection"
            )

    def _check_rules(self) -> None:
        """The rules between settings."""
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise SettingsError(
                "--tls-cert-file and --tls-key-file go together: set both to serve TLS, "
                "or neither to serve plaintext"
            )
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            raise SettingsError(
                "--tls-client-ca-file needs --tls-cert-file and --tls-key-file: mutual TLS "
                "is TLS with client certificates"
            )
        credentials = self.auth_keys_file is not None or self.jwks_file is not None
        if credentials and self.allow_unauthenticated:
            raise SettingsError(
                "--allow-unauthenticated contradicts --auth-keys-file/--jwks-file: drop one"
            )
        if self.jwks_file is None and (self.jwt_issuer or self.jwt_audience):
            raise SettingsError("--jwt-issuer and --jwt-audience need --jwks-file")
        if self.redis_password_file is not None:
            if self.redis_url is None:
                raise SettingsError(
                    "--redis-password-file needs --redis-url: the embedded Redis has no password"
                )
            if urlsplit(self.redis_url).password is not None:
                raise SettingsError(
                    "--redis-url holds a password and --redis-password-file gives one: drop "
                    "the password from the URL"
                )
        if self.durability == "replica":
            self._check_durability()
        for name, address, example in (
            ("metrics_listen", self.metrics_listen, "0.0.0.0:9090"),
            ("http_listen", self.http_listen, "0.0.0.0:8080"),
        ):
            if address is not None and not _HOST_PORT.fullmatch(address):
                raise SettingsError(f"{flag(name)}: {address!r} is not host:port (e.g. {example})")
        if self.embed_queue_max < self.max_batch_items:
            raise SettingsError(
                "--embed-queue-max must be at least --max-batch-items: the texts of one "
                "CreateMemories must fit in the embedding queue"
            )
        if self.otlp_endpoint is not None and not _is_http_url(self.otlp_endpoint):
            raise SettingsError(
                f"--otlp-endpoint {self.otlp_endpoint!r} is not a collector URL: "
                "http://host:port (plaintext) or https://host:port (TLS)"
            )
        if self.llm_url is not None:
            if not _is_http_url(self.llm_url):
                raise SettingsError(
                    f"--llm-url {redacted_url(self.llm_url)!r} is not an API URL: "
                    "http://host:port/v1 or https://host/v1"
                )
            if not 0 < len(self.llm_model or "") <= MAX_NAME_CHARS:
                raise SettingsError(
                    f"--llm-url needs --llm-model, of at most {MAX_NAME_CHARS} characters: the "
                    "model every call names, which summaries record"
                )
        elif self.llm_model is not None or self.llm_key_file is not None:
            raise SettingsError("--llm-model and --llm-key-file need --llm-url")
        grace = self.max_connection_age_grace
        if self.max_connection_age and grace and not 0 < self.max_tail_lifetime < grace:
            raise SettingsError(
                "--max-connection-age-grace would cut tails open longer than it: set "
                "--max-tail-lifetime below it (tails then end cleanly, with a checkpoint to "
                "resume from), or --max-connection-age-grace=0"
            )


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def effective(settings: Settings) -> str:
    """Every setting as `--flag=value`, for the start-up log: a password in
    --redis-url or --llm-url shows as `***` (no other setting holds a secret:
    the TLS key, API keys, Redis password and model key are files, named by
    their paths)."""
    values = {each.name: getattr(settings, each.name) for each in SETTINGS}
    for url in ("redis_url", "llm_url"):
        if values[url] is not None:
            values[url] = redacted_url(values[url])
    return " ".join(f"{each.flag}={_text(values[each.name])}" for each in SETTINGS)


def redacted_url(url: str) -> str:
    """`url` with its password, if any, as `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return parts._replace(netloc=f"{name}:***@{host}").geturl()


def _text(value: Any) -> str:
    """A setting's value as a flag takes it."""
    if value is None:
        return "unset"
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Setting:
    """One declared setting, as the CLI, `validate()` and the docs see it."""

    name: str
    # The type of its values (str, int, float, bool or Path) ...
    kind: type
    # ... and whether it may also be None (unset).
    optional: bool
    default: Any
    help: str
    group: str
    low: float | None
    high: float | None
    choices: tuple[str, ...]
    over: str

    @property
    def flag(self) -> str:
        """Its command-line flag, `--max-batch-items`."""
        return flag(self.name)

    @property
    def env(self) -> str:
        """Its environment variable, `MEMRPC_MAX_BATCH_ITEMS`."""
        return ENV_PREFIX + self.name.upper()

    @property
    def bounds(self) -> str:
        """Its range or choices in words ("" when any value goes)."""
        if self.choices:
            return ", ".join(self.choices[:-1]) + " or " + self.choices[-1]
        if self.low is not None and self.high is not None:
            return f"{_number(self.low)} to {_number(self.high)}"
        if self.low is not None:
            return f"at least {_number(self.low)}"
        if self.high is not None:
            return f"at most {_number(self.high)}"
        return ""

    @property
    def default_text(self) -> str:
        """Its default as `--help` and the docs show it."""
        return _text(self.default)

    def parse(self, text: str) -> Any:
        """A value from its text (a flag's or variable's); raises
        `SettingsError` for text that is not one."""
        try:
            if self.kind is bool:
                return _boolean(text)
            if self.choices:
                return next(c for c in self.choices if c.lower() == text.strip().lower())
            value = self.kind(text)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(text)
            return value
        except (ValueError, StopIteration):
            expected = self.bounds if self.choices else _KIND_NAMES[self.kind]
            raise SettingsError(f"{self.flag} must be {expected}, not {text!r}") from None

    def check(self, value: Any) -> None:
        """Raises `SettingsError` unless `value` is one this setting takes."""
        if value is None and self.optional:
            return
        if not isinstance(value, _ACCEPTED[self.kind]) or (
            self.kind is not bool and isinstance(value, bool)
        ):
            raise SettingsError(f"{self.flag} must be {_KIND_NAMES[self.kind]}, not {value!r}")
        if self.choices and value not in self.choices:
            raise SettingsError(f"{self.flag} must be {self.bounds}, not {value!r}")
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if isinstance(value, int | float) and not low <= value <= high:
            raise SettingsError(f"{self.flag} must be {self.bounds}, not {value!r}")


_KIND_NAMES: dict[type, str] = {
    str: "text",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    Path: "a path",
}
# The values a setting of each kind takes (an int is a fine float).
_ACCEPTED: dict[type, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (int, float),
    bool: (bool,),
    Path: (Path,),
}


def _boolean(text: str) -> bool:
    """`true`/`false` (also 1/0, yes/no, on/off) as a bool."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _number(value: float) -> str:
    """A bound as people write it: `1,000,000`, `0.5`."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


def _declarations() -> tuple[Setting, ...]:
    hints = typing.get_type_hints(Settings)
    declared = []
    for each in dataclasses.fields(Settings):
        hint = hints[each.name]
        args = typing.get_args(hint)
        optional = typing.get_origin(hint) in (Union, types.UnionType) and type(None) in args
        kind = next(a for a in args if a is not type(None)) if optional else hint
        assert kind in _KIND_NAMES, f"{each.name}: settings are of {list(_KIND_NAMES)}"
        extra: _Declared = each.metadata["setting"]
        declared.append(
            Setting(
                each.name,
                kind,
                optional,
                each.default,
                extra.help,
                extra.group,
                extra.low,
                extra.high,
                extra.choices,
                extra.over,
            )
        )
    return tuple(declared)


# Every setting, in declaration order.
SETTINGS = _declarations()
