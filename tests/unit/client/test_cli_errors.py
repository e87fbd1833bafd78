"""How `itirp-cli` words a typed error: decided by the error's class and reason, not its message."""

from __future__ import annotations

from itirp_client.cli.app import explain
from itirp_client.cli.base import EXIT_ERROR, EXIT_REFUSED, EXIT_UNREACHABLE, Transport
from itirp_client.errors import DuplicateOrder, ItirpError, NotAuthenticated, ServerUnavailable

SERVER = "127.0.0.1:50051"


def test_an_unavailable_server_that_said_why_could_not_carry_it_out() -> None:
    error = explain(ServerUnavailable("the event log failed", code="UNAVAILABLE", reason="STORE_UNAVAILABLE"), SERVER)
    assert error.code == EXIT_UNREACHABLE
    assert error.message.startswith(f"the ITIRP server at {SERVER} could not carry this out, nothing was done")


def test_an_unavailable_without_a_reason_never_reached_a_server() -> None:
    error = explain(ServerUnavailable("failed to connect to all addresses", code="UNAVAILABLE"), SERVER)
    assert error.code == EXIT_UNREACHABLE
    assert error.message.startswith(f"cannot reach the ITIRP server at {SERVER}: is it running?")
    late = explain(ServerUnavailable("Deadline Exceeded", code="DEADLINE_EXCEEDED", reason="SHUTTING_DOWN"), SERVER)
    assert late.message.startswith("cannot reach")


def test_refusals_and_the_rest() -> None:
    assert explain(DuplicateOrder("used", code="ALREADY_EXISTS"), SERVER).message == "duplicate order: used"
    assert explain(NotAuthenticated("expired"), SERVER).code == EXIT_REFUSED
    other = explain(ItirpError("boom", code="INTERNAL"), SERVER)
    assert (other.code, other.message) == (EXIT_ERROR, "the server answered with an error (INTERNAL): boom")


def test_an_unreachable_server_hints_at_tls_by_how_the_call_tried() -> None:
    # Arrange
    closed = ServerUnavailable("failed to connect to all addresses; last error: Socket closed", code="UNAVAILABLE")
    handshake = ServerUnavailable(
        "failed to connect: Ssl handshake failed: CERTIFICATE_VERIFY_FAILED", code="UNAVAILABLE"
    )
    # Act
    plaintext = explain(closed, SERVER, Transport())
    with_tls = explain(closed, SERVER, Transport(ca="ca.pem"))
    failed_handshake = explain(handshake, SERVER, Transport(ca="ca.pem"))
    # Assert
    assert "does it speak TLS only (--ca)?" in plaintext.message
    assert "want a client certificate (--cert, --key)?" in with_tls.message
    assert failed_handshake.message.startswith(f"no TLS connection to {SERVER}: check --ca")
    assert {plaintext.code, with_tls.code, failed_handshake.code} == {EXIT_UNREACHABLE}
