"""Deterministic, realistic benchmark data: memory texts, conversation turns,
queries, and their embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from memrpc.embedding import OnnxModel

Vector = npt.NDArray[np.float32]

DIM = 384
NAMESPACE = "bench"
_SUBJECTS = (
    "window seats on long flights",
    "vegetarian restaurants",
    "morning meetings",
    "dark mode in every editor",
    "hiking in the Alps",
    "jazz from the fifties",
    "Python type hints",
    "trains over planes in Europe",
    "quiet hotels near the centre",
    "spicy Thai food",
    "early check-in",
    "weekly status reports by email",
    "Rust for systems work",
    "museums on rainy days",
    "aisle seats on short flights",
    "oat milk in coffee",
    "standing desks",
    "sci-fi audiobooks",
    "boutique hotels",
    "cycling to work",
    "Italian wines",
    "detailed meeting agendas",
    "remote Fridays",
    "mechanical keyboards",
    "street food markets",
    "sunrise runs",
    "minimalist design",
)
_VERBS = (
    "prefers",
    "dislikes",
    "asked about",
    "often mentions",
    "wants to avoid",
    "recommended",
    "is allergic to anything near",
    "booked",
    "keeps forgetting",
    "is curious about",
)
_PEOPLE = (
    "Alice",
    "Bob",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Gustav",
    "Hana",
    "Ivan",
    "Jo",
    "Kwame",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
)
_CONTEXTS = (
    "when travelling for work",
    "on weekends",
    "during the winter",
    "with the family",
    "for the team offsite",
    "when the budget is tight",
    "after long days",
    "for client dinners",
    "on short trips",
    "when working from home",
    "in big cities",
    "when the weather is bad",
    "before presentations",
    "on holidays",
)
_QUESTIONS = (
    "what does the user think about",
    "any preferences about",
    "remind me what was said on",
    "has the user mentioned",
    "what should I book regarding",
    "past notes on",
    "does the user like",
    "summarise what we know about",
)


def _pick(number: int, *lists: tuple[str, ...]) -> list[str]:
    """One word of each list: `number` in mixed radix, so distinct numbers
    below the product of the lengths give distinct picks."""
    picked = []
    for words in lists:
        number, digit = divmod(number, len(words))
        picked.append(words[digit])
    return picked


def memory_text(number: int) -> str:
    """A fact about a user, distinct for every `number`."""
    person, verb, subject, context = _pick(number, _PEOPLE, _VERBS, _SUBJECTS, _CONTEXTS)
    round_ = number // (len(_PEOPLE) * len(_VERBS) * len(_SUBJECTS) * len(_CONTEXTS))
    suffix = f" (note {round_})" if round_ else ""
    return f"{person} {verb} {subject} {context}{suffix}."


def query_text(number: int) -> str:
    """A recall query, distinct for every `number`."""
    question, subject, context = _pick(number, _QUESTIONS, _SUBJECTS, _CONTEXTS)
    round_ = number // (len(_QUESTIONS) * len(_SUBJECTS) * len(_CONTEXTS))
    suffix = f" (ask {round_})" if round_ else ""
    return f"{question} {subject} {context}{suffix}?"


def user_id(number: int) -> str:
    """One of 16 users."""
    return f"user-{number % len(_PEOPLE):02d}"


def user_turn(number: int) -> str:
    """A user message of a conversation (~90 characters)."""
    question, subject, context = _pick(number, _QUESTIONS, _SUBJECTS, _CONTEXTS)
    return f"Quick one: {question} {subject} {context}? I need it for turn {number}."


def assistant_turn(number: int) -> str:
    """An assistant reply of a conversation (~330 characters)."""
    person, verb, subject, context = _pick(number, _PEOPLE, _VERBS, _SUBJECTS, _CONTEXTS)
    return (
        f"From what I remember, {person} {verb} {subject} {context}. I would suggest "
        "checking the options again before deciding, keeping the budget and the dates in "
        "mind, and I can draft a short plan with two alternatives if that helps. Let me "
        f"know which constraints matter most this time (reply {number})."
    )


def embed_all(model: OnnxModel, texts: list[str], batch: int = 64) -> npt.NDArray[np.float32]:
    """The model's embeddings of `texts`, computed in batches."""
    rows = [model.embed(texts[start : start + batch]) for start in range(0, len(texts), batch)]
    return np.concatenate(rows) if rows else np.empty((0, DIM), dtype=np.float32)


@dataclass(frozen=True)
class Dataset:
    """What both memrpc and the reference pattern are seeded with: threads,
    memories (text, user, embedding) and query embeddings."""

    threads: list[str]
    memory_texts: list[str]
    memory_users: list[str]
    memory_vectors: npt.NDArray[np.float32]
    query_vectors: npt.NDArray[np.float32]


def build_dataset(model: OnnxModel, *, threads: int, memories: int, queries: int) -> Dataset:
    """The dataset, with real embeddings of its texts."""
    texts = [memory_text(number) for number in range(memories)]
    return Dataset(
        threads=[f"t-{number:04d}" for number in range(threads)],
        memory_texts=texts,
        memory_users=[user_id(number) for number in range(memories)],
        memory_vectors=embed_all(model, texts),
        query_vectors=embed_all(model, [query_text(number) for number in range(queries)]),
    )
