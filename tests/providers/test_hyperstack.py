"""Hyperstack provider: flavors × price book, the api_key header, error translation."""

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
from gpubroker.providers.hyperstack import (
    HyperstackProvider,
    country_for_region,
    parse_offers,
    parse_pricebook,
)
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted, unresolved

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
BASE = "https://infrahub-api.nexgencloud.com/v1"
FLAVORS = f"{BASE}/core/flavors"
PRICEBOOK = f"{BASE}/pricebook"
KEY = {"api_key": "secret_hyperstack_key"}


def provider(**kwargs: Any) -> HyperstackProvider:
    kwargs.setdefault("credentials", KEY)
    return HyperstackProvider(now=lambda: NOW, **kwargs)


def flavors() -> httpx.Response:
    return httpx.Response(200, json=load_fixture("hyperstack", "flavors.json"))


def pricebook() -> httpx.Response:
    return httpx.Response(200, json=load_fixture("hyperstack", "pricebook.json"))


def mock_both(http_mock: respx.MockRouter) -> tuple[respx.Route, respx.Route]:
    return (
        http_mock.get(FLAVORS).mock(return_value=flavors()),
        http_mock.get(PRICEBOOK).mock(return_value=pricebook()),
    )


def test_fetch_joins_flavors_with_pricebook(
    http_mock: respx.MockRouter, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    flavors_route, pricebook_route = mock_both(http_mock)

    with caplog.at_level(logging.INFO, logger="gpubroker.providers.hyperstack"):
        result = provider().fetch(client)
    offers = result.offers
    assert result.skipped == {"no GPU": 1, "no price": 1}
    flavors = load_fixture("hyperstack", "flavors.json")["data"]
    assert_accounted(sum(len(g["flavors"]) for g in flavors), result)

    # n1-cpu-small has no GPU; L40 is priced 0 in the price book, so it is unpriced.
    assert [(o.id, o.instance_type) for o in offers] == [
        ("hyperstack:n3-A100x1:CANADA-1:ondemand", "n3-A100x1"),
        ("hyperstack:n3-A100x8:CANADA-1:ondemand", "n3-A100x8"),
        ("hyperstack:n3-H100-SXM5x8:NORWAY-1:ondemand", "n3-H100-SXM5x8"),
        ("hyperstack:n3-RTX-A6000x1:US-1:ondemand", "n3-RTX-A6000x1"),
        ("hyperstack:n3-RTX-A4000x2:ICELAND-1:ondemand", "n3-RTX-A4000x2"),
    ]
    assert [(o.gpu_model, o.gpu_name_raw, o.gpu_count, o.gpu_memory_gib) for o in offers] == [
        ("A100-80GB-PCIE", "A100-80G-PCIe", 1, 80.0),
        ("A100-80GB-PCIE", "A100-80G-PCIe", 8, 80.0),
        ("H100-SXM", "H100-80G-SXM5", 8, 80.0),
        ("A6000", "RTX-A6000", 1, 48.0),
        ("A4000", "RTX-A4000", 2, 16.0),
    ]
    # gpu_count × price-book value; the first A100 entry (1.35) wins over the later 9.99.
    assert [(o.price_per_hour_usd, o.price_per_gpu_hour_usd) for o in offers] == [
        (1.35, 1.35),
        (10.8, 1.35),
        (19.2, 2.4),
        (0.5, 0.5),
        (0.3, 0.15),
    ]
    # RAM as given (GB); disk = root + ephemeral.
    assert [(o.vcpus, o.ram_gib, o.disk_gib) for o in offers] == [
        (28.0, 120.0, 850.0),
        (252.0, 960.0, 6600.0),
        (192.0, 1800.0, 32100.0),
        (8.0, 57.0, 100.0),
        (12.0, 45.0, 100.0),
    ]
    A, U, K = Availability.AVAILABLE, Availability.UNAVAILABLE, Availability.UNKNOWN
    assert [(o.region, o.country, o.availability) for o in offers] == [
        ("CANADA-1", "CA", A),
        ("CANADA-1", "CA", U),
        ("NORWAY-1", "NO", A),
        ("US-1", "US", K),  # no stock_available field
        ("ICELAND-1", None, A),
    ]
    assert all(not o.spot and o.provider == "hyperstack" and o.observed_at == NOW for o in offers)
    assert offers[3].extras == {
        "flavor_id": 201,
        "root_disk_gb": 100.0,
        "ephemeral_disk_gb": 0.0,
        "discount_applied": True,
    }

    for route in (flavors_route, pricebook_route):
        assert route.call_count == 1
        request = route.calls.last.request
        assert request.method == "GET"
        assert request.headers["api_key"] == "secret_hyperstack_key"
        assert "authorization" not in request.headers
        assert dict(request.url.params) == {}


@pytest.mark.parametrize(
    ("region", "country"),
    [
        ("CANADA-1", "CA"),
        ("NORWAY-1", "NO"),
        ("US-1", "US"),
        ("us-2", "US"),
        ("ICELAND-1", None),
        ("", None),
        (None, None),
    ],
)
def test_country_for_region(region: str | None, country: str | None) -> None:
    assert country_for_region(region) == country


def test_pricebook_skips_bad_and_unpriced_entries() -> None:
    book = [
        {"name": "A100-80G-PCIe", "value": 1.35, "discount_applied": False},
        {"name": "H100-80G-SXM5", "value": "2.40"},
        {"name": "L40", "value": 0},
        {"name": "RTX-A6000", "value": "call us"},
        {"value": 0.5},
        "RTX-A4000",
        {"name": "A100-80G-PCIe", "value": 9.99},
    ]
    assert parse_pricebook(book) == {
        "A100-80G-PCIe": (1.35, False),
        "H100-80G-SXM5": (2.4, None),
    }


def test_malformed_flavors_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    book = [
        *load_fixture("hyperstack", "pricebook.json"),
        {"name": "B300-288G-SXM6", "value": 5.0},
        {"name": "H100-80G-PCIe", "value": 1.9},
    ]
    payload = load_fixture("hyperstack", "flavors_partly_malformed.json")
    skips = Skips("hyperstack")
    with caplog.at_level(logging.DEBUG, logger="gpubroker.providers"):
        offers = parse_offers(payload, book, observed_at=NOW, skips=skips)
    # A GPU the registry does not know is kept under its own name; a flavor without a region
    # or GPU name takes its group's.
    rows = [(o.id, o.gpu_name_raw, o.gpu_count, o.price_per_hour_usd, o.region) for o in offers]
    assert rows == [
        ("hyperstack:n3-A100x1:CANADA-1:ondemand", "A100-80G-PCIe", 1, 1.35, "CANADA-1"),
        ("hyperstack:n4-B300x8:US-1:ondemand", "B300-288G-SXM6", 8, 40.0, "US-1"),
        ("hyperstack:n3-H100x1:US-1:ondemand", "H100-80G-PCIe", 1, 1.9, "US-1"),
    ]  # fmt: skip
    assert offers[2].gpu_model == "H100-PCIE"
    # The group whose flavors are null counts once: its flavors cannot be counted.
    assert skips.as_dict() == {"malformed": 4}
    assert_accounted(4 + 1 + 1 + 1, skips)
    assert "hyperstack: skipped 'n3-A100x2': malformed" in caplog.messages


def test_missing_key_raises_before_any_request(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    flavors_route, pricebook_route = mock_both(http_mock)
    with pytest.raises(MissingCredentialsError) as info:
        HyperstackProvider(credentials={}).fetch(client)
    assert info.value.exit_code == 4
    assert info.value.hint == "run `gpubroker keys set hyperstack` or set HYPERSTACK_API_KEY"
    assert (flavors_route.call_count, pricebook_route.call_count) == (0, 0)


def test_empty_listing_is_no_offers(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(FLAVORS).mock(
        return_value=httpx.Response(200, json={"status": True, "message": "OK", "data": []})
    )
    http_mock.get(PRICEBOOK).mock(return_value=pricebook())
    assert provider().fetch(client).offers == []


def test_empty_pricebook_prices_nothing(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(FLAVORS).mock(return_value=flavors())
    http_mock.get(PRICEBOOK).mock(return_value=httpx.Response(200, json=[]))
    assert provider().fetch(client).offers == []


def test_status_false_with_200_is_response_error(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    body = load_fixture("hyperstack", "error_invalid_key.json")
    http_mock.get(FLAVORS).mock(return_value=httpx.Response(200, json=body))
    pricebook_route = http_mock.get(PRICEBOOK).mock(return_value=pricebook())
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert str(info.value) == "hyperstack: API error: Invalid or expired API key"
    assert pricebook_route.call_count == 1  # asked at the same time as the flavors


def test_pricebook_error_envelope_is_response_error(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    http_mock.get(FLAVORS).mock(return_value=flavors())
    http_mock.get(PRICEBOOK).mock(
        return_value=httpx.Response(200, json={"status": False, "message": "Rate limit exceeded"})
    )
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert str(info.value) == "hyperstack: API error: Rate limit exceeded"


def test_401_is_invalid_credentials_with_message(
    http_mock: respx.MockRouter, client: httpx.Client
) -> None:
    body = load_fixture("hyperstack", "error_invalid_key.json")
    http_mock.get(FLAVORS).mock(return_value=httpx.Response(401, json=body))
    with pytest.raises(InvalidCredentialsError) as info:
        provider().fetch(client)
    assert info.value.exit_code == 4
    assert str(info.value) == (
        "hyperstack: credentials rejected (HTTP 401 Unauthorized: Invalid or expired API key)"
    )
    assert "secret_hyperstack_key" not in str(info.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html><body>Sign in</body></html>",
                       headers={"content-type": "text/html"}),
        httpx.Response(200, json={"status": True, "data": {"A100": []}}),
        httpx.Response(200, json={"status": True, "message": "OK"}),
        httpx.Response(200, json=[]),
        httpx.Response(200, text='{"status": true, "data": [{"gpu": "A100-80G',
                       headers={"content-type": "application/json"}),
    ],
    ids=["html-200", "wrong-type", "missing-data", "bare-list", "truncated-json"],
)  # fmt: skip
def test_bad_flavor_payloads_raise_response_error(
    http_mock: respx.MockRouter, client: httpx.Client, response: httpx.Response
) -> None:
    http_mock.get(FLAVORS).mock(return_value=response)
    http_mock.get(PRICEBOOK).mock(return_value=pricebook())
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert info.value.provider == "hyperstack"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>oops</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json={"status": True, "data": []}),
        httpx.Response(200, text='[{"name": "A100', headers={"content-type": "application/json"}),
    ],
    ids=["html-200", "object-not-array", "truncated-json"],
)
def test_bad_pricebook_payloads_raise_response_error(
    http_mock: respx.MockRouter, client: httpx.Client, response: httpx.Response
) -> None:
    http_mock.get(FLAVORS).mock(return_value=flavors())
    http_mock.get(PRICEBOOK).mock(return_value=response)
    with pytest.raises(ProviderResponseError) as info:
        provider().fetch(client)
    assert info.value.provider == "hyperstack"


def test_html_502_is_http_error(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(FLAVORS).mock(
        return_value=httpx.Response(
            502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 502
    assert str(info.value) == "hyperstack: HTTP 502 Bad Gateway: HTML error page"


def test_429_with_retry_after_is_retried(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    http_mock.get(FLAVORS).mock(return_value=flavors())
    route = http_mock.get(PRICEBOOK).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), pricebook()]
    )
    offers = provider().fetch(client).offers
    assert sleeps == [3.0]
    assert route.call_count == 2
    assert len(offers) == 5


def test_persistent_503_is_http_error_after_retries(
    http_mock: respx.MockRouter, client: httpx.Client, sleeps: list[float]
) -> None:
    route = http_mock.get(FLAVORS).mock(
        return_value=httpx.Response(503, json={"status": False, "message": "Internal error"})
    )
    with pytest.raises(ProviderHTTPError) as info:
        provider().fetch(client)
    assert info.value.status_code == 503
    assert str(info.value) == "hyperstack: HTTP 503 Service Unavailable: Internal error"
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_timeout_is_provider_timeout(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    http_mock.get(FLAVORS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError):
        provider().fetch(client)


def test_base_url_override(
    http_mock: respx.MockRouter, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_HYPERSTACK_URL", "https://hyperstack.example.test/v1/")
    f = http_mock.get("https://hyperstack.example.test/v1/core/flavors").mock(
        return_value=flavors()
    )
    p = http_mock.get("https://hyperstack.example.test/v1/pricebook").mock(return_value=pricebook())
    assert len(provider().fetch(client).offers) == 5
    assert (f.call_count, p.call_count) == (1, 1)


def test_provider_declares_required_key() -> None:
    assert HyperstackProvider.name == "hyperstack"
    assert HyperstackProvider.needs_auth() is True
    assert [(c.field, c.env_var, c.required) for c in HyperstackProvider.credentials] == [
        ("api_key", "HYPERSTACK_API_KEY", True)
    ]


# --- fidelity: spot flavors and the recorded answer (issue 11) --------------------------


def recorded() -> tuple[Any, Any]:
    return (
        load_fixture("hyperstack", "flavors_recorded.json"),
        load_fixture("hyperstack", "pricebook_recorded.json"),
    )


def test_recorded_answer_every_flavor_is_an_offer_or_a_counted_skip() -> None:
    flavors, book = recorded()
    skips = Skips("hyperstack")
    offers = parse_offers(flavors, book, observed_at=NOW, skips=skips)

    assert_accounted(sum(len(g["flavors"]) for g in flavors["data"]), skips)
    assert skips.as_dict() == {"no GPU": 2, "no price": 1}  # A100-80G-SXM4: not in the book
    assert unresolved(offers) == set()


def test_spot_flavor_groups_are_spot_offers_at_their_own_price() -> None:
    flavors, book = recorded()
    offers = {o.instance_type: o for o in parse_offers(flavors, book, observed_at=NOW)}

    spot = offers["n3-H100x1-spot"]
    assert (spot.spot, spot.price_per_hour_usd, spot.gpu_model) == (True, 1.52, "H100-PCIE")
    assert spot.id == "hyperstack:n3-H100x1-spot:CANADA-1:spot"
    assert spot.gpu_name_raw == "H100-80G-PCIe"
    on_demand = offers["n3-H100x1"]
    assert (on_demand.spot, on_demand.price_per_hour_usd) == (False, 1.9)
    # "L40-spot" is an L40 (not an L40S) sold as spot.
    l40 = offers["n3-L40x1-spot"]
    assert (l40.spot, l40.gpu_model, l40.price_per_hour_usd) == (True, "L40", 0.79)
    assert [o.instance_type for o in offers.values() if o.spot] == [
        "n3-H100x1-spot",
        "n3-L40x1-spot",
    ]


def test_a_spot_flavor_is_never_priced_at_the_on_demand_rate() -> None:
    flavors, book = recorded()
    book = [e for e in book if not e["name"].endswith("-spot")]
    skips = Skips("hyperstack")
    offers = parse_offers(flavors, book, observed_at=NOW, skips=skips)
    assert not [o for o in offers if o.spot]
    assert skips.as_dict() == {"no GPU": 2, "no price": 3}


def test_string_prices_and_zero_components_in_the_price_book() -> None:
    _, book = recorded()
    prices = parse_pricebook(book)
    assert prices["H100-80G-PCIe"] == (1.9, False)
    assert "vCPU" not in prices  # "0E-9"


def test_fetch_reports_skips(http_mock: respx.MockRouter, client: httpx.Client) -> None:
    flavors, book = recorded()
    http_mock.get(FLAVORS).mock(return_value=httpx.Response(200, json=flavors))
    http_mock.get(PRICEBOOK).mock(return_value=httpx.Response(200, json=book))

    result = provider().fetch(client)

    assert result.skipped == {"no GPU": 2, "no price": 1}
    assert_accounted(sum(len(g["flavors"]) for g in flavors["data"]), result)
