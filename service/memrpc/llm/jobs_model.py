"""The language model as the background jobs use it: per namespace (its
`LanguageModelPolicy.enabled`), and never failing a job. A call that gives
up (`LanguageModelError`) answers None, for the job to do that work without
the model, and is reported: logged, and recorded as a
`memrpc.language_model_failed` event in the namespace's thread of memory
changes (`store/memory_changes.py`; payload in `event_log.proto`'s
`Event.type` comment). Its metrics are the client's (`memrpc_llm_calls`
by outcome)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from typing import TypeVar

from memrpc.llm.base import LanguageModel, LanguageModelError
from memrpc.namespace_defaults import NamespaceDefaults
from memrpc.store.events import EventContent, EventStore
from memrpc.store.memory_changes import CHANGES_THREAD, Change

log = logging.getLogger("memrpc.llm")

T = TypeVar("T")


class JobsModel:
    """A language model, and where the jobs report its failures."""

    def __init__(self, model: LanguageModel, events: EventStore) -> None:
        self.model = model
        self._events = events

    def enabled(self, defaults: NamespaceDefaults) -> bool:
        """Whether a namespace of these defaults uses the model."""
        return defaults.language_model.enabled

    async def call(self, ns: str, job: str, thread: str, call: Awaitable[T]) -> T | None:
        """The result of `call`, a call of `job` to the model for `thread`
        of `ns` ('' for none); None when it gave up, reported."""
        try:
            return await call
        except LanguageModelError as err:
            log.warning("%s of %s/%s goes on without the language model: %s", job, ns, thread, err)
            payload = {
                "job": job,
                "thread_id": thread,
                "reason": err.failure.value,
                "attempts": err.attempts,
                "error": str(err),
            }
            await self._events.append(
                ns,
                CHANGES_THREAD,
                [EventContent(type=Change.LANGUAGE_MODEL_FAILED, json=json.dumps(payload))],
            )
            return None
