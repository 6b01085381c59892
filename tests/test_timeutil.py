"""Every timestamp is UTC and written with `Z`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kalshi_trading.timeutil import from_unix, parse_iso, to_iso_z, to_unix


def test_to_iso_z_writes_utc_with_z() -> None:
    moment = datetime(2026, 11, 21, 5, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5)))
    assert to_iso_z(moment) == "2026-11-21T10:00:00.123Z"


def test_to_iso_z_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        to_iso_z(datetime(2026, 1, 1))


@pytest.mark.parametrize("text", ["2026-01-10T16:11:11.109554Z", "2026-01-10T16:11:11.109554123Z",
                                  "2026-01-10T11:11:11.109554-05:00", "2026-01-10T16:11:11.109554"])
def test_parse_iso_reads_every_api_form_as_utc(text: str) -> None:
    moment = parse_iso(text)
    assert moment == datetime(2026, 1, 10, 16, 11, 11, 109554, tzinfo=timezone.utc)


def test_unix_round_trip() -> None:
    assert to_unix(from_unix(1768061471)) == 1768061471
