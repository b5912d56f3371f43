"""Vultr provider: pagination, cloud-GPU and bare-metal mapping, error translation."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from gpubroker.errors import (
    InvalidCredentialsError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from gpubroker.models import Availability
from gpubroker.providers.base import Skips
from gpubroker.providers.vultr import (
    VultrProvider,
    country_for_location,
    metal_gpu_from_id,
    parse_offers,
    whole_gpu_count,
)
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted, unresolved

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
BASE = "https://api.vultr.com/v2"
PLANS = f"{BASE}/plans"
METAL = f"{BASE}/plans-metal"
CURSOR = "bmV4dF9fdmNnLWw0MHMtMTZj"


def provider(**kwargs: Any) -> VultrProvider:
    return VultrProvider(now=lambda: NOW, **kwargs)


def plans_pages(request: httpx.Request) -> httpx.Response:
    if request.url.params.get("cursor") == CURSOR:
        return httpx.Response(200, json=load_fixture("vultr", "plans_page2.json"))
    return httpx.Response(200, json=load_fixture("vultr", "plans_page1.json"))


def metal_listing() -> httpx.Response:
    return httpx.Response(200, json=load_fixture("vultr", "plans_metal.json"))


def mock_both(http_mock: respx.MockRouter) -> tuple[respx.Route, respx.Route]:
    plans = http_mock.get(PLANS).mock(side_effect=plans_pages)
    metal = http_mock.get(METAL).mock(return_value=metal_listing())
    return plans, metal


def test_fetch_maps_cloud_and_metal_plans(
    http_mock: respx.MockRouter, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    plans_route, metal_route = mock_both(http_mock)

    with caplog.at_level(logging.INFO, logger="gpubroker.providers.vultr"):
        result = provider().fetch(client)
    offers = result.offers

    # CPU plans (vc2, vhf, vbm-4c-32gb) give nothing; the 10 GB and 40 GB A100 slices are
    # fractional; the MI300X plan costs 0 and the GH200 has a 0 preemptible price.
    assert [o.id for o in offers] == [
        "vultr:vcg-a100-12c-120g-80vram:ewr:ondemand",
        "vultr:vcg-a100-12c-120g-80vram:ord:ondemand",
        "vultr:vcg-l40s-16c-180g-48vram:fra:ondemand",
        "vultr:vcg-l40s-16c-180g-48vram:nrt:ondemand",
        "vultr:vcg-l40s-16c-180g-48vram:xyz:ondemand",
        "vultr:vcg-a16-24c-256g-64vram:ams:ondemand",
        "vultr:vbm-112c-2048gb-8-h100-gpu:sea:ondemand",
        "vultr:vbm-112c-2048gb-8-h100-gpu:sea:spot",
        "vultr:vbm-64c-2048gb-8-l40-gpu:ewr:ondemand",
        "vultr:vbm-64c-2048gb-8-l40-gpu:lhr:ondemand",
        "vultr:vbm-256c-2048gb-8-mi300x-gpu:lax:ondemand",
        "vultr:vbm-256c-2048gb-8-mi300x-gpu:lax:spot",
        "vultr:vbm-72c-480gb-gh200-gpu:ord:ondemand",
    ]
    assert [(o.gpu_model, o.gpu_name_raw, o.gpu_count, o.gpu_memory_gib) for o in offers] == [
        ("A100-80GB", "NVIDIA_A100", 1, 80.0),
        ("A100-80GB", "NVIDIA_A100", 1, 80.0),
        ("L40S", "NVIDIA_L40S", 1, 48.0),
        ("L40S", "NVIDIA_L40S", 1, 48.0),
        ("L40S", "NVIDIA_L40S", 1, 48.0),
        ("A16", "NVIDIA_A16", 4, 16.0),
        ("H100-SXM", "H100", 8, 80.0),
        ("H100-SXM", "H100", 8, 80.0),
        ("L40S", "L40S", 8, 48.0),
        ("L40S", "L40S", 8, 48.0),
        ("MI300X", "MI300X", 8, 192.0),
        ("MI300X", "MI300X", 8, 192.0),
        ("GH200", "GH200", 1, 96.0),
    ]
    assert [(o.price_per_hour_usd, o.price_per_gpu_hour_usd, o.spot) for o in offers] == [
        (2.397, 2.397, False),
        (2.397, 2.397, False),
        (1.68, 1.68, False),
        (1.68, 1.68, False),
        (1.68, 1.68, False),
        (2.0, 0.5, False),
        (23.92, 2.99, False),
        (18.4, 2.3, True),
        (16.0, 2.0, False),
        (16.0, 2.0, False),
        (18.6, 2.325, False),
        (14.88, 1.86, True),
        (1.99, 1.99, False),
    ]
    # ram MB / 1024; disk GB x disk_count; bare-metal vCPUs are threads.
    assert [(o.vcpus, o.ram_gib, o.disk_gib) for o in offers] == [
        (12.0, 120.0, 1400.0),
        (12.0, 120.0, 1400.0),
        (16.0, 180.0, 1200.0),
        (16.0, 180.0, 1200.0),
        (16.0, 180.0, 1200.0),
        (24.0, 256.0, 1200.0),
        (224.0, 2048.0, 1920.0),
        (224.0, 2048.0, 1920.0),
        (128.0, 2048.0, 7680.0),
        (128.0, 2048.0, 7680.0),
        (512.0, 2048.0, 30720.0),
        (512.0, 2048.0, 30720.0),
        (72.0, 480.0, 960.0),
    ]
    assert [(o.region, o.country) for o in offers] == [
        ("ewr", "US"),
        ("ord", "US"),
        ("fra", "DE"),
        ("nrt", "JP"),
        ("xyz", None),
        ("ams", "NL"),
        ("sea", "US"),
        ("sea", "US"),
        ("ewr", "US"),
        ("lhr", "GB"),
        ("lax", "US"),
        ("lax", "US"),
        ("ord", "US"),
    ]
    assert all(o.availability is Availability.UNKNOWN for o in offers)
    assert all(o.provider == "vultr" and o.observed_at == NOW for o in offers)
    assert offers[0].instance_type == "vcg-a100-12c-120g-80vram"
    assert offers[0].extras == {
        "kind": "cloud-gpu",
        "gpu_vram_gb": 80.0,
        "monthly_cost_usd": 1750.0,
    }
    assert offers[8].extras == {
        "kind": "bare-metal",
        "gpu_from_id": "l40",
        "cpu_model": "EPYC 9354",
        "monthly_cost_usd": 11679.2,
    }
    assert result.truncated is False
    # Every plan of both listings is accounted for: three CPU plans, two A100 slices and the
    # free MI300X plan are skipped (the GH200's zero preemptible price only costs a spot offer).
    assert result.skipped == {"fractional GPU": 2, "no GPU": 3, "no price": 1}
    pages = [load_fixture("vultr", f) for f in ("plans_page1.json", "plans_page2.json")]
    rows = sum(len(page["plans"]) for page in pages)
    assert_accounted(rows + len(load_fixture("vultr", "plans_metal.json")["plans_metal"]), result)

    # Requests: two pages of /plans (the second with the cursor), one of /plans-metal.
    assert plans_route.call_count == 2
    first, second = (dict(c.request.url.params) for c in plans_route.calls)
    assert first == {"type": "all", "per_page": "500"}
    assert second == {"type": "all", "per_page": "500", "cursor": CURSOR}
    assert metal_route.call_count == 1
    assert dict(metal_route.calls.last.request.url.params) == {"per_page": "500"}
    for call in [*plans_route.calls, *metal_route.calls]:
        assert call.request.method == "GET"
        assert "authorization" not in call.request.headers


def test_optional_key_is_sent_as_bearer(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    plans_route, metal_route = mock_both(http_mock)
    offers = provider(credentials={"api_key": "secret_vultr_key"}).fetch(client).offers
    assert len(offers) == 13
    calls = [*plans_route.calls, *metal_route.calls]
    assert [c.request.headers["authorization"] for c in calls] == ["Bearer secret_vultr_key"] * 3


def test_pagination_stops_at_max_pages_and_marks_truncation(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    # A server that always hands out a next cursor.
    looping = load_fixture("vultr", "plans_page1.json")
    plans_route = http_mock.get(PLANS).mock(return_value=httpx.Response(200, json=looping))
    http_mock.get(METAL).mock(return_value=metal_listing())

    p = provider(options={"max_pages": 3})
    result = p.fetch(client)

    assert plans_route.call_count == 3
    assert result.truncated is True
    # Each page's A100/L40S offers are kept (duplicates are the aggregator's business).
    offers = result.offers
    assert len([o for o in offers if o.instance_type == "vcg-a100-12c-120g-80vram"]) == 6

    # The next complete fetch is not truncated.
    http_mock.get(PLANS).mock(side_effect=plans_pages)
    assert p.fetch(client).truncated is False


def test_metal_listing_is_paginated_too(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    first = load_fixture("vultr", "plans_metal.json")
    first["plans_metal"] = first["plans_metal"][:2]
    first["meta"]["links"]["next"] = "bWV0YWwtcGFnZS0y"
    second = load_fixture("vultr", "plans_metal.json")
    second["plans_metal"] = second["plans_metal"][2:3]

    def metal_pages(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "bWV0YWwtcGFnZS0y":
            return httpx.Response(200, json=second)
        return httpx.Response(200, json=first)

    http_mock.get(PLANS).mock(return_value=httpx.Response(200, json={"plans": [], "meta": {}}))
    route = http_mock.get(METAL).mock(side_effect=metal_pages)

    offers = provider().fetch(client).offers

    assert route.call_count == 2
    assert [o.id for o in offers] == [
        "vultr:vbm-112c-2048gb-8-h100-gpu:sea:ondemand",
        "vultr:vbm-112c-2048gb-8-h100-gpu:sea:spot",
        "vultr:vbm-64c-2048gb-8-l40-gpu:ewr:ondemand",
        "vultr:vbm-64c-2048gb-8-l40-gpu:lhr:ondemand",
    ]


@pytest.mark.parametrize(
    ("vram", "memory", "count"),
    [
        (80, 80, 1),
        (320, 80, 4),
        (64, 16, 4),
        (76, 80, 1),  # within the memory tolerance of one GPU
        (10, 80, None),  # a slice of one A100
        (40, 80, None),  # half an A100 80GB, not an A100 40GB
        (60, 80, None),
        (120, 80, None),  # one and a half GPUs
        (0, 80, None),
        (48, 0, None),
    ],
)
def test_whole_gpu_count(vram: float, memory: float, count: int | None) -> None:
    assert whole_gpu_count(vram, memory) == count


@pytest.mark.parametrize(
    ("plan_id", "expected"),
    [
        ("vbm-112c-2048gb-8-h100-gpu", ("H100", 8, "h100")),
        ("vbm-256c-2048gb-8-mi300x-gpu", ("MI300X", 8, "mi300x")),
        ("vbm-64c-2048gb-8-l40-gpu", ("L40S", 8, "l40")),
        ("vbm-48c-1024gb-4-a100-gpu", ("A100", 4, "a100")),
        ("vbm-72c-480gb-gh200-gpu", ("GH200", 1, "gh200")),
        ("vbm-4c-32gb", None),
        ("vbm-weird-gpu", None),
        ("vcg-a100-12c-120g-80vram", None),
    ],
)
def test_metal_gpu_from_id(plan_id: str, expected: tuple[str, int, str] | None) -> None:
    assert metal_gpu_from_id(plan_id) == expected


@pytest.mark.parametrize(
    ("location", "country"),
    [
        ("ewr", "US"),
        ("hnl", "US"),
        ("ams", "NL"),
        ("man", "GB"),
        ("icn", "KR"),
        ("blr", "IN"),
        ("yto", "CA"),
        ("sao", "BR"),
        ("scl", "CL"),
        ("itm", "JP"),
        ("EWR", "US"),
        ("zzz", None),
    ],
)
def test_country_for_location(location: str, country: str | None) -> None:
    assert country_for_location(location) == country


def test_malformed_plans_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    payload = load_fixture("vultr", "plans_partly_malformed.json")
    skips = Skips("vultr")
    with caplog.at_level(logging.DEBUG, logger="gpubroker.providers"):
        offers = parse_offers(payload, observed_at=NOW, skips=skips)
    assert [o.id for o in offers] == [
        "vultr:vcg-a100-12c-120g-80vram:ewr:ondemand",
        "vultr:vbm-256c-2048gb-8-mi300x-gpu:lax:ondemand",
    ]
    assert skips.as_dict() == {
        "fractional GPU": 1,  # 120 GB of 80 GB A100s
        "malformed": 4,  # a text price, no locations, a string, a number
        "no price": 1,  # the H100 metal plan's hourly_cost is null
        "unknown GPU": 1,  # ACME_QPU9000
        "unknown shape": 2,  # a vcg plan without gpu_type, an unparseable metal id
    }
    assert_accounted(len(payload["plans"]) + len(payload["plans_metal"]), skips)
    assert "vultr: skipped 'vcg-broken-price': malformed" in caplog.messages
    assert "vultr: skipped '#6': malformed" in caplog.messages


def test_empty_listings_are_no_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(PLANS).mock(
        return_value=httpx.Response(200, json={"plans": [], "meta": {"total": 0}})
    )
    http_mock.get(METAL).mock(return_value=httpx.Response(200, json={"plans_metal": []}))
    assert provider().fetch(client).offers == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html><body>Maintenance</body></html>",
                       headers={"content-type": "text/html"}),
        httpx.Response(200, json={"plans": {"vcg-a100": {}}}),
        httpx.Response(200, json={"plans_metal": []}),
        httpx.Response(200, json=[]),
        httpx.Response(200, json={"plans": [], "meta": {"links": {"next": 7}}}),
        httpx.Response(200, text='{"plans": [{"id": "vcg-a100-12c',
                       headers={"content-type": "application/json"}),
    ],
    ids=["html-200", "wrong-type", "missing-plans", "bare-list", "bad-cursor", "truncated-json"],
)  # fmt: skip
def test_bad_payloads_raise_response_error(
    http_mock: respx.MockRouter, client: httpx.Client, response: httpx.Response
) -> None:
    http_mock.get(PLANS).mock(return_value=response)
    metal = http_mock.get(METAL).mock(return_value=metal_listing())
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert info.value.provider == "vultr"
    assert metal.call_count <= 1  # asked at the same time, its answer unused


def test_bad_metal_payload_raises_response_error(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    http_mock.get(PLANS).mock(side_effect=plans_pages)
    http_mock.get(METAL).mock(return_value=httpx.Response(200, json={"plans": []}))
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert str(info.value).startswith("vultr: unexpected payload")


def test_html_502_is_http_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(PLANS).mock(
        return_value=httpx.Response(
            502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 502
    assert str(info.value) == "vultr: HTTP 502 Bad Gateway: HTML error page"


def test_401_is_invalid_credentials(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(PLANS).mock(
        return_value=httpx.Response(401, json={"error": "Invalid API token.", "status": 401})
    )
    with pytest.raises(InvalidCredentialsError) as info:
        provider(credentials={"api_key": "secret_vultr_key"}).fetch(client)
    assert info.value.exit_code == 4
    assert str(info.value) == (
        "vultr: credentials rejected (HTTP 401 Unauthorized: Invalid API token.)"
    )
    assert "secret_vultr_key" not in str(info.value)


def test_429_with_retry_after_is_retried(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.get(PLANS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json=load_fixture("vultr", "plans_page1.json")),
            httpx.Response(200, json=load_fixture("vultr", "plans_page2.json")),
        ]
    )
    http_mock.get(METAL).mock(return_value=metal_listing())
    offers = provider().fetch(client).offers
    assert sleeps == [2.0]
    assert route.call_count == 3
    assert len(offers) == 13


def test_persistent_503_is_http_error_after_retries(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    http_mock.get(PLANS).mock(side_effect=plans_pages)
    route = http_mock.get(METAL).mock(
        return_value=httpx.Response(503, json={"error": "Internal error", "status": 503})
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 503
    assert str(info.value) == "vultr: HTTP 503 Service Unavailable: Internal error"
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_timeout_is_provider_timeout(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(PLANS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError):
        provider().fetch(client)


def test_base_url_override(
    http_mock: respx.MockRouter, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_VULTR_URL", "https://vultr.example.test/v2/")
    plans = http_mock.get("https://vultr.example.test/v2/plans").mock(side_effect=plans_pages)
    metal = http_mock.get("https://vultr.example.test/v2/plans-metal").mock(
        return_value=metal_listing()
    )
    assert len(provider().fetch(client).offers) == 13
    assert (plans.call_count, metal.call_count) == (2, 1)


def test_provider_declares_optional_key() -> None:
    assert VultrProvider.name == "vultr"
    assert VultrProvider.needs_auth() is False
    assert [(c.field, c.env_var, c.required) for c in VultrProvider.credentials] == [
        ("api_key", "VULTR_API_KEY", False)
    ]


# --- fidelity: the recorded answer (issue 11) -------------------------------------------


def recorded() -> dict[str, Any]:
    return {
        "plans": load_fixture("vultr", "plans_recorded.json")["plans"],
        "plans_metal": load_fixture("vultr", "plans_metal_recorded.json")["plans_metal"],
    }


def offers_of(plan_id: str, offers: list[Any]) -> list[Any]:
    return [o for o in offers if o.instance_type == plan_id]


def test_recorded_answer_every_plan_is_an_offer_or_a_counted_skip() -> None:
    payload = recorded()
    skips = Skips("vultr")
    offers = parse_offers(payload, observed_at=NOW, skips=skips)

    assert_accounted(len(payload["plans"]) + len(payload["plans_metal"]), skips)
    assert unresolved(offers) == set()
    assert skips.as_dict() == {
        "fractional GPU": 3,  # the A16, A100 and A40 slices
        "no GPU": 4,  # vc2, vhp, vx1, vbm-4c-32gb
        "no location": 1,  # the MI325X Dedicated Metal plan, sold nowhere right now
    }


@pytest.mark.parametrize(
    ("plan_id", "model", "count", "memory"),
    [
        ("vcg-a40-24c-120g-48vram", "A40", 1, 48.0),
        ("vcg-a100-96c-960g-640vram", "A100-80GB", 8, 80.0),
        ("vcg-h100-216c-1914gb-640vram", "H100-SXM", 8, 80.0),
        # 1536 GB over 8 GPUs: 192 GB each, the B200's physical memory.
        ("vcg-b200-248c-2826g-1536vram", "B200", 8, 180.0),
        ("vcg-mi355x-252c-2872g-2304vram", "MI355X", 8, 288.0),
    ],
)
def test_dedicated_metal_plans_read_gpu_model_count_and_memory_from_the_id(
    plan_id: str, model: str, count: int, memory: float
) -> None:
    offers = offers_of(plan_id, parse_offers(recorded(), observed_at=NOW))
    assert offers
    assert {(o.gpu_model, o.gpu_count, o.gpu_memory_gib) for o in offers} == {
        (model, count, memory)
    }
    assert all(o.extras["kind"] == "dedicated-metal" for o in offers)


def test_mi325x_dedicated_metal_is_eight_gpus_despite_its_id() -> None:
    # The id says 1536 GB; AMD sells MI325X only as 8 x 256 GB platforms.
    plan = next(p for p in recorded()["plans"] if p["id"].startswith("vcg-mi325x"))
    plan["locations"] = ["ord"]
    offers = parse_offers({"plans": [plan]}, observed_at=NOW)
    assert [(o.gpu_model, o.gpu_count, o.gpu_memory_gib, o.spot) for o in offers] == [
        ("MI325X", 8, 256.0, True)
    ]


def test_deploy_ondemand_false_is_never_listed_on_demand() -> None:
    offers = parse_offers(recorded(), observed_at=NOW)

    # Preemptible only: spot offers at the preemptible price, no on-demand one.
    h100 = offers_of("vcg-h100-216c-1914gb-640vram", offers)
    assert [(o.region, o.spot, o.price_per_hour_usd) for o in h100] == [
        ("sea", True, 18.4),
        ("ewr", True, 18.4),
    ]
    mi300x = offers_of("vbm-256c-2048gb-8-mi300x-gpu", offers)
    assert [(o.region, o.spot, o.price_per_hour_usd) for o in mi300x] == [("ord", True, 14.72)]
    # deploy_preemptible false: no spot offer either, whatever the preemptible price says.
    gh200 = offers_of("vbm-72c-480gb-gh200-gpu", offers)
    assert [(o.spot, o.price_per_hour_usd) for o in gh200] == [(False, 2.99)]


def test_a_plan_deployable_neither_way_is_a_counted_skip() -> None:
    plan = next(p for p in recorded()["plans"] if p["id"] == "vcg-a40-24c-120g-48vram")
    plan = {**plan, "deploy_ondemand": False, "deploy_preemptible": False}
    skips = Skips("vultr")
    assert parse_offers({"plans": [plan]}, observed_at=NOW, skips=skips) == []
    assert skips.as_dict() == {"not deployable": 1}


def test_location_cost_overrides_the_plan_price_per_location() -> None:
    offers = offers_of("vcg-a100-96c-960g-640vram", parse_offers(recorded(), observed_at=NOW))
    assert [(o.region, o.price_per_hour_usd) for o in offers] == [
        ("ewr", 19.178),
        ("sjc", 20.0),
    ]


def test_string_gpu_count_decides_cloud_gpu_slices() -> None:
    offers = parse_offers(recorded(), observed_at=NOW)
    l40s = offers_of("vcg-l40s-16c-180g-48vram", offers)
    assert {(o.gpu_model, o.gpu_count) for o in l40s} == {("L40S", 1)}
    for sliced in ("vcg-a16-1c-8g-2vram", "vcg-a100-1c-6g-4vram", "vcg-a40-6c-30g-12vram"):
        assert offers_of(sliced, offers) == []


def test_metal_gpu_fields_are_used_when_present() -> None:
    offers = parse_offers(recorded(), observed_at=NOW)
    mi325x = offers_of("vbm-256c-3072gb-8-mi325x-gpu", offers)
    assert {(o.gpu_model, o.gpu_count, o.gpu_memory_gib) for o in mi325x} == {("MI325X", 8, 256.0)}
    b200 = offers_of("vbm-256c-3072gb-8-b200-gpu", offers)
    assert {(o.gpu_model, o.gpu_count, o.gpu_memory_gib) for o in b200} == {("B200", 8, 180.0)}


def test_fetch_reports_skips_by_reason(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(PLANS).mock(
        return_value=httpx.Response(200, json=load_fixture("vultr", "plans_recorded.json"))
    )
    http_mock.get(METAL).mock(
        return_value=httpx.Response(200, json=load_fixture("vultr", "plans_metal_recorded.json"))
    )

    result = provider().fetch(client)

    assert result.skipped == {"fractional GPU": 3, "no GPU": 4, "no location": 1}
    payload = recorded()
    assert_accounted(len(payload["plans"]) + len(payload["plans_metal"]), result)
