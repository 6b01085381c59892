"""Rebuild the bundled market data from the real recordings in ../shared/data.

Run from the repository root (with ../shared beside it):

    python3 kalshi_trading/paper/data/build_bundle.py [--shared PATH]

It writes, next to this script:
- `xrp15m_replay.json`: the KXXRP15M markets that can be replayed from open to settlement, each
  with its top-of-book path, recorded trades and result (see DATA_SOURCES.md for every rule);
- `recorded/<source>/*.json`: the REST responses the offline exchange browses, re-serialized
  compactly (content unchanged).
The output is deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERIES = "KXXRP15M"
MARKET_SECONDS = 900
EDT = timezone(timedelta(hours=-4))  # every recorded ticker is from August 2026 (US Eastern daylight time)
GOLDEN_FILES = ("series_list_response.json", "series_single_response.json",
                "markets_list_response.json", "market_single_response.json",
                "event_single_response.json", "events_list_response.json",
                "events_multivariate_list_response.json", "orderbook_response.json",
                "trades_list_response.json")
CODETILLDAWN_FILES = ("API_GetEvents.json",)
DECISIVE = Decimal("0.95")  # a last recorded price this close to 1 (or 0) decides an unlabelled market


def dec(value: float | str) -> Decimal:
    """A recorded float as the decimal it was written as (repr round-trips the shortest form)."""
    return Decimal(repr(value) if isinstance(value, float) else str(value))


def text(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros (`0.54`, `24202.82`, `0`)."""
    normal = value.normalize()
    return format(normal, "f") if normal != 0 else "0"


def close_of(ticker: str) -> datetime:
    """`KXXRP15M-26AUG170145-45` closes at 01:45 US Eastern on 2026-08-17."""
    part = ticker.split("-")[1]
    local = datetime.strptime(part, "%y%b%d%H%M").replace(tzinfo=EDT)
    return local.astimezone(timezone.utc)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def snapshot_paths(rows: list[dict]) -> dict[str, list[list]]:
    """[offset_ms, yb, ya, yes_depth, no_depth] per ticker, consecutive duplicates dropped."""
    paths: dict[str, list[list]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["ticker"], r["ts"])):
        opened = close_of(row["ticker"]).timestamp() - MARKET_SECONDS
        offset = int(round((row["ts"] - opened) * 1000))
        if offset >= MARKET_SECONDS * 1000 or row["yb"] is None or row["ya"] is None:
            continue
        point = [max(offset, 0), text(dec(row["yb"])), text(dec(row["ya"])),
                 text(dec(row["yes_depth"])), text(dec(row["no_depth"]))]
        _append_changed(paths[row["ticker"]], point)
    return paths


def training_paths(rows: list[dict], side_depth: Decimal) -> tuple[dict[str, list[list]], dict[str, str]]:
    """Paths rebuilt from the training rows' features, and each market's labelled outcome.

    Top of book = yes_mid -/+ spread/2. The rows carry no depth, only `book_imbalance`, so each side
    gets the default side depth scaled by (1 +/- imbalance).
    """
    paths: dict[str, list[list]] = defaultdict(list)
    outcomes: dict[str, str] = {}
    for row in rows:
        outcomes[row["ticker"]] = row["outcome"]
    ordered = sorted(rows, key=lambda r: (r["ticker"], r["features"]["time_norm"]))
    for row in ordered:
        feats = row["features"]
        mid, spread = dec(feats["yes_mid"]), dec(feats["spread"])
        imbalance = dec(feats["book_imbalance"])
        offset = int(round(float(dec(feats["time_norm"]) * MARKET_SECONDS * 1000)))
        if offset >= MARKET_SECONDS * 1000:
            continue
        point = [offset, text(mid - spread / 2), text(mid + spread / 2),
                 text((side_depth * (1 + imbalance)).quantize(Decimal("0.01"))),
                 text((side_depth * (1 - imbalance)).quantize(Decimal("0.01")))]
        _append_changed(paths[row["ticker"]], point)
    return paths, outcomes


def _append_changed(path: list[list], point: list) -> None:
    if not path or path[-1][1:] != point[1:]:
        path.append(point)


def trade_lists(rows: list[dict]) -> dict[str, list[list]]:
    """[offset_ms, yes_price, count, taker_side] per ticker; prints at or after close are dropped."""
    trades: dict[str, list[list]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["ticker"], r["ts"])):
        opened = close_of(row["ticker"]).timestamp() - MARKET_SECONDS
        offset = int(round((row["ts"] - opened) * 1000))
        if 0 <= offset < MARKET_SECONDS * 1000:
            trades[row["ticker"]].append([offset, text(dec(row["yes_price"])),
                                          text(dec(row["count"])), row["taker_side"]])
    return trades


def median_side_depth(rows: list[dict]) -> Decimal:
    depths = sorted(dec(r[k]) for r in rows for k in ("yes_depth", "no_depth") if r[k])
    return depths[len(depths) // 2].quantize(Decimal("0.01"))


def inferred_result(path: list[list], trades: list[list]) -> str | None:
    """yes/no when the last recorded price is decisive (>= 0.95 or <= 0.05), else None."""
    last = dec(trades[-1][1]) if trades else (dec(path[-1][1]) + dec(path[-1][2])) / 2
    if last >= DECISIVE:
        return "yes"
    if last <= 1 - DECISIVE:
        return "no"
    return None


def build_replay(source: Path) -> dict:
    folder = source / "kalshi-crypto-15m-dataset" / SERIES
    snapshots = read_jsonl(folder / "raw_snapshots.jsonl")
    side_depth = median_side_depth(snapshots)
    from_snaps = snapshot_paths(snapshots)
    from_training, outcomes = training_paths(read_jsonl(folder / "model_training_data.jsonl"), side_depth)
    trades = trade_lists(read_jsonl(folder / "trades.jsonl"))
    markets = []
    for ticker in sorted(set(from_snaps) | set(from_training)):
        path = from_snaps.get(ticker) or from_training[ticker]
        book_source = "raw_snapshots" if ticker in from_snaps else "model_training_data"
        result, result_source = outcomes.get(ticker), "model_training_data"
        if result is None and trades.get(ticker):
            result, result_source = inferred_result(path, trades[ticker]), "inferred_from_last_trade"
        if result is None:
            continue
        markets.append({"ticker": ticker, "event_ticker": ticker.rsplit("-", 1)[0],
                        "close_time": close_of(ticker).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "result": result, "result_source": result_source,
                        "book_source": book_source, "path": path, "trades": trades.get(ticker, [])})
    # Markets with the real recorded depth first (in recorded order): they open first on the replay clock.
    markets.sort(key=lambda m: (m["book_source"] != "raw_snapshots", m["ticker"]))
    return {"format": 1, "series_ticker": SERIES, "market_seconds": MARKET_SECONDS,
            "default_side_depth": str(side_depth),
            "source": "Johnny-God/kalshi-crypto-15m-dataset @ ad7ff884 (CC BY 4.0), KXXRP15M",
            "path_columns": ["offset_ms", "yes_bid", "yes_ask", "yes_depth", "no_depth"],
            "trade_columns": ["offset_ms", "yes_price", "count", "taker_side"],
            "markets": markets}


def copy_compact(source: Path, target: Path, names: tuple[str, ...]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        with (source / name).open(encoding="utf-8") as handle:
            content = json.load(handle)
        (target / name).write_text(json.dumps(content, separators=(",", ":"), ensure_ascii=False) + "\n",
                                   encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[3] / "shared",
                        help="the shared folder holding data/ (default: ../shared beside the repo)")
    args = parser.parse_args()
    data = args.shared / "data"
    replay = build_replay(data)
    (HERE / "xrp15m_replay.json").write_text(json.dumps(replay, separators=(",", ":")) + "\n",
                                             encoding="utf-8")
    copy_compact(data / "kalshi-starter-code-python-golden",
                 HERE / "recorded" / "kalshi-starter-code-python-golden", GOLDEN_FILES)
    copy_compact(data / "CodeTillDawn2-kalshi-trading-bot",
                 HERE / "recorded" / "CodeTillDawn2-kalshi-trading-bot", CODETILLDAWN_FILES)
    points = sum(len(m["path"]) for m in replay["markets"])
    print(f"{len(replay['markets'])} replay markets, {points} book points, "
          f"default side depth {replay['default_side_depth']}")


if __name__ == "__main__":
    main()
