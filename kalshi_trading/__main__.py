"""`python -m kalshi_trading [subcommand ...]`: kept tiny so `--help` starts fast."""

from __future__ import annotations

import sys


def _run() -> int:
    from .terminal.commands import main  # imported lazily: heavy modules load only when needed

    try:
        code = main(sys.argv[1:])
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # `... | head`: the reader left. Point stdout at devnull so the exit flush stays quiet.
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(_run())
