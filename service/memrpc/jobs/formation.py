"""The memory-formation job (`memrpc.formation`): the turns that left a
thread's window become episodic long-term memories, `turns_per_memory` of
them each (`NamespaceSettings.formation`).

It runs on the same events as the running summary (`jobs/fold.py`):
`memrpc.turn` and `memrpc.window_emptied`. A run forms every whole chunk
waiting on the thread, in steps: read the next chunk
(`FormationStore.next_chunk`, decided by the session's formation cursor,
not by the event that triggered the run), summarize it extractively (no
language model) within `max_chars`, embed the summary, and write
conditionally (`FormationStore.form`, one script: refused when the cursor
moved meanwhile, e.g. another runner formed the chunk; the step reads
again). The write goes through `CreateMemories`' dedup, so a repeated
episode grows the existing memory's hit count. A repeated run thus forms
nothing twice, whichever runner and delivery it comes from.

With a language model (`--llm-url`) that the namespace uses
(`language_model.enabled`) and `formation.extract_facts`, each step also
asks the model for the facts and preferences the chunk's turns state, and
writes them as semantic memories (`Source.EXTRACTION`) in the same
conditional write, each through the same dedup (a repeated fact grows the
existing memory's hit count). A call that fails (`llm/jobs_model.py`:
reported) forms the episodic memory alone.

A namespace whose settings turn formation off is skipped (its entries are
acknowledged); its turns keep waiting and are formed if it turns formation
on again and a later append runs the job.

A thread's own choice (`AppendTurnsRequest.form_memories`, kept on its
session) outranks its namespace's `formation.enabled`, both ways; the job
reads it with each chunk (`FormationStore.next_chunk`, the same HMGET), so
a thread whose formation is off costs one read a run. Its turns wait the
same way.
"""

from __future__ import annotations

import logging

from memrpc import metrics
from memrpc.api.convert import now_ms
from memrpc.jobs.fold import FoldJob
from memrpc.limits import FORMATION_MAX_STEPS
from memrpc.llm.jobs_model import JobsModel
from memrpc.models import Models
from memrpc.namespace_defaults import DefaultsSource, NamespaceDefaults
from memrpc.store.formation import Chunk, FormationStore
from memrpc.store.long_term import NewMemory
from memrpc.summaries.base import Summarizer

log = logging.getLogger("memrpc.jobs")


class FormationUnfinished(Exception):
    """A run made its most steps and chunks are still waiting: its entries
    stay unacknowledged, and their next delivery goes on."""


class FormationJob:
    """Forms a thread's left-the-window turns into episodic memories."""

    name = "formation"
    event_types = FoldJob.event_types

    def __init__(
        self,
        store: FormationStore,
        summarizer: Summarizer,
        models: Models,
        defaults: DefaultsSource,
        model: JobsModel | None = None,
    ) -> None:
        self._store = store
        self._summarizer = summarizer
        self._models = models
        self._defaults = defaults
        self._model = model

    async def run(self, ns: str, thread: str) -> None:
        defaults = await self._defaults.defaults(ns)
        policy = defaults.formation
        for _ in range(FORMATION_MAX_STEPS):
            chunk = await self._store.next_chunk(
                ns, thread, turns_per_memory=policy.turns_per_memory, enabled=policy.enabled
            )
            if chunk is None:
                return
            if not chunk.turns:
                # Only turns the log trimmed: counted, nothing formed.
                await self._store.skip(chunk)
                continue
            text = await self._summarizer.fold("", chunk.turns, max_chars=policy.max_chars)
            facts = await self._facts(chunk, defaults)
            choice = await self._models.choice(ns, writing=True)
            texts = [text, *facts]
            vectors, others = await choice.write_vectors(texts)
            [memory, *fact_memories] = [
                NewMemory(text=t, embedding=v, other=o)
                for t, v, o in zip(texts, vectors, others, strict=True)
            ]
            formed = await self._store.form(
                chunk,
                memory,
                facts=fact_memories,
                max_distance=defaults.dedup_distance,
                episodic_ttl_ms=round(defaults.episodic_ttl_s * 1000),
                now_ms=now_ms(),
                field=choice.model.field,
            )
            if formed is not None:
                metrics.memory_formed(duplicate=formed.duplicate)
                for fact in formed.facts:
                    metrics.fact_extracted(duplicate=fact.duplicate)
            else:
                log.debug("formation of %s/%s lost a race, reading again", ns, thread)
        raise FormationUnfinished(
            f"thread {thread!r} still has turns to form after {FORMATION_MAX_STEPS} steps"
        )

    async def _facts(self, chunk: Chunk, defaults: NamespaceDefaults) -> list[str]:
        """The facts the model extracts from the chunk's turns, when the
        namespace asks for them (those longer than a formed memory may be
        left out); [] without."""
        model = self._model
        if model is None or not (defaults.formation.extract_facts and model.enabled(defaults)):
            return []
        found = await model.call(
            chunk.ns, self.name, chunk.thread, model.model.extract_facts(chunk.ns, chunk.turns)
        )
        return [fact.text for fact in found or () if len(fact.text) <= defaults.formation.max_chars]
