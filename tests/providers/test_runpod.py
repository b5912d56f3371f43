"""RunPod provider: GraphQL requests per cloud, mapping, GraphQL errors, HTTP errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
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
from gpubroker.http import make_client
from gpubroker.models import Availability
from gpubroker.providers.runpod import GPU_TYPES_QUERY, RunpodProvider, parse_offers
from tests.conftest import load_fixture

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
URL = "https://api.runpod.io/graphql"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[httpx.Client]:
    with make_client(sleep=sleeps.append) as c:
        yield c


def provider(**kwargs: Any) -> RunpodProvider:
    return RunpodProvider(now=lambda: NOW, **kwargs)


def by_cloud(request: httpx.Request) -> httpx.Response:
    secure = json.loads(request.content)["variables"]["lowestPriceInput"]["secureCloud"]
    name = "gpu_types_secure.json" if secure else "gpu_types_community.json"
    return httpx.Response(200, json=load_fixture("runpod", name))


def test_fetch_maps_both_clouds_on_demand_and_spot(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    http_mock.post(URL).mock(side_effect=by_cloud)

    offers = provider().fetch_offers(client)

    A, L, U = Availability.AVAILABLE, Availability.LIMITED, Availability.UNAVAILABLE
    h100, rtx, a100, mi = (
        "1x_NVIDIA_H100_80GB_HBM3",
        "1x_NVIDIA_GeForce_RTX_4090",
        "1x_NVIDIA_A100_80GB_PCIe",
        "1x_AMD_Instinct_MI300X_OAM",
    )
    # MI300X has no spot price, and no Community Cloud (communityCloud: false).
    assert [o.id for o in offers] == [
        f"runpod:{h100}:secure:ondemand",
        f"runpod:{h100}:secure:spot",
        f"runpod:{rtx}:secure:ondemand",
        f"runpod:{rtx}:secure:spot",
        f"runpod:{a100}:secure:ondemand",
        f"runpod:{a100}:secure:spot",
        f"runpod:{mi}:secure:ondemand",
        f"runpod:{h100}:community:ondemand",
        f"runpod:{h100}:community:spot",
        f"runpod:{rtx}:community:ondemand",
        f"runpod:{rtx}:community:spot",
        f"runpod:{a100}:community:ondemand",
        f"runpod:{a100}:community:spot",
    ]
    assert [(o.gpu_model, o.gpu_count, o.gpu_memory_gib) for o in offers] == [
        ("H100-SXM", 1, 80.0),
        ("H100-SXM", 1, 80.0),
        ("RTX4090", 1, 24.0),
        ("RTX4090", 1, 24.0),
        ("A100-80GB-PCIE", 1, 80.0),
        ("A100-80GB-PCIE", 1, 80.0),
        ("MI300X", 1, 192.0),
        ("H100-SXM", 1, 80.0),
        ("H100-SXM", 1, 80.0),
        ("RTX4090", 1, 24.0),
        ("RTX4090", 1, 24.0),
        ("A100-80GB-PCIE", 1, 80.0),
        ("A100-80GB-PCIE", 1, 80.0),
    ]
    # A100 is out of stock (lowestPrice all null): priced at the list prices, unavailable.
    assert [
        (o.price_per_hour_usd, o.price_per_gpu_hour_usd, o.spot, o.availability) for o in offers
    ] == [
        (2.69, 2.69, False, L),
        (1.75, 1.75, True, L),
        (0.69, 0.69, False, A),
        (0.35, 0.35, True, A),
        (1.64, 1.64, False, U),
        (0.82, 0.82, True, U),
        (2.49, 2.49, False, L),
        (2.39, 2.39, False, L),
        (1.55, 1.55, True, L),
        (0.34, 0.34, False, A),
        (0.2, 0.2, True, A),
        (1.19, 1.19, False, U),
        (0.6, 0.6, True, U),
    ]
    assert [(o.vcpus, o.ram_gib, o.region, o.country, o.extras["cloud"]) for o in offers] == [
        (16.0, 125.0, None, "US", "secure"),
        (16.0, 125.0, None, "US", "secure"),
        (5.0, 29.0, None, "US", "secure"),
        (5.0, 29.0, None, "US", "secure"),
        (None, None, None, None, "secure"),
        (None, None, None, None, "secure"),
        (24.0, 283.0, None, "US", "secure"),
        (12.0, 96.0, None, "CA", "community"),
        (12.0, 96.0, None, "CA", "community"),
        (6.0, 41.0, None, "SE", "community"),
        (6.0, 41.0, None, "SE", "community"),
        (None, None, None, None, "community"),
        (None, None, None, None, "community"),
    ]
    first = offers[0]
    assert first.instance_type == "NVIDIA H100 80GB HBM3"
    assert first.gpu_name_raw == "NVIDIA H100 80GB HBM3"
    assert first.observed_at == NOW
    assert first.extras == {
        "cloud": "secure",
        "display_name": "H100 SXM",
        "max_gpu_count": 8,
        "max_unreserved_gpu_count": 8,
    }


def test_requests_one_per_cloud_without_auth_header(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    route = http_mock.post(URL).mock(side_effect=by_cloud)

    provider().fetch_offers(client)

    bodies = [json.loads(c.request.content) for c in route.calls]
    assert bodies == [
        {
            "query": GPU_TYPES_QUERY,
            "variables": {"lowestPriceInput": {"gpuCount": 1, "secureCloud": secure}},
        }
        for secure in (True, False)
    ]
    assert "lowestPrice(input: $lowestPriceInput)" in GPU_TYPES_QUERY
    assert "uninterruptablePrice" in GPU_TYPES_QUERY
    for call in route.calls:
        assert call.request.method == "POST"
        assert "authorization" not in call.request.headers


def test_api_key_sent_as_bearer(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    route = http_mock.post(URL).mock(side_effect=by_cloud)
    provider(credentials={"api_key": "rp-secret"}).fetch_offers(client)
    assert [c.request.headers["authorization"] for c in route.calls] == ["Bearer rp-secret"] * 2
    assert all("api_key" not in str(c.request.url) for c in route.calls)


@pytest.mark.parametrize(
    ("stock", "expected"),
    [
        ("High", Availability.AVAILABLE),
        ("Medium", Availability.LIMITED),
        ("Low", Availability.LIMITED),
        (None, Availability.UNAVAILABLE),
        ("Weird", Availability.UNKNOWN),
    ],
)
def test_stock_status_mapping(stock: str | None, expected: Availability) -> None:
    payload = load_fixture("runpod", "gpu_types_secure.json")
    payload["data"]["gpuTypes"] = payload["data"]["gpuTypes"][1:2]
    payload["data"]["gpuTypes"][0]["lowestPrice"]["stockStatus"] = stock
    offers = parse_offers(payload, cloud="secure", observed_at=NOW)
    assert [o.availability for o in offers] == [expected, expected]


def test_cloud_not_offered_and_unknown_placeholder_give_no_offers() -> None:
    payload = load_fixture("runpod", "gpu_types_community.json")
    gpu_types = payload["data"]["gpuTypes"]
    mi300x = gpu_types[3]
    mi300x["communityPrice"] = 1.99  # a price, but communityCloud is false
    mi300x["lowestPrice"] = {"uninterruptablePrice": 1.99, "stockStatus": "High"}
    placeholder = {"id": "unknown", "displayName": "unknown", "memoryInGb": 0,
                   "securePrice": 1.0, "communityPrice": 1.0}  # fmt: skip
    payload["data"]["gpuTypes"] = [mi300x, placeholder]
    assert parse_offers(payload, cloud="community", observed_at=NOW) == []
    assert [o.id for o in parse_offers(payload, cloud="secure", observed_at=NOW)] == [
        "runpod:1x_AMD_Instinct_MI300X_OAM:secure:ondemand"
    ]


def test_malformed_gpu_types_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    payload = load_fixture("runpod", "gpu_types_partly_malformed.json")
    with caplog.at_level(logging.INFO, logger="gpubroker.providers.runpod"):
        offers = parse_offers(payload, cloud="secure", observed_at=NOW)
    assert [o.id for o in offers] == [
        "runpod:1x_NVIDIA_GeForce_RTX_4090:secure:ondemand",
        "runpod:1x_NVIDIA_GeForce_RTX_4090:secure:spot",
    ]
    assert "runpod: skipped 3 malformed GPU type(s)" in caplog.messages


def test_empty_gpu_types_is_no_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(return_value=httpx.Response(200, json={"data": {"gpuTypes": []}}))
    assert provider().fetch_offers(client) == []


def test_graphql_error_is_response_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    route = http_mock.post(URL).mock(
        return_value=httpx.Response(200, json=load_fixture("runpod", "graphql_error.json"))
    )
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch_offers(client)
    assert str(info.value) == (
        'runpod: GraphQL error: Cannot query field "lowestPrice" on type "GpuType".'
    )
    assert info.value.provider == "runpod"
    assert route.call_count == 1


def test_long_graphql_error_message_is_truncated() -> None:
    payload = {"errors": [{"message": "x" * 500}, {"message": "second"}]}
    with pytest.raises(ProviderResponseError) as info:
        parse_offers(payload, cloud="secure", observed_at=NOW)
    assert str(info.value) == "runpod: GraphQL error: " + "x" * 157 + "..."


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<!DOCTYPE html><html>maintenance</html>",
                       headers={"content-type": "text/html"}),
        httpx.Response(200, json={"data": {"gpuTypes": {"id": "x"}}}),
        httpx.Response(200, json={"data": {}}),
        httpx.Response(200, json={"data": None}),
        httpx.Response(200, json=["gpuTypes"]),
        httpx.Response(200, text='{"data": {"gpuTypes": [{"id": "NVIDIA',
                       headers={"content-type": "application/json"}),
    ],
    ids=["html-200", "wrong-type", "missing-gpuTypes", "null-data", "bare-list", "truncated-json"],
)  # fmt: skip
def test_bad_payloads_raise_response_error(
    http_mock: respx.MockRouter, client: httpx.Client, response: httpx.Response
) -> None:
    http_mock.post(URL).mock(return_value=response)
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch_offers(client)
    assert info.value.provider == "runpod"


def test_html_502_is_http_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(
        return_value=httpx.Response(
            502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch_offers(client)
    assert info.value.status_code == 502
    assert str(info.value) == "runpod: HTTP 502 Bad Gateway: HTML error page"


def test_401_is_invalid_credentials(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(return_value=httpx.Response(401, text="Unauthorized"))
    with pytest.raises(InvalidCredentialsError) as info:
        provider(credentials={"api_key": "rp-secret"}).fetch_offers(client)
    assert info.value.exit_code == 4
    assert "rp-secret" not in str(info.value)


def test_429_with_retry_after_is_retried(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.post(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json=load_fixture("runpod", "gpu_types_secure.json")),
            httpx.Response(200, json=load_fixture("runpod", "gpu_types_community.json")),
        ]
    )
    offers = provider().fetch_offers(client)
    assert sleeps == [3.0]
    assert route.call_count == 3
    assert len(offers) == 13


def test_persistent_500_is_http_error_after_retries(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.post(URL).mock(return_value=httpx.Response(500, text="oops"))
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch_offers(client)
    assert info.value.status_code == 500
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_timeout_is_provider_timeout(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError):
        provider().fetch_offers(client)


def test_base_url_override(
    http_mock: respx.MockRouter, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_RUNPOD_URL", "http://runpod.test")
    route = http_mock.post("http://runpod.test/graphql").mock(side_effect=by_cloud)
    assert len(provider().fetch_offers(client)) == 13
    assert route.call_count == 2


def test_provider_declares_optional_key() -> None:
    assert RunpodProvider.name == "runpod"
    assert RunpodProvider.needs_auth() is False
    assert [(c.field, c.env_var) for c in RunpodProvider.credentials] == [
        ("api_key", "RUNPOD_API_KEY")
    ]
