"""Identifiers for rows that can be shared: UUIDv7 (RFC 9562), time-ordered.

Time order keeps B-tree inserts local and makes ids roughly sortable by creation. Python
3.11 has no ``uuid.uuid7``; the layout below is the RFC's: 48-bit Unix milliseconds,
version 7, 12 random bits, variant, 62 random bits.
"""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> str:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def is_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
