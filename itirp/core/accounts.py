"""The account commands (desks, accounts, entitlements; each an event with who and why), their
fold into `TradingState.accounts`, and the protobuf forms of the hierarchy."""

from __future__ import annotations

from dataclasses import dataclass

from itirp.core.commands import Actor, required_reason
from itirp.core.protos import KIND_PROTO
from itirp.core.recorder import Committed, Recorder
from itirp.core.state import TradingState
from itirp.domain.accounts import Account, AccountKind, Desk, Entitlement, valid_id
from itirp.errors import FailedPrecondition, InvalidArgument, NotFound, Reason
from itirp.events import timestamp_from_us
from itirp.v1 import account_pb2, events_pb2

__all__ = [
    "AccountCommands",
    "EntitleTrader",
    "UpsertAccount",
    "UpsertDesk",
    "account_proto",
    "desk_proto",
    "entitlement_proto",
]

_ID_RULE = "1-32 characters: upper-case letters, digits, '-' and '_'"


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertDesk:
    actor: Actor
    desk_id: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertAccount:
    actor: Actor
    account_id: str
    desk_id: str
    name: str
    kind: AccountKind | None
    """None: BOOK when new, else kept."""
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EntitleTrader:
    """Replace a trader's entitlements (`user_id` resolved from `username` by the caller)."""

    actor: Actor
    user_id: str
    username: str
    accounts: tuple[str, ...]
    default_account: str
    reason: str


def desk_proto(desk: Desk) -> account_pb2.Desk:
    msg = account_pb2.Desk(desk_id=desk.desk_id, name=desk.name, updated_by=desk.updated_by)
    if desk.updated_us:  # the house desk was never changed: no time
        msg.updated_at.CopyFrom(timestamp_from_us(desk.updated_us))
    return msg


def account_proto(account: Account, traders: list[str] | None = None) -> account_pb2.Account:
    msg = account_pb2.Account(
        account_id=account.account_id,
        desk_id=account.desk_id,
        name=account.name,
        kind=KIND_PROTO[account.kind],
        traders=traders or [],
        updated_by=account.updated_by,
    )
    if account.updated_us:  # the house account was never changed: no time
        msg.updated_at.CopyFrom(timestamp_from_us(account.updated_us))
    return msg


def entitlement_proto(entitlement: Entitlement) -> account_pb2.Entitlement:
    return account_pb2.Entitlement(
        username=entitlement.username,
        user_id=entitlement.user_id,
        accounts=list(entitlement.accounts),
        default_account=entitlement.default_account,
    )


def _checked_id(field: str, value: str) -> str:
    if not valid_id(value):
        raise InvalidArgument(field, f"{value!r} is not an id ({_ID_RULE})")
    return value


class AccountCommands:
    def __init__(self, state: TradingState, recorder: Recorder) -> None:
        self._state = state
        self._recorder = recorder

    def upsert_desk(self, command: UpsertDesk, now_us: int) -> tuple[Desk, bool, Committed]:
        reason = required_reason(command.reason)
        desk_id = _checked_id("desk_id", command.desk_id)
        name = command.name.strip() or desk_id
        existing = self._state.accounts.desks.get(desk_id)
        desk = Desk(desk_id, name, now_us, command.actor.username)
        payload = events_pb2.DeskUpserted(desk=desk_proto(desk), created=existing is None, reason=reason)
        committed = self._recorder.emit([(payload, command.actor.envelope())], now_us)
        return self._state.accounts.desks[desk_id], existing is None, committed

    def upsert_account(self, command: UpsertAccount, now_us: int) -> tuple[Account, bool, Committed]:
        reason = required_reason(command.reason)
        account_id = _checked_id("account_id", command.account_id)
        registry = self._state.accounts
        existing = registry.accounts.get(account_id)
        desk_id = command.desk_id or (existing.desk_id if existing is not None else "")
        if not desk_id:
            raise InvalidArgument("desk_id", "required for a new account")
        if desk_id not in registry.desks:
            raise NotFound(
                f"desk {desk_id} does not exist (see ListDesks)",
                reason=Reason.DESK_NOT_FOUND,
                metadata={"desk_id": desk_id},
            )
        if existing is not None and desk_id != existing.desk_id:
            raise FailedPrecondition(
                f"account {account_id} belongs to desk {existing.desk_id}; an account's desk does not change",
                metadata={"account_id": account_id, "desk_id": existing.desk_id},
            )
        kind = command.kind or (existing.kind if existing is not None else AccountKind.BOOK)
        name = command.name.strip() or (existing.name if existing is not None else account_id)
        account = Account(account_id, desk_id, name, kind, now_us, command.actor.username)
        payload = events_pb2.AccountUpserted(account=account_proto(account), created=existing is None, reason=reason)
        committed = self._recorder.emit([(payload, command.actor.envelope())], now_us)
        return registry.accounts[account_id], existing is None, committed

    def entitle(self, command: EntitleTrader, now_us: int) -> tuple[Entitlement, Entitlement, Committed]:
        """(entitlement before, after, events)."""
        reason = required_reason(command.reason)
        registry = self._state.accounts
        accounts = tuple(dict.fromkeys(command.accounts))  # order kept, repeats dropped
        unknown = [a for a in accounts if a not in registry.accounts]
        if unknown:
            raise NotFound(
                f"no such account: {', '.join(unknown)} (see ListAccounts)",
                reason=Reason.ACCOUNT_NOT_FOUND,
                metadata={"account_id": unknown[0]},
            )
        default = command.default_account or (accounts[0] if accounts else "")
        if default and default not in accounts:
            raise InvalidArgument("default_account", f"{default} is not one of the accounts given")
        before = registry.entitlements.get(command.user_id) or Entitlement(command.user_id, command.username, (), "")
        after = Entitlement(command.user_id, command.username, accounts, default)
        payload = events_pb2.TraderEntitled(
            entitlement=entitlement_proto(after), reason=reason, username=command.actor.username
        )
        committed = self._recorder.emit([(payload, command.actor.envelope())], now_us)
        return before, after, committed
