"""Micro-batching, caching asyncio front end for an :class:`OnnxModel`, with
a background lane for the work nobody waits on."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from memrpc import metrics
from memrpc.embedding.base import Embedder, EmbeddingQueueFull
from memrpc.embedding.identity import ModelIdentity
from memrpc.embedding.onnx_model import OnnxModel
from memrpc.limits import EMBED_BACKGROUND_BATCH
from memrpc.telemetry import tracing

Vector = npt.NDArray[np.float32]
# Seconds the packaged model takes per text on one thread, until batches have
# been timed: about 100 texts/s on one core of the development machine.
INITIAL_SECONDS_PER_TEXT = 0.01
# Weight of the latest batch in the running estimate of seconds per text.
_SMOOTHING = 0.2


class BatchingEmbedder:
    """An :class:`~memrpc.embedding.base.Embedder` that batches concurrent calls.

    Texts requested while a batch runs wait in a queue; when the batch
    finishes, up to ``max_batch`` queued texts go to the model as the next
    batch, so there is no added delay. The model runs in one worker thread,
    never on the event loop. An LRU cache of ``cache_size`` texts (0 disables
    it) skips repeated texts, and a text already queued or running is not
    embedded a second time. A queued text whose callers have all gone (their
    RPCs were cancelled or ran out of time) is dropped before its batch, so
    abandoned requests do not keep the model busy.

    With ``max_queue`` set, at most that many texts wait for a batch: a
    call whose new texts (neither cached nor already pending) would take the
    queue past it raises :class:`EmbeddingQueueFull` at once, queueing none
    of them, with an estimate of how long the queue takes to drain (the texts
    waiting times a running average of the model's seconds per text). A
    burst therefore sheds its excess in microseconds instead of making every
    caller wait behind it; ``None`` leaves the queue unbounded.

    :meth:`background` is the same embedder for the background jobs (a fold
    embeds up to 160 texts, and nobody waits on it): their texts wait in a
    lane of their own, never count against ``max_queue`` and are never
    refused for it (the jobs' concurrency bounds them). A batch is taken from
    the background lane only when no interactive text waits, and holds at
    most ``EMBED_BACKGROUND_BATCH`` texts (`memrpc/limits.py`), so an
    interactive text waits for one small batch at most, not behind a fold. A
    text waiting in the background lane that an interactive call asks for
    moves to the interactive queue (it counts against ``max_queue`` there,
    like a new text); a background call for a text already pending joins
    it. The cache, the dedup of pending texts and the dropping of abandoned
    ones are the same in both lanes.

    With tracing on, each call has an ``embed`` span under the caller's
    (``memrpc/telemetry/tracing.py``), from the call to its vectors: cache
    lookups, the wait in the queue and the model's batch. A batch serves
    several calls, so it has no span of its own (it would have several
    parents); each call's span is its share of the wait (a background
    call's has ``memrpc.embed.lane`` = ``background``).

    Counters: ``model_calls`` (batches sent to the model), ``texts_embedded``
    (texts in them), ``texts_abandoned`` (dropped unembedded), ``texts_refused``
    (refused for a full queue) and ``cache_hits``, over both lanes; the
    interactive queue's depth, the batches' sizes and the texts refused go to
    the metrics too (`memrpc/metrics.py`).
    """

    def __init__(
        self,
        model: OnnxModel,
        *,
        max_batch: int = 64,
        cache_size: int = 4096,
        max_queue: int | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if cache_size < 0:
            raise ValueError("cache_size must not be negative")
        if max_queue is not None and max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self._model = model
        self._max_batch = max_batch
        self._cache_size = cache_size
        self._max_queue = max_queue
        self._seconds_per_text = INITIAL_SECONDS_PER_TEXT
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        # Texts waiting for a batch, in order: the interactive queue and the
        # background lane (ordered sets: a text moves from the lane to the queue).
        self._queue: OrderedDict[str, None] = OrderedDict()
        self._background: OrderedDict[str, None] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Vector]] = {}  # queued or running
        self._callers: Counter[str] = Counter()  # callers waiting for each pending text
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memrpc-embed")
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self._background_view = BackgroundLane(self)
        self.model_calls = 0
        self.texts_embedded = 0
        self.texts_abandoned = 0
        self.texts_refused = 0
        self.cache_hits = 0

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._model.dim

    @property
    def identity(self) -> ModelIdentity:
        """Which model makes the vectors."""
        return self._model.identity

    @property
    def background_waiting(self) -> int:
        """Texts waiting in the background lane."""
        return len(self._background)

    def callers_of(self, text: str) -> int:
        """How many calls wait for the vector of `text` (queued or being
        embedded): 0 once they all ended, after which its queued copy is
        dropped when its batch comes."""
        return self._callers[text]

    def background(self) -> Embedder:
        """This embedder for the background jobs: their texts wait in the
        background lane."""
        return self._background_view

    async def embed(self, texts: Sequence[str], *, background: bool = False) -> Vector:
        """Unit-norm float32 rows, shape ``(len(texts), dim)``, in the order of
        ``texts``; in the background lane with ``background``."""
        if self._closed:
            raise RuntimeError("the embedder is closed")
        if tracing.tracer is None:
            return await self._embed(texts, background)
        attributes: dict[str, str | int] = {"memrpc.embed.texts": len(texts)}
        if background:
            attributes["memrpc.embed.lane"] = "background"
        with tracing.child("embed", attributes):
            return await self._embed(texts, background)

    async def _embed(self, texts: Sequence[str], background: bool) -> Vector:
        if not background:
            self._admit(texts)
        loop = asyncio.get_running_loop()
        rows: list[Vector | asyncio.Future[Vector]] = []
        for text in texts:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                self.cache_hits += 1
                rows.append(cached)
                continue
            future = self._pending.get(text)
            if future is None:
                future = self._pending[text] = loop.create_future()
                (self._background if background else self._queue)[text] = None
            elif not background and text in self._background:
                del self._background[text]  # promoted: an interactive caller waits for it
                self._queue[text] = None
            rows.append(future)
        metrics.embed_queue(len(self._queue))
        if (self._queue or self._background) and self._worker is None:
            self._worker = asyncio.create_task(self._drain())
        awaited = {
            text: row
            for text, row in zip(texts, rows, strict=True)
            if isinstance(row, asyncio.Future)
        }
        if awaited:
            self._callers.update(awaited.keys())
            try:
                # asyncio.wait, unlike awaiting a future, does not cancel the
                # shared futures if this caller is cancelled.
                await asyncio.wait(awaited.values())
            finally:
                self._callers.subtract(awaited.keys())
                for text in awaited:
                    if self._callers[text] <= 0:
                        del self._callers[text]
        if not rows:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.stack([row.result() if isinstance(row, asyncio.Future) else row for row in rows])

    def _admit(self, texts: Sequence[str]) -> None:
        """Raises `EmbeddingQueueFull` if queueing the new ones of `texts`
        (or those promoted from the background lane) would take the queue
        past `max_queue`."""
        if self._max_queue is None:
            return
        new = {
            text
            for text in texts
            if text not in self._cache and (text not in self._pending or text in self._background)
        }
        waiting = len(self._queue)
        if waiting + len(new) > self._max_queue:
            self.texts_refused += len(new)
            metrics.embed_shed(len(new))
            raise EmbeddingQueueFull(waiting, self._max_queue, waiting * self._seconds_per_text)

    async def aclose(self) -> None:
        """Finish the requests already accepted, then stop the worker thread."""
        self._closed = True
        if self._worker is not None:
            await asyncio.shield(self._worker)
        self._executor.shutdown(wait=True)

    async def _drain(self) -> None:
        """Run queued texts through the model, batch after batch, until none are
        left in either lane."""
        loop = asyncio.get_running_loop()
        try:
            while self._queue or self._background:
                batch = self._next_batch()
                metrics.embed_queue(len(self._queue))
                if not batch:
                    continue
                self.model_calls += 1
                self.texts_embedded += len(batch)
                metrics.embed_batch(len(batch))
                started = time.monotonic()
                try:
                    vectors = await loop.run_in_executor(self._executor, self._model.embed, batch)
                except Exception as exc:
                    for text in batch:
                        future = self._pending.pop(text)
                        future.set_exception(exc)
                        # Mark it retrieved: a caller that fails on another text of
                        # its request, or was cancelled, never reads this one, and
                        # asyncio would log the same error again for each future.
                        future.exception()
                    continue
                per_text = (time.monotonic() - started) / len(batch)
                self._seconds_per_text += _SMOOTHING * (per_text - self._seconds_per_text)
                for text, vector in zip(batch, vectors, strict=True):
                    self._remember(text, vector)
                    self._pending.pop(text).set_result(vector)
        finally:
            # Empty unless this task was cancelled (event loop shutdown).
            for future in self._pending.values():
                future.cancel()
            self._pending.clear()
            self._queue.clear()
            self._background.clear()
            self._worker = None

    def _next_batch(self) -> list[str]:
        """Up to ``max_batch`` interactive texts that a caller still waits
        for; when none waits, up to ``EMBED_BACKGROUND_BATCH`` of the
        background lane. Texts nobody waits for any more are dropped on the way."""
        batch = self._take(self._queue, self._max_batch)
        return batch or self._take(self._background, min(self._max_batch, EMBED_BACKGROUND_BATCH))

    def _take(self, lane: OrderedDict[str, None], limit: int) -> list[str]:
        """Up to `limit` texts of `lane`, first come first, that a caller
        still waits for; those it passes that nobody waits for are dropped."""
        batch: list[str] = []
        while lane and len(batch) < limit:
            text, _ = lane.popitem(last=False)
            if self._callers[text] > 0:
                batch.append(text)
            else:
                self._pending.pop(text).cancel()
                self.texts_abandoned += 1
        return batch

    def _remember(self, text: str, vector: Vector) -> None:
        if self._cache_size == 0:
            return
        self._cache[text] = vector.copy()  # a row alone, not a view pinning the whole batch
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


class BackgroundLane:
    """A :class:`BatchingEmbedder` seen by the background jobs: an
    :class:`~memrpc.embedding.base.Embedder` whose texts go to its background
    lane (never refused for a full queue; they wait behind interactive ones).
    The batcher's owner closes it: :meth:`aclose` here leaves it open."""

    def __init__(self, batcher: BatchingEmbedder) -> None:
        self._batcher = batcher

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._batcher.dim

    @property
    def identity(self) -> ModelIdentity:
        """Which model makes the vectors."""
        return self._batcher.identity

    async def embed(self, texts: Sequence[str]) -> Vector:
        """As :meth:`BatchingEmbedder.embed`, in the background lane."""
        return await self._batcher.embed(texts, background=True)

    def background(self) -> Embedder:
        """Itself: it is the background lane already."""
        return self

    async def aclose(self) -> None:
        """Nothing: the batcher is its owner's to close."""
