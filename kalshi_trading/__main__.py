"""`python -m kalshi_trading [subcommand ...]`: kept tiny so `--help` starts fast."""

from __future__ import annotations

import sys


def _run() -> int:
    from .commands import main  # imported lazily: heavy modules load only when needed

    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(_run())
