"""Crowd order books built from what recordings actually hold: a top of book, perhaps a depth.

Recordings rarely carry full books. The crypto snapshots give the best YES bid and ask plus the
total contracts resting on each side; static market records give only the best bid and ask. The
paper exchange needs price levels to match against, so this module spreads a side's depth over a
few levels with one documented, deterministic shape (see `ladder`).
"""

from __future__ import annotations

from decimal import Decimal

from ...money import CENT, COUNT_QUANTUM, ONE, ZERO, PriceGrid, PriceRange, floor_to, fmt_count, fmt_dollars
from ..universe import BookSnapshot, Level

__all__ = ["LADDER_WEIGHTS", "MODEST_SIDE_DEPTH", "TAPERED_DECI_CENT", "ladder", "book_from_top",
           "top_of_book_fields"]

# Share of a side's depth at each level, best price first: the top holds 1/15, the fifth 5/15.
LADDER_WEIGHTS: tuple[int, ...] = (1, 2, 3, 4, 5)
# Contracts per side of the book built around a static market's recorded best bid and ask.
MODEST_SIDE_DEPTH = Decimal("500")
# Kalshi's `tapered_deci_cent` grid (0.1c steps below 10c and above 90c, 1c between); the crypto
# 15-minute recordings quote on it (e.g. 0.073, 0.981).
TAPERED_DECI_CENT: tuple[PriceRange, ...] = (
    PriceRange(Decimal("0.0000"), Decimal("0.1000"), Decimal("0.0010")),
    PriceRange(Decimal("0.1000"), Decimal("0.9000"), Decimal("0.0100")),
    PriceRange(Decimal("0.9000"), Decimal("1.0000"), Decimal("0.0010")),
)


def ladder(top: Decimal, depth: Decimal, grid: PriceGrid) -> tuple[Level, ...]:
    """Bids from `top` down: up to five levels one cent apart (snapped down onto `grid`).

    `depth` (floored to 0.01 contracts) is split by `LADDER_WEIGHTS`, each share floored to 0.01;
    the deepest level takes the rounding remainder, so the counts sum to the floored depth exactly.
    Near the grid's edge fewer levels fit and the weights are renormalised over those.
    Returned ascending by price (best bid last), as `BookSnapshot` stores sides.
    """
    depth = floor_to(depth, COUNT_QUANTUM)
    if depth <= ZERO or not grid.contains(top):
        return ()
    prices = [top]
    while len(prices) < len(LADDER_WEIGHTS):
        lower = grid.snap(prices[-1] - CENT, up=False)
        if lower >= prices[-1] or not grid.contains(lower):
            break
        prices.append(lower)
    weights = LADDER_WEIGHTS[:len(prices)]
    counts = [floor_to(depth * weight / sum(weights), COUNT_QUANTUM) for weight in weights]
    counts[-1] += depth - sum(counts)
    levels = [(price.quantize(Decimal("0.0001")), count.quantize(COUNT_QUANTUM))
              for price, count in zip(prices, counts) if count > ZERO]
    return tuple(reversed(levels))


def book_from_top(yes_bid: Decimal | None, yes_ask: Decimal | None, grid: PriceGrid, *,
                  yes_depth: Decimal, no_depth: Decimal) -> BookSnapshot:
    """A book whose best YES bid is `yes_bid` and best YES ask is `yes_ask` (a NO bid at 1-ask).

    A price outside (0, 1) means that side is empty. Off-grid prices are snapped away from the
    spread (bid down, ask up). A locked or crossed quote keeps only the YES bids. The NO side is
    laddered on the same grid, which is symmetric for every structure Kalshi uses.
    """
    yes_top = grid.snap(yes_bid, up=False) if yes_bid is not None and ZERO < yes_bid < ONE else None
    ask = grid.snap(yes_ask, up=True) if yes_ask is not None and ZERO < yes_ask < ONE else None
    if yes_top is not None and ask is not None and ask <= yes_top:
        ask = None
    yes_side = ladder(yes_top, yes_depth, grid) if yes_top is not None else ()
    no_side = ladder(ONE - ask, no_depth, grid) if ask is not None else ()
    return BookSnapshot(yes_bids=yes_side, no_bids=no_side)


def top_of_book_fields(book: BookSnapshot) -> dict[str, str]:
    """The Market JSON's top-of-book fields for `book`; an empty side reads "0.0000"."""
    zero = fmt_dollars(ZERO)
    best_yes = book.yes_bids[-1] if book.yes_bids else None
    best_no = book.no_bids[-1] if book.no_bids else None
    return {
        "yes_bid_dollars": fmt_dollars(best_yes[0]) if best_yes else zero,
        "yes_bid_size_fp": fmt_count(best_yes[1]) if best_yes else fmt_count(ZERO),
        "yes_ask_dollars": fmt_dollars(ONE - best_no[0]) if best_no else zero,
        "yes_ask_size_fp": fmt_count(best_no[1]) if best_no else fmt_count(ZERO),
        "no_bid_dollars": fmt_dollars(best_no[0]) if best_no else zero,
        "no_ask_dollars": fmt_dollars(ONE - best_yes[0]) if best_yes else zero,
    }
