"""Signed checkpoints on a real server: signed at an interval and at a clean stop, received by
audit subscribers, and a start refused when the key does not match them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from itirp.audit.checkpoints import Checkpoint, checkpoint_from_json, signature_ok
from itirp.audit.keyfile import create_private_key, load_public_key
from itirp.config import ConfigError
from itirp.server import serve
from itirp.store import TamperedLogError, iter_events_sync
from itirp.v1 import audit_pb2, audit_pb2_grpc, events_pb2
from tests.conftest import bearer, login, make_config
from tests.integration.test_audit import append_noise

E = events_pb2


def _checkpoints(data: Path) -> list[Checkpoint]:
    return [checkpoint_from_json(json.loads(line)) for line in (data / "checkpoints.jsonl").read_text().splitlines()]


def _hash_at(data: Path, sequence: int) -> str:
    return next(ev.hash for ev in iter_events_sync(data / "events.db", after=sequence - 1))


async def test_checkpoints_are_signed_at_an_interval_and_audit_subscribers_receive_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Arrange: a server that signs every 100 ms, and a subscriber to checkpoint events only
    data = tmp_path / "data"
    server = await serve(make_config(data, store_checkpoint_seconds=0.1))
    try:
        async with grpc.aio.insecure_channel(server.address) as channel:
            md = bearer((await login(channel, "compliance1")).access_token)
            await append_noise(server, 5)
            written = server.store.head_sequence
            stream = audit_pb2_grpc.AuditServiceStub(channel).SubscribeEvents(
                audit_pb2.SubscribeEventsRequest(
                    from_sequence=written,
                    filter=audit_pb2.EventFilter(event_types=[E.EVENT_TYPE_AUDIT_CHECKPOINT_SIGNED]),
                ),
                metadata=md,
            )

            # Act: the first checkpoint event that covers our writes (one signed before them may
            # be recorded after them)
            while True:
                item = await asyncio.wait_for(stream.read(), 30)
                if item.WhichOneof("kind") == "event" and item.event.audit_checkpoint_signed.sequence >= written:
                    break
            stream.cancel()
    finally:
        await server.shutdown(grace=0)

    # Assert: it signs a head at or after our writes, as the checkpoint file says, under the key
    signed = item.event.audit_checkpoint_signed
    assert signed.sequence >= written
    assert item.event.sequence > signed.sequence
    in_file = next(cp for cp in _checkpoints(data) if cp.sequence == signed.sequence)
    assert (in_file.head_hash, in_file.signature, in_file.key_id) == (signed.head_hash, signed.signature, signed.key_id)
    assert in_file.head_hash == _hash_at(data, signed.sequence)
    assert signature_ok(in_file, load_public_key(data / "checkpoint.key"))


async def test_a_clean_stop_signs_the_final_head_and_records_it_as_the_last_event(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = await serve(make_config(data))  # the default interval: no checkpoint during the test
    await append_noise(server, 3)

    await server.shutdown(grace=0)

    events = list(iter_events_sync(data / "events.db"))
    last = _checkpoints(data)[-1]
    assert last.sequence == events[-2].sequence
    assert last.head_hash == events[-2].hash
    assert events[-1].event_type == "AUDIT_CHECKPOINT_SIGNED"
    key = load_public_key(data / "checkpoint.key")
    assert isinstance(key, Ed25519PublicKey)
    assert signature_ok(last, key)


async def test_a_start_is_refused_without_the_key_that_signed_the_checkpoints(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    config = make_config(data)
    await (await serve(config)).shutdown(grace=0)
    (data / "checkpoint.key").unlink()

    with pytest.raises(ConfigError, match=r"checkpoint key .* is missing"):
        await serve(config)

    create_private_key(data / "checkpoint.key")  # another key: its signatures are not these
    with pytest.raises(TamperedLogError) as info:
        await serve(config)
    assert info.value.first_bad_sequence == _checkpoints(data)[0].sequence
    assert "signature does not verify" in str(info.value)


async def test_a_restart_with_nothing_new_signs_nothing_new(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    config = make_config(data)
    await (await serve(config)).shutdown(grace=0)
    signed, head = len(_checkpoints(data)), list(iter_events_sync(data / "events.db"))[-1].sequence

    await (await serve(config)).shutdown(grace=0)

    assert len(_checkpoints(data)) == signed
    assert list(iter_events_sync(data / "events.db"))[-1].sequence == head
