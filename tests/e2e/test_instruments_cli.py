"""`itirp instruments import|list` from the shell, and the instruments a real server then serves."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import BIN, run
from tests.e2e.test_cli import desk

ITIRP = BIN / "itirp"

DESK = """\
symbol,name,currency,tick_size,lot_size,min_quantity,max_quantity,price_band_percent,reference_price
ACME,Acme Corporation,USD,0.05,100,100,10000,10,20.00
WIDGET,Widget plc,GBP,0.01,1,1,500000,,
"""


def importing(path: Path, data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = run(ITIRP, "instruments", "import", path, "--data-dir", data_dir, *args)
    return result.returncode, result.stdout, result.stderr


def test_import_into_a_fresh_data_folder_then_a_server_lists_them(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Arrange
    data_dir, csv_path = tmp_path / "data", tmp_path / "desk.csv"
    csv_path.write_text(DESK)

    # Act
    code, out, err = importing(csv_path, data_dir, "--reason", "the new desk")
    csv_path.write_text(DESK.replace("Widget plc", "Widget Group plc"))
    recode, reout, _ = importing(csv_path, data_dir, "--user", "ops")
    listed = run(ITIRP, "instruments", "list", "--data-dir", data_dir)
    server = start_server(data_dir)
    served = {i["symbol"]: i for i in desk(server, tmp_path, "trader1").json("instruments", "list")}

    # Assert
    assert code == 0, err
    assert out.splitlines() == ["listed  ACME", "listed  WIDGET", "2 recorded, 0 unchanged, as system: the new desk"]
    assert recode == 0
    assert reout.splitlines() == [
        "changed WIDGET: name Widget plc -> Widget Group plc",
        "1 recorded, 1 unchanged, as ops: imported from desk.csv",
    ]
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["SYMBOL", "ACME", "WIDGET"]
    assert served["ACME"]["tick_size"] == "0.05"
    assert served["ACME"]["updated_by"] == "system"
    assert served["WIDGET"]["name"] == "Widget Group plc"
    assert served["WIDGET"]["updated_by"] == "ops"
    assert server.stop() == 0


def test_a_risk_manager_halts_and_resumes_from_the_terminal(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    risk, trader = desk(server, tmp_path, "risk1"), desk(server, tmp_path, "trader1")

    halted = risk.ok("instruments", "halt", "aapl", "--reason", "news pending")
    shown = risk.ok("instruments", "show", "AAPL")
    refused = trader("submit", "AAPL", "BUY", "10", "150.50")
    not_allowed = trader("instruments", "halt", "MSFT", "--reason", "try")
    resumed = risk.ok("instruments", "resume", "AAPL", "--reason", "news out")

    assert halted.strip() == "AAPL is HALTED (news pending)"
    assert "HALTED" in shown
    assert "risk1" in shown
    assert refused.returncode == 3
    assert "not active" in refused.stderr.lower() or "HALTED" in refused.stderr
    assert not_allowed.returncode == 3
    assert resumed.strip() == "AAPL is ACTIVE (news out)"
    assert server.stop() == 0


def test_a_bad_file_names_its_line_and_records_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data_dir, csv_path = tmp_path / "data", tmp_path / "bad.csv"
    csv_path.write_text(DESK + "GADGET,Gadget Inc.,USD,0.001.5,1,1,100,,\n")

    code, out, err = importing(csv_path, data_dir)

    assert code == 2
    assert out == ""
    assert err.strip() == f"itirp: {csv_path}: line 4: tick_size: not a decimal number ('0.001.5')"
    assert not (data_dir / "events.db").exists()


def test_import_is_refused_while_the_server_holds_the_data_folder(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data_dir, csv_path = tmp_path / "data", tmp_path / "desk.csv"
    csv_path.write_text(DESK)
    server = start_server(data_dir)

    code, _, err = importing(csv_path, data_dir)
    listed = run(ITIRP, "instruments", "list", "--data-dir", data_dir)

    assert code == 1
    assert "open for writing elsewhere" in err
    assert "is the server running?" in err
    assert listed.returncode == 0  # reading is safe while it runs
    assert "AAPL" in listed.stdout
    assert "ACME" not in listed.stdout
    assert server.stop() == 0
