"""The checkpoint signing key and the append-only checkpoint file, on disk.

The key is an unencrypted PKCS#8 PEM file, mode 0600, outside the event database (by default
`DATA_DIR/checkpoint.key`). The checkpoint file is JSON lines, one checkpoint per line, appended
and fsynced; it is never rewritten.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from itirp.audit.checkpoints import Checkpoint, checkpoint_from_json, checkpoint_to_json

__all__ = [
    "CHECKPOINT_FILE",
    "KEY_FILE",
    "CheckpointKeyError",
    "append_checkpoint",
    "create_private_key",
    "load_private_key",
    "load_public_key",
    "public_key_pem",
    "read_checkpoints",
]

KEY_FILE = "checkpoint.key"
CHECKPOINT_FILE = "checkpoints.jsonl"


class CheckpointKeyError(ValueError):
    """The key file is missing, unreadable or not an Ed25519 key."""


def create_private_key(path: Path) -> Ed25519PrivateKey:
    """A new key written to `path` (mode 0600); refuses to replace an existing file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise CheckpointKeyError(f"cannot read the checkpoint key {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise CheckpointKeyError(f"the checkpoint key {path} is not a PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyError(f"the checkpoint key {path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file holding the public key (or the private key)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointKeyError(f"cannot read the public key {path}: {exc.strerror or exc}") from None
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise CheckpointKeyError(f"{path} is not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 public key")
    return key


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file, in file order; [] when there is no file.

    A last line without its newline that does not parse is a write a crash cut short and is
    skipped; any other line that does not parse raises ValueError naming it.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    out: list[Checkpoint] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(checkpoint_from_json(json.loads(line)))
        except ValueError as exc:
            if lineno == len(lines):  # no newline after it: a torn append
                break
            raise ValueError(f"{path}:{lineno}: {exc}") from None
    return out


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line and fsync it (the file is created on the first append)."""
    line = json.dumps(checkpoint_to_json(checkpoint), separators=(",", ":")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
