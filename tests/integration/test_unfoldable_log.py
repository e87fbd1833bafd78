"""A log edited and re-hashed from the edit on: its chain verifies, yet an event cannot be folded
(an order id that names no order). A normal start refuses it as a tampered log, naming the event
(before: a KeyError from the replay); a read-only start serves it and VerifyAuditLog fails there."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import grpc
import pytest

from itirp.config import Config
from itirp.server import serve
from itirp.store import TamperedLogError, compute_hash, iter_events_sync
from itirp.v1 import audit_pb2, audit_pb2_grpc, common_pb2, system_pb2, system_pb2_grpc
from tests.conftest import bearer, login, make_config
from tests.integration.test_trading import open_desk


async def desk_with_orders(config: Config) -> None:
    server = await serve(config)
    desk, channel = await open_desk(server)
    for i in range(3):
        await desk.submit("AAPL", common_pb2.SIDE_BUY, 10 + i, "150.00")
    await channel.close()
    await server.shutdown(grace=0)


def rewrite_and_rehash(path: Path) -> int:
    """Give the first RISK_CHECK_STARTED an order id of no order, and re-hash every event from it
    on, as a tamperer who knows the chain would; returns the edited sequence."""
    events = list(iter_events_sync(path))
    edited = next(e.sequence for e in events if e.event_type == "RISK_CHECK_STARTED")
    db = sqlite3.connect(path)
    prev = events[edited - 2].hash
    for event in events[edited - 1 :]:
        if event.sequence == edited:
            event = dataclasses.replace(event, order_id="not-an-order")
        digest = compute_hash(prev, event)
        db.execute(
            "UPDATE events SET order_id = ?, prev_hash = ?, hash = ? WHERE sequence = ?",
            (event.order_id, prev, digest, event.sequence),
        )
        prev = digest
    db.commit()
    db.close()
    return edited


async def test_a_re_hashed_log_that_cannot_be_folded(tmp_path: Path) -> None:
    # Arrange
    config = make_config(tmp_path / "data")
    await desk_with_orders(config)
    edited = rewrite_and_rehash(config.data_dir / "events.db")
    # and the signed checkpoints removed, which would otherwise refuse it first, at the checkpointed
    # sequence after the edit (tests/e2e/test_audit_trail.py): here the fold alone must catch it
    (config.data_dir / "checkpoints.jsonl").unlink()

    # Act / Assert: a normal start refuses it, naming the event
    with pytest.raises(TamperedLogError) as refused:
        await serve(config)
    assert refused.value.first_bad_sequence == edited
    assert "--read-only" in str(refused.value)

    # Act / Assert: read-only serves it, and the verification fails at the event
    investigating = await serve(config.replace(read_only=True))
    try:
        async with grpc.aio.insecure_channel(investigating.address) as channel:
            md = bearer((await login(channel, "compliance1")).access_token)
            info = await system_pb2_grpc.SystemServiceStub(channel).GetSystemInfo(
                system_pb2.GetSystemInfoRequest(), metadata=md
            )
            verified = await audit_pb2_grpc.AuditServiceStub(channel).VerifyAuditLog(
                audit_pb2.VerifyAuditLogRequest(), metadata=md
            )
    finally:
        await investigating.shutdown(grace=0)
    assert info.read_only
    assert (verified.ok, verified.first_bad_sequence) == (False, edited)
    assert "could not be folded" in verified.message
    assert investigating.application.unfolded[0].sequence == edited
