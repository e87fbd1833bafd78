"""Ids: random version-4 UUID strings from a fast generator, and random hex strings."""

from __future__ import annotations

import re
import uuid

import pytest

from itirp.ids import new_uuid, random_hex

_FIXED_BITS = (0xF << 76) | (0x3 << 62)  # version and variant
_ALL = (1 << 128) - 1


def test_new_uuid_is_a_canonical_version_4_rfc_4122_uuid() -> None:
    for _ in range(1_000):
        text = new_uuid()
        parsed = uuid.UUID(text)

        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text  # lower case, 8-4-4-4-12


def test_100k_new_uuids_are_unique() -> None:
    ids = [new_uuid() for _ in range(100_000)]

    assert len(set(ids)) == len(ids)


def test_every_bit_but_version_and_variant_varies() -> None:
    # Arrange
    values = [uuid.UUID(new_uuid()).int for _ in range(2_000)]

    # Act
    seen_set = seen_clear = 0
    for v in values:
        seen_set |= v
        seen_clear |= ~v & _ALL

    # Assert: all 122 random bits were seen both set and clear; the fixed ones never vary
    random_bits = _ALL & ~_FIXED_BITS
    assert seen_set & random_bits == random_bits
    assert seen_clear & random_bits == random_bits
    assert {v & _FIXED_BITS for v in values} == {(0x4 << 76) | (0x2 << 62)}


@pytest.mark.parametrize("n_bytes", [1, 2, 4, 8, 16, 32, 64])
def test_random_hex_has_two_lower_case_hex_characters_per_byte(n_bytes: int) -> None:
    for _ in range(200):  # leading zero bytes must be kept as "00"
        text = random_hex(n_bytes)

        assert re.fullmatch(rf"[0-9a-f]{{{2 * n_bytes}}}", text), text


def test_random_hex_values_differ() -> None:
    assert len({random_hex(8) for _ in range(1_000)}) == 1_000


def test_random_hex_of_zero_bytes_is_empty() -> None:
    assert random_hex(0) == ""
