"""`browse` against mocked live provider APIs: merge, fallbacks, warnings, cache, exit codes."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from typer.testing import CliRunner

from gpubroker.cli import app
from tests.conftest import load_fixture

runner = CliRunner()
VAST = "https://console.vast.ai/api/v0/bundles/"
RUNPOD = "https://api.runpod.io/graphql"
LAMBDA = "https://cloud.lambda.ai/api/v1/instance-types"
AZURE = "https://prices.azure.com/api/retail/prices"
VULTR = "https://api.vultr.com/v2"
TENSORDOCK = "https://dashboard.tensordock.com/api/v2/locations"


def vast(request: httpx.Request) -> httpx.Response:
    kind = json.loads(request.content)["type"]
    name = "bundles_bid.json" if kind == "bid" else "bundles_ondemand.json"
    return httpx.Response(200, json=load_fixture("vastai", name))


def runpod(request: httpx.Request) -> httpx.Response:
    secure = json.loads(request.content)["variables"]["lowestPriceInput"]["secureCloud"]
    name = "gpu_types_secure.json" if secure else "gpu_types_community.json"
    return httpx.Response(200, json=load_fixture("runpod", name))


@pytest.fixture
def routes(http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> respx.MockRouter:
    monkeypatch.setenv("LAMBDA_API_KEY", "wrong-key-123")
    http_mock.post(VAST, name="vast").mock(side_effect=vast)
    http_mock.post(RUNPOD, name="runpod").mock(side_effect=runpod)
    http_mock.get(LAMBDA, name="lambda").mock(
        return_value=httpx.Response(401, json=load_fixture("lambda", "error_invalid_key.json"))
    )
    http_mock.get(AZURE, name="azure").mock(
        return_value=httpx.Response(503, text="<html>busy</html>", headers={"Retry-After": "0"})
    )
    # TensorDock is asked without a key and refuses: no credentials, like the providers
    # that are never asked without one.
    http_mock.get(TENSORDOCK, name="tensordock").mock(
        return_value=httpx.Response(401, json={"message": "Unauthorized"})
    )
    # Vultr answers with an empty listing: ok, zero offers.
    empty = {"meta": {"total": 0, "links": {"next": "", "prev": ""}}}
    http_mock.get(f"{VULTR}/plans", name="vultr").mock(
        return_value=httpx.Response(200, json={"plans": [], **empty})
    )
    http_mock.get(f"{VULTR}/plans-metal", name="vultr-metal").mock(
        return_value=httpx.Response(200, json={"plans_metal": [], **empty})
    )
    return http_mock


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_live_and_fallbacks_merge_with_one_warning_per_failure(routes: respx.MockRouter) -> None:
    code, out, err = invoke("browse", "--json", "--limit", "500")
    assert code == 0, err
    rows = json.loads(out)
    by_source = {(r["provider"], r["source"]) for r in rows}
    assert ("vastai", "live") in by_source and ("runpod", "live") in by_source
    # failed providers fall back to their bundled catalog rows, labelled as such
    assert ("lambda", "catalog") in by_source and ("azure", "catalog") in by_source
    assert ("aws", "catalog") in by_source and ("verda", "catalog") in by_source
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert sorted(w.split(":")[1].strip() for w in warnings) == ["azure", "lambda"]
    skipped = [line for line in err.splitlines() if "skipped (no credentials)" in line]
    assert len(skipped) == 1 and "aws, gcp, hyperstack, tensordock, verda;" in skipped[0]
    lam = next(w for w in warnings if w.startswith("warning: lambda"))
    assert "no-credentials" not in lam and "rejected" in lam
    assert "wrong-key-123" not in out + err
    assert routes["azure"].call_count == 3  # retried on 503


def test_cache_within_ttl_means_no_network(routes: respx.MockRouter) -> None:
    assert invoke("browse", "--provider", "vastai", "--json")[0] == 0
    calls = routes["vast"].call_count
    code, out, _ = invoke("browse", "--provider", "vastai", "--json")
    assert code == 0
    assert routes["vast"].call_count == calls
    assert {r["source"] for r in json.loads(out)} == {"cache"}
    assert invoke("browse", "--provider", "vastai", "--fresh", "--json")[0] == 0
    assert routes["vast"].call_count == 2 * calls


def test_stale_cache_shown_when_live_fails(routes: respx.MockRouter) -> None:
    assert invoke("browse", "--provider", "vastai")[0] == 0
    routes["vast"].mock(return_value=httpx.Response(500))
    code, out, err = invoke("browse", "--provider", "vastai", "--fresh", "--json")
    assert code == 0
    assert {r["source"] for r in json.loads(out)} == {"cache"}
    assert "showing cached offers from" in err


def test_strict_makes_any_failure_exit_5(routes: respx.MockRouter) -> None:
    code, out, err = invoke("browse", "--strict", "--json")
    assert code == 5
    assert out == ""
    assert "providers failed" in err


def test_nothing_to_show_is_exit_5(routes: respx.MockRouter) -> None:
    routes["vast"].mock(return_value=httpx.Response(500, text="oops"))
    code, _, err = invoke("browse", "--provider", "vastai")
    assert code == 5
    assert "Error: no provider could be reached" in err


def test_offline_never_touches_the_network(routes: respx.MockRouter) -> None:
    code, out, _ = invoke("browse", "--offline", "--json", "--limit", "500")
    assert code == 0
    assert all(route.call_count == 0 for route in routes.routes)
    assert {r["source"] for r in json.loads(out)} == {"catalog"}


def test_refresh_then_history_and_providers(routes: respx.MockRouter) -> None:
    code, out, _ = invoke("offers", "refresh", "--provider", "vastai,runpod", "--json")
    assert code == 0
    statuses = {s["provider"]: s for s in json.loads(out)}
    assert statuses["vastai"]["status"] == "ok" and statuses["vastai"]["count"] > 0
    code, out, _ = invoke("offers", "history", "rtx4090", "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows and all(r["gpu_model"] == "RTX4090" for r in rows)
    assert all(r["min_usd"] <= r["median_usd"] <= r["max_usd"] for r in rows)
    code, out, _ = invoke("offers", "history", "rtx4090")
    assert "last $" in out
    code, out, _ = invoke("providers", "--json")
    vast_row = next(r for r in json.loads(out) if r["provider"] == "vastai")
    assert vast_row["status"] == "ok" and vast_row["last_fetch_at"]


# --- skipped rows, per provider and by reason (issue 11) ------------------------------------


@pytest.fixture
def vultr_recorded(routes: respx.MockRouter) -> respx.MockRouter:
    routes["vultr"].mock(
        return_value=httpx.Response(200, json=load_fixture("vultr", "plans_recorded.json"))
    )
    routes["vultr-metal"].mock(
        return_value=httpx.Response(200, json=load_fixture("vultr", "plans_metal_recorded.json"))
    )
    return routes


VULTR_SKIPPED = {"fractional GPU": 3, "no GPU": 4, "no location": 1}


def test_refresh_json_shows_offers_and_skips_by_reason_per_provider(
    vultr_recorded: respx.MockRouter,
) -> None:
    code, out, _ = invoke("offers", "refresh", "--provider", "vultr,runpod", "--format", "json")
    assert code == 0
    statuses = {s["provider"]: s for s in json.loads(out)}
    assert statuses["vultr"]["status"] == "ok"
    assert statuses["vultr"]["count"] > 0
    assert statuses["vultr"]["skipped"] == VULTR_SKIPPED
    assert statuses["runpod"]["skipped"] == {"not on community cloud": 1}  # MI300X

    # The same counts stay with the provider: in `providers` and behind cached searches.
    code, out, _ = invoke("providers", "--json")
    vultr = next(r for r in json.loads(out) if r["provider"] == "vultr")
    assert vultr["skipped"] == VULTR_SKIPPED


def test_refresh_table_reads_skips_as_counts_and_reasons(
    vultr_recorded: respx.MockRouter,
) -> None:
    code, out, _ = invoke("offers", "refresh", "--provider", "vultr")
    assert code == 0
    assert "8 (4 no GPU, 3 fractional GPU, 1 no location)" in out
    code, out, _ = invoke("providers")
    assert "8 (4 no GPU, 3 fractional GPU, 1 no location)" in out


def test_debug_names_each_skipped_row(vultr_recorded: respx.MockRouter) -> None:
    code, _, err = invoke("--debug", "offers", "refresh", "--provider", "vultr")
    assert code == 0
    assert "debug: vultr: skipped 'vc2-1c-1gb': no GPU" in err
    assert "debug: vultr: skipped 'vcg-mi325x-252c-2872g-1536vram': no location" in err
    # Without --debug, no row ids.
    code, _, err = invoke("offers", "refresh", "--provider", "vultr")
    assert code == 0 and "skipped 'vc2-1c-1gb'" not in err
