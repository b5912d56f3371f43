"""The parts of the provider contract every parser uses: Skips, make_offer, countries."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

import pytest

from gpubroker.providers.base import (
    FetchResult,
    Skips,
    country_code,
    country_from_place,
    make_offer,
    row_id,
)

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Norway", "NO"),
        ("  united   states ", "US"),
        ("USA", "US"),
        ("DEU", "DE"),
        ("se", "SE"),
        ("UK", "GB"),
        ("South Korea", "KR"),
        ("Czech Republic", "CZ"),
        ("Atlantis", None),
        ("", None),
        (None, None),
    ],
)
def test_country_code(text: str | None, code: str | None) -> None:
    assert country_code(text) == code


@pytest.mark.parametrize(
    ("place", "code"),
    [
        ("Texas, US", "US"),
        ("Virginia, USA", "US"),
        ("Norway", "NO"),
        ("Sydney, Australia", "AU"),
        ("Quebec, CA", "CA"),
        (", CA", "CA"),
        ("Washington D.C, USA", "US"),
        ("Texas", None),
        (None, None),
    ],
)
def test_country_from_place(place: str | None, code: str | None) -> None:
    assert country_from_place(place) == code


@pytest.mark.parametrize("price", [math.nan, math.inf, -math.inf, 0.0, -1.0])
def test_make_offer_refuses_a_price_that_is_not_a_positive_number(price: float) -> None:
    offer = make_offer(
        provider="vastai",
        native_id="1",
        gpu_name_raw="RTX 4090",
        gpu_count=1,
        price_per_hour_usd=price,
        observed_at=NOW,
    )
    assert offer is None


def test_skips_count_reasons_keep_rows_and_log_ids_safely(
    caplog: pytest.LogCaptureFixture,
) -> None:
    skips = Skips("vultr")
    with caplog.at_level(logging.DEBUG, logger="gpubroker.providers"):
        skips.add("no GPU", "vc2-1c-1gb")
        skips.add("no GPU", "vc2-2c-4gb")
        skips.add("malformed")  # no id: counted, not logged
        skips.add("malformed", "\x1b[2Jevil\u202e" + "x" * 200)
        skips.keep("vcg-a100-12c-120g-80vram")
    assert skips.as_dict() == {"malformed": 2, "no GPU": 2}
    assert (len(skips), skips.kept) == (4, 1)
    assert caplog.messages[:2] == [
        "vultr: skipped 'vc2-1c-1gb': no GPU",
        "vultr: skipped 'vc2-2c-4gb': no GPU",
    ]
    # A hostile id is escaped (no raw control or bidi characters) and cut short.
    hostile = caplog.messages[2]
    assert "\x1b" not in hostile and "\u202e" not in hostile
    assert "\\x1b[2Jevil\\u202e" in hostile
    assert len(hostile) < 160


def test_fetch_result_of_carries_the_accounting() -> None:
    skips = Skips("x")
    skips.add("no price", "a")
    skips.keep("b")
    result = FetchResult.of([], skips, truncated=True)
    assert (result.skipped, result.kept, result.truncated) == ({"no price": 1}, 1, True)


def test_row_id_names_a_raw_row() -> None:
    assert row_id({"id": 7, "name": "x"}, "id", index=3) == "7"
    assert row_id({"id": "", "name": "x"}, "id", "name", index=3) == "x"
    assert row_id("garbage", "id", index=3) == "#3"
    assert row_id({"id": None}, "id") is None
