"""`itirp instruments import FILE.csv` and `itirp instruments list`: the instrument master from
the shell, without the server.

Import opens the event log for writing (the single-writer lock: it refuses while a server holds
the data folder), verifies its chain, rebuilds the state, and records each instrument that differs
from the one listed as an INSTRUMENT_UPSERTED event (who: "system" or `--user`; why: `--reason`),
through the same core command the server runs. A file without a `status` column leaves the status
of listed instruments as it is (a halted instrument stays halted). List reads the log read-only,
so it also works while the server runs.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from itirp.app.application import build_trading, open_event_store
from itirp.app.reference import SYSTEM_USER, ReferenceService
from itirp.app.replay import replay
from itirp.auth.roles import Role
from itirp.config import Config, ConfigError
from itirp.core.commands import Actor, UpsertInstrument
from itirp.core.journal import Journal
from itirp.core.sequencer import Sequencer
from itirp.domain.instrument_lists import CSV_COLUMNS, InstrumentListError, parse_instruments_csv
from itirp.domain.instruments import Instrument
from itirp.domain.viewer import Viewer
from itirp.errors import ItirpError
from itirp.ids import new_uuid
from itirp.store import SqliteEventStore, StoreError, TamperedLogError

if TYPE_CHECKING:
    from itirp.app.application import LogStore

__all__ = ["Change", "changes", "import_instruments", "list_instruments", "main_import", "main_list"]

#: The fields compared (who changed an instrument and when aside), in the order changes print.
_FIELDS = tuple(c for c in CSV_COLUMNS if c != "symbol")


@dataclass(frozen=True, slots=True)
class Change:
    """One instrument the import recorded: new, or which fields changed as (field, old, new)."""

    symbol: str
    created: bool
    fields: tuple[tuple[str, str, str], ...] = ()

    def __str__(self) -> str:
        if self.created:
            return f"listed  {self.symbol}"
        moved = ", ".join(f"{f} {old or '-'} -> {new or '-'}" for f, old, new in self.fields)
        return f"changed {self.symbol}: {moved}"


def _text(value: object) -> str:
    return "" if value is None else str(value)


def changes(current: Instrument, wanted: Instrument, *, with_status: bool = True) -> tuple[tuple[str, str, str], ...]:
    """The fields where `wanted` differs from `current`, as (field, old, new) text."""
    fields = _FIELDS if with_status else tuple(f for f in _FIELDS if f != "status")
    return tuple(
        (f, _text(getattr(current, f)), _text(getattr(wanted, f)))
        for f in fields
        if getattr(current, f) != getattr(wanted, f)
    )


def has_status_column(text: str) -> bool:
    header = next(csv.reader(io.StringIO(text)), [])
    return "status" in {name.strip() for name in header}


async def _rebuilt(config: Config, store: LogStore) -> tuple[Sequencer, ReferenceService]:
    journal = Journal(clock_us=lambda: int(time.time() * 1_000_000))
    parts = build_trading(config, journal, store, clock=time.time, venue=None)
    await replay(store, [parts.core.apply])
    return parts.core, ReferenceService(parts.core, parts.trading.sink.durable, clock=time.time)


async def import_instruments(
    config: Config, instruments: Sequence[Instrument], *, user: str, reason: str, with_status: bool = True
) -> list[Change]:
    """Record every instrument that differs from the one listed; what was recorded, in file order."""
    if config.store.kind != "sqlite":
        raise ConfigError(
            "`itirp instruments import` writes a SQLite log offline; on PostgreSQL the leader lists instruments "
            "(UpsertInstrument, or its --instruments-file at start)"
        )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_event_store(config)
    try:
        core, reference = await _rebuilt(config, store)
        actor = Actor(viewer=Viewer(user, Role.ADMIN), username=user, correlation_id=new_uuid())
        recorded: list[Change] = []
        for wanted in instruments:
            current = _listed(core, wanted.symbol)
            if current is not None:
                fields = changes(current, wanted, with_status=with_status)
                if not fields:
                    continue
            status = wanted.status if with_status or current is None else None
            await reference.upsert(UpsertInstrument(actor=actor, instrument=wanted, status=status, reason=reason))
            recorded.append(Change(wanted.symbol, current is None, () if current is None else fields))
        return recorded
    finally:
        await store.close()


def _listed(core: Sequencer, symbol: str) -> Instrument | None:
    try:
        return core.queries.instrument(symbol)
    except ItirpError:
        return None


async def list_instruments(config: Config) -> list[Instrument]:
    """The instruments the log lists, by symbol (read-only: works while the server runs)."""
    path = config.data_dir / "events.db"
    if not path.exists():
        raise StoreError(f"no event log at {path}")
    store = await SqliteEventStore.open_read_only(path)
    try:
        core, _ = await _rebuilt(config, store)
        return core.queries.instruments()
    finally:
        await store.close()


def _config(data_dir: Path | None) -> Config:
    return Config.from_env(data_dir=data_dir)


def _fail(message: str, code: int) -> int:
    print(f"itirp: {message}", file=sys.stderr)
    return code


def main_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text()
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc}", 2)
    try:
        instruments = parse_instruments_csv(text)
        config = _config(args.data_dir)
    except (InstrumentListError, ConfigError) as exc:
        return _fail(f"{path}: {exc}", 2)
    reason = args.reason or f"imported from {path.name}"
    try:
        recorded = asyncio.run(
            import_instruments(
                config, instruments, user=args.user, reason=reason, with_status=has_status_column(text)
            )
        )
    except TamperedLogError as exc:
        return _fail(str(exc), 3)
    except StoreError as exc:
        return _fail(f"{exc} (is the server running? stop it first, or change instruments through the API)", 1)
    except ItirpError as exc:
        return _fail(f"{path}: {exc}", 2)
    for change in recorded:
        print(change)
    unchanged = len(instruments) - len(recorded)
    print(f"{len(recorded)} recorded, {unchanged} unchanged, as {args.user}: {reason}")
    return 0


_HEADER = ("SYMBOL", "NAME", "CCY", "TICK", "LOT", "MIN", "MAX", "BAND%", "LISTED AT", "STATUS")


def format_table(instruments: Sequence[Instrument]) -> str:
    rows = [_HEADER] + [
        (
            i.symbol,
            i.name,
            i.currency,
            str(i.tick_size),
            str(i.lot_size),
            str(i.min_quantity),
            str(i.max_quantity),
            _text(i.price_band_percent) or "-",
            _text(i.reference_price) or "-",
            i.status.value,
        )
        for i in instruments
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(_HEADER))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def main_list(args: argparse.Namespace) -> int:
    try:
        instruments = asyncio.run(list_instruments(_config(args.data_dir)))
    except (StoreError, ConfigError) as exc:
        return _fail(str(exc), 1)
    print(format_table(instruments))
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`itirp instruments import|list` (cli.py hooks this in)."""
    instruments = sub.add_parser("instruments", help="list instruments from a CSV file, or show them (offline)")
    commands = instruments.add_subparsers(dest="instruments_command", required=True)
    imp = commands.add_parser("import", help="list or change instruments from a CSV file (server stopped)")
    imp.add_argument("file", help=f"CSV with a header line; columns: {', '.join(CSV_COLUMNS)}")
    imp.add_argument("--user", default=SYSTEM_USER, help=f"who the audit log names (default {SYSTEM_USER})")
    imp.add_argument("--reason", default=None, help="why, for the audit log (default: imported from FILE)")
    lst = commands.add_parser("list", help="the instruments the event log lists (safe while the server runs)")
    for p in (imp, lst):
        p.add_argument("--data-dir", type=Path, default=None, help="data folder (env ITIRP_DATA_DIR; default ./data)")


def main(args: argparse.Namespace) -> int:
    if args.instruments_command == "import":
        return main_import(args)
    return main_list(args)
