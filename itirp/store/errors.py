"""Errors of the event store.

Two kinds only, because callers react to exactly two situations: the store cannot take or give
events any more (`StoreError`: the server turns NOT_SERVING and refuses work), and the stored log
has been altered (`TamperedLogError`: compliance must investigate; the server refuses to start on
such a log unless told otherwise).

With a shared database (PostgreSQL) two more refusals are `StoreError`s too, because the caller's
reaction is the same (this node takes no writes) plus a pointer: `NotLeaderError` (this node is a
follower; the leader is named so a client can be sent there) and `FencedError` (this node was the
writer, but another node took the lease over: the store fails for good).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FencedError", "LeaderInfo", "NotLeaderError", "StoreError", "TamperedLogError"]


@dataclass(frozen=True, slots=True)
class LeaderInfo:
    """Who holds the writer's lease, as the database saw it: `term` is the fencing token (it
    grows by one per takeover), `expires_in` seconds by the database's clock (negative once
    expired), `valid` whether it had not expired then."""

    term: int
    node_id: str
    address: str
    expires_in: float
    valid: bool


class StoreError(Exception):
    """The store failed, is closed, is read-only or could not do I/O.

    Once a commit has failed the store stays failed: nothing is acknowledged after a failure,
    so a caller never sees a success that might sit behind a lost event.
    """


class TamperedLogError(StoreError):
    """The hash chain does not verify: a stored event was edited, deleted or reordered."""

    def __init__(self, first_bad_sequence: int, message: str) -> None:
        super().__init__(message)
        self.first_bad_sequence = first_bad_sequence
        self.message = message


class NotLeaderError(StoreError):
    """This store follows another writer: appends go to the leader (named when known)."""

    def __init__(self, message: str, *, leader: LeaderInfo | None = None) -> None:
        super().__init__(message)
        self.leader_node = leader.node_id if leader is not None else ""
        self.leader_address = leader.address if leader is not None else ""
        self.term = leader.term if leader is not None else 0


class FencedError(StoreError):
    """A commit found that the lease moved on to a newer term: another node writes now, so this
    store's transaction was rolled back and the store has failed."""

    def __init__(self, message: str, *, term: int, current_term: int | None) -> None:
        super().__init__(message)
        self.term = term
        self.current_term = current_term
