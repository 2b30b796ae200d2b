"""API keys: `mrk_<id>_<secret>`, checked against a TOML file of hashes.

The file lists one `[[keys]]` table per key:

    [[keys]]
    id = "ci-bot"                  # [A-Za-z0-9-], 1 to 64 characters
    sha256 = "<64 hex digits>"     # SHA-256 of the secret part of the key
    namespaces = ["acme"]          # or ["*"] for every namespace
    access = "write"               # or "read", or "admin" (write and settings)

The server keeps only the hashes. A key is found by its id (a dict lookup)
and its secret checked with `hmac.compare_digest`; an unknown id costs the
same comparison, and both failures give the same message, so a caller
learns nothing about which keys exist. `new_key` makes a key and its entry
(`memrpc keys new`); `KeyRing.entries` lists a file's keys without their
hashes (`memrpc keys list`); `revoke_key` removes one key's table from the
file, leaving the rest of it as written (`memrpc keys revoke`). A `KeyRing`
is one version of the file; `reloading.py` replaces it when the file
changes, so a running server drops a revoked key, and the open streams it
authenticated, within its reload period.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from memrpc.auth.credentials import Access, Credential, by_name, parse_scope, unauthenticated
from memrpc.v1.error_reason_pb2 import ErrorReason

PREFIX = "mrk_"
_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENTRY_FIELDS = frozenset({"id", "sha256", "namespaces", "access"})
# Compared against when the id is unknown, so that both failures cost the same.
_NO_DIGEST = bytes(32)
# Random bytes in a new secret.
SECRET_BYTES = 32


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


# A line that opens a key's table.
_TABLE = re.compile(r"^\s*\[\[\s*keys\s*\]\]\s*(#.*)?$")


@dataclass(frozen=True)
class _Key:
    digest: bytes
    credential: Credential


@dataclass(frozen=True)
class KeyEntry:
    """A key of a key file as `memrpc keys list` shows it: no hash."""

    id: str
    namespaces: tuple[str, ...]
    access: str


class KeyRing:
    """The API keys of a key file, by id."""

    def __init__(self, keys: dict[str, _Key]) -> None:
        self._keys = keys

    def entries(self) -> list[KeyEntry]:
        """Every key, by id."""
        return [
            KeyEntry(key_id, tuple(sorted(key.credential.namespaces)), key.credential.access.value)
            for key_id, key in sorted(self._keys.items())
        ]

    def fingerprints(self) -> dict[str, str]:
        """Each key's id, to a digest of its definition (its hash and scope),
        as the audit log compares them: a key rotated or rescoped changes
        its fingerprint."""
        return {
            key_id: hashlib.sha256(
                b"\0".join(
                    (
                        key.digest,
                        key.credential.access.value.encode(),
                        *(namespace.encode() for namespace in sorted(key.credential.namespaces)),
                    )
                )
            ).hexdigest()[:16]
            for key_id, key in self._keys.items()
        }

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """Reads a key file; raises ValueError naming the file and entry at fault."""
        try:
            with path.open("rb") as file:
                document = tomllib.load(file)
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ValueError(f"API key file {path}: {err}") from None
        entries = document.get("keys")
        if not isinstance(entries, list) or not entries:
            raise ValueError(
                f"API key file {path}: no [[keys]] entries (make one with `memrpc keys new`)"
            )
        return cls(by_name(entries, _parse_entry, where=f"API key file {path}", name="id"))

    def authenticate(self, token: str) -> Credential:
        """The credential of an API key; raises `UNAUTHENTICATED` otherwise."""
        key_id, _, secret = token.removeprefix(PREFIX).partition("_")
        if not secret:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_MISSING,
                "malformed API key: expected mrk_<id>_<secret>",
            )
        key = self._keys.get(key_id)
        expected = _NO_DIGEST if key is None else key.digest
        if not hmac.compare_digest(_digest(secret), expected) or key is None:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_INVALID,
                "invalid API key: check that the whole key was sent and is still configured",
            )
        return key.credential


def _check_id(key_id: object) -> None:
    if not isinstance(key_id, str) or not _ID.fullmatch(key_id):
        raise ValueError(f"id {key_id!r} must be 1 to 64 characters of [A-Za-z0-9-]")


def _parse_entry(entry: object) -> tuple[str, _Key]:
    if not isinstance(entry, dict):
        raise ValueError("must be a [[keys]] table")
    missing = _ENTRY_FIELDS - entry.keys()
    unknown = entry.keys() - _ENTRY_FIELDS
    if missing or unknown:
        raise ValueError(
            f"needs exactly the fields {sorted(_ENTRY_FIELDS)}; "
            f"missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    key_id, digest = entry["id"], entry["sha256"]
    _check_id(key_id)
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    namespaces, access = parse_scope(entry["namespaces"], entry["access"])
    credential = Credential(f"API key {key_id!r}", namespaces, access, f"key:{key_id}")
    return key_id, _Key(bytes.fromhex(digest), credential)


@dataclass(frozen=True)
class NewKey:
    """A freshly made API key and the key file entry that accepts it."""

    token: str
    entry: str


def new_key(key_id: str, namespaces: Sequence[str], *, access: Access) -> NewKey:
    """A new random key for `key_id`; raises ValueError for a bad id or namespace."""
    _check_id(key_id)
    unique = list(dict.fromkeys(namespaces))
    parse_scope(unique, access.value)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    # JSON strings of these characters are valid TOML strings.
    entry = "\n".join(
        (
            "[[keys]]",
            f"id = {json.dumps(key_id)}",
            f'sha256 = "{_digest(secret).hex()}"',
            f"namespaces = {json.dumps(unique)}",
            f'access = "{access.value}"',
        )
    )
    return NewKey(f"{PREFIX}{key_id}_{secret}", entry)


def revoke_key(path: Path, key_id: str) -> None:
    """Removes the table of key `key_id` from the key file at `path` (its
    other lines kept as written), atomically (a file beside it, renamed
    over it). Raises ValueError when the file is not a valid key file, has
    no such key, or would be left with none (a server refuses a file
    without keys, and would keep the revoked one)."""
    ring = KeyRing.load(path)
    if key_id not in {entry.id for entry in ring.entries()}:
        raise ValueError(f"API key file {path}: no key {key_id!r}")
    if len(ring.entries()) == 1:
        raise ValueError(
            f"API key file {path}: {key_id!r} is its only key; add another first (a "
            "server refuses a file without keys)"
        )
    kept = "".join(table for table in _tables(path.read_text()) if _table_id(table) != key_id)
    written = path.with_name(f".{path.name}.revoking")
    written.write_text(kept)
    try:
        os.chmod(written, path.stat().st_mode & 0o777)
        KeyRing.load(written)  # still a valid key file
        os.replace(written, path)
    finally:
        written.unlink(missing_ok=True)


def _tables(text: str) -> list[str]:
    """`text` cut before each `[[keys]]` line: what precedes the first, then
    each key's table (its comments and blank lines before the next one
    included)."""
    parts = [""]
    for line in text.splitlines(keepends=True):
        if _TABLE.match(line):
            parts.append("")
        parts[-1] += line
    return parts


def _table_id(table: str) -> str | None:
    """The id of the key a `[[keys]]` table declares (None for the text
    before the first table)."""
    if not table or not _TABLE.match(table.splitlines()[0]):
        return None
    keys = tomllib.loads(table).get("keys") or [{}]
    found = keys[0].get("id")
    return found if isinstance(found, str) else None
