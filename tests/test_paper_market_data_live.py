"""`--market-data live` over real loopback HTTP, and its one-line fallback when unreachable."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from kalshi_trading.paper.market_data.sources import load_universe
from tests.loopback_server import JsonHandler, serving

START = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def market(ticker: str, event: str, bid: str, ask: str) -> dict:
    return {"ticker": ticker, "event_ticker": event, "market_type": "binary", "title": ticker,
            "yes_sub_title": "Yes", "no_sub_title": "No", "status": "active", "result": "",
            "open_time": "2026-11-21T00:00:00Z", "close_time": "2026-11-21T13:00:00Z",
            "created_time": "2026-11-20T00:00:00Z", "updated_time": "2026-11-21T11:59:00Z",
            "yes_bid_dollars": bid, "yes_ask_dollars": ask, "volume_fp": "12.00",
            "price_level_structure": "linear_cent",
            "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]}


ROUTES = {
    "/trade-api/v2/markets": {"markets": [market("KXHIGHNY-26NOV21-T60", "KXHIGHNY-26NOV21", "0.3000", "0.3300"),
                                          market("KXHIGHNY-26NOV21-T65", "KXHIGHNY-26NOV21", "0.1000", "0.1200")],
                              "cursor": ""},
    "/trade-api/v2/events": {"events": [{"event_ticker": "KXHIGHNY-26NOV21", "series_ticker": "KXHIGHNY",
                                         "title": "NYC high", "sub_title": "Nov 21", "mutually_exclusive": True,
                                         "collateral_return_type": "MECNET", "settlement_sources": []}],
                             "cursor": ""},
    "/trade-api/v2/series/KXHIGHNY": {"series": {"ticker": "KXHIGHNY", "title": "NYC high", "category": "Climate",
                                                 "frequency": "daily", "fee_type": "quadratic_with_maker_fees",
                                                 "fee_multiplier": 1, "tags": []}},
    "/trade-api/v2/markets/KXHIGHNY-26NOV21-T60/orderbook": {
        "orderbook_fp": {"yes_dollars": [["0.2900", "40.00"], ["0.3000", "25.00"]],
                         "no_dollars": [["0.6700", "10.00"]]}},
    # T65's orderbook answers 500: that market falls back to a book around its quote
}


class FakeKalshi(JsonHandler):
    """Serves recorded public responses and records every request it saw."""

    seen: list[tuple[str, dict]] = []
    fail_markets = False

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        type(self).seen.append((url.path, parse_qs(url.query)))
        body = ROUTES.get(url.path)
        status = 200 if body is not None and not (self.fail_markets and url.path.endswith("/markets")) else 500
        self.reply(status, body if status == 200 else {"error": {"code": "internal_server_error"}})


@pytest.fixture()
def fake_kalshi():
    FakeKalshi.seen = []
    FakeKalshi.fail_markets = False
    with serving(FakeKalshi) as url:
        yield url + "/trade-api/v2"


@pytest.fixture()
def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/trade-api/v2"


class Notices(list):
    def __call__(self, text: str) -> None:
        self.append(text)


def test_live_reads_open_markets_series_and_books(fake_kalshi):
    with requests.Session() as session:
        universe = load_universe("live", start=START, session=session, live_base_url=fake_kalshi,
                                 on_notice=pytest.fail)
    assert universe.source.startswith("live:127.0.0.1")
    assert set(universe.markets) == {"KXHIGHNY-26NOV21-T60", "KXHIGHNY-26NOV21-T65"}
    assert universe.events["KXHIGHNY-26NOV21"]["mutually_exclusive"] is True
    assert universe.series["KXHIGHNY"]["fee_type"] == "quadratic_with_maker_fees"
    book = universe.books["KXHIGHNY-26NOV21-T60"]
    assert book.yes_bids[-1] == (Decimal("0.3000"), Decimal("25.00"))
    assert universe.markets["KXHIGHNY-26NOV21-T60"]["yes_ask_dollars"] == "0.3300"


def test_live_asks_for_a_bounded_page_of_open_markets(fake_kalshi):
    load_universe("live", start=START, live_base_url=fake_kalshi, on_notice=pytest.fail, max_live_markets=50)
    path, query = FakeKalshi.seen[0]
    assert path == "/trade-api/v2/markets" and query["status"] == ["open"] and query["limit"] == ["50"]
    assert len(FakeKalshi.seen) <= 2 + 1 + 2       # markets, events, one series, two books


def test_live_market_whose_book_failed_gets_a_book_around_its_quote(fake_kalshi):
    universe = load_universe("live", start=START, live_base_url=fake_kalshi, on_notice=pytest.fail)
    book = universe.books["KXHIGHNY-26NOV21-T65"]
    assert book.yes_bids[-1][0] == Decimal("0.10") and book.no_bids[-1][0] == Decimal("0.88")


def test_live_times_stay_put_at_speed_one(fake_kalshi):
    universe = load_universe("live", start=START, live_base_url=fake_kalshi, on_notice=pytest.fail)
    assert universe.markets["KXHIGHNY-26NOV21-T60"]["close_time"] == "2026-11-21T13:00:00.000Z"


def test_unreachable_live_host_falls_back_to_bundled_with_one_line(closed_port_url):
    notices = Notices()
    universe = load_universe("live", start=START, live_base_url=closed_port_url, on_notice=notices)
    assert universe.source == "bundled" and len(universe.markets) >= 50
    (line,) = notices
    assert line.startswith("live market data unreachable (") and line.endswith("); using bundled data")
    assert "\n" not in line


def test_live_server_error_falls_back_to_bundled(fake_kalshi):
    FakeKalshi.fail_markets = True
    notices = Notices()
    universe = load_universe("live", start=START, live_base_url=fake_kalshi, on_notice=notices)
    assert universe.source == "bundled"
    assert notices == [f"live market data unreachable (HTTP 500 from 127.0.0.1:{urlsplit(fake_kalshi).port}"
                       "/trade-api/v2/markets); using bundled data"]
