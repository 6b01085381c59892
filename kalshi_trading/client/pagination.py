"""Cursor pagination for Kalshi's list endpoints, with progress reporting.

Every list response is `{<key>: [...], "cursor": "..."}`; an empty or missing cursor ends the list.
We always ask for the largest page the endpoint allows, so reading N records costs
ceil(N / limit) requests, and report (pages fetched, items so far) after each page.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, Mapping, TypeVar

from ..errors import ResponseFormatError

__all__ = ["Progress", "iter_pages", "MAX_LIMIT", "EVENTS_MAX_LIMIT"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[int, int], None]

MAX_LIMIT = 1000          # markets, trades, orders, fills, positions, settlements, historical
EVENTS_MAX_LIMIT = 200    # events


def iter_pages(fetch: Callable[[dict[str, Any]], Any], key: str, parse: Callable[[Mapping[str, Any]], T], *,
               params: Mapping[str, Any] | None = None, limit: int = MAX_LIMIT,
               progress: Progress | None = None) -> Iterator[T]:
    """Yield parsed items of every page; `fetch(params)` returns one decoded page."""
    query = {k: v for k, v in (params or {}).items() if v is not None}
    query["limit"] = limit
    pages = items = 0
    seen: set[str] = set()
    while True:
        page = fetch(dict(query))
        if not isinstance(page, Mapping):
            raise ResponseFormatError(f"a page of {key!r} is not a JSON object")
        batch = page.get(key) or []
        if not isinstance(batch, list):
            raise ResponseFormatError(f"{key!r} should be a list")
        pages += 1
        items += len(batch)
        if progress is not None:
            progress(pages, items)
        for raw in batch:
            yield parse(raw)
        cursor = page.get("cursor")
        if not cursor or not batch:
            return
        if cursor in seen:
            logger.warning("%r: the exchange repeated a cursor; stopping after %d pages", key, pages)
            return
        seen.add(cursor)  # a repeated cursor would loop forever; stop instead
        query["cursor"] = cursor
