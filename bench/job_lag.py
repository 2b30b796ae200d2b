"""How far the server's background summary job falls behind while the
bench runs.

The job reads the namespace's feed (`keys.feed`) with the consumer group
`memrpc.summaries`; its lag is what `XINFO GROUPS` reports for that group:
the feed entries not yet delivered to it. A sampler reads it every
`SAMPLE_S` seconds while the operations are measured; the report gives the
largest and the last lag ("n/a" when the group does not exist: a server
without the job, or one that never saw a turn leave a window).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis.asyncio
from redis.exceptions import ResponseError

from memrpc.store import keys

GROUP = "memrpc.summaries"
SAMPLE_S = 0.25


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class LagSampler:
    """Samples the lag of `GROUP` on the feed of `namespace` until stopped."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str) -> None:
        self._client = client
        self._feed = keys.feed(namespace)
        self._lags: list[int] = []
        self._pending = 0
        self._task: asyncio.Task[None] | None = None

    async def sample(self) -> None:
        """One reading (none when the feed or the group does not exist, or
        Redis cannot tell the lag)."""
        try:
            groups = await self._client.xinfo_groups(self._feed)
        except ResponseError:  # no such key: no feed yet
            return
        for group in groups:
            if _text(group["name"]) == GROUP and group.get("lag") is not None:
                self._lags.append(int(group["lag"]))
                self._pending = int(group["pending"])

    async def _run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(SAMPLE_S)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, Any]:
        """Stops sampling, takes a last sample; the report's section."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.sample()
        section: dict[str, Any] = {"group": GROUP, "feed": self._feed, "sample_s": SAMPLE_S}
        if not self._lags:
            return {**section, "status": f"n/a: no consumer group {GROUP} on the feed"}
        return {
            **section,
            "status": "ok",
            "samples": len(self._lags),
            "max_lag": max(self._lags),
            "final_lag": self._lags[-1],
            "final_pending": self._pending,
        }


def lines(section: dict[str, Any]) -> list[str]:
    """The section as text lines for the report table."""
    title = f"Summary job lag ({GROUP} on the bench feed, events not yet delivered)"
    if section.get("status") != "ok":
        return [f"{title}: {section.get('status', 'not run')}"]
    return [
        f"{title}: max {section['max_lag']:,}, final {section['final_lag']:,}"
        f" (pending {section['final_pending']:,}; {section['samples']} samples"
        f" every {section['sample_s']:g} s)"
    ]
