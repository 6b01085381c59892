"""A few thousand seeded random lines into the real menu: no traceback, no unexpected error, and the
session still ends cleanly. Lines mix menu keys, answers that are valid somewhere, and garbage."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from cli_harness import (config_for, drive,  # noqa: F401 (work_in_tmp is an autouse fixture)
                         terminal_exchange, ticker, work_in_tmp)

VALID_BITS = ["1", "2", "3", "4", "5", "6", "7", "8", "m", "b", "p", "o", "f", "h", "s", "t", "k", "e",
              "c", "a", "d", "x", "y", "n", "yes", "no", "buy", "sell", "gtc", "ioc", "fok", "market",
              "10", "1", "0.5", "2.25", "0.30", "42c", "0.44", "30m", "2h", "", "", "", "open", "closed",
              "rain", "KXTERM", "KXRAIN", "2026-01-01", "fill"] + [ticker("fuzz"), ticker("fuzz2")] * 4
GARBAGE = ["0", "-1", "1.234", "0.425", "abc", "🙂", "\t", "   ", "9" * 40, "%s%s%n", "'; DROP TABLE",
           "\x1b[2J", "1e999", "nan", "-0", "0x10", "None", "../../etc/passwd", "Ω" * 300]


def random_lines(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.65:
            lines.append(rng.choice(VALID_BITS))
        elif roll < 0.9:
            lines.append(rng.choice(GARBAGE))
        else:
            lines.append("".join(chr(rng.randint(32, 0x2FF)) for _ in range(rng.randint(1, 12))))
    # "0" would leave the menu early: keep it out so the whole feed is consumed
    return [line for line in lines if line.strip() != "0"]


PLACE_FIELDS = [[ticker("fuzz"), ticker("fuzz2")], ["b", "s", "buy", "sell"], ["y", "n", "yes", "no"],
                ["1", "2.5", "10"], ["0.30", "42c", "0.45", "0.58", "market"], ["gtc", "ioc", "fok", ""],
                ["", "30m"], ["", "n", "y"], ["", "n"], ["y", "y", "n", ""]]


def episodes(seed: int, count: int) -> list[str]:
    """Whole screens walked with a typo or two at each prompt, so orders really get sent,
    amended and cancelled between the garbage."""
    rng = random.Random(seed)
    lines: list[str] = []
    for _ in range(count):
        screen = rng.choice(["3", "3", "3", "4", "2", "6"])
        lines.append(screen)
        fields = PLACE_FIELDS if screen == "3" else [[rng.choice(["a", "c", "d", "x", ""])], ["1"],
                                                     ["0.31", "", "2"], ["3", ""], ["y"], [""]]
        for options in fields:
            lines += [rng.choice(GARBAGE[2:]) for _ in range(rng.choice([0, 0, 1, 2]))]
            lines.append(rng.choice(options))
    return lines


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory):
    with terminal_exchange(tmp_path_factory, "fuzz-exchange", ["fuzz", "fuzz2"]) as running:
        yield running


@pytest.mark.parametrize("seed", [1, 2])
def test_random_lines_never_crash_the_menu(exchange, tmp_path: Path, seed: int) -> None:
    config = config_for(exchange, tmp_path)
    lines = random_lines(seed, 1500)
    started = time.monotonic()
    out = drive(config, "\n".join(lines) + "\n")
    assert "Traceback" not in out
    assert "unexpected" not in out, [l for l in out.splitlines() if "unexpected" in l][:3]
    assert out.rstrip().endswith("Bye.")
    assert not (config.log_dir / "errors.log").exists() or \
        "Traceback" not in (config.log_dir / "errors.log").read_text()
    assert time.monotonic() - started < 30


def test_walked_screens_with_typos_send_real_orders_and_never_crash(exchange, tmp_path: Path) -> None:
    config = config_for(exchange, tmp_path)
    out = drive(config, "\n".join(episodes(7, 120)) + "\n")
    assert "Traceback" not in out and "unexpected" not in out
    assert out.count("Sent: ") >= 5  # the walk really reached the exchange
    assert out.rstrip().endswith("Bye.")
