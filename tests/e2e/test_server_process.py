"""The real `itirp` command: serve, signals, flags, users, and grpcurl against it."""

from __future__ import annotations

import os
import signal

import pytest

from itirp.config import markdown_table
from tests.e2e.conftest import BIN, run

FIVE_SERVICES = {
    "itirp.v1.AuthService",
    "itirp.v1.OrderService",
    "itirp.v1.RiskService",
    "itirp.v1.AuditService",
    "itirp.v1.SystemService",
}


def grpcurl(*args: str) -> str:
    result = run(BIN / "grpcurl", "-plaintext", *args)
    return result.stdout + result.stderr


def login(address: str, username: str, password: str) -> str:
    out = grpcurl(
        "-d", f'{{"username": "{username}", "password": "{password}"}}', address, "itirp.v1.AuthService/Login"
    )
    for line in out.splitlines():
        if '"access_token"' in line:
            return line.split('"')[3]
    raise AssertionError(out)


def test_grpcurl_lists_the_five_services_with_health_and_reflection(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    listed = set(grpcurl(server.address, "list").split())
    assert listed >= FIVE_SERVICES
    assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= listed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_drains_and_exits_zero(start_server, sig: int) -> None:  # type: ignore[no-untyped-def]
    server = start_server()

    assert server.stop(sig) == 0

    messages = [line["msg"] for line in server.log_lines()]
    assert "shutting down: health NOT_SERVING, draining" in messages
    assert messages[-1] == "server stopped"


def test_demo_users_warning_and_the_flag_that_turns_them_off(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with_demo = start_server(tmp_path / "a")
    assert any("demo users are ON" in line["msg"] and line["level"] == "WARNING" for line in with_demo.log_lines())
    assert login(with_demo.address, "trader1", "trader123")
    with_demo.stop()

    without = start_server(tmp_path / "b", "--no-demo-users")
    assert not any("demo users are ON" in line["msg"] for line in without.log_lines())
    assert "invalid username or password" in grpcurl(
        "-d", '{"username": "trader1", "password": "trader123"}', without.address, "itirp.v1.AuthService/Login"
    )
    without.stop()


def test_plain_asyncio_loop_on_request(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server(None, "--event-loop", "asyncio")
    token = login(server.address, "admin", "admin123")
    info = grpcurl("-H", f"authorization: Bearer {token}", server.address, "itirp.v1.SystemService/GetSystemInfo")
    assert '"event_loop": "asyncio"' in info


def test_environment_variables_configure_the_server(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(None, env={"ITIRP_DEMO_USERS": "0", "ITIRP_DATA_DIR": str(tmp_path / "ignored")})
    # the flag --data-dir beats the environment, ITIRP_DEMO_USERS=0 applies
    assert (tmp_path / "data" / "users.db").exists()
    assert not (tmp_path / "ignored").exists()
    assert "invalid username or password" in grpcurl(
        "-d", '{"username": "admin", "password": "admin123"}', server.address, "itirp.v1.AuthService/Login"
    )


def test_users_cli_manages_real_users_while_the_server_runs(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = start_server(data, "--no-demo-users")
    itirp = BIN / "itirp"

    added = run(
        itirp,
        "users",
        "add",
        "alice",
        "--role",
        "risk_manager",
        "--password-stdin",
        "--data-dir",
        data,
        input="s3cret-pass\n",
    )
    assert added.returncode == 0, added.stderr
    assert "created alice (RISK_MANAGER)" in added.stdout
    duplicate = run(
        itirp,
        "users",
        "add",
        "alice",
        "--role",
        "TRADER",
        "--password-stdin",
        "--data-dir",
        data,
        input="another-pass\n",
    )
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr
    bad_role = run(
        itirp, "users", "add", "bob", "--role", "CEO", "--password-stdin", "--data-dir", data, input="another-pass\n"
    )
    assert bad_role.returncode != 0
    assert "unknown role" in bad_role.stderr

    token = login(server.address, "alice", "s3cret-pass")
    assert "ROLE_RISK_MANAGER" in grpcurl(
        "-H", f"authorization: Bearer {token}", server.address, "itirp.v1.AuthService/WhoAmI"
    )

    changed = run(itirp, "users", "passwd", "alice", "--password-stdin", "--data-dir", data, input="n3w-password\n")
    assert changed.returncode == 0
    assert login(server.address, "alice", "n3w-password")

    listed = run(itirp, "users", "list", "--json", "--data-dir", data)
    assert '"username": "alice"' in listed.stdout
    assert '"role": "RISK_MANAGER"' in listed.stdout

    assert run(itirp, "users", "disable", "alice", "--data-dir", data).returncode == 0
    assert "invalid username or password" in grpcurl(
        "-d", '{"username": "alice", "password": "n3w-password"}', server.address, "itirp.v1.AuthService/Login"
    )
    assert run(itirp, "users", "disable", "nobody", "--data-dir", data).returncode != 0


def test_the_derived_environment_names_configure_the_server(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(None, env={"ITIRP_AUTH_DEMO_USERS": "0", "ITIRP_STREAMS_HEARTBEAT_SECONDS": "1"})
    # ITIRP_AUTH_DEMO_USERS is the name the rule derives; the former ITIRP_DEMO_USERS is its alias
    assert "invalid username or password" in grpcurl(
        "-d", '{"username": "admin", "password": "admin123"}', server.address, "itirp.v1.AuthService/Login"
    )


def test_config_command_shows_the_effective_settings_with_secrets_masked() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}
    env.update({"ITIRP_VENUE": "internal", "ITIRP_JWT_SECRET": "s" * 40})

    shown = run(BIN / "itirp", "config", env=env)
    table = run(BIN / "itirp", "config", "--markdown", env=env)
    refused = run(BIN / "itirp", "config", env={**env, "ITIRP_VENUE": "nasdaq"})

    assert shown.returncode == 0, shown.stderr
    assert "venue.kind = internal" in shown.stdout
    assert "s" * 40 not in shown.stdout
    assert "auth.jwt_secret = Secret('**********')" in shown.stdout
    assert table.stdout == markdown_table()
    assert refused.returncode == 2
    assert "venue must be simulated or internal" in refused.stderr
