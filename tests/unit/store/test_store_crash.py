"""kill -9 while appending: every acknowledged event survives and the chain verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import itirp
from itirp.store import SqliteEventStore, iter_events_sync
from tests.on_disk import tmp_path_on_disk  # noqa: F401 - the module's tmp_path: on disk (a kill -9 races the commits)

CHILD = Path(__file__).with_name("crash_appender.py")
REPO = Path(itirp.__file__).resolve().parents[1]


def run_and_kill(path: Path, run_for: float = 1.0, startup_limit: float = 20.0) -> list[str]:
    """Start the appender, let it acknowledge for `run_for` s, SIGKILL it, return its lines."""
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    lines: list[str] = []
    first_ack = threading.Event()
    with subprocess.Popen(
        [sys.executable, str(CHILD), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": pythonpath},
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None

        def drain() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                lines.append(line)
                first_ack.set()

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            started = first_ack.wait(startup_limit)
            if started:
                time.sleep(run_for)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            reader.join(timeout=10)
            err = proc.stderr.read()
    assert started, f"the appender never acknowledged anything; stderr:\n{err}"
    assert proc.returncode == -signal.SIGKILL
    return [line for line in lines if line.endswith("\n")]


@pytest.mark.asyncio
async def test_kill_9_mid_append_loses_no_acknowledged_event(tmp_path):
    path = tmp_path / "crash.db"

    acked = [line.split() for line in run_and_kill(path)]

    assert len(acked) > 10
    stored = {ev.sequence: ev.hash for ev in iter_events_sync(path)}
    for first, last, last_hash in acked:
        assert all(seq in stored for seq in range(int(first), int(last) + 1))
        assert stored[int(last)] == last_hash
    store = SqliteEventStore(path)  # the dead writer's lock is gone with it
    await store.open()
    try:
        result = await store.verify()
        assert result.ok, result.message
        assert store.head_sequence == max(stored) >= max(int(last) for _, last, _ in acked)
    finally:
        await store.close()
