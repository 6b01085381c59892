"""The trade log as CSV: fixed columns, one number format per column, written atomically.

A spreadsheet sums a column as text it was given, so a column never mixes `0`, `0.0600` and
`0.050380`: money is always written with 6 places (a fractional count at a sub-penny price moves
millionths of a dollar), prices with 4 (the exchange's $0.0001 grid) and counts with 2. The file
is written to a temp file in the target's folder and moved into place with `os.replace`, so a
crash never leaves half a CSV.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable

__all__ = ["CSV_COLUMNS", "MONEY_COLUMNS", "PRICE_COLUMNS", "COUNT_COLUMNS", "csv_cell", "write_csv"]

CSV_COLUMNS = ("created_time", "event_type", "ticker", "outcome_side", "book_side", "action",
               "count_fp", "price_dollars", "yes_price_dollars", "no_price_dollars", "fee_cost",
               "cash_change_dollars", "order_status", "fill_count_fp", "remaining_count_fp",
               "market_result", "revenue_dollars", "fees_paid_dollars", "order_id", "client_order_id",
               "fill_id", "status", "message")
MONEY_COLUMNS = frozenset({"fee_cost", "cash_change_dollars", "revenue_dollars", "fees_paid_dollars"})
PRICE_COLUMNS = frozenset({"price_dollars", "yes_price_dollars", "no_price_dollars"})
COUNT_COLUMNS = frozenset({"count_fp", "fill_count_fp", "remaining_count_fp"})
_PLACES = {**{c: 6 for c in MONEY_COLUMNS}, **{c: 4 for c in PRICE_COLUMNS}, **{c: 2 for c in COUNT_COLUMNS}}
_FORMULA_START = ("=", "+", "@", "\t", "\r")


def _fixed(value: Any, places: int) -> str | None:
    """`value` with exactly `places` decimals, or None when it is not a number or would lose digits."""
    if isinstance(value, (bool, float)):
        return None
    try:
        number = Decimal(str(value).strip())
        fixed = number.quantize(Decimal(1).scaleb(-places))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or fixed != number:
        return None
    return f"{abs(fixed) if fixed == 0 else fixed:.{places}f}"    # never "-0.000000"


def csv_cell(column: str, value: Any) -> str:
    """One cell: numbers in their column's format, everything else as text, never a formula."""
    if value is None or value == "":
        return ""
    places = _PLACES.get(column)
    if places is not None:
        fixed = _fixed(value, places)
        if fixed is not None:
            return fixed
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) \
        else str(value).lower() if isinstance(value, bool) else str(value)
    # A cell a spreadsheet would run as a formula is quoted, so an exported message stays text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(path: Path | str, records: Iterable[dict]) -> int:
    """Write `records` as CSV to `path`, atomically (temp file + `os.replace`); returns rows."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".tmp", newline="", encoding="utf-8", delete=False)
    rows = 0
    try:
        with handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for rec in records:
                writer.writerow([csv_cell(column, rec.get(column)) for column in CSV_COLUMNS])
                rows += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return rows
