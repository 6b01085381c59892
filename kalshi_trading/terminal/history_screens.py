"""Menus 5-8: portfolio, trade history (with CSV export), strategies, settings.

As in the other screen modules, the data functions (`sync_fills`, `query_history`,
`export_history`, `portfolio_view`) are shared with the subcommands; `*_screen` only asks and
renders.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import KalshiTradingError, NotFoundError, UserInputError
from .input_parsing import (exclusive_end, parse_choice, parse_date, parse_date_end, parse_optional,
                            parse_ticker)
from .json_views import balance_json, cash, dollars, position_json
from ..money import fmt_count, fmt_dollars
from ..timeutil import to_unix
from ..trading_cli import Column

if TYPE_CHECKING:
    from ..main_app import MainApp

__all__ = ["EVENT_TYPES", "sync_fills", "sync_cancellations", "query_history", "export_history", "history_rows",
           "HISTORY_COLUMNS", "portfolio_view", "history_screen",
           "portfolio_screen", "strategies_screen", "settings_screen", "strategy_rows",
           "settings_rows", "FILL_LOOKBACK", "HISTORY_NOTE", "csv_path"]

EVENT_TYPES = ("submission", "fill", "cancellation", "amend", "error")
FILL_LOOKBACK = timedelta(days=30)
HISTORY_COLUMNS = (Column("time (UTC)", min_width=16), Column("event"), Column("ticker", whole=True),
                   Column("order"), Column("count", align=">"), Column("price", align=">"),
                   Column("fee", align=">", drop=2), Column("status", drop=3),
                   Column("order id / message", flex=True, min_width=8, drop=4))
HISTORY_NOTE = "(price is in the order's own terms: a NO order shows the NO price)"


def sync_fills(app: "MainApp", since: datetime | None = None) -> int:
    """Import the exchange's fills into the trade log (deduplicated by fill_id); returns new ones."""
    start = since or (app.clock() - FILL_LOOKBACK)
    return app.logger.import_fills(app.client.iter_fills(min_ts=to_unix(start)))


def sync_cancellations(app: "MainApp") -> int:
    """Record the cancellations the exchange made of orders this app placed (the market closed,
    the order expired, another session canceled it), so the history shows how each order ended.
    Run after `sync_fills`: an order the log still thinks rests but the exchange no longer lists
    as resting is read once; returns how many cancellations were recorded."""
    believed = app.logger.resting_orders()
    if not believed:
        return 0
    resting = {order.order_id for order in app.client.iter_orders(status="resting")}
    recorded = 0
    for rec in believed:
        if rec["order_id"] in resting:
            continue
        try:
            order = app.client.get_order(rec["order_id"])
        except NotFoundError:
            continue
        if order.status != "canceled":
            continue  # executed: its fills say so (imported when they are in the synced range)
        recorded += app.logger.import_cancellation(
            order.order_id, filled=order.fill_count, created_time=order.last_update_time,
            message=f"{_why_canceled(app, order)}; filled {fmt_count(order.fill_count)}")
    return recorded


def _why_canceled(app: "MainApp", order: Any) -> str:
    """Why an order we did not cancel ended: its expiry, its market closing, or someone else."""
    ended = order.last_update_time or app.clock()
    if order.expiration_time is not None and order.expiration_time <= ended:
        return "expired"
    try:
        market = app.client.get_market(order.ticker)
    except KalshiTradingError:
        market = None
    if market is not None and not market.is_open and (market.close_time is None or market.close_time <= ended):
        return "canceled by the exchange: the market closed"
    return "canceled outside this app (another session, or the website)"


def query_history(app: "MainApp", *, start: datetime | None = None, end: datetime | None = None,
                  ticker: str | None = None, event_types: list[str] | None = None,
                  sync: bool = True) -> list[dict]:
    """Log records matching the filters, oldest first, after pulling in new fills and the
    exchange's cancellations of our orders."""
    if sync:
        sync_fills(app, since=start)
        sync_cancellations(app)
    return app.logger.query(start=start, end=end, ticker=ticker, event_types=event_types)


def export_history(app: "MainApp", path: Path, *, start: datetime | None = None,
                   end: datetime | None = None, ticker: str | None = None,
                   event_types: list[str] | None = None, sync: bool = True) -> int:
    """Write the matching records to `path` as CSV (atomically); returns the row count."""
    if sync:
        sync_fills(app, since=start)
        sync_cancellations(app)
    try:
        return app.logger.export_csv(path, start=start, end=end, ticker=ticker, event_types=event_types)
    except OSError as exc:  # a path the trader typed: say why in one line, like any other input
        raise UserInputError(f"cannot write {path}: {exc.strerror or type(exc).__name__}; "
                             "nothing was exported") from None


def history_rows(records: list[dict]) -> list[list[str]]:
    """One row per log record: UTC time with the year to the minute (the CSV has it in full), `buy NO` and the NO price for a NO
    order (the log keeps both YES and NO prices; the CSV export has both)."""
    rows = []
    for rec in records:
        side = str(rec.get("outcome_side") or "")
        price = rec.get("no_price_dollars") if side == "no" else rec.get("yes_price_dollars")
        order = " ".join(part for part in (str(rec.get("action") or ""), side.upper()) if part)
        rows.append([str(rec.get("created_time", ""))[:16].replace("T", " "),
                     str(rec.get("event_type", "")), str(rec.get("ticker", "")), order or "-",
                     str(rec.get("count_fp") or ""), str(price or ""),
                     _dollars_text(rec.get("fee_cost")), str(rec.get("status") or ""),
                     str(rec.get("message") or rec.get("order_id") or "")])
    return rows


def _dollars_text(value: object) -> str:
    """A logged dollar amount in the 4-place form (`0` -> `0.0000`); other text as it is."""
    if value in (None, ""):
        return ""
    try:
        return fmt_dollars(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def history_screen(app: "MainApp") -> None:
    """Menu 6: filter the log, show it, optionally export it to CSV."""
    cli = app.cli
    cli.heading("Trade history")
    start = cli.ask("From date (YYYY-MM-DD, Enter for the last 30 days)", parse_optional(parse_date))
    end = cli.ask("To date, inclusive (Enter for now)", parse_optional(parse_date_end))
    if start and end and end < start:
        raise UserInputError("the end date is before the start date")
    end = exclusive_end(end)
    ticker = cli.ask("Ticker (Enter for all)", parse_optional(parse_ticker))
    kind = cli.ask(f"Event type ({'/'.join(EVENT_TYPES)}, Enter for all)", parse_optional(
        lambda t: parse_choice(t, {e: e for e in EVENT_TYPES}, what="event type")))
    start = start or app.clock() - FILL_LOOKBACK
    records = query_history(app, start=start, end=end, ticker=ticker,
                            event_types=[kind] if kind else None)
    if not records:
        cli.write("No events match.")
    else:
        cli.write(f"{len(records)} event(s):")
        cli.table(HISTORY_COLUMNS, history_rows(records[-200:]))
        cli.write(HISTORY_NOTE)
        if len(records) > 200:
            cli.write(f"(showing the last 200 of {len(records)}; export to see all)")
    out = cli.ask("Export to CSV file (Enter to skip)", parse_optional(csv_path))
    if out is None:
        return
    if out.exists() and not cli.confirm(f"{out} exists. Replace it?"):
        cli.write("Not exported.")
        return
    rows = export_history(app, out, start=start, end=end, ticker=ticker,
                          event_types=[kind] if kind else None, sync=False)   # synced just above
    cli.write(f"Exported {rows} row(s) to {out}")


def csv_path(text: str) -> Path:
    """A writable `.csv` path: the suffix guards against a stray answer (`y`) becoming a file,
    and against replacing a file that is not an export (the trade log itself, a key, `.env`)."""
    path = Path(text.strip()).expanduser()
    if path.suffix.lower() != ".csv":
        raise UserInputError(f"give a file name ending in .csv, not {text.strip()!r}")
    if path.is_dir():
        raise UserInputError(f"{path} is a folder; give a file name")
    if not path.parent.exists():
        raise UserInputError(f"folder {path.parent} does not exist")
    return path


# --- portfolio -----------------------------------------------------------------------------

def portfolio_view(app: "MainApp") -> tuple[dict, list[str]]:
    """The `pnl --json` document and the portfolio screen, from ONE read of the account: the
    balance line, then the tracker's report (or, without a tracker, balance and positions)."""
    balance = app.client.get_balance()
    head = [f"Balance: ${cash(balance.balance)} available to trade   "
            f"portfolio value ${cash(balance.portfolio_value)}", ""]
    if app.tracker is not None:
        from ..portfolio_tracker import render_portfolio
        report = app.tracker.build_report()
        return report.to_json(), head + list(render_portfolio(report, app.cli.width))
    positions = [p for p in app.client.iter_positions() if p.position != 0]
    document = {"balance": balance_json(balance), "market_positions": [position_json(p) for p in positions]}
    lines = head + ["Positions (YES > 0, NO < 0):"]
    lines += [f"  {p.ticker:<30} {fmt_count(p.position):>10}  exposure {dollars(p.market_exposure)}"
              f"  realized {dollars(p.realized_pnl)}  fees {dollars(p.fees_paid)}" for p in positions]
    if not positions:
        lines.append("  (none)")
    return document, lines


def portfolio_screen(app: "MainApp") -> None:
    """Menu 5."""
    app.cli.heading("Portfolio")
    app.cli.lines(portfolio_view(app)[1])


# --- strategies and settings ---------------------------------------------------------------

def strategy_rows(registry: Any) -> list[list[str]]:
    """(name, description or "failed to load: reason") for a `StrategyRegistry` (or a mapping)."""
    loaded = getattr(registry, "strategies", registry if hasattr(registry, "items") else {})
    failed = getattr(registry, "failed", {})
    rows = []
    for name, cls in sorted(loaded.items()):
        doc = (getattr(cls, "__doc__", None) or "").strip().splitlines()
        rows.append([str(name), doc[0] if doc else getattr(cls, "__name__", "")])
    rows += [[str(name), f"failed to load: {why}"] for name, why in sorted(failed.items())]
    return rows


def strategies_screen(app: "MainApp") -> None:
    """Menu 7: the plug-ins found in kalshi_trading/strategies/."""
    app.cli.heading("Strategies")
    rows = strategy_rows(app.strategies)
    if not rows:
        app.cli.write("No strategies installed (add a module to kalshi_trading/strategies/).")
        return
    app.cli.table((Column("name"), Column("description", flex=True)), rows)


def settings_rows(app: "MainApp") -> list[list[str]]:
    rows = [[k, v] for k, v in app.config.describe()]
    rows.insert(2, ["Connected to", app.base_url])
    return rows


def settings_screen(app: "MainApp") -> None:
    """Menu 8: read-only settings; secrets masked (the config never shows them)."""
    app.cli.heading("Settings (read-only; change them in .env)")
    app.cli.table((Column("setting"), Column("value", flex=True)), settings_rows(app))
