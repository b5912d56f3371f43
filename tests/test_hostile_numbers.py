"""Non-finite and absurd numbers from a provider cost that row, never the listing."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import httpx
import pytest
import respx
from typer.testing import CliRunner

from gpubroker.cli import app
from gpubroker.providers.base import decode_json, make_offer
from tests.conftest import FIXTURES

VAST = "https://console.vast.ai/api/v0/bundles/"
T0 = datetime(2026, 9, 1, tzinfo=UTC)


def vast_text(first_price: str) -> str:
    """The on-demand fixture with the first row's price replaced by a raw JSON literal."""
    text = (FIXTURES / "vastai" / "bundles_ondemand.json").read_text(encoding="utf-8")
    body = json.loads(text)
    body["offers"][0]["dph_total"] = "__PRICE__"
    return json.dumps(body).replace('"__PRICE__"', first_price)


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400", "-0.5", "1e9"])
def test_one_bad_price_skips_one_row_and_the_search_still_answers(
    literal: str, http_mock: respx.MockRouter
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        kind = json.loads(request.content)["type"]
        if kind == "bid":
            return httpx.Response(200, json={"offers": []})
        return httpx.Response(
            200, content=vast_text(literal), headers={"content-type": "application/json"}
        )

    http_mock.post(VAST).mock(side_effect=answer)
    runner = CliRunner()
    result = runner.invoke(
        app, ["browse", "--provider", "vastai", "--fresh", "--json", "--limit", "0"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    offers = json.loads(result.stdout)
    # five rows give four offers (one has no CPU count); the bad first one goes too
    assert len(offers) == 3
    assert "vastai:21873645:ondemand" not in {o["id"] for o in offers}
    assert all(math.isfinite(o["price_per_hour_usd"]) for o in offers)
    # the cache holds only good rows: a cached search and the history still work
    again = runner.invoke(
        app, ["browse", "--provider", "vastai", "--offline", "--json", "--limit", "0"],
        catch_exceptions=False,
    )  # fmt: skip
    assert again.exit_code == 0 and len(json.loads(again.stdout)) == 3
    history = runner.invoke(app, ["offers", "history", "rtx3090", "--json"])
    assert history.exit_code == 0, history.stderr
    refresh = runner.invoke(app, ["offers", "refresh", "--provider", "vastai", "--json"])
    status = json.loads(refresh.stdout)[0]
    assert status["skipped"].get("no price", 0) >= 1


def test_decode_json_turns_non_finite_numbers_into_null() -> None:
    assert decode_json('{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e400, "e": 1.5}') == {
        "a": None, "b": None, "c": None, "d": None, "e": 1.5,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [("gpu_memory_gib", 1e12), ("vcpus", -4.0), ("ram_gib", math.inf), ("disk_gib", math.nan),
     ("reliability", 7.0)],
)  # fmt: skip
def test_absurd_optional_numbers_become_unknown(field: str, value: float) -> None:
    offer = make_offer(
        provider="p", native_id="x", gpu_name_raw="RTX 4090", gpu_count=1,
        price_per_hour_usd=0.4, observed_at=T0, **{field: value},
    )  # fmt: skip
    assert offer is not None
    assert getattr(offer, field) is None or field == "gpu_memory_gib"
    if field == "gpu_memory_gib":
        assert offer.gpu_memory_gib == 24  # the registry's marketed size, not 1e12


@pytest.mark.parametrize(("price", "count"), [(5000.0, 1), (0.4, 0), (0.4, 1000), (math.nan, 1)])
def test_absurd_price_or_count_is_no_offer(price: float, count: int) -> None:
    assert (
        make_offer(
            provider="p",
            native_id="x",
            gpu_name_raw="H100",
            gpu_count=count,
            price_per_hour_usd=price,
            observed_at=T0,
        )
        is None
    )
