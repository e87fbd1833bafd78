"""The house rules the review set: no source module above 600 lines, no function above 80.

A function may be longer only where a comment on the line before its `def` (or its decorators)
says `long function:` and why (the order book's hot loop: a split costs, as bench/bench_book.py
shows).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "itirp", ROOT / "clients" / "python" / "itirp_client"]
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
MARK = "long function:"


def _modules() -> list[Path]:
    return sorted(p for root in SOURCES for p in root.rglob("*.py") if "/itirp/v1/" not in p.as_posix())


def test_no_module_is_above_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_above_80_lines_unless_a_comment_says_why() -> None:
    long = {}
    for path in _modules():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                marked = first >= 2 and MARK in lines[first - 2]
                if size > MAX_FUNCTION_LINES and not marked:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = size
    assert long == {}
