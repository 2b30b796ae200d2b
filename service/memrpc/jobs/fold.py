"""The running-summary job (`memrpc.summaries`): folds the turns that left a
thread's window into its session's summary.

It runs on the events that make turns leave a window: `memrpc.turn` (every
AppendTurns records its turns so, and an append evicts the oldest) and
`memrpc.window_emptied` (an UpdateSession that emptied a window holding
turns). A run folds everything
pending on the thread, in steps: read the summary so far and the next turns
to fold (`SummaryStore.next_fold`, which the session's fold state decides,
not the event that triggered the run), summarize, write conditionally
(`SummaryStore.write`, refused when the fold state changed meanwhile: an
append, an update or another runner; the step reads again). A repeated run
thus folds nothing twice, whichever runner and delivery it comes from.

The summarizer embeds in the embedder's background lane (`runtime.py`):
never refused for a full queue (no `EmbeddingQueueFull` to retry), its texts
wait behind the interactive calls' in batches of a few.

With a language model (`--llm-url`) that the namespace uses
(`language_model.enabled`), a fold is abstractive
(`summaries/llm.py`, the summary's `summarizer` the model's name); a fold
whose call fails (`llm/jobs_model.py`: reported) is extractive instead.

A namespace whose settings turn summaries off is skipped (its entries are
acknowledged); its turns stay pending and are folded if it turns them on
again and a later append runs the job.
"""

from __future__ import annotations

import logging

from memrpc import metrics
from memrpc.api.convert import now_ms
from memrpc.limits import FOLD_MAX_STEPS, FOLD_MAX_TURNS
from memrpc.llm.jobs_model import JobsModel
from memrpc.namespace_defaults import DefaultsSource, NamespaceDefaults
from memrpc.store.summaries import WINDOW_EMPTIED_EVENT, FoldWork, SummaryStore
from memrpc.store.turn_log import TURN_EVENT
from memrpc.summaries.base import Summarizer
from memrpc.summaries.llm import LanguageModelSummarizer

log = logging.getLogger("memrpc.jobs")


class FoldUnfinished(Exception):
    """A run made its most steps and turns are still pending: its entries
    stay unacknowledged, and their next delivery goes on."""


class FoldJob:
    """Folds a thread's left-the-window turns into its running summary."""

    name = "summaries"
    # Turns leave a window when an append evicts them or an update empties it.
    event_types = frozenset({TURN_EVENT, WINDOW_EMPTIED_EVENT})

    def __init__(
        self,
        store: SummaryStore,
        summarizer: Summarizer,
        defaults: DefaultsSource,
        model: JobsModel | None = None,
    ) -> None:
        self._store = store
        self._summarizer = summarizer
        self._defaults = defaults
        self._model = model

    async def run(self, ns: str, thread: str) -> None:
        defaults = await self._defaults.defaults(ns)
        policy = defaults.summaries
        if not policy.enabled:
            return
        for _ in range(FOLD_MAX_STEPS):
            work = await self._store.next_fold(
                ns, thread, min_turns=policy.min_fold_turns, max_turns=FOLD_MAX_TURNS
            )
            if work is None:
                return
            # No turn left to read (the log trimmed them): the write records
            # them as skipped and keeps the summary.
            text, summarizer = (
                await self._fold(ns, thread, defaults, work)
                if work.turns
                else (work.summary, self._summarizer.name)
            )
            written = await self._store.write(
                work, text=text, summarizer=summarizer, now_ms=now_ms()
            )
            if written:
                metrics.turns_folded(len(work.turns))
            else:
                log.debug("fold of %s/%s lost a race, reading again", ns, thread)
        raise FoldUnfinished(
            f"thread {thread!r} still has turns to fold after {FOLD_MAX_STEPS} steps"
        )

    async def _fold(
        self, ns: str, thread: str, defaults: NamespaceDefaults, work: FoldWork
    ) -> tuple[str, str]:
        """The summary of `work`, and the name of the summarizer that wrote
        it: the model's when the namespace uses one and its call succeeds."""
        max_chars = defaults.summaries.max_chars
        model = self._model
        if model is not None and model.enabled(defaults):
            abstractive = LanguageModelSummarizer(model.model, ns)
            folded = abstractive.fold(work.summary, work.turns, max_chars=max_chars)
            text = await model.call(ns, self.name, thread, folded)
            if text is not None:
                return text, abstractive.name
        text = await self._summarizer.fold(work.summary, work.turns, max_chars=max_chars)
        return text, self._summarizer.name
