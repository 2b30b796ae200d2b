"""Redis error replies as typed exceptions, classified by their exact code.

An error reply starts with its code, one word (`NOSCRIPT`, `BUSYGROUP`, ...),
then the message. `classify` looks that exact first word up in `CODES`, so
`BUSYGROUP` is never taken for `BUSY`, and anything else becomes redis-py's
generic `ResponseError`. The exception's text is the whole reply, code
included, and `status_code` holds the code.

An error raised by `redis.call` inside a Lua script keeps its code (Redis 7+
and valkey add a ` script: ...` suffix to the message), so it is classified
like the same error outside a script; an error the script raises itself with
`error()` is `ERR`, hence generic, unless it gives its own code
(`UNREADABLE`).

| code          | class                   | retry later |
|---------------|-------------------------|-------------|
| `NOSCRIPT`    | `NoScriptError`         |             |
| `BUSYGROUP`   | `BusyGroupError`        |             |
| `NOGROUP`     | `NoGroupError`          |             |
| `NOPERM`      | `NoPermissionError`     |             |
| `MOVED`       | `MovedError`            |             |
| `ASK`         | `AskError`              |             |
| `LOADING`     | `BusyLoadingError`      | yes         |
| `BUSY`        | `BusyScriptError`       | yes         |
| `OOM`         | `OutOfMemoryError`      | yes         |
| `READONLY`    | `ReadOnlyError`         | yes         |
| `MASTERDOWN`  | `MasterDownError`       | yes         |
| `TRYAGAIN`    | `TryAgainError`         | yes         |
| `CLUSTERDOWN` | `ClusterDownError`      | yes         |
| `UNREADABLE`  | `UnreadableMemoryError` |             |

The search module reports an existing index, or a missing one to `FT.INFO`,
with no code at all ("Index already exists", "Unknown index name"):
`MESSAGES` classifies such replies by their exact text, and `FRAGMENTS`
those of a script's cluster key check by a part of it (`NonLocalKeyError`,
retry later).

Every class subclasses redis-py's class of the same meaning where there is
one, so `except redis.exceptions.ResponseError` and the like keep working;
the "retry later" ones also subclass `RedisUnavailable`, so that callers
(the API's error translation) decide by type, never by text.

`CommandTimeout` is no reply at all: a command whose reply did not come
within the command timeout (`store/redis_mux.py`), a `TimeoutError`.
"""

from __future__ import annotations

import redis.exceptions


class RedisUnavailable(redis.exceptions.RedisError):
    """Redis cannot serve the command now (loading, busy, out of memory, a
    replica, a cluster without quorum); the same command can succeed later."""


class NoScriptError(redis.exceptions.NoScriptError):
    """`NOSCRIPT`: `EVALSHA` of a script Redis does not hold (yet)."""


class BusyGroupError(redis.exceptions.ResponseError):
    """`BUSYGROUP`: the consumer group already exists."""


class NoGroupError(redis.exceptions.ResponseError):
    """`NOGROUP`: no such stream or consumer group."""


class NoPermissionError(redis.exceptions.NoPermissionError):
    """`NOPERM`: the ACL user may not run the command or touch the key."""


class IndexExistsError(redis.exceptions.ResponseError):
    """The search index to create already exists."""


class UnknownIndexError(redis.exceptions.ResponseError):
    """`FT.INFO` of a search index that does not exist."""


class UnreadableMemoryError(redis.exceptions.ResponseError):
    """`UNREADABLE`, memrpc's own code (`lua/lib/memory.lua`): a key under
    the memories' prefix holds a JSON document that is no memory of storage
    schema 2, which the converter leaves unchanged (`store/set_aside.py`)."""


class _Redirection(redis.exceptions.ResponseError):
    """A cluster redirection, `<CODE> <slot> <host>:<port>`: the slot and the
    address of the node that serves it."""

    def __init__(self, message: str, *, status_code: str | None = None) -> None:
        redis.exceptions.ResponseError.__init__(self, message, status_code=status_code)
        _, slot, address = message.split(" ")
        host, port = address.rsplit(":", 1)
        self.slot_id = int(slot)
        self.node_addr = self.host, self.port = host, int(port)


class MovedError(_Redirection, redis.exceptions.MovedError):
    """`MOVED`: the slot lives on another node for good."""


class AskError(_Redirection, redis.exceptions.AskError):
    """`ASK`: the slot is migrating; ask the other node for this command only."""


class BusyLoadingError(RedisUnavailable, redis.exceptions.BusyLoadingError):
    """`LOADING`: Redis is loading its data set into memory."""


class BusyScriptError(RedisUnavailable, redis.exceptions.ResponseError):
    """`BUSY`: a script or function is running past the busy-reply threshold."""


class OutOfMemoryError(RedisUnavailable, redis.exceptions.OutOfMemoryError):
    """`OOM`: a write refused above `maxmemory`."""


class ReadOnlyError(RedisUnavailable, redis.exceptions.ReadOnlyError):
    """`READONLY`: a write sent to a replica."""


class MasterDownError(RedisUnavailable, redis.exceptions.MasterDownError):
    """`MASTERDOWN`: a replica that lost its primary refuses stale reads."""


class TryAgainError(RedisUnavailable, redis.exceptions.TryAgainError):
    """`TRYAGAIN`: a multi-key command during a slot migration."""


class ClusterDownError(RedisUnavailable, redis.exceptions.ClusterDownError):
    """`CLUSTERDOWN`: the cluster cannot serve the slot."""


class NonLocalKeyError(RedisUnavailable, redis.exceptions.ResponseError):
    """A script on a Redis Cluster node touched a key another node serves:
    a script naming another primary's search index, sent where its keys'
    slot has just moved (`store/memory_indexes.py`); the client has learnt
    the move, so the same call, built again, goes right."""


CODES: dict[str, type[redis.exceptions.RedisError]] = {
    "NOSCRIPT": NoScriptError,
    "BUSYGROUP": BusyGroupError,
    "NOGROUP": NoGroupError,
    "NOPERM": NoPermissionError,
    "MOVED": MovedError,
    "ASK": AskError,
    "LOADING": BusyLoadingError,
    "BUSY": BusyScriptError,
    "OOM": OutOfMemoryError,
    "READONLY": ReadOnlyError,
    "MASTERDOWN": MasterDownError,
    "TRYAGAIN": TryAgainError,
    "CLUSTERDOWN": ClusterDownError,
    "UNREADABLE": UnreadableMemoryError,
}

MESSAGES: dict[str, type[redis.exceptions.RedisError]] = {
    "Index already exists": IndexExistsError,
    "Unknown index name": UnknownIndexError,
}


# Replies of a generic code classified by what they contain: the error of
# a script that touched a key another node serves (Redis says "Script
# attempted", valkey "Attempted", each with its own suffix).
FRAGMENTS: dict[str, type[redis.exceptions.RedisError]] = {
    "ttempted to access a non local key in a cluster node": NonLocalKeyError,
}


def classify(reply: str) -> redis.exceptions.RedisError:
    """The exception for an error reply (its text without the leading `-`)."""
    code = reply.split(" ", 1)[0]
    kind = (
        CODES.get(code)
        or MESSAGES.get(reply)
        or next((kind for part, kind in FRAGMENTS.items() if part in reply), None)
        or redis.exceptions.ResponseError
    )
    try:
        return kind(reply, status_code=code)
    except ValueError:  # a malformed redirection
        return redis.exceptions.ResponseError(reply, status_code=code)


class CommandTimeout(redis.exceptions.TimeoutError):
    """No reply within the command timeout (`RedisMux`): the connection is
    taken for wedged and closed, and the command's outcome is unknown."""
