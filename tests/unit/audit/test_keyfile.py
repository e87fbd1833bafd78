"""The checkpoint key and the append-only checkpoint file on disk."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from itirp.audit.checkpoints import sign_checkpoint
from itirp.audit.keyfile import (
    CheckpointKeyError,
    append_checkpoint,
    create_private_key,
    load_private_key,
    load_public_key,
    public_key_pem,
    read_checkpoints,
)


def test_a_created_key_is_private_to_its_owner_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.key"

    key = create_private_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_private_key(path).private_bytes_raw() == key.private_bytes_raw()


def test_an_existing_key_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.key"
    create_private_key(path)

    with pytest.raises(FileExistsError):
        create_private_key(path)


def test_the_public_key_loads_from_its_pem_or_from_the_private_key(tmp_path: Path) -> None:
    key = create_private_key(tmp_path / "checkpoint.key")
    (tmp_path / "public.pem").write_text(public_key_pem(key.public_key()))

    for path in (tmp_path / "public.pem", tmp_path / "checkpoint.key"):
        assert load_public_key(path).public_bytes_raw() == key.public_key().public_bytes_raw()


def test_a_key_file_that_is_not_an_ed25519_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("not a key")

    with pytest.raises(CheckpointKeyError):
        load_private_key(tmp_path / "junk.pem")
    with pytest.raises(CheckpointKeyError):
        load_public_key(tmp_path / "junk.pem")
    with pytest.raises(CheckpointKeyError):
        load_public_key(tmp_path / "missing.pem")


def test_checkpoints_append_and_read_back_in_order(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "checkpoints.jsonl"
    signed = [sign_checkpoint(key, sequence=n, head_hash=f"{n:064x}", time_us=n) for n in (3, 9, 27)]

    assert read_checkpoints(path) == []
    for cp in signed:
        append_checkpoint(path, cp)

    assert read_checkpoints(path) == signed


def test_a_torn_last_line_is_skipped_but_a_bad_line_in_the_middle_is_refused(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "checkpoints.jsonl"
    cp = sign_checkpoint(key, sequence=3, head_hash="ab" * 32, time_us=0)
    append_checkpoint(path, cp)
    with path.open("a") as f:
        f.write('{"sequence": 4, "head_h')  # a crash mid-append

    assert read_checkpoints(path) == [cp]

    path.write_text('{"sequence": "x"}\n' + path.read_text().split("\n")[0] + "\n")
    with pytest.raises(ValueError, match=":1:"):
        read_checkpoints(path)
