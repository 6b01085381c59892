"""A folder of recorded responses in any wire era becomes era-3 markets, books and prints."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from kalshi_trading.models import Market
from kalshi_trading.paper.market_data.folder import STATIC_MIN_OPEN
from kalshi_trading.paper.market_data.sources import load_universe
from kalshi_trading.paper.market_data.wire import detect_era
from kalshi_trading.timeutil import parse_iso

START = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
LEGACY_KEYS = {"yes_bid", "yes_ask", "no_bid", "no_ask", "last_price", "volume", "volume_24h",
               "open_interest", "liquidity", "notional_value", "tick_size"}


class Notices(list):
    def __call__(self, text: str) -> None:
        self.append(text)


def era3_market(ticker: str, **overrides) -> dict:
    market = {"ticker": ticker, "event_ticker": "KXTEST-26NOV21", "market_type": "binary",
              "title": "Test?", "yes_sub_title": "Yes", "no_sub_title": "No", "status": "active",
              "open_time": "2026-11-20T00:00:00Z", "close_time": "2026-11-22T00:00:00Z",
              "created_time": "2026-11-19T00:00:00Z", "updated_time": "2026-11-20T10:00:00Z",
              "yes_bid_dollars": "0.4100", "yes_ask_dollars": "0.4500", "result": "",
              "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]}
    market.update(overrides)
    return market


def write(folder: Path, name: str, content) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")


@pytest.fixture(scope="module")
def golden(golden_dir):
    notices = Notices()
    universe = load_universe(str(golden_dir), start=START, on_notice=notices)
    return universe, notices


@pytest.fixture(scope="module")
def codetilldawn(bundled_recordings):
    return load_universe(str(bundled_recordings / "CodeTillDawn2-kalshi-trading-bot"), start=START,
                         on_notice=pytest.fail)


@pytest.mark.parametrize("body, era", [
    ({"market": {"ticker": "A", "yes_bid": 35}}, 1),
    ({"orderbook": {"yes": [[35, 100]], "no": None}}, 1),
    ({"market": {"ticker": "A", "yes_bid": 35, "yes_bid_dollars": "0.3500"}}, 2),
    ({"orderbook": {"yes": None, "no": None, "yes_dollars": None, "no_dollars": None}}, 2),
    ({"market": {"ticker": "A", "yes_bid_dollars": "0.3500", "volume_fp": "10.00"}}, 3),
    ({"orderbook_fp": {"yes_dollars": [["0.3500", "10.00"]]}}, 3),
    ({"series": [{"ticker": "S", "fee_type": "quadratic"}]}, None),
])
def test_detect_era_reads_the_wire_format(body, era):
    assert detect_era(body) == era


def test_golden_folder_is_read_as_transitional_and_normalized(golden):
    universe, _ = golden
    assert any("markets_list_response.json" in note and "(era 2)" in note for note in universe.notes)
    assert len(universe.series) >= 241
    mars = universe.markets["KXELONMARS-99"]
    assert (mars["yes_bid_dollars"], mars["yes_ask_dollars"]) == ("0.0600", "0.0700")
    assert mars["volume_fp"] == "35001.00" and mars["notional_value_dollars"] == "1.0000"
    for market in universe.markets.values():
        assert not LEGACY_KEYS & market.keys()
        Market.from_api(market)


def test_golden_null_orderbook_sides_become_an_empty_book(golden):
    universe, _ = golden
    book = universe.books["KXMVENFLSINGLEGAME-S202513E70FA7695-688BECB3826"]
    assert book.yes_bids == () and book.no_bids == ()


def test_golden_trades_become_prints_before_start(golden):
    universe, _ = golden
    prints = [u for u in universe.timeline if u.trade is not None]
    assert len(prints) == 5 and all(u.ticker == "KXELONMARS-99" for u in prints)
    assert all(u.at <= START for u in prints)
    assert prints[0].trade.yes_price == Decimal("0.0600") and prints[0].trade.taker_outcome_side == "no"


def test_golden_files_we_do_not_use_are_ignored_quietly(golden):
    universe, notices = golden
    assert notices == []
    assert any(note.startswith("ignored") for note in universe.notes)


def test_codetilldawn_legacy_cents_become_dollar_strings(codetilldawn):
    assert any("API_GetEvents.json" in note and "(era 1)" in note for note in codetilldawn.notes)
    pardon = {t: m for t, m in codetilldawn.markets.items() if m["event_ticker"] == "KXJAN6PARDON-25MAY01"}
    assert len(pardon) == 6
    market = pardon["KXJAN6PARDON-25MAY01-1000"]
    assert (market["yes_bid_dollars"], market["yes_ask_dollars"]) == ("0.5500", "0.5700")
    assert market["volume_fp"] == "61202.00" and market["price_ranges"][0]["step"] == "0.0100"
    assert market["status"] == "active" and market["latest_expiration_time"].endswith("Z")
    book = codetilldawn.books["KXJAN6PARDON-25MAY01-1000"]
    assert book.yes_bids[-1][0] == Decimal("0.55") and book.no_bids[-1][0] == Decimal("0.43")
    assert codetilldawn.series["KXJAN6PARDON"]["fee_type"] == "quadratic"


def test_era3_folder_reads_books_by_file_name_and_trades(tmp_path):
    write(tmp_path, "markets.json", {"markets": [era3_market("KXTEST-26NOV21-A")], "cursor": ""})
    write(tmp_path, "KXTEST-26NOV21-A_orderbook.json",
          {"orderbook_fp": {"yes_dollars": [["0.4000", "5.00"], ["0.4100", "13.50"]],
                            "no_dollars": [["0.5500", "20.00"]]}})
    write(tmp_path, "trades.json", {"trades": [{
        "trade_id": "t1", "ticker": "KXTEST-26NOV21-A", "count_fp": "2.50", "yes_price_dollars": "0.4300",
        "no_price_dollars": "0.5700", "taker_outcome_side": "yes", "created_time": "2026-11-20T09:00:00Z"}]})
    universe = load_universe(str(tmp_path), start=START, on_notice=pytest.fail)
    assert any(note.startswith("KXTEST-26NOV21-A_orderbook.json") and "(era 3)" in note for note in universe.notes)
    book = universe.books["KXTEST-26NOV21-A"]
    assert book.yes_bids == ((Decimal("0.4000"), Decimal("5.00")), (Decimal("0.4100"), Decimal("13.50")))
    assert universe.markets["KXTEST-26NOV21-A"]["yes_bid_size_fp"] == "13.50"
    (update,) = universe.timeline
    assert update.trade.count == Decimal("2.50")
    assert update.at == START - timedelta(hours=1)   # dated by the latest update (10:00), trade at 09:00


def test_folder_times_keep_their_distance_divided_by_speed(tmp_path):
    far = era3_market("KXTEST-26NOV21-A", close_time="2027-06-20T10:00:00Z")
    write(tmp_path, "market.json", {"market": far})
    universe = load_universe(str(tmp_path), start=START, speed=4, on_notice=pytest.fail)
    close = parse_iso(universe.markets["KXTEST-26NOV21-A"]["close_time"])
    assert close - START == (parse_iso("2027-06-20T10:00:00Z") - parse_iso("2026-11-20T10:00:00Z")) / 4


def test_recorded_settled_market_stays_settled(tmp_path):
    settled = {"ticker": "OLD-1", "event_ticker": "OLD", "status": "settled", "result": "yes",
               "yes_bid": 0, "yes_ask": 0, "close_time": "2025-01-01T00:00:00Z", "open_time": "2024-12-01T00:00:00Z"}
    write(tmp_path, "m.json", {"markets": [settled]})
    market = load_universe(str(tmp_path), start=START, on_notice=pytest.fail).markets["OLD-1"]
    assert (market["status"], market["result"], market["settlement_value_dollars"]) == ("finalized", "yes", "1.0000")


def test_active_market_closing_soon_is_kept_open(tmp_path):
    write(tmp_path, "m.json", {"market": era3_market("KXTEST-26NOV21-A")})
    market = load_universe(str(tmp_path), start=START, on_notice=pytest.fail).markets["KXTEST-26NOV21-A"]
    assert parse_iso(market["close_time"]) == START + STATIC_MIN_OPEN


def test_malformed_json_is_skipped_with_one_notice(tmp_path):
    write(tmp_path, "broken.json", '{"markets": [')
    write(tmp_path, "good.json", {"markets": [era3_market("KXTEST-26NOV21-A")]})
    notices = Notices()
    universe = load_universe(str(tmp_path), start=START, on_notice=notices)
    assert list(universe.markets) == ["KXTEST-26NOV21-A"]
    assert len(notices) == 1 and "broken.json" in notices[0]


def test_unreadable_record_is_skipped_and_the_rest_load(tmp_path):
    nameless = era3_market("X")
    del nameless["ticker"]
    write(tmp_path, "markets.json", {"markets": [nameless, era3_market("KXTEST-26NOV21-B")]})
    notices = Notices()
    universe = load_universe(str(tmp_path), start=START, on_notice=notices)
    assert list(universe.markets) == ["KXTEST-26NOV21-B"]
    assert notices == ["markets.json: skipped 1 unreadable record(s)"]


def test_missing_folder_falls_back_to_bundled_with_a_notice(tmp_path):
    notices = Notices()
    universe = load_universe(str(tmp_path / "nowhere"), start=START, on_notice=notices)
    assert universe.source == "bundled" and len(universe.markets) >= 50
    assert len(notices) == 1 and "not found; using bundled data" in notices[0]
