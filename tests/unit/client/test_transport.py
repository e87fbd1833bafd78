"""The client's transport arguments: plaintext unless asked, TLS from PEM paths or bytes, and
mistakes refused before any connection (library and `itirp-cli`)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from itirp_client.cli import app
from itirp_client.transport import channel_credentials
from tests.tls_certs import issue_certs


def test_no_tls_arguments_is_plaintext() -> None:
    assert channel_credentials() is None
    assert channel_credentials(tls=False) is None


def test_a_ca_path_or_bytes_or_tls_alone_turns_tls_on(tmp_path: Path) -> None:
    certs = issue_certs(tmp_path)
    for credentials in (
        channel_credentials(ca=certs.ca),
        channel_credentials(ca=str(certs.ca)),
        channel_credentials(ca=certs.ca.read_bytes(), cert=certs.client_cert, key=certs.client_key),
        channel_credentials(tls=True),
    ):
        assert isinstance(credentials, grpc.ChannelCredentials)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cert": "client.pem"}, "a client certificate needs its key"),
        ({"key": "client.key"}, "a client certificate needs its key"),
        ({"ca": "ca.pem", "tls": False}, "tls=False with a CA"),
        ({"ca": "/nowhere/ca.pem"}, "cannot read the CA certificate /nowhere/ca.pem"),
    ],
)
def test_mistakes_are_refused_before_connecting(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        channel_credentials(**arguments)  # type: ignore[arg-type]


def test_cli_refuses_a_tls_file_that_is_not_there(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        app.main(["whoami", "--ca", "/nowhere/ca.pem"])
    assert exited.value.code == 2
    assert "--ca /nowhere/ca.pem: no such file" in capsys.readouterr().err
