"""The extractive summarizer (memrpc.summaries), with the real embedding
model: its sentence splitting and salience rules, its bounds (the budget,
the candidates of one fold), determinism, redundancy, and the quality bar of
issue 14: folded the way the job folds (a turn at a time, 5 at a time, all
40 at once), the 40 turns a 20-turn window evicts from a 60-turn
conversation leave at least 8 of its 10 planted facts in a summary of the
default size; for two conversations (`long_conversation.py`,
`incident_conversation.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import numpy as np
import numpy.typing as npt
import pytest

import incident_conversation
import long_conversation
from long_conversation import facts_found
from memrpc import limits as lim
from memrpc.embedding import BatchingEmbedder, Embedder, load_default_embedder
from memrpc.summaries.base import FoldTurn, Summarizer
from memrpc.summaries.extractive import ExtractiveSummarizer, Unit, candidates, units
from memrpc.summaries.salience import salience, specific_tokens
from memrpc.summaries.sentences import ELLIPSIS, cut, pieces, sentences

DEFAULT_CHARS = int(lim.SUMMARY_MAX_CHARS.default)
MIN_CHARS = int(lim.SUMMARY_MAX_CHARS.low)
WINDOW = int(lim.WINDOW_TURNS.default)
# Each conversation's turns and the distinctive token of each of its facts.
CONVERSATIONS = {
    "wedding": (long_conversation.TURNS, long_conversation.FACTS),
    "incident": (incident_conversation.TURNS, incident_conversation.FACTS),
}


def evicted(turns: Sequence[tuple[str, str]]) -> list[FoldTurn]:
    """The turns a window of the default size evicts, oldest first."""
    return [FoldTurn(f"{i}-0", role, text) for i, (role, text) in enumerate(turns)][:-WINDOW]


EVICTED = evicted(long_conversation.TURNS)


class CountingEmbedder:
    """The real embedder, recording the texts of each call."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(list(texts))
        return await self.inner.embed(texts)

    async def aclose(self) -> None:
        """The inner embedder is the session's: not closed here."""


@pytest.fixture
def counting(embedder: BatchingEmbedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


@pytest.fixture
def summarizer(counting: CountingEmbedder) -> ExtractiveSummarizer:
    return ExtractiveSummarizer(counting)


@pytest.fixture
async def uncached() -> AsyncIterator[BatchingEmbedder]:
    """A second model, without a cache: every text embedded afresh."""
    model = load_default_embedder(cache_size=0)
    yield model
    await model.aclose()


def turn(n: int, role: str, content: str) -> FoldTurn:
    return FoldTurn(f"{n}-0", role, content)


async def fold_in_chunks(summarizer: Summarizer, turns: Sequence[FoldTurn], chunk: int) -> str:
    """The summary of `turns` folded `chunk` turns at a time, as the job does."""
    summary = ""
    for start in range(0, len(turns), chunk):
        summary = await summarizer.fold(
            summary, turns[start : start + chunk], max_chars=DEFAULT_CHARS
        )
    return summary


# -- Sentences -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Python 3.7 is fine. Version 2.0 too.", ["Python 3.7 is fine.", "Version 2.0 too."]),
        ("Ask Dr. Patel, e.g. Monday. Then go.", ["Ask Dr. Patel, e.g. Monday.", "Then go."]),
        ("J. R. Smith called. He left.", ["J. R. Smith called.", "He left."]),
        ('She said "Go." Then left.', ['She said "Go."', "Then left."]),
        ("lower. case stays one", ["lower. case stays one"]),
        (
            "First line\n- a bullet\n2. a step\n\n  spaced   out  ",
            ["First line", "a bullet", "a step", "spaced out"],
        ),
        ("Wait... 10 more minutes.", ["Wait...", "10 more minutes."]),
        ("Привет. Это Анна. ok. Да", ["Привет.", "Это Анна. ok.", "Да"]),
        (
            "会議は月曜日です。場所は東京\uff01本当\uff1fはい",
            ["会議は月曜日です。", "場所は東京\uff01", "本当\uff1f", "はい"],
        ),
        ("(See above.) Then go.", ["(See above.)", "Then go."]),
        ("   \n  ", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_pieces_cut_long_sentences_between_words() -> None:
    sentence = " ".join(f"word{i}" for i in range(200))
    parts = list(pieces(sentence, 50))
    assert all(len(p) <= 50 for p in parts)
    assert " ".join(parts) == sentence
    assert list(pieces("x" * 120, 50)) == ["x" * 50, "x" * 50, "x" * 20]
    assert list(pieces("short", 50)) == ["short"]


def test_cut_ends_between_words_with_an_ellipsis() -> None:
    text = "The quick brown fox jumps over the lazy dog"
    assert cut(text, 100) == text
    shortened = cut(text, 20)
    assert shortened == "The quick brown fox" + ELLIPSIS
    assert len(cut(text, 20)) <= 20
    assert cut("y" * 40, 10) == "y" * 9 + ELLIPSIS


# -- Salience ------------------------------------------------------------------


def test_specific_tokens_by_kind() -> None:
    tokens = specific_tokens(
        "Ingrid lands on LH 2417 at 6:35 on Friday 14th, paid $3,850 for Step 2 "
        "and mailed jo@example.com about the EPX-9120 and her allergy, with 86 guests."
    )
    assert tokens == {
        "lh": "acronym",
        "2417": "figure",
        "6:35": "figure",
        "friday": "date",
        "14th": "date",
        "$3,850": "figure",
        "step": "name",
        "2": "small",
        "jo@example.com": "code",
        "epx-9120": "code",
        "allergy": "cue",
        "86": "figure",
    }
    # The first word of a sentence is capitalised whatever it is; "I" and "OK" name nothing.
    assert specific_tokens("Ingrid said I was OK and I\u2019ll stay") == {}
    assert specific_tokens("May I ask?") == {}
    assert specific_tokens("May 3 works") == {"3": "small"}
    assert specific_tokens("Come in May") == {"may": "date"}


def test_specificity_grows_with_details() -> None:
    plain = salience("that sounds like a very good idea to me").specificity
    some = salience("the venue is in Bristol").specificity
    many = salience("the venue is at 27 Kestrel Lane in Bristol, booked for 14 June").specificity
    assert plain == 0.0
    assert 0.0 < some < many < 1.0


@pytest.mark.parametrize(
    "sentence",
    [
        "Hi there!",
        "Thanks so much, talk soon!",
        "Okay.",
        "Sounds good to me.",
        "Got it.",
        "What do you think?",
        "Is that overkill?",
        "Yes please.",
    ],
)
def test_trivia(sentence: str) -> None:
    assert salience(sentence).trivia


@pytest.mark.parametrize(
    "sentence",
    [
        "Thanks, see you on Tuesday at 10:30.",
        "Can you rebook LH 2417?",
        "The caterer needs to know about the allergy.",
        "We should keep the chart simple and printable.",
    ],
)
def test_not_trivia(sentence: str) -> None:
    assert not salience(sentence).trivia


# -- Summaries: format, bounds ----------------------------------------------------


def test_units_round_trip() -> None:
    summary = "user: I live in Oslo.\nassistant: Noted: Oslo.\nno role here\n\n  "
    parsed = units(summary)
    assert parsed == [
        Unit("user", "I live in Oslo."),
        Unit("assistant", "Noted: Oslo."),
        Unit("", "no role here"),
    ]
    assert "\n".join(u.line for u in parsed) == summary.strip()


async def test_summarizer_name(summarizer: ExtractiveSummarizer) -> None:
    checked: Summarizer = summarizer
    assert checked.name == "extractive"


async def test_no_turns_return_the_summary_unchanged(
    summarizer: ExtractiveSummarizer, counting: CountingEmbedder
) -> None:
    for summary in ("", "user: whatever\n\n  odd   spacing", "x" * 5000):
        assert await summarizer.fold(summary, [], max_chars=MIN_CHARS) == summary
    assert counting.calls == []


async def test_lines_are_chronological_and_say_who_said_what(
    summarizer: ExtractiveSummarizer,
) -> None:
    turns = [
        turn(1, "user", "My name is Priya Raman and I work at Norvik Labs in Tromsø."),
        turn(2, "assistant", "Nice to meet you, Priya. Norvik Labs builds sensors, right?"),
        turn(3, "user", "Yes, we ship the NX-40 sensor in March 2027."),
    ]
    summary = await summarizer.fold("", turns, max_chars=DEFAULT_CHARS)
    assert summary.splitlines() == [
        "user: My name is Priya Raman and I work at Norvik Labs in Tromsø.",
        "assistant: Nice to meet you, Priya.",
        "assistant: Norvik Labs builds sensors, right?",
        "user: Yes, we ship the NX-40 sensor in March 2027.",
    ]
    later = await summarizer.fold(
        summary, [turn(4, "tool", "Order 77120 confirmed for 12 units.")], max_chars=DEFAULT_CHARS
    )
    assert later.splitlines()[:-1] == summary.splitlines()
    assert later.splitlines()[-1] == "tool: Order 77120 confirmed for 12 units."


async def test_trivia_is_dropped(summarizer: ExtractiveSummarizer) -> None:
    chatter = [turn(1, "user", "Hi! How are you?"), turn(2, "assistant", "Great, thanks! Ok.")]
    assert await summarizer.fold("", chatter, max_chars=DEFAULT_CHARS) == ""
    summary = "user: I fly to Lima on 3 May."
    assert await summarizer.fold(summary, chatter, max_chars=DEFAULT_CHARS) == summary


@pytest.mark.parametrize(
    "max_chars", [MIN_CHARS, 317, 1000, DEFAULT_CHARS, int(lim.SUMMARY_MAX_CHARS.high)]
)
async def test_the_budget_always_holds(summarizer: ExtractiveSummarizer, max_chars: int) -> None:
    long_word = "supercalifragilistic" * 40
    turns = [
        *EVICTED,
        turn(
            100,
            "user",
            " ".join(f"Item {i} costs ${i * 13}.50 at Store {i % 7}." for i in range(3000)),
        ),
        turn(101, "assistant", long_word),
        turn(102, "a-role-of-sixty-four-characters-" + "r" * 32, "Flight QF1 leaves at 9:15."),
    ]
    summary = ""
    for start in range(0, len(turns), 7):
        summary = await summarizer.fold(summary, turns[start : start + 7], max_chars=max_chars)
        assert 0 < len(summary) <= max_chars
    alone = await summarizer.fold("", [turn(1, "user", long_word)], max_chars=max_chars)
    assert len(alone) <= max_chars


async def test_a_unit_longer_than_the_budget_is_cut_between_words(
    summarizer: ExtractiveSummarizer,
) -> None:
    words = " ".join(f"Ledger{i}" for i in range(100))  # one "sentence", no punctuation
    summary = await summarizer.fold("", [turn(1, "user", words)], max_chars=MIN_CHARS)
    assert len(summary) <= MIN_CHARS
    assert summary.startswith("user: Ledger0 Ledger1 ")
    assert summary.endswith(ELLIPSIS)
    kept = summary.removeprefix("user: ").removesuffix(ELLIPSIS)
    assert words.startswith(kept + " ")


async def test_one_fold_embeds_once_and_at_most_the_bound(
    summarizer: ExtractiveSummarizer, counting: CountingEmbedder
) -> None:
    many = [
        turn(i, "user", f"Parcel {i} goes to Dock {i % 9}. It weighs {i * 3} kg. Fine.")
        for i in range(200)
    ]
    summary = await summarizer.fold("", many, max_chars=DEFAULT_CHARS)
    assert len(counting.calls) == 1
    assert 0 < len(counting.calls[0]) <= lim.SUMMARY_MAX_NEW_CANDIDATES
    await summarizer.fold(summary, many[:5], max_chars=DEFAULT_CHARS)
    assert len(counting.calls) == 2


def test_candidates_are_bounded_keeping_the_best_of_each_turn() -> None:
    bound, new = lim.SUMMARY_MAX_CANDIDATES, lim.SUMMARY_MAX_NEW_CANDIDATES
    summary = "\n".join(f"user: I live at {i:03d} Elm Row." for i in range(bound))
    turns = [
        turn(i, "user", f"I like plain things a lot. Booking AB{i:03d} is for 14 May.")
        for i in range(bound)
    ]
    pool = candidates(summary, turns, max_chars=int(lim.SUMMARY_MAX_CHARS.high))
    assert len(pool) == bound
    texts = [c.unit.text for c in pool]
    # The summary's units leave room for each turn's most specific sentence.
    old = bound - new
    assert texts[:old] == [f"I live at {i:03d} Elm Row." for i in range(old)]
    assert texts[old:] == [f"Booking AB{i:03d} is for 14 May." for i in range(new)]
    # Without a summary, each turn's best sentence before any turn's second best.
    few = turns[: new // 2 + 1]
    texts = [c.unit.text for c in candidates("", few, max_chars=DEFAULT_CHARS)]
    assert len(texts) == new
    assert sum(t.startswith("Booking") for t in texts) == len(few)
    assert texts[0] == "I like plain things a lot."


# -- Determinism and redundancy ------------------------------------------------


async def test_deterministic(summarizer: ExtractiveSummarizer, uncached: BatchingEmbedder) -> None:
    first = await fold_in_chunks(summarizer, EVICTED, 3)
    again = await fold_in_chunks(summarizer, EVICTED, 3)
    afresh = await fold_in_chunks(ExtractiveSummarizer(uncached), EVICTED, 3)
    assert first == again == afresh


async def test_a_repeated_fact_appears_once(summarizer: ExtractiveSummarizer) -> None:
    fact = "The gate code for the warehouse is 4471."
    turns = [
        turn(1, "user", f"{fact} Please remember it."),
        turn(2, "assistant", "Sure, I will keep that in mind for the delivery on Friday."),
        turn(3, "user", f"Again: {fact}"),
        turn(4, "user", "Reminder, the gate code for the warehouse is 4471!"),
        turn(5, "user", fact),
    ]
    one_fold = await summarizer.fold("", turns, max_chars=DEFAULT_CHARS)
    by_turn = await fold_in_chunks(summarizer, turns, 1)
    for summary in (one_fold, by_turn):
        assert summary.count("4471") == 1, summary
        assert "Friday" in summary


async def test_a_restated_fact_keeps_its_latest_wording(
    summarizer: ExtractiveSummarizer,
) -> None:
    turns = [
        turn(1, "user", "My locker code is 4100 and my cat is called Miso."),
        turn(2, "assistant", "Noted, I will remind you before the trip to Porto on May 9."),
        turn(3, "user", "Update: my locker code is 4107 and my cat is called Miso."),
    ]
    one_fold = await summarizer.fold("", turns, max_chars=DEFAULT_CHARS)
    by_turn = await fold_in_chunks(summarizer, turns, 1)
    for summary in (one_fold, by_turn):
        assert "4107" in summary, summary
        assert "4100" not in summary, summary
        assert "Porto" in summary


# -- The quality bar of issue 14 ------------------------------------------------


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_the_conversation_plants_its_facts_in_the_evicted_turns(name: str) -> None:
    turns, facts = CONVERSATIONS[name]
    assert len(turns) == 60
    assert [role for role, _ in turns] == ["user", "assistant"] * 30
    gone = evicted(turns)
    assert len(gone) == 40
    kept = "\n".join(content for _, content in turns[len(gone) :])
    assert facts_found("\n".join(t.content for t in gone), facts) == list(facts)
    assert facts_found(kept, facts) == []
    # Each fact is said once, inside a longer turn.
    for fact in facts:
        holding = [t.content for t in gone if fact in facts_found(t.content, facts)]
        assert len(holding) == 1
        assert len(sentences(holding[0])) >= 2


@pytest.mark.parametrize("chunk", [1, 5, 40])
@pytest.mark.parametrize("name", CONVERSATIONS)
async def test_planted_facts_survive_the_folds(
    summarizer: ExtractiveSummarizer, name: str, chunk: int
) -> None:
    turns, facts = CONVERSATIONS[name]
    summary = await fold_in_chunks(summarizer, evicted(turns), chunk)
    found = facts_found(summary, facts)
    print(f"{name}, folded {chunk} turn(s) at a time: {len(found)} of {len(facts)} facts kept")
    assert len(summary) <= DEFAULT_CHARS
    assert len(found) >= 8, (sorted(set(facts) - set(found)), summary)


async def test_one_long_tool_output_does_not_wipe_the_summary(
    summarizer: ExtractiveSummarizer,
) -> None:
    summary = await fold_in_chunks(summarizer, EVICTED, 5)
    before = facts_found(summary)
    orders = " ".join(
        f"Order ORD-{i * 7919 % 1_000_000:06d} for customer {('Ana', 'Bo', 'Cy')[i % 3]} Smith "
        f"shipped on {i % 27 + 1} May from Warehouse {i % 8 + 1}."
        for i in range(200)
    )
    after = await summarizer.fold(summary, [turn(99, "tool", orders)], max_chars=DEFAULT_CHARS)
    assert len(after) <= DEFAULT_CHARS
    assert any(line.startswith("tool: Order ORD-") for line in after.splitlines())
    assert len(facts_found(after)) >= len(before) - 2 >= 8
