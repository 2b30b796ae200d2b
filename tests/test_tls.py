"""TLS and mutual TLS: certificates generated here (a CA, a server certificate
for 127.0.0.1/localhost, client certificates), a server on a free loopback
port, and certificate files replaced on disk while it serves."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import logging
import os
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import make_settings, running
from memrpc.cli import main
from memrpc.client import AsyncMemoryClient
from memrpc.config import SettingsError
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import Embedder
from memrpc.server import check_startup
from memrpc.tls import TlsConfigError, server_credentials

OK = grpc.StatusCode.OK
REFUSED = grpc.StatusCode.UNAVAILABLE
# An HTTPS request whose TLS handshake fails.
REFUSED_HTTP = "refused"


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, PEM-encoded."""

    cert: bytes
    key: bytes


class Authority:
    """A test CA issuing server and client certificates."""

    def __init__(self, name: str) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = _name(name)
        self._cert = (
            _builder(self._name, self._name, self._key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.pem = self._cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, name: str, *, server: bool) -> KeyPair:
        """A certificate for 127.0.0.1/localhost (server) or a client."""
        key = ec.generate_private_key(ec.SECP256R1())
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _builder(_name(name), self._name, key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return KeyPair(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )


def replace_file(path: Path, data: bytes) -> None:
    """Replaces a file atomically (write, then rename), as docs/security.md advises."""
    temporary = path.with_name(path.name + ".new")
    temporary.write_bytes(data)
    os.replace(temporary, path)


@dataclass(frozen=True)
class TlsFiles:
    """Where the server's TLS files are."""

    cert: Path
    key: Path
    client_ca: Path

    def install(self, pair: KeyPair) -> None:
        replace_file(self.cert, pair.cert)
        replace_file(self.key, pair.key)


@pytest.fixture
def server_ca() -> Authority:
    return Authority("memrpc test server CA")


@pytest.fixture
def client_ca() -> Authority:
    return Authority("memrpc test client CA")


@pytest.fixture
def files(tmp_path: Path, server_ca: Authority, client_ca: Authority) -> TlsFiles:
    """The server certificate (from `server_ca`) and the client CA, on disk."""
    files = TlsFiles(tmp_path / "server.pem", tmp_path / "server.key", tmp_path / "client-ca.pem")
    files.install(server_ca.issue("localhost", server=True))
    files.client_ca.write_bytes(client_ca.pem)
    return files


@contextlib.asynccontextmanager
async def serving(
    redis_server: EmbeddedRedis,
    embedder: Embedder,
    files: TlsFiles,
    *,
    mutual: bool,
    http: bool = False,
) -> AsyncIterator[str]:
    """A server with `files`' certificate (and client CA if `mutual`); its
    gRPC address, or with `http` its HTTP door's."""
    settings = make_settings(
        redis_server.url,
        tls_cert_file=files.cert,
        tls_key_file=files.key,
        tls_client_ca_file=files.client_ca if mutual else None,
        http_listen="127.0.0.1:0" if http else None,
    )
    async with running(settings, embedder) as server:
        yield f"127.0.0.1:{server.http_port if http else server.port}"


def trusting(ca: Authority, client: KeyPair | None = None) -> grpc.ChannelCredentials:
    """Credentials trusting only `ca`, presenting `client`'s certificate if given."""
    if client is None:
        return grpc.ssl_channel_credentials(root_certificates=ca.pem)
    return grpc.ssl_channel_credentials(ca.pem, client.key, client.cert)


def connect(address: str, credentials: grpc.ChannelCredentials | None) -> grpc.aio.Channel:
    """A channel with a connection of its own (no subchannel shared with others)."""
    options = [("grpc.use_local_subchannel_pool", 1)]
    if credentials is None:
        return grpc.aio.insecure_channel(address, options=options)
    return grpc.aio.secure_channel(address, credentials, options=options)


async def call(channel: grpc.aio.Channel) -> grpc.StatusCode:
    """The status of a health check on `channel`."""
    try:
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    except grpc.aio.AioRpcError as err:
        return err.code()
    return OK


async def status(address: str, credentials: grpc.ChannelCredentials | None) -> grpc.StatusCode:
    """The status of a health check on a new connection."""
    async with connect(address, credentials) as channel:
        return await call(channel)


async def test_tls_serves_clients_trusting_its_ca_and_refuses_the_others(
    redis_server, embedder, files, server_ca, ns
):
    async with serving(redis_server, embedder, files, mutual=False) as address:
        credentials = trusting(server_ca)
        async with AsyncMemoryClient(address, namespace=ns, credentials=credentials) as client:
            await client.append_turns("thread", [("user", "over TLS")])
            session = await client.get_session("thread")
        assert session is not None
        assert [turn.content for turn in session.turns] == ["over TLS"]
        assert await status(address, None) == REFUSED
        assert await status(address, trusting(Authority("another CA"))) == REFUSED


async def test_mutual_tls_admits_only_clients_with_a_certificate_from_the_client_ca(
    redis_server, embedder, files, server_ca, client_ca
):
    async with serving(redis_server, embedder, files, mutual=True) as address:
        good = client_ca.issue("agent", server=False)
        assert await status(address, trusting(server_ca, good)) == OK
        assert await status(address, trusting(server_ca)) == REFUSED
        stranger = Authority("another CA").issue("agent", server=False)
        assert await status(address, trusting(server_ca, stranger)) == REFUSED
        assert await status(address, None) == REFUSED


async def http_status(
    address: str, ca: Authority, client: KeyPair | None = None, folder: Path | None = None
) -> int | str:
    """The HTTP status of a `GetSession` over HTTPS trusting `ca` (with
    `client`'s certificate, written in `folder`), or `REFUSED`."""
    context = ssl.create_default_context(cadata=ca.pem.decode())
    if client is not None:
        assert folder is not None
        (folder / "client.pem").write_bytes(client.cert)
        (folder / "client.key").write_bytes(client.key)
        context.load_cert_chain(folder / "client.pem", folder / "client.key")
    async with httpx.AsyncClient(verify=context, timeout=10) as http:
        try:
            response = await http.post(
                f"https://{address}/memrpc.v1.WorkingMemory/GetSession",
                json={"namespace": "tls", "threadId": "nobody"},
            )
        except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
            return REFUSED_HTTP
        return response.status_code


async def test_the_http_door_serves_the_same_tls_and_reloads_it(
    redis_server, embedder, files, server_ca, client_ca
):
    good = client_ca.issue("agent", server=False)
    tmp_path = files.cert.parent
    async with serving(redis_server, embedder, files, mutual=True, http=True) as address:
        assert await http_status(address, server_ca, good, tmp_path) == 404  # no such session
        assert await http_status(address, server_ca) == REFUSED_HTTP
        stranger = Authority("another CA").issue("agent", server=False)
        assert await http_status(address, server_ca, stranger, tmp_path) == REFUSED_HTTP

        new_ca = Authority("memrpc next server CA")
        files.install(new_ca.issue("localhost", server=True))
        assert await http_status(address, new_ca, good, tmp_path) == 404
        assert await http_status(address, server_ca, good, tmp_path) == REFUSED_HTTP


async def test_a_replaced_certificate_serves_new_connections_and_spares_open_ones(
    redis_server, embedder, files, server_ca
):
    new_ca = Authority("memrpc next server CA")
    async with (
        serving(redis_server, embedder, files, mutual=False) as address,
        connect(address, trusting(server_ca)) as open_channel,
    ):
        assert await call(open_channel) == OK
        assert await status(address, trusting(new_ca)) == REFUSED

        files.install(new_ca.issue("localhost", server=True))

        assert await status(address, trusting(new_ca)) == OK
        assert await status(address, trusting(server_ca)) == REFUSED
        assert await call(open_channel) == OK  # still on its first connection


async def test_a_broken_replacement_keeps_the_previous_certificate_until_fixed(
    redis_server, embedder, files, server_ca, caplog
):
    new_ca = Authority("memrpc next server CA")
    new = new_ca.issue("localhost", server=True)
    caplog.set_level(logging.ERROR, logger="memrpc.tls")
    async with serving(redis_server, embedder, files, mutual=False) as address:
        replace_file(files.cert, b"-----BEGIN CERTIFICATE-----\nnot base64\n")
        assert await status(address, trusting(server_ca)) == OK
        assert f"{files.cert} is not a PEM certificate chain" in caplog.text

        replace_file(files.cert, new.cert)  # a half-done swap: the old key still there
        assert await status(address, trusting(server_ca)) == OK
        assert f"{files.key} is not an unencrypted PEM private key matching" in caplog.text

        replace_file(files.key, new.key)
        assert await status(address, trusting(new_ca)) == OK
        assert await status(address, trusting(server_ca)) == REFUSED


async def test_a_replaced_client_ca_admits_the_clients_of_the_new_ca(
    redis_server, embedder, files, server_ca, client_ca
):
    new_client_ca = Authority("memrpc next client CA")
    old_client = trusting(server_ca, client_ca.issue("agent", server=False))
    new_client = trusting(server_ca, new_client_ca.issue("agent", server=False))
    async with serving(redis_server, embedder, files, mutual=True) as address:
        assert await status(address, new_client) == REFUSED
        replace_file(files.client_ca, new_client_ca.pem)
        assert await status(address, new_client) == OK
        assert await status(address, old_client) == REFUSED


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"tls_cert_file": "cert"}, "--tls-cert-file and --tls-key-file go together"),
        ({"tls_key_file": "key"}, "--tls-cert-file and --tls-key-file go together"),
        ({"tls_client_ca_file": "ca"}, "--tls-client-ca-file needs --tls-cert-file"),
        (
            {"tls_cert_file": "missing.pem", "tls_key_file": "key"},
            "cannot read a TLS file: [Errno 2] No such file or directory: 'missing.pem'",
        ),
    ],
)
def test_unusable_tls_settings_are_refused_with_the_reason(flags, message, capsys):
    settings = make_settings(None, **{name: Path(value) for name, value in flags.items()})
    with pytest.raises(SettingsError) as raised:
        check_startup(settings)
    assert message in str(raised.value)

    argv = [arg for name, value in flags.items() for arg in (f"--{name.replace('_', '-')}", value)]
    with pytest.raises(SystemExit) as exited:
        main(["serve", *argv])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def use_a_key_of_another_certificate(files: TlsFiles, other: KeyPair) -> None:
    files.key.write_bytes(other.key)


def use_an_encrypted_key(files: TlsFiles, other: KeyPair) -> None:
    key = serialization.load_pem_private_key(other.key, password=None)
    encryption = serialization.BestAvailableEncryption(b"secret")
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    files.install(KeyPair(other.cert, pem))


def empty_the_certificate(files: TlsFiles, other: KeyPair) -> None:
    files.cert.write_bytes(b"")


def put_a_key_in_the_client_ca(files: TlsFiles, other: KeyPair) -> None:
    files.client_ca.write_bytes(other.key)


@pytest.mark.parametrize(
    ("break_files", "message"),
    [
        (use_a_key_of_another_certificate, "server.key is not an unencrypted PEM private key"),
        (use_an_encrypted_key, "(encrypted private keys are not supported)"),
        (empty_the_certificate, "server.pem is not a PEM certificate chain"),
        (put_a_key_in_the_client_ca, "client-ca.pem is not a PEM CA certificate bundle"),
    ],
)
def test_tls_files_that_do_not_load_are_refused_with_the_file_and_reason(
    break_files, message, files, server_ca
):
    break_files(files, server_ca.issue("localhost", server=True))
    settings = make_settings(
        None, tls_cert_file=files.cert, tls_key_file=files.key, tls_client_ca_file=files.client_ca
    )
    with pytest.raises(TlsConfigError) as raised:
        server_credentials(settings)
    assert message in str(raised.value)
