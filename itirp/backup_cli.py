"""`itirp backup DEST` and `itirp restore SRC`: the whole data folder, taken consistently while
the server runs, and put back into a fresh folder.

The event log alone does not restore a desk: password hashes live in `users.db` (never in the
log), tokens are signed with `jwt_secret`, and other key files may sit beside them. A backup
takes every file of the data folder:

- SQLite files (`events.db`, `users.db`, any other `*.db`) through SQLite's online backup API, each
  one a consistent snapshot even while the server writes it (their `-wal`, `-shm` and `.lock`
  sidecars are not files to copy);
- every other file (the secret, key files, anything else) byte for byte, with its permissions.

Order: the other files first, then `events.db`, then `users.db` last. A file written beside the log
(a checkpoint of it, say) is then never newer than the log copied after it; a user created during
the backup is at worst in `users.db` and not yet in the log, which the server records as a
USER_CREATED event when it starts. A manifest (`itirp-backup.json`) lists every file with its size
and SHA-256, and the log's head sequence and hash as verified on the copy.

A restore checks the manifest, refuses a non-empty data folder unless `--force` (which moves its
files aside, never deletes them, and refuses while a server writes there), copies, and verifies
the restored log.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itirp import __version__
from itirp.store import SqliteEventStore, StoreError, VerifyResult
from itirp.store.sqlite_files import ReadOnlyFile, writer_running

__all__ = ["BackupError", "add_parsers", "backup", "main", "restore"]

MANIFEST = "itirp-backup.json"
EVENTS, USERS = "events.db", "users.db"
_SIDECARS = ("-wal", "-shm", "-journal", ".lock")


class BackupError(Exception):
    """A backup or restore refused or failed; `exit_code` is what the command exits with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a backup or restore did: the manifest, and the verification of the log it holds."""

    manifest: dict[str, Any]
    verified: VerifyResult


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_copy(source: Path, target: Path, *, lock: Path) -> None:
    """A consistent copy of a SQLite file through the online backup API (the source untouched)."""
    opened = ReadOnlyFile.open(source, lock=lock)
    try:
        src = opened.connect()
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
            src.close()
    finally:
        opened.close()


def _files_in_order(data_dir: Path) -> list[Path]:
    """The files to take: everything but SQLite sidecars; `events.db` then `users.db` last."""
    names = sorted(
        p.name for p in data_dir.iterdir() if p.is_file() and not p.name.endswith(_SIDECARS) and p.name != MANIFEST
    )
    last = [n for n in (EVENTS, USERS) if n in names]
    return [data_dir / n for n in names if n not in last] + [data_dir / n for n in last]


async def _verify(path: Path) -> VerifyResult:
    store = await SqliteEventStore.open_read_only(path)
    try:
        return await store.verify()
    finally:
        await store.close()


def _empty_or_absent(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def backup(data_dir: Path, dest: Path) -> Outcome:
    """Copy the data folder into `dest` (absent or empty), consistently, and write the manifest."""
    if not (data_dir / EVENTS).is_file():
        raise BackupError(f"no event log in {data_dir} ({EVENTS} is missing): nothing to back up")
    if not _empty_or_absent(dest):
        raise BackupError(f"{dest} is not empty: back up into a new folder", 2)
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for source in _files_in_order(data_dir):
        target = dest / source.name
        if source.suffix == ".db":
            _sqlite_copy(source, target, lock=data_dir / f"{EVENTS}.lock")
        else:
            shutil.copy2(source, target)
        files[source.name] = {"size": target.stat().st_size, "sha256": _sha256(target)}
    verified = asyncio.run(_verify(dest / EVENTS))
    manifest = {
        "format": 1,
        "itirp_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data_dir": str(data_dir.resolve()),
        "events": {"head_sequence": verified.head_sequence, "head_hash": verified.head_hash, "ok": verified.ok},
        "files": files,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Outcome(manifest, verified)


def _read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{src} is not an itirp backup (no {MANIFEST}); make one with 'itirp backup'", 2) from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot read {src / MANIFEST}: {exc}", 2) from None
    for name, expected in manifest.get("files", {}).items():
        path = src / name
        if Path(name).name != name or not path.is_file():
            raise BackupError(f"the backup in {src} is incomplete: {name} is missing", 3)
        if _sha256(path) != expected.get("sha256"):
            raise BackupError(f"the backup in {src} is damaged: {name} differs from its manifest", 3)
    if EVENTS not in manifest.get("files", {}):
        raise BackupError(f"the backup in {src} holds no event log", 3)
    return manifest


def _clear(data_dir: Path, force: bool) -> Path | None:
    """Make `data_dir` ready for a restore: it must be empty, or `force` moves its files aside
    (returned: where to). Refused while a server writes there."""
    if _empty_or_absent(data_dir):
        return None
    if not force:
        raise BackupError(
            f"{data_dir} is not empty: restore into a new folder, or add --force to move its files aside", 2
        )
    if writer_running(data_dir / f"{EVENTS}.lock"):
        raise BackupError(f"a server is running on {data_dir}: stop it before restoring over it", 2)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = data_dir.with_name(f"{data_dir.name}.replaced-{stamp}")
    aside.mkdir()
    for entry in data_dir.iterdir():
        entry.rename(aside / entry.name)
    return aside


def restore(src: Path, data_dir: Path, *, force: bool = False) -> tuple[Outcome, Path | None]:
    """Put the backup in `src` into `data_dir`; (what was restored, where the old files went)."""
    manifest = _read_manifest(src)
    aside = _clear(data_dir, force)
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in manifest["files"]:
        partial = data_dir / f".{name}.restoring"
        shutil.copy2(src / name, partial)
        os.replace(partial, data_dir / name)
    verified = asyncio.run(_verify(data_dir / EVENTS))
    expected = manifest.get("events", {})
    if verified.ok and (verified.head_sequence, verified.head_hash) != (
        expected.get("head_sequence"),
        expected.get("head_hash"),
    ):
        raise BackupError(f"the restored log in {data_dir} does not end where the backup's manifest says", 3)
    return Outcome(manifest, verified), aside


# ------------------------------------------------------------------------------------------------ the commands


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`itirp backup DEST` and `itirp restore SRC` (cli.py hooks these in)."""
    data_dir_help = "data folder (env ITIRP_DATA_DIR; default ./data)"
    b = sub.add_parser("backup", help="copy the whole data folder consistently (safe while the server runs)")
    b.add_argument("dest", type=Path, help="a new (or empty) folder for the backup")
    b.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)
    r = sub.add_parser("restore", help="put a backup into a data folder (the server stopped)")
    r.add_argument("src", type=Path, help="a folder 'itirp backup' wrote")
    r.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)
    r.add_argument("--force", action="store_true", help="restore over a non-empty folder (its files are moved aside)")


def _describe(outcome: Outcome) -> str:
    v = outcome.verified
    chain = (
        f"{v.events_checked} events, chain verified to sequence {v.head_sequence}"
        if v.ok
        else f"the chain does NOT verify: {v.message} (first bad sequence {v.first_bad_sequence})"
    )
    return f"{len(outcome.manifest['files'])} files ({', '.join(outcome.manifest['files'])}); {chain}"


def main(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or Path(os.environ.get("ITIRP_DATA_DIR") or "data")
    try:
        if args.command == "backup":
            outcome = backup(data_dir, args.dest)
            print(f"backed up {data_dir} to {args.dest}: {_describe(outcome)}")
        else:
            outcome, aside = restore(args.src, data_dir, force=args.force)
            if aside is not None:
                print(f"moved the files that were in {data_dir} to {aside}")
            print(f"restored {args.src} into {data_dir}: {_describe(outcome)}")
    except BackupError as exc:
        print(f"itirp: {exc}", file=sys.stderr)
        return exc.exit_code
    except (OSError, sqlite3.Error, StoreError) as exc:
        print(f"itirp: {args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0 if outcome.verified.ok else 3
