"""Pre-trade risk benchmark: the in-process cost of one `RiskEngine.check`.

Run: .venv/bin/python bench/bench_risk.py [--symbols N] [--checks N] [--runs R] [--seed SEED] [--no-marks]

The book (built untimed, seeded): 100 symbols, each with a filled position (long or short) and
three working orders (two buys, one sell) priced near 100; every symbol has a mark when the
engine takes marks (`set_mark`; the engine before marks, or --no-marks, runs the same book without them).

Two mixes, each a fixed list of (symbol, side, quantity, price) checked in a loop with no timing
inside, GC on as in the server:

* "pass": small orders on random symbols, both sides, every one within the limits (the common
  case: the figures are computed, no violation is built);
* "breach": the same orders against limits of 1, so every check builds four violations with
  their messages (the refusal path).

Prints microseconds per check, best and median over --runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from decimal import Decimal

from itirp.domain.risk import RiskEngine, RiskLimits

Order = tuple[str, str, int, Decimal]


def build(symbols: int, seed: int, marks: bool = True) -> tuple[RiskEngine, list[str]]:
    rng = random.Random(seed)
    engine = RiskEngine(RiskLimits(*(Decimal("1000000000000") for _ in range(4))))
    names = [f"S{n:03d}" for n in range(symbols)]
    set_mark = getattr(engine, "set_mark", None) if marks else None
    n = 0
    for name in names:
        mid = 100 + rng.randint(-2000, 2000) / 100
        side = rng.choice(["BUY", "SELL"])
        engine.reserve(f"f{n}", symbol=name, side=side, quantity=rng.randint(100, 1000), price=Decimal(f"{mid:.2f}"))
        engine.fill(f"f{n}", quantity=100, price=Decimal(f"{mid:.2f}"))  # partly filled: still working
        n += 1
        for working_side in ("BUY", "BUY", "SELL"):
            offset = rng.randint(1, 50) / 100
            price = mid - offset if working_side == "BUY" else mid + offset
            engine.reserve(
                f"w{n}", symbol=name, side=working_side, quantity=rng.randint(1, 500), price=Decimal(f"{price:.2f}")
            )
            n += 1
        if set_mark is not None:
            set_mark(name, Decimal(f"{mid + rng.randint(-10, 10) / 100:.2f}"))
    return engine, names


def orders(names: list[str], count: int, seed: int) -> list[Order]:
    rng = random.Random(seed + 1)
    return [
        (
            rng.choice(names),
            rng.choice(["BUY", "SELL"]),
            rng.randint(1, 100),
            Decimal(f"{90 + rng.randint(0, 2000) / 100:.2f}"),
        )
        for _ in range(count)
    ]


def time_checks(engine: RiskEngine, mix: list[Order]) -> float:
    """Microseconds per check over the whole mix."""
    check = engine.check
    start = time.perf_counter()
    for symbol, side, quantity, price in mix:
        check(symbol=symbol, side=side, quantity=quantity, price=price)
    return (time.perf_counter() - start) / len(mix) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--checks", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-marks", action="store_true", help="build the book without marks")
    args = parser.parse_args()

    engine, names = build(args.symbols, args.seed, marks=not args.no_marks)
    mix = orders(names, args.checks, args.seed)
    strict = RiskLimits(*(Decimal(1) for _ in range(4)))
    loose = engine.limits
    assert all(not engine.check(symbol=s, side=d, quantity=q, price=p) for s, d, q, p in mix[:1000])

    results: dict[str, list[float]] = {"pass": [], "breach": []}
    for _ in range(args.runs):  # alternate the mixes so a noisy neighbour hurts both alike
        engine.set_limits(loose)
        results["pass"].append(time_checks(engine, mix))
        engine.set_limits(strict)
        results["breach"].append(time_checks(engine, mix))

    if not hasattr(engine, "set_mark"):
        marks = "no marks (engine before marks)"
    else:
        marks = "no marks" if args.no_marks else "with marks"
    print(f"RiskEngine.check, {args.symbols} symbols x 4 working orders, {marks}, {args.checks} checks x {args.runs}")
    for name, figures in results.items():
        print(f"  {name:>6}: best {min(figures):6.2f} us/check, median {statistics.median(figures):6.2f} us/check")


if __name__ == "__main__":
    main()
