"""Ids for events, orders and correlations: random version-4 UUID strings, made cheaply.

`uuid.uuid4()` costs a system call per id (`os.urandom`), and under load each such call also
waits to re-take the GIL. These ids must be unique, not secret (nothing is authorised by knowing
one: a trader asking for someone else's order gets NOT_FOUND), so they come from a Mersenne
Twister seeded from `os.urandom` at import (122 random bits each, as uuid4). Secrets — token ids,
password salts, the signing key — keep using `os.urandom`/`secrets`.
"""

from __future__ import annotations

import os
import random

__all__ = ["new_uuid", "random_hex"]

_rng = random.Random(int.from_bytes(os.urandom(32), "big"))
_bits = _rng.getrandbits
# version 4 in bits 76-79, RFC 4122 variant (10) in bits 62-63
_CLEAR = ~((0xF << 76) | (0x3 << 62))
_SET = (0x4 << 76) | (0x2 << 62)


def new_uuid() -> str:
    h = f"{(_bits(128) & _CLEAR) | _SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def random_hex(n_bytes: int) -> str:
    return _bits(n_bytes * 8).to_bytes(n_bytes, "big").hex() if n_bytes > 0 else ""
