"""Access through real processes: `itirp-cli` keeps its saved session fresh and says "session
expired" only when the server refuses to refresh it; `itirp users disable` ends a user's open
`itirp-cli watch` with the reason."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.e2e.conftest import BIN, run
from tests.e2e.test_cli import desk, wait_until_live

ITIRP = [sys.executable, "-m", "itirp"]


def _saved(terminal) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(terminal.config.read_text())[terminal.address]


def test_the_cli_refreshes_its_saved_token_and_says_session_expired_only_when_refused(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Arrange: 4 s tokens (whole seconds: `iat` and `exp` are); a trader logged in with itirp-cli
    ttl = 4
    server = start_server(env={"ITIRP_TOKEN_TTL_SECONDS": str(ttl)})
    trader = desk(server, tmp_path, "trader1")
    first = _saved(trader)

    # Act 1: a command past half the token's life (0.5 s past it) refreshes the saved token
    threading.Event().wait(max(0.0, first["expires_at"] - ttl + ttl / 2 + 0.5 - time.time()))
    assert "trader1" in trader.ok("whoami")
    second = _saved(trader)
    assert second["token"] != first["token"]
    assert second["expires_at"] > first["expires_at"]

    # Act 2: past the first token's expiry, the session goes on with the refreshed one
    threading.Event().wait(max(0.0, first["expires_at"] + 1 - time.time()))
    assert "trader1" in trader.ok("whoami")

    # Act 3: left alone until the saved token has expired (past the server's 5 s leeway), the refresh
    # is refused
    threading.Event().wait(max(0.0, _saved(trader)["expires_at"] + 6 - time.time()))
    result = trader("positions")
    assert result.returncode == 3, result
    assert "session expired, log in again" in result.stderr
    assert "Traceback" not in result.stderr


def test_disabling_a_user_ends_their_watch_with_the_reason(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = start_server(data)
    trader = desk(server, tmp_path, "trader1")
    watch = trader.popen("watch")
    wait_until_live(watch)

    disabled = run(*ITIRP, "users", "disable", "trader1", "--reason", "left the desk", "--data-dir", data)
    assert disabled.returncode == 0, disabled.stderr

    try:
        _, err = watch.communicate(timeout=15)  # a bound, not a measurement: the server ends it within seconds
    except subprocess.TimeoutExpired:
        watch.kill()
        raise AssertionError("itirp-cli watch still running 15 s after the user was disabled") from None
    assert watch.returncode == 3, err
    assert "disabled" in err
    assert "Traceback" not in err
    assert (BIN / "itirp-cli").exists()


def test_the_users_and_access_recipes_of_the_operations_guide(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    from tests.e2e.test_docs import DOCS, output_matches, recipes

    section = (DOCS / "operations.md").read_text().split("## Users and access", 1)[1].split("\n## ", 1)[0]
    pairs = recipes(section)
    assert len(pairs) >= 4
    server = start_server(tmp_path / "data")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    for command, expected in pairs:
        result = run("bash", "-c", command, cwd=tmp_path, env=env)
        got = [line.rstrip() for line in (result.stdout + result.stderr).rstrip("\n").split("\n")]
        assert output_matches(expected.rstrip("\n").split("\n"), got), f"$ {command}\n{expected}\n---\n{got}"
    assert server.stop() == 0
