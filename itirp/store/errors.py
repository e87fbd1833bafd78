"""Errors of the event store.

Two kinds only, because callers react to exactly two situations: the store cannot take or give
events any more (`StoreError`: the server turns NOT_SERVING and refuses work), and the stored log
has been altered (`TamperedLogError`: compliance must investigate; the server refuses to start on
such a log unless told otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FencedError", "LeaderInfo", "NotLeaderError", "StoreError", "TamperedLogError"]


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


@dataclass(frozen=True, slots=True)
class LeaderInfo:
    """Who holds the lease of a PostgreSQL log: the term (fencing token), the node and where
    terminals reach it, how long the lease has left by the database's clock, and whether it is
    still valid."""

    term: int
    node_id: str
    address: str
    expires_in: float
    valid: bool


class NotLeaderError(StoreError):
    """This node does not append (a standby, or a leader that stepped down); the leader, if known."""

    def __init__(self, message: str, *, leader_node: str = "", leader_address: str = "", term: int = 0) -> None:
        super().__init__(message)
        self.leader_node = leader_node
        self.leader_address = leader_address
        self.term = term


class FencedError(StoreError):
    """A commit refused by the database because a newer term holds the lease: this leader lost it."""
