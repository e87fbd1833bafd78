"""The core is pure: `itirp.core` and `itirp.domain` import no asyncio, sqlite3, threading, grpc or
thread pools, directly or through a package `__init__` (the store's backends load lazily).

Checked in a fresh interpreter, where an import hook records who imports each forbidden module:
nothing may load asyncio, sqlite3, grpc or concurrent.futures at all, and no itirp module may be
the one that imports threading. (protobuf's own descriptor module takes a threading lock; the
events are protobuf messages, so the core cannot avoid protobuf loading it - but never itself.)
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ("core", "domain")
FORBIDDEN = ("asyncio", "sqlite3", "threading", "grpc", "concurrent", "socket", "selectors")

_PROBE = r"""
import importlib, json, pkgutil, sys, traceback

FORBIDDEN = {forbidden!r}
importers = {{}}

class Watch:
    def find_spec(self, name, path=None, target=None):
        root = name.partition(".")[0]
        if root in FORBIDDEN and name not in sys.modules and name not in importers:
            frames = [f for f in traceback.extract_stack()[:-1] if "importlib" not in f.filename]
            importers[name] = frames[-1].filename if frames else "?"
        return None

sys.meta_path.insert(0, Watch())
import itirp.core, itirp.domain
for package in (itirp.core, itirp.domain):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in FORBIDDEN)
print(json.dumps({{"loaded": loaded, "importers": importers}}))
"""


def _probe() -> dict[str, object]:
    code = _PROBE.format(forbidden=FORBIDDEN)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_importing_the_core_and_domain_loads_no_io_or_concurrency_module() -> None:
    probe = _probe()
    loaded = set(probe["loaded"])  # type: ignore[call-overload]
    assert loaded <= {"threading"}, f"the pure core loaded {sorted(loaded)}: {probe['importers']}"


def test_no_itirp_module_is_the_importer_of_a_forbidden_module() -> None:
    importers: dict[str, str] = _probe()["importers"]  # type: ignore[assignment]
    ours = {name: where for name, where in importers.items() if "/itirp/" in where}
    assert ours == {}


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_no_pure_module_names_a_forbidden_module_in_its_imports(package: str) -> None:
    """Also the imports a fresh interpreter does not run (under TYPE_CHECKING, inside functions)."""
    offenders = []
    for path in sorted((ROOT / "itirp" / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.partition(".")[0] in FORBIDDEN]
    assert offenders == []
