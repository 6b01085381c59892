"""models.py parsers on real recorded Kalshi responses from all three wire eras (tests/data and the
package's bundled recordings; see tests/data/README.md)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from kalshi_trading import models as m
from kalshi_trading.errors import ResponseFormatError
from kalshi_trading.order_request import BookSide


def golden(golden_dir: Path, name: str):
    """Era 2 (Jan 2026): the raw body inside the recording wrapper."""
    return json.loads((golden_dir / f"{name}_response.json").read_text())["response"]


def docs_examples(test_data: Path, page: str) -> list:
    """Era 3: JSON blocks from Kalshi's documentation, by page."""
    raw = json.loads((test_data / "kalshi-docs-examples/kalshi_docs_examples.json").read_text())
    pages = next(v for v in raw.values() if isinstance(v, dict) and page in v)
    return [block["json"] for block in pages[page]]


# --- era 2: every record of every list parses ---------------------------------------------------

def _cents(value) -> Decimal:
    return Decimal(value) / 100


# (golden file, list key, parser, records, check(parsed, raw) tying each record to its raw JSON)
ERA2_LISTS = [
    ("markets_list", "markets", m.Market, 5,
     lambda p, r: p.ticker == r["ticker"] and p.yes_bid == Decimal(r["yes_bid_dollars"])),
    ("events_list", "events", m.Event, 5,
     lambda p, r: (p.event_ticker, p.series_ticker) == (r["event_ticker"], r["series_ticker"])),
    ("events_multivariate_list", "events", m.Event, 5, lambda p, r: p.event_ticker == r["event_ticker"]),
    ("series_list", "series", m.Series, 241, lambda p, r: p.ticker == r["ticker"]),
    ("trades_list", "trades", m.Trade, 5,
     lambda p, r: p.trade_id == r["trade_id"] and p.yes_price == Decimal(r["yes_price_dollars"])),
    ("portfolio_fills", "fills", m.Fill, 5,
     lambda p, r: p.fill_id == r["fill_id"] and p.yes_price == _cents(r["yes_price"]) and p.count == r["count"]),
    ("portfolio_orders", "orders", m.Order, 5,
     lambda p, r: p.order_id == r["order_id"] and p.yes_price == Decimal(r["yes_price_dollars"])),
    ("portfolio_positions", "market_positions", m.MarketPosition, 12,
     lambda p, r: p.ticker == r["ticker"] and p.position == r["position"]),
    ("portfolio_settlements", "settlements", m.Settlement, 1,
     lambda p, r: p.ticker == r["ticker"] and p.revenue == _cents(r["revenue"])),
    ("series_candlesticks", "candlesticks", m.Candlestick, 90,
     lambda p, r: p.end_period_ts == r["end_period_ts"]),
]


@pytest.mark.parametrize("name, key, parser, count, check", ERA2_LISTS, ids=[row[0] for row in ERA2_LISTS])
def test_every_recorded_list_item_parses_to_its_own_values(golden_dir, name, key, parser, count, check) -> None:
    items = golden(golden_dir, name)[key]
    parsed = [parser.from_api(item) for item in items]
    assert len(parsed) == count
    assert all(check(p, r) for p, r in zip(parsed, items))


def test_era2_single_series(golden_dir) -> None:
    series = m.Series.from_api(golden(golden_dir, "series_single")["series"])
    assert (series.ticker, series.fee_type, series.fee_multiplier) == ("CO2", "quadratic", Decimal("1"))
    assert series.tags == ("Climate change",)


@pytest.mark.parametrize("name", ["event_candlesticks", "candlesticks_batch"])
def test_era2_candles_of_other_candlestick_endpoints_parse_too(golden_dir, name) -> None:
    body = golden(golden_dir, name)
    rows = body.get("market_candlesticks") or [mk["candlesticks"] for mk in body["markets"]]
    candles = [m.Candlestick.from_api(c) for row in rows for c in row]
    assert len(candles) == 90 and candles[0].yes_ask_close == Decimal("0.1100")


def test_recorded_cursors_are_sent_back_verbatim(golden_dir) -> None:
    """Pagination over the real recorded page: its opaque cursor is passed back unchanged."""
    from client_fixtures import FAKE_BASE, FakeAdapter, fake_session

    from kalshi_trading.kalshi_client import KalshiClient
    first = golden(golden_dir, "markets_list")
    adapter = FakeAdapter(lambda seen: (200, first if "cursor" not in seen.query else
                                        {"markets": first["markets"][:2], "cursor": ""}))
    client = KalshiClient(FAKE_BASE, None, session=fake_session(adapter))
    assert len(list(client.iter_markets(status="open"))) == 7
    assert [r.query.get("cursor") for r in adapter.received] == [None, [first["cursor"]]]
    assert all(r.query["limit"] == ["1000"] and r.query["status"] == ["open"] for r in adapter.received)


def test_era2_market_prefers_dollar_strings_and_reads_its_price_grid(golden_dir) -> None:
    market = m.Market.from_api(golden(golden_dir, "market_single")["market"])
    raw = golden(golden_dir, "market_single")["market"]
    assert market.ticker == raw["ticker"]
    assert market.yes_bid == Decimal(raw["yes_bid_dollars"]) and market.yes_ask == Decimal(raw["yes_ask_dollars"])
    assert market.price_grid.contains(Decimal("0.5000"))


def test_era2_deci_cent_market_accepts_tenth_of_a_cent_prices(golden_dir) -> None:
    market = m.Market.from_api(golden(golden_dir, "markets_list")["markets"][0])
    assert market.price_level_structure == "deci_cent"
    assert market.price_grid.contains(Decimal("0.123")) and not market.price_grid.contains(Decimal("0.1234"))


def test_era2_trade_reads_dollars_not_the_float_price(golden_dir) -> None:
    trade = m.Trade.from_api(golden(golden_dir, "trades_list")["trades"][0])
    assert (trade.ticker, trade.yes_price, trade.no_price, trade.count) == \
        ("KXELONMARS-99", Decimal("0.0600"), Decimal("0.9400"), Decimal("1"))
    assert trade.taker_outcome_side == "no"


def test_era2_fill_derives_the_book_side_from_legacy_side_and_action(golden_dir) -> None:
    fill = m.Fill.from_api(golden(golden_dir, "portfolio_fills")["fills"][0])
    assert fill.book_side is BookSide.BID and fill.count == Decimal("32")
    assert (fill.yes_price, fill.no_price) == (Decimal("0.6000"), Decimal("0.4000"))
    assert fill.fee_cost == Decimal("0")          # fills before fee_cost existed count as fee-free


def test_era2_order_counts_from_integers_and_costs_from_dollars(golden_dir) -> None:
    order = m.Order.from_api(golden(golden_dir, "portfolio_order_single")["order"])
    assert (order.status, order.book_side, order.yes_price) == ("resting", BookSide.BID, Decimal("0.3000"))
    assert (order.initial_count, order.fill_count, order.remaining_count) == (2, 0, 2)
    assert order.client_order_id == "54833c7f-2a19-5f97-8463-c22582e8c893"


def test_era2_position_and_settlement_units(golden_dir) -> None:
    position = m.MarketPosition.from_api(golden(golden_dir, "portfolio_positions")["market_positions"][0])
    assert (position.position, position.market_exposure, position.fees_paid) == \
        (Decimal("32"), Decimal("393.0100"), Decimal("136.1900"))
    settlement = m.Settlement.from_api(golden(golden_dir, "portfolio_settlements")["settlements"][0])
    assert settlement.market_result == "yes" and settlement.fee_cost == Decimal("0.7300")
    assert settlement.yes_total_cost == Decimal("42.8600")     # from integer cents


def test_era2_balance_in_integer_cents(golden_dir) -> None:
    balance = m.Balance.from_api(golden(golden_dir, "portfolio_balance"))
    assert (balance.balance, balance.balance_cents, balance.portfolio_value) == \
        (Decimal("100.0000"), 10000, Decimal("250.0000"))


def test_era2_empty_book_sides_come_back_null(golden_dir) -> None:
    book = m.Orderbook.from_api(golden(golden_dir, "orderbook"), "KX")
    assert book.yes_bids == () and book.no_bids == () and book.spread is None


def test_era2_event_with_top_level_markets_and_candles(golden_dir) -> None:
    body = golden(golden_dir, "event_single")
    event = m.Event.from_api(body["event"], body["markets"])
    assert event.event_ticker == "KXELONMARS-99" and len(event.markets) == len(body["markets"])
    candle = m.Candlestick.from_api(golden(golden_dir, "series_candlesticks")["candlesticks"][-1])
    assert (candle.yes_bid_close, candle.yes_ask_close, candle.price_close) == \
        (Decimal("0.0600"), Decimal("0.0700"), Decimal("0.0600"))


def test_era2_exchange_status(golden_dir) -> None:
    status = m.ExchangeStatus.from_api(golden(golden_dir, "exchange_status"))
    assert isinstance(status.exchange_active, bool)


@pytest.mark.parametrize("name", ["create_order", "cancel_order", "decrease_order"])
def test_retired_v1_order_write_responses_still_parse_as_orders(golden_dir, name) -> None:
    order = m.Order.from_api(golden(golden_dir, name)["order"])
    assert order.order_id == "6c170f2d-31ac-5a52-aa49-396c7be13455"


def test_retired_v1_amend_and_batch_responses_carry_parseable_orders(golden_dir) -> None:
    amend = golden(golden_dir, "amend_order")
    old, new = m.Order.from_api(amend["old_order"]), m.Order.from_api(amend["order"])
    assert old.order_id == new.order_id and old.client_order_id != new.client_order_id
    created = [m.Order.from_api(i["order"]) for i in golden(golden_dir, "batch_create_orders")["orders"]]
    cancelled = [m.Order.from_api(i["order"]) for i in golden(golden_dir, "batch_cancel_orders")["orders"]]
    assert [o.status for o in created] == ["resting", "resting"]
    assert [o.status for o in cancelled] == ["canceled", "canceled"]
    assert [o.order_id for o in cancelled] == [o.order_id for o in created]


# --- era 1: integer cents only -------------------------------------------------------------------

def test_era1_event_with_nested_cent_priced_markets(bundled_recordings) -> None:
    raw = json.loads((bundled_recordings / "CodeTillDawn2-kalshi-trading-bot/API_GetEvents.json").read_text())
    event = m.Event.from_api(raw["events"][0])
    assert event.event_ticker == "KXJAN6PARDON-25MAY01" and len(event.markets) == 6
    market = event.markets[0]
    assert (market.yes_bid, market.yes_ask, market.no_bid, market.no_ask, market.last_price) == \
        (Decimal("0.55"), Decimal("0.57"), Decimal("0.43"), Decimal("0.45"), Decimal("0.57"))
    assert (market.volume, market.open_interest, market.notional_value) == (61202, 42216, Decimal("1"))
    assert market.price_grid.contains(Decimal("0.55")) and not market.price_grid.contains(Decimal("0.555"))


# --- era 3: fixed-point strings only -------------------------------------------------------------

def test_era3_orderbook_fp_best_prices_and_implied_asks(test_data) -> None:
    raw = docs_examples(test_data, "docs/kalshi/getting_started/orderbook_responses.md")[0]
    book = m.Orderbook.from_api(raw, "KX")
    assert (book.best_yes_bid, book.best_yes_ask, book.spread) == (Decimal("0.4200"), Decimal("0.4400"), Decimal("0.0200"))
    assert book.yes_asks[0].count == Decimal("17.00")            # best NO bid 0.56 x 17 -> YES ask 0.44
    assert len(book.yes_bids) == 12 and len(book.no_bids) == 10


def test_era3_account_limits_document(test_data) -> None:
    raw = docs_examples(test_data, "docs/kalshi/getting_started/rate_limits.md")
    limits = m.AccountLimits.from_api(next(block for block in raw if "usage_tier" in block))
    assert limits == m.AccountLimits("premier", 1000, 1000, 1000, 2000)


def test_era3_websocket_fill_payload_parses_as_a_fill(test_data) -> None:
    message = docs_examples(test_data, "docs/kalshi/websockets/user-fills.md")[0]["msg"]
    fill = m.Fill.from_api(message)
    assert (fill.fill_id, fill.ticker, fill.book_side) == (message["trade_id"], "HIGHNY-22DEC23-B53.5", BookSide.BID)
    assert (fill.count, fill.yes_price, fill.no_price) == (Decimal("278.00"), Decimal("0.750"), Decimal("0.250"))


def test_era3_derived_trade_rows_with_float_prices_are_refused_not_misread(test_data) -> None:
    """The crypto recordings carry float prices and no trade_id; the loader must adapt them."""
    line = (test_data / "kalshi-crypto-15m-dataset/KXBTC15M/trades.jsonl").read_text().splitlines()[0]
    row = json.loads(line)
    assert isinstance(row["yes_price"], float)
    with pytest.raises(ResponseFormatError):
        m.Trade.from_api(row)
    with pytest.raises(ResponseFormatError, match="yes_price"):
        m.Trade.from_api({**row, "trade_id": "t1"})


def test_era3_fixed_point_fragments_win_over_legacy_integers(golden_dir, test_data) -> None:
    """The docs' fixed-point examples (`count` beside `count_fp`, `count_fp` alone) on a real trade."""
    contracts = docs_examples(test_data, "docs/kalshi/getting_started/fixed_point_contracts.md")[0]
    migration = docs_examples(test_data, "docs/kalshi/getting_started/fixed_point_migration.md")
    only_fp = next(block for block in migration if "count_fp" in block)
    base = {k: v for k, v in golden(golden_dir, "trades_list")["trades"][0].items() if k != "count"}
    assert m.Trade.from_api({**base, **contracts}).count == Decimal("10.00")
    assert m.Trade.from_api({**base, **only_fp}).count == Decimal("10.00")
    assert m.Trade.from_api({**base, "count": 3, "count_fp": "2.50"}).count == Decimal("2.50")


_FILL = {"fill_id": "f1", "order_id": "o1", "ticker": "KXT", "book_side": "bid", "count_fp": "1.00",
         "yes_price_dollars": "0.4200", "created_time": "2026-11-21T10:00:00Z"}


@pytest.mark.parametrize("change", [
    {"count_fp": "1e40"},                                       # decimal.InvalidOperation escaped
    {"yes_price_dollars": "123456789012345678901234567.5"},     # decimal.InvalidOperation escaped
    {"yes_price_dollars": None, "yes_price": "abc"},            # ValueError from int() escaped
    {"yes_price_dollars": None, "yes_price": "9" * 40},         # InvalidOperation in cents_to_dollars
    {"created_time": None, "ts": 1_795_000_000_000_000},        # ValueError: year out of range
    {"created_time": None, "ts": float("nan")},                 # ValueError: NaN
    {"created_time": None, "ts": 1e300},                        # OverflowError
], ids=["huge-count", "huge-price", "text-cents", "huge-cents", "ts-out-of-range", "ts-nan", "ts-overflow"])
def test_unusable_numbers_in_a_record_are_a_response_format_error(change: dict) -> None:
    """What the exchange sends is read through one error type; a bare ValueError /
    InvalidOperation / OverflowError from a field reader escaped it before."""
    raw = {k: v for k, v in {**_FILL, **change}.items() if v is not None}
    with pytest.raises(ResponseFormatError):
        m.Fill.from_api(raw)


def test_a_historical_cutoff_in_unix_seconds_or_iso_reads_and_milliseconds_are_refused() -> None:
    cutoff = m.HistoricalCutoff.from_api({"market_settled_ts": 1_795_000_000,
                                          "trades_created_ts": "2026-11-21T00:00:00Z",
                                          "orders_updated_ts": None})
    assert cutoff.market_settled_ts.isoformat() == "2026-11-18T11:06:40+00:00"
    assert cutoff.trades_created_ts.isoformat() == "2026-11-21T00:00:00+00:00"
    with pytest.raises(ResponseFormatError, match="market_settled_ts"):   # was a bare ValueError
        m.HistoricalCutoff.from_api({"market_settled_ts": 1_795_000_000_000})


def test_a_series_fee_multiplier_that_is_not_a_number_is_a_response_format_error() -> None:
    with pytest.raises(ResponseFormatError, match="fee_multiplier"):   # was decimal.InvalidOperation
        m.Series.from_api({"ticker": "KXS", "fee_multiplier": "abc"})
