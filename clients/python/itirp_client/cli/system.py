"""`info`: the server (and in a two-node layout, the node and who leads); `metrics`: its numbers."""

from __future__ import annotations

from typing import Any

from itirp.v1 import system_pb2
from itirp_client.cli.base import EXIT_OK, AddCommand, Context
from itirp_client.cli.render import as_dict, emit_json, key_values, millis, money, status_name, when
from itirp_client.cli.tokens import session

__all__ = ["register"]


def register(add: AddCommand) -> None:
    add("info", "the server: version, uptime, node, role, term, leader, store", cmd_info)
    add("metrics", "system metrics: orders, events, circuit breaker, risk, submit latency", cmd_metrics)


def node_role(role: int) -> str:
    return system_pb2.NodeRole.Name(role).removeprefix("NODE_ROLE_") if role else "-"


def cmd_info(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        info = client.system_info()
        address = client.address
    if ctx.json:
        emit_json({**as_dict(info), "address": address})
        return EXIT_OK
    pairs: list[tuple[str, Any]] = [
        ("server", f"{info.name} {info.version}"),
        ("address", address),  # the node that answered (of those --server names)
        ("node", info.node_id or "-"),
        ("role", node_role(info.role)),
        ("term", info.term),
        ("leader", info.leader_address or "-"),
        ("store", info.store or "-"),
        ("read only", "yes" if info.read_only else "no"),
        ("started", when(info.start_time)),
        ("uptime", f"{info.uptime.seconds} s"),
    ]
    print(key_values(pairs))
    return EXIT_OK


def cmd_metrics(ctx: Context) -> int:
    with session(ctx.server, ctx.transport) as client:
        m = client.system_metrics()
    if ctx.json:
        emit_json(as_dict(m))
        return EXIT_OK
    breaker = system_pb2.CircuitBreakerState.Name(m.circuit_breaker.state).removeprefix("CIRCUIT_BREAKER_STATE_")
    breaker += f" ({m.circuit_breaker.consecutive_failures} consecutive failures)"
    if m.circuit_breaker.open_until.seconds:
        breaker += f", open until {when(m.circuit_breaker.open_until)}"
    lat = m.submit_latency
    r = m.risk_metrics
    pairs: list[tuple[str, Any]] = [("orders", m.total_orders)]
    pairs += [(f"  {status_name(c.status)}", c.count) for c in m.orders_by_status]
    pairs += [
        ("events", m.total_events),
        ("circuit breaker", breaker),
        ("submit latency", f"p50 {millis(lat.p50)}, p99 {millis(lat.p99)} over {lat.count} orders"),
        ("net exposure", money(r.net_exposure)),
        ("gross exposure", money(r.gross_exposure)),
        ("daily volume", money(r.daily_volume)),
        ("kill switch", "ON" if r.kill_switch_active else "off"),
        ("as of", when(m.timestamp)),
    ]
    print(key_values(pairs))
    return EXIT_OK
