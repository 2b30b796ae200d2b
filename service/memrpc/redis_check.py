"""Reaching Redis at start, and refusing a Redis memrpc cannot use.

`reach` waits for Redis to answer: an unreachable (or still loading) Redis
is tried again with a delay doubling from 0.5 s to 5 s, each failure logged
with the next delay, for `--redis-start-timeout` seconds, so that a pod may
start before its Redis; then `RedisUnreachable`, one line. It then reads
`INFO server` and `INFO modules` and refuses (`SettingsError`, one line
naming what is needed) a Redis that lacks what `REQUIREMENTS` lists, or one
that refuses memrpc's credentials or commands.

| needs             | at least | for                                                  |
|-------------------|----------|------------------------------------------------------|
| Redis (server)    | 7.0      | the `XAUTOCLAIM` reply of Redis 7 (`events_receive`) |
| Search (`FT.*`)   | 2.8      | vector fields on Hashes, DIALECT 3 and 4; 2.10 for   |
|                   |          | the default FLOAT16 vectors (`check_vector_type`)    |
| JSON (`JSON.*`)   | 2.6      | reading the JSON documents of storage schema 2 to    |
|                   |          | migrate them (`store/migration.py`)                  |

Redis 8 has both modules built in (and reports them as version 8.x);
Redis Stack 7.2 and later ships them. valkey reports `redis_version` 7.2.4
and takes the modules with `--loadmodule` (the embedded Redis does).

The password of `--redis-password-file` joins the user of `--redis-url`
here (`connect_url`); the logs show the URL without it (`redacted_url`).
`ACL_COMMANDS` is every command memrpc sends, directly or from its Lua
scripts: the least-privilege ACL of docs/deployment.md (`acl_rule`), which
tests/test_redis_startup.py runs a server under.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import redis.exceptions

from memrpc.backoff import RestartBackoff
from memrpc.config import Settings, SettingsError, redacted_url
from memrpc.limits import HASH_MAX_LISTPACK_VALUE
from memrpc.secret_files import read_secret
from memrpc.store import keys
from memrpc.store.cluster_mux import ClusterAddress, client_for, is_cluster_url
from memrpc.store.memory_document import VectorType
from memrpc.store.redis_errors import NoPermissionError, RedisUnavailable
from memrpc.store.redis_mux import RedisAddress, RedisClient

log = logging.getLogger("memrpc.server")

# The delays between tries of an unreachable Redis at start.
FIRST_DELAY_S = 0.5
LAST_DELAY_S = 5.0
# How long one try may wait for Redis's answer.
TRY_TIMEOUT_S = 2.0
# What to do about a Redis without the modules.
_GET_MODULES = "use Redis 8, Redis Stack 7.2 or later, or load redisearch.so and rejson.so"


@dataclass(frozen=True)
class Requirement:
    """A part of Redis memrpc needs, at least at `version`."""

    what: str
    # Its name in `INFO modules`, or "" for the server itself.
    module: str
    version: tuple[int, int]
    why: str


REQUIREMENTS = (
    Requirement("Redis", "", (7, 0), "the XAUTOCLAIM reply of Redis 7"),
    Requirement("the Search module (FT.*)", "search", (2, 8), "vector fields and DIALECT 4"),
    Requirement("the JSON module (JSON.*)", "ReJSON", (2, 6), "migrating JSON memories"),
)

# Every command memrpc sends (its Lua scripts' included), as ACL rules name
# them (`container|subcommand`); docs/deployment.md gives them as an ACL.
ACL_COMMANDS = (
    # start-up, health and the blocking reads' connections
    "ping", "info", "select", "client|id", "client|unblock",
    # Lua scripts
    "evalsha", "script|load",
    "del", "exists", "get", "set", "pexpire", "pexpireat", "persist", "pexpiretime", "pttl",
    "type", "hdel", "hget", "hgetall", "hincrby", "hmget", "hset", "hsetnx",
    "zadd", "zrem", "zrangebyscore", "zrevrangebyscore",
    "xadd", "xrange", "xrevrange", "xtrim", "xread", "xreadgroup", "xack", "xautoclaim",
    "xpending", "xgroup|create", "xgroup|destroy", "xinfo|stream",
    # the background jobs (memrpc/jobs/): the namespace set, claims, their
    # consumers' clean-up, their groups' lag
    "sadd", "sscan", "xclaim", "xgroup|delconsumer", "xinfo|groups",
    # the language model's budgets (store/model_budget.py); with
    # --durability replica, the offset a replica must confirm
    # (store/replica_ack.py)
    "incr", "wait",
    # the re-embed job (store/reembed.py): its walk over a namespace's keys
    "scan", "hexists",
    "ft.create", "ft.info", "ft.alter", "ft.search", "ft.aggregate",
    # the migration of storage schema 2 (store/migration.py): its index
    # listed and dropped, its documents read; a model move's record renamed
    # (store/model_record.py)
    "ft._list", "ft.dropindex", "json.get", "renamenx",
    # exports and imports (store/export_reader.py, store/import_writer.py):
    # a user's threads read by rank
    "zrange", "zrank",
    # erasures and namespace deletions (store/erasure.py,
    # store/namespace_deletion.py)
    "xlen", "xdel", "unlink", "srem",
    # checkpoints (store/checkpoints.py): listings by id, their namespaces
    "zrevrangebylex", "zcard", "smembers", "scard",
)  # fmt: skip


class RedisUnreachable(Exception):
    """Redis did not answer within `--redis-start-timeout`; the message is
    one line."""


@dataclass(frozen=True)
class RedisInfo:
    """What the start-up log says of the Redis: the server and version, and
    the modules' versions."""

    server: str
    version: str
    modules: dict[str, str]

    def __str__(self) -> str:
        modules = ", ".join(f"{name} {version}" for name, version in sorted(self.modules.items()))
        return f"{self.server} {self.version}" + (f" with {modules}" if modules else "")


# The Search module that first stores FLOAT16 vectors.
FLOAT16_SEARCH = (2, 10)


def check_vector_type(info: RedisInfo, vector_type: VectorType, url: str) -> None:
    """Raises `SettingsError` (one line) when the Redis of `info` (at `url`,
    as logged) cannot store `vector_type` vectors."""
    search = info.modules.get("search", "0.0")
    have = tuple(int(part) for part in search.split(".")[:2])
    if vector_type is VectorType.FLOAT16 and have < FLOAT16_SEARCH:
        raise SettingsError(
            f"Redis at {redacted_url(url)} ({info}): --vector-type FLOAT16 needs the Search "
            f"module {'.'.join(map(str, FLOAT16_SEARCH))} or later (Redis 8, Redis Stack 7.4); "
            "use --vector-type FLOAT32 on this one"
        )


def acl_rule(user: str = "memrpc", password: str = "<password>") -> str:
    """The `ACL SETUSER` of a least-privilege user for memrpc: its keys
    (`memrpc:*`, the index names included), no channels, `ACL_COMMANDS`."""
    commands = " ".join(f"+{command}" for command in ACL_COMMANDS)
    rules = f"on >{password} resetkeys ~{keys.PREFIX}:* resetchannels -@all {commands}"
    return f"ACL SETUSER {user} {rules}"


def file_password(settings: Settings) -> str | None:
    """The Redis password of `--redis-password-file`, if set; raises
    `SettingsError` when the file cannot be read or is empty."""
    path: Path | None = settings.redis_password_file
    if path is None:
        return None
    return read_secret(path, "--redis-password-file")


def connect_url(settings: Settings, url: str) -> str:
    """`url` with the password of `--redis-password-file`, if set, joined to
    its user; raises `SettingsError` naming --redis-url for a URL memrpc
    cannot use."""
    secret = file_password(settings)
    if secret is not None:
        parts = urlsplit(url)
        user, _, host = parts.netloc.rpartition("@")
        url = parts._replace(netloc=f"{user}:{quote(secret, safe='')}@{host}").geturl()
    try:
        ClusterAddress(url) if is_cluster_url(url) else RedisAddress(url)
    except ValueError as err:
        raise SettingsError(
            f"--redis-url {redacted_url(url)!r} is not a Redis URL: {err}"
        ) from None
    return url


async def reach(mux: RedisClient, url: str, *, timeout: float) -> RedisInfo:  # noqa: ASYNC109
    """Waits for the Redis of `mux` (at `url`, as logged) to answer, for up
    to `timeout` seconds, then checks it has what memrpc needs."""
    where = redacted_url(url)
    await _wait(mux, where, timeout)
    try:
        server = _fields(await mux.execute("INFO", "server"))
        modules = _modules(await mux.execute("INFO", "modules"))
    except NoPermissionError as err:
        raise SettingsError(
            f"Redis at {where}: memrpc's user may not run INFO ({err}); give it the ACL of "
            "docs/deployment.md (Redis)"
        ) from None
    name = server.get("server_name", "redis")
    info = RedisInfo(name, server.get(f"{name}_version", server["redis_version"]), modules)
    missing = _unmet(server["redis_version"], modules)
    if missing:
        raise SettingsError(f"Redis at {where} ({info}): {'; '.join(missing)}")
    await _check_listpack(mux, where)
    return info


async def _check_listpack(mux: RedisClient, where: str) -> None:
    """Warns when the Redis keeps memories' Hashes in its large encoding
    (`HASH_MAX_LISTPACK_VALUE`); says nothing where `CONFIG` is not allowed
    (the least-privilege ACL does not grant it)."""
    try:
        reply = await mux.execute("CONFIG", "GET", "hash-max-listpack-value")
    except redis.exceptions.ResponseError:
        return
    found = dict(zip(reply[::2], reply[1::2], strict=True)).get(b"hash-max-listpack-value")
    if found is not None and int(found) < HASH_MAX_LISTPACK_VALUE:
        log.warning(
            "Redis at %s has hash-max-listpack-value %s: each long-term memory takes ~500 B "
            "more than with %d (CONFIG SET hash-max-listpack-value %d, and in its config "
            "file; docs/deployment.md)",
            where,
            found.decode(),
            HASH_MAX_LISTPACK_VALUE,
            HASH_MAX_LISTPACK_VALUE,
        )


async def check(settings: Settings, url: str) -> RedisInfo:
    """`reach` on a connection of its own, closed after."""
    full_url = connect_url(settings, url)
    mux = client_for(full_url)
    try:
        return await reach(mux, full_url, timeout=settings.redis_start_timeout)
    finally:
        await mux.aclose()


async def _wait(mux: RedisClient, where: str, timeout: float) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    backoff = RestartBackoff(FIRST_DELAY_S, LAST_DELAY_S, stable_after=math.inf)
    tries = 0
    while True:
        tries += 1
        try:
            await asyncio.wait_for(mux.execute("PING"), TRY_TIMEOUT_S)
            if tries > 1:
                log.info("Redis at %s answered (try %d)", where, tries)
            return
        except (redis.exceptions.ConnectionError, RedisUnavailable, TimeoutError) as err:
            left = deadline - loop.time()
            if left <= 0:
                raise RedisUnreachable(
                    f"Redis at {where} did not answer within {timeout:g} s "
                    f"(--redis-start-timeout, {tries} tries): {err}"
                ) from None
            delay = min(backoff.next_delay(), left)
            log.warning(
                "Redis at %s not ready (try %d: %s); next try in %.1f s", where, tries, err, delay
            )
            await asyncio.sleep(delay)
        except redis.exceptions.ResponseError as err:  # NOAUTH, WRONGPASS, NOPERM
            raise SettingsError(
                f"Redis at {where} refused memrpc ({err}): check the user of --redis-url and "
                "--redis-password-file, and the ACL of docs/deployment.md (Redis)"
            ) from None


def _unmet(server_version: str, modules: dict[str, str]) -> list[str]:
    """What `REQUIREMENTS` asks that this Redis lacks, each in words."""
    unmet = []
    for need in REQUIREMENTS:
        have = server_version if not need.module else modules.get(need.module)
        wanted = ".".join(map(str, need.version))
        if have is None:
            unmet.append(f"{need.what} is missing: {_GET_MODULES}")
        elif tuple(int(part) for part in have.split(".")[:2]) < need.version:
            unmet.append(f"{need.what} is {have}, memrpc needs {wanted} or later for {need.why}")
    return unmet


def _fields(reply: bytes) -> dict[str, str]:
    """The `key:value` lines of an INFO reply."""
    lines = reply.decode().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line and not line.startswith("#"))


def _modules(reply: bytes) -> dict[str, str]:
    """The modules of `INFO modules` by name, each with its version as
    `major.minor.patch` (INFO gives 21005 for 2.10.5)."""
    found = {}
    for line in reply.decode().splitlines():
        key, _, value = line.partition(":")
        if key != "module":
            continue
        attrs = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
        if "name" in attrs and attrs.get("ver", "").isdigit():
            ver = int(attrs["ver"])
            found[attrs["name"]] = f"{ver // 10000}.{ver // 100 % 100}.{ver % 100}"
    return found
