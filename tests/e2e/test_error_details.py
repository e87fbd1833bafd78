"""grpcurl shows the details of a refused call, resolved through server reflection alone (no proto
files): what any client without our code sees."""

from __future__ import annotations

import json

from tests.e2e.conftest import BIN, run


def grpcurl(*args: str) -> tuple[int, str]:
    result = run(BIN / "grpcurl", "-plaintext", *args)
    return result.returncode, result.stdout + result.stderr


def login_token(address: str, username: str, password: str) -> str:
    credentials = json.dumps({"username": username, "password": password})
    _, out = grpcurl("-d", credentials, address, "itirp.v1.AuthService/Login")
    return str(json.loads(out)["access_token"])


def test_grpcurl_shows_the_error_info_of_a_refused_call_as_json(start_server) -> None:  # type: ignore[no-untyped-def]
    # Arrange
    server = start_server()
    token = login_token(server.address, "trader1", "trader123")

    # Act
    code, out = grpcurl(
        "-format-error",
        "-H", f"authorization: Bearer {token}",
        "-H", "x-request-id: e2e-1",
        "-d", '{"enabled": true, "reason": "test"}',
        server.address, "itirp.v1.RiskService/SetKillSwitch",
    )  # fmt: skip

    # Assert
    assert code != 0
    status = json.loads(out)
    assert status["code"] == 7  # PERMISSION_DENIED
    assert status["message"] == "RiskService.SetKillSwitch requires the RISK_MANAGER role or above; you are TRADER"
    assert status["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "ROLE_REQUIRED",
            "domain": "itirp.v1",
            "metadata": {
                "method": "/itirp.v1.RiskService/SetKillSwitch",
                "required_role": "ROLE_RISK_MANAGER",
                "role": "ROLE_TRADER",
            },
        }
    ]


def test_grpcurl_shows_bad_request_and_retry_info(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    token = login_token(server.address, "trader1", "trader123")

    _, bad_field = grpcurl(
        "-format-error",
        "-H", f"authorization: Bearer {token}",
        "-d", '{"symbol": "AAPL", "side": "SIDE_BUY", "quantity": 10, "price": "150.12345"}',
        server.address, "itirp.v1.OrderService/SubmitOrder",
    )  # fmt: skip
    guess = '{"username": "mallory", "password": "guess"}'
    for _ in range(5):
        grpcurl("-d", guess, server.address, "itirp.v1.AuthService/Login")
    _, locked = grpcurl("-format-error", "-d", guess, server.address, "itirp.v1.AuthService/Login")

    bad_request = json.loads(bad_field)["details"][1]
    assert bad_request["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert [v["field"] for v in bad_request["field_violations"]] == ["price"]
    info, retry = json.loads(locked)["details"]
    assert (info["reason"], info["metadata"]["username"]) == ("LOCKED_OUT", "mallory")
    assert retry == {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retry_delay": f"{info['metadata']['retry_after_seconds']}s",
    }


def test_the_default_error_output_lists_the_details_and_the_request_id_trailer(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server()

    _, out = grpcurl("-v", "-H", "x-request-id: e2e-2", server.address, "itirp.v1.AuthService/WhoAmI")

    assert "x-request-id: e2e-2" in out
    assert "  Code: Unauthenticated" in out
    assert "  Details:" in out
    assert '"reason":"CREDENTIALS_MISSING"' in out


def test_reflection_serves_the_detail_types(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server()

    for name in ("google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.RetryInfo"):
        code, out = grpcurl(server.address, "describe", name)
        assert code == 0, out
        assert f"{name} is a message" in out
