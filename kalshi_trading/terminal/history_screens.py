"""Menus 5-8: portfolio, trade history (with CSV export), strategies, settings.

The screens only ask, show and call: the history comes from `TradeHistory` (audit/), the
portfolio from `PortfolioTracker.portfolio_view`, the same calls the subcommands make.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..errors import UserInputError
from ..money import fmt_dollars, to_decimal
from ..trade_logger import EventType
from ..trading_cli import Column
from .input_parsing import (exclusive_end, parse_choice, parse_date, parse_date_end, parse_optional,
                            parse_ticker)
from .services import AppServices

__all__ = ["EVENT_TYPES", "history_rows", "HISTORY_COLUMNS", "history_screen", "portfolio_screen",
           "strategies_screen", "settings_screen", "settings_rows", "HISTORY_NOTE",
           "csv_path"]

EVENT_TYPES = tuple(kind.value for kind in EventType)
HISTORY_COLUMNS = (Column("time (UTC)", min_width=16), Column("event"), Column("ticker", whole=True),
                   Column("order"), Column("count", align=">"), Column("price", align=">"),
                   Column("fee", align=">", drop=2), Column("cash", align=">", drop=1),
                   Column("status", drop=3), Column("order id / message", flex=True, min_width=8, drop=4))
HISTORY_NOTE = ("(price is in the order's own terms: a NO order shows the NO price; cash is what each "
                "fill and settlement moved, fees included)")


def history_rows(records: list[dict]) -> list[list[str]]:
    """One row per log record: UTC time with the year to the minute (the CSV has it in full);
    `sell NO` and the NO price for a NO order (the CSV export has both book prices too); the
    fee and the cash moved to the $0.000001, as the CSV has them; the event's status with the
    order's state after it (`filled (partially_filled)`); a settlement as `held YES` with its
    result, revenue and fees."""
    rows = []
    for rec in records:
        side = str(rec.get("outcome_side") or "")
        price = rec.get("price_dollars") or (rec.get("no_price_dollars") if side == "no"
                                             else rec.get("yes_price_dollars"))
        settled = rec.get("event_type") == EventType.SETTLEMENT
        action = "held" if settled and side else str(rec.get("action") or "")
        order = " ".join(part for part in (action, side.upper()) if part)
        status = str(rec.get("status") or "")
        if settled:
            status = f"{status} {rec.get('market_result') or ''}".strip()
        elif rec.get("order_status") and rec["order_status"] != status:
            status = f"{status} ({rec['order_status']})".strip()
        cash = _dollars_text(rec.get("cash_change_dollars"), signed=True)
        rows.append([str(rec.get("created_time", ""))[:16].replace("T", " "),
                     str(rec.get("event_type", "")), str(rec.get("ticker", "")), order or "-",
                     str(rec.get("count_fp") or ""), str(price or ""), _dollars_text(rec.get("fee_cost")),
                     cash, status, str(rec.get("message") or rec.get("order_id") or "")])
    return rows


def _dollars_text(value: object, *, signed: bool = False) -> str:
    """A logged dollar amount with 6 places, as the CSV writes money (`0` -> `0.000000`, with
    `signed`: `+10.000000`); other text as it is."""
    if value in (None, ""):
        return ""
    try:
        text = fmt_dollars(to_decimal(value, "dollars", floats=True), 6)
    except UserInputError:
        return str(value)
    return "+" + text if signed and not text.startswith("-") else text


def history_screen(services: AppServices) -> None:
    """Menu 6: filter the log, show it, optionally export it to CSV."""
    cli = services.cli
    cli.heading("Trade history")
    start = cli.ask("From date (YYYY-MM-DD, Enter for the last 30 days)", parse_optional(parse_date))
    end = exclusive_end(cli.ask("To date, inclusive (Enter for now)",
                                parse_optional(lambda text: _not_before(parse_date_end(text), start))))
    ticker = cli.ask("Ticker (Enter for all)", parse_optional(parse_ticker))
    kind = cli.ask(f"Event type ({'/'.join(EVENT_TYPES)}, Enter for all)", parse_optional(
        lambda t: parse_choice(t, {e: e for e in EVENT_TYPES}, what="event type")))
    start = start or services.history.default_start()
    records = services.history.query(start=start, end=end, ticker=ticker,
                                     event_types=[kind] if kind else None)
    if not records:
        cli.write("No events match.")
    else:
        cli.write(f"{len(records)} event(s):")
        cli.table(HISTORY_COLUMNS, history_rows(records[-200:]))
        cli.write(HISTORY_NOTE)
        if len(records) > 200:
            cli.write(f"(showing the last 200 of {len(records)}; export to see all)")
    folder = services.config.log_dir
    while True:   # a file the trader will not replace means another name, not starting over
        out = cli.ask(f"Export to CSV file (a relative name goes in {folder}/; Enter to skip)",
                      parse_optional(lambda text: csv_path(text, folder)))
        if out is None:
            cli.write("Not exported.")
            return
        if not out.exists() or cli.confirm(f"{out} exists. Replace it?"):
            break
        cli.write("Kept it; give another name, or Enter to skip.")
    rows = services.history.export(out, start=start, end=end, ticker=ticker,
                                   event_types=[kind] if kind else None, sync=False)  # synced just above
    cli.write(f"Exported {rows} row(s) to {out}")


def _not_before(end: datetime, start: datetime | None) -> datetime:
    """`end` if it is not before `start`; otherwise the error re-asks the end date alone."""
    if start is not None and end < start:
        raise UserInputError("the end date is before the start date; give a later one")
    return end


def csv_path(text: str, folder: Path | None = None) -> Path:
    """A writable `.csv` path, made absolute: the suffix guards against a stray answer (`y`)
    becoming a file, and against replacing a file that is not an export (the trade log itself, a
    key, `.env`). A relative name lands in `folder`, the export folder (`KALSHI_LOG_DIR`, as
    .env.example says), whether the menu or `export --out` was given it."""
    try:
        path = Path(text.strip()).expanduser()
    except RuntimeError:   # `~someone/...` for a user this computer does not have
        raise UserInputError(f"no home folder for {text.strip()[:60]!r}; give another path") from None
    if path.suffix.lower() != ".csv":
        raise UserInputError(f"give a file name ending in .csv, not {text.strip()[:60]!r}")
    if folder is not None and not path.is_absolute():
        path = Path(folder).expanduser() / path
    try:
        path = path.resolve()
        if path.is_dir():
            raise UserInputError(f"{path} is a folder; give a file name")
        if not path.parent.exists():
            raise UserInputError(f"folder {path.parent} does not exist")
    except OSError as exc:   # a name too long for the file system, a folder we may not read
        raise UserInputError(f"cannot use {text.strip()[:60]!r} as a file name: "
                             f"{exc.strerror or type(exc).__name__}") from None
    return path


# --- portfolio -----------------------------------------------------------------------------

def portfolio_screen(services: AppServices) -> None:
    """Menu 5."""
    services.cli.heading("Portfolio")
    services.cli.lines(services.tracker.portfolio_view(services.cli.width)[1])


# --- strategies and settings ---------------------------------------------------------------

def strategies_screen(services: AppServices) -> None:
    """Menu 7: the plug-ins found in kalshi_trading/strategies/."""
    services.cli.heading("Strategies")
    rows = [list(row) for row in services.strategies.listing()]
    if not rows:
        services.cli.write("No strategies installed (add a module to kalshi_trading/strategies/).")
        return
    services.cli.table((Column("name"), Column("description", flex=True)), rows)


def settings_rows(services: AppServices) -> list[list[str]]:
    rows = [[k, v] for k, v in services.config.describe()]
    rows.insert(2, ["Connected to", services.base_url])
    return rows


def settings_screen(services: AppServices) -> None:
    """Menu 8: read-only settings; secrets masked (the config never shows them)."""
    services.cli.heading("Settings (read-only; change them in .env)")
    services.cli.table((Column("setting"), Column("value", flex=True)), settings_rows(services))
