"""The writer's lease on PostgreSQL: one holder at a time, a term that grows per takeover, expiry
by the database's clock only, a clean release that lets a standby in at once."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from itirp.store import PostgresEventStore, PostgresLease

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def lease_of(pg_url):
    store = PostgresEventStore(pg_url)  # creates the schema
    await store.open()
    made: list[PostgresLease] = []

    def make(node_id: str, ttl: float = 60.0) -> PostgresLease:
        lease = PostgresLease(pg_url, node_id=node_id, address=f"{node_id}:50051", ttl_seconds=ttl)
        made.append(lease)
        return lease

    yield make
    for lease in made:
        await lease.close()
    await store.close()


async def test_the_first_acquire_gets_term_one_and_a_valid_lease_keeps_others_out(lease_of):
    a, b = lease_of("a", ttl=30), lease_of("b")

    assert await a.current() is None
    assert await a.acquire() == 1
    assert await b.acquire() is None
    assert await a.acquire() is None  # even its holder: a lease is renewed, not re-acquired
    info = await b.current()

    assert info is not None
    assert (info.term, info.node_id, info.address, info.valid) == (1, "a", "a:50051", True)
    assert 29 < info.expires_in <= 30


async def test_renew_extends_only_the_holders_own_term(lease_of):
    a, b = lease_of("a", ttl=0.5), lease_of("b")
    term = await a.acquire()
    assert term == 1

    await asyncio.sleep(0.3)
    assert await a.renew(term)
    await asyncio.sleep(0.3)  # past the first expiry, within the renewed one

    assert await b.acquire() is None
    assert not await b.renew(term)  # not b's
    assert not await a.renew(term + 1)  # not this term


async def test_an_expired_lease_is_taken_over_with_the_next_term_and_the_old_holder_cannot_renew(lease_of):
    a, b = lease_of("a", ttl=0.2), lease_of("b")
    assert await a.acquire() == 1
    await asyncio.sleep(0.3)

    expired = await b.current()
    taken = await b.acquire()

    assert expired is not None
    assert not expired.valid
    assert expired.expires_in < 0
    assert taken == 2
    assert not await a.renew(1)
    assert (await a.current()).node_id == "b"


async def test_release_lets_a_standby_in_at_once(lease_of):
    a, b = lease_of("a", ttl=60), lease_of("b")
    term = await a.acquire()
    assert term is not None

    await a.release(term)

    assert not (await b.current()).valid
    assert await b.acquire() == 2


async def test_expiry_follows_the_database_clock_not_the_nodes(lease_of, pg_url):
    """Move the lease's expiry on the database: the nodes' clocks play no part."""
    a, b = lease_of("a", ttl=60), lease_of("b")
    assert await a.acquire() == 1
    with psycopg.connect(pg_url) as db:
        db.execute("UPDATE itirp_leader SET expires_at = now() - interval '1 second'")

    assert await b.acquire() == 2


def _terminate(pg_url: str, application_name: str) -> int:
    with psycopg.connect(pg_url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE %s",
            (application_name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_lease_and_a_follower_whose_connections_the_database_closed_connect_again(lease_of, pg_url, make_event):
    """A database restart or failover closes every connection: the lease's look and the reads run
    again on a new connection, and a writer can still be promoted (a standby then takes over
    without a restart)."""
    a = lease_of("a", ttl=30)
    assert await a.acquire() == 1
    writer = PostgresEventStore(pg_url, node_id="w")
    await writer.open()
    follower = PostgresEventStore(pg_url, node_id="f")
    await follower.open()
    await asyncio.gather(follower.read(), follower.read())  # its readers connect on first use
    try:
        assert _terminate(pg_url, "itirp-lease:%") == 1
        assert _terminate(pg_url, "itirp-reader:f") >= 1
        assert _terminate(pg_url, "itirp-follower:w") == 1
        await asyncio.sleep(0.1)
        info = await a.current()
        assert info is not None
        assert info.term == 1
        assert await a.renew(1)
        await writer.promote(1)
        await writer.append([make_event()])
        assert await follower.follow_once() == 1
        assert follower.head_sequence == 1
    finally:
        await follower.close()
        await writer.close()
