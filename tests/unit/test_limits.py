"""The one table of input bounds (itirp/limits.py) and the table docs/api.md shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from itirp.errors import InvalidArgument, Reason
from itirp.limits import ECHO_CHARS, check_length, limits_table, max_length, prefix

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _documented_table() -> list[str]:
    body = API_DOC.read_text().split("## Limits on every input", 1)[1].split("\n## ", 1)[0]
    lines = body.splitlines()
    start = lines.index("| input | at most |")
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def test_docs_show_the_limits_table_of_the_code() -> None:
    # When this fails, paste `python -c "from itirp.limits import limits_table; print(*limits_table(), sep=chr(10))"`.
    assert _documented_table() == limits_table()


def test_a_field_not_listed_has_the_default_bound() -> None:
    assert max_length("username") == 64
    assert max_length("some_new_field") == 256


def test_a_prefix_quotes_a_short_value_whole_and_a_long_one_cut() -> None:
    assert prefix("ABC") == "ABC"
    assert prefix("x" * 10_000) == "x" * ECHO_CHARS + "…"


def test_check_length_refuses_an_over_long_value_with_its_bound_and_a_short_quote() -> None:
    check_length("username", "u" * 64)

    with pytest.raises(InvalidArgument) as info:
        check_length("username", "u" * 1_000_000)

    assert info.value.reason is Reason.VALUE_TOO_LONG
    assert info.value.metadata == {"field": "username", "max_length": "64"}
    assert len(info.value.message) < 120
