"""PortfolioTracker against the paper exchange over loopback HTTP: random trading, then settlement.

The exchange's books are the truth here: once every market is settled, the tracker's total
realized P&L must equal the change in the paper account's balance to the $0.0001, and before
settlement its positions, costs, fees and realized P&L must match the exchange's own figures.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from typing import Any, Iterator

import pytest
from client_fixtures import TEST_KEY_ID, no_sleep
from conftest import pem_public
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_trading.client.signing import KalshiSigner
from kalshi_trading.errors import OrderRejected
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.money import fmt_dollars
from kalshi_trading.order_request import BookSide, OrderRequestV2, TimeInForce
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.portfolio.fill_collector import FillCollector
from kalshi_trading.portfolio_tracker import PortfolioTracker, render_portfolio

TICKERS = ("KXPNL-26DEC01-YES", "KXPNL-26DEC01-NO", "KXPNL-26DEC01-SCALAR", "KXPNL-26DEC01-FLAT")
DECI_CENT = [{"start": "0.0000", "end": "1.0000", "step": "0.0010"}]


def _universe(now: datetime) -> Any:
    """Four markets on a 0.1-cent grid, each with a deep crowd book at sub-penny levels."""
    from kalshi_trading.paper.universe import BookSnapshot, MarketUniverse, synthetic_market, synthetic_series
    universe = MarketUniverse()
    universe.series["KXPNL"] = synthetic_series("KXPNL", fee_type="quadratic_with_maker_fees")
    universe.events["KXPNL-26DEC01"] = {
        "event_ticker": "KXPNL-26DEC01", "series_ticker": "KXPNL", "title": "P&L test",
        "sub_title": "", "collateral_return_type": "binary", "mutually_exclusive": False,
        "settlement_sources": [], "strike_period": ""}
    levels = tuple((D("0.300") + D("0.017") * i, D("9")) for i in range(10))   # 0.300 .. 0.453
    for ticker in TICKERS:
        universe.markets[ticker] = synthetic_market(ticker, "KXPNL-26DEC01", now=now,
                                                    close_in=timedelta(days=7), price_ranges=DECI_CENT)
        universe.books[ticker] = BookSnapshot(yes_bids=levels, no_bids=levels)
    return universe


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory, rsa_private_key: rsa.RSAPrivateKey) -> Iterator[Any]:
    running = start_paper_exchange(tmp_path_factory.mktemp("pnl-paper"),
                                   universe=_universe(datetime.now(timezone.utc)),
                                   public_keys={TEST_KEY_ID: pem_public(rsa_private_key)})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def client(exchange: Any, rsa_private_key: rsa.RSAPrivateKey) -> Iterator[KalshiClient]:
    client = KalshiClient(exchange.base_url, KalshiSigner(TEST_KEY_ID, rsa_private_key),
                          sleep=no_sleep, timeout=5.0)
    try:
        yield client
    finally:
        client.close()


def _ioc(client: KalshiClient, ticker: str, side: BookSide, count: D, price: D) -> None:
    request = OrderRequestV2(ticker, side, count, price, TimeInForce.IOC,
                             client_order_id=str(uuid.uuid4()))
    try:
        client.create_order(request)
    except OrderRejected:
        pass   # e.g. nothing left at that price; random trading goes on


def _trade_randomly(client: KalshiClient, rng: random.Random, orders: int) -> None:
    for _ in range(orders):
        ticker = rng.choice(TICKERS)
        side = rng.choice((BookSide.BID, BookSide.ASK))
        count = D(rng.randint(1, 700)) / 100                       # 0.01 .. 7.00 contracts
        reach = D(rng.randint(0, 120)) / 1000                      # walk up to 12 cents of book
        price = (D("0.547") + reach) if side is BookSide.BID else (D("0.453") - reach)
        _ioc(client, ticker, side, count, price)


def _both_paths(client: KalshiClient) -> Any:
    """The tracker's report, after checking that the typed `Fill` reader books what it books."""
    report = PortfolioTracker(client, clock=lambda: datetime.now(timezone.utc)).build_report()
    typed = FillCollector()
    typed.add_fills(client.iter_fills())
    assert report.fills_read == typed.fills > 0
    for line in report.markets:
        ledger = typed.ledgers()[line.ticker]
        assert ledger.fees == line.fees
        assert line.settled or ledger.position == line.position   # a settlement closes what is held
    return report


def _exchange_positions(client: KalshiClient) -> dict[str, Any]:
    return {p.ticker: p for p in client.iter_positions()}


def _cash(exchange: Any) -> D:
    """The paper account's cash as the engine books it (the API must report the same)."""
    (account,) = exchange.engine.accounts.values()
    return account.cash


def test_paper_trading_realized_pnl_equals_balance_change(exchange: Any, client: KalshiClient) -> None:
    start = client.get_balance().balance          # a new account: exactly the starting cash
    _trade_randomly(client, random.Random(20261121), 150)

    # before settlement: every figure matches the exchange's own
    before = _both_paths(client)
    assert before.warnings == ()
    held = _exchange_positions(client)
    assert held and {line.ticker for line in before.open_markets} <= set(held)
    collector = FillCollector()
    collector.add_fills(client.iter_fills())
    ledgers = collector.ledgers()
    for ticker, position in held.items():
        line = next(m for m in before.markets if m.ticker == ticker)
        assert line.position == position.position
        assert fmt_dollars(line.exposure) == fmt_dollars(position.market_exposure)
        assert line.fees == position.fees_paid
        assert fmt_dollars(ledgers[ticker].realized_gross) == fmt_dollars(position.realized_pnl)
    assert any(ledger.realized_gross for ledger in ledgers.values())    # some closes happened
    fills = list(client.iter_fills())
    assert len({fill.yes_price for fill in fills}) >= 5                # the books were walked
    assert any(p.position > 0 for p in held.values()) and any(p.position < 0 for p in held.values())

    # flatten one market, then settle all four: yes, no, scalar at a sub-cent value, yes
    flat = held.get(TICKERS[3])
    if flat is not None and flat.position:
        side = BookSide.ASK if flat.position > 0 else BookSide.BID
        _ioc(client, TICKERS[3], side, abs(flat.position), D("0.001") if side is BookSide.ASK else D("0.999"))
    assert _exchange_positions(client).get(TICKERS[3]) is None or \
        _exchange_positions(client)[TICKERS[3]].position == 0
    for ticker, result, value in zip(TICKERS, ("yes", "no", "scalar", "yes"), (None, None, D("0.4559"), None)):
        exchange.engine.settle_market(ticker, result, value)

    after = _both_paths(client)
    assert after.warnings == ()
    assert all(line.settled and line.position == 0 for line in after.markets)
    assert after.unrealized == 0
    assert after.realized == client.get_balance().balance - start   # exactly, as the API reports it
    assert after.realized == _cash(exchange) - start               # and against the engine's books
    assert after.fees == sum((fill.fee_cost for fill in client.iter_fills()), D(0))
    assert render_portfolio(after, 100)
