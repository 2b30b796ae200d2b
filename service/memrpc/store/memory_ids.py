"""Memory ids: server-generated ULIDs (`store/ulid.py`, upper-case Crockford
base 32), or ids a client chose (AIP-133) in the AIP-122 grammar: 1 to
`MAX_MEMORY_ID_CHARS` of lower-case letters, digits and hyphens, starting
with a letter and not ending with a hyphen. The two never collide (a ULID
holds no lower-case letter), and both are safe inside a key and a quoted
Redis Search expression (`memory_listing`'s keyset)."""

from __future__ import annotations

import re

from memrpc.limits import MAX_MEMORY_ID_CHARS
from memrpc.store.ulid import is_ulid

_CLIENT_ID = re.compile(rf"[a-z]([a-z0-9-]{{0,{MAX_MEMORY_ID_CHARS - 2}}}[a-z0-9])?")
_CLIENT_CHAR = re.compile(r"[a-z0-9-]")


def is_client_id(value: str) -> bool:
    """Whether `value` is a client-chosen memory id."""
    return _CLIENT_ID.fullmatch(value) is not None


def is_memory_id(value: str) -> bool:
    """Whether `value` is a memory id of either kind."""
    return is_ulid(value) or is_client_id(value)


def client_id_problem(value: str) -> str | None:
    """Which rule a client-chosen id breaks, as a message for its caller;
    None when it keeps them all."""
    if len(value) > MAX_MEMORY_ID_CHARS:
        return f"must be at most {MAX_MEMORY_ID_CHARS} characters, not {len(value)}"
    if not "a" <= value[:1] <= "z":
        return "must start with a lower-case letter (a-z)"
    for at, char in enumerate(value):
        if not _CLIENT_CHAR.fullmatch(char):
            return (
                f"holds {char!r} at {at}: only lower-case letters, digits and hyphens "
                "(hash a key that holds others, e.g. to hex)"
            )
    if value.endswith("-"):
        return "must not end with a hyphen"
    return None
