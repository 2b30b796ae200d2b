"""Abstractive running summaries, written by the server's language model
(`--llm-url`): the summary so far and the turns that left the window, told
again within the summary's budget of characters. The summary job uses it
for the namespaces that use the model, and falls back on the extractive
summarizer for a fold whose call fails (`jobs/fold.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from memrpc.llm.base import LanguageModel
from memrpc.summaries.base import FoldTurn


class LanguageModelSummarizer:
    """Folds turns into a namespace's summaries with the model; a fold
    raises `LanguageModelError` when the model's call gives up."""

    def __init__(self, model: LanguageModel, ns: str) -> None:
        self._model = model
        self._ns = ns

    @property
    def name(self) -> str:
        """The model's name (`--llm-model`)."""
        return self._model.name

    async def fold(self, summary: str, turns: Sequence[FoldTurn], *, max_chars: int) -> str:
        return await self._model.summarize(self._ns, summary, turns, max_chars=max_chars)
