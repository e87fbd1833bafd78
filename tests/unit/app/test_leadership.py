"""The lease loop of one node (itirp.app.leadership) against a lease and a store kept in memory:
when it renews, takes over, and steps down. The same loop against a real PostgreSQL and real
server processes: tests/integration/test_two_nodes.py and tests/e2e/test_failover.py."""

from __future__ import annotations

import asyncio

from itirp.app.leadership import Leadership, NodeStatus, Role
from itirp.store.errors import LeaderInfo, StoreError


class MemoryLease:
    """One lease row; `expire()` plays a lapsed lease, `take(term)` another node taking it."""

    def __init__(self) -> None:
        self.holder: LeaderInfo | None = None
        self.renewals = 0

    def expire(self) -> None:
        assert self.holder is not None
        self.holder = LeaderInfo(self.holder.term, self.holder.node_id, self.holder.address, -1.0, False)

    def take(self, node: str) -> None:
        term = self.holder.term + 1 if self.holder else 1
        self.holder = LeaderInfo(term, node, f"{node}:1", 5.0, True)

    async def current(self) -> LeaderInfo | None:
        return self.holder

    async def acquire(self) -> int | None:
        if self.holder is not None and self.holder.valid:
            return None
        self.take("me")
        assert self.holder is not None
        return self.holder.term

    async def renew(self, term: int) -> bool:
        self.renewals += 1
        return self.holder is not None and self.holder.term == term and self.holder.node_id == "me"

    async def release(self, term: int) -> None:
        self.expire()

    async def close(self) -> None:
        return None


class MemoryStore:
    def __init__(self) -> None:
        self.leader_hint: LeaderInfo | None = None
        self.following = False
        self.promoted: list[int] = []

    def start_following(self) -> None:
        self.following = True

    async def stop_following(self) -> None:
        self.following = False

    async def promote(self, term: int) -> None:
        self.following = False
        self.promoted.append(term)


class Duties:
    def __init__(self, lead_takes: float = 0.0) -> None:
        self.lead_takes = lead_takes
        self.led: list[int] = []
        self.stepped_down: list[str] = []
        self.roles: list[Role] = []

    async def lead(self, term: int, previous: LeaderInfo | None) -> None:
        await asyncio.sleep(self.lead_takes)
        self.led.append(term)

    async def step_down(self, why: str) -> None:
        self.stepped_down.append(why)

    def role_changed(self, status: NodeStatus) -> None:
        self.roles.append(status.role)


def node(lease: MemoryLease, store: MemoryStore, duties: Duties) -> Leadership:
    return Leadership(store, lease, duties, node_id="me", address="me:1", lease_seconds=0.3, look_seconds=0.02)


async def until(check, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)


async def test_a_free_lease_is_taken_and_renewed_while_the_leaders_work_is_still_starting() -> None:
    lease, store, duties = MemoryLease(), MemoryStore(), Duties(lead_takes=0.5)  # longer than the lease
    leadership = node(lease, store, duties)
    await leadership.start()
    try:
        assert store.promoted == [1]
        assert duties.led == [1]
        assert lease.renewals >= 2, "the lease was not renewed while the leader's work started"
        assert leadership.status == NodeStatus("me", Role.LEADER, 1, "me", "me:1")
        assert duties.roles == [Role.LEADER]
    finally:
        await leadership.stop()


async def test_a_standby_follows_then_takes_over_once_the_lease_lapsed() -> None:
    lease, store, duties = MemoryLease(), MemoryStore(), Duties()
    lease.take("other")
    leadership = node(lease, store, duties)
    await leadership.start()
    try:
        assert leadership.status.role is Role.STANDBY
        assert store.following
        assert store.leader_hint is not None
        assert store.leader_hint.node_id == "other"
        lease.expire()
        await until(lambda: leadership.status.role is Role.LEADER)
        assert store.promoted == [2]
        assert duties.led == [2]
    finally:
        await leadership.stop()


async def test_a_leader_whose_lease_another_node_took_steps_down_and_stays_down() -> None:
    lease, store, duties = MemoryLease(), MemoryStore(), Duties()
    leadership = node(lease, store, duties)
    await leadership.start()
    try:
        lease.take("other")
        await until(lambda: leadership.status.role is Role.STEPPED_DOWN)
        assert duties.stepped_down == ["another node holds a newer term"]
        assert store.leader_hint is not None
        assert store.leader_hint.node_id == "other"
        assert not leadership.appending
        lease.expire()
        await asyncio.sleep(0.2)
        assert leadership.status.role is Role.STEPPED_DOWN
        assert store.promoted == [1]
    finally:
        await leadership.stop()


async def test_a_failed_store_steps_the_leader_down() -> None:
    lease, store, duties = MemoryLease(), MemoryStore(), Duties()
    leadership = node(lease, store, duties)
    await leadership.start()
    try:
        leadership.store_failed(StoreError("fenced"))
        await until(lambda: leadership.status.role is Role.STEPPED_DOWN)
        assert duties.stepped_down == ["the event log refused a commit: fenced"]
    finally:
        await leadership.stop()
