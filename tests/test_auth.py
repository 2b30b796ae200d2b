"""Authentication and tenant scopes: API keys and JWTs against a real server,
the method table against the service descriptors, the start-up decision."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from conftest import make_settings, running
from memrpc.auth import AuthConfigError, auth_interceptors, check_settings
from memrpc.auth.credentials import Access
from memrpc.auth.jwt import ACCESS_CLAIM, NAMESPACES_CLAIM, JwtVerifier
from memrpc.auth.keys import KeyRing, new_key
from memrpc.auth.policy import is_local, requires_auth
from memrpc.auth.scopes import METHOD_ACCESS
from memrpc.cli import main
from memrpc.client import AsyncMemoryClient
from memrpc.config import SettingsError
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.rpc.errors import ApiError
from memrpc.v1 import (
    administration_pb2,
    checkpoints_pb2,
    event_log_pb2_grpc,
    long_term_memory_pb2,
    namespace_settings_pb2,
    portability_pb2,
    working_memory_pb2_grpc,
)
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import working_memory_pb2 as wm
from support import assert_reason

ISSUER = "https://issuer.test"
AUDIENCE = "memrpc"
KID = "k1"
# Namespaces of this module's server: A is the scoped keys' own, B another's.
NS_A = f"a{uuid.uuid4().hex[:12]}"
NS_B = f"b{uuid.uuid4().hex[:12]}"
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED

# The test's API keys, by role: (id, namespaces, access).
KEYS = {
    "writer": ("writer", [NS_A], Access.WRITE),
    "reader": ("reader", [NS_A], Access.READ),
    "admin": ("admin", [NS_A], Access.ADMIN),
    "everything": ("everything", ["*"], Access.WRITE),
}
SIGNING_KEY = ec.generate_private_key(ec.SECP256R1())


class Auth:
    """The test server's address and the tokens it accepts."""

    def __init__(self, port: int, tokens: dict[str, str]) -> None:
        self.port = port
        self.tokens = tokens


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def make_jwt(
    claims: dict[str, Any] | None = None,
    *,
    key: Any = SIGNING_KEY,
    algorithm: str = "ES256",
    kid: str = KID,
) -> str:
    """A JWT for NS_A with write access, changed by `claims` (None drops one)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "exp": now + 300,
        NAMESPACES_CLAIM: [NS_A],
        ACCESS_CLAIM: "write",
    }
    payload.update(claims or {})
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def public_jwk(curve: ec.EllipticCurve) -> dict[str, Any]:
    """The public JWK of a new EC key on `curve`."""
    key = ec.generate_private_key(curve).public_key()
    return json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))  # type: ignore[no-any-return]


def write_jwks(path: Path, *extra: dict[str, Any]) -> Path:
    """A JWKS file with the public half of SIGNING_KEY as KID, then `extra`."""
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(SIGNING_KEY.public_key()))
    path.write_text(json.dumps({"keys": [{**public, "kid": KID}, *extra]}))
    return path


@pytest.fixture(scope="module")
async def auth(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: EmbeddedRedis,
    embedder: BatchingEmbedder,
) -> AsyncIterator[Auth]:
    directory = tmp_path_factory.mktemp("auth")
    made = {role: new_key(i, ns, access=a) for role, (i, ns, a) in KEYS.items()}
    keys_file = directory / "keys.toml"
    keys_file.write_text("\n\n".join(key.entry for key in made.values()))
    settings = make_settings(
        redis_server.url,
        auth_keys_file=keys_file,
        jwks_file=write_jwks(directory / "jwks.json"),
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    async with running(settings, embedder) as server:
        yield Auth(server.port, {role: key.token for role, key in made.items()})


@pytest.fixture(scope="module")
async def secured(auth: Auth) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{auth.port}") as chan:
        yield chan


@pytest.fixture
def sessions(secured: grpc.aio.Channel) -> working_memory_pb2_grpc.WorkingMemoryStub:
    return working_memory_pb2_grpc.WorkingMemoryStub(secured)


@pytest.fixture
def event_log(secured: grpc.aio.Channel) -> event_log_pb2_grpc.EventLogStub:
    return event_log_pb2_grpc.EventLogStub(secured)


def update(namespace: str) -> wm.UpdateSessionRequest:
    return wm.UpdateSessionRequest(
        namespace=namespace, thread_id="t", session=wm.SessionInput(goal="g")
    )


def get(namespace: str) -> wm.GetSessionRequest:
    return wm.GetSessionRequest(namespace=namespace, thread_id="t")


async def rejected(call: Any, request: Any, metadata: Any = None) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(request, metadata=metadata, timeout=5)
    return err.value


# --- API keys over the wire


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (None, "missing credential"),
        ((("authorization", "Basic dXNlcjpwYXNz"),), "malformed authorization"),
        ((("authorization", "Bearer "),), "malformed authorization"),
        (bearer("mrk_nounderscore"), "malformed API key"),
        (bearer("not-a-token"), "malformed token"),
    ],
)
async def test_missing_or_malformed_credential_is_unauthenticated(sessions, metadata, message):
    err = await rejected(sessions.GetSession, get(NS_A), metadata)
    assert_reason(err, UNAUTHENTICATED, "CREDENTIAL_MISSING")
    assert message in err.details()
    assert "authorization: Bearer" in err.details() or "mrk_<id>_<secret>" in err.details()


async def test_wrong_secret_and_unknown_key_are_unauthenticated_alike(auth, sessions):
    token = auth.tokens["writer"]
    wrong_secret = await rejected(sessions.GetSession, get(NS_A), bearer(token[:-4] + "AAAA"))
    unknown_id = await rejected(
        sessions.GetSession, get(NS_A), bearer(token.replace("writer", "nobody"))
    )
    assert_reason(wrong_secret, UNAUTHENTICATED, "CREDENTIAL_INVALID")
    assert_reason(unknown_id, UNAUTHENTICATED, "CREDENTIAL_INVALID")
    assert wrong_secret.details() == unknown_id.details()
    assert "nobody" not in unknown_id.details()


async def test_read_write_key_reads_and_writes_its_namespace(auth, sessions):
    metadata = bearer(auth.tokens["writer"])
    await sessions.UpdateSession(update(NS_A), metadata=metadata)
    got = await sessions.GetSession(get(NS_A), metadata=metadata)
    assert got.session.goal == "g"


async def test_read_only_key_reads_but_may_not_write(auth, sessions):
    metadata = bearer(auth.tokens["reader"])
    await sessions.GetSession(get(NS_A), metadata=metadata)
    err = await rejected(sessions.UpdateSession, update(NS_A), metadata)
    found = assert_reason(err, PERMISSION_DENIED, "METHOD_FORBIDDEN")
    assert found == {"method": "/memrpc.v1.WorkingMemory/UpdateSession"}
    assert "'reader' has read access" in err.details()


@pytest.mark.parametrize("role", ["writer", "reader"])
async def test_key_of_one_namespace_may_not_touch_another(auth, sessions, role, caplog):
    with caplog.at_level(logging.INFO, logger="memrpc.auth"):
        err = await rejected(sessions.GetSession, get(NS_B), bearer(auth.tokens[role]))
    assert assert_reason(err, PERMISSION_DENIED, "NAMESPACE_FORBIDDEN") == {"namespace": NS_B}
    assert NS_B in err.details()
    assert NS_A in err.details()  # the caller's own scope, to act on
    # Logged like any denial, without the token.
    (logged,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("denied")]
    assert logged == f"denied /memrpc.v1.WorkingMemory/GetSession: {err.details()}"
    assert auth.tokens[role] not in caplog.text


async def test_star_key_uses_every_namespace(auth, sessions):
    metadata = bearer(auth.tokens["everything"])
    for namespace in (NS_A, NS_B, f"c{uuid.uuid4().hex[:8]}"):
        await sessions.UpdateSession(update(namespace), metadata=metadata)
        await sessions.GetSession(get(namespace), metadata=metadata)


async def test_health_and_reflection_need_no_credential(secured):
    health = health_pb2_grpc.HealthStub(secured)
    response = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(secured)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for answer in reflection.ServerReflectionInfo(iter([request]), timeout=5):
        names = {service.name for service in answer.list_services_response.service}
        break
    assert "memrpc.v1.WorkingMemory" in names


async def test_python_client_sends_a_key_as_call_credentials(auth):
    credentials = grpc.composite_channel_credentials(
        grpc.local_channel_credentials(),  # loopback plaintext; TLS: ssl_channel_credentials
        grpc.access_token_call_credentials(auth.tokens["writer"]),
    )
    target = f"127.0.0.1:{auth.port}"
    async with AsyncMemoryClient(target, namespace=NS_A, credentials=credentials) as memory:
        await memory.update_session("client", goal="g")
        session = await memory.get_session("client")
    assert session is not None
    assert session.goal == "g"


# --- TailEvents, a server stream


def tail_request(namespace: str) -> ev.TailEventsRequest:
    return ev.TailEventsRequest(
        namespace=namespace, cursors=[ev.ThreadCursor(thread_id="t", after_event_id="0")]
    )


async def tail_messages(
    event_log: Any, namespace: str, metadata: Any, count: int = 1
) -> list[ev.TailEventsResponse]:
    """The first `count` messages of a tail."""
    call = event_log.TailEvents(tail_request(namespace), metadata=metadata, timeout=5)
    try:
        return [await call.read() for _ in range(count)]
    finally:
        call.cancel()


@pytest.mark.parametrize(
    ("role", "namespace", "code"),
    [(None, NS_A, UNAUTHENTICATED), ("reader", NS_B, PERMISSION_DENIED)],
)
async def test_tail_events_is_checked(auth, event_log, role, namespace, code):
    metadata = bearer(auth.tokens[role]) if role else None
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tail_messages(event_log, namespace, metadata)
    assert err.value.code() == code


async def test_tail_events_of_own_namespace_streams(auth, event_log):
    append = ev.AppendEventsRequest(
        namespace=NS_A, thread_id="t", events=[ev.EventInput(type="x", data=b"1")]
    )
    reply = await event_log.AppendEvents(append, metadata=bearer(auth.tokens["writer"]))
    checkpoint, message = await tail_messages(
        event_log, NS_A, bearer(auth.tokens["reader"]), count=2
    )
    assert checkpoint.WhichOneof("message") == "checkpoint"
    assert message.event.id == reply.event_ids[0]


# --- JWTs over the wire


async def test_jwt_signed_by_a_jwks_key_is_accepted(sessions):
    await sessions.UpdateSession(update(NS_A), metadata=bearer(make_jwt()))
    read_only = make_jwt({ACCESS_CLAIM: "read"})
    await sessions.GetSession(get(NS_A), metadata=bearer(read_only))
    err = await rejected(sessions.UpdateSession, update(NS_A), bearer(read_only))
    assert err.code() == PERMISSION_DENIED
    err = await rejected(sessions.GetSession, get(NS_B), bearer(make_jwt()))
    assert err.code() == PERMISSION_DENIED


def _alg_none() -> str:
    return jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300, NAMESPACES_CLAIM: ["*"]},
        None,
        algorithm="none",
        headers={"kid": KID},
    )


BAD_JWTS: dict[str, tuple[Callable[[], str], str]] = {
    "wrong issuer": (lambda: make_jwt({"iss": "https://evil.test"}), "iss"),
    "wrong audience": (lambda: make_jwt({"aud": "other"}), "aud"),
    "expired": (lambda: make_jwt({"exp": int(time.time()) - 3600}), "expired"),
    "no exp": (lambda: make_jwt({"exp": None}), "exp"),
    "unknown kid": (lambda: make_jwt(kid="k2"), "kid"),
    "alg none": (_alg_none, "alg"),
    "other key": (lambda: make_jwt(key=ec.generate_private_key(ec.SECP256R1())), "Signature"),
    "hmac": (lambda: make_jwt(key="secret-of-32-bytes-at-least-xxxxx", algorithm="HS256"), "alg"),
}


@pytest.mark.parametrize("case", BAD_JWTS)
async def test_untrusted_jwt_is_unauthenticated(sessions, case):
    build, message = BAD_JWTS[case]
    err = await rejected(sessions.GetSession, get(NS_A), bearer(build()))
    expired = case == "expired"
    assert_reason(err, UNAUTHENTICATED, "CREDENTIAL_EXPIRED" if expired else "CREDENTIAL_INVALID")
    assert message in err.details()


async def test_jwt_without_scope_claims_is_denied(sessions):
    token = make_jwt({NAMESPACES_CLAIM: None, ACCESS_CLAIM: None})
    err = await rejected(sessions.GetSession, get(NS_A), bearer(token))
    assert_reason(err, PERMISSION_DENIED, "SCOPE_MISSING")
    assert NAMESPACES_CLAIM in err.details()


# --- the method table and the requests it relies on


SERVICES = [
    file.services_by_name[name]
    for file, name in [
        (wm.DESCRIPTOR, "WorkingMemory"),
        (long_term_memory_pb2.DESCRIPTOR, "LongTermMemory"),
        (ev.DESCRIPTOR, "EventLog"),
        (namespace_settings_pb2.DESCRIPTOR, "Namespaces"),
        (administration_pb2.DESCRIPTOR, "Administration"),
        (portability_pb2.DESCRIPTOR, "Portability"),
        (checkpoints_pb2.DESCRIPTOR, "Checkpoints"),
    ]
]


# The methods a read-only credential may call; every other one writes.
READ_METHODS = {
    "GetSession",
    "ListSessions",
    "GetContext",
    "SearchMemories",
    "ListMemories",
    "GetMemory",
    "ListEvents",
    "TailEvents",
    "GetNamespaceSettings",
    "GetCheckpoint",
    "ListCheckpoints",
}
# The methods a read-write credential may not call either.
ADMIN_METHODS = {
    "UpdateNamespaceSettings",
    "EraseUser",
    "DeleteNamespace",
    "ListAuditRecords",
    "ExportData",
    "ImportData",
}
METHODS = [method for service in SERVICES for method in service.methods]


def _call(channel: grpc.aio.Channel, method: Any, token: str) -> Any:
    """A call of `method` with a request naming NS_A and nothing else (a
    client stream: one such request)."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    request = GetMessageClass(method.input_type)(namespace=NS_A)
    if method.client_streaming:
        kind = channel.stream_unary
        sent: Any = iter([request])
    else:
        kind = channel.unary_stream if method.server_streaming else channel.unary_unary
        sent = request
    return kind(
        path,
        request_serializer=type(request).SerializeToString,
        response_deserializer=GetMessageClass(method.output_type).FromString,
    )(sent, metadata=bearer(token), timeout=5)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
async def test_read_only_key_may_call_exactly_the_read_methods(auth, secured, method):
    call = _call(secured, method, auth.tokens["reader"])
    try:
        await (call.read() if method.server_streaming else call)
        code, details = grpc.StatusCode.OK, ""
    except grpc.aio.AioRpcError as err:  # most requests here are incomplete
        code, details = err.code(), err.details() or ""
    if method.name in READ_METHODS:
        assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), details
    else:
        assert code == PERMISSION_DENIED
        assert "has read access" in details
    call.cancel()


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
async def test_write_key_may_call_all_but_the_admin_methods_and_admin_key_all(
    auth, secured, method
):
    for role in ("writer", "admin"):
        call = _call(secured, method, auth.tokens[role])
        try:
            await (call.read() if method.server_streaming else call)
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as err:  # most requests here are incomplete
            code = err.code()
        call.cancel()
        if role == "writer" and method.name in ADMIN_METHODS:
            assert code == PERMISSION_DENIED
        else:
            assert code != PERMISSION_DENIED, role


def test_method_table_covers_every_rpc_exactly():
    methods = {f"/{s.full_name}/{m.name}" for s in SERVICES for m in s.methods}
    assert set(METHOD_ACCESS) == methods


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_every_request_has_a_top_level_namespace_and_streams_one_way_at_most(method):
    field = method.input_type.fields_by_name.get("namespace")
    assert field is not None
    assert field.type == field.TYPE_STRING
    assert not field.is_repeated
    assert not (method.client_streaming and method.server_streaming)


# --- the decision to serve, before binding


@pytest.mark.parametrize(
    ("listen", "local"),
    [
        ("127.0.0.1:50051", True),
        ("127.1.2.3:0", True),
        ("localhost:50051", True),
        ("[::1]:50051", True),
        ("unix:/tmp/memrpc.sock", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        (":50051", False),
        ("10.0.0.5:50051", False),
        ("memrpc.example:50051", False),
    ],
)
def test_is_local(listen, local):
    assert is_local(listen) is local


def test_beyond_loopback_without_credentials_refuses_to_start():
    with pytest.raises(AuthConfigError) as err:
        requires_auth(make_settings(None, listen="0.0.0.0:50051"))
    for hint in ("0.0.0.0:50051", "--auth-keys-file", "--jwks-file", "--allow-unauthenticated"):
        assert hint in str(err.value)


def test_auth_decision(tmp_path):
    keys = tmp_path / "keys.toml"
    assert requires_auth(make_settings(None, listen="0.0.0.0:50051", auth_keys_file=keys))
    assert requires_auth(make_settings(None, auth_keys_file=keys))
    assert not requires_auth(make_settings(None))
    opted_out = make_settings(None, listen="0.0.0.0:50051", allow_unauthenticated=True)
    assert not requires_auth(opted_out)
    with pytest.raises(SettingsError, match="contradicts"):
        make_settings(None, auth_keys_file=keys, allow_unauthenticated=True).validate()
    with pytest.raises(SettingsError, match="need --jwks-file"):
        make_settings(None, jwt_issuer=ISSUER).validate()


def test_auth_off_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="memrpc.auth"):
        assert auth_interceptors(make_settings(None)) == []
        opted_out = make_settings(None, listen="0.0.0.0:50051", allow_unauthenticated=True)
        assert auth_interceptors(opted_out) == []
    first, second = (record.getMessage() for record in caplog.records)
    assert "authentication is off" in first
    assert "authentication is OFF" in second


# --- key and JWKS files


def test_new_key_is_accepted_by_its_entry_only(tmp_path):
    key = new_key("ci", ["acme", "acme", "*"], access=Access.READ)
    assert key.token.startswith("mrk_ci_")
    assert key.token.removeprefix("mrk_ci_") not in key.entry
    path = tmp_path / "keys.toml"
    path.write_text(key.entry)
    credential = KeyRing.load(path).authenticate(key.token)
    assert credential.namespaces == {"acme", "*"}
    assert credential.access.value == "read"
    assert new_key("ci", ["acme"], access=Access.READ).token != key.token


@pytest.mark.parametrize(
    ("flags", "access"), [([], "write"), (["--read-only"], "read"), (["--admin"], "admin")]
)
def test_keys_new_makes_a_key_of_each_access(capsys, tmp_path, flags, access):
    main(["keys", "new", "--id", "ci", "--namespace", "acme", *flags])
    printed = capsys.readouterr().out
    token = next(line for line in printed.splitlines() if line.startswith("mrk_ci_"))
    path = tmp_path / "keys.toml"
    path.write_text(printed[printed.index("[[keys]]") :])
    assert KeyRing.load(path).authenticate(token).access.value == access


def test_keys_list_and_revoke_edit_the_file_as_written(capsys, tmp_path):
    keys = {name: new_key(name, ["acme"], access=Access.READ) for name in ("a", "b", "c")}
    path = tmp_path / "keys.toml"
    head = "# the team's keys\n\n"
    path.write_text(head + "\n\n".join(key.entry for key in keys.values()) + "\n")
    path.chmod(0o640)
    main(["keys", "list", "--auth-keys-file", str(path)])
    assert capsys.readouterr().out.splitlines() == [f"{n}\tread\tacme" for n in "abc"]
    main(["keys", "revoke", "--auth-keys-file", str(path), "--id", "b"])
    assert "revoked API key 'b'" in capsys.readouterr().out
    text = path.read_text()
    assert text.startswith(head)
    assert keys["a"].entry in text
    assert keys["c"].entry in text
    assert keys["b"].entry not in text
    assert path.stat().st_mode & 0o777 == 0o640
    ring = KeyRing.load(path)
    assert ring.authenticate(keys["c"].token).subject == "API key 'c'"
    with pytest.raises(ApiError, match="invalid API key"):
        ring.authenticate(keys["b"].token)
    # Unknown ids, and a file's last key, are refused; the file is untouched.
    main(["keys", "revoke", "--auth-keys-file", str(path), "--id", "a"])
    for refused, says in (("b", "no key 'b'"), ("c", "its only key")):
        with pytest.raises(SystemExit) as exited:
            main(["keys", "revoke", "--auth-keys-file", str(path), "--id", refused])
        assert exited.value.code == 2
        assert says in capsys.readouterr().err
    assert [entry.id for entry in KeyRing.load(path).entries()] == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.toml"]


def test_keys_new_takes_one_access(capsys):
    with pytest.raises(SystemExit):
        main(["keys", "new", "--id", "ci", "--namespace", "acme", "--admin", "--read-only"])
    assert "not allowed with" in capsys.readouterr().err


def entry(**fields: object) -> str:
    """A `[[keys]]` TOML table of a valid key, changed by `fields` (None drops one)."""
    values: dict[str, object] = {
        "id": "a",
        "sha256": "0" * 64,
        "namespaces": ["x"],
        "access": "read",
        **fields,
    }
    lines = [f"{name} = {json.dumps(value)}" for name, value in values.items() if value is not None]
    return "\n".join(["[[keys]]", *lines, ""])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no [[keys]]"),
        ("[[keys", "keys.toml"),
        (entry(sha256=None, access=None), "missing ['access', 'sha256']"),
        (entry(note=1), "unknown ['note']"),
        (entry(id="a_b"), "id 'a_b'"),
        (entry(sha256="00"), "sha256"),
        (entry(namespaces=[]), "non-empty"),
        (entry(namespaces="x"), "non-empty"),
        (entry(namespaces=["x y"]), "'x y'"),
        (entry(access="all"), "access"),
        (entry() + entry(), "key #2: id 'a' is used twice"),
    ],
)
def test_bad_key_file_is_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "keys.toml"
    path.write_text(text)
    with pytest.raises(AuthConfigError) as err:
        check_settings(make_settings(None, auth_keys_file=path))
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"kty": "oct", "k": "c2VjcmV0", "kid": "h"}, "private or shared"),
        ({"kty": "RSA", "n": "x", "e": "AQAB"}, "needs a kid"),
        ({**public_jwk(ec.SECP256K1()), "kid": "k"}, "algorithm ES256K is not one of"),
        ({**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(SIGNING_KEY)), "kid": "p"}, "private"),
        ({**public_jwk(ec.SECP256R1()), "kid": KID}, "used twice"),
    ],
)
def test_bad_jwks_file_is_refused_with_the_reason(tmp_path, extra, message):
    path = write_jwks(tmp_path / "jwks.json", extra)
    with pytest.raises(ValueError, match=message):
        JwtVerifier.load(path, issuer=ISSUER, audience=AUDIENCE)


def test_jwks_file_needs_issuer_and_audience(tmp_path):
    path = write_jwks(tmp_path / "jwks.json")
    with pytest.raises(AuthConfigError, match="--jwt-issuer and --jwt-audience"):
        check_settings(make_settings(None, jwks_file=path, jwt_issuer=ISSUER))
