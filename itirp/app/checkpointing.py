"""Signed checkpoints on the server: the key and the file at start, the check of the log against
them (at start and for VerifyAuditLog), and the signer that runs at an interval and at every
clean stop. What they protect against, and what not: docs/operations.md."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from itirp.audit.checkpoints import Checkpoint, check_checkpoints, sign_checkpoint
from itirp.audit.keyfile import (
    CHECKPOINT_FILE,
    KEY_FILE,
    CheckpointKeyError,
    append_checkpoint,
    create_private_key,
    load_private_key,
    read_checkpoints,
)
from itirp.config import Config, ConfigError
from itirp.core.journal import Journal
from itirp.events import timestamp_from_us
from itirp.store import StoreError, VerifyResult
from itirp.v1 import events_pb2

if TYPE_CHECKING:
    from itirp.app.application import LogStore

__all__ = ["CheckpointFiles", "Checkpointer", "open_checkpoint_files", "verify_log"]

log = logging.getLogger("itirp.server")


@dataclass(frozen=True, slots=True)
class CheckpointFiles:
    """Where the checkpoints are, and the key (None: a read-only start without a key file, whose
    checkpoints are then checked against the log but not their signatures)."""

    path: Path
    key: Ed25519PrivateKey | None

    @property
    def public_key(self) -> Ed25519PublicKey | None:
        return self.key.public_key() if self.key is not None else None


def open_checkpoint_files(config: Config) -> CheckpointFiles:
    """Load the key, or create it on a log's first start. A missing key next to existing
    checkpoints is refused: a new key would sign whatever the log now says."""
    path = config.data_dir / CHECKPOINT_FILE
    configured = config.store.checkpoint_key_file
    key_path = Path(configured) if configured else config.data_dir / KEY_FILE
    try:
        if key_path.exists():
            return CheckpointFiles(path, load_private_key(key_path))
        if config.read_only:
            return CheckpointFiles(path, None)
        if path.exists() and path.stat().st_size > 0:
            raise ConfigError(
                f"the checkpoint key {key_path} is missing, but {path} holds checkpoints it signed; restore the key "
                "(ITIRP_STORE_CHECKPOINT_KEY_FILE), or start with --read-only to investigate"
            )
        return CheckpointFiles(path, create_private_key(key_path))
    except (CheckpointKeyError, OSError) as exc:
        raise ConfigError(str(exc)) from None


async def verify_log(store: LogStore, files: CheckpointFiles) -> VerifyResult:
    """The hash chain, then every signed checkpoint against it: a log that ends before its latest
    checkpoint, or whose hash at a checkpointed sequence differs (or a signature that does not
    verify), is bad at the first such sequence."""
    try:
        checkpoints = await asyncio.to_thread(read_checkpoints, files.path)
    except (OSError, ValueError) as exc:  # read before the walk: every checkpoint is of a committed head
        return VerifyResult(
            ok=False, events_checked=0, head_sequence=0, head_hash="", first_bad_sequence=1,
            message=f"event 1: the checkpoint file cannot be read ({exc})",
        )  # fmt: skip
    chain = await store.verify()
    good_to = chain.head_sequence if chain.ok else chain.first_bad_sequence - 1
    hashes = await store.hashes_at([cp.sequence for cp in checkpoints if cp.sequence <= good_to])
    report = check_checkpoints(checkpoints, hashes, head_sequence=store.head_sequence, public_key=files.public_key)
    if report.ok or (not chain.ok and chain.first_bad_sequence <= report.first_bad_sequence):
        return chain
    return VerifyResult(
        ok=False,
        events_checked=chain.events_checked,
        head_sequence=chain.head_sequence,
        head_hash=chain.head_hash,
        first_bad_sequence=report.first_bad_sequence,
        message=report.message,
    )


class Checkpointer:
    """Signs (sequence, head hash, time) every `interval` seconds when the head has moved, and
    once more at `stop`; appends each to the checkpoint file (fsynced) and then records it as an
    AUDIT_CHECKPOINT_SIGNED event."""

    def __init__(
        self,
        store: LogStore,
        journal: Journal,
        files: CheckpointFiles,
        *,
        interval: float,
        clock_us: Callable[[], int],
    ) -> None:
        if files.key is None:
            raise ValueError("a checkpointer needs the signing key")
        self._store = store
        self._journal = journal
        self._path = files.path
        self._key = files.key
        self._interval = interval
        self._clock_us = clock_us
        self._last_signed = 0
        self._own_event = 0  # the sequence of the last AUDIT_CHECKPOINT_SIGNED this process wrote
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        checkpoints = await asyncio.to_thread(read_checkpoints, self._path)
        self._last_signed = max((cp.sequence for cp in checkpoints), default=0)
        head = self._store.head_sequence
        if head == self._last_signed + 1:  # a restart with nothing new: the head is the last checkpoint's event
            last = await self._store.read(after=head - 1, limit=1)
            if last and last[0].event_type == "AUDIT_CHECKPOINT_SIGNED":
                self._own_event = head
        self._task = asyncio.create_task(self._run(), name="itirp-checkpointer")

    async def stop(self) -> None:
        """The last checkpoint: the head as the clean stop leaves it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            # an append still in flight (a login answered as the stop began) is committed first:
            # signed before it, the last checkpoint would leave it, and its own event, unsigned
            await self._store.settle()
            await self.checkpoint()
        except (StoreError, OSError) as exc:  # the log failed, or the checkpoint file cannot be written
            log.warning("no checkpoint at stop", extra={"problem": str(exc)})

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.checkpoint()
            except StoreError:
                return  # the log failed: nothing more is committed, so nothing more to sign
            except OSError as exc:
                log.error("cannot write a checkpoint", extra={"problem": str(exc)})

    async def checkpoint(self) -> Checkpoint | None:
        """Sign the committed head unless it is already signed or is our own last checkpoint event."""
        async with self._lock:
            seq, head_hash = self._store.head_sequence, self._store.head_hash
            if seq == 0 or seq <= self._last_signed or seq == self._own_event or self._store.failed:
                return None
            cp = sign_checkpoint(self._key, sequence=seq, head_hash=head_hash, time_us=self._clock_us())
            await asyncio.to_thread(append_checkpoint, self._path, cp)
            self._last_signed = seq
            payload = events_pb2.AuditCheckpointSigned(
                sequence=cp.sequence,
                head_hash=cp.head_hash,
                signed_at=timestamp_from_us(cp.time_us),
                key_id=cp.key_id,
                signature=cp.signature,
            )
            event = self._journal.new(payload, correlation_id=self._journal.new_id(), timestamp_us=cp.time_us)
            stored = await self._store.append([event])
            self._own_event = stored[-1].sequence
            return cp
