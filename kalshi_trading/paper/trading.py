"""Order writes of the paper engine: create, amend, decrease, cancel, and the fills they cause.

Each write validates first (raising `ExchangeRejection` with nothing changed) and only then
mutates; `PaperEngine._write` wraps it in one store transaction. Fees follow Kalshi's rules:
`money.trade_fee` per fill at the taker or maker rate, then `money.FeeRounding` with one
accumulator per order, so each fill's `fee_cost` is the net fee and the balance moves by exactly
revenue - fee_cost. A `mixin` so that engine.py stays readable; it relies on the engine's state.
"""

from __future__ import annotations

from decimal import Decimal

from ..errors import ExchangeRejection
from ..money import ONE, ZERO, FeeRounding, fmt_count, fmt_dollars, fmt_dollars_fine, quadratic_fee, trade_fee
from ..order_request import SelfTradePrevention, TimeInForce
from ..timeutil import from_unix, to_iso_z
from .accounts import Account, Position, contracts_of, dollars_of
from .markets import MarketState
from .matching import Execution, PassiveFill
from .orders import (CANCELED, EXECUTED, RESTING, UserOrder, parse_count_ct, parse_create, parse_price_cc,
                     reject, require_str)

__all__ = ["TradingMixin"]

HALF = Decimal("0.5")


class _Totals:
    """Fills of one request, for `average_fill_price` and `average_fee_paid`."""

    def __init__(self) -> None:
        self.count_ct = 0
        self.value = ZERO
        self.fees = ZERO

    def add(self, price_cc: int, count_ct: int, fee: Decimal) -> None:
        self.count_ct += count_ct
        self.value += dollars_of(price_cc) * contracts_of(count_ct)
        self.fees += fee

    def into(self, response: dict) -> dict:
        response["fill_count"] = fmt_count(contracts_of(self.count_ct))
        if self.count_ct:
            contracts = contracts_of(self.count_ct)
            response["average_fill_price"] = fmt_dollars(self.value / contracts)
            response["average_fee_paid"] = fmt_dollars(self.fees / contracts)
        return response


class TradingMixin:
    """Order writes and fill accounting; see `PaperEngine` for the state it uses."""

    # ------------------------------------------------------------------ checks
    def _reserve_unit(self, market: MarketState, is_bid: bool, price_cc: int, now_s: float) -> Decimal:
        """Collateral per opening contract: its cost plus the worst taker fee it could pay."""
        price = dollars_of(price_cc)
        cost = price if is_bid else ONE - price
        worst = (price if price < HALF else HALF) if is_bid else (price if price > HALF else HALF)
        taker_rate, _ = self._fee_rates(market, now_s)
        return cost + quadratic_fee(ONE, worst, taker_rate)

    def _closable(self, user_id: str, ticker: str, is_bid: bool, exclude: str | None = None) -> int:
        """Contracts an order on this side would close: the opposite position less what other
        resting orders on this side already intend to close."""
        position = self._positions.get((user_id, ticker))
        base = position.closable_ct(is_bid) if position else 0
        committed = sum(o.remaining_ct - o.reserved_ct
                        for o in self._resting.get((user_id, ticker), {}).values()
                        if o.is_bid == is_bid and o.order_id != exclude)
        return max(0, base - committed)

    def _check_funds(self, user_id: str, need: Decimal, freed: Decimal = ZERO) -> None:
        available = self._account_view(user_id).available + freed
        if need > available:
            raise reject(400, "insufficient_balance", "available balance is too low for this order",
                         f"needs {fmt_dollars(need)}, available {fmt_dollars(available)}")

    # ------------------------------------------------------------------ create
    def _create(self, user_id: str, body: object, now_ms: int) -> dict:
        now_s = now_ms / 1000
        spec = parse_create(body, now_s)
        if spec.client_order_id and (user_id, spec.client_order_id) in self._coids:
            raise reject(409, "order_already_exists",
                         f"an order with client_order_id {spec.client_order_id} already exists")
        market = self._market(spec.ticker)
        market.require_open(now_s)
        price_cc = parse_price_cc(spec.raw_price, market.grid)
        book, is_bid, stp_maker = market.book, spec.is_bid, spec.stp is SelfTradePrevention.MAKER
        if spec.post_only and book.would_cross(is_bid, price_cc):
            raise reject(400, "invalid_order", "post-only order would cross the book", "post only cross")
        closable = self._closable(user_id, spec.ticker, is_bid)
        count_ct = spec.count_ct
        if spec.reduce_only:
            if closable == 0:
                raise reject(400, "invalid_order", "reduce-only order would increase the position",
                             "reduce only")
            count_ct = min(count_ct, closable)
        opening = count_ct - min(count_ct, closable)
        unit = self._reserve_unit(market, is_bid, price_cc, now_s)
        self._check_funds(user_id, contracts_of(opening) * unit)
        if spec.tif is TimeInForce.FOK:
            fillable, hits_self = book.fillable(user_id, is_bid, price_cc, count_ct, stp_maker)
            if fillable < count_ct and not hits_self:
                raise reject(409, "fill_or_kill_insufficient_resting_volume",
                             "not enough resting volume to fill the whole order")
        # ---- validated: from here on, state changes
        order = UserOrder(self._new_id(), user_id, spec.client_order_id, spec.ticker, is_bid, price_cc,
                          count_ct, count_ct, spec.tif.value, spec.stp.value, now_ms, self._next_seq(),
                          post_only=spec.post_only, reduce_only=spec.reduce_only,
                          expiration_ts=spec.expiration_ts, updated_ms=now_ms)
        self._register(order)
        self._reserve(order, opening, unit)
        totals = self._execute(order, market, now_ms, rest=spec.tif is TimeInForce.GTC)
        return totals.into({"order_id": order.order_id, "client_order_id": order.client_order_id,
                            "remaining_count": fmt_count(contracts_of(order.remaining_ct)),
                            "ts_ms": now_ms})

    def _execute(self, order: UserOrder, market: MarketState, now_ms: int, *, rest: bool) -> _Totals:
        """Match `order` as taker, then rest or cancel what is left."""
        result = market.book.match(order.user_id, order.is_bid, order.price_cc, order.remaining_ct,
                                   order.stp == SelfTradePrevention.MAKER.value)
        for own in result.stp_canceled:
            self._cancel(self.orders[own.order_id], now_ms)
        totals = _Totals()
        taker_rate, maker_rate = self._fee_rates(market, now_ms / 1000)
        for execution in result.executions:
            self._apply_execution(order, market, execution, taker_rate, maker_rate, now_ms, totals)
        if order.remaining_ct:
            if rest and not result.stp_stopped:
                resting = market.book.add(order.order_id, order.user_id, order.is_bid,
                                          order.price_cc, order.remaining_ct)
                order.ahead_ct = resting.ahead_ct
                if order.expiration_ts is not None:
                    self._schedule_expiry(order)
            else:
                self._cancel(order, now_ms)
        market.record(now_ms / 1000)
        self._touch_market(market)
        return totals

    def _apply_execution(self, order: UserOrder, market: MarketState, ex: Execution, taker_rate: Decimal,
                         maker_rate: Decimal, now_ms: int, totals: _Totals) -> None:
        fee = self._fill(order, market, ex.price_cc, ex.count_ct, True, taker_rate, now_ms)
        totals.add(ex.price_cc, ex.count_ct, fee)
        if ex.maker_order_id is not None:
            self._fill(self.orders[ex.maker_order_id], market, ex.price_cc, ex.count_ct, False,
                       maker_rate, now_ms)
        self._public_trade(market, now_ms, ex.price_cc, ex.count_ct, order.is_bid)

    def _passive_fill(self, market: MarketState, fill: PassiveFill, now_ms: int) -> None:
        """A resting order filled by the crowd: maker fee; a snapshot cross also prints a trade."""
        _, maker_rate = self._fee_rates(market, now_ms / 1000)
        self._fill(self.orders[fill.order_id], market, fill.price_cc, fill.count_ct, False, maker_rate, now_ms)
        if not fill.from_print:
            self._public_trade(market, now_ms, fill.price_cc, fill.count_ct, not fill.is_bid)

    def _public_trade(self, market: MarketState, now_ms: int, price_cc: int, count_ct: int,
                      taker_is_bid: bool) -> None:
        body = market.add_trade(self._new_id(), now_ms, price_cc, count_ct, taker_is_bid, user_fill=True)
        self._dirty.trades.append((self._next_seq(), body))

    # ------------------------------------------------------------------ fills
    def _fill(self, order: UserOrder, market: MarketState, price_cc: int, count_ct: int, is_taker: bool,
              rate: Decimal, now_ms: int) -> Decimal:
        """Book one fill for one user: position, cash, fees, reservation, order; returns fee_cost."""
        account = self._account(order.user_id)
        position = self._position(order.user_id, market)
        price = dollars_of(price_cc)
        before = position.position_ct
        effect = position.apply(order.is_bid, price, count_ct, now_ms)
        rounding = FeeRounding()
        rounding.accumulator = order.fee_acc
        fee_cost = rounding.fill_fee(effect.revenue, trade_fee(contracts_of(count_ct), price, rate))
        order.fee_acc = rounding.accumulator
        account.cash += effect.revenue - fee_cost
        account.updated_ms = now_ms
        position.fees_paid += fee_cost
        market.user_open_interest_ct += max(position.position_ct, 0) - max(before, 0)
        self._release(order, account, count_ct)
        order.filled_ct += count_ct
        order.remaining_ct -= count_ct
        order.updated_ms = now_ms
        cost = contracts_of(count_ct) * (price if order.is_bid else ONE - price)
        if is_taker:
            order.taker_cost += cost
            order.taker_fees += fee_cost
        else:
            order.maker_cost += cost
            order.maker_fees += fee_cost
        if order.remaining_ct == 0 and order.status == RESTING:
            order.status = EXECUTED
            self._unrest(order)
        self._record_fill(order, price, count_ct, is_taker, fee_cost, now_ms)
        self._dirty.accounts.add(order.user_id)
        self._dirty.orders.add(order.order_id)
        self._dirty.positions.add((order.user_id, market.ticker))
        return fee_cost

    def _record_fill(self, order: UserOrder, price: Decimal, count_ct: int, is_taker: bool,
                     fee_cost: Decimal, now_ms: int) -> None:
        fill_id = self._new_id()
        body = {
            "fill_id": fill_id, "trade_id": fill_id, "order_id": order.order_id,
            "ticker": order.ticker, "market_ticker": order.ticker,
            "outcome_side": "yes" if order.is_bid else "no",
            "book_side": "bid" if order.is_bid else "ask",
            "count_fp": fmt_count(contracts_of(count_ct)),
            "yes_price_dollars": fmt_dollars(price), "no_price_dollars": fmt_dollars(ONE - price),
            "is_taker": is_taker, "fee_cost": fmt_dollars_fine(fee_cost),
            "created_time": to_iso_z(from_unix(now_ms / 1000)), "ts": now_ms // 1000,
            "exchange_index": 0, "subaccount_number": 0,
        }
        self.fills.setdefault(order.user_id, []).append(body)
        self._dirty.fills.append((self._next_seq(), order.user_id, body))

    # ------------------------------------------------------------------ reservations
    def _reserve(self, order: UserOrder, opening_ct: int, unit: Decimal) -> None:
        account = self._account(order.user_id)
        order.reserved_ct, order.reserve_unit = opening_ct, unit
        account.reserved += order.reserved
        self._dirty.accounts.add(order.user_id)

    def _release(self, order: UserOrder, account: Account, count_ct: int) -> None:
        """A fill of `count_ct` uses the unreserved (closing) part of the order first."""
        unreserved = order.remaining_ct - order.reserved_ct
        from_reserved = count_ct - min(count_ct, max(unreserved, 0))
        if from_reserved > 0:
            from_reserved = min(from_reserved, order.reserved_ct)
            account.reserved -= contracts_of(from_reserved) * order.reserve_unit
            order.reserved_ct -= from_reserved

    def _cancel(self, order: UserOrder, now_ms: int) -> int:
        """Cancel what is left of an order; returns the centi-contracts canceled."""
        canceled = order.remaining_ct
        market = self.markets.get(order.ticker)   # None: its market left the market data
        if market is not None:
            market.book.remove(order.order_id)
        account = self._account(order.user_id)
        account.reserved -= order.reserved
        order.reserved_ct = 0
        order.remaining_ct = 0
        order.status = CANCELED if order.status == RESTING else order.status
        order.updated_ms = now_ms
        self._unrest(order)
        self._dirty.orders.add(order.order_id)
        self._dirty.accounts.add(order.user_id)
        return canceled

    # ------------------------------------------------------------------ cancel, decrease, amend
    def _resting_order(self, user_id: str, order_id: str, now_ms: int) -> UserOrder:
        """The user's order, on an open market (Kalshi: MARKET_INACTIVE after close), still resting."""
        order = self._user_order(user_id, order_id)
        self._market(order.ticker).require_open(now_ms / 1000)
        if order.status != RESTING:
            raise reject(409, "order_not_resting", f"order {order_id} is {order.status}")
        return order

    def _cancel_write(self, user_id: str, order_id: str, now_ms: int) -> dict:
        order = self._resting_order(user_id, order_id, now_ms)
        reduced = self._cancel(order, now_ms)
        self._touch_market(self._market(order.ticker))
        return {"order_id": order.order_id, "client_order_id": order.client_order_id,
                "reduced_by": fmt_count(contracts_of(reduced)), "ts_ms": now_ms}

    def _decrease(self, user_id: str, order_id: str, body: object, now_ms: int) -> dict:
        if not isinstance(body, dict):
            raise reject(400, "invalid_parameters", "the request body must be a JSON object")
        by, to = body.get("reduce_by"), body.get("reduce_to")
        if (by is None) == (to is None):
            raise reject(400, "invalid_parameters", "give exactly one of reduce_by or reduce_to")
        order = self._resting_order(user_id, order_id, now_ms)
        if by is not None:
            new_remaining = max(0, order.remaining_ct - parse_count_ct(by, "reduce_by"))
        else:
            new_remaining = parse_count_ct(to, "reduce_to", allow_zero=True)
            if new_remaining > order.remaining_ct:
                raise reject(400, "invalid_order_size", "reduce_to is larger than the remaining count")
        if new_remaining == 0:
            self._cancel(order, now_ms)
        else:
            self._shrink(order, new_remaining, now_ms)
        self._touch_market(self._market(order.ticker))
        return {"order_id": order.order_id, "client_order_id": order.client_order_id,
                "remaining_count": fmt_count(contracts_of(order.remaining_ct)), "ts_ms": now_ms}

    def _shrink(self, order: UserOrder, new_remaining: int, now_ms: int) -> None:
        """Reduce in place (queue position kept); the reserved tail goes first."""
        delta = order.remaining_ct - new_remaining
        account = self._account(order.user_id)
        freed = min(delta, order.reserved_ct)
        account.reserved -= contracts_of(freed) * order.reserve_unit
        order.reserved_ct -= freed
        order.remaining_ct = new_remaining
        order.updated_ms = now_ms
        self._market(order.ticker).book.reduce(order.order_id, new_remaining)
        self._dirty.orders.add(order.order_id)
        self._dirty.accounts.add(order.user_id)

    def _amend_target(self, user_id: str, order_id: str, body: object, now_ms: int) -> tuple[UserOrder, str]:
        """The order an amend body names, checked against it; and the new client_order_id, if any."""
        if not isinstance(body, dict):
            raise reject(400, "invalid_parameters", "the request body must be a JSON object")
        ticker, side = require_str(body, "ticker"), body.get("side")
        if side not in ("bid", "ask"):
            raise reject(400, "invalid_parameters", "side must be 'bid' or 'ask'")
        for name in ("price", "count"):
            if name not in body:
                raise reject(400, "invalid_parameters", f"{name} is required")
        order = self._resting_order(user_id, order_id, now_ms)
        if ticker != order.ticker:
            raise reject(400, "order_ticker_mismatch", "ticker does not match the order")
        if (side == "bid") != order.is_bid:
            raise reject(400, "order_side_mismatch", "side does not match the order")
        coid = require_str(body, "client_order_id", required=False)
        if coid and coid != order.client_order_id:
            raise reject(400, "order_id_and_client_order_id_mismatch",
                         "client_order_id does not match the order")
        new_coid = require_str(body, "updated_client_order_id", required=False)
        if new_coid and new_coid != order.client_order_id and (user_id, new_coid) in self._coids:
            raise reject(409, "order_already_exists", f"client_order_id {new_coid} is already in use")
        return order, new_coid

    def _amend(self, user_id: str, order_id: str, body: dict, now_ms: int) -> dict:
        order, new_coid = self._amend_target(user_id, order_id, body, now_ms)
        ticker = order.ticker
        market = self._market(ticker)
        now_s = now_ms / 1000
        market.require_open(now_s)
        price_cc = parse_price_cc(body["price"], market.grid)
        total_ct = parse_count_ct(body["count"])
        if total_ct <= order.filled_ct:
            raise reject(400, "invalid_order_size", "count is the new total size and must exceed the filled count")
        new_remaining = total_ct - order.filled_ct
        if order.post_only and market.book.would_cross(order.is_bid, price_cc):
            raise reject(400, "invalid_order", "post-only order would cross the book", "post only cross")
        opening = new_remaining - min(new_remaining, self._closable(user_id, ticker, order.is_bid, order_id))
        unit = self._reserve_unit(market, order.is_bid, price_cc, now_s)
        self._check_funds(user_id, contracts_of(opening) * unit, freed=order.reserved)
        # ---- validated
        keep_queue = price_cc == order.price_cc and new_remaining <= order.remaining_ct
        if new_coid:
            self._coids.pop((user_id, order.client_order_id), None)
            order.client_order_id = new_coid
            self._coids[(user_id, new_coid)] = order_id
        account = self._account(user_id)
        account.reserved -= order.reserved
        order.initial_ct = total_ct
        order.updated_ms = now_ms
        self._dirty.orders.add(order_id)
        totals = _Totals()
        if keep_queue:
            order.reserved_ct = 0
            self._shrink(order, new_remaining, now_ms)
            self._reserve(order, opening, unit)
            self._touch_market(market)
        else:
            market.book.remove(order_id)
            order.price_cc, order.remaining_ct, order.reserved_ct = price_cc, new_remaining, 0
            self._reserve(order, opening, unit)
            totals = self._execute(order, market, now_ms, rest=True)
        return totals.into({"order_id": order_id, "client_order_id": order.client_order_id,
                            "remaining_count": fmt_count(contracts_of(order.remaining_ct)), "ts_ms": now_ms})

    # ------------------------------------------------------------------ batches
    def _batch_create(self, user_id: str, body: object, now_ms: int) -> dict:
        items = self._batch_items(body)
        results = []
        for item in items:
            try:
                results.append(self._create(user_id, item, now_ms))
            except ExchangeRejection as exc:  # one error object per item
                coid = item.get("client_order_id") if isinstance(item, dict) else None
                results.append({"client_order_id": coid if isinstance(coid, str) else None,
                                "error": {"code": exc.code, "message": exc.message, "details": exc.details}})
        return {"orders": results}

    def _batch_cancel(self, user_id: str, body: object, now_ms: int) -> dict:
        items = self._batch_items(body)
        results = []
        for item in items:
            order_id = item.get("order_id") if isinstance(item, dict) else None
            try:
                if not isinstance(order_id, str) or not order_id:
                    raise reject(400, "invalid_parameters", "order_id is required")
                results.append(self._cancel_write(user_id, order_id, now_ms))
            except ExchangeRejection as exc:
                results.append({"order_id": order_id if isinstance(order_id, str) else "",
                                "reduced_by": "0.00",
                                "error": {"code": exc.code, "message": exc.message, "details": exc.details}})
        return {"orders": results}

    def _batch_items(self, body: object) -> list:
        if not isinstance(body, dict) or not isinstance(body.get("orders"), list) or not body["orders"]:
            raise reject(400, "invalid_parameters", "body must be {\"orders\": [...]} with at least one order")
        if len(body["orders"]) > self.max_batch:
            raise reject(400, "invalid_parameters", f"at most {self.max_batch} orders per batch")
        return body["orders"]

    def _position(self, user_id: str, market: MarketState) -> Position:
        key = (user_id, market.ticker)
        position = self._positions.get(key)
        if position is None:
            position = self._positions[key] = Position(user_id, market.ticker, market.event_ticker)
        return position
