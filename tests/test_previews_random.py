"""Previews against the paper exchange, order by order: a seeded run of random orders (sides,
actions, 0.01-step counts, sub-penny prices on deci-cent markets, every time in force, post-only,
reduce-only, both self-trade prevention types, positions on either side, own resting orders in the
way, amends and decreases), each previewed and then placed, with what the preview said compared to
what the exchange did: refused or not, fills now, taker fee, balance move, position, what rests,
the average price as shown, own orders cancelled, and a worst case never below the real loss.

Then one test per disagreement such runs found, on the harness's book (YES asks 0.43 x 20,
0.44 x 40, 0.45 x 100; YES bids 0.42 x 25, 0.41 x 50, 0.40 x 100), and the one gap still open.
"""

from __future__ import annotations

import io
import random
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from cli_harness import DECI, EVENT, config_for, make_universe, ticker, work_in_tmp  # noqa: F401 (autouse)

from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.errors import OrderRejected, RiskLimitExceeded, UserInputError
from kalshi_trading.executor.fill_forecast import Forecast
from kalshi_trading.main_app import MainApp
from kalshi_trading.models import Order
from kalshi_trading.money import ONE, PriceGrid, PriceRange, fmt_dollars
from kalshi_trading.order_request import (Action, BookSide, OrderIntent, OutcomeSide, SelfTradePrevention,
                                          TimeInForce)
from kalshi_trading.paper.server import start_paper_exchange
from kalshi_trading.paper.universe import BookSnapshot, synthetic_market

D = Decimal
SEEDS = (1, 2, 3, 4)
MARKETS_PER_SEED = 24
NAMES = ["queue", "maker", "carry", "average", "closing", "gtcworst", "amendno", "amendstp", "reduce"]
DECI_RANGES = [{"start": "0.0000", "end": "0.1000", "step": "0.0010"},
               {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
               {"start": "0.9000", "end": "1.0000", "step": "0.0010"}]


@dataclass
class Desk:
    """The app's executor and client on one paper exchange, and the exchange's own records."""

    exchange: Any
    app: MainApp
    problems: list[str] = field(default_factory=list)
    compared: int = 0

    @property
    def executor(self) -> Any:
        return self.app.services.executor

    @property
    def client(self) -> Any:
        return self.app.services.client

    def cash(self) -> Decimal:
        engine = self.exchange.engine
        with engine.lock:
            return engine.accounts[self.exchange.key_id].cash

    def position(self, tick: str) -> Decimal:
        engine = self.exchange.engine
        with engine.lock:
            rows, _ = engine.positions(self.exchange.key_id, tick)
        return sum((D(r["position_fp"]) for r in rows), D(0))

    def order(self, order_id: str) -> dict:
        engine = self.exchange.engine
        with engine.lock:
            return engine.get_order(self.exchange.key_id, order_id)

    def resting(self, tick: str) -> list[Order]:
        return [o for o in self.client.iter_orders(status="resting") if o.ticker == tick]


@contextmanager
def desk_on(universe: Any, root: Path) -> Iterator[Desk]:
    """A paper exchange on `universe` in `root`, the app built on it, and an account that exists
    (the exchange opens it with a first order: 0.01 YES bid at 0.001 on the DECI market, resting)."""
    with start_paper_exchange(root / "exchange", universe=universe) as exchange:
        config = config_for(exchange, root, max_order_cost=D("100000"), max_position=D("100000"),
                            max_open_orders=100000)
        app = MainApp.build(config, stdin=io.StringIO(""), stdout=io.StringIO(),
                            rate_limiter=RateLimiter("prestige"))
        try:
            desk = Desk(exchange, app)
            desk.executor.submit(OrderIntent(DECI, Action.BUY, OutcomeSide.YES, D("0.01"), D("0.001")))
            yield desk
        finally:
            app.close()


# --- the random run ----------------------------------------------------------------------------

def grid_prices(deci: bool) -> list[Decimal]:
    grid = PriceGrid([PriceRange.from_api(r) for r in DECI_RANGES]) if deci else PriceGrid()
    return [p for p in (D(n) / 1000 for n in range(1, 1000)) if grid.contains(p)]


def random_book(rng: random.Random, deci: bool) -> BookSnapshot:
    """Up to five YES bids below a mid and five YES asks above it, some of them tiny."""
    prices = grid_prices(deci)
    mid = rng.choice([D("0.05"), D("0.3"), D("0.5"), D("0.95")] if deci else [D("0.3"), D("0.5"), D("0.7")])

    def size() -> Decimal:
        if rng.random() < 0.3:
            return D(rng.randint(1, 30)) / 100
        return D(rng.choice([1, 3, 7, 10, 25])) + D(rng.randint(0, 99)) / 100

    bids = sorted({p for p in rng.sample(prices, 40) if p < mid})[-rng.randint(0, 5):]
    asks = sorted({p for p in rng.sample(prices, 40) if p > mid})[:rng.randint(0, 5)]
    return BookSnapshot(tuple((p, size()) for p in bids), tuple(sorted((ONE - p, size()) for p in asks)))


def random_universe(rng: random.Random) -> tuple[Any, dict[str, bool]]:
    universe = make_universe([])
    now = datetime.now(timezone.utc)
    deci = {}
    for n in range(MARKETS_PER_SEED):
        tick = f"{EVENT}-R{n}"
        deci[tick] = rng.random() < 0.5
        universe.markets[tick] = synthetic_market(tick, EVENT, now=now, close_in=timedelta(days=30),
                                                  price_ranges=DECI_RANGES if deci[tick] else None)
        universe.books[tick] = random_book(rng, deci[tick])
    return universe, deci


def random_count(rng: random.Random) -> Decimal:
    roll = rng.random()
    if roll < 0.3:
        return D(rng.randint(1, 99)) / 100
    if roll < 0.7:
        return D(rng.randint(1, 10))
    return D(rng.randint(1, 2000)) / 100


def random_intent(rng: random.Random, desk: Desk, tick: str, deci: bool) -> OrderIntent:
    outcome, action = rng.choice(list(OutcomeSide)), rng.choice(list(Action))
    yes = rng.choice(grid_prices(deci))
    tif = rng.choice(list(TimeInForce))
    price = yes if outcome is OutcomeSide.YES else ONE - yes
    intent = OrderIntent(tick, action, outcome, random_count(rng), price, time_in_force=tif,
                         post_only=tif is TimeInForce.GTC and rng.random() < 0.25,
                         self_trade_prevention_type=rng.choice(list(SelfTradePrevention)))
    # reduce-only only where no own order rests on its side: see the xfail test at the end
    if rng.random() < 0.3 and not any(o.book_side is intent.book_side for o in desk.resting(tick)):
        intent = replace(intent, reduce_only=True)
    return intent


def setup_order(rng: random.Random, desk: Desk, tick: str, deci: bool) -> None:
    """A position or a resting order to start from; half of them join a price the crowd holds."""
    intent = random_intent(rng, desk, tick, deci)
    price = intent.price
    book = desk.client.get_orderbook(tick)
    levels = book.yes_bids if intent.book_side is BookSide.BID else book.yes_asks
    if levels and rng.random() < 0.5:
        yes = rng.choice(levels).price
        price = yes if intent.outcome is OutcomeSide.YES else ONE - yes
    try:
        desk.executor.submit(OrderIntent(tick, intent.action, intent.outcome, intent.count, price,
                                         time_in_force=rng.choice([TimeInForce.IOC, TimeInForce.GTC])))
    except OrderRejected:
        pass


def own_cancellations(desk: Desk, before: list[Order], tick: str) -> dict[Decimal, Decimal]:
    """Contracts of own resting orders cancelled by the last order, by YES price."""
    still = {o.order_id for o in desk.resting(tick)}
    out: dict[Decimal, Decimal] = {}
    for o in before:
        if o.order_id not in still and desk.order(o.order_id)["status"] == "canceled":
            out[o.yes_price] = out.get(o.yes_price, D(0)) + o.remaining_count
    return out


def compare(desk: Desk, what: str, forecast: Forecast, before: dict, after: dict, cash: Decimal,
            position: Decimal, cancelled: dict[Decimal, Decimal]) -> None:
    """What the exchange did against what `forecast` said; each disagreement is one problem."""
    filled = D(after["fill_count_fp"]) - D(before.get("fill_count_fp", "0"))
    fee = D(after["taker_fees_dollars"]) - D(before.get("taker_fees_dollars", "0"))
    resting = D(after["remaining_count_fp"]) if after["status"] == "resting" else D(0)
    checks = [("filled", filled, forecast.filled), ("taker fee", fee, forecast.fee_now),
              ("balance move", cash, forecast.cash_now), ("position", position, forecast.position_now),
              ("resting", resting, forecast.resting)]
    found = [f"{name}: exchange {got}, preview {said}" for name, got, said in checks if got != said]
    if -cash > forecast.worst_case_loss or forecast.fee_now > forecast.worst_case_loss:
        found.append(f"worst case {forecast.worst_case_loss} below loss {-cash} / fee {forecast.fee_now}")
    sure = {level.price: level.count for level in forecast.own_cancelled}
    maybe = {level.price: level.count for level in forecast.own_may_cancel}
    for price in set(cancelled) | set(sure):
        if not sure.get(price, 0) <= cancelled.get(price, 0) <= sure.get(price, 0) + maybe.get(price, 0):
            found.append(f"own orders cancelled at {price}: {cancelled.get(price, 0)}, "
                         f"preview {sure} {maybe}")
    if found:
        desk.problems.append(f"{what}: " + "; ".join(found))
    desk.compared += 1


def sent_as_foreseen(desk, what: str, refusal: str | None, send):
    """`send()`'s result when both the preview and the exchange let it through; None (with a problem
    noted when they disagree) when either refused. Refusals for cash are not the preview's to foresee."""
    try:
        result = send()
    except OrderRejected as exc:
        if exc.code != "insufficient_balance" and refusal is None:
            desk.problems.append(f"{what}: the exchange refused it ({exc.code}), the preview did not")
        desk.compared += exc.code != "insufficient_balance"
        return None
    if refusal is not None:
        desk.problems.append(f"{what}: the preview refused it, the exchange did not")
        return None
    return result if result is not None else True


def place_and_compare(desk: Desk, intent: OrderIntent) -> None:
    try:
        preview = desk.executor.preview(intent)
    except (UserInputError, RiskLimitExceeded):
        return
    forecast, before, cash, mine = preview.forecast, {}, desk.cash(), desk.resting(intent.ticker)
    result = sent_as_foreseen(desk, str(intent), forecast.refusal, lambda: desk.executor.submit(intent))
    if result is None:
        return
    after = desk.order(result.order_id)
    if D(after["initial_count_fp"]) != forecast.intent.count:
        desk.problems.append(f"{intent}: count taken {after['initial_count_fp']}, "
                             f"preview {forecast.intent.count}")
    shown = None if forecast.average_price is None else fmt_dollars(forecast.average_price)
    got = None if result.average_outcome_price is None else fmt_dollars(result.average_outcome_price)
    if shown != got:
        desk.problems.append(f"{intent}: average {got}, preview {shown}")
    compare(desk, str(intent), forecast, before, after, desk.cash() - cash, desk.position(intent.ticker),
            own_cancellations(desk, mine, intent.ticker))


def change_and_compare(rng: random.Random, desk: Desk, tick: str, deci: bool) -> None:
    """Amend (new price, new total, or both) or decrease one of the market's resting orders."""
    mine = desk.resting(tick)
    if not mine:
        return
    order = rng.choice(mine)
    total = order.fill_count + order.remaining_count
    try:
        if rng.random() < 0.7:
            price = rng.choice(grid_prices(deci))
            count = total + rng.choice([-1, 1]) * min(random_count(rng), order.remaining_count - D("0.01"))
            count = count if rng.random() < 0.6 and count > order.fill_count else None
            preview = desk.executor.preview_amend(order.order_id, price=price, count=count)
            send = lambda: desk.executor.amend(order.order_id, price=price, count=count)  # noqa: E731
        else:
            by = min(random_count(rng), order.remaining_count)
            preview = desk.executor.preview_decrease(order.order_id, reduce_by=by)
            send = lambda: desk.executor.decrease(order.order_id, reduce_by=by)  # noqa: E731
    except (UserInputError, RiskLimitExceeded):
        return
    before, cash = desk.order(order.order_id), desk.cash()
    others = [o for o in mine if o.order_id != order.order_id]
    if sent_as_foreseen(desk, f"{preview.kind} {order}", preview.refusal, send) is None:
        return
    compare(desk, f"{preview.kind} {order.order_id}", preview.forecast, before, desk.order(order.order_id),
            desk.cash() - cash, desk.position(tick), own_cancellations(desk, others, tick))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_orders_do_on_the_exchange_what_their_previews_said(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    universe, deci = random_universe(rng)
    with desk_on(universe, tmp_path) as desk:
        for tick in deci:
            for _ in range(rng.randint(0, 3)):
                setup_order(rng, desk, tick, deci[tick])
            for _ in range(3):
                if rng.random() < 0.3:
                    change_and_compare(rng, desk, tick, deci[tick])
                else:
                    place_and_compare(desk, random_intent(rng, desk, tick, deci[tick]))
    assert desk.compared >= 2 * MARKETS_PER_SEED
    assert desk.problems == []


# --- the disagreements, one at a time ------------------------------------------------------------

@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    universe = make_universe(NAMES)
    # the deci-cent market: five YES asks of 0.01 contract each, at 0.051 to 0.055
    universe.books[DECI] = BookSnapshot(((D("0.040"), D("10")),),
                                        tuple((D(p), D("0.01")) for p in ("0.945", "0.946", "0.947", "0.948",
                                                                           "0.949")))
    with desk_on(universe, tmp_path_factory.mktemp("previews-random")) as running:
        yield running


def buy(tick: str, outcome: str, count: str, price: str, tif: TimeInForce = TimeInForce.GTC,
        **kw: Any) -> OrderIntent:
    return OrderIntent(tick, Action.BUY, OutcomeSide(outcome), D(count), D(price), time_in_force=tif, **kw)


def sell(tick: str, outcome: str, count: str, price: str, tif: TimeInForce = TimeInForce.GTC,
         **kw: Any) -> OrderIntent:
    return OrderIntent(tick, Action.SELL, OutcomeSide(outcome), D(count), D(price), time_in_force=tif, **kw)


def test_a_taker_fills_the_size_queued_ahead_of_an_own_order_before_self_trade_prevention_stops_it(
        desk: Desk) -> None:
    tick = ticker("queue")
    desk.executor.submit(buy(tick, "yes", "10", "0.42"))          # rests at 0.42, behind the crowd's 25
    intent = sell(tick, "yes", "30", "0.40", TimeInForce.IOC)
    forecast = desk.executor.preview(intent).forecast
    lines = desk.executor.preview(intent).lines()
    assert (forecast.filled, forecast.cancelled, forecast.stopped_at) == (D("25"), D("5"), D("0.42"))
    assert any("the 25.00 at YES 0.4200 are the size queued there ahead of your own resting order" in line
               for line in lines)
    result = desk.executor.submit(intent)
    assert (result.fill_count, result.status) == (D("25"), "canceled")


def test_self_trade_prevention_maker_is_previewed_as_cancelling_own_orders_and_filling_through(
        desk: Desk) -> None:
    tick = ticker("maker")
    own = desk.executor.submit(sell(tick, "yes", "5", "0.44"))     # rests at 0.44 with the crowd's 40
    intent = buy(tick, "yes", "70", "0.45", TimeInForce.IOC,
                 self_trade_prevention_type=SelfTradePrevention.MAKER)
    preview = desk.executor.preview(intent)
    forecast = preview.forecast
    assert (forecast.filled, forecast.stopped_at) == (D("70"), None)   # 20 at 0.43, 40 at 0.44, 10 at 0.45
    assert [(level.price, level.count) for level in forecast.own_cancelled] == [(D("0.44"), D("5"))]
    assert any("Self-trade prevention (maker): cancels your own resting orders in the way: 5.00 at YES 0.4400"
               in line for line in preview.lines())
    result = desk.executor.submit(intent)
    assert result.fill_count == D("70") and desk.order(own.order_id)["status"] == "canceled"
    assert D(desk.order(result.order_id)["taker_fees_dollars"]) == forecast.fee_now


def test_an_amend_of_a_partly_filled_order_rounds_its_fee_on_from_its_earlier_fills(desk: Desk) -> None:
    tick = ticker("carry")
    placed = desk.executor.submit(buy(tick, "yes", "20.09", "0.43"))    # 20 fill at 0.43, 0.09 rest
    preview = desk.executor.preview_amend(placed.order_id, price="0.45")
    before = desk.order(placed.order_id)
    desk.executor.amend(placed.order_id, price="0.45")
    fee = D(desk.order(placed.order_id)["taker_fees_dollars"]) - D(before["taker_fees_dollars"])
    # the first fill left $0.0056 of rounding; the 0.09 at 0.44 take it past a cent, which comes back:
    # $0.0004, where a fresh start would say $0.0104
    assert preview.forecast.fee_now == fee == D("0.0004")


def test_the_average_price_is_rounded_once_as_the_exchange_rounds_it(desk: Desk) -> None:
    tick = ticker("average")
    intent = buy(tick, "yes", "24.54", "0.44", TimeInForce.IOC)   # average 0.431850040...
    preview = desk.executor.preview(intent)
    assert "Fills now: 24.54 of 24.54 at average 0.4319" in preview.lines()
    assert desk.executor.submit(intent).average_fill_price == D("0.4319")


def test_the_worst_case_is_never_below_what_the_fills_now_cost_however_small_they_are(desk: Desk) -> None:
    intent = buy(DECI, "yes", "0.05", "0.060", TimeInForce.IOC)   # five fills of 0.01, each floored a cent
    forecast = desk.executor.preview(intent).forecast
    assert (forecast.filled, forecast.cash_now) == (D("0.05"), D("-0.05"))
    assert forecast.worst_case_loss == D("0.05")                 # the bound at the limit alone: $0.01
    before = desk.cash()
    desk.executor.submit(intent)
    assert desk.cash() - before == D("-0.05")


def test_a_closing_orders_worst_case_is_never_below_the_fee_it_pays_now(desk: Desk) -> None:
    tick = ticker("closing")
    desk.executor.submit(buy(tick, "no", "0.5", "0.58", TimeInForce.IOC))
    intent = sell(tick, "no", "0.5", "0.55", TimeInForce.IOC)
    forecast = desk.executor.preview(intent).forecast
    # the fee at 0.50 (the most a closing fill can pay) is $0.0087, but the fill at 0.57 floors its
    # balance change to the cent, so the exchange books $0.0150
    assert forecast.fee_now == D("0.0150") and forecast.worst_case_loss == D("0.02")
    result = desk.executor.submit(intent)
    assert D(desk.order(result.order_id)["taker_fees_dollars"]) == D("0.0150")


def test_a_gtc_order_that_may_take_counts_taker_fees_in_its_worst_case_and_a_post_only_one_maker_fees(
        desk: Desk) -> None:
    tick = ticker("gtcworst")
    # 10 at 0.30 rest; should the book move to 0.30 first, they fill as taker: 0.07 x 10 x 0.3 x 0.7
    assert desk.executor.preview(buy(tick, "yes", "10", "0.30")).worst_case_loss == D("3.15")
    assert desk.executor.preview(buy(tick, "yes", "10", "0.30", post_only=True)).worst_case_loss == D("3.00")


def test_an_amend_of_an_ask_names_its_no_prices_as_no(desk: Desk) -> None:
    tick = ticker("amendno")
    placed = desk.executor.submit(buy(tick, "no", "10", "0.50"))     # an ask at YES 0.50
    lines = desk.executor.preview_amend(placed.order_id, price="0.41").lines()
    assert "Fills now: 10.00 of 10.00 at average NO 0.5800" in lines


def test_an_amend_previews_self_trade_prevention_by_the_type_the_order_was_placed_with(desk: Desk) -> None:
    tick = ticker("amendstp")
    mine = desk.executor.submit(sell(tick, "yes", "5", "0.43"))      # an ask at 0.43, behind the crowd's 20
    bid = desk.executor.submit(buy(tick, "yes", "25", "0.30",
                                   self_trade_prevention_type=SelfTradePrevention.MAKER))
    forecast = desk.executor.preview_amend(bid.order_id, price="0.43").forecast
    # maker: the crowd's 20 fill, the own ask is cancelled, 5 rest (taker_at_cross would cancel them)
    assert (forecast.filled, forecast.resting, forecast.stopped_at) == (D("20"), D("5"), None)
    assert [(level.price, level.count) for level in forecast.own_cancelled] == [(D("0.43"), D("5"))]
    desk.executor.amend(bid.order_id, price="0.43")
    assert desk.order(mine.order_id)["status"] == "canceled"
    after = desk.order(bid.order_id)
    assert (after["status"], after["fill_count_fp"], after["remaining_count_fp"]) == (
        "resting", "20.00", "5.00")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "the exchange counts as already closing only the part of a resting order that was closing when it "
    "was placed; the Order API does not show that part, so the preview counts the whole remaining count"))
def test_a_reduce_only_order_beside_a_resting_order_placed_before_the_position_is_previewed_as_taken(
        desk: Desk) -> None:
    tick = ticker("reduce")
    desk.executor.submit(sell(tick, "yes", "5", "0.60"))             # rests while flat: it opens NO
    desk.executor.submit(buy(tick, "yes", "5", "0.45", TimeInForce.IOC))   # now 5 YES
    intent = sell(tick, "yes", "5", "0.40", TimeInForce.IOC, reduce_only=True)
    refusal = desk.executor.preview(intent).refusal
    result = desk.executor.submit(intent)                           # the exchange takes and fills it
    assert result.fill_count == D("5")
    assert refusal is None
