"""The hierarchy's registry: the house account, entitlements and their fold, where an order is
booked, who sees which desks and accounts, and the scopes of an order."""

from __future__ import annotations

import pytest

from itirp.auth.roles import Role
from itirp.domain.accounts import (
    FIRM,
    HOUSE_ACCOUNT,
    HOUSE_DESK,
    Account,
    AccountKind,
    AccountProblem,
    Accounts,
    Desk,
    Entitlement,
    Level,
    Scope,
    levels_of,
    valid_id,
)
from itirp.domain.viewer import Viewer

TRADER = Viewer("u-1", Role.TRADER)
OTHER = Viewer("u-2", Role.TRADER)
RISK = Viewer("u-risk", Role.RISK_MANAGER)


@pytest.fixture
def registry() -> Accounts:
    accounts = Accounts()
    for desk_id in ("MACRO", "EQUITIES"):
        accounts.put_desk(Desk(desk_id, desk_id.title()))
    accounts.put_account(Account("EQ-PROP", "EQUITIES", "Equities book"))
    accounts.put_account(Account("EQ-CLIENT-1", "EQUITIES", "Client", AccountKind.CLIENT))
    accounts.put_account(Account("MACRO-PROP", "MACRO", "Macro book"))
    accounts.entitle(Entitlement("u-1", "trader1", ("EQ-PROP", "MACRO-PROP"), "EQ-PROP"))
    return accounts


@pytest.mark.parametrize(
    ("text", "valid"),
    [("EQ-PROP", True), ("A", True), ("MACRO_1", True), ("A" * 32, True), ("", False), ("eq", False),
     ("-EQ", False), ("A" * 33, False), ("EQ PROP", False)],
)  # fmt: skip
def test_an_id_is_upper_case_letters_digits_dashes_and_underscores(text: str, valid: bool) -> None:
    assert valid_id(text) is valid


def test_the_house_desk_and_account_exist_from_the_start() -> None:
    accounts = Accounts()

    assert list(accounts.desks) == [HOUSE_DESK]
    assert accounts.accounts[HOUSE_ACCOUNT].desk_id == HOUSE_DESK
    assert accounts.entitled("anyone") == (HOUSE_ACCOUNT,)
    assert accounts.book_to("anyone", "") == accounts.accounts[HOUSE_ACCOUNT]


def test_an_order_is_booked_to_the_named_account_or_the_default(registry: Accounts) -> None:
    assert registry.book_to("u-1", "") == registry.accounts["EQ-PROP"]
    assert registry.book_to("u-1", "MACRO-PROP") == registry.accounts["MACRO-PROP"]
    assert registry.book_to("u-1", "EQ-CLIENT-1") is AccountProblem.NOT_ENTITLED
    assert registry.book_to("u-1", "NOPE") is AccountProblem.UNKNOWN_ACCOUNT
    assert registry.book_to("u-1", HOUSE_ACCOUNT) is AccountProblem.NOT_ENTITLED
    assert registry.book_to("u-2", HOUSE_ACCOUNT) == registry.accounts[HOUSE_ACCOUNT]


def test_a_new_entitlement_replaces_the_old_and_none_removes_it(registry: Accounts) -> None:
    registry.entitle(Entitlement("u-2", "trader2", ("MACRO-PROP",), "MACRO-PROP"))
    assert registry.traders_of("MACRO-PROP") == ["trader1", "trader2"]

    registry.entitle(Entitlement("u-1", "trader1", ("EQ-CLIENT-1",), "EQ-CLIENT-1"))
    assert registry.traders_of("MACRO-PROP") == ["trader2"]
    assert registry.traders_of("EQ-CLIENT-1") == ["trader1"]
    assert registry.entitled("u-1") == ("EQ-CLIENT-1",)

    registry.entitle(Entitlement("u-1", "trader1", (), ""))
    assert "u-1" not in registry.entitlements
    assert registry.traders_of("EQ-CLIENT-1") == []
    assert registry.entitlement_of("u-1", "trader1") == Entitlement("u-1", "trader1", (HOUSE_ACCOUNT,), HOUSE_ACCOUNT)


def test_a_risk_manager_sees_everything_by_id(registry: Accounts) -> None:
    assert [d.desk_id for d in registry.visible_desks(RISK)] == ["EQUITIES", HOUSE_DESK, "MACRO"]
    assert [a.account_id for a in registry.visible_accounts(RISK)] == [
        "EQ-CLIENT-1",
        "EQ-PROP",
        HOUSE_ACCOUNT,
        "MACRO-PROP",
    ]


def test_a_trader_sees_their_accounts_and_their_desks(registry: Accounts) -> None:
    assert [a.account_id for a in registry.visible_accounts(TRADER)] == ["EQ-PROP", "MACRO-PROP"]
    assert [d.desk_id for d in registry.visible_desks(TRADER)] == ["EQUITIES", "MACRO"]
    assert [a.account_id for a in registry.visible_accounts(OTHER)] == [HOUSE_ACCOUNT]
    assert [d.desk_id for d in registry.visible_desks(OTHER)] == [HOUSE_DESK]


def test_an_orders_levels_are_firm_desk_account_trader() -> None:
    assert levels_of("MACRO", "MACRO-PROP", "trader1") == (
        FIRM,
        Scope(Level.DESK, "MACRO"),
        Scope(Level.ACCOUNT, "MACRO-PROP"),
        Scope(Level.TRADER, "trader1"),
    )
    assert str(Scope(Level.ACCOUNT, "EQ-PROP")) == "ACCOUNT:EQ-PROP"
    assert str(FIRM) == "FIRM"


