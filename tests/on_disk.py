"""`tmp_path` on disk, not tmpfs, for the modules whose point is a kill -9 racing the commits
(tests/conftest._temp_on_tmpfs): there the window between an answer and its commit must stay as
wide as in production. Such a module takes it with `from tests.on_disk import tmp_path_on_disk`."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DISK_TEMP


@pytest.fixture(name="tmp_path")
def tmp_path_on_disk() -> Iterator[Path]:
    """A fresh folder under DISK_TEMP, removed afterwards, in place of pytest's `tmp_path`."""
    path = Path(tempfile.mkdtemp(prefix="itirp-disk-", dir=DISK_TEMP))
    yield path
    shutil.rmtree(path, ignore_errors=True)
