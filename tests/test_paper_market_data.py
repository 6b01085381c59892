"""The bundled market data: browsable, tradeable, moving and settling on the replay clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kalshi_trading.models import Market
from kalshi_trading.money import COUNT_QUANTUM, ONE, PriceGrid, floor_to
from kalshi_trading.paper.market_data.books import TAPERED_DECI_CENT, book_from_top, ladder
from kalshi_trading.paper.market_data.replay import SLOT_SPACING
from kalshi_trading.paper.market_data.sources import load_universe
from kalshi_trading.timeutil import parse_iso

START = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
XRP = "KXXRP15M"
LEGACY_KEYS = {"yes_bid", "yes_ask", "no_bid", "no_ask", "last_price", "volume", "open_interest",
               "liquidity", "notional_value", "tick_size", "response_price_units"}


@pytest.fixture(scope="module")
def bundled():
    return load_universe("bundled", start=START, on_notice=pytest.fail)


def crypto(universe):
    return {t: m for t, m in universe.markets.items() if t.startswith(XRP)}


def active_at(universe, moment):
    return [t for t, m in crypto(universe).items()
            if parse_iso(m["open_time"]) <= moment < parse_iso(m["close_time"])]


def test_bundle_has_markets_to_browse(bundled):
    assert len(bundled.markets) >= 50
    assert len(bundled.series) >= 241
    assert "KXELONMARS-99" in bundled.markets                       # golden event's market
    pardon = [m for m in bundled.markets.values() if m["event_ticker"] == "KXJAN6PARDON-25MAY01"]
    assert len(pardon) == 6                                          # CodeTillDawn's event
    for market in bundled.markets.values():
        assert market["event_ticker"] in bundled.events
    for event in bundled.events.values():
        assert event["series_ticker"] in bundled.series


def test_several_active_markets_have_books_on_both_sides(bundled):
    tradeable = [t for t, m in bundled.markets.items()
                 if m["status"] == "active" and bundled.books[t].yes_bids and bundled.books[t].no_bids]
    assert len(tradeable) >= 5
    assert any(t.startswith(XRP) for t in tradeable)


def test_every_market_is_in_era_3_shape(bundled):
    for market in bundled.markets.values():
        assert not LEGACY_KEYS & market.keys(), market["ticker"]
        for key, value in market.items():
            if key.endswith("_dollars"):
                assert len(value.split(".")[1]) == 4, (market["ticker"], key, value)
            if key.endswith("_fp"):
                assert len(value.split(".")[1]) == 2, (market["ticker"], key, value)
            if key.endswith("_time"):
                assert value.endswith("Z"), (market["ticker"], key, value)
        Market.from_api(market)


def test_crypto_series_charges_quadratic_fees(bundled):
    assert bundled.series[XRP]["fee_type"] == "quadratic"
    assert all(s["fee_type"] for s in bundled.series.values())


def test_timeline_is_sorted(bundled):
    times = [u.at for u in bundled.timeline]
    assert times == sorted(times)


def test_a_crypto_market_opens_trades_and_settles_within_sixteen_minutes(bundled):
    opening = [u for u in bundled.timeline if u.status == "active" and START <= u.at <= START + SLOT_SPACING]
    assert opening, "a crypto market should open within one slot of the start"
    ticker = opening[0].ticker
    updates = [u for u in bundled.timeline if u.ticker == ticker]
    closed = next(u for u in updates if u.status == "closed")
    final = next(u for u in updates if u.status == "finalized")
    market = bundled.markets[ticker]
    assert market["status"] == "initialized"
    assert closed.at == parse_iso(market["close_time"]) < final.at <= START + timedelta(minutes=21)
    assert final.result in ("yes", "no")
    assert final.settlement_value == (ONE if final.result == "yes" else Decimal(0))
    assert opening[0].book is not None and (opening[0].book.yes_bids or opening[0].book.no_bids)


def test_recorded_trades_are_replayed_as_prints(bundled):
    prints = [u for u in bundled.timeline if u.trade is not None and u.at > START]
    assert prints
    for update in prints:
        market = bundled.markets[update.ticker]
        assert parse_iso(market["open_time"]) <= update.at < parse_iso(market["close_time"])
        assert PriceGrid.from_api(market["price_ranges"]).contains(update.trade.yes_price)


@pytest.mark.parametrize("hours", [0, 0.1, 1, 5.5, 9, 17, 23])
def test_some_crypto_market_is_open_at_any_moment(bundled, hours):
    assert active_at(bundled, START + timedelta(hours=hours))


def test_crypto_markets_open_at_start_are_active_with_a_book(bundled):
    open_now = active_at(bundled, START)
    assert len(open_now) >= 2
    for ticker in open_now:
        assert bundled.markets[ticker]["status"] == "active"
        assert bundled.books[ticker].yes_bids or bundled.books[ticker].no_bids


def test_recorded_markets_cycle_with_fresh_unique_tickers(bundled):
    tickers = list(crypto(bundled))
    assert any("R1-" in t for t in tickers)          # 93 recordings, 288 slots in a day
    assert len(tickers) == len(set(tickers))
    assert all(bundled.markets[t]["event_ticker"] in bundled.events for t in tickers)


def test_speed_compresses_every_replayed_time():
    slow = load_universe("bundled", start=START, speed=1)
    fast = load_universe("bundled", start=START, speed=10)
    ticker = next(t for t in crypto(slow) if parse_iso(slow.markets[t]["open_time"]) > START)
    for field in ("open_time", "close_time"):
        slow_gap = parse_iso(slow.markets[ticker][field]) - START
        assert parse_iso(fast.markets[ticker][field]) - START == slow_gap / 10
    slow_at = [u.at - START for u in slow.timeline if u.ticker == ticker]
    fast_at = [u.at - START for u in fast.timeline if u.ticker == ticker]
    assert fast_at == [gap / 10 for gap in slow_at]


def test_a_restart_days_later_still_finds_open_crypto_markets():
    later = START + timedelta(days=3, minutes=7)
    universe = load_universe("bundled", start=START, now=later)
    assert active_at(universe, later)
    assert active_at(universe, later + timedelta(hours=12))


def test_recorded_active_markets_stay_open_well_after_start(bundled):
    static_active = [m for t, m in bundled.markets.items() if not t.startswith(XRP) and m["status"] == "active"]
    assert len(static_active) >= 5
    for market in static_active:
        assert parse_iso(market["close_time"]) >= START + timedelta(days=30)


def test_replayed_books_are_on_the_grid_and_never_crossed(bundled):
    grid = PriceGrid(TAPERED_DECI_CENT)
    books = [u.book for u in bundled.timeline if u.book is not None and u.ticker.startswith(XRP)]
    for book in books:
        for price, count in (*book.yes_bids, *book.no_bids):
            assert grid.contains(price) and count > 0
        if book.yes_bids and book.no_bids:
            assert book.yes_bids[-1][0] < ONE - book.no_bids[-1][0]


@pytest.mark.parametrize("top, depth", [
    (Decimal("0.54"), Decimal("24202.82")), (Decimal("0.981"), Decimal("6665.05")),
    (Decimal("0.073"), Decimal("4248.73")), (Decimal("0.905"), Decimal("1")),
    (Decimal("0.003"), Decimal("100.005")), (Decimal("0.001"), Decimal("7")),
])
def test_ladder_spreads_the_recorded_depth_over_grid_levels(top, depth):
    grid = PriceGrid(TAPERED_DECI_CENT)
    levels = ladder(top, depth, grid)
    assert levels[-1][0] == top                                     # best bid = recorded top
    assert sum(count for _, count in levels) == floor_to(depth, COUNT_QUANTUM)
    assert [p for p, _ in levels] == sorted({p for p, _ in levels})  # ascending, distinct
    assert all(grid.contains(price) for price, _ in levels) and 1 <= len(levels) <= 5


def test_book_from_top_reproduces_the_recorded_quote():
    book = book_from_top(Decimal("0.54"), Decimal("0.58"), PriceGrid(TAPERED_DECI_CENT),
                         yes_depth=Decimal("24202.82"), no_depth=Decimal("19844.16"))
    assert book.yes_bids[-1][0] == Decimal("0.54")
    assert ONE - book.no_bids[-1][0] == Decimal("0.58")
    assert sum(c for _, c in book.no_bids) == Decimal("19844.16")


def test_book_from_top_leaves_a_side_without_a_price_empty():
    book = book_from_top(Decimal("0"), Decimal("0.07"), PriceGrid(), yes_depth=Decimal(500),
                         no_depth=Decimal(500))
    assert book.yes_bids == () and book.no_bids[-1][0] == Decimal("0.93")
