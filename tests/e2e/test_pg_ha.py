"""PostgreSQL's own HA drill in the suite (bench/pg_ha_drill.py, ~8 s): a primary and a
synchronous streaming standby (pg_basebackup -R, synchronous_standby_names = 'standby1',
synchronous_commit = on), the primary killed -9 under load, the standby promoted; of two ITIRP nodes
on a multi-host URL (target_session_attrs=read-write), the leader steps down and the standby node,
its connections opened again on the promoted server, takes over with no restart; the old leader,
restarted, rejoins as a standby: every acknowledged order is there with its status, the chain
verifies, the sequence is gapless."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.conftest import DISK_TEMP
from tests.e2e.conftest import run

DRILL = Path(__file__).resolve().parents[2] / "bench" / "pg_ha_drill.py"


def test_the_primary_killed_and_its_synchronous_standby_promoted_loses_nothing_acknowledged() -> None:
    # its PostgreSQL clusters on disk, as the session's (tests/conftest.py): TMPDIR back to the disk's
    env = {**os.environ, "TMPDIR": str(DISK_TEMP)}
    ran = run(sys.executable, DRILL, "--json", "--callers", "8", "--max-orders", "2000", timeout=240, env=env)
    assert ran.stdout.startswith("{"), ran.stdout + ran.stderr
    report = json.loads(ran.stdout)

    assert report["replication"] == {"application_name": "standby1", "state": "streaming", "sync_state": "sync"}
    assert report["primary_settings"]["synchronous_commit"] == "on"
    assert report["acknowledged_before_kill"] > 0
    node = report["node_after_kill"]
    assert node["role"] == "NODE_ROLE_STEPPED_DOWN", node
    assert node["health"] == "NOT_SERVING", node
    assert [n for n, _ in report["elections"]] == ["node-a", "node-b"]
    assert report["restarted_role"] == "NODE_ROLE_STANDBY"
    assert report["found"] == report["acknowledged"] >= report["acknowledged_before_kill"]
    assert report["chain_verified"] is True
    assert report["gapless"] is True
    assert report["ok"] is True, report["failure"]
    assert ran.returncode == 0
