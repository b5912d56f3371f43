"""Lambda Cloud provider (module ``lambdalabs``): request, mapping and error translation."""

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
from gpubroker.providers.lambdalabs import (
    LambdaProvider,
    country_for_region,
    gpu_from_description,
    parse_offers,
)
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted, unresolved

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
URL = "https://cloud.lambda.ai/api/v1/instance-types"
KEY = {"api_key": "secret_lambda_key"}


def provider(**kwargs: Any) -> LambdaProvider:
    kwargs.setdefault("credentials", KEY)
    return LambdaProvider(now=lambda: NOW, **kwargs)


def listing() -> httpx.Response:
    return httpx.Response(200, json=load_fixture("lambda", "instance_types.json"))


def test_fetch_maps_instance_types_per_region(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    route = http_mock.get(URL).mock(return_value=listing())

    offers = provider().fetch(client).offers

    A, U = Availability.AVAILABLE, Availability.UNAVAILABLE
    # cpu_4x_general (gpus: 0) is left out; gpu_1x_h100_pcie is sold out everywhere, so it
    # is one offer without a region.
    assert [(o.id, o.instance_type) for o in offers] == [
        ("lambda:gpu_1x_a10:us-east-1:ondemand", "gpu_1x_a10"),
        ("lambda:gpu_1x_h100_pcie:any:ondemand", "gpu_1x_h100_pcie"),
        ("lambda:gpu_8x_h100_sxm5:us-south-2:ondemand", "gpu_8x_h100_sxm5"),
        ("lambda:gpu_8x_h100_sxm5:us-west-1:ondemand", "gpu_8x_h100_sxm5"),
        ("lambda:gpu_8x_v100:us-west-2:ondemand", "gpu_8x_v100"),
        ("lambda:gpu_8x_a100_80gb_sxm4:europe-central-1:ondemand", "gpu_8x_a100_80gb_sxm4"),
        ("lambda:gpu_1x_gh200:us-east-3:ondemand", "gpu_1x_gh200"),
    ]
    assert [(o.gpu_model, o.gpu_name_raw, o.gpu_count, o.gpu_memory_gib) for o in offers] == [
        ("A10", "A10 PCIe", 1, 24.0),
        ("H100-PCIE", "H100 PCIe", 1, 80.0),
        ("H100-SXM", "H100 SXM5", 8, 80.0),
        ("H100-SXM", "H100 SXM5", 8, 80.0),
        ("V100", "V100", 8, 16.0),
        ("A100-80GB", "A100 SXM4", 8, 80.0),
        ("GH200", "GH200", 1, 96.0),
    ]
    # price_cents_per_hour / 100 is the whole instance.
    assert [(o.price_per_hour_usd, o.price_per_gpu_hour_usd) for o in offers] == [
        (0.75, 0.75),
        (2.49, 2.49),
        (23.92, 2.99),
        (23.92, 2.99),
        (4.4, 0.55),
        (14.32, 1.79),
        (1.49, 1.49),
    ]
    assert [(o.vcpus, o.ram_gib, o.disk_gib) for o in offers] == [
        (30.0, 200.0, 1400.0),
        (26.0, 200.0, 1024.0),
        (208.0, 1800.0, 22000.0),
        (208.0, 1800.0, 22000.0),
        (88.0, 448.0, 5888.0),
        (240.0, 1800.0, 19500.0),
        (64.0, 432.0, 4096.0),
    ]
    assert [(o.region, o.country, o.availability) for o in offers] == [
        ("us-east-1", "US", A),
        (None, None, U),
        ("us-south-2", "US", A),
        ("us-west-1", "US", A),
        ("us-west-2", "US", A),
        ("europe-central-1", "DE", A),
        ("us-east-3", "US", A),
    ]
    assert all(not o.spot and o.provider == "lambda" and o.observed_at == NOW for o in offers)
    assert offers[0].extras == {
        "description": "1x A10 (24 GB PCIe)",
        "region_description": "Virginia, USA",
    }
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.headers["authorization"] == "Bearer secret_lambda_key"


@pytest.mark.parametrize(
    ("description", "gpu_description", "expected"),
    [
        ("8x A100 (80 GB SXM4)", None, ("A100 SXM4", 80.0)),
        ("1x H100 (80 GB PCIe)", None, ("H100 PCIe", 80.0)),
        ("8x Tesla V100 (16 GB)", None, ("V100", 16.0)),
        ("1x GH200 (96 GB)", None, ("GH200", 96.0)),
        ("8x B200 (180 GB SXM6)", None, ("B200 SXM6", 180.0)),
        ("10x RTX 6000 Ada (48 GB)", None, ("RTX 6000 Ada", 48.0)),
        ("Mystery box", "A6000 (48 GB)", ("A6000", 48.0)),
        ("2x Quantum GPU", None, ("Quantum GPU", None)),
    ],
)
def test_gpu_from_description(
    description: str, gpu_description: str | None, expected: tuple[str, float | None]
) -> None:
    assert gpu_from_description(description, gpu_description) == expected


@pytest.mark.parametrize(
    ("name", "description", "country"),
    [
        ("us-east-1", "Virginia, USA", "US"),
        ("us-midwest-1", None, "US"),
        ("europe-central-1", "Frankfurt, Germany", "DE"),
        ("asia-northeast-1", "Tokyo, Japan", "JP"),
        ("europe-central-1", None, None),
        ("me-west-1", "Somewhere", None),
        # Regions Lambda describes by their country alone (issue 11).
        ("europe-central-1", "Germany", "DE"),
        ("asia-south-1", "India", "IN"),
        ("me-west-1", "Israel", "IL"),
        ("europe-south-1", "Italy", "IT"),
        ("australia-southeast-1", "Australia", "AU"),
        ("australia-east-1", "Sydney, Australia", "AU"),
        ("us-east-3", "Washington D.C, USA", "US"),
    ],
)
def test_country_for_region(name: str, description: str | None, country: str | None) -> None:
    assert country_for_region(name, description) == country


def test_missing_key_raises_before_any_request(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    route = http_mock.get(URL).mock(return_value=listing())
    with pytest.raises(MissingCredentialsError) as info:
        LambdaProvider(credentials={}).fetch(client)
    assert info.value.exit_code == 4
    assert info.value.hint == "run `gpubroker keys set lambda` or set LAMBDA_API_KEY"
    assert route.call_count == 0


def test_malformed_entries_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    payload = load_fixture("lambda", "instance_types_partly_malformed.json")
    skips = Skips("lambda")
    with caplog.at_level(logging.DEBUG, logger="gpubroker.providers"):
        offers = parse_offers(payload, observed_at=NOW, skips=skips)
    assert [o.id for o in offers] == ["lambda:gpu_1x_a10:us-east-1:ondemand"]
    assert skips.as_dict() == {"malformed": 3}
    assert_accounted(len(payload["data"]), skips)
    assert all(m.endswith(": malformed") for m in caplog.messages)
    assert len(caplog.messages) == 3


def test_empty_listing_is_no_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(return_value=httpx.Response(200, json={"data": {}}))
    assert provider().fetch(client).offers == []


def test_error_body_with_200_is_response_error(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    body = load_fixture("lambda", "error_invalid_key.json")
    http_mock.get(URL).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert str(info.value) == "lambda: API error: API key was invalid, expired, or deleted."


def test_401_is_invalid_credentials_with_lambda_message(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    body = load_fixture("lambda", "error_invalid_key.json")
    http_mock.get(URL).mock(return_value=httpx.Response(401, json=body))
    with pytest.raises(InvalidCredentialsError) as info:
        provider().fetch(client)
    assert info.value.exit_code == 4
    assert str(info.value) == (
        "lambda: credentials rejected "
        "(HTTP 401 Unauthorized: API key was invalid, expired, or deleted.)"
    )
    assert "secret_lambda_key" not in str(info.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html><body>Login</body></html>",
                       headers={"content-type": "text/html"}),
        httpx.Response(200, json={"data": ["gpu_1x_a10"]}),
        httpx.Response(200, json={"instance_types": {}}),
        httpx.Response(200, json=[]),
        httpx.Response(200, text='{"data": {"gpu_1x_a10": {"instance_type"',
                       headers={"content-type": "application/json"}),
    ],
    ids=["html-200", "wrong-type", "missing-data", "bare-list", "truncated-json"],
)  # fmt: skip
def test_bad_payloads_raise_response_error(
    http_mock: respx.MockRouter, client: httpx.Client, response: httpx.Response
) -> None:
    http_mock.get(URL).mock(return_value=response)
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert info.value.provider == "lambda"


def test_html_502_is_http_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(
        return_value=httpx.Response(
            502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 502
    assert str(info.value) == "lambda: HTTP 502 Bad Gateway: HTML error page"


def test_429_with_retry_after_is_retried(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.get(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), listing()]
    )
    offers = provider().fetch(client).offers
    assert sleeps == [1.0]
    assert route.call_count == 2
    assert len(offers) == 7


def test_persistent_503_is_http_error_after_retries(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.get(URL).mock(
        return_value=httpx.Response(
            503, json={"error": {"code": "global/unknown", "message": "Internal error"}}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 503
    assert str(info.value) == "lambda: HTTP 503 Service Unavailable: Internal error"
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_timeout_is_provider_timeout(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError):
        provider().fetch(client)


def test_base_url_override(
    http_mock: respx.MockRouter, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_LAMBDA_URL", "https://cloud.lambdalabs.com/api/v1/")
    route = http_mock.get("https://cloud.lambdalabs.com/api/v1/instance-types").mock(
        return_value=listing()
    )
    assert len(provider().fetch(client).offers) == 7
    assert route.call_count == 1


def test_provider_declares_required_key() -> None:
    assert LambdaProvider.name == "lambda"
    assert LambdaProvider.needs_auth() is True
    assert [(c.field, c.env_var) for c in LambdaProvider.credentials] == [
        ("api_key", "LAMBDA_API_KEY")
    ]


# --- fidelity: the recorded answer (issue 11) -------------------------------------------


def test_recorded_answer_every_type_is_an_offer_or_a_counted_skip() -> None:
    payload = load_fixture("lambda", "instance_types_recorded.json")
    skips = Skips("lambda")
    offers = parse_offers(payload, observed_at=NOW, skips=skips)

    assert_accounted(len(payload["data"]), skips)
    assert skips.as_dict() == {"no GPU": 1}
    assert unresolved(offers) == set()
    # Every region with capacity gets its country, also those described by a country alone.
    countries = {o.region: o.country for o in offers if o.region}
    assert countries == {
        "us-east-1": "US",
        "us-west-1": "US",
        "us-west-3": "US",
        "us-east-3": "US",
        "us-south-1": "US",
        "europe-central-1": "DE",
        "asia-south-1": "IN",
        "me-west-1": "IL",
        "australia-southeast-1": "AU",
        "asia-northeast-2": "JP",
        "europe-south-1": "IT",
    }
