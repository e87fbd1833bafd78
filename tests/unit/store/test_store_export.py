"""JSON-lines export: it round-trips and an auditor can verify it without the server."""

from __future__ import annotations

import io
import json

import pytest
import pytest_asyncio

from itirp.store import MemoryEventStore
from itirp.store.export import dump_events, event_from_json, event_to_json, verify_export


@pytest_asyncio.fixture
async def stored(make_event):
    store = MemoryEventStore()
    await store.open()
    await store.append([make_event(payload=bytes(range(i, i + 5))) for i in range(6)])
    events = await store.read()
    await store.close()
    return events


def export(events) -> list[str]:
    out = io.StringIO()
    assert dump_events(events, out) == len(events)
    return out.getvalue().splitlines()


@pytest.mark.asyncio
async def test_an_event_round_trips_through_json(stored):
    obj = event_to_json(stored[0])

    assert set(obj) == {
        "sequence", "event_id", "event_type", "correlation_id", "causation_id", "order_id",
        "user_id", "symbol", "timestamp_us", "schema_version", "payload", "prev_hash", "hash",
    }  # fmt: skip
    assert obj["payload"] == "AAECAwQ="
    assert event_from_json(json.loads(json.dumps(obj))) == stored[0]


@pytest.mark.asyncio
async def test_a_full_export_verifies_from_the_file_alone(stored):
    result = verify_export(export(stored))

    assert result.ok
    assert (result.events_checked, result.head_sequence) == (6, 6)
    assert result.head_hash == stored[-1].hash


@pytest.mark.asyncio
async def test_a_partial_export_takes_its_first_prev_hash_as_given(stored):
    result = verify_export([*export(stored[2:]), ""])

    assert result.ok
    assert result.events_checked == 4


@pytest.mark.asyncio
async def test_an_edited_line_is_detected(stored):
    lines = export(stored)
    obj = json.loads(lines[2])
    obj["user_id"] = "mallory"
    lines[2] = json.dumps(obj)

    result = verify_export(lines)

    assert (result.ok, result.first_bad_sequence) == (False, 3)
    assert "hash mismatch" in result.message


@pytest.mark.asyncio
async def test_a_deleted_line_is_detected(stored):
    lines = export(stored)
    del lines[3]

    result = verify_export(lines)

    assert (result.ok, result.first_bad_sequence) == (False, 4)


@pytest.mark.asyncio
async def test_a_garbled_line_is_reported_after_the_last_good_event(stored):
    lines = export(stored)
    lines[4] = lines[4][:20]
    missing = json.loads(lines[1])
    del missing["hash"]

    garbled = verify_export(lines)
    incomplete = verify_export([lines[0], json.dumps(missing)])

    assert (garbled.ok, garbled.first_bad_sequence) == (False, 5)
    assert "line 5: not valid JSON" in garbled.message
    assert (incomplete.ok, incomplete.first_bad_sequence) == (False, 2)
    assert "missing key 'hash'" in incomplete.message
