"""Settings are declared once (`memrpc.config`): every one has a flag, a
variable and help; values of every type are read from either; a value out
of range is refused from either, and by `Settings.validate()` for settings
built in code, with a message naming the flag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from memrpc import cli
from memrpc.config import GROUPS, SETTINGS, Settings, SettingsError
from memrpc.embedding import BatchingEmbedder
from memrpc.server import MemrpcServer

BY_NAME = {each.name: each for each in SETTINGS}


def test_every_setting_is_declared_with_a_flag_a_variable_help_and_a_group() -> None:
    assert {each.name for each in SETTINGS} == set(Settings.__dataclass_fields__)
    for each in SETTINGS:
        assert each.flag == "--" + each.name.replace("_", "-")
        assert each.env == "MEMRPC_" + each.name.upper()
        assert each.help
        assert not each.help.endswith(".")
        assert each.group in GROUPS
        each.check(each.default)  # every default is within its own range
    Settings().validate()


def test_help_lists_every_setting_with_its_variable_and_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for each in SETTINGS:
        assert each.flag in text
        assert f"[{each.env}]" in text
        assert f"(default: {each.default_text})" in text
    for group in GROUPS:
        assert f"{group}:" in text


def serve_settings(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str] | None = None
) -> Settings:
    """The settings `memrpc serve argv` would serve with (it is not started)."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    served: list[Settings] = []

    async def run(settings: Settings) -> None:
        served.append(settings)

    monkeypatch.setattr("memrpc.server.run", run)
    cli.main(["serve", *argv])
    return served[0]


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("listen", "127.0.0.1:7", "127.0.0.1:7"),
        ("redis_url", "redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0"),
        ("data_dir", "some/dir", Path("some/dir")),
        ("embed_cache_size", "0", 0),
        ("shutdown_grace", "0.5", 0.5),
        ("log_level", "debug", "DEBUG"),
        ("allow_unauthenticated", "yes", True),
        ("allow_unauthenticated", "off", False),
        ("max_batch_items", "7", 7),
        ("log_format", "JSON", "json"),
        ("access_log_level", "off", "OFF"),
        ("otlp_endpoint", "http://127.0.0.1:4317", "http://127.0.0.1:4317"),
    ],
)
def test_a_variable_and_a_flag_set_a_setting_and_the_flag_wins(
    monkeypatch: pytest.MonkeyPatch, name: str, text: str, value: Any
) -> None:
    each = BY_NAME[name]
    assert getattr(serve_settings(monkeypatch, [], {each.env: text}), name) == value
    assert getattr(serve_settings(monkeypatch, [f"{each.flag}={text}"]), name) == value
    if each.default is not None:  # an unset one has no flag text
        flag_wins = serve_settings(
            monkeypatch, [f"{each.flag}={each.default_text}"], {each.env: text}
        )
        assert getattr(flag_wins, name) == each.default


def test_a_boolean_flag_alone_means_true_and_unset_variables_mean_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEMRPC_MAX_TAILS", "")
    settings = serve_settings(monkeypatch, ["--allow-unauthenticated"])
    assert settings.allow_unauthenticated is True
    assert settings.max_tails == Settings().max_tails


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("workers", "0", "--workers must be at least 1"),
        ("workers", "two", "--workers must be an integer, not 'two'"),
        ("shutdown_grace", "-1", "--shutdown-grace must be at least 0"),
        ("log_level", "LOUD", "--log-level must be DEBUG, INFO, WARNING or ERROR, not 'LOUD'"),
        ("allow_unauthenticated", "maybe", "--allow-unauthenticated must be true or false"),
        ("max_message_bytes", str(2**31), "--max-message-bytes must be 1 to 2,147,483,647"),
        ("tail_max_lag_events", "99", "--tail-max-lag-events must be at least 100"),
        ("event_log_max_len", "1000001", "--event-log-max-len must be 1 to 1,000,000, not 1000001"),
        ("max_batch_items", "abc", "--max-batch-items must be an integer, not 'abc'"),
        ("redis_start_timeout", "soon", "--redis-start-timeout must be a number, not 'soon'"),
        ("shutdown_grace", "nan", "--shutdown-grace must be a number, not 'nan'"),
        ("redis_url", "ftp://x", "--redis-url 'ftp://x' is not a Redis URL"),
        ("redis_url", "redis://h:99999", "--redis-url 'redis://h:99999' is not a Redis URL"),
        ("redis_password_file", "/nonexistent", "--redis-password-file needs --redis-url"),
        ("tls_cert_file", "/nonexistent", "--tls-cert-file and --tls-key-file go together"),
        ("otlp_endpoint", "otel:4317", "--otlp-endpoint 'otel:4317' is not a collector URL"),
        ("log_format", "xml", "--log-format must be text or json, not 'xml'"),
    ],
)
def test_a_bad_value_is_refused_from_the_flag_and_from_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    error: str,
) -> None:
    each = BY_NAME[name]
    for argv, env in (([f"{each.flag}={text}"], {}), ([], {each.env: text})):
        with pytest.raises(SystemExit) as exited:
            serve_settings(monkeypatch, argv, env)
        assert exited.value.code == 2
        # One line, naming the variable when the value came from one.
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith("memrpc serve: error: ")
        assert error in line
        if env and " must be " in error:  # the value's own fault, not a rule's
            assert line.startswith(f"memrpc serve: error: {each.env}: ")
        monkeypatch.delenv(each.env, raising=False)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"max_tails": 0}, "--max-tails must be at least 1"),
        ({"workers": "2"}, "--workers must be an integer, not '2'"),
        ({"embed_threads": True}, "--embed-threads must be an integer"),
        ({"shutdown_grace": 1}, None),  # an int is a fine number of seconds
        ({"data_dir": "data"}, "--data-dir must be a path"),
        ({"log_level": "debug"}, "--log-level must be DEBUG, INFO, WARNING or ERROR"),
        ({"jwt_audience": "memrpc"}, "--jwt-issuer and --jwt-audience need --jwks-file"),
        ({"embed_queue_max": 99}, "--embed-queue-max must be at least --max-batch-items"),
        ({"embed_queue_max": 10, "max_batch_items": 10}, None),
        ({"tenant_rate": -1}, "--tenant-rate must be at least 0"),
    ],
)
def test_validate_checks_settings_built_in_code(
    overrides: dict[str, object], error: str | None
) -> None:
    settings = make_settings(None, **overrides)
    if error is None:
        settings.validate()
        return
    with pytest.raises(SettingsError) as raised:
        settings.validate()
    assert error in str(raised.value)


async def test_a_server_does_not_start_with_invalid_settings(embedder: BatchingEmbedder) -> None:
    server = MemrpcServer(make_settings(None, max_batch_items=0), embedder=embedder)
    with pytest.raises(SettingsError, match="--max-batch-items must be at least 1"):
        await server.start()
