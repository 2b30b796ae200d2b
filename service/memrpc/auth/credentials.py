"""What a credential grants: namespaces, and read, write or admin access.

Access levels nest: `admin` ⊇ `write` ⊇ `read`. `admin` adds what changes
how a namespace behaves for everyone (its settings, `Namespaces`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc

from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError
from memrpc.v1.error_reason_pb2 import ErrorReason

T = TypeVar("T")

# In a credential's namespaces: every namespace.
ANY_NAMESPACE = "*"


class Access(enum.Enum):
    """What a method needs, and what a credential grants."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


# Each access level, with every level it includes before it.
_LEVELS = tuple(Access)


@dataclass(frozen=True)
class Credential:
    """An authenticated caller: a name for messages and logs, and its scope."""

    # "API key 'ci-bot'" or "JWT of 'alice'": the caller's own identity.
    subject: str
    namespaces: frozenset[str]
    access: Access
    # The same identity for machines, as the audit log records it:
    # `key:ci-bot`, `jwt:alice`.
    id: str

    def may_use(self, namespace: str) -> bool:
        """Whether the credential covers `namespace`."""
        return ANY_NAMESPACE in self.namespaces or namespace in self.namespaces

    def may(self, access: Access) -> bool:
        """Whether the credential grants `access` (admin implies write, write
        implies read)."""
        return _LEVELS.index(access) <= _LEVELS.index(self.access)


def parse_scope(namespaces: object, access: object) -> tuple[frozenset[str], Access]:
    """The namespaces and access of a key file entry or JWT claims; raises
    ValueError saying what is wrong."""
    if not isinstance(namespaces, list) or not namespaces:
        raise ValueError('namespaces must be a non-empty list of namespaces or "*"')
    for namespace in namespaces:
        if not isinstance(namespace, str):
            raise ValueError(f"namespace {namespace!r} is not a string")
        if namespace != ANY_NAMESPACE:
            _check_namespace(namespace)
    choices = [level.value for level in Access]
    if access not in choices:
        raise ValueError(f"access must be one of {', '.join(map(repr, choices))}, not {access!r}")
    return frozenset(namespaces), Access(access)


def _check_namespace(namespace: str) -> None:
    try:
        validate.namespace(namespace, field=f"namespace {namespace!r}")
    except ApiError as err:
        raise ValueError(err.message) from None


def unauthenticated(reason: ErrorReason.ValueType, message: str) -> ApiError:
    """`UNAUTHENTICATED` for `reason`, with `message`."""
    return ApiError(grpc.StatusCode.UNAUTHENTICATED, reason, message)


def permission_denied(reason: ErrorReason.ValueType, message: str, **metadata: str) -> ApiError:
    """`PERMISSION_DENIED` for `reason`, with `message` and `metadata`."""
    return ApiError(grpc.StatusCode.PERMISSION_DENIED, reason, message, metadata=metadata)


def describe(namespaces: Iterable[str]) -> str:
    """Namespaces for a message: `a, b`."""
    return ", ".join(sorted(namespaces))


def by_name(
    entries: Sequence[object], parse: Callable[[object], tuple[str, T]], *, where: str, name: str
) -> dict[str, T]:
    """The entries of a credentials file, parsed and keyed by their unique
    `name` (id, kid). Raises ValueError naming `where` and the entry."""
    parsed: dict[str, T] = {}
    for number, entry in enumerate(entries, 1):
        try:
            key, value = parse(entry)
            if key in parsed:
                raise ValueError(f"{name} {key!r} is used twice")
        except ValueError as err:
            raise ValueError(f"{where}, key #{number}: {err}") from None
        parsed[key] = value
    return parsed
