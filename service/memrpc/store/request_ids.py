"""Request ids (AIP-155) as the store keeps them: the one place for how long
a request is remembered and how a script is told about it.

A write that takes a request id remembers it in a String of its own (keys
named in `store/keys.py`), in the same atomic script as the write, for
`REMEMBER_MS`: the fingerprint of the request's content and the script's
reply (`lua/lib/request_ids.lua`). A repeat with the same fingerprint gets
that reply back and writes nothing; one with another fingerprint is refused
(`RequestIdReused`). The key is separate from the data written, so a repeat
is recognised even after that data was deleted or expired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from memrpc.limits import REQUEST_ID_TTL_HOURS

# How long a request id is remembered.
REMEMBER_MS = REQUEST_ID_TTL_HOURS * 3600 * 1000

# The outcome a script's reply starts with, as `lua/lib/request_ids.lua`
# names them: the request was carried out, repeated an earlier one (whose
# reply follows), or reused an earlier one's id with other content.
DONE, REPLAYED, REUSED = 1, 2, 3


@dataclass(frozen=True, slots=True)
class RequestId:
    """A client's id for one write, and the fingerprint of its content that
    a repeat must match."""

    id: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class ScriptArgs:
    """The arguments a script takes about a request id: its key (none
    without a request id), its fingerprint, how long to remember it."""

    keys: tuple[str, ...]
    fingerprint: str
    remember_ms: int


# The arguments of a write without a request id.
NO_REQUEST = ScriptArgs((), "", 0)


def script_args(request: RequestId | None, key: Callable[[str], str]) -> ScriptArgs:
    """The script arguments for `request`, remembered under `key(request.id)`."""
    if request is None:
        return NO_REQUEST
    return ScriptArgs((key(request.id),), request.fingerprint, REMEMBER_MS)


def replayed(outcome: int) -> bool:
    """Whether a script's `outcome` is a replay; `RequestIdReused` for a
    reused id."""
    if outcome == REUSED:
        raise RequestIdReused()
    return outcome == REPLAYED


class RequestIdReused(Exception):
    """A write repeats a request id with other content."""
