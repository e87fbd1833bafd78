"""The one role table: complete, ordered, deny by default."""

from __future__ import annotations

import pytest

from itirp.auth.roles import OPEN, RPC_MIN_ROLE, Role, required_role
from itirp.v1 import (
    account_pb2,
    audit_pb2,
    auth_pb2,
    market_data_pb2,
    order_pb2,
    reference_data_pb2,
    risk_pb2,
    system_pb2,
)


def _api_methods() -> set[str]:
    methods = set()
    modules = (auth_pb2, order_pb2, risk_pb2, audit_pb2, system_pb2, market_data_pb2, reference_data_pb2, account_pb2)
    for module in modules:
        for service in module.DESCRIPTOR.services_by_name.values():
            methods.update(f"/{service.full_name}/{m.name}" for m in service.methods)
    return methods


def test_every_rpc_of_the_api_has_exactly_one_rule() -> None:
    assert set(RPC_MIN_ROLE) == _api_methods()


def test_roles_are_ordered_each_holding_the_rights_below() -> None:
    assert Role.TRADER < Role.RISK_MANAGER < Role.COMPLIANCE < Role.ADMIN


def test_only_login_health_and_reflection_are_open() -> None:
    open_api = {m for m, rule in RPC_MIN_ROLE.items() if rule is OPEN}
    assert open_api == {"/itirp.v1.AuthService/Login"}
    assert required_role("/grpc.health.v1.Health/Check") is OPEN
    assert required_role("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo") is OPEN


def test_unknown_methods_are_refused() -> None:
    assert required_role("/itirp.v1.OrderService/DeleteEverything") is None


@pytest.mark.parametrize(
    ("method", "role"),
    [
        ("/itirp.v1.OrderService/SubmitOrder", Role.TRADER),
        ("/itirp.v1.RiskService/GetRiskMetrics", Role.TRADER),
        ("/itirp.v1.RiskService/ListPositions", Role.TRADER),
        ("/itirp.v1.RiskService/UpdateRiskLimits", Role.RISK_MANAGER),
        ("/itirp.v1.RiskService/SetKillSwitch", Role.RISK_MANAGER),
        ("/itirp.v1.AuditService/ListEvents", Role.COMPLIANCE),
        ("/itirp.v1.AuditService/SubscribeEvents", Role.COMPLIANCE),
        ("/itirp.v1.AuditService/VerifyAuditLog", Role.COMPLIANCE),
        ("/itirp.v1.SystemService/GetSystemInfo", Role.TRADER),
    ],
)
def test_rbac_matrix_of_the_rest_design(method: str, role: Role) -> None:
    assert required_role(method) is role


def test_role_names_parse_with_or_without_prefix() -> None:
    assert Role.parse("risk_manager") is Role.RISK_MANAGER
    assert Role.parse("ROLE_ADMIN") is Role.ADMIN
    with pytest.raises(ValueError, match="unknown role"):
        Role.parse("CEO")
