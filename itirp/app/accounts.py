"""The accounts application service: the hierarchy's commands (desks, accounts, entitlements) with
their durability, who sees what of it, and the demo desk's accounts seeded at start.

Commands run through `TradingService.command` (refused on a read-only server or a failed log, a
refusal answered once the state it read is durable, an answer once its events are); reads wait
on the read barrier (`TradingService.settled_state`). A trader is entitled by username: the
user is found in users.db through the auth service.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from itirp.app.reference import SYSTEM_USER
from itirp.app.trading import TradingService
from itirp.auth.roles import Role
from itirp.auth.users import User
from itirp.core.accounts import EntitleTrader, UpsertAccount, UpsertDesk
from itirp.core.commands import Actor, required_reason
from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.domain.accounts import HOUSE_DESK, Account, AccountKind, Accounts, Desk, Entitlement
from itirp.domain.viewer import Viewer
from itirp.errors import FailedPrecondition, InvalidArgument, NotFound, Reason
from itirp.ids import new_uuid

__all__ = ["DEMO_ACCOUNTS", "DEMO_DESKS", "DEMO_ENTITLEMENTS", "AccountService", "DemoEntitlement"]

log = logging.getLogger("itirp.accounts")

#: The demo desk's desks (id, name), seeded with demo users on.
DEMO_DESKS: tuple[tuple[str, str], ...] = (("EQUITIES", "Equities"), ("MACRO", "Macro"))
#: The demo desk's accounts: (id, desk, name, kind).
DEMO_ACCOUNTS: tuple[tuple[str, str, str, AccountKind], ...] = (
    ("EQ-PROP", "EQUITIES", "Equities proprietary book", AccountKind.BOOK),
    ("EQ-CLIENT-1", "EQUITIES", "Equities client 1", AccountKind.CLIENT),
    ("MACRO-PROP", "MACRO", "Macro proprietary book", AccountKind.BOOK),
    ("MACRO-CLIENT-1", "MACRO", "Macro client 1", AccountKind.CLIENT),
)


@dataclass(frozen=True, slots=True)
class DemoEntitlement:
    username: str
    accounts: tuple[str, ...]
    default_account: str


#: The demo traders' entitlements (a demo user missing from users.db, or disabled, is skipped).
DEMO_ENTITLEMENTS: tuple[DemoEntitlement, ...] = (
    DemoEntitlement("trader1", ("EQ-PROP", "EQ-CLIENT-1", "MACRO-PROP"), "EQ-PROP"),
    DemoEntitlement("trader2", ("MACRO-PROP", "MACRO-CLIENT-1"), "MACRO-PROP"),
)

DEMO_REASON = "the demo desk's accounts"

FindUser = Callable[[str], Awaitable[User | None]]


class AccountService:
    def __init__(self, core: Sequencer, trading: TradingService, find_user: FindUser, *, read_only: bool) -> None:
        self._core = core
        self._trading = trading
        self._find_user = find_user
        self._read_only = read_only

    @property
    def registry(self) -> Accounts:
        return self._core.state.accounts

    # ------------------------------------------------------------------ reads (after the barrier)

    async def desks(self, viewer: Viewer) -> list[Desk]:
        await self._trading.settled_state()
        return self.registry.visible_desks(viewer)

    async def accounts(self, viewer: Viewer, desk_id: str = "") -> list[tuple[Account, list[str]]]:
        """The accounts `viewer` sees (of `desk_id` when given), by id, each with its traders."""
        await self._trading.settled_state()
        registry = self.registry
        if desk_id and desk_id not in {d.desk_id for d in registry.visible_desks(viewer)}:
            raise NotFound(
                f"desk {desk_id} does not exist (see ListDesks)",
                reason=Reason.DESK_NOT_FOUND,
                metadata={"desk_id": desk_id},
            )
        return [
            (account, self._traders(account.account_id))
            for account in registry.visible_accounts(viewer)
            if not desk_id or account.desk_id == desk_id
        ]

    async def account(self, viewer: Viewer, account_id: str) -> tuple[Account, list[str]]:
        """One account the viewer sees; NOT_FOUND for one they do not (its existence not revealed)."""
        await self._trading.settled_state()
        if not account_id:
            raise InvalidArgument("account_id", "required")
        for account in self.registry.visible_accounts(viewer):
            if account.account_id == account_id:
                return account, self._traders(account_id)
        raise NotFound(
            f"no account {account_id} (see ListAccounts)",
            reason=Reason.ACCOUNT_NOT_FOUND,
            metadata={"account_id": account_id},
        )

    async def entitlements(self, actor: Actor, username: str = "") -> list[Entitlement]:
        """By username: every trader's (of `username` when given) to RISK_MANAGER and above; a
        TRADER sees only their own (the house account when they are entitled to none)."""
        await self._trading.settled_state()
        registry = self.registry
        if not actor.viewer.sees_all:
            if username and username != actor.username:
                return []
            return [registry.entitlement_of(actor.user_id, actor.username)]
        listed = sorted(registry.entitlements.values(), key=lambda e: (e.username, e.user_id))
        return [e for e in listed if not username or e.username == username]

    def _traders(self, account_id: str) -> list[str]:
        return sorted(self.registry.traders_of(account_id))

    # ------------------------------------------------------------------ commands (ADMIN)

    async def upsert_desk(self, command: UpsertDesk) -> tuple[Desk, bool]:
        """(the desk as it is now, whether it is new)."""

        def run(now_us: int) -> tuple[tuple[Desk, bool], Committed]:
            desk, created, committed = self._core.accounts.upsert_desk(command, now_us)
            return (desk, created), committed

        return await self._trading.run(run)

    async def upsert_account(self, command: UpsertAccount) -> tuple[Account, list[str], bool]:
        """(the account as it is now, its traders, whether it is new)."""

        def run(now_us: int) -> tuple[tuple[Account, bool], Committed]:
            account, created, committed = self._core.accounts.upsert_account(command, now_us)
            return (account, created), committed

        account, created = await self._trading.run(run)
        return account, self._traders(account.account_id), created

    async def entitle(
        self, actor: Actor, username: str, accounts: tuple[str, ...], default_account: str, reason: str
    ) -> tuple[Entitlement, Entitlement]:
        """Replace the accounts `username` may book to; (their entitlement before, after). An
        unknown user is NOT_FOUND, a disabled one FAILED_PRECONDITION."""
        user = await self._find_user(username) if username else None

        def run(now_us: int) -> tuple[tuple[Entitlement, Entitlement], Committed]:
            stripped = required_reason(reason)
            if not username:
                raise InvalidArgument("username", "required: the trader's username")
            if user is None:
                raise NotFound(f"no user {username} (see `itirp users list`)", metadata={"username": username})
            if user.disabled:
                raise FailedPrecondition(f"user {username} is disabled", metadata={"username": username})
            command = EntitleTrader(
                actor=actor,
                user_id=user.user_id,
                username=user.username,
                accounts=accounts,
                default_account=default_account,
                reason=stripped,
            )
            before, after, committed = self._core.accounts.entitle(command, now_us)
            return (before, after), committed

        return await self._trading.run(run)

    # ------------------------------------------------------------------ the demo desk

    async def seed_demo(self) -> int:
        """The demo desk's desks, accounts and entitlements, once: only when no desk but the house
        desk exists, and never on a read-only server. Returns how many events were recorded."""
        if self._read_only or set(self.registry.desks) != {HOUSE_DESK}:
            return 0
        actor = Actor(viewer=Viewer(SYSTEM_USER, Role.ADMIN), username=SYSTEM_USER, correlation_id=new_uuid())
        recorded = 0
        for desk_id, name in DEMO_DESKS:
            await self.upsert_desk(UpsertDesk(actor=actor, desk_id=desk_id, name=name, reason=DEMO_REASON))
            recorded += 1
        for account_id, desk_id, name, kind in DEMO_ACCOUNTS:
            command = UpsertAccount(
                actor=actor, account_id=account_id, desk_id=desk_id, name=name, kind=kind, reason=DEMO_REASON
            )
            await self.upsert_account(command)
            recorded += 1
        for demo in DEMO_ENTITLEMENTS:
            user = await self._find_user(demo.username)
            if user is None or user.disabled:
                continue
            await self.entitle(actor, demo.username, demo.accounts, demo.default_account, DEMO_REASON)
            recorded += 1
        log.info("the demo desk's accounts seeded", extra={"events": recorded})
        return recorded
