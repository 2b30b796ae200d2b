"""ULIDs: 48 bits of milliseconds then 80 random bits, as 26 characters of
Crockford base 32, so that ids sort by creation time."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TIME_BITS = 48
_RANDOM_BITS = 80
_CHARS = 26


def new_ulid(now_ms: int) -> str:
    """A new ULID for the time `now_ms` (milliseconds since the epoch)."""
    if not 0 <= now_ms < 1 << _TIME_BITS:
        raise ValueError(f"time out of the ULID range: {now_ms}")
    value = (now_ms << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)
    return "".join(_ALPHABET[(value >> (5 * shift)) & 31] for shift in reversed(range(_CHARS)))
