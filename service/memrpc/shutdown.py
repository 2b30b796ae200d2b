"""Stopping a server without failing calls: the pieces `server.py` and
`workers.py` drain with.

A server asked to stop (SIGTERM or SIGINT) goes through three phases:

1. **Drain** (`--drain-delay` seconds): health turns `NOT_SERVING` for every
   service at once, so that clients checking health (gRPC client-side health
   checking, Envoy, Kubernetes readiness) stop sending it calls, while it
   still serves every call and connection that comes, because endpoint
   removal takes time to reach every client. A second signal ends the
   drain early (`Signals.hurry`).
2. **Stop accepting**: the gRPC server refuses new calls and connections;
   open streams that would otherwise run to the end of the grace end now,
   cleanly: tails with `OK` (see `api/event_log.py`), health watches with
   `OK` (`Health`), waiting receives with what they have (`unless`).
3. **Finish** (`--shutdown-grace` seconds at most): in-flight calls finish;
   those still running when the grace ends are cancelled.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from grpc_health.v1 import health, health_pb2

T = TypeVar("T")


class Signals:
    """Stop signals as two events: `stop` is set by the first, `hurry` by
    any later one (to skip the rest of the drain)."""

    def __init__(self, signals: Sequence[signal.Signals]) -> None:
        self.stop = asyncio.Event()
        self.hurry = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.add_signal_handler(sig, self._received)

    def _received(self) -> None:
        (self.hurry if self.stop.is_set() else self.stop).set()


class Health(health.aio.HealthServicer):  # type: ignore[misc]  # grpc_health is untyped
    """grpc_health's servicer, whose `Watch` calls end with `OK` once
    `ended` is set, and which answers `List`. grpc_health's own never end, so a client watching
    health (every client doing client-side health checking) would hold a
    stopping server for its whole grace."""

    def __init__(self, ended: asyncio.Event) -> None:
        super().__init__()
        self._ended = ended

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: Any) -> None:
        await unless(self._ended, super().Watch(request, context))

    async def List(
        self, request: health_pb2.HealthListRequest, context: Any
    ) -> health_pb2.HealthListResponse:
        """Every service's status, as `Check` answers each (grpc_health's
        servicer leaves `List` unimplemented: a traceback on every call)."""
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=status)
                for name, status in self._server_status.items()
            }
        )


async def unless(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
    """The result of `work`, or None when `stop` is set first: `work` is then
    cancelled. Cancelling the caller cancels `work` too."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        task.cancel()
        stopped.cancel()
        await asyncio.gather(task, stopped, return_exceptions=True)
    return None if task.cancelled() else task.result()
