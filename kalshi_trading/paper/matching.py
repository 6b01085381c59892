"""The YES order book of one market, in integer units, and the matching rules of the paper exchange.

Units (integers, so the hot path never touches Decimal):
- `*_cc`  prices in centicents: 1/10,000 dollar (`0.4215` dollars is 4215);
- `*_ct`  counts in centi-contracts: 1/100 contract (`2.50` contracts is 250).

Two kinds of liquidity rest in the book. The *crowd* is the recorded market: its size at each
price comes from the latest `BookSnapshot` and is replaced wholesale by the next one. *User*
orders rest in FIFO queues per price, each remembering how much crowd size was displayed ahead of
it when it arrived (`ahead_ct`). Matching is honest rather than flattering: a taker walks levels
best price first, and within a level consumes the crowd ahead of the first user order, that
order, the crowd ahead of the next, and so on, then the crowd behind everyone. Resting user
orders fill passively only when a later snapshot crosses them (at the user's limit, as maker) or
a trade print reaches them (prints at the user's price eat queue-ahead first).
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left, insort
from typing import Iterable, NamedTuple

__all__ = ["PRICE_SCALE", "COUNT_SCALE", "RestingOrder", "Execution", "PassiveFill",
           "MatchResult", "OrderBook", "benchmark_matching"]

PRICE_SCALE = 10_000   # centicents per dollar
COUNT_SCALE = 100      # centi-contracts per contract


class RestingOrder:
    """A user order resting in the book; `remaining_ct` and `ahead_ct` change as it queues."""

    __slots__ = ("order_id", "user_id", "is_bid", "price_cc", "remaining_ct", "ahead_ct")

    def __init__(self, order_id: str, user_id: str, is_bid: bool, price_cc: int,
                 remaining_ct: int, ahead_ct: int) -> None:
        self.order_id = order_id
        self.user_id = user_id
        self.is_bid = is_bid
        self.price_cc = price_cc
        self.remaining_ct = remaining_ct
        self.ahead_ct = ahead_ct


class Execution(NamedTuple):
    """One match of an incoming order at one resting price; maker None means the crowd."""

    maker_order_id: str | None
    maker_user_id: str | None
    price_cc: int
    count_ct: int


class PassiveFill(NamedTuple):
    """A resting user order filled by the crowd (a crossing snapshot or a trade print)."""

    order_id: str
    user_id: str
    is_bid: bool
    price_cc: int
    count_ct: int
    from_print: bool


class MatchResult:
    """What one incoming order did: executions in order, and what stopped it."""

    __slots__ = ("executions", "filled_ct", "remaining_ct", "stp_stopped", "stp_canceled")

    def __init__(self) -> None:
        self.executions: list[Execution] = []
        self.filled_ct = 0
        self.remaining_ct = 0
        self.stp_stopped = False                          # taker_at_cross met the user's own order
        self.stp_canceled: list[RestingOrder] = []        # maker mode: own resting orders canceled


class _Level:
    __slots__ = ("crowd_ct", "orders")

    def __init__(self, crowd_ct: int = 0) -> None:
        self.crowd_ct = crowd_ct
        self.orders: list[RestingOrder] = []

    def size_ct(self) -> int:
        return self.crowd_ct + sum(o.remaining_ct for o in self.orders)


class OrderBook:
    """One market's YES book: bids buy YES, asks sell YES (a NO bid at q is an ask at 1-q)."""

    def __init__(self) -> None:
        self._bids: dict[int, _Level] = {}
        self._asks: dict[int, _Level] = {}
        self._bid_prices: list[int] = []   # ascending; best bid last
        self._ask_prices: list[int] = []   # ascending; best ask first
        self.orders: dict[str, RestingOrder] = {}
        self.touched: set[str] = set()     # resting orders whose size or queue changed; engine drains

    # ----------------------------------------------------------------- reads
    def best_bid(self) -> tuple[int, int] | None:
        """(price_cc, size_ct) of the best bid, crowd and users together."""
        if not self._bid_prices:
            return None
        price = self._bid_prices[-1]
        return price, self._bids[price].size_ct()

    def best_ask(self) -> tuple[int, int] | None:
        """(price_cc, size_ct) of the best ask."""
        if not self._ask_prices:
            return None
        price = self._ask_prices[0]
        return price, self._asks[price].size_ct()

    def depth(self, is_bid: bool) -> list[tuple[int, int]]:
        """All levels of one side as (price_cc, size_ct), ascending by price."""
        levels = self._bids if is_bid else self._asks
        prices = self._bid_prices if is_bid else self._ask_prices
        return [(p, levels[p].size_ct()) for p in prices]

    def crowd_levels(self, is_bid: bool) -> list[tuple[int, int]]:
        """The crowd's own (price_cc, size_ct) levels on one side, ascending; user orders excluded."""
        levels = self._bids if is_bid else self._asks
        prices = self._bid_prices if is_bid else self._ask_prices
        return [(p, levels[p].crowd_ct) for p in prices if levels[p].crowd_ct]

    def crowd_at(self, is_bid: bool, price_cc: int) -> int:
        level = (self._bids if is_bid else self._asks).get(price_cc)
        return level.crowd_ct if level else 0

    def queue_position(self, order_id: str) -> int:
        """Contracts (centi) ahead of a resting order at its price: crowd ahead plus earlier users."""
        order = self.orders[order_id]
        level = (self._bids if order.is_bid else self._asks)[order.price_cc]
        users_ahead = 0
        for other in level.orders:
            if other is order:
                break
            users_ahead += other.remaining_ct
        return order.ahead_ct + users_ahead

    def would_cross(self, is_bid: bool, price_cc: int) -> bool:
        """True when an order at this price would trade at once (post-only check)."""
        if is_bid:
            return bool(self._ask_prices) and self._ask_prices[0] <= price_cc
        return bool(self._bid_prices) and self._bid_prices[-1] >= price_cc

    def fillable(self, user_id: str, is_bid: bool, price_cc: int, count_ct: int,
                 stp_maker: bool) -> tuple[int, bool]:
        """(contracts an order could fill now, whether it would meet its own order), no changes.

        With `taker_at_cross` the walk stops at the user's own order; with `maker` own orders
        are skipped (they would be canceled)."""
        total = 0
        for price in self._crossing_prices(is_bid, price_cc):
            level = (self._asks if is_bid else self._bids)[price]
            crowd_seen = 0
            for order in level.orders:
                total += order.ahead_ct - crowd_seen
                crowd_seen = order.ahead_ct
                if total >= count_ct:
                    return count_ct, False
                if order.user_id == user_id:
                    if not stp_maker:
                        return total, True
                    continue
                total += order.remaining_ct
            total += level.crowd_ct - crowd_seen
            if total >= count_ct:
                return count_ct, False
        return total, False

    def _crossing_prices(self, is_bid: bool, price_cc: int) -> list[int]:
        if is_bid:
            return self._ask_prices[:bisect_left(self._ask_prices, price_cc + 1)]
        return self._bid_prices[bisect_left(self._bid_prices, price_cc):][::-1]

    # ----------------------------------------------------------------- taker
    def match(self, user_id: str, is_bid: bool, price_cc: int, count_ct: int,
              stp_maker: bool = False) -> MatchResult:
        """Walk the opposite side up to `price_cc`, best price first; the book changes."""
        result = MatchResult()
        remaining = count_ct
        levels = self._asks if is_bid else self._bids
        prices = self._ask_prices if is_bid else self._bid_prices
        emptied: list[int] = []
        while remaining > 0 and prices:
            price = prices[len(emptied)] if is_bid else prices[-1 - len(emptied)]
            if (is_bid and price > price_cc) or (not is_bid and price < price_cc):
                break
            level = levels[price]
            remaining = self._take_level(level, price, user_id, remaining, stp_maker, result)
            if not level.orders and level.crowd_ct == 0:
                emptied.append(price)
            if result.stp_stopped or len(emptied) == len(prices):
                break
            if level.orders or level.crowd_ct:
                if remaining:
                    break  # a non-empty level left means nothing fillable remains at this price
        for price in emptied:
            del levels[price]
        if emptied:
            if is_bid:
                del prices[:len(emptied)]
            else:
                del prices[len(prices) - len(emptied):]
        result.filled_ct = count_ct - remaining
        result.remaining_ct = remaining
        return result

    def _take_level(self, level: _Level, price: int, user_id: str | None, remaining: int,
                    stp_maker: bool, result: MatchResult) -> int:
        """Consume one level in queue order; returns what is left of the incoming size."""
        executions = result.executions
        crowd_used = 0
        orders = level.orders
        done = 0  # orders[:done] are gone (filled or canceled by STP)
        for order in orders:
            before = order.ahead_ct - crowd_used
            if before > 0:
                take = before if before < remaining else remaining
                crowd_used += take
                remaining -= take
                executions.append(Execution(None, None, price, take))
                if remaining == 0:
                    break
            if order.user_id == user_id:
                if stp_maker:
                    result.stp_canceled.append(order)
                    del self.orders[order.order_id]
                    done += 1
                    continue
                result.stp_stopped = True
                break
            take = order.remaining_ct if order.remaining_ct < remaining else remaining
            order.remaining_ct -= take
            remaining -= take
            executions.append(Execution(order.order_id, order.user_id, price, take))
            self.touched.add(order.order_id)
            if order.remaining_ct:
                break
            del self.orders[order.order_id]
            done += 1
            if remaining == 0:
                break
        else:
            if remaining and not result.stp_stopped:
                left = level.crowd_ct - crowd_used
                take = left if left < remaining else remaining
                if take > 0:
                    crowd_used += take
                    remaining -= take
                    executions.append(Execution(None, None, price, take))
        if done:
            del orders[:done]
        if crowd_used:
            level.crowd_ct -= crowd_used
            for order in orders:
                if order.ahead_ct:
                    order.ahead_ct = order.ahead_ct - crowd_used if order.ahead_ct > crowd_used else 0
                    self.touched.add(order.order_id)
        return remaining

    # ----------------------------------------------------------------- resting orders
    def add(self, order_id: str, user_id: str, is_bid: bool, price_cc: int, count_ct: int,
            ahead_ct: int | None = None) -> RestingOrder:
        """Rest a user order at the back of its price's queue (behind the displayed crowd)."""
        levels = self._bids if is_bid else self._asks
        level = levels.get(price_cc)
        if level is None:
            level = levels[price_cc] = _Level()
            insort(self._bid_prices if is_bid else self._ask_prices, price_cc)
        ahead = level.crowd_ct if ahead_ct is None else min(ahead_ct, level.crowd_ct)
        if level.orders:
            ahead = max(ahead, level.orders[-1].ahead_ct)
        order = RestingOrder(order_id, user_id, is_bid, price_cc, count_ct, ahead)
        level.orders.append(order)
        self.orders[order_id] = order
        return order

    def remove(self, order_id: str) -> int:
        """Take a resting order out of the book; returns what it had left (0 if unknown)."""
        order = self.orders.pop(order_id, None)
        if order is None:
            return 0
        levels = self._bids if order.is_bid else self._asks
        level = levels[order.price_cc]
        level.orders.remove(order)
        self._drop_if_empty(order.is_bid, order.price_cc, level)
        return order.remaining_ct

    def reduce(self, order_id: str, remaining_ct: int) -> None:
        """Shrink a resting order in place; it keeps its queue position."""
        if remaining_ct <= 0:
            self.remove(order_id)
        else:
            self.orders[order_id].remaining_ct = remaining_ct

    def _drop_if_empty(self, is_bid: bool, price: int, level: _Level) -> None:
        if level.orders or level.crowd_ct:
            return
        del (self._bids if is_bid else self._asks)[price]
        prices = self._bid_prices if is_bid else self._ask_prices
        del prices[bisect_left(prices, price)]

    # ----------------------------------------------------------------- the crowd
    def set_crowd(self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]
                  ) -> list[PassiveFill]:
        """Replace the crowd with a new snapshot; crossing user orders fill first, as makers."""
        new_bids = {p: c for p, c in bids if c > 0}
        new_asks = {p: c for p, c in asks if c > 0}
        fills: list[PassiveFill] = []
        self._cross_users(True, new_asks, fills)
        self._cross_users(False, new_bids, fills)
        self._replace_crowd(True, new_bids)
        self._replace_crowd(False, new_asks)
        return fills

    def _cross_users(self, users_bid: bool, crowd: dict[int, int], fills: list[PassiveFill]) -> None:
        """Crowd levels on the other side that cross user orders trade with them (best user first)."""
        prices = self._bid_prices if users_bid else self._ask_prices
        levels = self._bids if users_bid else self._asks
        if not prices or not crowd:
            return
        user_prices = [p for p in (prices[::-1] if users_bid else prices) if levels[p].orders]
        if not user_prices:
            return
        for crowd_price in sorted(crowd, reverse=not users_bid):
            size = crowd[crowd_price]
            for price in user_prices:
                if size == 0 or (users_bid and price < crowd_price) or (not users_bid and price > crowd_price):
                    break
                size = self._fill_users_at(levels[price], price, size, fills, from_print=False)
            crowd[crowd_price] = size
        for price in [p for p, c in crowd.items() if c == 0]:
            del crowd[price]

    def _fill_users_at(self, level: _Level, price: int, size: int, fills: list[PassiveFill],
                       from_print: bool) -> int:
        """Fill user orders at one level in FIFO order, ignoring queue-ahead; returns size left."""
        done = 0
        for order in level.orders:
            if size == 0:
                break
            take = order.remaining_ct if order.remaining_ct < size else size
            order.remaining_ct -= take
            size -= take
            fills.append(PassiveFill(order.order_id, order.user_id, order.is_bid, price, take, from_print))
            self.touched.add(order.order_id)
            if order.remaining_ct:
                break
            del self.orders[order.order_id]
            done += 1
        if done:
            del level.orders[:done]
        return size

    def _replace_crowd(self, is_bid: bool, crowd: dict[int, int]) -> None:
        levels = self._bids if is_bid else self._asks
        for price, level in list(levels.items()):
            new_size = crowd.get(price, 0)
            level.crowd_ct = new_size
            for order in level.orders:
                if order.ahead_ct > new_size:
                    order.ahead_ct = new_size   # the crowd in front of us shrank (fills or cancels)
                    self.touched.add(order.order_id)
            self._drop_if_empty(is_bid, price, level)
        prices = self._bid_prices if is_bid else self._ask_prices
        for price, size in crowd.items():
            if price not in levels:
                levels[price] = _Level(size)
                insort(prices, price)

    def apply_print(self, price_cc: int, count_ct: int, taker_is_bid: bool) -> list[PassiveFill]:
        """A public trade: a buying taker lifts asks at or below its price, a seller hits bids.

        User orders at better prices than the print fill first (the taker would have met them);
        at the print's own price the print walks the level like a taker, queue-ahead first."""
        fills: list[PassiveFill] = []
        users_bid = not taker_is_bid
        levels = self._bids if users_bid else self._asks
        prices = self._bid_prices if users_bid else self._ask_prices
        size = count_ct
        better = [p for p in prices if (p > price_cc if users_bid else p < price_cc)]
        for price in (better[::-1] if users_bid else better):
            if size == 0:
                break
            size = self._fill_users_at(levels[price], price, size, fills, from_print=True)
            self._drop_if_empty(users_bid, price, levels[price])
        level = levels.get(price_cc)
        if size and level is not None:
            result = MatchResult()
            self._take_level(level, price_cc, None, size, False, result)
            for ex in result.executions:
                if ex.maker_order_id is not None:
                    fills.append(PassiveFill(ex.maker_order_id, ex.maker_user_id or "", users_bid,
                                             price_cc, ex.count_ct, True))
            self._drop_if_empty(users_bid, price_cc, level)
        return fills


def benchmark_matching(n_orders: int = 100_000, seed: int = 7) -> float:
    """Orders per second through `OrderBook` alone (no engine, no SQLite) for a realistic mix.

    A 1-cent grid with crowd depth on both sides; orders arrive around the mid, about a third
    cross (IOC), the rest rest (GTC); resting orders are canceled now and then and the crowd
    is refreshed by a snapshot every 500 orders. Generation happens before the clock starts."""
    rng = random.Random(seed)
    book = OrderBook()

    def snapshot(mid: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        bids = [(mid - 100 * k, rng.randint(1, 50) * 100) for k in range(1, 20) if mid - 100 * k > 0]
        asks = [(mid + 100 * k, rng.randint(1, 50) * 100) for k in range(1, 20) if mid + 100 * k < PRICE_SCALE]
        return bids, asks

    plan = []
    for i in range(n_orders):
        is_bid = rng.random() < 0.5
        crossing = rng.random() < 0.35
        offset = rng.randint(1, 4) * 100
        price = 5000 + offset if crossing == is_bid else 5000 - offset
        plan.append((f"o{i}", f"u{i % 8}", is_bid, price, rng.randint(1, 20) * 100, crossing,
                     snapshot(5000 + rng.randint(-2, 2) * 100) if i % 500 == 0 else None))
    resting: list[str] = []
    start = time.perf_counter()
    for order_id, user_id, is_bid, price, count, crossing, snap in plan:
        if snap is not None:
            book.set_crowd(*snap)
        result = book.match(user_id, is_bid, price, count)
        if result.remaining_ct and not crossing and not result.stp_stopped:
            book.add(order_id, user_id, is_bid, price, result.remaining_ct)
            resting.append(order_id)
        if len(resting) > 200:
            book.remove(resting.pop(0))
        book.touched.clear()
    elapsed = time.perf_counter() - start
    return n_orders / elapsed if elapsed > 0 else float("inf")
