"""The `LanguageModel` of any OpenAI-compatible chat-completions API (vLLM,
Ollama, llama.cpp's server, hosted APIs): `POST <--llm-url>/chat/completions`.

A call (`tasks.py` says what each asks) is taken from its namespace's
budget first (`store/model_budget.py`): over it, it fails at once with
`RATE_LIMITED`, nothing sent. Then up to `--llm-max-attempts` attempts,
each within `--llm-timeout` seconds, reply included:

- the request names `--llm-model`, sends the instructions as the system
  message and the input as a JSON user message, at temperature 0, and asks
  for replies of the task's schema (`response_format` `json_schema`); a
  server that refuses that (a 400 naming `response_format`) is asked
  without it from then on, the schema being in the instructions too;
- the reply's message must be JSON (a surrounding Markdown code fence is
  dropped) of the task's schema (`schema.py`), whatever the server
  promised: otherwise the attempt is `MALFORMED`;
- malformed output, time-outs, 429 and 5xx (and connections that fail)
  are attempted again after a delay: exponential backoff with jitter
  (`LLM_BACKOFF_*`), or a 429's `Retry-After` (capped); any other status
  (400, 401, 404...) fails the call at once (`REFUSED`);
- the last failure is raised as `LanguageModelError`.

The API key (`--llm-key-file`, read once at start) goes in the
`Authorization: Bearer` header and nowhere else: never in a log line, an
error or an event. Each call is counted by job and outcome and timed, each
attempt's tokens (`usage`) and each retry counted (`metrics.py`).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import random
import time
from collections.abc import Sequence
from typing import Any

import httpx

from memrpc import metrics
from memrpc.config import Settings
from memrpc.limits import (
    LLM_BACKOFF_FIRST_S,
    LLM_BACKOFF_LAST_S,
    LLM_MAX_REPLY_BYTES,
    LLM_RETRY_AFTER_MAX_S,
)
from memrpc.llm.base import Fact, Failure, LanguageModelError
from memrpc.llm.schema import Schema, problem
from memrpc.llm.tasks import (
    CONTRADICTED,
    FACTS,
    FACTS_SCHEMA,
    SUMMARY,
    Task,
    contradicted_schema,
    summary_schema,
    turns_input,
)
from memrpc.namespace_defaults import DefaultsSource
from memrpc.secret_files import read_secret
from memrpc.store.model_budget import ModelBudget
from memrpc.store.redis_mux import RedisClient
from memrpc.summaries.base import FoldTurn

log = logging.getLogger("memrpc.llm")

_FENCE = "```"
# The failures worth another attempt.
_RETRIED = frozenset(
    {Failure.MALFORMED, Failure.TIMEOUT, Failure.RATE_LIMITED, Failure.UNAVAILABLE}
)


class _Attempt(Exception):
    """An attempt that failed: why, and the delay a 429 asked for."""

    def __init__(self, failure: Failure, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail
        self.retry_after = retry_after


class OpenAICompatibleModel:
    """The jobs' language model, over one pooled HTTP client."""

    def __init__(
        self,
        *,
        url: str,
        model: str,
        key: str | None,
        timeout_s: float,
        max_attempts: int,
        budget: ModelBudget,
        defaults: DefaultsSource,
        backoff_first_s: float = LLM_BACKOFF_FIRST_S,
        backoff_last_s: float = LLM_BACKOFF_LAST_S,
    ) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        # Only to keep it out of error details (a server may echo it).
        self._key = key
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/") + "/", headers=headers, timeout=timeout_s
        )
        self._model = model
        self.url = url
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._budget = budget
        self._defaults = defaults
        self._backoff = (backoff_first_s, backoff_last_s)
        # Whether replies are asked for with `response_format` (until the
        # server refuses it).
        self._structured = True

    @classmethod
    def from_settings(
        cls, settings: Settings, redis: RedisClient, defaults: DefaultsSource
    ) -> OpenAICompatibleModel | None:
        """The model of `--llm-url` and the settings beside it (the key file
        read now; `SettingsError` when it cannot be), or None without one."""
        if settings.llm_url is None:
            return None
        return cls(
            url=settings.llm_url,
            model=settings.llm_model or "",
            key=api_key(settings),
            timeout_s=settings.llm_timeout,
            max_attempts=settings.llm_max_attempts,
            budget=ModelBudget(redis),
            defaults=defaults,
        )

    @property
    def name(self) -> str:
        return self._model

    async def aclose(self) -> None:
        """Closes the HTTP connections."""
        await self._http.aclose()

    async def extract_facts(self, ns: str, turns: Sequence[FoldTurn]) -> list[Fact]:
        texts = await self._call(ns, FACTS, {"turns": turns_input(turns)}, FACTS_SCHEMA)
        return [Fact(text) for text in dict.fromkeys(text.strip() for text in texts) if text]

    async def summarize(
        self, ns: str, summary: str, turns: Sequence[FoldTurn], *, max_chars: int
    ) -> str:
        given = {"summary": summary, "turns": turns_input(turns), "max_chars": max_chars}
        text: str = await self._call(ns, SUMMARY, given, summary_schema(max_chars))
        return text.strip()

    async def contradicted(self, ns: str, newer: str, older: Sequence[str]) -> list[int]:
        if not older:
            return []
        given = {"newer": newer, "older": list(older)}
        indexes = await self._call(ns, CONTRADICTED, given, contradicted_schema(len(older)))
        return sorted(set(indexes))

    async def _call(self, ns: str, task: Task, given: dict[str, Any], value: Schema) -> Any:
        """The reply's one property, after the attempts the call needs;
        raises `LanguageModelError` when it gives up."""
        started = time.monotonic()
        outcome = "ok"
        try:
            return await self._attempts(ns, task, given, value)
        except LanguageModelError as err:
            outcome = err.failure.value
            raise
        finally:
            metrics.llm_call(task.job, outcome, time.monotonic() - started)

    async def _attempts(self, ns: str, task: Task, given: dict[str, Any], value: Schema) -> Any:
        per_minute = (await self._defaults.defaults(ns)).language_model.max_calls_per_minute
        if not await self._budget.take(ns, per_minute, now_ms=int(time.time() * 1000)):
            raise LanguageModelError(
                Failure.RATE_LIMITED,
                0,
                f"namespace {ns!r} made its {per_minute} calls of this minute "
                "(language_model.max_calls_per_minute)",
            )
        attempts = 0
        # One pass more than attempts: the one that finds the server refuses
        # response_format (once: it is not asked for again).
        for _ in range(self._max_attempts + 1):
            structured = self._structured
            try:
                reply = await self._attempt(task, given, value, structured=structured)
            except _Attempt as failed:
                if failed.failure is Failure.REFUSED and structured and not self._structured:
                    continue  # asked again without response_format
                attempts += 1
                if failed.failure not in _RETRIED or attempts >= self._max_attempts:
                    detail = failed.detail.replace(self._key, "***") if self._key else failed.detail
                    raise LanguageModelError(failed.failure, attempts, detail) from None
                metrics.llm_retry(task.job, failed.failure.value)
                await asyncio.sleep(self._delay(attempts, failed.retry_after))
            else:
                return reply[task.name]
        raise AssertionError("every pass returns or raises by the last")

    async def _attempt(
        self, task: Task, given: dict[str, Any], value: Schema, *, structured: bool
    ) -> dict[str, Any]:
        """One request and its validated reply; raises `_Attempt`."""
        body: dict[str, Any] = {
            "model": self._model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": task.instructions},
                {"role": "user", "content": json.dumps(given, ensure_ascii=False)},
            ],
        }
        if structured:
            body["response_format"] = task.response_format(value)
        try:
            async with asyncio.timeout(self._timeout_s):
                status, headers, raw = await self._post(body)
        except (TimeoutError, httpx.TimeoutException):
            raise _Attempt(Failure.TIMEOUT, f"no reply within {self._timeout_s:g} s") from None
        except httpx.HTTPError as err:
            raise _Attempt(Failure.UNAVAILABLE, f"{type(err).__name__}: {err}") from None
        if status != 200:
            raise self._status_failure(status, headers, raw, structured=structured)
        return self._parse(task.job, raw, task.reply_schema(value))

    async def _post(self, body: dict[str, Any]) -> tuple[int, httpx.Headers, bytes]:
        """The status, headers and body (at most `LLM_MAX_REPLY_BYTES`,
        else `MALFORMED`) of one request."""
        async with self._http.stream("POST", "chat/completions", json=body) as response:
            raw = bytearray()
            async for piece in response.aiter_bytes():
                raw += piece
                if len(raw) > LLM_MAX_REPLY_BYTES:
                    raise _Attempt(
                        Failure.MALFORMED, f"reply longer than {LLM_MAX_REPLY_BYTES} bytes"
                    )
            return response.status_code, response.headers, bytes(raw)

    def _status_failure(
        self, status: int, headers: httpx.Headers, raw: bytes, *, structured: bool
    ) -> _Attempt:
        """The failure of an attempt answered with HTTP `status`."""
        detail = f"HTTP {status}: {_error_message(raw)}"
        if status == 429:
            return _Attempt(Failure.RATE_LIMITED, detail, _retry_after(headers.get("Retry-After")))
        if status >= 500:
            return _Attempt(Failure.UNAVAILABLE, detail)
        if status == 400 and structured and b"response_format" in raw:
            log.warning(
                "the language model's server refuses response_format (%s): asking without it",
                detail,
            )
            self._structured = False
        return _Attempt(Failure.REFUSED, detail)

    def _parse(self, job: str, raw: bytes, schema: Schema) -> dict[str, Any]:
        """The reply of a completion's body, checked against `schema`;
        raises `_Attempt` (`MALFORMED`)."""
        try:
            completion = json.loads(raw)
            usage = completion.get("usage") or {}
            metrics.llm_tokens(
                job, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
            text = completion["choices"][0]["message"]["content"]
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            raise _Attempt(Failure.MALFORMED, "not a chat completion") from None
        if not isinstance(text, str):
            raise _Attempt(Failure.MALFORMED, "a completion without text")
        try:
            reply = json.loads(_unfenced(text))
        except ValueError as err:
            raise _Attempt(Failure.MALFORMED, f"the reply is not JSON: {err}") from None
        wrong = problem(reply, schema)
        if wrong:
            raise _Attempt(Failure.MALFORMED, f"the reply is not of the schema: {wrong}")
        assert isinstance(reply, dict)
        return reply

    def _delay(self, attempts: int, retry_after: float | None) -> float:
        """The delay after the `attempts`th failed attempt."""
        if retry_after is not None:
            return retry_after
        first, last = self._backoff
        delay: float = min(first * 2.0 ** (attempts - 1), last)
        return delay * (1 + random.random())


def api_key(settings: Settings) -> str | None:
    """The key of `--llm-key-file`, if set; `SettingsError` when the file
    cannot be read or is empty."""
    path = settings.llm_key_file
    return read_secret(path, "--llm-key-file") if path is not None else None


def _unfenced(text: str) -> str:
    """`text` without a Markdown code fence around it (```json ... ```)."""
    text = text.strip()
    if text.startswith(_FENCE) and text.endswith(_FENCE) and len(text) > 2 * len(_FENCE):
        return text[len(_FENCE) : -len(_FENCE)].removeprefix("json").strip()
    return text


def _retry_after(value: str | None) -> float | None:
    """The delay a `Retry-After` header asks for (seconds or an HTTP date),
    at most `LLM_RETRY_AFTER_MAX_S`; None without a readable one."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), LLM_RETRY_AFTER_MAX_S)


def _error_message(raw: bytes) -> str:
    """The message of an error reply (OpenAI's `{"error": {"message"}}`),
    else its first characters."""
    try:
        message = json.loads(raw)["error"]["message"]
    except (ValueError, TypeError, KeyError):
        message = raw[:200].decode(errors="replace")
    return str(message)[:200]
