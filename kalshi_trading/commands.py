"""Placeholder entry point; the trading terminal issue replaces it with the real subcommands."""

from __future__ import annotations


def main(argv: list[str]) -> int:
    print("kalshi_trading: the terminal is not built yet.")
    return 0
