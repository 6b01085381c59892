"""Which series sets a market's fees, and the fee schedule that follows: the one lookup.

The book screen, the `market`/`book` subcommands and `TradeExecutor` all ask here, so they can
never disagree about a market's fee rule; the rates themselves and the fallback for an unknown
series are `money.fee_schedule` (which the paper exchange uses too).
"""

from __future__ import annotations

import logging
from typing import Protocol

from ..errors import NotFoundError, ResponseFormatError
from ..money import FeeSchedule, fee_schedule
from .market_models import Event, Market, Series

__all__ = ["SeriesReader", "series_of", "market_series", "market_fees"]

logger = logging.getLogger(__name__)


class SeriesReader(Protocol):
    """The two reads the lookup needs: `KalshiClient` in the app, small fakes in tests."""

    def get_event(self, event_ticker: str) -> Event: ...
    def get_series(self, series_ticker: str) -> Series: ...


def series_of(event_ticker: str) -> str:
    """The series prefix of an event ticker (`KXHIGHNY-24JAN01` -> `KXHIGHNY`)."""
    return event_ticker.split("-", 1)[0]


def market_series(client: SeriesReader, market: Market) -> Series | None:
    """The market's series: the one its event names, else the event ticker's prefix (an event
    the exchange no longer lists); None when no such series exists."""
    try:
        series_ticker = client.get_event(market.event_ticker).series_ticker
    except NotFoundError:
        series_ticker = ""
    try:
        return client.get_series(series_ticker or series_of(market.event_ticker))
    except NotFoundError:
        return None


def market_fees(client: SeriesReader, market: Market) -> FeeSchedule:
    """The fee schedule of the market's series; when the series is missing or unreadable, the
    fallback (`known=False`), logged, so an order is still charged by Kalshi's default rule."""
    try:
        series, reason = market_series(client, market), "no such series"
    except ResponseFormatError as exc:
        series, reason = None, str(exc)
    if series is None:
        logger.warning("fee type of %s unknown (%s); assuming quadratic", market.ticker, reason)
        return fee_schedule(None)
    return fee_schedule(series.fee_type, series.fee_multiplier, where=series.ticker)
