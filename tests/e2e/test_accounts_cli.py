"""`itirp-cli desks|accounts|entitlements|entitle` and `submit --account` against a real `itirp serve`."""

from __future__ import annotations

from tests.e2e.test_cli import desk


def test_a_trader_sees_their_accounts_and_an_admin_entitles_them(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    trader, risk, admin = (desk(server, tmp_path, u) for u in ("trader2", "risk1", "admin"))

    desks = trader.ok("desks")
    accounts = risk.ok("accounts", "--desk", "macro")
    mine = trader.json("entitlements")
    refused = trader("submit", "AAPL", "BUY", "10", "150.50", "--account", "EQ-PROP")
    entitled = admin.ok("entitle", "trader2", "--account", "eq-prop", "--account", "MACRO-PROP", "--reason", "cover")
    booked = trader.json("submit", "AAPL", "BUY", "10", "150.50", "--account", "EQ-PROP")
    default = trader.ok("submit", "AAPL", "BUY", "10", "150.50")

    assert [line.split()[0] for line in desks.splitlines()] == ["DESK", "MACRO"]
    assert [line.split()[0] for line in accounts.splitlines()] == ["ACCOUNT", "MACRO-CLIENT-1", "MACRO-PROP"]
    assert "trader1, trader2" in accounts
    assert [(e["username"], e["default_account"]) for e in mine] == [("trader2", "MACRO-PROP")]
    assert refused.returncode == 3
    assert "not entitled" in refused.stderr
    assert "EQ-PROP, MACRO-PROP" in entitled
    assert (booked["order"]["account"], booked["order"]["desk"]) == ("EQ-PROP", "EQUITIES")
    assert "EQ-PROP (desk EQUITIES)" in default
    assert server.stop() == 0
