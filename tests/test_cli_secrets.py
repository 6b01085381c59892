"""After a whole session with a real-looking key, no log file (nor the screen) holds the key, the key
path, the full key id or any signature that was sent."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
import requests
from cli_harness import make_universe, ticker, trail_dir
from conftest import pem_private, pem_public
from requests.adapters import BaseAdapter, HTTPAdapter

from kalshi_trading.client.rate_limiter import RateLimiter
from kalshi_trading.config import Config, Mode, RiskLimits
from kalshi_trading.main_app import MainApp
from kalshi_trading.paper.server import start_paper_exchange

KEY_ID = "a3f1c9e2-7b4d-4e8a-9c21-5d6e7f8a9b0c"


class RecordingAdapter(BaseAdapter):
    """Passes every request to a real HTTPAdapter and remembers the signatures it carried."""

    def __init__(self) -> None:
        super().__init__()
        self.real = HTTPAdapter()
        self.signatures: list[str] = []

    def send(self, request, **kwargs):  # type: ignore[override]
        signature = request.headers.get("KALSHI-ACCESS-SIGNATURE")
        if signature:
            self.signatures.append(signature)
        return self.real.send(request, **kwargs)

    def close(self) -> None:
        self.real.close()


@pytest.mark.parametrize("faults", [{}, {"fail_rate": 0.1, "lose_response_rate": 1.0, "seed": 5}],
                         ids=["clean", "with-faults"])
def test_no_secret_reaches_a_log_file_or_the_screen(tmp_path: Path, rsa_private_key, faults: dict) -> None:
    key_dir = tmp_path / "secret-keys"
    key_dir.mkdir()
    key_path = key_dir / "kalshi-prod-key.pem"
    key_path.write_bytes(pem_private(rsa_private_key))
    tick = ticker("secret")
    with start_paper_exchange(tmp_path / "exchange", universe=make_universe(["secret"]),
                              public_keys={KEY_ID: pem_public(rsa_private_key)}, **faults) as exchange:
        config = Config(mode=Mode.PAPER, base_url=exchange.base_url, key_id=KEY_ID,
                        private_key_path=key_path, paper_dir=tmp_path / "paper",
                        log_dir=tmp_path / "logs", risk=RiskLimits())
        adapter = RecordingAdapter()
        session = requests.Session()
        session.mount("http://", adapter)
        script = "\n".join([
            "3", tick, "b", "y", "5", "0.30", "", "", "", "", "y",          # a resting order
            "3", tick, "b", "y", "5", "0.45", "ioc", "", "y",               # a fill
            "3", tick, "b", "y", "999999", "1", "0.30", "", "", "", "", "",  # 999999 refused at the count
            "4", "x", "y",                                                  # cancel all
            "5", "6", "", "", "", "", "", "8", "0"]) + "\n"
        out = io.StringIO()
        app = MainApp.build(config, stdin=io.StringIO(script), stdout=out, session=session,
                            terminal_size=lambda: os.terminal_size((100, 30)),
                            rate_limiter=RateLimiter("prestige"),
                            client_options={"sleep": lambda _s: None, "max_retries": 2})
        try:
            assert app.run() == 0
        finally:
            app.close()
    assert len(adapter.signatures) > 5
    if faults:  # the faults really took the error paths: retries, unknown outcomes, error records
        assert (tmp_path / "logs" / "app.log").stat().st_size > 0
        assert "(the request may have been applied)" in (tmp_path / "logs" / "app.log").read_text()
        assert (trail_dir(config) / "trades.jsonl").exists()
    body = "".join(pem_private(rsa_private_key).decode().splitlines()[1:-1])
    secrets = [KEY_ID, str(key_path), key_path.name, body[:64], body[-64:], *adapter.signatures]
    log_files = [p for p in (tmp_path / "logs").rglob("*") if p.is_file()]
    assert log_files, "the session should have written logs"
    for path in log_files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, f"{path.name} leaks a secret"
    screen = out.getvalue()
    for secret in secrets:
        assert secret not in screen
    if not faults:
        assert re.search(r"…9b0c", screen)  # the settings screen shows only the masked id
