"""Update masks (AIP-134): the one reading of `update_mask` every `Update*`
method shares.

A method names what its mask may hold and what `*` means; `paths_to_write`
applies the common rules and returns the paths to write:

- empty (or unset): the fields that are set (non-empty) in the input
  message (`populated`); one of them that cannot be updated is refused;
- `*`, alone: every field of the full-replace set, those empty in the input
  cleared;
- otherwise: the paths named, each one of the allowed paths (a path named
  twice counts once).

Anything else gets `INVALID_ARGUMENT` (`ERROR_REASON_FIELD_INVALID`) on
`update_mask`. What each path means, and the checks of the values written,
stay with the method.
"""

from __future__ import annotations

from collections.abc import Collection

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from memrpc.rpc.errors import ApiError

# The path that names every field of the full-replace set.
FULL_REPLACE = "*"
# The request field every rule here is about.
FIELD = "update_mask"


def populated(message: Message) -> set[str]:
    """The names of the fields set in `message`: non-empty scalars, strings,
    lists and maps, and sub-messages that are present (even empty ones, such
    as a zero `Duration`)."""
    return {descriptor.name for descriptor, _ in message.ListFields()}


def paths_to_write(
    mask: FieldMask,
    *,
    allowed: Collection[str],
    full_replace: Collection[str],
    populated: Collection[str],
) -> frozenset[str]:
    """The paths an update writes under `mask`: those named (each in
    `allowed`), all of `full_replace` for `*`, or the `populated` fields of
    the input for an empty mask; `ApiError.invalid` on `update_mask` for
    any other mask."""
    named = list(mask.paths)
    if not named:
        fixed = sorted(set(populated) - set(allowed))
        if fixed:
            raise ApiError.invalid(
                FIELD,
                f"is empty, so it names the fields set in the input, and "
                f"{_listed(fixed)} cannot be updated; allowed: {_listed(allowed)}",
            )
        return frozenset(populated)
    if FULL_REPLACE in named:
        if len(set(named)) > 1:
            raise ApiError.invalid(FIELD, f"{FULL_REPLACE!r} must be the only path")
        return frozenset(full_replace)
    for path in named:
        if path not in allowed:
            raise ApiError.invalid(
                FIELD,
                f"unknown path {path!r}; allowed: {_listed(allowed)}, or {FULL_REPLACE!r}",
            )
    return frozenset(named)


def _listed(paths: Collection[str]) -> str:
    return ", ".join(sorted(paths))
