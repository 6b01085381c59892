"""Readers for one field of an API record, in any of Kalshi's three wire eras.

Each prefers today's fixed-point field (`*_dollars`, `*_fp`) and falls back to the transitional
`*_fixed` string and the legacy integer cents or counts; a missing required field raises
`ResponseFormatError` naming the record and the field. The record classes build on these.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

from ..errors import ResponseFormatError, UserInputError
from ..money import cents_to_dollars, parse_count, parse_dollars
from ..order_request import BookSide
from ..timeutil import from_unix, parse_iso

__all__ = ["Raw", "missing_field", "read_str", "read_opt_str", "read_dollars", "read_count",
           "read_time", "read_direction"]

Raw = Mapping[str, Any]


def missing_field(record: str, name: str) -> ResponseFormatError:
    return ResponseFormatError(f"{record}: required field {name!r} is missing")


def read_str(raw: Raw, record: str, name: str, default: str | None = None) -> str:
    value = raw.get(name)
    if value is None:
        if default is not None:
            return default
        raise missing_field(record, name)
    if not isinstance(value, str):
        raise ResponseFormatError(f"{record}: field {name!r} should be a string, got {type(value).__name__}")
    return value


def read_opt_str(raw: Raw, name: str) -> str | None:
    value = raw.get(name)
    return value if isinstance(value, str) and value != "" else None


def read_dollars(raw: Raw, record: str, name: str, *, cents: str | None = None,
             fixed: str | None = None, required: bool = True) -> Decimal | None:
    """Read `name` (dollar string); else `fixed` (transitional string); else `cents` (legacy int)."""
    try:
        if raw.get(name) is not None:
            return parse_dollars(raw[name], f"{record}.{name}")
        if fixed and raw.get(fixed) is not None:
            return parse_dollars(raw[fixed], f"{record}.{fixed}")
        if cents and raw.get(cents) is not None:
            value = raw[cents]
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise ResponseFormatError(f"{record}: field {cents!r} should be integer cents")
            try:
                return cents_to_dollars(int(value))
            except (ValueError, ArithmeticError):   # "abc", or more cents than Decimal holds
                raise ResponseFormatError(f"{record}: field {cents!r} should be integer cents") from None
    except UserInputError as exc:
        raise ResponseFormatError(f"{record}: {exc}") from None
    if required:
        raise missing_field(record, name)
    return None


def read_count(raw: Raw, record: str, name: str, *, legacy: str | None = None,
           required: bool = True) -> Decimal | None:
    """Read a `*_fp` count; else the legacy integer (or float) count field."""
    try:
        if raw.get(name) is not None:
            return parse_count(raw[name], f"{record}.{name}")
        if legacy and raw.get(legacy) is not None:
            # near-raw recordings carry float counts
            return parse_count(raw[legacy], f"{record}.{legacy}", floats=True)
    except UserInputError as exc:
        raise ResponseFormatError(f"{record}: {exc}") from None
    if required:
        raise missing_field(record, name)
    return None


def read_time(raw: Raw, name: str, *, unix: str | None = None) -> datetime | None:
    value = raw.get(name)
    if isinstance(value, str) and value:
        try:
            return parse_iso(value)
        except ValueError:
            raise ResponseFormatError(f"field {name!r} is not an ISO 8601 time: {value!r}") from None
    if unix and isinstance(raw.get(unix), (int, float)) and not isinstance(raw.get(unix), bool):
        try:
            return from_unix(raw[unix])
        except (ValueError, OverflowError, OSError):   # NaN, or past year 9999 (milliseconds?)
            raise ResponseFormatError(f"field {unix!r} is not a Unix time in seconds: {raw[unix]!r}") from None
    return None


def read_direction(raw: Raw, record: str) -> BookSide:
    """The YES-book side of an order or fill, from `book_side`, `outcome_side` or legacy side/action."""
    if raw.get("book_side") in ("bid", "ask"):
        return BookSide(raw["book_side"])
    if raw.get("outcome_side") in ("yes", "no"):
        return BookSide.BID if raw["outcome_side"] == "yes" else BookSide.ASK
    side, action = raw.get("side"), raw.get("action")
    if side in ("yes", "no") and action in ("buy", "sell"):
        return BookSide.BID if (side == "yes") == (action == "buy") else BookSide.ASK
    raise missing_field(record, "book_side")
