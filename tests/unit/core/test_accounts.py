"""The account commands in the core: desks, accounts and entitlements as events with who and why,
their refusals, their fold (the same after a replay), and orders booked by them."""

from __future__ import annotations

import pytest

from itirp.auth.roles import Role
from itirp.core.accounts import EntitleTrader, UpsertAccount, UpsertDesk
from itirp.core.commands import SubmitOrder
from itirp.core.recorder import Committed
from itirp.domain.accounts import HOUSE_ACCOUNT, AccountKind, Entitlement
from itirp.domain.orders import Side
from itirp.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Reason

from .harness import Harness, actor, open_harness, types_of

ADMIN = actor("u-admin", "admin", role=Role.ADMIN)


@pytest.fixture
def h() -> Harness:
    return open_harness()


def desk(h: Harness, desk_id: str = "EQUITIES", name: str = "Equities", reason: str = "opens") -> bool:
    _, created, _ = h.core.accounts.upsert_desk(
        UpsertDesk(actor=ADMIN, desk_id=desk_id, name=name, reason=reason), h.now_us
    )
    return created


def account(
    h: Harness, account_id: str, desk_id: str = "EQUITIES", kind: AccountKind | None = None, name: str = ""
) -> bool:
    command = UpsertAccount(actor=ADMIN, account_id=account_id, desk_id=desk_id, name=name, kind=kind, reason="new")
    return h.core.accounts.upsert_account(command, h.now_us)[1]


def entitle(
    h: Harness, accounts: tuple[str, ...], default: str = "", reason: str = "joined"
) -> tuple[Entitlement, Entitlement, Committed]:
    command = EntitleTrader(
        actor=ADMIN,
        user_id="u-trader1",
        username="trader1",
        accounts=accounts,
        default_account=default,
        reason=reason,
    )
    return h.core.accounts.entitle(command, h.now_us)


def submit(account_id: str = "") -> SubmitOrder:
    return SubmitOrder(actor=actor(), symbol="AAPL", side=Side.BUY, quantity=10, price="150.00", account=account_id)


@pytest.fixture
def seeded(h: Harness) -> Harness:
    desk(h)
    desk(h, "MACRO", "Macro")
    account(h, "EQ-PROP")
    account(h, "EQ-CLIENT-1", kind=AccountKind.CLIENT)
    account(h, "MACRO-PROP", "MACRO")
    entitle(h, ("EQ-PROP", "MACRO-PROP"), "EQ-PROP")
    return h


def test_each_change_is_one_event_with_who_and_why(h: Harness) -> None:
    _, created, committed = h.core.accounts.upsert_desk(
        UpsertDesk(actor=ADMIN, desk_id="EQUITIES", name=" Equities ", reason=" opens "), h.now_us
    )

    assert created
    assert types_of(committed) == ["DESK_UPSERTED"]
    event = committed.events[0]
    assert event.user_id == "u-admin"
    stored = h.core.state.accounts.desks["EQUITIES"]
    assert (stored.name, stored.updated_by, stored.updated_us) == ("Equities", "admin", h.now_us)


def test_an_upsert_changes_what_exists(seeded: Harness) -> None:
    assert not desk(seeded, "EQUITIES", "Cash equities")
    assert not account(seeded, "EQ-PROP", "", AccountKind.CLIENT)

    registry = seeded.core.state.accounts
    assert registry.desks["EQUITIES"].name == "Cash equities"
    changed = registry.accounts["EQ-PROP"]
    assert (changed.desk_id, changed.kind, changed.name) == ("EQUITIES", AccountKind.CLIENT, "EQ-PROP")


def test_an_account_kind_and_name_default_and_are_kept(seeded: Harness) -> None:
    account(seeded, "EQ-CLIENT-1", "EQUITIES", name="Renamed")

    kept = seeded.core.state.accounts.accounts["EQ-CLIENT-1"]
    assert (kept.kind, kept.name) == (AccountKind.CLIENT, "Renamed")
    assert seeded.core.state.accounts.accounts["EQ-PROP"].kind is AccountKind.BOOK


@pytest.mark.parametrize(
    ("call", "error", "reason"),
    [
        (lambda h: desk(h, "eq"), InvalidArgument, Reason.INVALID_ARGUMENT),
        (lambda h: desk(h, "RATES", reason=" "), InvalidArgument, Reason.INVALID_ARGUMENT),
        (lambda h: account(h, "RATES-PROP", "RATES"), NotFound, Reason.DESK_NOT_FOUND),
        (lambda h: account(h, "RATES-PROP", ""), InvalidArgument, Reason.INVALID_ARGUMENT),
        (lambda h: account(h, "EQ-PROP", "MACRO"), FailedPrecondition, Reason.FAILED_PRECONDITION),
        (lambda h: entitle(h, ("NOPE",)), NotFound, Reason.ACCOUNT_NOT_FOUND),
        (lambda h: entitle(h, ("EQ-PROP",), "MACRO-PROP"), InvalidArgument, Reason.INVALID_ARGUMENT),
        (lambda h: entitle(h, ("EQ-PROP",), reason=""), InvalidArgument, Reason.INVALID_ARGUMENT),
    ],
)
def test_a_refused_change_records_nothing(seeded: Harness, call, error, reason) -> None:  # type: ignore[no-untyped-def]
    before = seeded.event_types()

    with pytest.raises(error) as refused:
        call(seeded)

    assert refused.value.reason is reason
    assert seeded.event_types() == before


def test_entitle_replaces_keeps_order_drops_repeats_and_defaults_to_the_first(seeded: Harness) -> None:
    before, after, committed = entitle(seeded, ("MACRO-PROP", "EQ-CLIENT-1", "MACRO-PROP"))

    assert before.accounts == ("EQ-PROP", "MACRO-PROP")
    assert (after.accounts, after.default_account) == (("MACRO-PROP", "EQ-CLIENT-1"), "MACRO-PROP")
    assert types_of(committed) == ["TRADER_ENTITLED"]
    assert seeded.core.state.accounts.traders_of("EQ-PROP") == []


def test_orders_are_booked_by_the_entitlement(seeded: Harness) -> None:
    orders = seeded.core.orders

    default, _ = orders.submit(submit(), seeded.now_us)
    named, _ = orders.submit(submit("MACRO-PROP"), seeded.now_us)
    with pytest.raises(PermissionDenied) as denied:
        orders.submit(submit("EQ-CLIENT-1"), seeded.now_us)
    with pytest.raises(NotFound) as unknown:
        orders.submit(submit("NOPE"), seeded.now_us)
    entitle(seeded, ())
    house, _ = orders.submit(submit(), seeded.now_us)

    assert (default.account, default.desk) == ("EQ-PROP", "EQUITIES")
    assert (named.account, named.desk) == ("MACRO-PROP", "MACRO")
    assert denied.value.reason is Reason.ACCOUNT_NOT_ENTITLED
    assert unknown.value.reason is Reason.ACCOUNT_NOT_FOUND
    assert house.account == HOUSE_ACCOUNT


def test_a_replay_rebuilds_the_same_hierarchy(seeded: Harness) -> None:
    entitle(seeded, ("EQ-CLIENT-1",), reason="moved")
    original = seeded.core.state.accounts

    replayed = seeded.replayed().state.accounts

    assert replayed.desks == original.desks
    assert replayed.accounts == original.accounts
    assert replayed.entitlements == original.entitlements
    assert all(replayed.traders_of(a) == original.traders_of(a) for a in original.accounts)
