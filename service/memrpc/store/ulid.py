"""ULIDs: 48 bits of milliseconds then 80 random bits, as 26 characters of
Crockford base 32, so that ids sort by creation time."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TIME_BITS = 48
_RANDOM_BITS = 80
_CHARS = 26
# The characters that hold the time: 10 of 5 bits (the first holds 3).
_TIME_CHARS = 10
_ULID = re.compile(f"[{_ALPHABET}]{{{_CHARS}}}")


def new_ulid(now_ms: int) -> str:
    """A new ULID for the time `now_ms` (milliseconds since the epoch)."""
    if not 0 <= now_ms < 1 << _TIME_BITS:
        raise ValueError(f"time out of the ULID range: {now_ms}")
    value = (now_ms << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)
    return "".join(_ALPHABET[(value >> (5 * shift)) & 31] for shift in reversed(range(_CHARS)))


def is_ulid(value: str) -> bool:
    """Whether `value` is a ULID as `new_ulid` writes them."""
    return _ULID.fullmatch(value) is not None and value[0] <= "7"


def time_ms(ulid: str) -> int:
    """The time (ms since the epoch) a ULID was made for."""
    value = 0
    for char in ulid[:_TIME_CHARS]:
        value = value * 32 + _ALPHABET.index(char)
    return value
