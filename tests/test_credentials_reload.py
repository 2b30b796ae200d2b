"""Key and JWKS files changed while a server runs: the next call sees the
change, and a broken replacement keeps the last good version until fixed.

The server checks its files on every call here (interval 0); the interval
itself is checked against a fake clock."""

from __future__ import annotations

import contextlib
import json
import logging
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf import json_format

from conftest import make_settings, running
from memrpc.auth import reloading
from memrpc.auth.credentials import Access
from memrpc.auth.jwt import ACCESS_CLAIM
from memrpc.auth.keys import KeyRing, NewKey, new_key
from memrpc.auth.reloading import Reloading
from memrpc.cli import main
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder, Embedder
from memrpc.rpc.errors import ApiError
from memrpc.v1 import (
    administration_pb2,
    administration_pb2_grpc,
    long_term_memory_pb2,
    long_term_memory_pb2_grpc,
    working_memory_pb2_grpc,
)
from support import assert_reason
from test_auth import (
    AUDIENCE,
    ISSUER,
    NS_A,
    NS_B,
    PERMISSION_DENIED,
    UNAUTHENTICATED,
    bearer,
    entry,
    make_jwt,
    rejected,
    update,
    write_jwks,
)
from test_faults import eventually
from test_tls import replace_file

ALPHA = new_key("alpha", [NS_A], access=Access.WRITE)
BETA = new_key("beta", [NS_A], access=Access.WRITE)
# A second JWKS signing key, listed as kid "k2" next to test_auth's "k1".
OTHER_KID = "k2"
OTHER_SIGNING_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_JWK = {
    **json.loads(jwt.algorithms.ECAlgorithm.to_jwk(OTHER_SIGNING_KEY.public_key())),
    "kid": OTHER_KID,
}


@dataclass
class Reloaded:
    """A running server, its credentials files and a stub to call it."""

    keys_file: Path
    jwks_file: Path
    sessions: working_memory_pb2_grpc.WorkingMemoryStub

    def install_keys(self, *entries: str) -> None:
        """Replaces the key file with `entries` (TOML text), atomically."""
        replace_file(self.keys_file, "\n\n".join(entries).encode())

    def install_jwks(self, *extra: dict[str, Any]) -> None:
        """Replaces the JWKS file with kid "k1" and `extra`, atomically."""
        draft = write_jwks(self.jwks_file.with_name("jwks.draft"), *extra)
        replace_file(self.jwks_file, draft.read_bytes())

    async def works(self, token: str, namespace: str = NS_A) -> None:
        """Asserts that `token` may write to `namespace`."""
        await self.sessions.UpdateSession(update(namespace), metadata=bearer(token), timeout=5)

    async def refused(self, token: str, namespace: str = NS_A) -> grpc.aio.AioRpcError:
        """The error of a write to `namespace` with `token`."""
        return await rejected(self.sessions.UpdateSession, update(namespace), bearer(token))


@contextlib.asynccontextmanager
async def serving_files(
    directory: Path, redis_url: str, embedder: Embedder, keys: str, **overrides: object
) -> AsyncIterator[tuple[Reloaded, grpc.aio.Channel]]:
    """A server whose key file (in `directory`) holds `keys` and whose JWKS
    file lists kids "k1" and "k2": those files, and a channel to it."""
    keys_file = directory / "keys.toml"
    keys_file.write_text(keys)
    jwks_file = write_jwks(directory / "jwks.json", OTHER_JWK)
    settings = make_settings(
        redis_url,
        auth_keys_file=keys_file,
        jwks_file=jwks_file,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        **overrides,
    )
    async with (
        running(settings, embedder) as memrpc,
        grpc.aio.insecure_channel(f"127.0.0.1:{memrpc.port}") as channel,
    ):
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        yield Reloaded(keys_file, jwks_file, stub), channel


@pytest.fixture
async def server(
    tmp_path: Path,
    redis_server: EmbeddedRedis,
    embedder: BatchingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Reloaded]:
    monkeypatch.setattr(reloading, "CHECK_INTERVAL_S", 0.0)
    async with serving_files(tmp_path, redis_server.url, embedder, ALPHA.entry) as (files, _):
        yield files


def rescoped(key: NewKey, **fields: object) -> str:
    """The key file entry of `key` with `fields` changed."""
    (table,) = tomllib.loads(key.entry)["keys"]
    return entry(**{**table, **fields})


# --- API keys


async def test_an_added_key_works_from_the_next_call(server):
    await server.works(ALPHA.token)
    assert (await server.refused(BETA.token)).code() == UNAUTHENTICATED
    server.install_keys(ALPHA.entry, BETA.entry)
    await server.works(BETA.token)
    await server.works(ALPHA.token)


async def test_a_removed_key_is_unauthenticated_from_the_next_call(server):
    server.install_keys(ALPHA.entry, BETA.entry)
    await server.works(BETA.token)
    server.install_keys(ALPHA.entry)
    err = await server.refused(BETA.token)
    assert err.code() == UNAUTHENTICATED
    assert "invalid API key" in err.details()
    await server.works(ALPHA.token)


async def test_a_key_revoked_by_the_cli_is_unauthenticated_from_the_next_call(server):
    server.install_keys(ALPHA.entry, BETA.entry)
    await server.works(BETA.token)
    main(["keys", "revoke", "--auth-keys-file", str(server.keys_file), "--id", "beta"])
    err = await server.refused(BETA.token)
    assert err.code() == UNAUTHENTICATED
    await server.works(ALPHA.token)


async def test_narrowed_namespaces_and_access_are_denied_from_the_next_call(server):
    server.install_keys(rescoped(ALPHA, namespaces=[NS_A, NS_B]))
    await server.works(ALPHA.token, NS_B)
    server.install_keys(rescoped(ALPHA, namespaces=[NS_A]))
    err = await server.refused(ALPHA.token, NS_B)
    assert err.code() == PERMISSION_DENIED
    assert NS_B in err.details()
    await server.works(ALPHA.token, NS_A)
    server.install_keys(rescoped(ALPHA, access="read"))
    err = await server.refused(ALPHA.token, NS_A)
    assert err.code() == PERMISSION_DENIED
    assert "has read access" in err.details()


def empty(path: Path) -> None:
    replace_file(path, b"")


def bad_toml(path: Path) -> None:
    replace_file(path, b"[[keys")


def bad_entry(path: Path) -> None:
    replace_file(path, f"{ALPHA.entry}\n\n{entry(id='x', sha256='00')}".encode())


def missing(path: Path) -> None:
    path.unlink()


def unreadable(path: Path) -> None:
    path.unlink()
    path.mkdir()  # read as root too, unlike a file of mode 000


BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty": (empty, "no [[keys]] entries"),
    "bad TOML": (bad_toml, "keys.toml"),
    "bad entry": (bad_entry, "key #2: sha256"),
    "missing": (missing, "No such file"),
    "unreadable": (unreadable, "Is a directory"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
async def test_a_broken_key_file_keeps_the_last_good_keys_until_fixed(server, breakage, caplog):
    breaks, message = BREAKAGES[breakage]
    caplog.set_level(logging.ERROR, logger="memrpc.auth")
    breaks(server.keys_file)
    for _ in range(3):
        await server.works(ALPHA.token)
    (error,) = caplog.records  # one error per change, not per call
    assert message in error.getMessage()
    assert str(server.keys_file) in error.getMessage()

    if server.keys_file.is_dir():
        server.keys_file.rmdir()
    server.install_keys(BETA.entry)
    await server.works(BETA.token)
    assert (await server.refused(ALPHA.token)).code() == UNAUTHENTICATED
    assert len(caplog.records) == 1


# --- JWKS keys


async def test_a_removed_jwks_key_is_unauthenticated_from_the_next_call(server):
    other = make_jwt(key=OTHER_SIGNING_KEY, kid=OTHER_KID)
    await server.works(other)
    server.install_jwks()
    err = await server.refused(other)
    assert err.code() == UNAUTHENTICATED
    assert "kid names no key" in err.details()
    await server.works(make_jwt())


async def test_a_broken_jwks_file_keeps_the_last_good_keys_until_fixed(server, caplog):
    other = make_jwt(key=OTHER_SIGNING_KEY, kid=OTHER_KID)
    caplog.set_level(logging.ERROR, logger="memrpc.auth")
    replace_file(server.jwks_file, b'{"keys": [')
    await server.works(other)
    await server.works(other)
    (error,) = caplog.records
    assert f"JWKS file {server.jwks_file}" in error.getMessage()

    server.install_jwks()
    assert (await server.refused(other)).code() == UNAUTHENTICATED
    await server.works(make_jwt())


# --- the check interval


def test_the_file_is_checked_once_per_interval(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text(ALPHA.entry)
    now = [100.0]
    ring = Reloading(path, KeyRing.load, interval=1.0, clock=lambda: now[0])
    replace_file(path, BETA.entry.encode())

    now[0] += 0.99
    assert ring.authenticate(ALPHA.token).subject == "API key 'alpha'"
    now[0] += 0.01
    assert ring.authenticate(BETA.token).subject == "API key 'beta'"
    with pytest.raises(ApiError, match="invalid API key"):
        ring.authenticate(ALPHA.token)


# --- the audit log of credentials and of the calls they make

ROOT = new_key("root", ["*"], access=Access.ADMIN)


async def keys_file_records(
    admin: administration_pb2_grpc.AdministrationStub, token: str
) -> list[administration_pb2.AuditRecord]:
    listed = await admin.ListAuditRecords(
        administration_pb2.ListAuditRecordsRequest(namespace="*"), metadata=bearer(token)
    )
    return [record for record in listed.records if record.operation == "keys-file"]


async def test_key_file_changes_are_audited_once_with_what_changed(
    tmp_path, redis_server, embedder, monkeypatch
):
    monkeypatch.setattr(reloading, "CHECK_INTERVAL_S", 0.0)
    keys = (ROOT.entry, ALPHA.entry, BETA.entry)
    async with serving_files(tmp_path, redis_server.url, embedder, "\n\n".join(keys)) as (
        files,
        channel,
    ):
        admin = administration_pb2_grpc.AdministrationStub(channel)
        before = await keys_file_records(admin, ROOT.token)
        files.install_keys(ROOT.entry, rescoped(BETA, namespaces=[NS_B]))
        await files.works(ROOT.token)  # the call that reloads the file

        async def recorded() -> bool:
            return len(await keys_file_records(admin, ROOT.token)) > len(before)

        await eventually(recorded, "the key file's change in the audit log")
        newest = (await keys_file_records(admin, ROOT.token))[0]
        assert newest.credential_id == "keys-file"
        assert (newest.namespace, newest.code) == ("*", "OK")
        assert json_format.MessageToDict(newest.details) == {
            "removed": ["alpha"],
            "changed": ["beta"],
        }
        # Another server loading the same file finds nothing new to record.
        second = tmp_path / "second"
        second.mkdir()
        async with serving_files(second, redis_server.url, embedder, files.keys_file.read_text()):
            pass
        assert (await keys_file_records(admin, ROOT.token))[0].id == newest.id


async def test_audit_records_name_the_credential_and_need_admin_access(
    tmp_path, redis_server, embedder
):
    namespace_admin = new_key("nsadmin", [NS_A], access=Access.ADMIN)
    keys = "\n\n".join((ROOT.entry, ALPHA.entry, namespace_admin.entry))
    async with serving_files(tmp_path, redis_server.url, embedder, keys) as (_, channel):
        memories = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        admin = administration_pb2_grpc.AdministrationStub(channel)
        wipe = long_term_memory_pb2.DeleteMemoriesRequest(
            namespace=NS_A, filter=long_term_memory_pb2.MemoryFilter(user_ids=["nobody"])
        )
        await memories.DeleteMemories(wipe, metadata=bearer(namespace_admin.token))
        jwt_admin = make_jwt({"sub": "carol", ACCESS_CLAIM: "admin"})
        await memories.DeleteMemories(wipe, metadata=bearer(jwt_admin))
        listed = await admin.ListAuditRecords(
            administration_pb2.ListAuditRecordsRequest(namespace=NS_A, page_size=2),
            metadata=bearer(namespace_admin.token),
        )
        assert [r.credential_id for r in listed.records] == ["jwt:carol", "key:nsadmin"]

        listing = administration_pb2.ListAuditRecordsRequest(namespace=NS_A)
        err = await rejected(admin.ListAuditRecords, listing, bearer(ALPHA.token))
        assert_reason(err, PERMISSION_DENIED, "METHOD_FORBIDDEN")
        everything = administration_pb2.ListAuditRecordsRequest(namespace="*")
        err = await rejected(admin.ListAuditRecords, everything, bearer(namespace_admin.token))
        assert_reason(err, PERMISSION_DENIED, "NAMESPACE_FORBIDDEN")
