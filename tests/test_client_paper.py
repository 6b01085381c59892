"""KalshiClient against the real paper exchange over loopback: signatures, every endpoint,
errors, and one order per intent under injected faults (counted at the exchange)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from client_fixtures import (TEST_KEY_ID, TICKERS, _public_pem, build_test_universe,  # noqa: F401 (fixtures)
                             no_sleep, paper_client, paper_exchange, paper_signer)

from kalshi_trading.client.signing import KalshiSigner, wall_clock_ms
from kalshi_trading.errors import (AuthError, InsufficientFunds, KalshiTradingError, NotFoundError,
                                   OrderRejected, RateLimited, TransientApiError)
from kalshi_trading.kalshi_client import KalshiClient
from kalshi_trading.order_request import (Action, BookSide, OrderIntent, OrderRequestV2, OutcomeSide,
                                          TimeInForce)
from kalshi_trading.paper import server

A, B, C, X = TICKERS


def bid(ticker: str, price: str, count: str = "1", **kwargs) -> OrderRequestV2:
    return OrderRequestV2(ticker, BookSide.BID, Decimal(count), Decimal(price),
                          client_order_id=str(uuid.uuid4()), **kwargs)


# --- authentication ---------------------------------------------------------------------------

def test_signed_requests_are_accepted(paper_client: KalshiClient) -> None:
    balance = paper_client.get_balance()
    assert balance.balance == Decimal("1000") and balance.balance_cents == 100000


def test_a_wrong_key_is_an_auth_error_and_is_not_retried(paper_exchange, other_rsa_private_key) -> None:
    slept: list[float] = []
    client = KalshiClient(paper_exchange.base_url, KalshiSigner(TEST_KEY_ID, other_rsa_private_key),
                          sleep=slept.append)
    with pytest.raises(AuthError) as caught:
        client.get_balance()
    assert (caught.value.status, caught.value.code) == (401, "authentication_error") and slept == []


@pytest.mark.parametrize("skew_ms", [120_000, -120_000])
def test_a_skewed_clock_is_an_auth_error(paper_exchange, rsa_private_key, skew_ms: int) -> None:
    signer = KalshiSigner(TEST_KEY_ID, rsa_private_key, clock_ms=lambda: wall_clock_ms() + skew_ms)
    with pytest.raises(AuthError, match="clock"):
        KalshiClient(paper_exchange.base_url, signer, sleep=no_sleep).get_balance()


def test_an_unknown_key_id_is_an_auth_error(paper_exchange, rsa_private_key) -> None:
    signer = KalshiSigner("not-a-registered-key", rsa_private_key)
    with pytest.raises(AuthError):
        KalshiClient(paper_exchange.base_url, signer).get_balance()


def test_an_unsigned_client_reads_market_data_but_not_the_portfolio(paper_exchange) -> None:
    client = KalshiClient(paper_exchange.base_url, None)
    assert client.get_market(A).ticker == A
    with pytest.raises(AuthError):
        client.get_balance()


# --- market data round trips --------------------------------------------------------------------

def test_exchange_status_series_and_events(paper_client: KalshiClient) -> None:
    assert paper_client.get_exchange_status().trading_active is True
    assert {s.ticker for s in paper_client.get_series_list()} == {"KXTEST", "KXOTHER"}
    assert paper_client.get_series("KXTEST").fee_type == "quadratic"
    events = list(paper_client.iter_events(series_ticker="KXTEST"))
    assert [e.event_ticker for e in events] == ["KXTEST-26NOV30"]
    event = paper_client.get_event("KXTEST-26NOV30")
    assert sorted(m.ticker for m in event.markets) == [A, B, C]


def test_markets_list_filters_and_single_market(paper_client: KalshiClient) -> None:
    assert sorted(m.ticker for m in paper_client.iter_markets()) == sorted(TICKERS)
    assert sorted(m.ticker for m in paper_client.iter_markets(event_ticker="KXOTHER-26DEC01")) == [X]
    assert sorted(m.ticker for m in paper_client.iter_markets(tickers=[A, C])) == [A, C]
    market = paper_client.get_market(B)
    assert market.is_open and market.price_grid.contains(Decimal("0.37"))


def test_orderbook_shows_the_crowd_book(paper_client: KalshiClient) -> None:
    book = paper_client.get_orderbook(X)
    assert book.best_yes_bid == Decimal("0.45") and book.best_yes_ask == Decimal("0.50")
    assert paper_client.get_orderbook(X, depth=1).yes_bids == (book.yes_bids[-1],)


def test_unknown_market_is_not_found(paper_client: KalshiClient) -> None:
    with pytest.raises(NotFoundError):
        paper_client.get_market("KXNOPE-1")


def test_candlesticks_and_historical_cutoff_and_limits(paper_client: KalshiClient) -> None:
    now = datetime.now(timezone.utc)
    candles = paper_client.get_candlesticks("KXTEST", A, start_ts=now - timedelta(hours=2),
                                            end_ts=now, period_interval=60)
    assert isinstance(candles, list)
    assert paper_client.get_historical_cutoff().trades_created_ts is not None
    limits = paper_client.get_account_limits()
    assert limits.read_refill_rate > 0 and limits.write_capacity > 0


# --- order writes and portfolio reads -----------------------------------------------------------

def test_create_get_list_amend_decrease_cancel_round_trip(paper_client: KalshiClient) -> None:
    request = bid(A, "0.20", "10")
    created = paper_client.create_order(request)
    assert created.client_order_id == request.client_order_id and created.remaining_count == 10
    order = paper_client.get_order(created.order_id)
    assert (order.status, order.book_side, order.yes_price) == ("resting", BookSide.BID, Decimal("0.20"))
    assert created.order_id in {o.order_id for o in paper_client.iter_orders(ticker=A, status="resting")}
    amended = paper_client.amend_order(created.order_id, ticker=A, side="bid", price=Decimal("0.22"),
                                       count=Decimal("8"))
    assert paper_client.get_order(amended.order_id).yes_price == Decimal("0.22")
    decreased = paper_client.decrease_order(amended.order_id, reduce_to=Decimal("5"))
    assert decreased.remaining_count == 5
    cancelled = paper_client.cancel_order(amended.order_id)
    assert cancelled.reduced_by == 5
    assert paper_client.get_order(amended.order_id).status == "canceled"


def test_a_taker_order_fills_and_shows_in_fills_and_positions(paper_client: KalshiClient) -> None:
    intent = OrderIntent(B, Action.BUY, OutcomeSide.YES, Decimal("3"), Decimal("0.50"),
                         time_in_force=TimeInForce.IOC)
    result = paper_client.create_order_for_intent(intent, str(uuid.uuid4()))
    assert result.fill_count == 3 and result.average_fill_price == Decimal("0.50")
    fills = list(paper_client.iter_fills(order_id=result.order_id))
    assert sum(f.count for f in fills) == 3 and all(f.book_side is BookSide.BID for f in fills)
    assert all(f.fee_cost > 0 for f in fills)
    positions = {p.ticker: p for p in paper_client.iter_positions()}
    assert positions[B].position == 3
    raw = [r for r in paper_client.iter_fills_raw() if r["order_id"] == result.order_id]
    assert sorted(r["fill_id"] for r in raw) == sorted(f.fill_id for f in fills)
    assert list(paper_client.iter_fills_raw(historical=True)) == []  # nothing is archived on paper
    assert list(paper_client.iter_historical_fills(ticker=B)) == []
    trades = list(paper_client.iter_trades(ticker=B, min_ts=datetime.now(timezone.utc) - timedelta(minutes=5)))
    assert sum(t.count for t in trades) >= 3 and all(t.ticker == B for t in trades)
    assert any(t.taker_outcome_side == "yes" and t.yes_price == Decimal("0.50") for t in trades)


def test_decrease_by_and_orders_of_an_event(paper_client: KalshiClient) -> None:
    created = paper_client.create_order(bid(C, "0.15", "6"))
    assert paper_client.decrease_order(created.order_id, reduce_by=Decimal("2")).remaining_count == 4
    listed = list(paper_client.iter_orders(event_ticker="KXTEST-26NOV30", status="resting"))
    assert created.order_id in {o.order_id for o in listed}
    paper_client.cancel_order(created.order_id)


def test_batch_create_and_batch_cancel(paper_client: KalshiClient) -> None:
    requests_ = [bid(C, "0.10"), bid(C, "0.11"), bid(C, "0.12")]
    items = paper_client.batch_create_orders(requests_)
    assert [i.client_order_id for i in items] == [r.client_order_id for r in requests_]
    ids = [i.result.order_id for i in items]
    cancelled = paper_client.batch_cancel_orders(ids)
    assert [c.order_id for c in cancelled] == ids and all(c.error_code is None for c in cancelled)


def test_settlement_shows_in_settlements(paper_client: KalshiClient, paper_exchange) -> None:
    intent = OrderIntent(X, Action.BUY, OutcomeSide.YES, Decimal("2"), Decimal("0.50"),
                         time_in_force=TimeInForce.IOC)
    paper_client.create_order_for_intent(intent, str(uuid.uuid4()))
    with paper_exchange.engine.lock:
        paper_exchange.engine.settle_market(X, "yes")
    settlements = list(paper_client.iter_settlements(ticker=X))
    assert len(settlements) == 1 and settlements[0].market_result == "yes"
    assert settlements[0].revenue == Decimal("2")


@pytest.mark.parametrize("request_, error, code", [
    (lambda: bid(A, "0.205"), OrderRejected, "invalid_order"),
    (lambda: bid(A, "0.20", "0"), OrderRejected, "invalid_order_size"),
    (lambda: bid(A, "0.90", "5000"), InsufficientFunds, "insufficient_balance"),
])
def test_order_rejections_map_to_the_hierarchy(paper_client: KalshiClient, request_, error, code) -> None:
    with pytest.raises(error) as caught:
        paper_client.create_order(request_())
    assert caught.value.code == code and caught.value.status == 400


# --- pagination over several pages --------------------------------------------------------------

@pytest.fixture(scope="module")
def big_exchange(tmp_path_factory, rsa_private_key):
    """1,205 markets in 241 events: more than one page of markets (1000) and of events (200)."""
    from kalshi_trading.paper.universe import synthetic_market
    universe = build_test_universe()
    now = datetime.now(timezone.utc)
    for e in range(241):
        event = f"KXMANY-E{e:03d}"
        universe.events[event] = {"event_ticker": event, "series_ticker": "KXTEST", "title": event,
                                  "sub_title": "", "mutually_exclusive": False,
                                  "collateral_return_type": "binary", "settlement_sources": []}
        for k in range(5):
            ticker = f"{event}-M{k}"
            universe.markets[ticker] = synthetic_market(ticker, event, now=now)
    with server.start_paper_exchange(tmp_path_factory.mktemp("big"), universe=universe,
                                     public_keys={TEST_KEY_ID: _public_pem(rsa_private_key)}) as running:
        yield running


def test_pagination_follows_cursors_across_pages(big_exchange, paper_signer) -> None:
    client = KalshiClient(big_exchange.base_url, paper_signer)
    progress: list[tuple[int, int]] = []
    markets = list(client.iter_markets(series_ticker="KXTEST", progress=lambda p, n: progress.append((p, n))))
    assert len(markets) == 1208 and len({m.ticker for m in markets}) == 1208
    assert progress == [(1, 1000), (2, 1208)]
    events = list(client.iter_events(series_ticker="KXTEST"))
    assert len(events) == 242 and len({e.event_ticker for e in events}) == 242


# --- faults: one order per intent -----------------------------------------------------------------

def test_200_intents_under_faults_make_exactly_200_orders(tmp_path, rsa_private_key, paper_signer,
                                                          caplog) -> None:
    caplog.set_level(logging.INFO, logger="kalshi_trading.client.order_writes")
    with server.start_paper_exchange(tmp_path, universe=build_test_universe(), fail_rate=0.3,
                                     lose_response_rate=0.2, seed=20261121,
                                     public_keys={TEST_KEY_ID: _public_pem(rsa_private_key)}) as running:
        client = KalshiClient(running.base_url, paper_signer, sleep=no_sleep, timeout=5.0,
                              lookup_reread_delay=0.0)
        placed: dict[str, str] = {}
        errors: list[KalshiTradingError] = []
        for i in range(200):
            coid = f"intent-{i:03d}-{uuid.uuid4()}"
            intent = OrderIntent(TICKERS[i % 3], Action.BUY, OutcomeSide.YES, Decimal("1"), Decimal("0.05"))
            for _attempt in range(5):           # what the executor does: same id until it resolves
                try:
                    placed[coid] = client.create_order_for_intent(intent, coid).order_id
                    break
                except KalshiTradingError as exc:   # anything else fails the test: not clean
                    errors.append(exc)
        with running.engine.lock:
            orders = running.engine.list_orders(TEST_KEY_ID)
    assert len(placed) == 200
    assert len(orders) == 200
    by_coid = {o["client_order_id"]: o["order_id"] for o in orders}
    assert by_coid == placed
    # every failed call failed cleanly: a transient error (never a duplicate, a parse error or a crash)
    assert all(type(e) in (TransientApiError, RateLimited) and e.status in (None, 429, 500, 503)
               for e in errors)
    assert "was placed despite" in caplog.text       # lost responses really were recovered by lookup


def test_a_client_built_from_config_signs_with_the_key_file_and_paces_to_the_tier(
        paper_exchange, rsa_private_key, tmp_path) -> None:
    from client_fixtures import write_pem

    from kalshi_trading.config import Config
    config = Config.load({"KALSHI_BASE_URL": paper_exchange.base_url, "KALSHI_API_KEY_ID": TEST_KEY_ID,
                          "KALSHI_PRIVATE_KEY_PATH": str(write_pem(tmp_path / "k.pem", rsa_private_key)),
                          "KALSHI_RATE_TIER": "advanced"}, None)
    with KalshiClient.for_config(config) as client:
        assert client.get_balance().balance_cents > 0
        assert client.rate_limiter.tier == "advanced"
