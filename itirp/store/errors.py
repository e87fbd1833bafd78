"""Errors of the event store.

Two kinds only, because callers react to exactly two situations: the store cannot take or give
events any more (`StoreError`: the server turns NOT_SERVING and refuses work), and the stored log
has been altered (`TamperedLogError`: compliance must investigate; the server refuses to start on
such a log unless told otherwise).
"""

from __future__ import annotations

__all__ = ["StoreError", "TamperedLogError"]


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
