"""TensorDock provider (API v2 ``/locations``): request, mapping and error translation."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from gpubroker.errors import (
    InvalidCredentialsError,
    MissingCredentialsError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from gpubroker.models import Availability
from gpubroker.providers.base import Skips
from gpubroker.providers.tensordock import (
    Shape,
    TensordockProvider,
    country_code,
    parse_offers,
)
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted, unresolved

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
URL = "https://dashboard.tensordock.com/api/v2/locations"
KEY = {"api_key": "secret_tensordock_token"}
AUSTIN = "b5c6a1f2-3d4e-4f50-9a1b-2c3d4e5f6a70"
WINNIPEG = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
FRANKFURT = "5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c"
ATLANTIS = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"


def provider(**kwargs: Any) -> TensordockProvider:
    kwargs.setdefault("credentials", KEY)
    return TensordockProvider(now=lambda: NOW, **kwargs)


def listing() -> httpx.Response:
    return httpx.Response(200, json=load_fixture("tensordock", "locations.json"))


def test_fetch_maps_locations_and_gpus(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    route = http_mock.get(URL).mock(return_value=listing())

    offers = provider().fetch(client).offers

    assert [o.id for o in offers] == [
        f"tensordock:h100-sxm5-80gb-1x:{AUSTIN}:ondemand",
        f"tensordock:h100-sxm5-80gb-8x:{AUSTIN}:ondemand",
        f"tensordock:geforcertx4090-pcie-24gb-1x:{AUSTIN}:ondemand",
        f"tensordock:geforcertx4090-pcie-24gb-4x:{AUSTIN}:ondemand",
        # max_count 0: listed once, unavailable
        f"tensordock:rtxa6000-pcie-48gb-1x:{WINNIPEG}:ondemand",
        f"tensordock:l40-pcie-48gb-1x:{FRANKFURT}:ondemand",
        f"tensordock:l40-pcie-48gb-2x:{FRANKFURT}:ondemand",
        # max_count 1: no second offer
        f"tensordock:v100-pcie-16gb-1x:{ATLANTIS}:ondemand",
    ]
    assert [(o.gpu_model, o.gpu_name_raw, o.gpu_count, o.gpu_memory_gib) for o in offers] == [
        ("H100-SXM", "h100-sxm5-80gb", 1, 80.0),
        ("H100-SXM", "h100-sxm5-80gb", 8, 80.0),
        ("RTX4090", "geforcertx4090-pcie-24gb", 1, 24.0),
        ("RTX4090", "geforcertx4090-pcie-24gb", 4, 24.0),
        ("A6000", "rtxa6000-pcie-48gb", 1, 48.0),
        ("L40", "l40-pcie-48gb", 1, 48.0),
        ("L40", "l40-pcie-48gb", 2, 48.0),
        ("V100", "v100-pcie-16gb", 1, 16.0),
    ]
    # Shape: 8 vCPU + 32 GB per GPU, capped at resources.max_*, plus 100 GB storage per VM.
    assert [(o.vcpus, o.ram_gib, o.disk_gib) for o in offers] == [
        (8, 32, 100),
        (64, 256, 100),
        (8, 32, 100),
        (32, 128, 100),
        (8, 32, 100),
        (8, 32, 100),
        (12, 48, 100),  # Frankfurt caps at 12 vCPU / 48 GB
        (8, 32, 100),
    ]
    # n*price_per_hr + vcpus*per_vcpu_hr + ram*per_gb_ram_hr + storage*per_gb_storage_hr
    assert [(o.price_per_hour_usd, o.price_per_gpu_hour_usd) for o in offers] == [
        (2.343, 2.343),  # 2.25 + 8*0.003 + 32*0.002 + 100*0.00005
        (18.709, 2.338625),  # 18 + 64*0.003 + 256*0.002 + 0.005
        (0.443, 0.443),
        (1.757, 0.43925),  # 1.4 + 0.096 + 0.256 + 0.005
        (0.543, 0.543),
        (0.922, 0.922),  # 0.8 + 8*0.004 + 32*0.0025 + 100*0.0001
        (1.778, 0.889),  # 1.6 + 12*0.004 + 48*0.0025 + 0.01
        (0.293, 0.293),
    ]
    A, U = Availability.AVAILABLE, Availability.UNAVAILABLE
    assert [(o.region, o.country, o.availability) for o in offers] == [
        ("Austin, Texas", "US", A),
        ("Austin, Texas", "US", A),
        ("Austin, Texas", "US", A),
        ("Austin, Texas", "US", A),
        ("Winnipeg, Manitoba", "CA", U),
        ("Frankfurt, Hesse", "DE", A),
        ("Frankfurt, Hesse", "DE", A),
        (ATLANTIS, None, A),  # no city: the location id; unknown country: None
    ]
    assert all(not o.spot and o.provider == "tensordock" and o.observed_at == NOW for o in offers)
    assert offers[1].instance_type == "h100-sxm5-80gb-8x"
    assert offers[1].extras == {
        "location_id": AUSTIN,
        "display_name": "H100 SXM5 80GB",
        "tier": 3,
        "max_count": 8,
        "gpu_price_per_hour_usd": 2.25,
        "assumed_shape": {"vcpus": 64, "ram_gb": 256, "storage_gb": 100},
    }
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url == URL
    assert request.headers["authorization"] == "Bearer secret_tensordock_token"


def test_shape_is_injectable() -> None:
    payload = load_fixture("tensordock", "locations.json")
    offers = parse_offers(
        payload, observed_at=NOW, shape=Shape(vcpus_per_gpu=4, ram_gb_per_gpu=16, storage_gb=200)
    )
    first = offers[0]
    assert (first.vcpus, first.ram_gib, first.disk_gib) == (4, 16, 200)
    assert first.price_per_hour_usd == 2.304  # 2.25 + 4*0.003 + 16*0.002 + 200*0.00005


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("United States", "US"),
        ("united states of america", "US"),
        ("Canada", "CA"),
        ("Germany", "DE"),
        (" Netherlands ", "NL"),
        ("us", "US"),
        ("Atlantis", None),
        ("", None),
        (None, None),
    ],
)
def test_country_code(country: str | None, code: str | None) -> None:
    assert country_code(country) == code


def test_without_a_key_locations_are_listed_anonymously(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    # /locations may answer without a key (issue 11): then TensorDock lists without one.
    route = http_mock.get(URL).mock(return_value=listing())
    offers = TensordockProvider(credentials={}, now=lambda: NOW).fetch(client).offers
    assert [o.id for o in offers] == [o.id for o in parse_offers(listing().json(), observed_at=NOW)]
    assert offers
    assert route.call_count == 1
    assert "authorization" not in route.calls.last.request.headers


@pytest.mark.parametrize("status", [401, 403])
def test_without_a_key_a_refusal_is_missing_credentials(
    http_mock: respx.MockRouter, client: httpx.Client, status: int
) -> None:
    http_mock.get(URL).mock(return_value=httpx.Response(status, json={"message": "Unauthorized"}))
    with pytest.raises(MissingCredentialsError) as info:
        TensordockProvider(credentials={}).fetch(client)
    assert info.value.exit_code == 4
    assert info.value.hint == "run `gpubroker keys set tensordock` or set TENSORDOCK_API_KEY"


def test_malformed_entries_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    payload = load_fixture("tensordock", "locations_partly_malformed.json")
    skips = Skips("tensordock")
    with caplog.at_level(logging.DEBUG, logger="gpubroker.providers"):
        offers = parse_offers(payload, observed_at=NOW, skips=skips)
    assert [o.id for o in offers] == [
        f"tensordock:geforcertx4090-pcie-24gb-1x:{AUSTIN}:ondemand",
        f"tensordock:geforcertx4090-pcie-24gb-4x:{AUSTIN}:ondemand",
    ]
    # 3 bad GPUs in Austin; Winnipeg without "gpus" and a location that is a list count once.
    assert skips.as_dict() == {"malformed": 5}
    assert_accounted(4 + 1 + 1, skips)
    assert "tensordock: skipped 'h100-sxm5-80gb': malformed" in caplog.messages


def test_free_gpu_is_dropped() -> None:
    payload = load_fixture("tensordock", "locations.json")
    payload["data"]["locations"][0]["gpus"][0]["price_per_hr"] = 0
    offers = parse_offers(payload, observed_at=NOW)
    assert not any(o.gpu_name_raw == "h100-sxm5-80gb" for o in offers)
    assert len(offers) == 6


def test_empty_listing_is_no_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(return_value=httpx.Response(200, json={"data": {"locations": []}}))
    assert provider().fetch(client).offers == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html><body>Login</body></html>",
                       headers={"content-type": "text/html"}),
        httpx.Response(200, json={"data": {"locations": {"id": "x"}}}),
        httpx.Response(200, json={"data": {}}),
        httpx.Response(200, json={"locations": []}),
        httpx.Response(200, json=[]),
        httpx.Response(200, text='{"data": {"locations": [{"id": "b5c6',
                       headers={"content-type": "application/json"}),
    ],
    ids=["html-200", "wrong-type", "missing-locations", "missing-data", "bare-list",
         "truncated-json"],
)  # fmt: skip
def test_bad_payloads_raise_response_error(
    http_mock: respx.MockRouter, client: httpx.Client, response: httpx.Response
) -> None:
    http_mock.get(URL).mock(return_value=response)
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert info.value.provider == "tensordock"
    assert info.value.exit_code == 5


def test_html_502_is_http_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(
        return_value=httpx.Response(
            502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 502
    assert str(info.value) == "tensordock: HTTP 502 Bad Gateway: HTML error page"


def test_401_is_invalid_credentials(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(
        return_value=httpx.Response(401, json={"message": "Invalid or expired token"})
    )
    with pytest.raises(InvalidCredentialsError) as info:
        provider().fetch(client)
    assert info.value.exit_code == 4
    assert str(info.value) == (
        "tensordock: credentials rejected (HTTP 401 Unauthorized: Invalid or expired token)"
    )
    assert "secret_tensordock_token" not in str(info.value)


def test_429_with_retry_after_is_retried(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.get(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), listing()]
    )
    offers = provider().fetch(client).offers
    assert sleeps == [2.0]
    assert route.call_count == 2
    assert len(offers) == 8


def test_persistent_503_is_http_error_after_retries(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.get(URL).mock(
        return_value=httpx.Response(503, json={"message": "Internal error"})
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 503
    assert str(info.value) == "tensordock: HTTP 503 Service Unavailable: Internal error"
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_timeout_is_provider_timeout(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError) as info:
        provider().fetch(client)
    assert str(info.value) == "tensordock: timed out"


def test_base_url_override(
    http_mock: respx.MockRouter, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_TENSORDOCK_URL", "http://127.0.0.1:8080/api/v2/")
    route = http_mock.get("http://127.0.0.1:8080/api/v2/locations").mock(return_value=listing())
    assert len(provider().fetch(client).offers) == 8
    assert route.call_count == 1


def test_provider_declares_optional_key() -> None:
    assert TensordockProvider.name == "tensordock"
    assert TensordockProvider.label == "TensorDock"
    assert TensordockProvider.needs_auth() is False
    assert [(c.field, c.env_var) for c in TensordockProvider.credentials] == [
        ("api_key", "TENSORDOCK_API_KEY")
    ]


# --- fidelity: the recorded answer (issue 11) -------------------------------------------


def test_recorded_answer_every_gpu_entry_is_an_offer_or_a_counted_skip() -> None:
    payload = load_fixture("tensordock", "locations_recorded.json")
    skips = Skips("tensordock")
    offers = parse_offers(payload, observed_at=NOW, skips=skips)

    rows = sum(len(loc["gpus"]) for loc in payload["data"]["locations"])
    assert_accounted(rows, skips)
    assert skips.as_dict() == {"no price": 1}  # the L40 placeholder priced 0
    assert unresolved(offers) == set()
    assert {o.country for o in offers} == {"US", "CA", "CZ"}
