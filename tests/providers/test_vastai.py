"""Vast.ai provider: request shape, mapping, truncation and error translation."""

from __future__ import annotations

import json
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
from gpubroker.providers import vastai
from gpubroker.providers.base import Skips
from gpubroker.providers.vastai import VastaiProvider, parse_offers
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted, unresolved

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
URL = "https://console.vast.ai/api/v0/bundles/"
EXPECTED_FILTERS = {
    "verified": {"eq": True},
    "external": {"eq": False},
    "rentable": {"eq": True},
    "rented": {"eq": False},
    "order": [["score", "desc"]],
    "allocated_storage": 5.0,
}


def provider(**kwargs: Any) -> VastaiProvider:
    return VastaiProvider(now=lambda: NOW, **kwargs)


def by_type(request: httpx.Request) -> httpx.Response:
    kind = json.loads(request.content)["type"]
    name = "bundles_bid.json" if kind == "bid" else "bundles_ondemand.json"
    return httpx.Response(200, json=load_fixture("vastai", name))


def test_fetch_maps_on_demand_and_interruptible_offers(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    http_mock.post(URL).mock(side_effect=by_type)

    offers = provider().fetch(client).offers

    A, U = Availability.AVAILABLE, Availability.UNAVAILABLE
    # cpu_cores null (21890001) is skipped; 21880031 has min_bid null so has no spot offer.
    assert [o.id for o in offers] == [
        "vastai:21873645:ondemand",
        "vastai:21877710:ondemand",
        "vastai:21880031:ondemand",
        "vastai:21890002:ondemand",
        "vastai:21873645:spot",
        "vastai:21877710:spot",
    ]
    assert [(o.gpu_model, o.gpu_name_raw, o.gpu_count, o.gpu_memory_gib) for o in offers] == [
        ("RTX4090", "RTX 4090", 1, 24.0),  # gpu_ram 24564 MB / 1024 = 23.99, snapped
        ("H100-SXM", "H100 SXM", 8, 80.0),  # 81559 / 1024 = 79.65, snapped
        ("RTX3090", "RTX 3090", 2, 24.0),
        ("A100-80GB", "A100 SXM4", 4, 80.0),
        ("RTX4090", "RTX 4090", 1, 24.0),
        ("H100-SXM", "H100 SXM", 8, 80.0),
    ]
    # Spot = min_bid + storage for 5 GB (storage_total_cost).
    assert [(o.price_per_hour_usd, o.price_per_gpu_hour_usd, o.spot) for o in offers] == [
        (0.291042, 0.291042, False),
        (14.401389, 1.800174, False),
        (0.360556, 0.180278, False),
        (3.201389, 0.800347, False),
        (0.181042, 0.181042, True),
        (11.201389, 1.400174, True),
    ]
    # RAM share = cpu_ram * cpu_cores_effective / cpu_cores / 1024.
    assert [(o.vcpus, o.ram_gib, o.disk_gib) for o in offers] == [
        (8.0, 31.46, 215.4),
        (224.0, 2015.36, 3812.0),
        (24.0, 125.8, 480.0),
        (32.0, 251.9, 1200.0),
        (8.0, 31.46, 215.4),
        (224.0, 2015.36, 3812.0),
    ]
    # 21890002 is rented, has no geolocation, and its reliability2 (0.95) wins over 0.99.
    assert [
        (o.region, o.country, o.availability, o.reliability, o.cuda_version) for o in offers
    ] == [
        ("Texas, US", "US", A, 0.9981, "12.8"),
        ("Quebec, CA", "CA", A, 0.9993, "12.9"),
        ("Sweden, SE", "SE", A, 0.9712, "12.4"),
        (None, None, U, 0.95, "12.0"),
        ("Texas, US", "US", A, 0.9981, "12.8"),
        ("Quebec, CA", "CA", A, 0.9993, "12.9"),
    ]
    first = offers[0]
    assert first.provider == "vastai"
    assert first.observed_at == NOW
    assert first.extras == {
        "offer_id": 21873645,
        "machine_id": 38211,
        "host_id": 71002,
        "verification": "verified",
        "dlperf": 75.2,
        "priced_disk_gb": 5.0,
    }


def test_request_bodies_and_no_auth_header_without_key(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    route = http_mock.post(URL).mock(side_effect=by_type)

    result = provider().fetch(client)

    assert route.call_count == 2
    bodies = sorted((json.loads(c.request.content) for c in route.calls), key=lambda b: b["type"])
    bid, ondemand = bodies
    assert ondemand == {**EXPECTED_FILTERS, "type": "on-demand", "limit": 3000}
    assert bid == {**EXPECTED_FILTERS, "type": "bid", "limit": 3000}
    for call in route.calls:
        assert call.request.method == "POST"
        assert "authorization" not in call.request.headers
    assert result.truncated is False


def test_api_key_sent_as_bearer(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    route = http_mock.post(URL).mock(side_effect=by_type)

    provider(credentials={"api_key": "vast-secret"}).fetch(client)

    assert [c.request.headers["authorization"] for c in route.calls] == [
        "Bearer vast-secret",
        "Bearer vast-secret",
    ]


def test_limit_option_and_truncation(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    route = http_mock.post(URL).mock(side_effect=by_type)

    # The on-demand fixture has 5 rows: asking for 5 means there may be more.
    p = provider(options={"limit": 5})
    assert p.fetch(client).truncated is True
    assert [json.loads(c.request.content)["limit"] for c in route.calls] == [5, 5]

    route.reset()
    assert provider(options={"limit": 6}).fetch(client).truncated is False


def test_truncation_is_per_fetch(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    listings = iter(["bundles_ondemand.json", "bundles_empty.json"])
    current = {"name": ""}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=load_fixture("vastai", current["name"]))

    http_mock.post(URL).mock(side_effect=answer)
    p = provider(options={"limit": 5})
    current["name"] = next(listings)
    assert p.fetch(client).truncated is True
    current["name"] = next(listings)
    second = p.fetch(client)
    assert (second.offers, second.truncated) == ([], False)


def test_empty_listing_is_no_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(
        return_value=httpx.Response(200, json=load_fixture("vastai", "bundles_empty.json"))
    )
    result = provider().fetch(client)
    assert (result.offers, result.truncated) == ([], False)


def test_malformed_rows_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    payload = load_fixture("vastai", "bundles_partly_malformed.json")
    skips = Skips("vastai")

    with caplog.at_level(logging.DEBUG, logger="gpubroker.providers"):
        offers = parse_offers(payload, observed_at=NOW, skips=skips)

    assert [o.id for o in offers] == ["vastai:21873645:ondemand"]
    assert skips.as_dict()["malformed"] == 3
    assert_accounted(len(payload["offers"]), skips)
    assert len([m for m in caplog.messages if m.endswith(": malformed")]) == 3


def test_spot_price_uses_storage_cost_when_total_is_missing() -> None:
    row = load_fixture("vastai", "bundles_bid.json")["offers"][0]
    row["storage_total_cost"] = None  # 0.15 $/GB/month * 5 GB / 720 h = 0.0010417
    (offer,) = parse_offers({"offers": [row]}, observed_at=NOW, spot=True)
    assert offer.price_per_hour_usd == 0.181042


@pytest.mark.parametrize(
    ("geolocation", "country"),
    [
        ("Texas, US", "US"),
        ("Quebec, CA", "CA"),
        ("South Korea, KR", "KR"),
        (", CA", "CA"),
        ("us", "US"),
        # A geolocation that is only a country (issue 11).
        ("Norway", "NO"),
        ("Sweden", "SE"),
        ("Texas", None),
        (None, None),
    ],
)
def test_country_from_geolocation(geolocation: str | None, country: str | None) -> None:
    assert vastai._country(geolocation) == country


def test_out_of_range_reliability_is_dropped_not_fatal() -> None:
    row = load_fixture("vastai", "bundles_bid.json")["offers"][0]
    row["reliability2"] = 1.7
    (offer,) = parse_offers({"offers": [row]}, observed_at=NOW)
    assert offer.reliability is None


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html><body>Cloudflare</body></html>",
                       headers={"content-type": "text/html"}),
        httpx.Response(200, json={"offers": "none"}),
        httpx.Response(200, json={"results": []}),
        httpx.Response(200, json=[{"id": 1}]),
        httpx.Response(200, text='{"offers": [{"id": 2187',
                       headers={"content-type": "application/json"}),
    ],
    ids=["html-200", "wrong-type", "missing-offers", "bare-list", "truncated-json"],
)  # fmt: skip
def test_bad_payloads_raise_response_error(
    http_mock: respx.MockRouter, client: httpx.Client, response: httpx.Response
) -> None:
    http_mock.post(URL).mock(return_value=response)
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert info.value.provider == "vastai"
    assert info.value.exit_code == 5


def test_html_502_is_http_error(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.post(URL).mock(
        return_value=httpx.Response(
            502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 502
    assert str(info.value) == "vastai: HTTP 502 Bad Gateway: HTML error page"
    assert route.call_count == 6  # both searches, each tried three times


def test_401_is_invalid_credentials_without_leaking_key(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    http_mock.post(URL).mock(
        return_value=httpx.Response(401, json={"error": "invalid_token", "msg": "bad key"})
    )
    with pytest.raises(InvalidCredentialsError) as info:
        provider(credentials={"api_key": "vast-secret"}).fetch(client)
    assert info.value.exit_code == 4
    assert "vast-secret" not in str(info.value)
    assert "vast-secret" not in (info.value.hint or "")


def test_429_with_retry_after_is_retried(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    throttled: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        kind = json.loads(request.content)["type"]
        if kind == "on-demand" and not throttled:  # the first on-demand search is throttled
            throttled.append(kind)
            return httpx.Response(429, headers={"Retry-After": "2"})
        return by_type(request)

    route = http_mock.post(URL).mock(side_effect=answer)
    offers = provider().fetch(client).offers
    assert sleeps == [2.0]
    assert route.call_count == 3
    assert len(offers) == 6


def test_persistent_503_is_http_error_after_retries(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.post(URL).mock(return_value=httpx.Response(503, json={"error": "boom"}))
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 503
    assert info.value.provider == "vastai"
    assert route.call_count == 6  # both searches (idempotent POSTs), each tried three times
    assert len(sleeps) == 4


def test_timeout_is_provider_timeout(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError) as info:
        provider().fetch(client)
    assert info.value.provider == "vastai"


def test_base_url_override(
    http_mock: respx.MockRouter, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_VASTAI_URL", "http://vast.test:8080/")
    route = http_mock.post("http://vast.test:8080/api/v0/bundles/").mock(side_effect=by_type)
    offers = provider().fetch(client).offers
    assert route.call_count == 2
    assert len(offers) == 6


def test_provider_declares_optional_key() -> None:
    assert VastaiProvider.name == "vastai"
    assert VastaiProvider.needs_auth() is False
    assert [(c.field, c.env_var) for c in VastaiProvider.credentials] == [
        ("api_key", "VAST_API_KEY")
    ]


# --- fidelity: the recorded answer (issue 11) -------------------------------------------


@pytest.mark.parametrize("spot", [False, True])
def test_recorded_answer_every_row_is_an_offer_or_a_counted_skip(spot: bool) -> None:
    payload = load_fixture("vastai", "bundles_recorded.json")
    skips = Skips("vastai")
    offers = parse_offers(payload, observed_at=NOW, spot=spot, skips=skips)

    assert_accounted(len(payload["offers"]), skips)
    assert unresolved(offers) == set()
    # The host without a CPU count cannot be sized; the bid search needs a min_bid.
    expected = {"no CPU count": 1, **({"no price": 1} if spot else {})}
    assert skips.as_dict() == expected


def test_recorded_geolocations_get_their_country() -> None:
    offers = parse_offers(load_fixture("vastai", "bundles_recorded.json"), observed_at=NOW)
    assert {o.extras["offer_id"]: o.country for o in offers} == {
        5006600: "NO",  # "Norway"
        43731730: "US",
        43731731: "SE",
        44012210: "KR",
        44012211: None,  # no geolocation
        44012212: None,  # "Texas": a region, no country
        44012214: "CZ",
    }


def test_a_row_listed_twice_is_one_offer_and_one_counted_duplicate() -> None:
    row = load_fixture("vastai", "bundles_recorded.json")["offers"][0]
    skips = Skips("vastai")
    offers = parse_offers({"offers": [row, row]}, observed_at=NOW, skips=skips)
    assert len(offers) == 1
    assert (skips.kept, skips.as_dict()) == (1, {"duplicate": 1})


def test_fetch_reports_skips_of_both_searches(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    payload = load_fixture("vastai", "bundles_recorded.json")
    http_mock.post(URL).mock(return_value=httpx.Response(200, json=payload))

    result = provider().fetch(client)

    assert result.skipped == {"no CPU count": 2, "no price": 1}
    assert_accounted(2 * len(payload["offers"]), result)


@pytest.mark.parametrize("price", [float("nan"), float("inf"), -0.5])
def test_a_price_that_is_not_a_positive_number_is_a_counted_skip(price: float) -> None:
    row = load_fixture("vastai", "bundles_recorded.json")["offers"][0]
    skips = Skips("vastai")
    assert (
        parse_offers({"offers": [{**row, "dph_total": price}]}, observed_at=NOW, skips=skips) == []
    )
    assert skips.as_dict() == {"no price": 1}


def test_fetch_keeps_only_the_fields_it_reads_and_maps_the_same(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    """Rows are slimmed while decoding (a real row has ~75 keys): same offers as parsing the
    whole payload."""
    http_mock.post(URL).mock(side_effect=by_type)
    whole = parse_offers(load_fixture("vastai", "bundles_ondemand.json"), observed_at=NOW)
    whole += parse_offers(load_fixture("vastai", "bundles_bid.json"), observed_at=NOW, spot=True)

    assert provider().fetch(client).offers == whole

    row = load_fixture("vastai", "bundles_ondemand.json")["offers"][0]
    slim = vastai._slim_row(row)
    assert set(slim) == set(vastai._VastOffer.model_fields) & set(row)
    assert len(slim) < len(row) / 2
    envelope = {"offers": [slim]}
    assert vastai._slim_row(envelope) is envelope  # not a row: left alone


def test_row_limits_setting_reaches_the_search_limit(
    http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gpubroker.runtime import Runtime
    from gpubroker.settings import load_settings

    route = http_mock.post(URL).mock(side_effect=by_type)
    monkeypatch.setenv("GPUBROKER_ROW_LIMITS", "vastai=25000")
    runtime = Runtime(settings=load_settings())
    with runtime.http_client() as client:
        runtime.provider(VastaiProvider, {}).fetch(client)
    assert [json.loads(c.request.content)["limit"] for c in route.calls] == [25000, 25000]
