"""Roles and the one table of RPC -> minimum role.

Each role holds the rights of the roles below it: TRADER < RISK_MANAGER < COMPLIANCE < ADMIN.
The table names every RPC of the `itirp.v1` API by its full method path; a method missing from it
is refused (deny by default), and a unit test checks the table covers every RPC in the protos.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["OPEN", "OPEN_PREFIXES", "RPC_MIN_ROLE", "Role", "required_role"]


class Role(enum.IntEnum):
    """Ordered so that `role >= Role.RISK_MANAGER` reads as the rule it is."""

    TRADER = 1
    RISK_MANAGER = 2
    COMPLIANCE = 3
    ADMIN = 4

    @property
    def proto_name(self) -> str:
        """The `itirp.v1.Role` enum name ("ROLE_TRADER"): what the API and error metadata carry."""
        return f"ROLE_{self.name}"

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper().removeprefix("ROLE_")]
        except KeyError:
            choices = ", ".join(r.name for r in cls)
            raise ValueError(f"unknown role {name!r}; one of {choices}") from None


class _Open:
    def __repr__(self) -> str:
        return "OPEN"


#: Marks a method that needs no token.
OPEN: Final = _Open()

#: Infrastructure services that are open without a token: health checks and reflection.
OPEN_PREFIXES: Final = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

_T, _RM, _C = Role.TRADER, Role.RISK_MANAGER, Role.COMPLIANCE

RPC_MIN_ROLE: Final[dict[str, Role | _Open]] = {
    "/itirp.v1.AuthService/Login": OPEN,
    "/itirp.v1.AuthService/WhoAmI": _T,
    "/itirp.v1.AuthService/RefreshToken": _T,
    "/itirp.v1.AuthService/Logout": _T,
    "/itirp.v1.OrderService/SubmitOrder": _T,
    "/itirp.v1.OrderService/GetOrder": _T,
    "/itirp.v1.OrderService/ListOrders": _T,
    "/itirp.v1.OrderService/CancelOrder": _T,
    "/itirp.v1.OrderService/StreamOrderUpdates": _T,
    "/itirp.v1.OrderService/AmendOrder": _T,
    "/itirp.v1.OrderService/CancelAllOrders": _T,
    "/itirp.v1.OrderService/SetCancelAllAfter": _T,
    "/itirp.v1.OrderService/OrderEntry": _T,
    "/itirp.v1.MarketDataService/GetOrderBook": _T,
    "/itirp.v1.MarketDataService/StreamOrderBook": _T,
    "/itirp.v1.MarketDataService/StreamTrades": _T,
    "/itirp.v1.MarketDataService/GetQuote": _T,
    "/itirp.v1.MarketDataService/StreamQuotes": _T,
    "/itirp.v1.ReferenceDataService/ListInstruments": _T,
    "/itirp.v1.ReferenceDataService/GetInstrument": _T,
    "/itirp.v1.ReferenceDataService/UpsertInstrument": _RM,
    "/itirp.v1.ReferenceDataService/SetInstrumentStatus": _RM,
    "/itirp.v1.RiskService/GetRiskMetrics": _T,
    "/itirp.v1.RiskService/GetRiskLimits": _T,
    "/itirp.v1.RiskService/ListPositions": _T,
    "/itirp.v1.RiskService/UpdateRiskLimits": _RM,
    "/itirp.v1.RiskService/SetKillSwitch": _RM,
    "/itirp.v1.RiskService/SetTradingState": _RM,
    "/itirp.v1.RiskService/SetRestriction": _RM,
    "/itirp.v1.RiskService/ListControls": _T,
    "/itirp.v1.RiskService/ReleaseOrder": _RM,
    "/itirp.v1.AccountService/ListDesks": _T,
    "/itirp.v1.AccountService/ListAccounts": _T,
    "/itirp.v1.AccountService/GetAccount": _T,
    "/itirp.v1.AccountService/ListEntitlements": _T,
    "/itirp.v1.AccountService/UpsertDesk": Role.ADMIN,
    "/itirp.v1.AccountService/UpsertAccount": Role.ADMIN,
    "/itirp.v1.AccountService/EntitleTrader": Role.ADMIN,
    "/itirp.v1.AuditService/ListEvents": _C,
    "/itirp.v1.AuditService/GetCorrelationTrail": _C,
    "/itirp.v1.AuditService/GetOrderTrail": _C,
    "/itirp.v1.AuditService/SubscribeEvents": _C,
    "/itirp.v1.AuditService/VerifyAuditLog": _C,
    "/itirp.v1.SystemService/GetSystemInfo": _T,
    "/itirp.v1.SystemService/GetSystemMetrics": _T,
}


def required_role(method: str) -> Role | _Open | None:
    """The minimum role for a full method path, OPEN, or None for an unknown method (refused)."""
    rule = RPC_MIN_ROLE.get(method)
    if rule is not None:
        return rule
    if method.startswith(OPEN_PREFIXES):
        return OPEN
    return None
