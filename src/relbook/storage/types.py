"""Column types: UTC moments as integer Unix milliseconds (compact, fast to compare)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from relbook.domain.clock import from_millis, to_millis


class UtcMillis(TypeDecorator[datetime]):
    """An aware UTC datetime stored as integer milliseconds since the Unix epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        return None if value is None else to_millis(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_millis(int(value))
