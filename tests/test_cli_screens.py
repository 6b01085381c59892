"""Screen data functions on their own: deduplicated search, JSON that reads back, narrow book lines."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from kalshi_trading.models import Market, MarketPosition, Orderbook
from kalshi_trading.paper.universe import synthetic_market
from kalshi_trading.terminal.json_views import market_json, orderbook_json, position_json
from kalshi_trading.terminal.market_screens import book_lines, search_markets

NOW = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)


def market(tick: str, title: str) -> Market:
    raw = synthetic_market(tick, tick.rsplit("-", 1)[0], now=NOW, title=title)
    raw.update(yes_bid_dollars="0.4200", yes_ask_dollars="0.4300", volume_fp="12.50")
    return Market.from_api(raw)


class PagedMarkets:
    """A client whose market pages overlap (as a cursor replay after a retry can make them)."""

    def __init__(self, markets: list[Market]) -> None:
        self.markets = markets
        self.calls: list[dict] = []

    def iter_markets(self, **filters):
        self.calls.append(filters)
        return iter(self.markets)


def test_search_results_are_deduplicated_and_keyword_matches_every_word() -> None:
    a, b = market("KXA-26DEC31-X", "Rain in Boston"), market("KXA-26DEC31-Y", "Snow in Boston")
    client = PagedMarkets([a, b, a, b, a])
    assert [m.ticker for m in search_markets(client, series="KXA")] == [a.ticker, b.ticker]
    assert [m.ticker for m in search_markets(client, text="boston rain")] == [a.ticker]
    assert client.calls[-1]["status"] == "open"  # a keyword search looks at open markets


def test_market_json_reads_back_to_the_same_market() -> None:
    from dataclasses import replace
    original = market("KXA-26DEC31-X", "Rain in Boston")
    again = Market.from_api(market_json(original))
    assert again.price_grid.ranges == original.price_grid.ranges  # PriceGrid has no __eq__
    assert replace(again, price_grid=original.price_grid) == original


def test_positions_json_uses_kalshi_names_and_fixed_point_strings() -> None:
    pos = MarketPosition.from_api({"ticker": "KXA-26DEC31-X", "position_fp": "-5.00",
                                   "market_exposure_dollars": "2.350001", "realized_pnl_dollars": "0",
                                   "fees_paid_dollars": "0.09", "total_traded_dollars": "2.35"})
    doc = position_json(pos)
    assert doc["position_fp"] == "-5.00" and doc["market_exposure_dollars"] == "2.350001"
    assert doc["fees_paid_dollars"] == "0.0900"


def test_book_json_keeps_the_wire_shape_and_lines_fit_80_columns() -> None:
    book = Orderbook.from_api({"orderbook_fp": {"yes_dollars": [["0.4100", "10.00"], ["0.4200", "13.00"]],
                                                "no_dollars": [["0.5500", "20.00"]]}}, "KXA-26DEC31-X")
    doc = orderbook_json(book)
    assert doc["orderbook_fp"]["yes_dollars"] == [["0.4100", "10.00"], ["0.4200", "13.00"]]
    assert doc["spread_dollars"] == "0.0300"
    lines = book_lines(book)
    assert all(len(line) <= 80 for line in lines)
    assert any("0.4500" in line for line in lines)  # the YES ask implied by the NO bid at 0.55
    assert Decimal(doc["best_yes_ask_dollars"]) == Decimal("0.45")


def test_a_balance_is_shown_in_cents_only_when_it_is_whole_cents() -> None:
    from kalshi_trading.money import fmt_cash as cash
    assert cash(Decimal("981.82")) == "981.82"
    assert cash(Decimal("981.825")) == "981.8250"  # never rounded up to $981.83
    assert cash(Decimal("1E+3")) == "1000.00"       # never scientific notation
