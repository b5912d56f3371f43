"""RunPod provider: GraphQL requests per cloud, mapping, multi-GPU offers, errors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

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
from gpubroker.providers.runpod import GPU_TYPES_QUERY, RunpodProvider, parse_offers
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted, unresolved

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
URL = "https://api.runpod.io/graphql"


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

    # The one-GPU offers, exactly as before multi-GPU offers were added.
    offers = [o for o in provider().fetch(client).offers if o.gpu_count == 1]

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
        "minimum_bid_per_gpu_usd": 1.75,
    }
    assert not any("specs_scaled_from_1_gpu" in o.extras for o in offers)


def test_fetch_adds_2_4_and_8_gpu_offers_within_each_clouds_max(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    http_mock.post(URL).mock(side_effect=by_cloud)

    offers = provider().fetch(client).offers

    ids = [o.id for o in offers]
    assert len(ids) == len(set(ids)) == 50
    # Per GPU type and cloud: counts ascending, on-demand then spot within each count.
    assert ids[:8] == [
        f"runpod:{n}x_NVIDIA_H100_80GB_HBM3:secure:{kind}"
        for n in (1, 2, 4, 8)
        for kind in ("ondemand", "spot")
    ]
    multi = [o for o in offers if o.gpu_count > 1]
    A, L, U = Availability.AVAILABLE, Availability.LIMITED, Availability.UNAVAILABLE
    h100, rtx, a100, mi = (
        "NVIDIA_H100_80GB_HBM3",
        "NVIDIA_GeForce_RTX_4090",
        "NVIDIA_A100_80GB_PCIe",
        "AMD_Instinct_MI300X_OAM",
    )
    # Secure: every type allows 8 (A100 via the maxGpuCount fallback); MI300X has no spot.
    # Community: RTX 4090 stops at 4 (maxGpuCountCommunityCloud), MI300X is secure-only.
    assert [o.id.removeprefix("runpod:") for o in multi] == [
        f"{n}x_{slug}:{cloud}:{kind}"
        for cloud, slugs in (("secure", (h100, rtx, a100, mi)), ("community", (h100, rtx, a100)))
        for slug in slugs
        for n in ((2, 4) if (cloud, slug) == ("community", rtx) else (2, 4, 8))
        for kind in (("ondemand",) if slug == mi else ("ondemand", "spot"))
    ]
    # Memory stays per GPU; the model and raw name are the one-GPU ones.
    assert {(o.gpu_model, o.gpu_memory_gib, o.instance_type, o.gpu_name_raw) for o in multi} == {
        ("H100-SXM", 80.0, "NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"),
        ("RTX4090", 24.0, "NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090"),
        ("A100-80GB-PCIE", 80.0, "NVIDIA A100 80GB PCIe", "NVIDIA A100 80GB PCIe"),
        ("MI300X", 192.0, "AMD Instinct MI300X OAM", "AMD Instinct MI300X OAM"),
    }
    # Price = count x per-GPU price. Availability: the one-GPU stock status, except a count
    # above maxUnreservedGpuCount or missing from availableGpuCounts is unavailable
    # (secure RTX 4090: 6 unreserved; community H100: 2 unreserved, counts [1, 2]).
    assert [
        (o.gpu_count, o.price_per_hour_usd, o.price_per_gpu_hour_usd, o.spot, o.availability)
        for o in multi
    ] == [
        (2, 5.38, 2.69, False, L),
        (2, 3.5, 1.75, True, L),
        (4, 10.76, 2.69, False, L),
        (4, 7.0, 1.75, True, L),
        (8, 21.52, 2.69, False, L),
        (8, 14.0, 1.75, True, L),
        (2, 1.38, 0.69, False, A),
        (2, 0.7, 0.35, True, A),
        (4, 2.76, 0.69, False, A),
        (4, 1.4, 0.35, True, A),
        (8, 5.52, 0.69, False, U),
        (8, 2.8, 0.35, True, U),
        (2, 3.28, 1.64, False, U),
        (2, 1.64, 0.82, True, U),
        (4, 6.56, 1.64, False, U),
        (4, 3.28, 0.82, True, U),
        (8, 13.12, 1.64, False, U),
        (8, 6.56, 0.82, True, U),
        (2, 4.98, 2.49, False, L),
        (4, 9.96, 2.49, False, L),
        (8, 19.92, 2.49, False, L),
        (2, 4.78, 2.39, False, L),
        (2, 3.1, 1.55, True, L),
        (4, 9.56, 2.39, False, U),
        (4, 6.2, 1.55, True, U),
        (8, 19.12, 2.39, False, U),
        (8, 12.4, 1.55, True, U),
        (2, 0.68, 0.34, False, A),
        (2, 0.4, 0.2, True, A),
        (4, 1.36, 0.34, False, A),
        (4, 0.8, 0.2, True, A),
        (2, 2.38, 1.19, False, U),
        (2, 1.2, 0.6, True, U),
        (4, 4.76, 1.19, False, U),
        (4, 2.4, 0.6, True, U),
        (8, 9.52, 1.19, False, U),
        (8, 4.8, 0.6, True, U),
    ]
    # vCPU/RAM: the one-GPU figures times the count, flagged as scaled; A100 has none.
    assert [
        (o.gpu_count, o.vcpus, o.ram_gib, o.country, o.extras.get("specs_scaled_from_1_gpu"))
        for o in multi
        if not o.spot
    ] == [
        (2, 32.0, 250.0, "US", True),
        (4, 64.0, 500.0, "US", True),
        (8, 128.0, 1000.0, "US", True),
        (2, 10.0, 58.0, "US", True),
        (4, 20.0, 116.0, "US", True),
        (8, 40.0, 232.0, "US", True),
        (2, None, None, None, None),
        (4, None, None, None, None),
        (8, None, None, None, None),
        (2, 48.0, 566.0, "US", True),
        (4, 96.0, 1132.0, "US", True),
        (8, 192.0, 2264.0, "US", True),
        (2, 24.0, 192.0, "CA", True),
        (4, 48.0, 384.0, "CA", True),
        (8, 96.0, 768.0, "CA", True),
        (2, 12.0, 82.0, "SE", True),
        (4, 24.0, 164.0, "SE", True),
        (2, None, None, None, None),
        (4, None, None, None, None),
        (8, None, None, None, None),
    ]
    # On-demand and spot of one count are the same pod: same specs, same flag.
    specs = {
        o.id.removesuffix(":spot").removesuffix(":ondemand"): (
            o.vcpus,
            o.ram_gib,
            o.extras.get("specs_scaled_from_1_gpu"),
        )
        for o in multi
        if not o.spot
    }
    for o in (o for o in multi if o.spot):
        pod = o.id.removesuffix(":spot")
        assert (o.vcpus, o.ram_gib, o.extras.get("specs_scaled_from_1_gpu")) == specs[pod]
    eight = next(o for o in offers if o.id == f"runpod:8x_{h100}:secure:spot")
    assert eight.extras == {
        "cloud": "secure",
        "display_name": "H100 SXM",
        "max_gpu_count": 8,
        "max_unreserved_gpu_count": 8,
        "minimum_bid_per_gpu_usd": 1.75,
        "specs_scaled_from_1_gpu": True,
    }
    assert eight.observed_at == NOW
    assert eight.region is None


def _rtx4090(**fields: Any) -> dict[str, Any]:
    """The secure fixture's RTX 4090 alone, with top-level fields overridden (None drops)."""
    payload: dict[str, Any] = load_fixture("runpod", "gpu_types_secure.json")
    gpu = payload["data"]["gpuTypes"][1]
    for key, value in fields.items():
        if value is None:
            gpu.pop(key, None)
        else:
            gpu[key] = value
    payload["data"]["gpuTypes"] = [gpu]
    return payload


NO_MAX = {"maxGpuCount": None, "maxGpuCountSecureCloud": None, "maxGpuCountCommunityCloud": None}


@pytest.mark.parametrize(
    ("cloud", "fields", "counts"),
    [
        pytest.param("secure", {"maxGpuCountSecureCloud": 6}, [1, 2, 4], id="secure-max-6"),
        pytest.param("secure", {"maxGpuCountSecureCloud": 8}, [1, 2, 4, 8], id="secure-max-8"),
        pytest.param("secure", {"maxGpuCountSecureCloud": 16, "maxGpuCount": 2},
                     [1, 2, 4, 8], id="per-cloud-wins-over-maxGpuCount"),
        pytest.param("community", {"maxGpuCountSecureCloud": 8, "maxGpuCountCommunityCloud": 2},
                     [1, 2], id="community-uses-its-own-max"),
        pytest.param("secure", {"maxGpuCountSecureCloud": None, "maxGpuCount": 4},
                     [1, 2, 4], id="fallback-to-maxGpuCount"),
        pytest.param("community", {"maxGpuCountCommunityCloud": None, "maxGpuCount": 2},
                     [1, 2], id="community-fallback-to-maxGpuCount"),
        pytest.param("secure", {"maxGpuCountSecureCloud": 1}, [1], id="max-1"),
        pytest.param("secure", {"maxGpuCountSecureCloud": 0}, [1], id="max-0-keeps-one-gpu"),
        pytest.param("secure", NO_MAX, [1], id="no-max-reported"),
    ],
)  # fmt: skip
def test_multi_gpu_counts_stop_at_the_clouds_max(
    cloud: Literal["secure", "community"], fields: dict[str, Any], counts: list[int]
) -> None:
    offers = parse_offers(_rtx4090(**fields), cloud=cloud, observed_at=NOW)
    assert [o.id for o in offers] == [
        f"runpod:{n}x_NVIDIA_GeForce_RTX_4090:{cloud}:{kind}"
        for n in counts
        for kind in ("ondemand", "spot")
    ]
    assert [o.gpu_count for o in offers] == [n for n in counts for _ in range(2)]


@pytest.mark.parametrize(
    ("lowest", "expected"),
    [
        pytest.param({}, "AAAA", id="no-count-fields"),
        pytest.param({"maxUnreservedGpuCount": 4}, "AAAU", id="above-max-unreserved"),
        pytest.param({"availableGpuCounts": [1, 2, 8]}, "AAUA", id="not-in-available-counts"),
        pytest.param({"maxUnreservedGpuCount": 8, "availableGpuCounts": [1, 2]}, "AAUU",
                     id="list-rules-out"),
        pytest.param({"maxUnreservedGpuCount": 2, "availableGpuCounts": [1, 2, 4, 8]}, "AAUU",
                     id="max-unreserved-rules-out"),
        pytest.param({"availableGpuCounts": []}, "AUUU", id="empty-list-one-gpu-unchanged"),
        pytest.param({"maxUnreservedGpuCount": 0}, "AUUU", id="zero-unreserved-one-gpu-unchanged"),
        pytest.param({"stockStatus": "Medium", "maxUnreservedGpuCount": 8}, "LLLL",
                     id="follows-one-gpu-stock"),
        pytest.param({"stockStatus": "Weird", "availableGpuCounts": [1, 4]}, "?U?U",
                     id="unknown-stock"),
    ],
)  # fmt: skip
def test_multi_gpu_availability_rules(lowest: dict[str, Any], expected: str) -> None:
    payload = _rtx4090(maxGpuCountSecureCloud=8)
    gpu = payload["data"]["gpuTypes"][0]
    gpu["lowestPrice"] = {"uninterruptablePrice": 0.69, "minimumBidPrice": 0.35,
                          "stockStatus": "High", **lowest}  # fmt: skip
    offers = parse_offers(payload, cloud="secure", observed_at=NOW)
    letters = {Availability.AVAILABLE: "A", Availability.LIMITED: "L",
               Availability.UNAVAILABLE: "U", Availability.UNKNOWN: "?"}  # fmt: skip
    assert [o.gpu_count for o in offers] == [1, 1, 2, 2, 4, 4, 8, 8]
    # on-demand and spot of one count always agree
    assert "".join(letters[o.availability] for o in offers) == "".join(c * 2 for c in expected)


def test_scaling_uses_whichever_spec_is_known() -> None:
    payload = _rtx4090(maxGpuCountSecureCloud=2)
    payload["data"]["gpuTypes"][0]["lowestPrice"]["minVcpu"] = None
    offers = parse_offers(payload, cloud="secure", observed_at=NOW)
    assert [(o.gpu_count, o.vcpus, o.ram_gib, o.extras.get("specs_scaled_from_1_gpu"))
            for o in offers] == [
        (1, None, 29.0, None), (1, None, 29.0, None), (2, None, 58.0, True), (2, None, 58.0, True)
    ]  # fmt: skip


def test_requests_one_per_cloud_without_auth_header(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    route = http_mock.post(URL).mock(side_effect=by_cloud)

    provider().fetch(client)

    bodies = [json.loads(c.request.content) for c in route.calls]
    # Both clouds are asked at once, so their order on the wire varies.
    bodies.sort(key=lambda b: not b["variables"]["lowestPriceInput"]["secureCloud"])
    assert bodies == [
        {
            "query": GPU_TYPES_QUERY,
            "variables": {"lowestPriceInput": {"gpuCount": 1, "secureCloud": secure}},
        }
        for secure in (True, False)
    ]
    assert "lowestPrice(input: $lowestPriceInput)" in GPU_TYPES_QUERY
    for field in (
        "uninterruptablePrice",
        "maxGpuCount",
        "maxGpuCountSecureCloud",
        "maxGpuCountCommunityCloud",
        "maxUnreservedGpuCount",
        "availableGpuCounts",
    ):
        assert f"    {field}\n" in GPU_TYPES_QUERY
    for call in route.calls:
        assert call.request.method == "POST"
        assert "authorization" not in call.request.headers


def test_api_key_sent_as_bearer(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    route = http_mock.post(URL).mock(side_effect=by_cloud)
    provider(credentials={"api_key": "rp-secret"}).fetch(client)
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
    # 1, 2 and 4 GPUs follow the stock status; 8 exceeds maxUnreservedGpuCount (6).
    U = Availability.UNAVAILABLE
    assert [(o.gpu_count, o.availability) for o in offers] == [
        (1, expected), (1, expected), (2, expected), (2, expected),
        (4, expected), (4, expected), (8, U), (8, U),
    ]  # fmt: skip


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
        f"runpod:{n}x_AMD_Instinct_MI300X_OAM:secure:ondemand" for n in (1, 2, 4, 8)
    ]


def test_malformed_gpu_types_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    payload = load_fixture("runpod", "gpu_types_partly_malformed.json")
    skips = Skips("runpod")
    with caplog.at_level(logging.DEBUG, logger="gpubroker.providers"):
        offers = parse_offers(payload, cloud="secure", observed_at=NOW, skips=skips)
    assert [o.id for o in offers] == [
        "runpod:1x_NVIDIA_GeForce_RTX_4090:secure:ondemand",
        "runpod:1x_NVIDIA_GeForce_RTX_4090:secure:spot",
        "runpod:2x_NVIDIA_GeForce_RTX_4090:secure:ondemand",
        "runpod:2x_NVIDIA_GeForce_RTX_4090:secure:spot",
        "runpod:4x_NVIDIA_GeForce_RTX_4090:secure:ondemand",
        "runpod:4x_NVIDIA_GeForce_RTX_4090:secure:spot",
    ]
    assert skips.as_dict() == {"malformed": 3}
    assert_accounted(len(payload["data"]["gpuTypes"]), skips)
    # --debug names each skipped row: by its id, or by its place when it has none.
    assert caplog.messages == [
        "runpod: skipped 'NVIDIA H100 80GB HBM3': malformed",
        "runpod: skipped '#2': malformed",
        "runpod: skipped '#3': malformed",
    ]


def test_empty_gpu_types_is_no_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(return_value=httpx.Response(200, json={"data": {"gpuTypes": []}}))
    assert provider().fetch(client).offers == []


def test_graphql_error_is_response_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    route = http_mock.post(URL).mock(
        return_value=httpx.Response(200, json=load_fixture("runpod", "graphql_error.json"))
    )
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert str(info.value) == (
        'runpod: GraphQL error: Cannot query field "lowestPrice" on type "GpuType".'
    )
    assert info.value.provider == "runpod"
    assert route.call_count == 2  # both clouds are asked at once; neither is retried


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
        provider().fetch(client)
    assert info.value.provider == "runpod"


def test_html_502_is_http_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(
        return_value=httpx.Response(
            502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 502
    assert str(info.value) == "runpod: HTTP 502 Bad Gateway: HTML error page"


def test_401_is_invalid_credentials(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(return_value=httpx.Response(401, text="Unauthorized"))
    with pytest.raises(InvalidCredentialsError) as info:
        provider(credentials={"api_key": "rp-secret"}).fetch(client)
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
    offers = provider().fetch(client).offers
    assert sleeps == [3.0]
    assert route.call_count == 3
    assert len(offers) == 50


def test_persistent_503_is_http_error_after_retries(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.post(URL).mock(return_value=httpx.Response(503, text="oops"))
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 503
    assert route.call_count == 6  # both clouds, each tried three times
    assert len(sleeps) == 4


def test_timeout_is_provider_timeout(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError):
        provider().fetch(client)


def test_base_url_override(
    http_mock: respx.MockRouter, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_RUNPOD_URL", "http://runpod.test")
    route = http_mock.post("http://runpod.test/graphql").mock(side_effect=by_cloud)
    assert len(provider().fetch(client).offers) == 50
    assert route.call_count == 2


def test_provider_declares_optional_key() -> None:
    assert RunpodProvider.name == "runpod"
    assert RunpodProvider.needs_auth() is False
    assert [(c.field, c.env_var) for c in RunpodProvider.credentials] == [
        ("api_key", "RUNPOD_API_KEY")
    ]


# --- fidelity: the recorded answer (issue 11) -------------------------------------------


def recorded() -> dict[str, Any]:
    return load_fixture("runpod", "gpu_types_recorded.json")  # type: ignore[no-any-return]


@pytest.mark.parametrize("cloud", ["secure", "community"])
def test_recorded_answer_every_row_is_an_offer_or_a_counted_skip(
    cloud: Literal["secure", "community"],
) -> None:
    skips = Skips("runpod")
    offers = parse_offers(recorded(), cloud=cloud, observed_at=NOW, skips=skips)

    assert_accounted(len(recorded()["data"]["gpuTypes"]), skips)
    assert offers
    assert unresolved(offers) == set()


def test_recorded_answer_skips_by_reason() -> None:
    secure, community = Skips("runpod"), Skips("runpod")
    parse_offers(recorded(), cloud="secure", observed_at=NOW, skips=secure)
    parse_offers(recorded(), cloud="community", observed_at=NOW, skips=community)

    # The MIG slice is a fraction of a B300; "unknown" is RunPod's placeholder type.
    assert secure.as_dict() == {
        "fractional GPU": 1,
        "not on secure cloud": 2,
        "unknown shape": 1,
    }
    # The MIG slice is Secure Cloud only.
    assert community.as_dict() == {"not on community cloud": 4, "unknown shape": 1}


@pytest.mark.parametrize(
    ("gpu_id", "model"),
    [
        ("NVIDIA GeForce RTX 3090 Ti", "RTX3090TI"),
        ("NVIDIA RTX 4000 Ada Generation", "RTX4000-ADA"),
        ("NVIDIA RTX 4000 SFF Ada Generation", "RTX4000-SFF-ADA"),
        ("NVIDIA RTX PRO 4000 Blackwell", "RTX-PRO-4000"),
    ],
)
def test_real_gpu_type_ids_resolve_in_the_registry(gpu_id: str, model: str) -> None:
    offers = [
        o
        for cloud in ("secure", "community")
        for o in parse_offers(recorded(), cloud=cloud, observed_at=NOW)  # type: ignore[arg-type]
        if o.instance_type == gpu_id
    ]
    assert offers
    assert {o.gpu_model for o in offers} == {model}


def test_spot_is_priced_from_the_spot_list_price_not_the_minimum_bid() -> None:
    # Recorded: lowestPrice.minimumBidPrice equals the on-demand price (0.34), while the
    # spot list prices are 0.50 (secure) and 0.20 (community).
    def one_gpu(cloud: Literal["secure", "community"]) -> dict[bool, float]:
        return {
            o.spot: o.price_per_hour_usd
            for o in parse_offers(recorded(), cloud=cloud, observed_at=NOW)
            if o.instance_type == "NVIDIA GeForce RTX 4090" and o.gpu_count == 1
        }

    assert one_gpu("secure") == {False: 0.34, True: 0.5}
    assert one_gpu("community") == {False: 0.34, True: 0.2}


def test_no_spot_offer_without_a_spot_price() -> None:
    payload = recorded()
    gpu = next(g for g in payload["data"]["gpuTypes"] if g["id"] == "NVIDIA L4")
    gpu["secureSpotPrice"] = None  # minimumBidPrice stays 0.44 (= on-demand)

    offers = parse_offers(payload, cloud="secure", observed_at=NOW)

    assert not [o for o in offers if o.instance_type == "NVIDIA L4" and o.spot]
    assert [o for o in offers if o.instance_type == "NVIDIA L4" and not o.spot]


def test_minimum_bid_is_kept_as_an_extra() -> None:
    offers = parse_offers(recorded(), cloud="secure", observed_at=NOW)
    rtx = next(o for o in offers if o.instance_type == "NVIDIA GeForce RTX 4090")
    assert rtx.extras["minimum_bid_per_gpu_usd"] == 0.34


def test_fetch_reports_skips_of_both_clouds(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    http_mock.post(URL).mock(return_value=httpx.Response(200, json=recorded()))

    result = provider().fetch(client)

    assert result.skipped == {
        "fractional GPU": 1,
        "not on community cloud": 4,
        "not on secure cloud": 2,
        "unknown shape": 2,
    }
    assert_accounted(2 * len(recorded()["data"]["gpuTypes"]), result)
