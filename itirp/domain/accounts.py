"""The firm's hierarchy: firm -> desk -> account -> the traders entitled to it, and the scopes
that limits and controls apply to.

Every order is booked to one account; the account belongs to one desk, the desk to the firm, and
the order was entered by one trader. Those four nodes are the order's *levels*: its exposure
counts at each of them, each may carry limits, and a kill switch or trading state on any of them
(or on the order's instrument) applies to it. A trader entitled to no account books to the house
account (desk HOUSE), which always exists: a firm that wants no unentitled trading sets the
house account HALTED.

Pure: no I/O, no clock. The registry is state folded from events (`itirp.core.state`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

from itirp.domain.viewer import Viewer

__all__ = [
    "FIRM",
    "FIRM_ID",
    "HOUSE_ACCOUNT",
    "HOUSE_DESK",
    "Account",
    "AccountKind",
    "AccountProblem",
    "Accounts",
    "Desk",
    "Entitlement",
    "Level",
    "Scope",
    "levels_of",
    "valid_id",
]

FIRM_ID: Final = "FIRM"
HOUSE_DESK: Final = "HOUSE"
HOUSE_ACCOUNT: Final = "HOUSE"

_ID: Final = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")


def valid_id(text: str) -> bool:
    """A desk or account id: 1-32 characters, upper-case letters, digits, "-" and "_"."""
    return _ID.fullmatch(text) is not None


class Level(StrEnum):
    FIRM = "FIRM"
    DESK = "DESK"
    ACCOUNT = "ACCOUNT"
    TRADER = "TRADER"
    INSTRUMENT = "INSTRUMENT"

    # Enum's own __hash__ is Python code; scopes key the dicts every order looks in, so hash as the
    # str it is equal to (in C).
    __hash__ = str.__hash__


class Scope(NamedTuple):
    """One node limits and controls apply to; `str(scope)` is "LEVEL:ID" ("ACCOUNT:EQ-PROP"), or
    "FIRM" for the firm. A tuple: scopes key the dicts every order looks in, and a tuple hashes in C."""

    level: Level
    id: str

    def __str__(self) -> str:
        return "FIRM" if self.level is Level.FIRM else f"{self.level.value}:{self.id}"

    def covers(self, desk: str, account: str, username: str, symbol: str) -> bool:
        """Whether an order of `username` in `symbol`, booked to `account` of `desk`, is in scope."""
        level = self.level
        if level is Level.FIRM:
            return True
        if level is Level.DESK:
            return desk == self.id
        if level is Level.ACCOUNT:
            return account == self.id
        if level is Level.TRADER:
            return username == self.id
        return symbol == self.id


FIRM: Final = Scope(Level.FIRM, FIRM_ID)


def levels_of(desk_id: str, account_id: str, username: str) -> tuple[Scope, Scope, Scope, Scope]:
    """An order's four levels: firm, desk, account, trader."""
    return (FIRM, Scope(Level.DESK, desk_id), Scope(Level.ACCOUNT, account_id), Scope(Level.TRADER, username))


class AccountKind(StrEnum):
    BOOK = "BOOK"
    CLIENT = "CLIENT"


@dataclass(frozen=True, slots=True)
class Desk:
    desk_id: str
    name: str
    updated_us: int = 0
    updated_by: str = ""


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    desk_id: str
    name: str
    kind: AccountKind = AccountKind.BOOK
    updated_us: int = 0
    updated_by: str = ""


@dataclass(frozen=True, slots=True)
class Entitlement:
    """The accounts one trader may book to; `default_account` is where an order naming none goes."""

    user_id: str
    username: str
    accounts: tuple[str, ...]
    default_account: str


class AccountProblem(StrEnum):
    """Why an order cannot be booked to the account it names."""

    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    NOT_ENTITLED = "NOT_ENTITLED"


class Accounts:
    """Desks, accounts and entitlements; the house desk and account exist from the start."""

    def __init__(self) -> None:
        self.desks: dict[str, Desk] = {HOUSE_DESK: Desk(HOUSE_DESK, "House")}
        self.accounts: dict[str, Account] = {
            HOUSE_ACCOUNT: Account(HOUSE_ACCOUNT, HOUSE_DESK, "House account (traders entitled to no account)")
        }
        #: By user id.
        self.entitlements: dict[str, Entitlement] = {}
        self._traders: dict[str, list[str]] = {}
        """Usernames entitled to each account, in entitlement order."""

    # ------------------------------------------------------------------ the fold

    def put_desk(self, desk: Desk) -> None:
        self.desks[desk.desk_id] = desk

    def put_account(self, account: Account) -> None:
        self.accounts[account.account_id] = account

    def entitle(self, entitlement: Entitlement) -> None:
        old = self.entitlements.get(entitlement.user_id)
        if old is not None:
            for account_id in old.accounts:
                names = self._traders.get(account_id, [])
                if old.username in names:
                    names.remove(old.username)
        if entitlement.accounts:
            self.entitlements[entitlement.user_id] = entitlement
            for account_id in entitlement.accounts:
                self._traders.setdefault(account_id, []).append(entitlement.username)
        else:
            self.entitlements.pop(entitlement.user_id, None)

    # ------------------------------------------------------------------ reading

    def traders_of(self, account_id: str) -> list[str]:
        return list(self._traders.get(account_id, ()))

    def entitled(self, user_id: str) -> tuple[str, ...]:
        """The accounts `user_id` may book to (the house account when entitled to none)."""
        entitlement = self.entitlements.get(user_id)
        return entitlement.accounts if entitlement is not None else (HOUSE_ACCOUNT,)

    def entitlement_of(self, user_id: str, username: str) -> Entitlement:
        """What `user_id` is entitled to: their entitlement, else the house account alone."""
        found = self.entitlements.get(user_id)
        return found if found is not None else Entitlement(user_id, username, (HOUSE_ACCOUNT,), HOUSE_ACCOUNT)

    def visible_accounts(self, viewer: Viewer) -> list[Account]:
        """By id: every account to RISK_MANAGER and above, else those the viewer is entitled to."""
        ids = self.accounts if viewer.sees_all else self.entitled(viewer.user_id)
        return [self.accounts[i] for i in sorted(ids) if i in self.accounts]

    def visible_desks(self, viewer: Viewer) -> list[Desk]:
        """By id: every desk to RISK_MANAGER and above, else the desks of the viewer's accounts."""
        ids = self.desks if viewer.sees_all else {a.desk_id for a in self.visible_accounts(viewer)}
        return [self.desks[i] for i in sorted(ids) if i in self.desks]

    def book_to(self, user_id: str, requested: str) -> Account | AccountProblem:
        """The account an order of `user_id` naming `requested` ("" for the default) is booked to."""
        entitlement = self.entitlements.get(user_id)
        if not requested:
            return self.accounts[entitlement.default_account if entitlement is not None else HOUSE_ACCOUNT]
        account = self.accounts.get(requested)
        if account is None:
            return AccountProblem.UNKNOWN_ACCOUNT
        if requested not in self.entitled(user_id):
            return AccountProblem.NOT_ENTITLED
        return account
