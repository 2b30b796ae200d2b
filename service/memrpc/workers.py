"""Multi-process serving: `memrpc serve --workers N`.

The parent starts and supervises the embedded Redis (unless a Redis URL is
set) and N worker processes, each a full `MemrpcServer` listening on the same
address with SO_REUSEPORT, so that the kernel spreads connections over them.
With `--metrics-listen`, the parent serves the sum of the workers' metrics
(prometheus_client's multiprocess mode, `memrpc/metrics.py`).
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from memrpc import metrics
from memrpc.backoff import RestartBackoff
from memrpc.config import Settings, SettingsError
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.redis_check import RedisUnreachable, check
from memrpc.rpc.correlation import configure_logging
from memrpc.schema_check import check_schema
from memrpc.server import check_models, connect_redis, load_models, run
from memrpc.shutdown import Signals

log = logging.getLogger("memrpc.server")

# How much longer than the shutdown grace a worker gets to exit before SIGKILL.
WORKER_EXIT_SLACK_S = 5.0
_PR_SET_PDEATHSIG = 1
WORKER_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(processName)s]: %(message)s"


async def run_workers(settings: Settings) -> int:
    """Serves with `settings.workers` processes until SIGTERM or SIGINT;
    returns the exit status.

    Starts and supervises the embedded Redis (unless a Redis URL is set), then
    the workers: each listens on the same address (SO_REUSEPORT, so the kernel
    spreads connections over them), loads its own embedding model and uses the
    one Redis. If a worker fails to start, everything stops and the status is
    1. A worker that dies later is restarted (see `_Worker.keep_running`). On
    a signal, the workers get SIGTERM and drain (another signal is passed on
    to end their drain), then Redis stops; status 0. With metrics on, the
    parent serves their sum (`metrics.workers_metrics`).
    """
    with metrics.workers_metrics(settings.metrics_listen):
        return await _supervise(settings)


async def _supervise(settings: Settings) -> int:
    received = Signals((signal.SIGTERM, signal.SIGINT))
    stopping = received.stop
    listen, port_holder = _reserve_port(settings.listen)
    embedded: EmbeddedRedis | None = None
    redis_task: asyncio.Task[None] | None = None
    workers: list[_Worker] = []
    keepers: list[asyncio.Task[None]] = []
    status = 0
    try:
        redis_url = settings.redis_url
        if redis_url is None:
            embedded = EmbeddedRedis.from_settings(settings)
            await embedded.astart()
            redis_task = asyncio.create_task(embedded.supervise())
            redis_url = embedded.url
            log.info("embedded Redis serving at %s (data in %s)", redis_url, settings.data_dir)
        # Waited for and checked once here, with the model, so that workers
        # start on a Redis they can use and a refusal is said once.
        await check(settings, redis_url)
        await _check_stored(settings, redis_url)
        worker_settings = dataclasses.replace(settings, listen=listen, redis_url=redis_url)
        workers = [_Worker(index, worker_settings) for index in range(settings.workers)]
        starting = asyncio.gather(*(worker.start() for worker in workers))
        stop_waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait((starting, stop_waiter), return_when=asyncio.FIRST_COMPLETED)
        stop_waiter.cancel()
        if not starting.done():  # stopped while starting
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        elif not all(starting.result()):
            log.error("a worker failed to start; stopping")
            status = 1
        else:
            log.info("memrpc serving on %s with %d workers", listen, len(workers))
            keepers = [asyncio.create_task(worker.keep_running()) for worker in workers]
            await stopping.wait()
            log.info("shutting down (grace %.1f s)", settings.shutdown_grace)
    finally:
        for task in keepers:
            task.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)
        stops = asyncio.gather(*(worker.stop() for worker in workers))
        hurrying = asyncio.create_task(_hurry(received.hurry, workers))
        await stops
        hurrying.cancel()
        if redis_task is not None:
            redis_task.cancel()
            await asyncio.gather(redis_task, return_exceptions=True)
        if embedded is not None:
            await embedded.astop()
        if port_holder is not None:
            port_holder.close()
    return status


async def _check_stored(settings: Settings, url: str) -> None:
    """`check_models` and `check_schema` with the models and a connection of
    its own, closed after (loading a model takes ~0.2 s; its dimension is
    part of its identity)."""
    embedders = await load_models(settings)
    for embedder in embedders:
        await embedder.aclose()
    redis = connect_redis(settings, url)
    try:
        await check_models(redis, embedders, settings, url)
        await check_schema(redis, url)
    finally:
        await redis.aclose()


class _Worker:
    """One server process of `run_workers`."""

    def __init__(self, index: int, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.process: BaseProcess | None = None

    async def start(self) -> bool:
        """Starts the process; whether it came to serve (False: it exited first)."""
        context = multiprocessing.get_context("spawn")
        reader, writer = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_worker_main,
            args=(self.settings, writer, os.getpid()),
            name=f"worker-{self.index}",
        )
        self.process.start()
        writer.close()  # the worker holds the only writer now: EOF when it exits
        with reader:
            await _readable(reader.fileno())
            try:
                reader.recv()
            except EOFError:
                return False
        log.info("worker %d (pid %s) serving", self.index, self.process.pid)
        return True

    async def keep_running(self) -> None:
        """Restarts the process whenever it exits, after a delay from 0.1 s
        growing to 5 s while it keeps dying; runs until cancelled."""
        backoff = RestartBackoff()
        while True:
            process = self.process
            assert process is not None
            await _readable(process.sentinel)
            process.join()
            metrics.worker_exited(process.pid)
            delay = backoff.next_delay()
            log.warning(
                "worker %d (pid %s) exited with code %s; restarting in %.1f s",
                self.index,
                process.pid,
                process.exitcode,
                delay,
            )
            process.close()
            self.process = None
            await asyncio.sleep(delay)
            if await self.start():
                backoff.started()

    async def stop(self) -> None:
        """SIGTERM: the worker drains for the drain delay, then stops within
        the shutdown grace; SIGKILL if it has not exited a few seconds after
        both."""
        process = self.process
        if process is None or process.exitcode is not None:
            return
        process.terminate()
        settings = self.settings
        within = settings.drain_delay + settings.shutdown_grace + WORKER_EXIT_SLACK_S
        await asyncio.to_thread(process.join, within)
        if process.exitcode is None:
            log.warning("worker %d (pid %s) ignored SIGTERM; killing it", self.index, process.pid)
            process.kill()
            await asyncio.to_thread(process.join)


async def _hurry(hurry: asyncio.Event, workers: list[_Worker]) -> None:
    """Once `hurry` is set, SIGTERM again to the workers: ends their drain."""
    await hurry.wait()
    for worker in workers:
        if worker.process is not None and worker.process.exitcode is None:
            worker.process.terminate()


def _worker_main(settings: Settings, ready: Connection, parent_pid: int) -> None:
    """A worker process: serves until SIGTERM, which the parent sends (also
    for a Ctrl-C, so SIGINT is ignored here); dies with the parent."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(settings.log_level, settings.log_format, WORKER_LOG_FORMAT)

    def on_ready() -> None:
        ready.send(True)
        ready.close()

    try:
        asyncio.run(run(settings, signals=(signal.SIGTERM,), on_ready=on_ready))
    except (SettingsError, RedisUnreachable) as err:  # one line, as `memrpc serve` says it
        log.error("%s", err)
        sys.exit(2)


def _die_with_parent(parent_pid: int) -> None:
    """Asks Linux to SIGKILL this worker when the parent exits."""
    if sys.platform != "linux":
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL))
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


async def _readable(fd: int) -> None:
    """Returns when `fd` is readable (or at its end)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await done
    finally:
        loop.remove_reader(fd)


def _reserve_port(listen: str) -> tuple[str, socket.socket | None]:
    """`listen`, with a port of 0 replaced by a free one, and the socket that
    holds that port: bound with SO_REUSEPORT but not listening, so it keeps
    the port for the workers (also across restarts) and takes no connections."""
    host, _, port = listen.rpartition(":")
    if port != "0":
        return listen, None
    bare_host = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare_host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((bare_host, 0))
    return f"{host}:{holder.getsockname()[1]}", holder
