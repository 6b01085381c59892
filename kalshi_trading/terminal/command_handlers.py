"""One function per subcommand: (services, args) -> (JSON document, human lines).

Each calls the same data functions as the menu screens, so `markets --search rain` and menu 1 list
the same rows and `order` takes the same validated path to `TradeExecutor.submit` as menu 3. The
runner prints either the document (`--json`) or the lines.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Callable, TypeVar

from ..config import Mode
from ..errors import KalshiTradingError, NotFoundError, UserInputError
from ..executor.intents import build_intent
from ..executor.order_preview import SubmissionResult
from ..money import fmt_cash, fmt_count, fmt_dollars
from ..order_request import Action, OutcomeSide, TimeInForce
from ..portfolio.views import PNL_NOTES, REALIZED_MEANS
from ..trading_cli import Column, render_table
from .history_screens import HISTORY_COLUMNS, HISTORY_NOTE, csv_path, history_rows
from .input_parsing import (exclusive_end, parse_count, parse_date, parse_date_end, parse_expiry, parse_price,
                            parse_ticker)
from .json_views import (balance_json, dollars, fill_json, market_json, order_json, orderbook_json,
                         position_json, settlement_json, to_jsonable)
from .market_screens import (MARKET_COLUMNS, book_lines, cost_lines, detail_lines, market_details,
                             market_rows, my_resting_orders, search_markets, taker_rate, trade_cost)
from .order_screens import MARKET, ORDER_COLUMNS, confirm_order, order_rows, preview_lines, result_lines
from .services import AppServices
from .tables import COMMAND_HINT

__all__ = ["HANDLERS"]

Output = tuple[object, list[str]]
POSITIONS_NOTES = {
    "realized_pnl_dollars": REALIZED_MEANS + "; the same figure as pnl's",
    "exchange_realized_pnl_dollars": "the exchange's own realized_pnl_dollars; Kalshi does not say "
                                     "whether it takes fees off (the paper exchange's does not)",
    "position_fp": "signed: YES > 0, NO < 0",
}
WHOLE_ID = 32   # a UUID's hex digits: text this long is taken as a whole order id, not a start
T = TypeVar("T")


def _table(services: AppServices, columns: tuple[Column, ...], rows: list[list[str]], empty: str) -> list[str]:
    return render_table(columns, rows, services.cli.width, hint=COMMAND_HINT) if rows else [empty]


def markets(services: AppServices, args: argparse.Namespace) -> Output:
    found = search_markets(services.client, text=args.search, series=args.series and parse_ticker(args.series),
                           event=args.event and parse_ticker(args.event), status=args.status,
                           limit=max(1, args.limit))
    return ({"markets": [market_json(m) for m in found]},
            _table(services, MARKET_COLUMNS, market_rows(found), "No markets found."))


def market(services: AppServices, args: argparse.Namespace) -> Output:
    details = _known(lambda t: market_details(services.client, t), parse_ticker(args.ticker))
    series = details.series
    doc = {"market": market_json(details.market),
           "series": None if series is None else {"ticker": series.ticker, "title": series.title,
                                                  "fee_type": series.fee_type,
                                                  "fee_multiplier": str(series.fee_multiplier)}}
    return doc, detail_lines(details, services.cli.width)


def book(services: AppServices, args: argparse.Namespace) -> Output:
    tick = parse_ticker(args.ticker)
    ob = _known(services.client.get_orderbook, tick)
    doc = orderbook_json(ob)
    mine = [] if getattr(args, "json", False) else my_resting_orders(services.client, tick)
    lines = book_lines(ob, mine=mine)
    if args.count:
        count = parse_count(args.count)
        rate = taker_rate(services.client, services.client.get_market(tick))
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


def balance(services: AppServices, args: argparse.Namespace) -> Output:
    bal = services.client.get_balance()
    return balance_json(bal), [f"Balance: ${fmt_cash(bal.balance)} available"]


def positions(services: AppServices, args: argparse.Namespace) -> Output:
    """The exchange's positions, with realized P&L as `pnl` defines it (net of fees, from the
    fills and settlements), one meaning in every document: the exchange's own figure, whose fee
    treatment Kalshi leaves open, is kept as `exchange_realized_pnl_dollars`."""
    held = list(services.client.iter_positions())
    report = services.tracker.build_report() if held else None
    realized = {line.ticker: dollars(line.realized) for line in (report.markets if report else ())}
    rows = [[p.ticker, fmt_count(p.position), dollars(p.market_exposure) or "",
             realized.get(p.ticker) or "-", dollars(p.fees_paid) or ""] for p in held]
    cols = (Column("ticker", whole=True), Column("position", align=">"), Column("exposure", align=">"),
            Column("net realized", align=">"), Column("fees", align=">"))
    doc = {"market_positions": [{**position_json(p), "realized_pnl_dollars": realized.get(p.ticker),
                                 "exchange_realized_pnl_dollars": dollars(p.realized_pnl)} for p in held],
           "notes": POSITIONS_NOTES}
    notes = ["(position: YES > 0, NO < 0; net realized: after fees, as pnl shows it)"]
    if report is not None and report.warnings:
        notes.append(f"({len(report.warnings)} warning(s) about these figures: see pnl)")
    return doc, _table(services, cols, rows, "No positions.") + notes


def orders(services: AppServices, args: argparse.Namespace) -> Output:
    found = list(services.client.iter_orders(status=args.status, ticker=args.ticker and parse_ticker(args.ticker)))
    tifs = services.history.placed_time_in_force()   # Kalshi's Order does not say; the log does
    rows = order_rows(found, services.history.placed_as(), tifs)
    for row, o in zip(rows, found):
        row[1] = o.order_id  # in full: it is what `cancel ORDER_ID` takes
    cols = tuple(Column(c.header, whole=True) if c.header == "order id" else c for c in ORDER_COLUMNS)
    cols += (Column("status", drop=1),)
    rows = [row + [o.status] for row, o in zip(rows, found)]
    documents = [order_json(o) for o in found]
    for doc, o in zip(documents, found):
        doc["time_in_force"] = o.time_in_force or tifs.get(o.order_id, "")
    return {"orders": documents}, _table(services, cols, rows, "No orders.")


def fills(services: AppServices, args: argparse.Namespace) -> Output:
    found = list(services.client.iter_fills(ticker=args.ticker and parse_ticker(args.ticker)))
    cols = (Column("time (UTC)"), Column("ticker", whole=True), Column("side"), Column("count", align=">"),
            Column("YES price", align=">"), Column("fee", align=">"), Column("taker", drop=1))
    rows = [[f.created_time.strftime("%Y-%m-%d %H:%M:%S") if f.created_time else "", f.ticker,
             f.book_side.value, fmt_count(f.count), fmt_dollars(f.yes_price), dollars(f.fee_cost) or "",
             "yes" if f.is_taker else "no"] for f in found]
    return {"fills": [fill_json(f) for f in found]}, _table(services, cols, rows, "No fills.")


def settlements(services: AppServices, args: argparse.Namespace) -> Output:
    found = list(services.client.iter_settlements())
    cols = (Column("ticker", whole=True), Column("result"), Column("YES", align=">"), Column("NO", align=">"),
            Column("revenue", align=">"), Column("fees", align=">"))
    rows = [[s.ticker, s.market_result, fmt_count(s.yes_count), fmt_count(s.no_count),
             fmt_dollars(s.revenue), dollars(s.fee_cost) or ""] for s in found]
    return {"settlements": [settlement_json(s) for s in found]}, _table(services, cols, rows, "No settlements.")


def pnl(services: AppServices, args: argparse.Namespace) -> Output:
    doc, lines = services.tracker.portfolio_view(services.cli.width)
    return {**doc, "notes": PNL_NOTES}, lines


def _range(args: argparse.Namespace) -> tuple:
    start = parse_date(args.date_from, what="--from") if args.date_from else None
    end = parse_date_end(args.date_to, what="--to") if args.date_to else None
    if start and end and end < start:
        raise UserInputError("--to is before --from")
    return start, exclusive_end(end)


def history(services: AppServices, args: argparse.Namespace) -> Output:
    start, end = _range(args)
    kinds = [args.event_type] if args.event_type else None
    records = services.history.query(start=start, end=end, ticker=args.ticker and parse_ticker(args.ticker),
                            event_types=kinds)
    lines = _table(services, HISTORY_COLUMNS, history_rows(records), "No events match.")
    return {"events": to_jsonable(records)}, lines + ([HISTORY_NOTE] if records else [])


def export(services: AppServices, args: argparse.Namespace) -> Output:
    """The menu's rules: only a .csv file (so --out never hits the trade log), a relative name in
    the export folder, and an existing file replaced only when asked (here: --force)."""
    start, end = _range(args)
    out = csv_path(args.out, services.config.log_dir)
    replaced = out.exists()
    if replaced and not args.force:
        raise UserInputError(f"{out} exists; add --force to replace it (nothing was exported)")
    rows = services.history.export(out, start=start, end=end, ticker=args.ticker and parse_ticker(args.ticker))
    note = " (replaced the file that was there)" if replaced else ""
    return {"rows": rows, "path": str(out), "replaced": replaced}, [f"Exported {rows} row(s) to {out}{note}"]


def order(services: AppServices, args: argparse.Namespace) -> Output:
    """Preview, confirm (unless --yes), submit: the same path as menu 3."""
    mkt = _known(services.client.get_market, parse_ticker(args.ticker))
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
    expiry = parse_expiry(args.expires, now=services.clock()) if args.expires else None
    intent = build_intent(mkt, action=action, outcome=outcome, count=count, price=price, tif=tif,
                          expiration_time=expiry, post_only=args.post_only, reduce_only=args.reduce_only,
                          source=MARKET if args.market else "command")
    preview = services.executor.preview(intent)
    if not args.yes:
        services.cli.lines(preview_lines(intent, preview, services.cli.width))
        if preview.refusal is not None and not services.cli.confirm(
                "The exchange will refuse this order as the book stands. Send it anyway?"):
            raise UserInputError("not sent: the exchange would refuse it (see REFUSED above)")
        if (preview.refusal is None or services.config.mode is Mode.PROD) and \
                not confirm_order(services.cli, services.config.mode, mkt.ticker):
            raise UserInputError("not confirmed; nothing was sent")
    before = _balance_or_none(services)
    result = services.executor.submit_interactive(intent)
    after = _balance_or_none(services) if before is not None else None
    return {"order": _result_json(result)}, result_lines(result, before, after)


def _balance_or_none(services: AppServices) -> Decimal | None:
    """The balance for the before/after line of `order`; a failed read only leaves that line out."""
    try:
        return services.client.get_balance().balance
    except KalshiTradingError:
        return None


def _result_json(result: SubmissionResult) -> dict:
    """A `SubmissionResult` in the names of Kalshi's create-order response, plus our `status`."""
    def fp(value: Decimal | None, fmt: Callable[[Decimal], str | None]) -> str | None:
        return None if value is None else fmt(value)
    return {"order_id": result.order_id, "client_order_id": result.client_order_id,
            "status": result.status, "already_placed": result.found_existing,
            "warnings": list(result.warnings),
            "fill_count": fp(result.fill_count, fmt_count),
            "remaining_count": fp(result.remaining_count, fmt_count),
            "average_fill_price": fp(result.average_fill_price, dollars),
            "average_fee_paid": fp(result.average_fee_paid, dollars)}


def cancel(services: AppServices, args: argparse.Namespace) -> Output:
    if args.order_id:
        order_id = _resting_order_id(services, args.order_id)
        outcome = services.executor.cancel(order_id)
        doc = {"order_id": order_id, "reduced_by_fp": fmt_count(outcome.reduced_by)}
        return doc, [f"Canceled {order_id}."]
    ticker = args.ticker and parse_ticker(args.ticker)
    resting = list(services.client.iter_orders(status="resting", ticker=ticker))
    if not resting:
        return {"canceled": 0}, ["No resting orders."]
    if not args.yes:
        where = f" on {ticker}" if ticker else ""
        prompt = f"Cancel ALL {len(resting)} resting order(s){where}?"
        if services.config.mode is Mode.PROD:
            ok = services.cli.confirm_typed(prompt, "CANCEL")
        else:
            ok = services.cli.confirm(prompt)
        if not ok:
            raise UserInputError("not confirmed; nothing was canceled")
    canceled = services.executor.cancel_all(ticker)
    return {"canceled": canceled}, [f"Canceled {canceled} order(s)."]


def _resting_order_id(services: AppServices, text: str) -> str:
    """The resting order `text` names: its whole id or any unique start of it, since the menu's
    order list shows only the first 8 characters. A whole id that rests nowhere goes on to the
    executor, which says what became of that order."""
    wanted = text.strip()
    if not wanted:   # "" starts every id: it must never pick the only resting order
        raise UserInputError("give an order id, or --all (see: orders --status resting)")
    resting = [o.order_id for o in services.client.iter_orders(status="resting")]
    if wanted in resting:
        return wanted
    matches = [order_id for order_id in resting if order_id.lower().startswith(wanted.lower())]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UserInputError(f"{len(matches)} resting orders have ids starting with {wanted!r}; "
                             "give more of the id (see: orders --status resting)")
    if len(wanted) >= WHOLE_ID:
        return wanted
    raise UserInputError(f"no resting order has an id starting with {wanted!r} "
                         "(see: orders --status resting)")


HANDLERS: dict[str, Callable[[AppServices, argparse.Namespace], Output]] = {
    "markets": markets, "market": market, "book": book, "balance": balance, "positions": positions,
    "orders": orders, "fills": fills, "settlements": settlements, "pnl": pnl, "history": history,
    "export": export, "order": order, "cancel": cancel,
}
