"""One function per subcommand: (app, args) -> (JSON document, human lines).

Each calls the same data functions as the menu screens, so `markets --search rain` and menu 1 list
the same rows and `order` takes the same validated path to `TradeExecutor.submit` as menu 3. The
runner prints either the document (`--json`) or the lines.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

from ..config import Mode
from ..errors import KalshiTradingError, NotFoundError, UserInputError
from .input_parsing import (exclusive_end, parse_count, parse_date, parse_date_end, parse_expiry, parse_price,
                            parse_ticker)
from .json_views import (balance_json, cash, dollars, fill_json, market_json, order_json, orderbook_json,
                         position_json, settlement_json, to_jsonable)
from ..money import fmt_count, fmt_dollars
from ..order_request import Action, OutcomeSide, TimeInForce
from .history_screens import (HISTORY_COLUMNS, HISTORY_NOTE, csv_path, export_history, history_rows,
                              portfolio_view, query_history)
from .market_screens import (MARKET_COLUMNS, book_lines, cost_lines, detail_lines, market_details,
                              market_rows, search_markets, taker_rate, trade_cost)
from .order_screens import (MARKET, ORDER_COLUMNS, build_intent, confirm_order, order_rows,
                             placed_as, preview_lines, result_lines, submit_or_explain)
from ..trading_cli import Column, render_table

if TYPE_CHECKING:
    from ..main_app import MainApp

__all__ = ["HANDLERS"]

Output = tuple[object, list[str]]
T = TypeVar("T")


def _table(app: "MainApp", columns: tuple[Column, ...], rows: list[list[str]], empty: str) -> list[str]:
    return render_table(columns, rows, app.cli.width) if rows else [empty]


def markets(app: "MainApp", args: argparse.Namespace) -> Output:
    found = search_markets(app.client, text=args.search, series=args.series and parse_ticker(args.series),
                           event=args.event and parse_ticker(args.event), status=args.status,
                           limit=max(1, args.limit))
    return ({"markets": [market_json(m) for m in found]},
            _table(app, MARKET_COLUMNS, market_rows(found), "No markets found."))


def market(app: "MainApp", args: argparse.Namespace) -> Output:
    details = _known(lambda t: market_details(app.client, t), parse_ticker(args.ticker))
    series = details.series
    doc = {"market": market_json(details.market),
           "series": None if series is None else {"ticker": series.ticker, "title": series.title,
                                                  "fee_type": series.fee_type,
                                                  "fee_multiplier": str(series.fee_multiplier)}}
    return doc, detail_lines(details, app.cli.width)


def book(app: "MainApp", args: argparse.Namespace) -> Output:
    tick = parse_ticker(args.ticker)
    ob = _known(app.client.get_orderbook, tick)
    doc = orderbook_json(ob)
    lines = book_lines(ob)
    if args.count:
        count = parse_count(args.count)
        rate = taker_rate(app.client, app.client.get_market(tick))
        doc["cost_to_trade"] = [trade_cost(ob, outcome, buying, count, rate)
                                for outcome in (OutcomeSide.YES, OutcomeSide.NO) for buying in (True, False)]
        lines += cost_lines(ob, count, rate)
    return doc, lines


def _known(fetch: Callable[[str], T], tick: str) -> T:
    """`fetch(tick)`, with a 404 said as a trader would: `unknown market X` (as the menu says)."""
    try:
        return fetch(tick)
    except NotFoundError:
        raise UserInputError(f"unknown market {tick} (search with: markets --search WORDS)") from None


def balance(app: "MainApp", args: argparse.Namespace) -> Output:
    bal = app.client.get_balance()
    return balance_json(bal), [f"Balance: ${cash(bal.balance)} available"]


def positions(app: "MainApp", args: argparse.Namespace) -> Output:
    held = list(app.client.iter_positions())
    rows = [[p.ticker, fmt_count(p.position), dollars(p.market_exposure) or "", dollars(p.realized_pnl) or "",
             dollars(p.fees_paid) or ""] for p in held]
    cols = (Column("ticker", whole=True), Column("position", align=">"), Column("exposure", align=">"),
            Column("realized", align=">"), Column("fees", align=">"))
    return ({"market_positions": [position_json(p) for p in held]},
            _table(app, cols, rows, "No positions.") + ["(position: YES > 0, NO < 0)"])


def orders(app: "MainApp", args: argparse.Namespace) -> Output:
    found = list(app.client.iter_orders(status=args.status, ticker=args.ticker and parse_ticker(args.ticker)))
    rows = order_rows(found, placed_as(app))
    for row, o in zip(rows, found):
        row[1] = o.order_id  # in full: it is what `cancel ORDER_ID` takes
    cols = tuple(Column(c.header, whole=True) if c.header == "order id" else c for c in ORDER_COLUMNS)
    cols += (Column("status", drop=1),)
    rows = [row + [o.status] for row, o in zip(rows, found)]
    return {"orders": [order_json(o) for o in found]}, _table(app, cols, rows, "No orders.")


def fills(app: "MainApp", args: argparse.Namespace) -> Output:
    found = list(app.client.iter_fills(ticker=args.ticker and parse_ticker(args.ticker)))
    cols = (Column("time (UTC)"), Column("ticker", whole=True), Column("side"), Column("count", align=">"),
            Column("YES price", align=">"), Column("fee", align=">"), Column("taker", drop=1))
    rows = [[f.created_time.strftime("%Y-%m-%d %H:%M:%S") if f.created_time else "", f.ticker,
             f.book_side.value, fmt_count(f.count), fmt_dollars(f.yes_price), dollars(f.fee_cost) or "",
             "yes" if f.is_taker else "no"] for f in found]
    return {"fills": [fill_json(f) for f in found]}, _table(app, cols, rows, "No fills.")


def settlements(app: "MainApp", args: argparse.Namespace) -> Output:
    found = list(app.client.iter_settlements())
    cols = (Column("ticker", whole=True), Column("result"), Column("YES", align=">"), Column("NO", align=">"),
            Column("revenue", align=">"), Column("fees", align=">"))
    rows = [[s.ticker, s.market_result, fmt_count(s.yes_count), fmt_count(s.no_count),
             fmt_dollars(s.revenue), dollars(s.fee_cost) or ""] for s in found]
    return {"settlements": [settlement_json(s) for s in found]}, _table(app, cols, rows, "No settlements.")


def pnl(app: "MainApp", args: argparse.Namespace) -> Output:
    return portfolio_view(app)


def _range(args: argparse.Namespace) -> tuple:
    start = parse_date(args.date_from, what="--from") if args.date_from else None
    end = parse_date_end(args.date_to, what="--to") if args.date_to else None
    if start and end and end < start:
        raise UserInputError("--to is before --from")
    return start, exclusive_end(end)


def history(app: "MainApp", args: argparse.Namespace) -> Output:
    start, end = _range(args)
    kinds = [args.event_type] if args.event_type else None
    records = query_history(app, start=start, end=end, ticker=args.ticker and parse_ticker(args.ticker),
                            event_types=kinds)
    lines = _table(app, HISTORY_COLUMNS, history_rows(records), "No events match.")
    return {"events": to_jsonable(records)}, lines + ([HISTORY_NOTE] if records else [])


def export(app: "MainApp", args: argparse.Namespace) -> Output:
    start, end = _range(args)
    if Path(args.out).expanduser().is_dir():
        raise UserInputError(f"--out {args.out} is a folder; give a file name")
    out = csv_path(args.out)    # the menu's rule: only a .csv file, so --out never hits the trade log
    replaced = out.exists()
    rows = export_history(app, out, start=start, end=end, ticker=args.ticker and parse_ticker(args.ticker))
    note = " (replaced the file that was there)" if replaced else ""
    return {"rows": rows, "path": str(out), "replaced": replaced}, [f"Exported {rows} row(s) to {out}{note}"]


def order(app: "MainApp", args: argparse.Namespace) -> Output:
    """Preview, confirm (unless --yes), submit: the same path as menu 3."""
    mkt = _known(app.client.get_market, parse_ticker(args.ticker))
    if not mkt.is_open:
        raise UserInputError(f"{mkt.ticker} is {mkt.status}; orders need an open market")
    outcome, action = OutcomeSide(args.side), Action(args.action)
    count = parse_count(args.count, what="--count")
    if args.market:
        price = parse_price(args.worst_price, allow_cents=False, what="--worst-price")
        tif = TimeInForce.parse(args.tif) if args.tif else TimeInForce.IOC
    else:
        price = parse_price(args.price, allow_cents=False, what="--price")
        tif = TimeInForce.parse(args.tif) if args.tif else TimeInForce.GTC
    expiry = parse_expiry(args.expires, now=app.clock()) if args.expires else None
    intent = build_intent(mkt, action=action, outcome=outcome, count=count, price=price, tif=tif,
                          expiration_time=expiry, post_only=args.post_only, reduce_only=args.reduce_only,
                          source=MARKET if args.market else "command")
    preview = app.executor.preview(intent)
    if not args.yes:
        app.cli.lines(preview_lines(intent, preview, app.cli.width))
        if not confirm_order(app.cli, app.config.mode, mkt.ticker):
            raise UserInputError("not confirmed; nothing was sent")
    before = _balance_or_none(app)
    result = submit_or_explain(app, intent)
    after = _balance_or_none(app) if before is not None else None
    return {"order": _result_json(result)}, result_lines(result, before, after)


def _balance_or_none(app: "MainApp") -> Decimal | None:
    """The balance for the before/after line of `order`; a failed read only leaves that line out."""
    try:
        return app.client.get_balance().balance
    except KalshiTradingError:
        return None


def _result_json(result: object) -> dict:
    """A `SubmissionResult` in the names of Kalshi's create-order response, plus our `status`."""
    def fp(name: str, fmt: Callable[[Decimal], str | None]) -> str | None:
        value = getattr(result, name, None)
        return fmt(value) if isinstance(value, Decimal) else None
    return {"order_id": getattr(result, "order_id", None),
            "client_order_id": getattr(result, "client_order_id", None),
            "status": getattr(result, "status", None),
            "already_placed": bool(getattr(result, "found_existing", False)),
            "warnings": list(getattr(result, "warnings", ())),
            "fill_count": fp("fill_count", fmt_count), "remaining_count": fp("remaining_count", fmt_count),
            "average_fill_price": fp("average_fill_price", dollars),
            "average_fee_paid": fp("average_fee_paid", dollars)}


def cancel(app: "MainApp", args: argparse.Namespace) -> Output:
    if args.order_id:
        outcome = app.executor.cancel(args.order_id.strip())
        reduced = getattr(outcome, "reduced_by", None)
        doc = {"order_id": args.order_id.strip(),
               "reduced_by_fp": fmt_count(reduced) if isinstance(reduced, Decimal) else None}
        return doc, [f"Canceled {args.order_id.strip()}."]
    ticker = args.ticker and parse_ticker(args.ticker)
    resting = list(app.client.iter_orders(status="resting", ticker=ticker))
    if not resting:
        return {"canceled": 0}, ["No resting orders."]
    if not args.yes:
        where = f" on {ticker}" if ticker else ""
        prompt = f"Cancel ALL {len(resting)} resting order(s){where}?"
        if app.config.mode is Mode.PROD:
            ok = app.cli.confirm_typed(prompt, "CANCEL")
        else:
            ok = app.cli.confirm(prompt)
        if not ok:
            raise UserInputError("not confirmed; nothing was canceled")
    canceled = app.executor.cancel_all(ticker)
    return {"canceled": canceled}, [f"Canceled {canceled} order(s)."]


HANDLERS: dict[str, Callable[["MainApp", argparse.Namespace], Output]] = {
    "markets": markets, "market": market, "book": book, "balance": balance, "positions": positions,
    "orders": orders, "fills": fills, "settlements": settlements, "pnl": pnl, "history": history,
    "export": export, "order": order, "cancel": cancel,
}
