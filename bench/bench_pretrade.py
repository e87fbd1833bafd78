"""Pre-trade benchmark: the in-process cost of the whole pre-trade check of one order across its
four levels (firm, desk, account, trader) and every control (`itirp.domain.controls.pre_trade`),
beside one level's `RiskEngine.check` alone.

Run: .venv/bin/python bench/bench_pretrade.py [--symbols N] [--checks N] [--runs R] [--seed SEED]

The book (built untimed, seeded): two desks, four accounts, four traders; 100 symbols, each with a
filled position and three working orders in every account, and a mark. Every level carries every
limit (position, daily volume, net, gross, credit, order value, order quantity, daily loss), the
accounts have instrument overrides, and every control is armed somewhere else than on the orders
checked, so each is looked at and none stops the order early: kill switches and HALTED on other
scopes, REDUCING on another account, restricted lists (firm and account) on other symbols, the
price collar, the duplicate-order index (full of recent orders) and the repeated-execution
throttle. The ten controls: kill switch, trading state (HALTED), execution throttle, restricted
list, price collar, REDUCING / daily loss, duplicate order, order value and quantity, and the
exposure limits (position, volume, net, gross, credit) at each of the four levels.

Two mixes, as in bench_risk.py: "pass" (every order within every limit) and "breach" (the
exposure limits of every level set to 1, so each order collects a violation per limit and level,
with its message). Prints microseconds per check, best and median over --runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from decimal import Decimal

from itirp.domain.accounts import FIRM, Level, Scope, levels_of
from itirp.domain.controls import ControlNote, Controls, PreTradeOrder, Restriction, Settings, TradingMode, pre_trade
from itirp.domain.risk import InstrumentLimits, RiskLimits
from itirp.domain.risk_levels import RiskLevels
from itirp.domain.risk_violations import price_band_violation

ACCOUNTS = {"EQ-A": "EQ", "EQ-B": "EQ", "FX-A": "FX", "FX-B": "FX"}
TRADERS = {"EQ-A": "t1", "EQ-B": "t2", "FX-A": "t3", "FX-B": "t4"}
BIG = Decimal("1000000000000")
NOTE = ControlNote("bench", "risk1", 0)


def limits(amount: Decimal) -> RiskLimits:
    return RiskLimits(
        max_position_size=amount,
        max_daily_volume=amount,
        max_net_exposure=amount,
        max_gross_exposure=amount,
        max_order_value=BIG,
        max_order_quantity=BIG,
        credit_limit=amount,
        daily_loss_limit=BIG,
    )


def build(symbols: int, seed: int) -> tuple[RiskLevels, Controls, list[str], list[tuple[Scope, ...]]]:
    rng = random.Random(seed)
    risk, controls = RiskLevels(limits(BIG)), Controls()
    names = [f"S{n:03d}" for n in range(symbols)]
    every = [levels_of(desk, account, TRADERS[account]) for account, desk in ACCOUNTS.items()]
    for levels in every:
        for scope in levels[1:]:
            risk.set_limits(limits(BIG), scope)
        for name in names[:10]:
            risk.set_instrument_limits(levels[2], name, InstrumentLimits(max_order_value=BIG))
    n = 0
    for name in names:
        mid = 100 + rng.randint(-2000, 2000) / 100
        risk.set_mark(name, Decimal(f"{mid:.2f}"))
        for levels in every:
            side = rng.choice(["BUY", "SELL"])
            price = Decimal(f"{mid:.2f}")
            risk.reserve(f"f{n}", symbol=name, side=side, quantity=rng.randint(100, 1000), price=price, levels=levels)
            risk.fill(f"f{n}", quantity=100, price=price)
            n += 1
            for working_side in ("BUY", "BUY", "SELL"):
                offset = rng.randint(1, 50) / 100
                at = Decimal(f"{mid - offset if working_side == 'BUY' else mid + offset:.2f}")
                qty = rng.randint(1, 500)
                risk.reserve(f"w{n}", symbol=name, side=working_side, quantity=qty, price=at, levels=levels)
                controls.order_approved(levels[2].id, name, working_side, qty, at, 0)
                n += 1
    # armed elsewhere: looked at on every order, stopping none of them
    controls.set_kill_switch(Scope(Level.TRADER, "someone-else"), True, NOTE)
    controls.set_kill_switch(Scope(Level.INSTRUMENT, "ZZZ"), True, NOTE)
    controls.set_mode(Scope(Level.DESK, "OTHER"), TradingMode.HALTED, NOTE)
    controls.set_mode(Scope(Level.ACCOUNT, "OTHER"), TradingMode.REDUCING, NOTE)
    controls.restrict(FIRM, "ZZZ", Restriction.NO_TRADING, NOTE)
    controls.restrict(Scope(Level.ACCOUNT, "EQ-A"), "YYY", Restriction.SELL_ONLY, NOTE)
    for account in ACCOUNTS:
        for t in range(50):
            controls.execution(account, t)
    return risk, controls, names, every


Order = tuple[PreTradeOrder, Decimal]


def orders(names: list[str], every: list[tuple[Scope, ...]], count: int, seed: int) -> list[Order]:
    rng = random.Random(seed + 1)
    out = []
    for i in range(count):
        price = Decimal(f"{90 + rng.randint(0, 2000) / 100:.2f}")
        order = PreTradeOrder(
            rng.choice(names),
            rng.choice(["BUY", "SELL"]),
            rng.randint(1, 100),
            price,
            rng.choice(every),
            10_000_000 + i,
        )
        out.append((order, Decimal(100)))
    return out


def time_checks(risk: RiskLevels, controls: Controls, mix: list[Order], settings: Settings) -> float:
    """Microseconds per whole pre-trade check (price collar included) over the mix."""
    start = time.perf_counter()
    for order, reference in mix:
        band = price_band_violation(order.price, reference, Decimal(50))
        pre_trade(risk, controls, order, band=band, settings=settings)
    return (time.perf_counter() - start) / len(mix) * 1e6


def time_engine(risk: RiskLevels, mix: list[Order]) -> float:
    """Microseconds per `RiskEngine.check` of the firm alone (the one-level check of before)."""
    check = risk.firm.check
    start = time.perf_counter()
    for order, _ in mix:
        check(symbol=order.symbol, side=order.side, quantity=order.quantity, price=order.price)
    return (time.perf_counter() - start) / len(mix) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    risk, controls, names, every = build(args.symbols, args.seed)
    mix = orders(names, every, args.checks, args.seed)
    settings = Settings(
        duplicate_window_us=500_000, execution_throttle_fills=1_000, execution_throttle_window_us=1_000_000
    )
    sample = [pre_trade(risk, controls, o, settings=settings).violations for o, _ in mix[:1000]]
    assert not any(sample), sample[:3]
    strict = limits(Decimal(1))

    results: dict[str, list[float]] = {"pass": [], "breach": [], "one level": []}
    for _ in range(args.runs):  # alternate the mixes so a noisy neighbour hurts all alike
        for scope in list(risk.engines):
            risk.set_limits(limits(BIG), scope)
        results["pass"].append(time_checks(risk, controls, mix, settings))
        results["one level"].append(time_engine(risk, mix))
        for scope in list(risk.engines):
            risk.set_limits(strict, scope)
        results["breach"].append(time_checks(risk, controls, mix, settings))

    print(
        f"pre_trade: 4 levels x 10 controls, {args.symbols} symbols x 4 accounts x 4 working orders,"
        f" {args.checks} checks x {args.runs}"
    )
    for name, figures in results.items():
        label = "RiskEngine.check (firm only)" if name == "one level" else f"pre_trade, {name}"
        print(f"  {label:>30}: best {min(figures):6.2f} us/check, median {statistics.median(figures):6.2f} us/check")


if __name__ == "__main__":
    main()
