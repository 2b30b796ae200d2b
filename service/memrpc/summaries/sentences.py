"""Text into sentences, and sentences into pieces that fit a bound.

The extractive summarizer picks whole sentences, so it needs them split
from a turn's content without a language model. A sentence ends at `.`,
`!`, `?` or `…` (closing quotes and brackets kept with it) followed by
white space and an upper-case letter or a digit (in any script, after an
opening quote or bracket if any); at an ideographic full stop or a
full-width exclamation or question mark (U+3002, U+FF01, U+FF1F); or at a
line break, so that lists and paragraphs split too (a list's bullet is
dropped). A period after a common abbreviation (`Dr.`, `e.g.`) or a single
initial (`J. Smith`) ends nothing. White space inside a sentence becomes
one space, so a sentence is always one line.

Sentences longer than a bound are cut into pieces at word boundaries
(`pieces`), and a text too long for a budget is shortened at one (`cut`),
with `…` marking the cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

ELLIPSIS = "…"

# Where a sentence may end: its closing punctuation (and quotes or brackets
# closing with it), then the white space before the next one, whose first
# word character (group 1, after an opening quote or bracket) must be an
# upper-case letter or a digit; or an ideographic full stop or a full-width
# exclamation or question mark, with or without white space after it.
# Group 2 is the white space between them.
_OPENING = "\"'\u201c\u2018(["
_CLOSING = "\"'\u201d\u2019)]"
_CLOSING_FULL_WIDTH = "\u300d\u300f\u3011\uff09"
_BOUNDARY = re.compile(
    rf"(?:[.!?…]+[{re.escape(_CLOSING)}]*(?=\s+[{re.escape(_OPENING)}]?(\w))"
    rf"|[\u3002\uff01\uff1f]+[{_CLOSING_FULL_WIDTH}]*)(\s*)"
)
# The word a boundary's period follows.
_LAST_WORD = re.compile(r"(\S+)$")
# Abbreviations whose period ends no sentence (lower case, without the
# final period).
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "no",
        "nr",
        "inc",
        "ltd",
        "co",
        "mt",
        "ft",
        "dept",
        "est",
        "fig",
        "cf",
        "al",
    }
)
# A list item's bullet or number at the start of a line.
_BULLET = re.compile(r"^(?:[-*•·\u2013\u2014]+|\d{1,3}[.)])\s+")


def sentences(text: str) -> list[str]:
    """The sentences of `text`, in order, each on one line and stripped."""
    found: list[str] = []
    for raw in text.splitlines():
        line = _BULLET.sub("", raw.strip())
        start = 0
        for boundary in _BOUNDARY.finditer(line):
            after = boundary[1]
            if after is not None and not (after.isupper() or after.isdigit()):
                continue
            if _ends_nothing(line[start : boundary.start() + 1]):
                continue
            found.append(line[start : boundary.start(2)])
            start = boundary.end(2)
        found.append(line[start:])
    return [s for s in (" ".join(f.split()) for f in found) if s]


def _ends_nothing(sentence: str) -> bool:
    """Whether the period ending `sentence` is an abbreviation's or an initial's."""
    last = _LAST_WORD.search(sentence)
    if last is None or not sentence.endswith("."):
        return False
    word = last[1].rstrip(".").lstrip(_OPENING)
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def pieces(sentence: str, max_chars: int) -> Iterator[str]:
    """`sentence` in pieces of at most `max_chars` characters, cut between
    words (a word longer than that is cut inside)."""
    rest = sentence
    while len(rest) > max_chars:
        head = _head(rest, max_chars)
        yield head
        rest = rest[len(head) :].lstrip()
    if rest:
        yield rest


def cut(text: str, max_chars: int) -> str:
    """`text` if it fits in `max_chars` characters, else its longest
    beginning that ends between words, followed by `…`, within them."""
    if len(text) <= max_chars:
        return text
    return _head(text, max_chars - len(ELLIPSIS)).rstrip(" ,;:-") + ELLIPSIS


def _head(text: str, max_chars: int) -> str:
    """The longest beginning of `text` of at most `max_chars` characters
    that ends between words; the first `max_chars` when no word ends there."""
    space = text.rfind(" ", 0, max_chars + 1)
    return text[:space].rstrip() if space > 0 else text[:max_chars]
