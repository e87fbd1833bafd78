"""Run every recipe of docs/api.md, docs/matching.md, docs/risk.md, docs/accounts.md and
docs/sessions.md against a live server (the simulated venue for api.md and accounts.md, the
internal venue for matching.md and sessions.md, the demo desk's instruments and the simulated feed
for risk.md) and compare with the documented output."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, run

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def recipes(text: str) -> list[tuple[str, str]]:
    """(command block, expected output block) pairs: each `sh` block and the `text` block after it."""
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]
    pairs = []
    for (lang, body), (next_lang, next_body) in itertools.pairwise(blocks):
        if lang == "sh":
            assert next_lang == "text", f"sh block without a text block after it:\n{body}"
            pairs.append((body, next_body))
    return pairs


def _line_matches(pattern: str, line: str) -> bool:
    if "..." not in pattern:
        return pattern == line
    regex = ".*".join(re.escape(part) for part in pattern.split("..."))
    return re.fullmatch(regex, line) is not None


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; a line that is just `...` stands for any number of lines, and `...` inside a
    line for any text."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(output_matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and _line_matches(head, actual[0]) and output_matches(rest, actual[1:])


def test_matcher_is_strict_where_it_must_be() -> None:
    assert output_matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert output_matches(["x: ...!"], ["x: anything!"])
    assert not output_matches(["a", "d"], ["a", "b", "d"])
    assert not output_matches(["x: ...!"], ["x: anything?"])


#: The environment of a doc's server beyond the test desk's (tests/e2e/conftest.py).
SERVER_ENV = {
    "risk.md": {  # as `make run` starts: the demo desk's instruments and the simulated feed, faster
        "ITIRP_REFERENCE_DEMO_INSTRUMENTS": "1",
        "ITIRP_REFERENCE_INSTRUMENTS_FILE": "",
        "ITIRP_FEED_KIND": "simulated",
        "ITIRP_FEED_TICK_SECONDS": "0.1",
        "ITIRP_FEED_MARK_INTERVAL_SECONDS": "0.2",
        "ITIRP_ORDERS_DUPLICATE_WINDOW_MS": "500",  # make run's default (the test desk turns it off)
    },
}


@pytest.mark.parametrize(
    ("doc", "server_args"),
    [
        ("api.md", ()),
        ("matching.md", ("--venue", "internal")),
        ("risk.md", ()),
        ("accounts.md", ()),
        ("sessions.md", ("--venue", "internal")),
    ],
)
def test_every_documented_recipe_prints_what_the_docs_say(start_server, tmp_path, doc, server_args) -> None:  # type: ignore[no-untyped-def]
    server = start_server(None, *server_args, env=SERVER_ENV.get(doc))
    pairs = recipes((DOCS / doc).read_text())
    assert len(pairs) >= (5 if doc == "sessions.md" else 10)

    script = ["export PATH=" + str(BIN) + ":$PATH", f"export ITIRP={server.address}"]
    for i, (command, _) in enumerate(pairs):
        script += [f"echo '@@{i}@@'", "{", command, "} 2>&1"]
    result = run("bash", "-c", "\n".join(script), timeout=120, cwd=tmp_path, env={**os.environ})

    outputs = re.split(r"^@@\d+@@\n", result.stdout, flags=re.M)[1:]
    assert len(outputs) == len(pairs), result.stdout + result.stderr
    for (command, expected), actual in zip(pairs, outputs, strict=False):
        want = expected.rstrip("\n").split("\n")
        got = [line.rstrip() for line in actual.rstrip("\n").split("\n")]
        assert output_matches(want, got), f"$ {command}\n--- documented\n{expected}\n--- actual\n{actual}"
    assert server.stop() == 0
