"""`PortfolioTracker`: what you hold and what you really made, to the $0.0001, and when it is unsure.

It reads positions, fills (live and, past the exchange's cutoff, historical) and settlements
through the client's paginated iterators, replays the fills through the FIFO ledger, closes
settled markets at their settlement value, marks open positions at the YES mid (then the last
price, then "no price"), and cross-checks everything it can against the exchange's own figures.
A source, page or market that fails becomes a warning; the rest of the report still shows. Even an
unexpected error while reducing one market only drops that market (named in a warning).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Protocol

from .errors import KalshiTradingError, NotFoundError
from .models import Balance, HistoricalCutoff, Market, MarketPosition, Settlement
from .money import CENT, ONE, ZERO, fmt_cash, fmt_count, fmt_dollars
from .portfolio.fifo_ledger import MarketLedger
from .portfolio.fill_collector import FillCollector
from .portfolio.report import DailyPnl, MarketLine, MarkSource, PortfolioReport
from .portfolio.settlement import reconcile_settlement
from .portfolio.views import render_portfolio
from .timeutil import Clock, utc_now

__all__ = ["PortfolioTracker", "AccountReader", "PortfolioReport", "MarketLine", "DailyPnl", "render_portfolio",
           "mark_of", "CROSS_CHECK_TOLERANCE"]

logger = logging.getLogger(__name__)

CROSS_CHECK_TOLERANCE = CENT   # differences from the exchange's own figures above this are shown
DAYS = 30


def mark_of(market: Market) -> tuple[Decimal | None, MarkSource]:
    """A market's YES mark: its settlement value once determined, else the bid/ask midpoint,
    else the last price, else none."""
    if market.result in ("yes", "no", "scalar") and market.status not in ("active", "open"):
        if market.result == "yes":
            return ONE, MarkSource.SETTLEMENT
        if market.result == "no":
            return ZERO, MarkSource.SETTLEMENT
        if market.settlement_value is not None:
            return market.settlement_value, MarkSource.SETTLEMENT
    bid, ask = market.yes_bid, market.yes_ask
    if ZERO < bid < ONE and ZERO < ask < ONE and bid <= ask:
        return (bid + ask) / 2, MarkSource.MID
    if ZERO < market.last_price < ONE:
        return market.last_price, MarkSource.LAST
    return None, MarkSource.NONE


class AccountReader(Protocol):
    """What the tracker reads through: `KalshiClient` in the app, small fakes in tests.

    Fills come as the API's raw dicts (`iter_fills_raw`), not `Fill` objects: a million-fill
    account cannot afford an object per fill, and `FillCollector` reads the raw form exactly.
    """

    def get_balance(self) -> Balance: ...
    def iter_positions(self) -> Iterable[MarketPosition]: ...
    def iter_fills_raw(self, *, historical: bool = False, max_ts: int | None = None) -> Iterable[dict]: ...
    def get_historical_cutoff(self) -> HistoricalCutoff: ...
    def iter_settlements(self) -> Iterable[Settlement]: ...
    def get_market(self, ticker: str) -> Market: ...


class PortfolioTracker:
    """Builds a `PortfolioReport` from the exchange through an injected `AccountReader`."""

    def __init__(self, client: AccountReader, *, clock: Clock = utc_now, days: int = DAYS) -> None:
        self._client = client
        self._clock = clock
        self._days = days

    # --- fetching, each source isolated -----------------------------------------------------

    def _drain(self, label: str, produce: Callable[[], Iterable[Any]],
               consume: Callable[[Iterable[Any]], Any], warnings: list[str], *,
               missing_ok: bool = False) -> bool:
        """Feed everything `produce()` yields to `consume`; a failure mid-way (a page that still
        fails after the client's retries ends the cursor chain) becomes a warning. With
        `missing_ok`, a 404 before the first record means the exchange has no such list."""
        seen = [0]

        def counted() -> Iterator[Any]:
            for item in produce():
                seen[0] += 1
                yield item

        try:
            consume(counted())
        except KalshiTradingError as exc:
            if isinstance(exc, NotFoundError) and missing_ok and not seen[0]:
                logger.info("portfolio: %s: the exchange has no such list", label)
                return True
            warnings.append(f"{label}: stopped after {seen[0]} records ({exc}); the rest is missing "
                            f"from this report")
            logger.warning("portfolio: %s failed after %d records: %s", label, seen[0], exc)
            return False
        return True

    def _positions(self, warnings: list[str]) -> tuple[dict[str, MarketPosition], bool]:
        """The exchange's open positions by ticker, and whether the list was read to its end."""
        positions: dict[str, MarketPosition] = {}
        complete = self._drain("positions", self._client.iter_positions,
                               lambda items: positions.update((p.ticker, p) for p in items), warnings)
        return positions, complete

    def _fills(self, collector: FillCollector, warnings: list[str]) -> None:
        raw = self._client.iter_fills_raw
        self._drain("fills", raw, collector.add_raw, warnings)
        try:
            cutoff = self._client.get_historical_cutoff()
        except NotFoundError:
            return   # this exchange keeps no separate history
        except KalshiTradingError as exc:
            warnings.append(f"historical cutoff unavailable ({exc}); fills older than the cutoff "
                            f"may be missing")
            return
        if cutoff.trades_created_ts is None:
            return
        before = cutoff.trades_created_ts
        self._drain("historical fills", lambda: raw(historical=True, max_ts=before),
                    collector.add_raw, warnings, missing_ok=True)

    def _settlements(self, warnings: list[str]) -> dict[str, Settlement]:
        found: dict[str, Settlement] = {}

        def keep(items: Iterable[Settlement]) -> None:
            for settlement in items:
                if settlement.ticker in found and found[settlement.ticker] != settlement:
                    warnings.append(f"{settlement.ticker}: two different settlement records; "
                                    f"using the first")
                found.setdefault(settlement.ticker, settlement)

        self._drain("settlements", self._client.iter_settlements, keep, warnings)
        return found

    def _market(self, ticker: str, warnings: list[str]) -> Market | None:
        try:
            return self._client.get_market(ticker)
        except KalshiTradingError as exc:
            warnings.append(f"{ticker}: market data unavailable ({exc})")
            return None

    # --- per market ---------------------------------------------------------------------------

    def _settled_line(self, ledger: MarketLedger, settlement: Settlement,
                      warnings: list[str]) -> MarketLine:
        market_value = None
        if settlement.market_result not in ("yes", "no"):   # scalar: the record's value is whole cents
            market = self._market(ledger.ticker, warnings)
            market_value = market.settlement_value if market is not None else None
        check = reconcile_settlement(ledger, settlement, market_value)
        if check.warning:
            warnings.append(check.warning)
        return MarketLine(ledger.ticker, ZERO, None, ZERO, check.value, MarkSource.SETTLEMENT, ZERO,
                          ledger.realized, ledger.fees, True)

    def _open_line(self, ledger: MarketLedger, held: MarketPosition | None,
                   warnings: list[str]) -> MarketLine:
        ticker = ledger.ticker
        position, average, exposure = ledger.position, ledger.average_price, ledger.open_cost
        from_exchange = False
        if held is not None:
            _cross_check(ledger, held, warnings)
            if held.position != ledger.position:
                warnings.append(f"{ticker}: the exchange holds {fmt_count(held.position)}, the fills "
                                f"add up to {fmt_count(ledger.position)}; showing the exchange's "
                                f"position at its cost (fills missing?)")
                position, exposure, from_exchange = held.position, held.market_exposure, True
                average = _average_from_exposure(held.position, held.market_exposure)
        if not position:
            return MarketLine(ticker, ZERO, None, ZERO, None, MarkSource.FLAT, ZERO,
                              ledger.realized, ledger.fees, False)
        market = self._market(ticker, warnings)
        mark, source = mark_of(market) if market is not None else (None, MarkSource.NONE)
        unrealized: Decimal | None = None
        if mark is None:
            warnings.append(f"{ticker}: no price (no bid/ask, no last trade); excluded from "
                            f"unrealized P&L")
        elif from_exchange:
            unrealized = (mark - average) * position if average is not None else None
        else:
            unrealized = ledger.unrealized(mark)
        return MarketLine(ticker, position, average, exposure, mark, source, unrealized,
                          ledger.realized, ledger.fees, False)

    def _line(self, ledger: MarketLedger, settlement: Settlement | None,
              positions: dict[str, MarketPosition], all_positions: bool,
              warnings: list[str]) -> MarketLine | None:
        """One market's row, or None (with a warning naming it) when reducing it failed."""
        ticker = ledger.ticker
        try:
            if settlement is not None:
                return self._settled_line(ledger, settlement, warnings)
            if all_positions and ticker not in positions and ledger.position:
                warnings.append(f"{ticker}: the fills add up to {fmt_count(ledger.position)}, but "
                                f"the exchange lists no open position (settled, or fills wrong?)")
            return self._open_line(ledger, positions.get(ticker), warnings)
        except Exception as exc:   # noqa: BLE001 - one bad market must not hide the others
            warnings.append(f"{ticker}: skipped, its records could not be reduced "
                            f"({type(exc).__name__}: {exc}); its P&L is missing from the totals")
            logger.exception("portfolio: %s skipped", ticker)
            return None

    # --- the report ---------------------------------------------------------------------------

    def build_report(self) -> PortfolioReport:
        """Fetch everything, reduce it, and say what could not be checked."""
        now = self._clock()
        warnings: list[str] = []
        positions, all_positions = self._positions(warnings)
        collector = FillCollector()
        self._fills(collector, warnings)
        settlements = self._settlements(warnings)
        ledgers = collector.ledgers()
        if collector.unreadable:
            warnings.append(f"{collector.unreadable} fills could not be read and were skipped")
            warnings.extend(collector.problems)
        lines = []
        for ticker in sorted(set(ledgers) | set(positions) | set(settlements)):
            ledger = ledgers.setdefault(ticker, MarketLedger(ticker))
            line = self._line(ledger, settlements.get(ticker), positions, all_positions, warnings)
            if line is None:
                ledgers[ticker] = MarketLedger(ticker)   # nothing of it in the daily P&L either
            else:
                lines.append(line)
        lines.sort(key=lambda line: (line.position == 0, line.settled, line.ticker))
        realized = sum((line.realized for line in lines), ZERO)
        unrealized = sum((line.unrealized for line in lines if line.unrealized is not None), ZERO)
        fees = sum((line.fees for line in lines), ZERO)
        daily = _daily(ledgers.values(), now.date(), self._days)
        return PortfolioReport(now, tuple(lines), realized, unrealized, fees, daily, tuple(warnings),
                               collector.fills)

    def portfolio_view(self, width: int) -> tuple[dict, list[str]]:
        """The `pnl --json` document and the portfolio screen (menu 5), from ONE read of the
        account: the balance line, then the report fitted to `width`."""
        balance = self._client.get_balance()
        head = [f"Balance: ${fmt_cash(balance.balance)} available to trade   "
                f"portfolio value ${fmt_cash(balance.portfolio_value)}", ""]
        report = self.build_report()
        return report.to_json(), head + list(render_portfolio(report, width))


def _cross_check(ledger: MarketLedger, held: MarketPosition, warnings: list[str]) -> None:
    """Compare with the exchange's realized P&L and fees. Whether Kalshi's `realized_pnl_dollars`
    includes fees is unconfirmed, so it may match either our gross or our net figure."""
    ticker = ledger.ticker
    if min(abs(held.realized_pnl - ledger.realized_gross),
           abs(held.realized_pnl - ledger.realized)) > CROSS_CHECK_TOLERANCE:
        warnings.append(f"{ticker}: realized P&L {fmt_dollars(ledger.realized)} (before fees "
                        f"{fmt_dollars(ledger.realized_gross)}) differs from the exchange's "
                        f"{fmt_dollars(held.realized_pnl)}")
    if abs(held.fees_paid - ledger.fees) > CROSS_CHECK_TOLERANCE:
        warnings.append(f"{ticker}: fees {fmt_dollars(ledger.fees)} differ from the exchange's "
                        f"{fmt_dollars(held.fees_paid)}")


def _average_from_exposure(position: Decimal, exposure: Decimal) -> Decimal | None:
    """Average YES price implied by what the exchange says the position cost."""
    if not position:
        return None
    per_contract = exposure / abs(position)
    return per_contract if position > 0 else ONE - per_contract


def _daily(ledgers: Iterable[MarketLedger], today: date, days: int) -> tuple[DailyPnl, ...]:
    """Realized P&L per UTC day for the last `days` days, with the running total (equity curve)."""
    booked: dict[str, Decimal] = {}
    for ledger in ledgers:
        for day, amount in ledger.daily.items():
            booked[day] = booked.get(day, ZERO) + amount
    first = today - timedelta(days=days - 1)
    running = sum((amount for day, amount in booked.items() if day < first.isoformat()), ZERO)
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        amount = booked.get(day.isoformat(), ZERO)
        running += amount
        result.append(DailyPnl(day, amount, running))
    return tuple(result)

