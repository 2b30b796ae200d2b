"""A memrpc server on a thread and event loop of its own, for test suites
that call a store synchronously from the test's thread (the session's
server runs on the test loop, which a blocking call would stall)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from conftest import make_settings, running
from memrpc.embedding import load_default_embedder

# How long the server may take to start (loading the model).
START_TIMEOUT_S = 60


@contextlib.contextmanager
def server_thread(redis_url: str) -> Iterator[int]:
    """A started memrpc server on `redis_url`, run by a thread of its own;
    yields its port, and stops it on exit."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    port: list[int] = []
    stop: list[asyncio.Event] = []
    failed: list[BaseException] = []

    async def serve() -> None:
        embedder = load_default_embedder()
        try:
            async with running(make_settings(redis_url), embedder) as server:
                stop.append(asyncio.Event())
                port.append(server.port)
                started.set()
                await stop[0].wait()
        finally:
            await embedder.aclose()

    def main() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # reported to the test thread
            failed.append(exc)
        finally:
            started.set()
            loop.close()

    thread = threading.Thread(target=main, name="memrpc-server", daemon=True)
    thread.start()
    try:
        if not started.wait(START_TIMEOUT_S) or not port:
            raise RuntimeError(f"the memrpc server thread did not start: {failed}")
        yield port[0]
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(START_TIMEOUT_S)
