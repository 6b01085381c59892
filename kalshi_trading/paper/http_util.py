"""HTTP plumbing for the paper server: query parameters, opaque cursors, JSON bodies, raw responses.

Kept apart from the routes so each route reads as "which engine call, which parameters" only.
Every bad parameter becomes a 400 `invalid_parameters` rejection, the way Kalshi answers.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, Callable, Mapping, Sequence

from ..errors import ExchangeRejection
from ..timeutil import to_iso_z

__all__ = ["Query", "bad_parameter", "paginate", "encode_json", "decode_json_body",
           "build_response", "error_body"]


def bad_parameter(message: str) -> ExchangeRejection:
    """The 400 Kalshi answers for a malformed request."""
    return ExchangeRejection(400, "invalid_parameters", "invalid parameters", message)


class Query:
    """Typed access to a parsed query string (`urllib.parse.parse_qs` output)."""

    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._values = values

    def text(self, name: str) -> str | None:
        """The last value given for `name`, or None when absent or empty."""
        items = self._values.get(name)
        return items[-1] if items and items[-1] != "" else None

    def items(self, name: str) -> list[str] | None:
        """Comma-separated and/or repeated values (`tickers=A,B&tickers=C`), or None."""
        items = [part.strip() for raw in self._values.get(name, []) for part in raw.split(",")]
        items = [item for item in items if item]
        return items or None

    def integer(self, name: str, *, default: int | None = None, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        """An integer parameter within bounds; 400 when it is not one."""
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw, 10)
        except ValueError:
            raise bad_parameter(f"{name} must be an integer") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            low = "" if minimum is None else f"{minimum}"
            high = "" if maximum is None else f"{maximum}"
            raise bad_parameter(f"{name} must be in [{low}, {high}]")
        return value

    def flag(self, name: str, *, default: bool = False) -> bool:
        """`true`/`false` (any case, or 1/0); 400 otherwise."""
        raw = self.text(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise bad_parameter(f"{name} must be true or false")

    def choice(self, name: str, allowed: Sequence[str]) -> str | None:
        """One of `allowed`, or None when absent; 400 otherwise."""
        raw = self.text(name)
        if raw is not None and raw not in allowed:
            raise bad_parameter(f"{name} must be one of {', '.join(allowed)}")
        return raw


def _encode_cursor(offset: int, last_key: str) -> str:
    raw = json.dumps([offset, last_key], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset, last_key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(offset, int) or not isinstance(last_key, str) or offset < 0:
            raise ValueError
        return offset, last_key
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise bad_parameter("cursor is not one this exchange issued") from None


def paginate(items: Sequence[dict], query: Query, key: Callable[[dict], str], *,
             default_limit: int = 100, max_limit: int = 1000,
             min_limit: int = 1) -> tuple[list[dict], str]:
    """One page of `items` and the cursor for the next ("" at the end).

    The cursor names the last item returned, so a page boundary survives items being added at
    the head of a newest-first list between calls; if that item is gone we fall back to its offset.
    """
    limit = query.integer("limit", default=default_limit, minimum=min_limit, maximum=max_limit)
    if not limit:
        limit = default_limit
    start = 0
    cursor = query.text("cursor")
    if cursor is not None:
        offset, last_key = _decode_cursor(cursor)
        start = offset
        for index, item in enumerate(items):
            if key(item) == last_key:
                start = index + 1
                break
    page = list(items[start:start + limit])
    end = start + len(page)
    next_cursor = _encode_cursor(end, key(page[-1])) if page and end < len(items) else ""
    return page, next_cursor


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return to_iso_z(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def encode_json(body: Any) -> bytes:
    """Compact JSON; Decimals as strings, datetimes as ISO `Z` (floats are never produced here)."""
    return json.dumps(body, separators=(",", ":"), default=_json_default).encode("utf-8")


def decode_json_body(raw: bytes) -> dict:
    """The request body as a JSON object; 400 `invalid_parameters` for anything else."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):   # RecursionError: absurdly deep nesting
        raise bad_parameter("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_parameter("request body must be a JSON object")
    return body


def error_body(code: str, message: str, details: str = "") -> dict:
    """Kalshi's error envelope."""
    return {"error": {"code": code, "message": message, "details": details}}


def build_response(status: int, body: bytes, *, close: bool = False,
                   content_type: str = "application/json", omit_body: bool = False) -> bytes:
    """Status line, headers and body as one buffer, so one `sendall` carries the whole answer.

    `omit_body` (a HEAD answer) keeps the Content-Length a GET would get but sends no body."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    head = (f"HTTP/1.1 {status} {reason}\r\n"
            f"Server: kalshi-paper\r\n"
            f"Date: {formatdate(usegmt=True)}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n")
    if close:
        head += "Connection: close\r\n"
    return head.encode("latin-1") + b"\r\n" + (b"" if omit_body else body)
