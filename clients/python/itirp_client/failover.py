"""Several server addresses, and following the leader of a two-node layout.

A client is given one address or several (`"a:50051,b:50051"`, or a list). It talks to one at a
time, the *current* address. When a call fails in a way another node may not:

- UNAVAILABLE with reason NOT_LEADER naming the leader (`leader_address`): the client switches to
  that address at once (adding it to its list when new) and sends the call again: the node that
  refused recorded nothing, so this is always safe;
- NOT_LEADER naming no leader (a takeover under way), a connection failure (UNAVAILABLE with no
  reason: nothing answered) or SHUTTING_DOWN: the client moves to the next address of its list,
  cycling, after the usual backoff.

`Endpoints` keeps the list and the current address; `route()` says which of the two cases an
error is (or neither). The calls that use them are `AsyncClient._call` (unary calls) and
`Resumable` (server streams).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from itirp_client.errors import ItirpError, Reason

__all__ = ["Endpoints", "Move", "leader_hint", "parse_addresses", "route"]

#: UNAVAILABLE reasons after which another address may answer: this node is going away.
_GONE = frozenset({Reason.SHUTTING_DOWN})


def parse_addresses(address: str | Iterable[str]) -> list[str]:
    """The addresses of one string (comma-separated) or of a list (whose items may themselves be
    comma-separated): stripped, empty ones dropped, each once, in order. ValueError if none."""
    parts = address.split(",") if isinstance(address, str) else [p for a in address for p in a.split(",")]
    found: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in found:
            found.append(part)
    if not found:
        raise ValueError(f"no server address in {address!r}")
    return found


def leader_hint(error: ItirpError) -> str | None:
    """For a NOT_LEADER refusal, the leader's address ("" when the node does not know it yet);
    None for any other error."""
    if error.reason != Reason.NOT_LEADER:
        return None
    return error.metadata.get("leader_address", "").strip()


class Move(enum.Enum):
    """Where a call goes after a failure: to the leader named (at once), or to the next address
    (after the backoff)."""

    LEADER = "leader"
    NEXT = "next"


def route(error: ItirpError) -> Move | None:
    """`Move.LEADER` for NOT_LEADER naming a leader; `Move.NEXT` for NOT_LEADER naming none, a
    connection failure (UNAVAILABLE without a reason) or a node shutting down; else None (the
    error is the node's answer, another node would give the same)."""
    hint = leader_hint(error)
    if hint:
        return Move.LEADER
    if hint is not None:
        return Move.NEXT
    if error.code == "UNAVAILABLE" and (not error.reason or error.reason in _GONE):
        return Move.NEXT
    return None


class Endpoints:
    """The addresses a client may use, and the current one."""

    def __init__(self, address: str | Iterable[str]) -> None:
        self.addresses = parse_addresses(address)
        self._index = 0

    @property
    def current(self) -> str:
        return self.addresses[self._index]

    def use(self, address: str) -> bool:
        """Make `address` the current one (added to the list when new); whether that changed it."""
        if address not in self.addresses:
            self.addresses.append(address)
        index = self.addresses.index(address)
        changed = index != self._index
        self._index = index
        return changed

    def next_after(self, failed: str) -> bool:
        """Move on from `failed` to the address after it (cycling), unless the current address is
        already another one (a concurrent call or stream moved first); whether it moved."""
        if self.current != failed or len(self.addresses) < 2:
            return False
        self._index = (self._index + 1) % len(self.addresses)
        return True

    def follow(self, error: ItirpError, sent_to: str) -> Move | None:
        """Apply `route(error)` for a call that was sent to `sent_to`: switch to the leader named,
        or move on to the next address. Returns the move (None: stay)."""
        move = route(error)
        if move is Move.LEADER:
            self.use(leader_hint(error) or "")
        elif move is Move.NEXT:
            self.next_after(sent_to)
        return move
