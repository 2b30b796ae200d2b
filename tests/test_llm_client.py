"""The language model client (memrpc/llm/openai.py) against the scripted
stand-in for a model (tests/llm_standin.py; no model runs here): what it
sends, the replies it accepts, and how it retries and gives up on malformed
output, time-outs, 429s and 5xx, other statuses, an unreachable server and
a namespace's spent budget; the key of --llm-key-file sent as a Bearer
token and never logged; its settings."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from llm_standin import (
    Reply,
    StandIn,
    content,
    json_reply,
    malformed,
    rate_limited,
    server_error,
    slow,
    status,
)
from memrpc import metrics
from memrpc.config import Settings, SettingsError, effective
from memrpc.limits import LLM_BUDGET_WINDOW_S, LLM_MAX_FACTS, Limits
from memrpc.llm.base import Fact, Failure, LanguageModelError
from memrpc.llm.openai import OpenAICompatibleModel
from memrpc.namespace_defaults import LanguageModelPolicy, server_defaults
from memrpc.store import keys
from memrpc.store.redis_mux import RedisMux
from memrpc.summaries.base import FoldTurn
from support import FixedDefaults

KEY = "sk-standin-0123456789"
# A reply slower than an attempt may take (0.3 s: the `llm_model` fixture's).
SLOW_S = 5.0
DEFAULTS = server_defaults(Limits.from_settings(Settings()))
TURNS = [
    FoldTurn("1-0", "user", "My sister is called Ingrid. The weather is fine."),
    FoldTurn("2-0", "assistant", "Nice! What does Ingrid do?"),
    FoldTurn("3-0", "user", "She is a pilot. I live in Berlin."),
]
# The facts the stand-in's rules find in TURNS.
FACTS = [Fact("My sister is called Ingrid."), Fact("I live in Berlin.")]

Make = Callable[..., OpenAICompatibleModel]


@pytest.fixture
def make_model(llm_model: Make) -> Make:
    """Clients of the stand-in that send `KEY`."""
    return lambda **overrides: llm_model(**({"key": KEY} | overrides))


_SAMPLES = [
    ("memrpc_llm_calls_total", {"job_name": "formation", "outcome": outcome})
    for outcome in ("ok", *(failure.value for failure in Failure))
] + [
    ("memrpc_llm_retries_total", {"job_name": "formation", "reason": "malformed"}),
    ("memrpc_llm_tokens_total", {"job_name": "formation", "direction": "in"}),
    ("memrpc_llm_tokens_total", {"job_name": "formation", "direction": "out"}),
    ("memrpc_llm_call_duration_seconds_count", {"job_name": "formation"}),
]


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@contextmanager
def counting() -> Iterator[Callable[[str, dict[str, str]], float]]:
    """Metrics on while it lasts; gives what a sample of `_SAMPLES` grew by."""
    before = {(name, repr(labels)): _sample(name, labels) for name, labels in _SAMPLES}
    metrics.enable()
    try:
        yield lambda name, labels: _sample(name, labels) - before[(name, repr(labels))]
    finally:
        metrics.disable()


async def fails(call: Any) -> LanguageModelError:
    with pytest.raises(LanguageModelError) as caught:
        await call
    return caught.value


async def test_a_call_names_the_model_sends_the_key_and_asks_for_the_schema(
    make_model: Make, llm_standin: StandIn, ns: str
) -> None:
    assert await make_model().extract_facts(ns, TURNS) == FACTS
    [request] = llm_standin.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "standin-1"
    assert request.body["temperature"] == 0
    schema = request.body["response_format"]["json_schema"]
    assert request.body["response_format"]["type"] == "json_schema"
    assert (schema["name"], schema["schema"]["required"]) == ("facts", ["facts"])
    assert schema["schema"]["properties"]["facts"]["maxItems"] == LLM_MAX_FACTS
    system, user = request.body["messages"]
    assert system["role"] == "system"
    assert "facts" in system["content"]
    assert json.loads(user["content"]) == {
        "turns": [{"role": t.role, "content": t.content} for t in TURNS]
    }


async def test_malformed_output_is_retried_and_a_fenced_reply_accepted(
    make_model: Make, llm_standin: StandIn, ns: str
) -> None:
    fenced = content('```json\n{"facts": ["The user\'s sister is called Ingrid."]}\n```')
    llm_standin.script(malformed(), json_reply({"facts": "Ingrid"}), fenced)
    with counting() as grown:
        facts = await make_model().extract_facts(ns, TURNS)
        assert facts == [Fact("The user's sister is called Ingrid.")]
        assert len(llm_standin.requests) == 3
        labels = {"job_name": "formation"}
        assert grown("memrpc_llm_retries_total", labels | {"reason": "malformed"}) == 2
        assert grown("memrpc_llm_calls_total", labels | {"outcome": "ok"}) == 1
        assert grown("memrpc_llm_call_duration_seconds_count", labels) == 1
        # The stand-in reports 11 tokens in and 7 out for each attempt.
        assert grown("memrpc_llm_tokens_total", labels | {"direction": "in"}) == 33
        assert grown("memrpc_llm_tokens_total", labels | {"direction": "out"}) == 21


NOT_OF_THE_SCHEMA = {
    "not json": malformed(),
    "a list": json_reply(["The user lives in Berlin."]),
    "a number for a fact": json_reply({"facts": [1]}),
    "another property": json_reply({"facts": [], "notes": "none"}),
    "no facts property": json_reply({"fact": []}),
    "an empty fact": json_reply({"facts": [""]}),
    "a fact too long": json_reply({"facts": ["x" * 501]}),
    "too many facts": json_reply({"facts": [f"Fact {i}." for i in range(LLM_MAX_FACTS + 1)]}),
    "not a completion": Reply(body=b'{"choices": []}'),
    "no text": json_reply({"choices": [{"message": {"content": None}}]}),
}


@pytest.mark.parametrize("reply", NOT_OF_THE_SCHEMA.values(), ids=NOT_OF_THE_SCHEMA.keys())
async def test_output_malformed_every_attempt_gives_up_as_malformed(
    make_model: Make, llm_standin: StandIn, ns: str, reply: Reply
) -> None:
    llm_standin.script(reply, reply, reply)
    with counting() as grown:
        err = await fails(make_model().extract_facts(ns, TURNS))
        assert grown("memrpc_llm_calls_total", {"job_name": "formation", "outcome": "malformed"})
    assert (err.failure, err.attempts) == (Failure.MALFORMED, 3)
    assert len(llm_standin.requests) == 3


async def test_a_reply_past_the_timeout_is_abandoned_and_retried(
    make_model: Make, llm_standin: StandIn, ns: str
) -> None:
    llm_standin.script(slow(SLOW_S))
    assert await make_model().extract_facts(ns, TURNS) == FACTS
    assert len(llm_standin.requests) == 2
    llm_standin.script(*[slow(SLOW_S)] * 3)
    err = await fails(make_model().extract_facts(ns, TURNS))
    assert (err.failure, err.attempts) == (Failure.TIMEOUT, 3)


async def test_a_429_is_retried_after_its_retry_after(
    make_model: Make, llm_standin: StandIn, ns: str
) -> None:
    llm_standin.script(rate_limited(retry_after="1"))
    started = time.monotonic()
    assert await make_model().extract_facts(ns, TURNS) == FACTS
    # The backoff alone would wait at most 0.04 s.
    assert time.monotonic() - started >= 1.0
    llm_standin.script(*[rate_limited()] * 3)
    err = await fails(make_model().extract_facts(ns, TURNS))
    assert (err.failure, err.attempts) == (Failure.RATE_LIMITED, 3)


async def test_5xx_are_retried_then_the_server_is_unavailable(
    make_model: Make, llm_standin: StandIn, ns: str
) -> None:
    llm_standin.script(server_error(), status(503))
    assert await make_model().extract_facts(ns, TURNS) == FACTS
    assert len(llm_standin.requests) == 3
    llm_standin.script(*[server_error()] * 3)
    err = await fails(make_model().extract_facts(ns, TURNS))
    assert (err.failure, err.attempts) == (Failure.UNAVAILABLE, 3)
    assert "HTTP 500" in err.detail


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
async def test_other_statuses_are_refused_without_retry(
    make_model: Make, llm_standin: StandIn, ns: str, code: int
) -> None:
    llm_standin.script(status(code))
    err = await fails(make_model().extract_facts(ns, TURNS))
    assert (err.failure, err.attempts) == (Failure.REFUSED, 1)
    assert len(llm_standin.requests) == 1
    assert llm_standin.scripted == 0


async def test_a_server_refusing_response_format_is_asked_without_it(
    make_model: Make, llm_standin: StandIn, ns: str
) -> None:
    refusal = json.dumps({"error": {"message": "response_format json_schema is unsupported"}})
    llm_standin.script(Reply(400, refusal.encode()))
    model = make_model(max_attempts=1)
    assert await model.extract_facts(ns, TURNS) == FACTS
    assert await model.summarize(ns, "", TURNS, max_chars=200)
    first, *later = llm_standin.requests
    assert "response_format" in first.body
    assert len(later) == 2
    assert not any("response_format" in request.body for request in later)


async def test_an_unreachable_server_is_unavailable(make_model: Make, ns: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = await fails(make_model(url=f"http://127.0.0.1:{port}/v1").extract_facts(ns, TURNS))
    assert (err.failure, err.attempts) == (Failure.UNAVAILABLE, 3)


# Seconds the budget window must still have for the budget test to start in it.
MINUTE_MARGIN_S = 20.0


async def test_a_spent_budget_refuses_a_call_without_sending_it(
    make_model: Make, llm_standin: StandIn, mux: RedisMux, ns: str
) -> None:
    two = dataclasses.replace(DEFAULTS, language_model=LanguageModelPolicy(True, 2))
    model = make_model(defaults=FixedDefaults(two))
    # The budget is a minute's: start early in one, so that the three calls
    # share it however slow the machine (at most `MINUTE_MARGIN_S` waited).
    left = LLM_BUDGET_WINDOW_S - time.time() % LLM_BUDGET_WINDOW_S
    if left < MINUTE_MARGIN_S:
        await asyncio.sleep(left)
    for _ in range(2):
        assert await model.extract_facts(ns, TURNS) == FACTS
    err = await fails(model.extract_facts(ns, TURNS))
    assert (err.failure, err.attempts) == (Failure.RATE_LIMITED, 0)
    assert "max_calls_per_minute" in err.detail
    assert len(llm_standin.requests) == 2
    # Another namespace has a budget of its own.
    assert await model.extract_facts(ns + "b", TURNS) == FACTS
    # The counter is the minute's, and goes with it.
    window = int(time.time()) // 60
    counters = [keys.model_calls(ns, w) for w in (window - 1, window)]
    found = [await mux.execute("GET", key) for key in counters]
    assert b"2" in found
    ttl = await mux.execute("PTTL", counters[found.index(b"2")])
    assert 0 < ttl <= 120_000


async def test_summaries_and_contradictions_follow_their_schemas(
    make_model: Make, llm_standin: StandIn, ns: str
) -> None:
    model = make_model()
    summary = await model.summarize(ns, "Earlier: a trip.", TURNS, max_chars=200)
    assert summary.startswith("Earlier: a trip. My sister is called Ingrid.")
    older = ["The user lives in Berlin.", "The user likes tea."]
    assert await model.contradicted(ns, "The user lives in Munich.", older) == [0]
    assert await model.contradicted(ns, "The user has a cat.", older) == []
    sent = len(llm_standin.requests)
    assert await model.contradicted(ns, "The user has a cat.", []) == []
    assert len(llm_standin.requests) == sent
    # Longer than asked, an index out of range: malformed.
    llm_standin.script(*[json_reply({"summary": "x" * 201})] * 3)
    err = await fails(model.summarize(ns, "", TURNS, max_chars=200))
    assert err.failure == Failure.MALFORMED
    llm_standin.script(*[json_reply({"contradicted": [2]})] * 3)
    err = await fails(model.contradicted(ns, "The user lives in Munich.", older))
    assert err.failure == Failure.MALFORMED


def settings(**values: Any) -> Settings:
    return Settings(**({"llm_url": "http://127.0.0.1:1/v1", "llm_model": "m"} | values))


async def test_the_key_file_is_read_once_sent_as_bearer_and_never_logged(
    llm_standin: StandIn, mux: RedisMux, tmp_path: Path, caplog: pytest.LogCaptureFixture, ns: str
) -> None:
    key_file = tmp_path / "llm.key"
    key_file.write_text(f"  {KEY}\n")
    config = settings(llm_url=llm_standin.url, llm_key_file=key_file, llm_max_attempts=1)
    config.validate()
    model = OpenAICompatibleModel.from_settings(config, mux, FixedDefaults(DEFAULTS))
    assert model is not None
    key_file.write_text("another key")
    # A server echoing the key in its error.
    echo = json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}})
    caplog.set_level(logging.DEBUG)
    try:
        assert await model.extract_facts(ns, TURNS) == FACTS
        llm_standin.script(Reply(401, echo.encode()))
        err = await fails(model.extract_facts(ns, TURNS))
    finally:
        await model.aclose()
    assert [r.headers["Authorization"] for r in llm_standin.requests] == [f"Bearer {KEY}"] * 2
    assert KEY not in str(err)
    assert "***" in str(err)
    assert KEY not in caplog.text
    assert KEY not in effective(config)
    assert not any(KEY in str(record.args) for record in caplog.records)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"llm_model": None}, "--llm-url needs --llm-model"),
        ({"llm_model": "m" * 65}, "of at most 64 characters"),
        ({"llm_url": "ftp://host/v1"}, "--llm-url 'ftp://host/v1' is not an API URL"),
        ({"llm_url": None}, "--llm-model and --llm-key-file need --llm-url"),
        ({"llm_timeout": 0}, "--llm-timeout"),
        ({"llm_max_attempts": 0}, "--llm-max-attempts"),
    ],
)
def test_settings_of_the_language_model_are_checked(values: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(**values).validate()


async def test_an_unreadable_key_file_stops_the_start(mux: RedisMux, tmp_path: Path) -> None:
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    for path, message in ((tmp_path / "none.key", "cannot read"), (empty, "is empty")):
        with pytest.raises(SettingsError, match=f"--llm-key-file: .*{message}"):
            OpenAICompatibleModel.from_settings(
                settings(llm_key_file=path), mux, FixedDefaults(DEFAULTS)
            )


def test_a_password_in_the_url_is_not_logged() -> None:
    assert "secret" not in effective(settings(llm_url="https://user:secret@llm.example/v1"))
