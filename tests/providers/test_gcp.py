"""GCP provider (Cloud Billing Catalog): pagination, SKU arithmetic, errors and key hygiene."""

from __future__ import annotations

import csv
import importlib.resources
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from gpubroker.errors import (
    GpubrokerError,
    InvalidCredentialsError,
    MissingCredentialsError,
    ProviderError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import Skips
from gpubroker.providers.gcp import (
    DEFAULT_REGIONS,
    MACHINE_TYPES,
    GcpProvider,
    classify,
    collect_prices,
    country_for_region,
    parse_offers,
)
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
URL = "https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus"
API_KEY = "AIzaSyTestKey-secret-0123456789abcdef"
KEY = {"api_key": API_KEY}
MEGA = "nvidia-h100-mega-80gb"


def provider(regions: Any = None, **options: Any) -> GcpProvider:
    return GcpProvider(credentials=KEY, now=lambda: NOW, regions=regions, options=options)


def two_pages(request: httpx.Request) -> httpx.Response:
    if request.url.params.get("pageToken") == "page-2-token":
        return httpx.Response(200, json=load_fixture("gcp", "skus_page2.json"))
    return httpx.Response(200, json=load_fixture("gcp", "skus_page1.json"))


def all_skus() -> list[Any]:
    skus: list[Any] = load_fixture("gcp", "skus_page1.json")["skus"]
    skus.extend(load_fixture("gcp", "skus_page2.json")["skus"])
    return skus


def by_id(offers: list[Offer]) -> dict[str, Offer]:
    result = {o.id: o for o in offers}
    assert len(result) == len(offers), "duplicate offer ids"
    return result


G2 = ["4", "8", "12", "16", "24", "32", "48", "96"]
EXPECTED_PRICES = {
    # A100 40GB: 2.933908/GPU + 0.031611/vCPU + 0.004237/GiB
    "gcp:a2-highgpu-1g:us-central1:ondemand": 3.673385,
    "gcp:a2-highgpu-2g:us-central1:ondemand": 7.34677,
    "gcp:a2-highgpu-4g:us-central1:ondemand": 14.69354,
    "gcp:a2-highgpu-8g:us-central1:ondemand": 29.38708,
    "gcp:a2-megagpu-16g:us-central1:ondemand": 55.739504,
    # A100 80GB in europe-west4: 4.32/GPU + 0.034773/vCPU + 0.004661/GiB
    "gcp:a2-ultragpu-1g:europe-west4:ondemand": 5.529646,
    "gcp:a2-ultragpu-2g:europe-west4:ondemand": 11.059292,
    "gcp:a2-ultragpu-4g:europe-west4:ondemand": 22.118584,
    "gcp:a2-ultragpu-8g:europe-west4:ondemand": 44.237168,
    # 8*9.796551 + 208*0.02951 + 1872*0.002126
    "gcp:a3-highgpu-8g:us-central1:ondemand": 88.49036,
    # 8*10.344276 + 208*0.026924 + 1872*0.002344 (the "Plus" GPU SKU, not DWS/Calendar)
    "gcp:a3-megagpu-8g:us-east4:ondemand": 92.742368,
    # 8*4.1 + 208*0.0107 + 1872*0.00094 (GPU SKU tagged OnDemand but described as spot)
    "gcp:a3-megagpu-8g:us-east4:spot": 36.78528,
    # L4 0.56017 + core 0.024988 + RAM 0.002928 (us-central1, the shared sample)
    "gcp:g2-standard-4:us-central1:ondemand": 0.70697,
    "gcp:g2-standard-4:us-central1:spot": 0.282726,
    "gcp:g2-standard-4:us-east4:ondemand": 0.725338,
    "gcp:g2-standard-8:us-central1:ondemand": 0.85377,
    "gcp:g2-standard-8:us-central1:spot": 0.341382,
    "gcp:g2-standard-8:us-east4:ondemand": 0.890506,
    "gcp:g2-standard-12:us-central1:ondemand": 1.00057,
    "gcp:g2-standard-12:us-central1:spot": 0.400038,
    "gcp:g2-standard-12:us-east4:ondemand": 1.055674,
    "gcp:g2-standard-16:us-central1:ondemand": 1.14737,
    "gcp:g2-standard-16:us-central1:spot": 0.458694,
    "gcp:g2-standard-16:us-east4:ondemand": 1.220842,
    "gcp:g2-standard-24:us-central1:ondemand": 2.00114,
    "gcp:g2-standard-24:us-central1:spot": 0.800076,
    "gcp:g2-standard-24:us-east4:ondemand": 2.111348,
    "gcp:g2-standard-32:us-central1:ondemand": 1.73457,
    "gcp:g2-standard-32:us-central1:spot": 0.693318,
    "gcp:g2-standard-32:us-east4:ondemand": 1.881514,
    "gcp:g2-standard-48:us-central1:ondemand": 4.00228,
    "gcp:g2-standard-48:us-central1:spot": 1.600152,
    "gcp:g2-standard-48:us-east4:ondemand": 4.222696,
    "gcp:g2-standard-96:us-central1:ondemand": 8.00456,
    "gcp:g2-standard-96:us-central1:spot": 3.200304,
    "gcp:g2-standard-96:us-east4:ondemand": 8.445392,
}


def test_two_pages_give_exact_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    route = http_mock.get(URL).mock(side_effect=two_pages)
    result = provider().fetch(client)
    offers = result.offers

    assert route.call_count == 2
    assert result.truncated is False
    # MACHINE_TYPES order, then region order, on-demand before spot. No G2 in europe-west4
    # (its RAM SKU is per GiB-month), no spot A2 (no spot A2 core/RAM), no A3 in us-east4.
    assert [(o.id, o.price_per_hour_usd) for o in offers] == list(EXPECTED_PRICES.items())
    found = by_id(offers)

    g2 = found["gcp:g2-standard-4:us-central1:ondemand"]
    assert (g2.provider, g2.instance_type, g2.gpu_model, g2.gpu_name_raw) == (
        "gcp",
        "g2-standard-4",
        "L4",
        "nvidia-l4",
    )
    assert (g2.gpu_count, g2.gpu_memory_gib, g2.vcpus, g2.ram_gib, g2.disk_gib) == (
        1,
        24.0,
        4,
        16,
        None,
    )
    assert (g2.price_per_hour_usd, g2.price_per_gpu_hour_usd) == (0.70697, 0.70697)
    assert (g2.spot, g2.region, g2.country, g2.availability) == (
        False,
        "us-central1",
        "US",
        Availability.UNKNOWN,
    )
    assert g2.observed_at == NOW
    assert g2.extras == {
        "family": "G2",
        "gpu_price_per_hour_usd": 0.56017,
        "core_price_per_hour_usd": 0.024988,  # the dearer 0.03 duplicate lost
        "ram_price_per_gib_hour_usd": 0.002928,
    }

    spot = found["gcp:g2-standard-48:us-central1:spot"]
    assert (spot.spot, spot.gpu_count, spot.price_per_gpu_hour_usd) == (True, 4, 0.400038)

    a100 = found["gcp:a2-highgpu-1g:us-central1:ondemand"]
    assert (a100.gpu_model, a100.gpu_memory_gib, a100.vcpus, a100.ram_gib) == (
        "A100-40GB",
        40.0,
        12,
        85,
    )
    mega16 = found["gcp:a2-megagpu-16g:us-central1:ondemand"]
    assert (mega16.gpu_count, mega16.price_per_gpu_hour_usd) == (16, 3.483719)

    ultra = found["gcp:a2-ultragpu-1g:europe-west4:ondemand"]
    assert (ultra.gpu_model, ultra.gpu_memory_gib, ultra.disk_gib, ultra.country) == (
        "A100-80GB",
        80.0,
        375,
        "NL",
    )
    assert ultra.extras["price_excludes"] == "375 GiB bundled local SSD"

    h100 = found["gcp:a3-highgpu-8g:us-central1:ondemand"]
    assert (h100.gpu_model, h100.gpu_count, h100.vcpus, h100.ram_gib, h100.disk_gib) == (
        "H100-SXM",
        8,
        208,
        1872,
        6000,
    )
    assert h100.price_per_gpu_hour_usd == 11.061295

    mega = found["gcp:a3-megagpu-8g:us-east4:spot"]
    assert (mega.gpu_model, mega.gpu_name_raw, mega.spot) == (
        "H100-SXM",
        "nvidia-h100-mega-80gb",
        True,
    )
    assert mega.extras["family"] == "A3Plus"


def test_requests_send_key_in_header_not_url(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    route = http_mock.get(URL).mock(side_effect=two_pages)
    provider().fetch(client)

    first, second = (call.request for call in route.calls)
    assert first.method == "GET"
    assert first.url.path == "/v1/services/6F81-5844-456A/skus"
    assert dict(first.url.params) == {"currencyCode": "USD", "pageSize": "5000"}
    assert dict(second.url.params) == {
        "currencyCode": "USD",
        "pageSize": "5000",
        "pageToken": "page-2-token",
    }
    for request in (first, second):
        assert request.headers["x-goog-api-key"] == API_KEY
        assert "key" not in request.url.params
        assert API_KEY not in str(request.url)
        assert "authorization" not in request.headers


def test_configured_regions(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(side_effect=two_pages)
    offers = provider(regions=["asia-northeast1"]).fetch(client).offers
    assert [o.id for o in offers] == [
        f"gcp:g2-standard-{size}:asia-northeast1:ondemand" for size in G2
    ]
    assert offers[0].price_per_hour_usd == 0.8884  # 0.7004 + 4*0.032 + 16*0.00375
    assert {o.country for o in offers} == {"JP"}


def test_default_regions() -> None:
    assert DEFAULT_REGIONS == ("us-central1", "us-east4", "europe-west4")
    assert provider().regions == list(DEFAULT_REGIONS)
    assert provider(regions=("europe-west1",)).regions == ["europe-west1"]


def test_max_pages_guard_marks_truncated(
    http_mock: respx.MockRouter, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    route = http_mock.get(URL).mock(side_effect=two_pages)
    with caplog.at_level(logging.WARNING, logger="gpubroker.providers.gcp"):
        result = provider(max_pages=1).fetch(client)
    offers = result.offers
    assert route.call_count == 1
    assert result.truncated is True
    assert "gcp: stopped after 1 catalog pages" in caplog.messages
    # page 1 alone prices G2 on-demand in us-central1 only
    assert [o.id for o in offers] == [f"gcp:g2-standard-{size}:us-central1:ondemand" for size in G2]


def test_page_token_loop_is_bounded(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    looping = load_fixture("gcp", "skus_page1.json")  # always answers "page-2-token"
    route = http_mock.get(URL).mock(return_value=httpx.Response(200, json=looping))
    result = provider(max_pages=3).fetch(client)
    assert route.call_count == 3
    assert result.truncated is True
    assert len(result.offers) == 8


def test_every_sku_is_kept_or_skipped_by_reason(caplog: pytest.LogCaptureFixture) -> None:
    skips = Skips("gcp")
    with caplog.at_level(logging.DEBUG, logger="gpubroker.providers"):
        offers = parse_offers(all_skus(), observed_at=NOW, skips=skips)
    assert len(offers) == 36
    assert_accounted(len(all_skus()), skips)
    assert skips.as_dict() == {
        # a SKU without pricingInfo, a SKU whose units is "zero"
        "malformed": 2,
        # T4 (an N1 accelerator), N1 cores, local SSD
        "not a GPU machine part": 3,
        # DWS, calendar-mode reservation, 1-year commitment, sole tenancy, reserved RAM
        "other pricing": 5,
        # G2 RAM priced per GiB-month
        "unexpected unit": 1,
    }
    assert "gcp: skipped 'A008-B008-C008 (GiBy.mo)': unexpected unit" in caplog.messages


def test_fetch_reports_skips_by_reason(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(side_effect=two_pages)
    result = provider().fetch(client)
    assert result.skipped == {
        "malformed": 2,
        "not a GPU machine part": 3,
        "other pricing": 5,
        "unexpected unit": 1,
    }
    assert_accounted(len(all_skus()), result)


def test_all_three_parts_are_needed() -> None:
    skus = [s for s in all_skus() if not s["description"].startswith("A3Plus Instance Ram")]
    ids = [o.id for o in parse_offers(skus, observed_at=NOW)]
    assert "gcp:a3-megagpu-8g:us-east4:ondemand" not in ids
    assert "gcp:a3-megagpu-8g:us-east4:spot" in ids


def test_dws_and_calendar_skus_are_never_the_on_demand_price() -> None:
    # Without the ordinary "Plus" SKU, the cheaper DWS / Calendar Mode / commitment SKUs
    # must not stand in for it.
    skus = [
        s for s in all_skus() if s["description"] != "Nvidia H100 80GB Plus GPU running in Americas"
    ]
    ids = [o.id for o in parse_offers(skus, observed_at=NOW)]
    assert "gcp:a3-megagpu-8g:us-east4:ondemand" not in ids


def test_lower_duplicate_wins_whatever_the_order() -> None:
    skus = all_skus()
    forward = collect_prices(skus)
    backward = collect_prices(list(reversed(skus)))
    assert forward == backward
    assert forward[(("core", "G2"), "us-central1", False)] == 0.024988


def test_first_tier_and_nanos_arithmetic() -> None:
    sku = load_fixture("gcp", "skus_page1.json")["skus"][0]
    expr = sku["pricingInfo"][0]["pricingExpression"]
    expr["tieredRates"] = [
        {"startUsageAmount": 100, "unitPrice": {"currencyCode": "USD", "units": "0", "nanos": 1}},
        {"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": "2", "nanos": 5e8}},
    ]
    assert collect_prices([sku])[(("gpu", "nvidia-l4"), "us-central1", False)] == 2.5


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Nvidia L4 GPU running in Americas", (("gpu", "nvidia-l4"), False)),
        ("Spot Preemptible Nvidia L4 GPU running in Americas", (("gpu", "nvidia-l4"), True)),
        ("Nvidia Tesla A100 GPU running in Belgium", (("gpu", "nvidia-tesla-a100"), False)),
        ("Nvidia Tesla A100 80GB GPU running in Netherlands", (("gpu", "nvidia-a100-80gb"), False)),
        ("Nvidia H100 80GB GPU running in Americas", (("gpu", "nvidia-h100-80gb"), False)),
        ("Nvidia H100 80GB Mega GPU running in Americas", (("gpu", MEGA), False)),
        ("Nvidia H100 80GB Plus GPU running in Americas", (("gpu", MEGA), False)),
        ("Nvidia H100 Mega 80GB GPU running in Americas", (("gpu", MEGA), False)),
        ("Nvidia H100 80GB Mega GPU attached to Spot Preemptible VMs running in Tokyo",
         (("gpu", MEGA), True)),
        ("G2 Instance Core running in Americas", (("core", "G2"), False)),
        ("Spot Preemptible A2 Instance Ram running in Belgium", (("ram", "A2"), True)),
        ("A3 Instance Core running in Americas", (("core", "A3"), False)),
        ("A3Plus Instance Ram running in Americas", (("ram", "A3Plus"), False)),
        ("Nvidia Tesla T4 GPU running in Americas", None),
        ("N1 Predefined Instance Core running in Americas", None),
        ("A3Ultra Instance Core running in Americas", None),
        ("Nvidia L4 GPU attached to DWS Defined Duration VMs running in Frankfurt", None),
        ("Reserved Nvidia H100 80GB Mega GPU in Americas in Calendar Mode", None),
        ("Commitment v1: Nvidia H100 80GB GPU running in Americas for 1 Year", None),
        ("G2 Sole Tenancy Instance Core running in Americas", None),
        ("Premium for G2 Instance Core running in Americas", None),
        ("E2 Custom Instance Core running in Americas", None),
        ("Nvidia L4 GPU", None),
    ],
)  # fmt: skip
def test_classify(description: str, expected: object) -> None:
    assert classify(description) == expected


@pytest.mark.parametrize(
    ("region", "country"),
    [
        ("us-central1", "US"),
        ("us-east4", "US"),
        ("us-west1", "US"),
        ("europe-west4", "NL"),
        ("europe-west1", "BE"),
        ("europe-west3", "DE"),
        ("europe-west10", "DE"),
        ("europe-west12", "IT"),
        ("asia-northeast1", "JP"),
        ("asia-northeast3", "KR"),
        ("northamerica-northeast1", "CA"),
        ("mars-north1", None),
    ],
)
def test_country_for_region(region: str, country: str | None) -> None:
    assert country_for_region(region) == country


def test_machine_table_agrees_with_bundled_catalog() -> None:
    """The spec table and the catalog.csv rows for the same machine types must agree."""
    data = importlib.resources.files("gpubroker.providers") / "data" / "catalog.csv"
    rows = [r for r in csv.DictReader(data.read_text().splitlines()) if r["provider"] == "gcp"]
    table = {m.name: m for m in MACHINE_TYPES}
    checked = 0
    for row in rows:
        machine = table.get(row["instance_type"])
        if machine is None:
            continue
        checked += 1
        assert (machine.gpu_count, machine.vcpus, machine.ram_gib) == (
            int(row["gpu_count"]),
            int(row["vcpus"]),
            float(row["ram_gib"]),
        ), row["instance_type"]
    assert checked >= 10


def test_g2_price_is_in_the_catalog_ballpark() -> None:
    # catalog.csv: g2-standard-4, us-central1, on-demand, 0.706832 (2025-03 snapshot); the
    # shared sample's unit prices give 0.70697.
    offers = by_id(parse_offers(all_skus(), observed_at=NOW))
    price = offers["gcp:g2-standard-4:us-central1:ondemand"].price_per_hour_usd
    assert price == pytest.approx(0.706832, rel=1e-3)


def test_missing_key_raises_before_any_request(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    route = http_mock.get(URL).mock(side_effect=two_pages)
    with pytest.raises(MissingCredentialsError) as info:
        GcpProvider(credentials={}).fetch(client)
    assert info.value.exit_code == 4
    assert info.value.hint == "run `gpubroker keys set gcp` or set GCP_API_KEY"
    assert route.call_count == 0


def google_error(code: int, message: str, status: str, reason: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "cloudbilling.googleapis.com"},
            }
        ]
    return {"error": error}


BAD_KEY = google_error(
    400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", "API_KEY_INVALID"
)
ECHO = google_error(400, f"Request with key={API_KEY} is malformed", "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("mock", "error_type", "message"),
    [
        ({"return_value": httpx.Response(400, json=BAD_KEY)}, InvalidCredentialsError,
         "gcp: API key rejected (HTTP 400: API key not valid)"),
        ({"return_value": httpx.Response(400, json=ECHO)}, ProviderHTTPError,
         "gcp: HTTP 400 Bad Request: Request with key=<redacted> is malformed"),
        ({"return_value": httpx.Response(403, json=google_error(
            403, "Cloud Billing API has not been used in project 123", "PERMISSION_DENIED",
            "SERVICE_DISABLED"))}, InvalidCredentialsError,
         "gcp: credentials rejected (HTTP 403 Forbidden: Cloud Billing API has not been used "
         "in project 123)"),
        ({"return_value": httpx.Response(500, json=google_error(
            500, "Internal error encountered.", "INTERNAL"))}, ProviderHTTPError,
         "gcp: HTTP 500 Internal Server Error: Internal error encountered."),
        ({"side_effect": httpx.ReadTimeout(f"timed out reading {URL}?key={API_KEY}")},
         ProviderTimeoutError, "gcp: timed out"),
        ({"side_effect": httpx.ConnectError(f"cannot connect to {URL}?key={API_KEY}")},
         ProviderError, "gcp: network error (ConnectError)"),
    ],
    ids=["400-bad-key", "400-echoes-key", "403", "500", "timeout", "connect-error"],
)  # fmt: skip
def test_errors_never_contain_the_key(
    http_mock: respx.MockRouter,
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    mock: dict[str, Any],
    error_type: type[GpubrokerError],
    message: str,
) -> None:
    route = http_mock.get(URL).mock(**mock)
    with caplog.at_level(logging.DEBUG), pytest.raises(error_type) as info:
        provider().fetch(client)
    exc = info.value
    assert type(exc) is error_type
    assert str(exc) == message
    for text in (str(exc), repr(exc), exc.hint or "", *map(str, exc.args), caplog.text):
        assert API_KEY not in text
    assert exc.__cause__ is None and exc.__suppress_context__ is True
    for call in route.calls:
        assert API_KEY not in str(call.request.url)


def test_bad_key_is_exit_code_4(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(return_value=httpx.Response(400, json=BAD_KEY))
    with pytest.raises(InvalidCredentialsError) as info:
        provider().fetch(client)
    assert info.value.exit_code == 4
    assert info.value.hint == "check the key with `gpubroker keys set gcp`"


def test_other_400_is_http_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    body = google_error(400, "Invalid page size", "INVALID_ARGUMENT", "BAD_REQUEST")
    http_mock.get(URL).mock(return_value=httpx.Response(400, json=body))
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 400
    assert str(info.value) == "gcp: HTTP 400 Bad Request: Invalid page size"


def test_empty_catalog_is_no_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(return_value=httpx.Response(200, json={"skus": []}))
    assert provider().fetch(client).offers == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html><body>Sign in</body></html>",
                       headers={"content-type": "text/html"}),
        httpx.Response(200, json={"skus": {"skuId": "x"}}),
        httpx.Response(200, json={"nextPageToken": ""}),
        httpx.Response(200, json=[]),
        httpx.Response(200, text='{"skus": [{"name": "services/6F81',
                       headers={"content-type": "application/json"}),
    ],
    ids=["html-200", "wrong-type", "missing-skus", "bare-list", "truncated-json"],
)  # fmt: skip
def test_bad_payloads_raise_response_error(
    http_mock: respx.MockRouter, client: httpx.Client, response: httpx.Response
) -> None:
    http_mock.get(URL).mock(return_value=response)
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert info.value.provider == "gcp"
    assert API_KEY not in str(info.value)


def test_html_502_is_http_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(
        return_value=httpx.Response(
            502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 502
    assert str(info.value) == "gcp: HTTP 502 Bad Gateway: HTML error page"


def test_429_with_retry_after_is_retried(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    pages = iter([httpx.Response(429, headers={"Retry-After": "3"})])

    def answer(request: httpx.Request) -> httpx.Response:
        return next(pages, None) or two_pages(request)

    route = http_mock.get(URL).mock(side_effect=answer)
    offers = provider().fetch(client).offers
    assert sleeps == [3.0]
    assert route.call_count == 3
    assert len(offers) == 36


def test_persistent_503_is_retried_then_fails(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.get(URL).mock(return_value=httpx.Response(503))
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 503
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_base_url_override(
    http_mock: respx.MockRouter, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_GCP_URL", "http://127.0.0.1:9000/billing/v1/")
    route = http_mock.get("http://127.0.0.1:9000/billing/v1/services/6F81-5844-456A/skus").mock(
        side_effect=two_pages
    )
    assert len(provider().fetch(client).offers) == 36
    assert route.call_count == 2


def test_provider_declares_required_key() -> None:
    assert GcpProvider.name == "gcp"
    assert GcpProvider.label == "Google Cloud"
    assert GcpProvider.needs_auth() is True
    assert [(c.field, c.env_var) for c in GcpProvider.credentials] == [("api_key", "GCP_API_KEY")]
