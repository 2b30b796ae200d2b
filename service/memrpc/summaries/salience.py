"""How specific a sentence is, and whether it is trivia: what the
extractive summarizer prefers and what it drops, from the sentence alone.

What an agent needs back from a long thread are the details it cannot
guess: names, numbers, dates, codes, addresses, and personal facts such as
an allergy or a relation. A sentence's `salience` scores its specificity
in [0, 1) by the distinct specific tokens it holds, each weighed by its
kind (`WEIGHTS`):

| kind      | examples                               |
|-----------|----------------------------------------|
| `code`    | `LH2417`, `EPX-9120`, `jo@example.com` |
| `figure`  | `$3,850`, `6:35`, `2026-03-14`, `86`   |
| `date`    | `March`, `Tuesday`, `14th`             |
| `name`    | a capitalised word inside a sentence   |
| `cue`     | `allergic`, `sister`, `birthday`       |
| `acronym` | `LH`, `PDF`                            |
| `small`   | a digit, as in `Step 2`                |

and tells whether it is trivia, worth no room: greetings, thanks and
acknowledgements, and questions or very short sentences without one
specific token.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

WEIGHTS = {
    "code": 1.0,
    "figure": 1.0,
    "date": 0.7,
    "name": 0.6,
    "cue": 0.6,
    "acronym": 0.4,
    "small": 0.3,
}
# The weight at which specificity reaches 1 - 1/e.
_SCALE = 2.0

_TOKEN = re.compile(r"[\w$€£¥@#][\w$€£¥@#'\u2019.,:/+&%-]*")
# Punctuation a token may end with that is not part of it.
_TRAILING = ".,:;'\u2019-"
_EMAIL_OR_URL = re.compile(r"\S+@\S+\.\w+|https?://\S+|www\.\S+|[@#]\w+")
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_ORDINAL = re.compile(r"\d{1,2}(?:st|nd|rd|th)", re.IGNORECASE)
_SMALL = re.compile(r"\d")
_DATES = frozenset(
    {
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    }
)
# Months that are verbs too ("May I ...?"): dates only inside a sentence.
_ALSO_VERBS = frozenset({"may", "march"})
# Words that mark a personal fact worth keeping even without a name or a number.
_CUES = frozenset(
    {
        "allergic",
        "allergy",
        "allergies",
        "intolerant",
        "intolerance",
        "vegetarian",
        "vegan",
        "gluten",
        "diabetic",
        "kosher",
        "halal",
        "medication",
        "birthday",
        "anniversary",
        "deadline",
        "wife",
        "husband",
        "partner",
        "son",
        "daughter",
        "sister",
        "brother",
        "mother",
        "father",
        "mom",
        "mum",
        "dad",
        "grandmother",
        "grandfather",
        "aunt",
        "uncle",
        "cousin",
        "niece",
        "nephew",
        "fiancé",
        "fiancée",
        "fiance",
        "fiancee",
        "prefer",
        "prefers",
        "preferred",
        "favourite",
        "favorite",
        "address",
        "passport",
        "budget",
    }
)
# Capitalised words that name nothing.
_NOT_NAMES = frozenset(
    {
        "i",
        "i'm",
        "i've",
        "i'll",
        "i'd",
        "ok",
        "okay",
    }
)
# Sentences that only greet, thank or acknowledge (matched at the start of a
# short sentence, in lower case).
_PLEASANTRY = re.compile(
    r"(hi|hello|hey|thanks|thank you|thx|ok|okay|sure|great|awesome|cool|perfect|nice|"
    r"got it|sounds good|no problem|you're welcome|good (morning|afternoon|evening|night)|"
    r"bye|goodbye|yes|yeah|yep|no|nope|alright|all right|of course|glad|happy to help)\b"
)
# A pleasantry of more words than this is a sentence with content.
_PLEASANTRY_MAX_WORDS = 6
# Fewer words than this and no specific token: trivia.
_MIN_WORDS = 4


def token_kind(token: str, *, first: bool) -> str | None:
    """The kind of specific token `token` is, if any (`first`: whether it
    starts its sentence, where any word is capitalised)."""
    word = token.rstrip(_TRAILING)
    if not word:
        return None
    lower = word.lower().replace("\u2019", "'")
    if _EMAIL_OR_URL.fullmatch(word):
        return "code"
    if _HAS_DIGIT.search(word):
        if _ORDINAL.fullmatch(word):
            return "date"
        if _HAS_LETTER.search(word.strip("$€£¥%")):
            return "code"
        return "small" if _SMALL.fullmatch(word) else "figure"
    if lower in _DATES and word[0].isupper() and not (first and lower in _ALSO_VERBS):
        return "date"
    if lower in _CUES:
        return "cue"
    if lower in _NOT_NAMES:
        return None
    if len(word) > 1 and word.isupper() and word.isalpha():
        return "acronym"
    if word[0].isupper() and not first:
        return "name"
    return None


def specific_tokens(sentence: str) -> dict[str, str]:
    """The distinct specific tokens of `sentence` (lower case) and their kinds."""
    found: dict[str, str] = {}
    for index, match in enumerate(_TOKEN.finditer(sentence)):
        kind = token_kind(match[0], first=index == 0)
        if kind is not None:
            found.setdefault(match[0].rstrip(_TRAILING).lower(), kind)
    return found


@dataclass(frozen=True)
class Salience:
    """What a sentence is worth to a summary, from the sentence alone."""

    # How much it holds that an agent could not guess, in [0, 1).
    specificity: float
    # Whether it is worth no room: a greeting, thanks or acknowledgement, or
    # a question or very short sentence without one specific token.
    trivia: bool


def salience(sentence: str) -> Salience:
    """The salience of `sentence`."""
    kinds = specific_tokens(sentence).values()
    weight = sum(WEIGHTS[kind] for kind in kinds)
    return Salience(1.0 - math.exp(-weight / _SCALE), _is_trivia(sentence, specific=bool(kinds)))


def _is_trivia(sentence: str, *, specific: bool) -> bool:
    words = len(sentence.split())
    if words <= _PLEASANTRY_MAX_WORDS and _PLEASANTRY.match(sentence.lower()):
        return not specific or words < _MIN_WORDS
    if specific:
        return False
    return words < _MIN_WORDS or sentence.rstrip().endswith("?")
