"""The audit log: one Redis Stream per namespace, `keys.audit(ns)` (`*` for
the server-wide records), of the destructive and administrative operations
done to it. `rpc/audit.py` records the calls, `record_credentials` the
changes of a credentials file.

| field        | holds                                                      |
|--------------|------------------------------------------------------------|
| `credential` | who: `key:<id>`, `jwt:<subject>`, `anonymous`, `keys-file` |
| `operation`  | what: the full method name, or the credentials file's kind |
| `code`       | the outcome: `OK` or a gRPC status code's name             |
| `reason`     | the `ErrorInfo` reason of a failure, else empty            |
| `details`    | a JSON object: arguments and results, user ids digested    |

An entry's id is when it was recorded (ms since the epoch, its first part).
A log keeps at least `AUDIT_MAX_RECORDS` entries (`XADD MAXLEN ~`) and has
no TTL. Its keys are tagged `{memrpc:audit}`, not with the namespace: no
operation on a namespace's keys reaches them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from memrpc.limits import AUDIT_MAX_DETAILS_CHARS, AUDIT_MAX_RECORDS
from memrpc.store import keys, scripts
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import CredentialsAudit

# The namespace of server-wide records.
SERVER_WIDE = "*"
# The credential and operation of the records of the API key file's changes.
KEYS_FILE = "keys-file"


def user_digest(namespace: str, user_id: str) -> str:
    """How an audit record names a user: `sha256:` and the first 16 hex
    digits of the SHA-256 of the namespace, a NUL and the user id."""
    digest = hashlib.sha256(f"{namespace}\0{user_id}".encode()).hexdigest()
    return f"sha256:{digest[:16]}"


@dataclass(frozen=True)
class AuditEntry:
    """One operation as recorded: who, what, on which namespace, how it ended."""

    credential: str
    operation: str
    namespace: str
    code: str
    reason: str
    details: Mapping[str, Any]


@dataclass(frozen=True)
class StoredAuditEntry:
    """An entry read back with its id (`<ms>-<n>`)."""

    id: str
    entry: AuditEntry

    @property
    def time_ms(self) -> int:
        """When the entry was recorded (ms since the epoch)."""
        return int(self.id.partition("-")[0])


def _details_json(details: Mapping[str, Any]) -> str:
    """`details` as compact JSON, cut to `AUDIT_MAX_DETAILS_CHARS` (still a
    JSON object, saying it was cut)."""
    text = json.dumps(details, separators=(",", ":"), sort_keys=True, default=str)
    if len(text) <= AUDIT_MAX_DETAILS_CHARS:
        return text
    return json.dumps({"truncated": True, "prefix": text[: AUDIT_MAX_DETAILS_CHARS // 2]})


def _parse(entry_id: bytes, flat: Sequence[bytes], namespace: str) -> StoredAuditEntry:
    fields = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
    details = json.loads(fields.get("details") or "{}")
    return StoredAuditEntry(
        entry_id.decode(),
        AuditEntry(
            credential=fields.get("credential", ""),
            operation=fields.get("operation", ""),
            namespace=namespace,
            code=fields.get("code", ""),
            reason=fields.get("reason", ""),
            details=details if isinstance(details, dict) else {},
        ),
    )


class AuditLog:
    """Appends to and reads the audit logs."""

    def __init__(self, redis: RedisClient, *, max_records: int = AUDIT_MAX_RECORDS) -> None:
        self._redis = redis
        self._max_records = max_records
        self._credentials = scripts.load(redis, CredentialsAudit)

    async def append(self, entry: AuditEntry) -> str:
        """Records `entry` in its namespace's log; returns its id."""
        entry_id: bytes = await self._redis.execute(
            "XADD",
            keys.audit(entry.namespace),
            "MAXLEN",
            "~",
            self._max_records,
            "*",
            "credential",
            entry.credential,
            "operation",
            entry.operation,
            "code",
            entry.code,
            "reason",
            entry.reason,
            "details",
            _details_json(entry.details),
        )
        return entry_id.decode()

    async def page(self, namespace: str, before: str | None, count: int) -> list[StoredAuditEntry]:
        """Up to `count` entries of `namespace`'s log, newest first, older
        than the entry `before` (None: from the newest)."""
        start = "+" if before is None else f"({before}"
        reply = await self._redis.execute(
            "XREVRANGE", keys.audit(namespace), start, "-", "COUNT", count
        )
        return [_parse(entry_id, flat, namespace) for entry_id, flat in reply]

    async def record_credentials(self, source: str, fingerprints: Mapping[str, str]) -> bool:
        """Records, in the server-wide log, how the credentials of the file
        `source` (`keys-file`, `jwks-file`) differ from those last recorded
        (by any server): ids added, removed, and changed (`fingerprints`: id
        to a digest of its definition). Returns whether they differed; the
        first call for a file records every id as added."""
        changed: int = await self._credentials(
            CredentialsAudit(
                state=keys.audit_credentials(source),
                log=keys.audit(SERVER_WIDE),
                max_len=self._max_records,
                source=source,
                entries=sorted(fingerprints.items()),
            )
        )
        return changed == 1
