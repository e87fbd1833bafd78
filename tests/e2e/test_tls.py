"""TLS and mutual TLS from outside: `itirp serve --tls-cert/--tls-key[/--tls-client-ca]` as a
process, grpcurl with `-cacert` (and `-cert`/`-key`), and `itirp-cli --ca` (and `--cert`/`--key`);
and the refusal of plaintext on a non-loopback address without `--insecure`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, run
from tests.tls_certs import Certs, issue_certs

CLI = BIN / "itirp-cli"
#: grpcurl's dial deadline where the server refuses the connection (plaintext to a TLS port, TLS
#: without the client certificate mTLS wants): grpcurl ends a refused dial only at its deadline
#: (10 s by default). 3 s is ample for a loopback dial that would succeed (the TLS calls above it
#: take ~1 s, process start included).
REFUSED_DIAL_SECONDS = "3"


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return issue_certs(tmp_path / "tls")


def tls_args(certs: Certs, *, mutual: bool = False) -> tuple[str, ...]:
    args = ("--tls-cert", str(certs.server_cert), "--tls-key", str(certs.server_key))
    return (*args, "--tls-client-ca", str(certs.ca)) if mutual else args


def serving(server) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return next(line for line in server.log_lines() if line["msg"] == "serving")


def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    return run(BIN / "grpcurl", *args)


def cli(tmp_path: Path, address: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}
    env = {**inherited, "ITIRP_SERVER": address, "ITIRP_CLI_CONFIG": str(tmp_path / "cli" / "tokens.json")}
    return run(CLI, *args, env=env, input=stdin)


def test_grpcurl_and_the_cli_over_tls(start_server, certs: Certs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Arrange: a server process speaking TLS only
    server = start_server(None, *tls_args(certs))
    assert serving(server)["transport"] == "tls"
    # Act: grpcurl trusting the throwaway CA: reflection, health, a login
    listed = grpcurl("-cacert", str(certs.ca), server.address, "list")
    health = grpcurl("-cacert", str(certs.ca), server.address, "grpc.health.v1.Health/Check")
    login = grpcurl(
        "-cacert",
        str(certs.ca),
        "-d",
        '{"username": "trader1", "password": "trader123"}',
        server.address,
        "itirp.v1.AuthService/Login",
    )
    # a refusal ends in grpcurl's dial deadline (default 10 s; a handshake on loopback takes ms)
    plaintext = grpcurl("-connect-timeout", REFUSED_DIAL_SECONDS, "-plaintext", server.address, "list")
    # Assert
    assert "itirp.v1.OrderService" in listed.stdout.split(), listed.stderr
    assert "grpc.health.v1.Health" in listed.stdout.split()
    assert json.loads(health.stdout)["status"] == "SERVING"
    assert "access_token" in json.loads(login.stdout)
    assert plaintext.returncode != 0
    assert "Failed to dial target host" in plaintext.stderr, plaintext.stderr  # refused, not a usage error

    # Act: the CLI with --ca, a login then a command on the saved session
    logged_in = cli(tmp_path, server.address, "--ca", str(certs.ca), "login", "--username", "trader1",
                    "--password-stdin", stdin="trader123\n")  # fmt: skip
    whoami = cli(tmp_path, server.address, "whoami", "--json", "--ca", str(certs.ca))
    without_ca = cli(tmp_path, server.address, "whoami")
    # Assert
    assert logged_in.returncode == 0, logged_in.stderr
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["username"] == "trader1"
    assert without_ca.returncode == 5
    assert "does it speak TLS only (--ca)?" in without_ca.stderr, without_ca.stderr


def test_mtls_wants_a_client_certificate_from_grpcurl_and_the_cli(start_server, certs: Certs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Arrange
    server = start_server(None, *tls_args(certs, mutual=True))
    assert serving(server)["transport"] == "mtls"
    client = ("-cacert", str(certs.ca), "-cert", str(certs.client_cert), "-key", str(certs.client_key))
    # Act
    with_cert = grpcurl(*client, server.address, "grpc.health.v1.Health/Check")
    refused_dial = ("-connect-timeout", REFUSED_DIAL_SECONDS)
    without_cert = grpcurl(*refused_dial, "-cacert", str(certs.ca), server.address, "grpc.health.v1.Health/Check")
    tls = ("--ca", str(certs.ca), "--cert", str(certs.client_cert), "--key", str(certs.client_key))
    logged_in = cli(tmp_path, server.address, *tls, "login", "--username", "trader1", "--password-stdin",
                    stdin="trader123\n")  # fmt: skip
    refused = cli(tmp_path, server.address, "--ca", str(certs.ca), "whoami")
    # Assert
    assert json.loads(with_cert.stdout)["status"] == "SERVING", with_cert.stderr
    assert without_cert.returncode != 0
    assert "Failed to dial target host" in without_cert.stderr, without_cert.stderr
    assert logged_in.returncode == 0, logged_in.stderr
    assert refused.returncode == 5
    assert "want a client certificate (--cert, --key)?" in refused.stderr, refused.stderr


def test_cli_by_client_certificate_alone(start_server, certs: Certs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Arrange: mutual TLS, users by certificate; risk1's certificate, no login
    server = start_server(None, *tls_args(certs, mutual=True), "--tls-client-cert-users")
    cert, key = certs.client("risk1")
    tls = ("--ca", str(certs.ca), "--cert", str(cert), "--key", str(key))
    # Act
    whoami = cli(tmp_path, server.address, *tls, "whoami", "--json")
    limits = cli(tmp_path, server.address, *tls, "limits", "show")
    # Assert
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["username"] == "risk1"
    assert limits.returncode == 0, limits.stderr


def test_cli_refuses_a_certificate_without_its_key(tmp_path: Path, certs: Certs) -> None:
    result = cli(tmp_path, "127.0.0.1:1", "--cert", str(certs.client_cert), "whoami")
    assert result.returncode == 2
    assert "--cert and --key go together" in result.stderr


def test_plaintext_on_a_non_loopback_address_is_refused_before_binding(tmp_path: Path) -> None:
    # Arrange: the environment of a server process, no TLS, no --insecure
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}
    data_dir = tmp_path / "data"
    # Act: the refusal is the configuration's, before anything is opened or bound
    result = run(
        BIN / "itirp", "serve", "--listen", "0.0.0.0:0", "--data-dir", str(data_dir), env=inherited, timeout=60
    )
    # Assert
    assert result.returncode == 2
    assert "without TLS" in result.stderr
    assert "--insecure" in result.stderr
    assert not data_dir.exists()


def test_a_tls_file_that_cannot_be_read_stops_the_start_with_exit_2(tmp_path: Path, certs: Certs) -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ITIRP_")}
    missing = tmp_path / "missing.pem"
    result = run(
        BIN / "itirp", "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"),
        "--tls-cert", str(missing), "--tls-key", str(certs.server_key), env=inherited, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"cannot read the TLS certificate {missing}" in result.stderr
