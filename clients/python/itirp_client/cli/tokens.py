"""The saved sessions: one token per server in a per-user file (mode 0600), and the clients that
use it (a token the client refreshed meanwhile is saved at the end)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from itirp_client.aio import AsyncClient
from itirp_client.cli.base import EXIT_ERROR, EXIT_REFUSED, CliError, Transport
from itirp_client.sync import Client

__all__ = [
    "async_session",
    "forget",
    "load_tokens",
    "remember",
    "save_tokens",
    "saved_token",
    "session",
    "token_expiry",
    "tokens_path",
]


def tokens_path() -> Path:
    if explicit := os.environ.get("ITIRP_CLI_CONFIG"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "itirp" / "tokens.json"


def load_tokens(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the token file {path}: {exc}", EXIT_ERROR) from None
    return data if isinstance(data, dict) else {}


def save_tokens(path: Path, tokens: dict[str, dict[str, Any]]) -> None:
    """Write atomically: a fresh 0600 file in the same folder, then rename over the old one."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=path.parent)  # os.open(..., O_EXCL, 0o600)
    except OSError as exc:
        raise CliError(f"cannot write the token file {path}: {exc}", EXIT_ERROR) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(tokens, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.chmod(path, 0o600)


def remember(server: str, token: str, username: str, expires_at: float) -> Path:
    path = tokens_path()
    tokens = load_tokens(path)
    tokens[server] = {"token": token, "username": username, "expires_at": int(expires_at)}
    save_tokens(path, tokens)
    return path


def forget(server: str) -> None:
    path = tokens_path()
    tokens = load_tokens(path)
    if tokens.pop(server, None) is not None:
        save_tokens(path, tokens)


def saved_token(server: str) -> str:
    entry = load_tokens(tokens_path()).get(server) or {}
    token = entry.get("token") if isinstance(entry, dict) else None
    if not token:
        raise CliError(f"not logged in to {server}: run itirp-cli login", EXIT_REFUSED)
    return str(token)


def token_expiry(token: str) -> int:
    """The `exp` claim of a JWT (not verified: only to note when the saved token expires)."""
    try:
        payload = token.split(".")[1]
        return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return 0


@contextlib.contextmanager
def session(server: str, transport: Transport | None = None) -> Iterator[Client]:
    """A client on the saved token (over TLS when `transport` says so; with a client certificate
    and no saved token, the user the certificate names); a token the client refreshed meanwhile
    is saved at the end."""
    transport = transport or Transport()
    token = _token_unless_certificate(server, transport)
    if token:
        client = Client.from_token(server, token, **transport.options)
    else:
        client = Client.by_certificate(server, **transport.options)
    try:
        yield client
    finally:
        new_token = client.token
        with contextlib.suppress(Exception):
            client.close()
        _save_if_refreshed(server, token, new_token, client.username)


@contextlib.asynccontextmanager
async def async_session(server: str, transport: Transport | None = None) -> AsyncIterator[AsyncClient]:
    """The same for the live streams, which run on asyncio so that Ctrl-C cancels the call cleanly."""
    transport = transport or Transport()
    token = _token_unless_certificate(server, transport)
    if token:
        client = await AsyncClient.from_token(server, token, **transport.options)
    else:
        client = await AsyncClient.by_certificate(server, **transport.options)
    try:
        yield client
    finally:
        new_token = client.token
        with contextlib.suppress(Exception):
            await client.close()
        _save_if_refreshed(server, token, new_token, client.username)


def _token_unless_certificate(server: str, transport: Transport) -> str:
    """The saved token; "" when there is none but a client certificate may name the user."""
    if transport.cert:
        entry = load_tokens(tokens_path()).get(server) or {}
        return str(entry.get("token") or "") if isinstance(entry, dict) else ""
    return saved_token(server)


def _save_if_refreshed(server: str, old: str, new: str, username: str) -> None:
    if new and new != old:
        remember(server, new, username, token_expiry(new))
