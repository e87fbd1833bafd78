"""The firm's hierarchy through a real server: AccountService's seven calls, the demo desk's seed,
who sees what, the orders booked to an account, the audit log's record and a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from itirp.config import Config
from itirp.server import serve
from itirp.v1 import (
    account_pb2,
    account_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    common_pb2,
    events_pb2,
    order_pb2,
    order_pb2_grpc,
)
from tests.conftest import bearer, login
from tests.integration.test_error_details import error_info, refused, unpack

TokenFor = Callable[[str], Any]
BOOK, CLIENT = account_pb2.ACCOUNT_KIND_BOOK, account_pb2.ACCOUNT_KIND_CLIENT
E = events_pb2

DEMO_DESKS = ["EQUITIES", "HOUSE", "MACRO"]
DEMO_ACCOUNTS = ["EQ-CLIENT-1", "EQ-PROP", "HOUSE", "MACRO-CLIENT-1", "MACRO-PROP"]


class Desk:
    """Stubs with a user's token."""

    def __init__(self, channel: grpc.aio.Channel, token: str) -> None:
        self.md = bearer(token)
        self.stub = account_pb2_grpc.AccountServiceStub(channel)
        self.orders = order_pb2_grpc.OrderServiceStub(channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(channel)

    async def desks(self) -> list[str]:
        reply = await self.stub.ListDesks(account_pb2.ListDesksRequest(), metadata=self.md)
        return [d.desk_id for d in reply.desks]

    async def accounts(self, desk_id: str = "") -> list[account_pb2.Account]:
        request = account_pb2.ListAccountsRequest(desk_id=desk_id)
        return list((await self.stub.ListAccounts(request, metadata=self.md)).accounts)

    def get(self, account_id: str) -> Any:
        return self.stub.GetAccount(account_pb2.GetAccountRequest(account_id=account_id), metadata=self.md)

    async def entitlements(self, username: str = "") -> list[account_pb2.Entitlement]:
        request = account_pb2.ListEntitlementsRequest(username=username)
        return list((await self.stub.ListEntitlements(request, metadata=self.md)).entitlements)

    def upsert_desk(self, desk_id: str, name: str = "", reason: str = "a new desk") -> Any:
        request = account_pb2.UpsertDeskRequest(desk_id=desk_id, name=name, reason=reason)
        return self.stub.UpsertDesk(request, metadata=self.md)

    def upsert_account(self, account_id: str, desk_id: str, kind: int = 0, reason: str = "a new account") -> Any:
        request = account_pb2.UpsertAccountRequest(
            account_id=account_id,
            desk_id=desk_id,
            name=f"{account_id} account",
            kind=kind,  # type: ignore[arg-type]
            reason=reason,
        )
        return self.stub.UpsertAccount(request, metadata=self.md)

    def entitle(self, username: str, accounts: list[str], default: str = "", reason: str = "joined") -> Any:
        request = account_pb2.EntitleTraderRequest(
            username=username, accounts=accounts, default_account=default, reason=reason
        )
        return self.stub.EntitleTrader(request, metadata=self.md)

    def submit(self, account: str = "", symbol: str = "AAPL") -> Any:
        request = order_pb2.SubmitOrderRequest(
            symbol=symbol, side=common_pb2.SIDE_BUY, quantity=10, price="100", account=account
        )
        return self.orders.SubmitOrder(request, metadata=self.md)


@pytest.fixture
async def desk_of(channel: grpc.aio.Channel, token_for: TokenFor) -> Callable[[str], Any]:
    async def make(username: str) -> Desk:
        return Desk(channel, await token_for(username))

    return make


# ---------------------------------------------------------------- the demo desk's seed and who sees what


async def test_a_risk_manager_sees_the_whole_demo_seed(desk_of: Callable[[str], Any]) -> None:
    risk = await desk_of("risk1")

    desks = await risk.desks()
    accounts = await risk.accounts()
    entitlements = await risk.entitlements()

    assert desks == DEMO_DESKS
    assert [a.account_id for a in accounts] == DEMO_ACCOUNTS
    by_id = {a.account_id: a for a in accounts}
    assert (by_id["EQ-PROP"].desk_id, by_id["EQ-PROP"].kind) == ("EQUITIES", BOOK)
    assert (by_id["MACRO-CLIENT-1"].desk_id, by_id["MACRO-CLIENT-1"].kind) == ("MACRO", CLIENT)
    assert list(by_id["MACRO-PROP"].traders) == ["trader1", "trader2"]
    assert list(by_id["HOUSE"].traders) == []
    assert by_id["EQ-PROP"].updated_by == "system"
    assert [(e.username, list(e.accounts), e.default_account) for e in entitlements] == [
        ("trader1", ["EQ-PROP", "EQ-CLIENT-1", "MACRO-PROP"], "EQ-PROP"),
        ("trader2", ["MACRO-PROP", "MACRO-CLIENT-1"], "MACRO-PROP"),
    ]
    assert [a.account_id for a in await risk.accounts("MACRO")] == ["MACRO-CLIENT-1", "MACRO-PROP"]


async def test_a_trader_sees_only_their_accounts_their_desks_and_their_entitlement(
    desk_of: Callable[[str], Any],
) -> None:
    trader = await desk_of("trader2")

    desks = await trader.desks()
    accounts = await trader.accounts()
    entitlements = await trader.entitlements()
    others = await trader.entitlements("trader1")
    got = await trader.get("MACRO-PROP")
    error, status = await refused(trader.get("EQ-PROP"))
    desk_error, desk_status = await refused(trader.accounts("EQUITIES"))

    assert desks == ["MACRO"]
    assert [a.account_id for a in accounts] == ["MACRO-CLIENT-1", "MACRO-PROP"]
    assert [e.username for e in entitlements] == ["trader2"]
    assert others == []
    assert got.account.account_id == "MACRO-PROP"
    # an account the trader is not entitled to is not found: its existence is not revealed
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(status).reason == "ACCOUNT_NOT_FOUND"
    assert desk_error.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(desk_status).reason == "DESK_NOT_FOUND"


async def test_a_trader_entitled_to_nothing_sees_the_house_account(desk_of: Callable[[str], Any]) -> None:
    admin = await desk_of("admin")
    await admin.entitle("trader2", [], reason="left the desk")
    trader = await desk_of("trader2")

    entitlements = await trader.entitlements()
    accounts = await trader.accounts()
    order = (await trader.submit()).order

    assert [(e.username, list(e.accounts), e.default_account) for e in entitlements] == [
        ("trader2", ["HOUSE"], "HOUSE")
    ]
    assert [a.account_id for a in accounts] == ["HOUSE"]
    assert (order.account, order.desk) == ("HOUSE", "HOUSE")


# ---------------------------------------------------------------- the admin's commands


async def test_admin_creates_a_desk_and_an_account_and_entitles_a_trader(desk_of: Callable[[str], Any]) -> None:
    admin = await desk_of("admin")

    desk = await admin.upsert_desk("RATES", "Rates")
    renamed = await admin.upsert_desk("RATES", "Rates and credit", reason="renamed")
    account = await admin.upsert_account("RATES-PROP", "RATES")
    client = await admin.upsert_account("RATES-CLIENT-1", "RATES", CLIENT)
    entitled = await admin.entitle("trader1", ["RATES-PROP", "EQ-PROP"], "RATES-PROP", reason="moved to rates")
    trader = await desk_of("trader1")
    order = (await trader.submit()).order
    got = await trader.get("RATES-PROP")

    assert desk.created
    assert (renamed.created, renamed.desk.name, renamed.desk.updated_by) == (False, "Rates and credit", "admin")
    assert (account.created, account.account.kind, account.account.desk_id) == (True, BOOK, "RATES")
    assert client.account.kind == CLIENT
    assert list(entitled.previous.accounts) == ["EQ-PROP", "EQ-CLIENT-1", "MACRO-PROP"]
    assert (list(entitled.entitlement.accounts), entitled.entitlement.default_account) == (
        ["RATES-PROP", "EQ-PROP"],
        "RATES-PROP",
    )
    assert (order.account, order.desk) == ("RATES-PROP", "RATES")
    assert list(got.account.traders) == ["trader1"]
    assert await trader.desks() == ["EQUITIES", "RATES"]


@pytest.mark.parametrize("username", ["risk1", "compliance1", "trader1"])
async def test_only_an_admin_may_change_the_hierarchy(desk_of: Callable[[str], Any], username: str) -> None:
    someone = await desk_of(username)

    for call in (
        someone.upsert_desk("RATES"),
        someone.upsert_account("RATES-PROP", "EQUITIES"),
        someone.entitle("trader2", ["EQ-PROP"]),
    ):
        error, status = await refused(call)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(status).reason == "ROLE_REQUIRED"


async def test_an_account_on_an_unknown_desk_is_desk_not_found(desk_of: Callable[[str], Any]) -> None:
    admin = await desk_of("admin")

    error, status = await refused(admin.upsert_account("RATES-PROP", "RATES"))

    assert error.code() == grpc.StatusCode.NOT_FOUND
    info = error_info(status)
    assert (info.reason, info.metadata["desk_id"]) == ("DESK_NOT_FOUND", "RATES")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda admin: admin.upsert_desk("rates desk"), "desk_id"),
        (lambda admin: admin.upsert_account("A" * 33, "EQUITIES"), "account_id"),
        (lambda admin: admin.upsert_desk("RATES", reason=" "), "reason"),
        (lambda admin: admin.upsert_account("RATES-PROP", "EQUITIES", reason=""), "reason"),
        (lambda admin: admin.entitle("trader2", ["EQ-PROP"], reason=""), "reason"),
        (lambda admin: admin.entitle("trader2", ["EQ-PROP"], default="MACRO-PROP"), "default_account"),
        (lambda admin: admin.entitle("", ["EQ-PROP"]), "username"),
    ],
)
async def test_a_bad_field_is_invalid_argument_naming_it(
    desk_of: Callable[[str], Any], call: Callable[[Desk], Any], field: str
) -> None:
    admin = await desk_of("admin")

    error, status = await refused(call(admin))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = unpack(status)["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert [v.field for v in bad.field_violations] == [field]


async def test_entitling_an_unknown_user_or_to_an_unknown_account_is_not_found(desk_of: Callable[[str], Any]) -> None:
    admin = await desk_of("admin")

    user_error, user_status = await refused(admin.entitle("nobody", ["EQ-PROP"]))
    account_error, account_status = await refused(admin.entitle("trader2", ["NOPE"]))

    assert user_error.code() == grpc.StatusCode.NOT_FOUND
    assert "nobody" in (user_error.details() or "")
    assert error_info(user_status).metadata["username"] == "nobody"
    assert account_error.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(account_status).reason == "ACCOUNT_NOT_FOUND"


async def test_an_account_keeps_its_desk(desk_of: Callable[[str], Any]) -> None:
    admin = await desk_of("admin")

    error, _ = await refused(admin.upsert_account("EQ-PROP", "MACRO"))
    kept = await admin.upsert_account("EQ-PROP", "", CLIENT, reason="now a client account")

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (kept.created, kept.account.desk_id, kept.account.kind) == (False, "EQUITIES", CLIENT)
    assert list(kept.account.traders) == ["trader1"]


# ---------------------------------------------------------------- orders booked to accounts


async def test_orders_are_booked_to_the_named_or_the_default_account(desk_of: Callable[[str], Any]) -> None:
    trader = await desk_of("trader1")

    default = (await trader.submit()).order
    named = (await trader.submit("MACRO-PROP")).order

    assert (default.account, default.desk) == ("EQ-PROP", "EQUITIES")
    assert (named.account, named.desk) == ("MACRO-PROP", "MACRO")


async def test_an_order_to_an_account_not_entitled_or_unknown_is_refused(desk_of: Callable[[str], Any]) -> None:
    trader = await desk_of("trader1")

    denied, denied_status = await refused(trader.submit("MACRO-CLIENT-1"))
    unknown, unknown_status = await refused(trader.submit("NOPE"))

    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    info = error_info(denied_status)
    assert info.reason == "ACCOUNT_NOT_ENTITLED"
    assert dict(info.metadata) == {"account_id": "MACRO-CLIENT-1", "username": "trader1"}
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(unknown_status).reason == "ACCOUNT_NOT_FOUND"


# ---------------------------------------------------------------- the audit log and a restart


async def test_changes_are_in_the_audit_log_with_who_and_why(desk_of: Callable[[str], Any]) -> None:
    admin = await desk_of("admin")
    await admin.upsert_desk("RATES", "Rates", reason="rates desk opens")
    await admin.upsert_account("RATES-PROP", "RATES", reason="its book")
    await admin.entitle("trader2", ["RATES-PROP"], reason="moved to rates")
    types = [E.EVENT_TYPE_DESK_UPSERTED, E.EVENT_TYPE_ACCOUNT_UPSERTED, E.EVENT_TYPE_TRADER_ENTITLED]
    request = audit_pb2.ListEventsRequest(from_sequence=1, filter=audit_pb2.EventFilter(event_types=types))
    compliance = await desk_of("compliance1")

    events = list((await compliance.audit.ListEvents(request, metadata=compliance.md)).events)

    seeded, mine = events[:-3], events[-3:]
    assert [e.event_type for e in seeded] == [types[0]] * 2 + [types[1]] * 4 + [types[2]] * 2
    assert {e.desk_upserted.reason for e in seeded if e.HasField("desk_upserted")} == {"the demo desk's accounts"}
    assert [e.event_type for e in mine] == types
    desk, account, entitled = mine
    assert (desk.desk_upserted.desk.updated_by, desk.desk_upserted.reason) == ("admin", "rates desk opens")
    assert desk.desk_upserted.created
    assert (account.account_upserted.account.updated_by, account.account_upserted.reason) == ("admin", "its book")
    assert (entitled.trader_entitled.username, entitled.trader_entitled.reason) == ("admin", "moved to rates")
    assert entitled.trader_entitled.entitlement.username == "trader2"
    assert len({desk.user_id, account.user_id, entitled.user_id}) == 1
    assert desk.user_id


async def test_the_hierarchy_and_entitlements_survive_a_restart_seeded_once(config: Config) -> None:
    async def snapshot(address: str, change: bool) -> tuple[Any, ...]:
        async with grpc.aio.insecure_channel(address) as channel:
            admin = Desk(channel, (await login(channel, "admin")).access_token)
            if change:
                await admin.upsert_desk("RATES", "Rates")
                await admin.upsert_account("RATES-PROP", "RATES")
                await admin.entitle("trader2", ["RATES-PROP", "MACRO-PROP"], reason="moved to rates")
            trader = Desk(channel, (await login(channel, "trader2")).access_token)
            order = (await trader.submit()).order
            return await admin.desks(), await admin.accounts(), await admin.entitlements(), order.account

    running = await serve(config)
    try:
        before = await snapshot(running.address, change=True)
    finally:
        await running.shutdown(grace=0.5)
    running = await serve(config)
    try:
        after = await snapshot(running.address, change=False)
        seeded = await running.accounts.seed_demo()
    finally:
        await running.shutdown(grace=0.5)

    assert after == before
    assert before[0] == ["EQUITIES", "HOUSE", "MACRO", "RATES"]
    assert before[3] == "RATES-PROP"
    assert seeded == 0


async def test_the_client_library_lists_changes_and_books_to_accounts(server: Any) -> None:
    from itirp_client import AsyncClient
    from itirp_client.errors import NotFound, PermissionDenied

    async with (
        await AsyncClient.connect(server.address, "admin", "admin123") as admin,
        await AsyncClient.connect(server.address, "trader2", "trader234") as trader,
    ):
        desk = await admin.upsert_desk("RATES", name="Rates", reason="opens")
        account = await admin.upsert_account("RATES-CLIENT-1", desk_id="RATES", kind="client", reason="a client")
        entitled = await admin.entitle_trader("trader2", ["RATES-CLIENT-1"], reason="moved")
        desks = await trader.list_desks()
        accounts = await trader.list_accounts()
        got = await trader.get_account("RATES-CLIENT-1")
        mine = await trader.list_entitlements()
        order = (await trader.submit_order("AAPL", "BUY", 10, "100", raise_on_reject=False)).order
        with pytest.raises(NotFound):
            await trader.get_account("EQ-PROP")
        with pytest.raises(PermissionDenied):
            await trader.submit_order("AAPL", "BUY", 10, "100", account="EQ-PROP")

    assert desk.created
    assert account.account.kind == CLIENT
    assert entitled.entitlement.default_account == "RATES-CLIENT-1"
    assert [d.desk_id for d in desks] == ["RATES"]
    assert [a.account_id for a in accounts] == ["RATES-CLIENT-1"]
    assert list(got.traders) == ["trader2"]
    assert [e.username for e in mine] == ["trader2"]
    assert (order.account, order.desk) == ("RATES-CLIENT-1", "RATES")
