"""Secrets the server reads from files named by its settings (the Redis
password, the language model's API key), so that no secret is a flag's
value, in the environment or in the start-up log."""

from __future__ import annotations

from pathlib import Path

from memrpc.config import SettingsError


def read_secret(path: Path, flag: str) -> str:
    """The secret of the file `path` (surrounding white space dropped);
    raises `SettingsError` naming `flag` when it cannot be read or is empty."""
    try:
        secret = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as err:
        raise SettingsError(f"{flag}: cannot read {path}: {err}") from None
    if not secret:
        raise SettingsError(f"{flag}: {path} is empty")
    return secret
