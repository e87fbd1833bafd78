"""Signed checkpoints: (sequence, head hash, time) signed with an Ed25519 key, and their check.

Pure: no I/O, no clock. A checkpoint says "the log's event `sequence` had hash `head_hash` at
`time_us`", signed by a key kept outside the database. A hash chain alone cannot see a log cut
short or rewritten from some row on with every later hash recomputed; a checkpoint can, because
nobody without the key can make a new one for the rewritten chain.

The signed bytes, so that an auditor can re-implement the check offline (integers big-endian):

    offset  size  content
    0       8     magic: ASCII "ITIRPCP1"
    8       8     sequence   unsigned 64-bit
    16      32    head_hash  the 64-character hex hash decoded to 32 raw bytes
    48      8     time_us    signed 64-bit, UTC microseconds

    signature = Ed25519(private_key, those 56 bytes)     (64 bytes)
    key_id    = lowercase_hex(SHA-256(raw 32-byte public key))[:16]
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from itirp.store.export import require_fields

__all__ = [
    "CHECKPOINT_MAGIC",
    "Checkpoint",
    "CheckpointReport",
    "check_checkpoints",
    "checkpoint_from_json",
    "checkpoint_message",
    "checkpoint_to_json",
    "key_id",
    "sign_checkpoint",
    "signature_ok",
]

CHECKPOINT_MAGIC = b"ITIRPCP1"
_HEADER = struct.Struct(">8sQ")
_TIME = struct.Struct(">q")


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """One signed statement about the log: event `sequence` had hash `head_hash` at `time_us`."""

    sequence: int
    head_hash: str
    time_us: int
    key_id: str
    signature: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckpointReport:
    """What `check_checkpoints` found: `matched` checkpoints agreed with the log, or the first
    bad sequence (0 when ok) and why."""

    ok: bool
    matched: int
    first_bad_sequence: int
    message: str


def checkpoint_message(*, sequence: int, head_hash: str, time_us: int) -> bytes:
    """The 56 bytes a checkpoint's signature covers (layout in the module docstring)."""
    raw = bytes.fromhex(head_hash)
    if len(raw) != 32:
        raise ValueError("head_hash must be 64 hex characters")
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    return _HEADER.pack(CHECKPOINT_MAGIC, sequence) + raw + _TIME.pack(time_us)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of SHA-256 of its 32 raw bytes."""
    return sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def sign_checkpoint(private_key: Ed25519PrivateKey, *, sequence: int, head_hash: str, time_us: int) -> Checkpoint:
    message = checkpoint_message(sequence=sequence, head_hash=head_hash, time_us=time_us)
    return Checkpoint(
        sequence=sequence,
        head_hash=head_hash,
        time_us=time_us,
        key_id=key_id(private_key.public_key()),
        signature=private_key.sign(message),
    )


def signature_ok(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """Whether `public_key` signed exactly this checkpoint (a malformed one is simply not ok)."""
    try:
        message = checkpoint_message(
            sequence=checkpoint.sequence, head_hash=checkpoint.head_hash, time_us=checkpoint.time_us
        )
        public_key.verify(checkpoint.signature, message)
    except (InvalidSignature, ValueError, struct.error, OverflowError):
        return False
    return True


def checkpoint_to_json(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "sequence": checkpoint.sequence,
        "head_hash": checkpoint.head_hash,
        "time_us": checkpoint.time_us,
        "key_id": checkpoint.key_id,
        "signature": base64.b64encode(checkpoint.signature).decode("ascii"),
    }


def checkpoint_from_json(obj: object) -> Checkpoint:
    """The inverse of `checkpoint_to_json`; ValueError when a key is missing or mistyped."""
    if not isinstance(obj, dict):
        raise ValueError("a checkpoint must be a JSON object")
    require_fields(obj, ("sequence", "time_us"), int, "checkpoint")
    require_fields(obj, ("head_hash", "key_id", "signature"), str, "checkpoint")
    try:
        signature = base64.b64decode(obj["signature"], validate=True)
    except binascii.Error as exc:
        raise ValueError(f"checkpoint signature is not base64 ({exc})") from None
    return Checkpoint(
        sequence=obj["sequence"],
        head_hash=obj["head_hash"],
        time_us=obj["time_us"],
        key_id=obj["key_id"],
        signature=signature,
    )


def check_checkpoints(
    checkpoints: Iterable[Checkpoint],
    hashes: Mapping[int, str],
    *,
    head_sequence: int,
    public_key: Ed25519PublicKey | None,
) -> CheckpointReport:
    """Check `checkpoints` against a log whose last event is `head_sequence`.

    `hashes` maps sequences to the log's hash there (at least every checkpointed sequence up to
    the head that the log holds; a sequence it lacks is not checked, as for a partial export).
    With `public_key`, every signature must verify. Bad: a signature that does not verify (at
    that checkpoint's sequence), a hash that differs (at that sequence), a checkpoint past the
    head (the log ends before it: `head_sequence + 1`, the first missing event). The report
    names the lowest bad sequence.
    """
    bad: list[tuple[int, str]] = []
    matched = 0
    for cp in checkpoints:
        if public_key is not None and not signature_ok(cp, public_key):
            bad.append((max(cp.sequence, 1), f"checkpoint at {cp.sequence}: the signature does not verify"))
        elif cp.sequence > head_sequence:
            bad.append(
                (
                    head_sequence + 1,
                    f"the log ends at sequence {head_sequence}, before its signed checkpoint at {cp.sequence}"
                    " (events deleted from the end?)",
                )
            )
        elif cp.sequence in hashes and hashes[cp.sequence] != cp.head_hash:
            bad.append((cp.sequence, f"hash differs from the signed checkpoint at {cp.sequence} (log rewritten?)"))
        elif cp.sequence in hashes or cp.sequence == 0:
            matched += 1
    if bad:
        seq, why = min(bad)
        return CheckpointReport(ok=False, matched=matched, first_bad_sequence=seq, message=f"event {seq}: {why}")
    return CheckpointReport(ok=True, matched=matched, first_bad_sequence=0, message=f"{matched} checkpoint(s) matched")
