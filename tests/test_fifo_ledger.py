"""The FIFO lot engine against hand-computed answers (every figure below was worked out on paper)."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from kalshi_trading.models import Fill
from kalshi_trading.portfolio.fifo_ledger import Lot, MarketLedger
from kalshi_trading.portfolio.fill_collector import FillCollector


def raw_fill(fill_id: str, side: str, count: str, price: str, fee: str = "0.0000",
             when: str = "2026-11-20T10:00:00.000000Z", ticker: str = "KXT-1") -> dict:
    """An era-3 `/portfolio/fills` item."""
    yes = D(price)
    return {"fill_id": fill_id, "trade_id": fill_id, "order_id": "o-" + fill_id, "ticker": ticker,
            "market_ticker": ticker, "book_side": side,
            "outcome_side": "yes" if side == "bid" else "no", "count_fp": count,
            "yes_price_dollars": price, "no_price_dollars": f"{1 - yes:.4f}", "is_taker": True,
            "fee_cost": fee, "created_time": when, "exchange_index": 0}


def run(fills: list[tuple[str, str, str, str]]) -> MarketLedger:
    ledger = MarketLedger("KXT-1")
    for side, count, price, fee in fills:
        delta = D(count) if side == "bid" else -D(count)
        ledger.apply(delta, D(price), D(fee), "2026-11-20T10:00:00.000Z")
    return ledger


# side "bid" = buy YES / sell NO at the YES price; "ask" = sell YES / buy NO (NO price = 1 - price)
CASES = [
    pytest.param(
        [("bid", "10", "0.40", "0.10"), ("ask", "4", "0.55", "0.04")],
        # closes 4 of 10: (0.55-0.40)*4 = 0.60, minus 4/10 of the 0.10 opening fee, minus 0.04
        D("6"), D("0.52"), D("0.14"), [Lot(D("6"), D("0.40"), D("0.06"))],
        id="partial-close-charges-pro-rata-opening-fee"),
    pytest.param(
        [("bid", "5", "0.30", "0.05"), ("ask", "8", "0.50", "0.08")],
        # sells 5 YES: (0.50-0.30)*5 = 1.00 - 0.05 opening - 5/8*0.08 closing = 0.90;
        # buys 3 NO at 0.50, carrying the other 3/8 of the fee
        D("-3"), D("0.90"), D("0.13"), [Lot(D("3"), D("0.50"), D("0.03"))],
        id="flip-yes-to-no-in-one-fill"),
    pytest.param(
        [("ask", "3", "0.60", "0"), ("bid", "5", "0.50", "0")],
        # 3 NO bought at 0.40 sold at 0.50 (YES 0.60 -> 0.50): +0.30; then 2 YES at 0.50
        D("2"), D("0.30"), D("0"), [Lot(D("2"), D("0.50"), D("0"))],
        id="flip-no-to-yes-in-one-fill"),
    pytest.param(
        [("bid", "2", "0.40", "0.02"), ("bid", "2", "0.50", "0.02"), ("ask", "6", "0.45", "0.06")],
        # closes both lots (+0.10, -0.10), their 0.04 of opening fees and 4/6 of 0.06; 2 NO remain
        D("-2"), D("-0.08"), D("0.10"), [Lot(D("2"), D("0.45"), D("0.02"))],
        id="flip-through-two-lots-splits-the-fee"),
    pytest.param(
        [("bid", "10", "0.60", "0"), ("ask", "10", "0.65", "0")],
        # buying 10 NO at 0.35 against 10 YES at 0.60 nets out: (0.65-0.60)*10
        D("0"), D("0.50"), D("0"), [],
        id="buying-no-closes-a-yes-position"),
    pytest.param(
        [("ask", "10", "0.70", "0"), ("bid", "4", "0.60", "0")],
        # holds 10 NO bought at 0.30 (YES 0.70); selling 4 NO at 0.40 (YES 0.60): (0.70-0.60)*4
        D("-6"), D("0.40"), D("0"), [Lot(D("6"), D("0.70"), D("0"))],
        id="no-lot-closed-at-lower-yes-price-gains"),
    pytest.param(
        [("bid", "2", "0.50", "0.0350"), ("ask", "2", "0.60", "0.0336")],
        # 0.20 gross - 0.0350 opening fee - 0.0336 closing fee
        D("0"), D("0.1314"), D("0.0686"), [],
        id="fees-on-open-and-close"),
    pytest.param(
        [("bid", "0.01", "0.33", "0"), ("bid", "0.02", "0.34", "0"), ("ask", "0.02", "0.40", "0")],
        # closes 0.01 @0.33 (0.0007) then 0.01 of the 0.34 lot (0.0006)
        D("0.01"), D("0.0013"), D("0"), [Lot(D("0.01"), D("0.34"), D("0"))],
        id="fractional-counts"),
    pytest.param(
        [("bid", "3", "0.1234", "0.0001"), ("ask", "3", "0.1251", "0.0001")],
        # (0.1251-0.1234)*3 = 0.0051 - 0.0002 fees
        D("0"), D("0.0049"), D("0.0002"), [],
        id="sub-penny-prices"),
    pytest.param(
        [("bid", "1.5", "0.123456", "0"), ("ask", "1.5", "0.123457", "0")],
        D("0"), D("0.0000015"), D("0"), [],
        id="six-decimal-prices-are-exact"),
    pytest.param(
        [("bid", "3", "0.10", "0.01"), ("ask", "1", "0.20", "0"), ("ask", "1", "0.20", "0"),
         ("ask", "1", "0.20", "0")],
        # the 0.01 opening fee is split 3 ways and sums exactly: 1,000,000e-8 x 1/3 -> 0.00333333
        # (0.00666667 left), x 1/2 -> 0.00333333 (0.00333334 left), then the last 0.00333334;
        # realized 3 x 0.10 - 0.01 = 0.29
        D("0"), D("0.29"), D("0.01"), [],
        id="thirds-of-a-fee-sum-exactly"),
    pytest.param(
        [("bid", "1", "0.50", "0"), ("ask", "3", "0.50", "0.0100")],
        # the flip closes 1 of 3: 1/3 of the 0.01 fee = 0.00333333 (rounded down to 1e-8) is
        # charged now, gross 0; the 2 NO opened carry the other 0.00666667, so nothing is lost
        D("-2"), D("-0.00333333"), D("0.01"), [Lot(D("2"), D("0.50"), D("0.00666667"))],
        id="flip-splits-an-indivisible-fee-exactly"),
    pytest.param(
        [("bid", "10", "0.60", "0.02"), ("ask", "4", "0.65", "0.01")],
        # buying 4 NO at 0.35 against 10 YES at 0.60 sells 4 YES at 0.65: 0.05 x 4 = 0.20,
        # - 4/10 x 0.02 opening - 0.01 closing = 0.182; 6 YES remain with 0.012 of fee
        D("6"), D("0.182"), D("0.03"), [Lot(D("6"), D("0.60"), D("0.012"))],
        id="buying-no-partly-closes-a-yes-position"),
    pytest.param(
        [("ask", "2.5", "0.123456", "0.000123"), ("bid", "1.25", "0.100001", "0.000061")],
        # 2.5 NO bought at 0.876544 (YES 0.123456); 1.25 sold back at NO 0.899999 (YES 0.100001):
        # (0.123456 - 0.100001) x 1.25 = 0.02931875, - 0.0000615 opening - 0.000061 closing
        D("-1.25"), D("0.02919625"), D("0.000184"), [Lot(D("1.25"), D("0.123456"), D("0.0000615"))],
        id="no-lot-fractional-count-at-six-decimal-prices"),
    pytest.param(
        [("bid", "2", "0.40", "0"), ("bid", "3", "0.50", "0"), ("ask", "1", "0.45", "0")],
        # a partial close takes the oldest lot: 1 @0.40 closed at 0.45 = +0.05 (LIFO: -0.05)
        D("4"), D("0.05"), D("0"), [Lot(D("1"), D("0.40"), D("0")), Lot(D("3"), D("0.50"), D("0"))],
        id="partial-close-takes-the-oldest-lot"),
    pytest.param(
        [("bid", "2", "0.40", "0"), ("bid", "3", "0.50", "0"), ("ask", "4", "0.45", "0")],
        # FIFO: 2 @0.40 (+0.10) then 2 of 3 @0.50 (-0.10)
        D("1"), D("0.00"), D("0"), [Lot(D("1"), D("0.50"), D("0"))],
        id="oldest-lot-closes-first"),
]


@pytest.mark.parametrize("fills, position, realized, fees, lots", CASES)
def test_fifo_ledger_hand_computed(fills, position, realized, fees, lots) -> None:
    ledger = run(fills)
    assert ledger.position == position
    assert ledger.realized == realized
    assert ledger.fees == fees
    assert list(ledger.lots) == lots


SETTLEMENTS = [
    pytest.param([("bid", "10", "0.40", "0.17")], D("1"), D("5.83"), D("10"), id="yes-result-pays-yes"),
    pytest.param([("ask", "10", "0.70", "0.15")], D("0"), D("6.85"), D("10"), id="no-result-pays-no"),
    pytest.param([("bid", "10", "0.40", "0.17")], D("0"), D("-4.17"), D("0"), id="no-result-zeroes-yes"),
    pytest.param([("bid", "4", "0.25", "0")], D("0.4559"), D("0.8236"), D("1.8236"), id="scalar-yes"),
    pytest.param([("ask", "4", "0.25", "0")], D("0.4559"), D("-0.8236"), D("2.1764"), id="scalar-no"),
    pytest.param([("bid", "5", "0.40", "0.02"), ("ask", "5", "0.50", "0.02")], D("1"), D("0.46"),
                 D("0"), id="closed-before-settlement"),
]


@pytest.mark.parametrize("fills, value, realized, payout", SETTLEMENTS)
def test_settlement_closes_open_lots_at_the_settlement_value(fills, value, realized, payout) -> None:
    ledger = run(fills)
    close = ledger.settle(value, "2026-11-21T00:00:00Z")
    assert close.payout == payout
    assert ledger.realized == realized
    assert ledger.position == 0 and ledger.lots == ()


def test_each_close_is_charged_its_own_share_of_the_opening_fee() -> None:
    ledger = run([("bid", "3", "0.10", "0.01")])
    pieces = [ledger.apply(D("-1"), D("0.20"), D("0")) for _ in range(3)]
    # 0.10 gross each, less 0.00333333, 0.00333333, then the 0.00333334 that was left
    assert pieces == [D("0.09666667"), D("0.09666667"), D("0.09666666")]


def test_unrealized_is_net_of_opening_fees_for_yes_and_no() -> None:
    long_yes = run([("bid", "10", "0.40", "0.10")])
    assert long_yes.unrealized(D("0.45")) == D("0.40")          # 0.05*10 - 0.10
    short = run([("ask", "10", "0.40", "0.10")])                 # 10 NO bought at 0.60
    assert short.unrealized(D("0.45")) == D("-0.60")             # (0.40-0.45)*10 - 0.10
    assert short.open_cost == D("6.00")
    assert short.average_price == D("0.40")


def test_daily_realized_is_booked_on_the_closing_day() -> None:
    ledger = MarketLedger("KXT-1")
    ledger.apply(D("2"), D("0.40"), D("0"), "2026-11-18T23:59:59.000Z")
    ledger.apply(D("-1"), D("0.50"), D("0"), "2026-11-19T00:00:01.000Z")
    ledger.apply(D("-1"), D("0.30"), D("0"), "2026-11-20T12:00:00.000Z")
    assert ledger.daily == {"2026-11-19": D("0.10"), "2026-11-20": D("-0.10")}


def test_collector_orders_unsorted_duplicated_fills_by_time() -> None:
    times = [f"2026-11-20T10:00:0{i}.000000Z" for i in range(4)]
    fills = [raw_fill("a", "bid", "2", "0.40", "0.02", times[0]),
             raw_fill("b", "bid", "2", "0.50", "0.02", times[1]),
             raw_fill("c", "ask", "3", "0.60", "0.03", times[2]),
             raw_fill("d", "ask", "1", "0.10", "0.01", times[3])]
    shuffled = [fills[2], fills[0], fills[3], fills[1], fills[2], fills[0]]
    collector = FillCollector()
    assert collector.add_raw(shuffled) == 4
    assert collector.duplicates == 2
    ledger = collector.ledgers()["KXT-1"]
    # a: 2@0.40 closed at 0.60 (+0.40 -0.02 -2/3*0.03); b: 1@0.50 at 0.60 (+0.10 -0.01 -0.01);
    # then 1@0.50 at 0.10 (-0.40 -0.01 -0.01) -> 0.40-0.04+0.10-0.02-0.40-0.02 = 0.02
    assert ledger.realized == D("0.02")
    assert ledger.fees == D("0.08")
    assert ledger.position == 0


def test_collector_raw_and_typed_paths_agree_on_random_trading() -> None:
    rng = random.Random(7)
    raws = []
    for i in range(400):
        raws.append(raw_fill(f"f{i}", rng.choice(["bid", "ask"]), f"{rng.randint(1, 500) / 100:.2f}",
                             f"{rng.randint(1, 9999) / 10000:.4f}", f"{rng.randint(0, 300) / 10000:.4f}",
                             f"2026-11-20T10:{i // 60:02d}:{i % 60:02d}.000000Z",
                             ticker=f"KXT-{i % 3}"))
    fast, slow = FillCollector(), FillCollector()
    fast.add_raw(reversed(raws))
    slow.add_fills(Fill.from_api(r) for r in raws)
    for ticker, ledger in fast.ledgers().items():
        other = slow.ledgers()[ticker]
        assert (ledger.realized, ledger.position, ledger.fees) == (other.realized, other.position, other.fees)
        # everything closed at 0.5 would leave realized + unrealized = cash in - cash out - fees
        cash = sum(D(r["yes_price_dollars"]) * D(r["count_fp"]) * (1 if r["book_side"] == "ask" else -1)
                   - D(r["fee_cost"]) for r in raws if r["ticker"] == ticker)
        assert ledger.realized + ledger.unrealized(D("0.5")) == cash + ledger.position * D("0.5")


def test_collector_reads_legacy_fills_and_reports_unreadable_ones() -> None:
    legacy = {"fill_id": "L1", "order_id": "o", "ticker": "KXT-1", "side": "no", "action": "buy",
              "count": 3, "yes_price": 60, "created_time": "2026-01-10T16:11:11.109554Z"}
    broken = raw_fill("B1", "bid", "1.234", "0.40")
    collector = FillCollector()
    assert collector.add_raw([legacy, broken]) == 1
    assert collector.unreadable == 1 and "B1" in collector.problems[0]
    ledger = collector.ledgers()["KXT-1"]
    assert ledger.position == D("-3") and ledger.open_cost == D("1.20")   # 3 NO at 0.40


def test_a_fill_with_an_unreadable_time_is_skipped_and_reported() -> None:
    collector = FillCollector()
    collector.add_raw([raw_fill("late", "ask", "1", "0.90", when="2026-11-20T10:00:01Z"),
                       raw_fill("bad", "bid", "5", "0.10", when="yesterday-ish"),
                       raw_fill("early", "bid", "1", "0.10", when="2026-11-20T10:00:00.500000Z")])
    ledger = collector.ledgers()["KXT-1"]
    assert ledger.realized == D("0.80") and ledger.position == 0      # the 5 @0.10 never booked
    assert collector.unreadable == 1 and "'yesterday-ish' is not a time" in collector.problems[0]


def test_a_fill_without_ticker_falls_back_to_market_ticker() -> None:
    collector = FillCollector()
    collector.add_raw([{**raw_fill("n", "bid", "2", "0.30"), "ticker": None, "market_ticker": "KXM-2"},
                       raw_fill("t", "bid", "1", "0.40", ticker="KXM-2")])
    ledgers = collector.ledgers()
    assert list(ledgers) == ["KXM-2"] and ledgers["KXM-2"].position == D("3")


def test_mixed_timestamp_formats_are_ordered_by_real_time() -> None:
    collector = FillCollector()
    collector.add_raw([raw_fill("late", "ask", "1", "0.90", when="2026-11-20T10:00:01Z"),
                       raw_fill("early", "bid", "1", "0.10", when="2026-11-20T10:00:00.500000Z")])
    ledger = collector.ledgers()["KXT-1"]
    assert ledger.realized == D("0.80") and ledger.position == 0


@pytest.mark.parametrize("change, fragment", [
    ({"count_fp": "1.234"}, "more than 2 decimal places"),
    ({"yes_price_dollars": "0.1234567"}, "more than 6 decimal places"),
    ({"fee_cost": "abc"}, "not a number"),
    ({"book_side": "sideways", "outcome_side": None}, "book_side"),
    ({"fill_id": ["not", "a", "string"]}, "fill_id"),
])
def test_malformed_fills_are_skipped_with_a_reason(change: dict, fragment: str) -> None:
    bad = {**raw_fill("B", "bid", "1", "0.40"), **change}
    collector = FillCollector()
    assert collector.add_raw([bad, raw_fill("G", "bid", "1", "0.40")]) == 1
    assert collector.unreadable == 1 and fragment in collector.problems[0]


@pytest.mark.parametrize("force_sort", [False, True], ids=["newest-first-stream", "sorted-path"])
def test_fills_with_equal_times_keep_the_exchange_order(force_sort: bool) -> None:
    same = "2026-11-20T10:00:00.000000Z"
    newest_first = [raw_fill("C", "ask", "1", "0.50", when="2026-11-20T10:00:01.000000Z"),
                    raw_fill("B", "bid", "1", "0.60", when=same),     # listed first, happened second
                    raw_fill("A", "bid", "1", "0.40", when=same)]
    if force_sort:
        newest_first.append(raw_fill("Z", "bid", "1", "0.10", when="2026-11-20T10:00:05.000000Z"))
    collector = FillCollector()
    collector.add_raw(newest_first)
    ledger = collector.ledgers()["KXT-1"]
    assert ledger.realized == D("0.10")           # C closed A (bought at 0.40), the older lot
    assert ledger.lots[0] == Lot(D("1"), D("0.60"), D("0"))
