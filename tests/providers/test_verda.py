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
    MissingCredentialsError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from gpubroker.http import make_client
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import Skips
from gpubroker.providers.verda import VerdaProvider, parse_offers
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted, unresolved

BASE = "https://api.verda.com/v1"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
CLIENT_ID = "client-id-123"
SECRET = "s3cr3t-client-secret-value"
TOKEN = load_fixture("verda", "token.json")["access_token"]


def provider(creds: dict[str, str] | None = None) -> VerdaProvider:
    if creds is None:
        creds = {"client_id": CLIENT_ID, "client_secret": SECRET}
    return VerdaProvider(creds, now=lambda: NOW)


def client(sleeps: list[float] | None = None) -> httpx.Client:
    return make_client(sleep=(sleeps.append if sleeps is not None else lambda s: None))


def mock_api(
    router: respx.MockRouter, base: str = BASE, **overrides: httpx.Response
) -> dict[str, respx.Route]:
    """Routes for the token and the four GETs; ``overrides`` replace a response by name."""

    def ok(name: str, fixture: str) -> httpx.Response:
        return overrides.get(name) or httpx.Response(200, json=load_fixture("verda", fixture))

    return {
        "token": router.post(f"{base}/oauth2/token").mock(return_value=ok("token", "token.json")),
        "types": router.get(f"{base}/instance-types").mock(
            return_value=ok("types", "instance_types.json")
        ),
        "avail": router.get(f"{base}/instance-availability", params={"is_spot": "false"}).mock(
            return_value=ok("avail", "availability.json")
        ),
        "spot": router.get(f"{base}/instance-availability", params={"is_spot": "true"}).mock(
            return_value=ok("spot", "spot_availability.json")
        ),
        "locations": router.get(f"{base}/locations").mock(
            return_value=ok("locations", "locations.json")
        ),
    }


def by_id(offers: list[Offer]) -> dict[str, Offer]:
    result = {o.id: o for o in offers}
    assert len(result) == len(offers), "duplicate offer ids"
    return result


def test_realistic_payload_gives_exact_offers(http_mock: respx.MockRouter) -> None:
    mock_api(http_mock)
    with client() as c:
        offers = by_id(provider().fetch(c).offers)

    assert sorted(offers) == [
        "verda:1H100.80S.30V:FIN-01:ondemand",
        "verda:1H100.80S.30V:FIN-01:spot",
        "verda:1H100.80S.30V:ICE-01:ondemand",
        "verda:1V100.6V:FIN-01:ondemand",
        "verda:1V100.6V:FIN-02:spot",
        "verda:2A6000.20V:FIN-01:ondemand",
        "verda:2A6000.20V:any:spot",
        "verda:8B200.240V:any:ondemand",
    ]

    h100 = offers["verda:1H100.80S.30V:FIN-01:ondemand"]
    assert h100.provider == "verda"
    assert h100.instance_type == "1H100.80S.30V"
    assert h100.gpu_model == "H100-SXM"
    assert h100.gpu_name_raw == "H100 SXM5 80GB"
    assert (h100.gpu_count, h100.gpu_memory_gib) == (1, 80)
    assert (h100.vcpus, h100.ram_gib, h100.disk_gib) == (30, 120, None)
    assert (h100.price_per_hour_usd, h100.price_per_gpu_hour_usd) == (2.65, 2.65)
    assert h100.spot is False
    assert (h100.region, h100.country) == ("FIN-01", "FI")
    assert h100.availability is Availability.AVAILABLE
    assert h100.observed_at == NOW
    assert h100.extras == {}

    iceland = offers["verda:1H100.80S.30V:ICE-01:ondemand"]
    assert (iceland.region, iceland.country, iceland.price_per_hour_usd) == ("ICE-01", "IS", 2.65)

    h100_spot = offers["verda:1H100.80S.30V:FIN-01:spot"]
    assert (h100_spot.spot, h100_spot.price_per_hour_usd) == (True, 1.10)
    assert h100_spot.availability is Availability.AVAILABLE

    a6000 = offers["verda:2A6000.20V:FIN-01:ondemand"]
    assert (a6000.gpu_model, a6000.gpu_name_raw) == ("A6000", "RTX A6000 48GB")
    # gpu_memory.size_in_gigabytes is the instance total (96) → 48 per GPU
    assert (a6000.gpu_count, a6000.gpu_memory_gib) == (2, 48)
    assert (a6000.price_per_hour_usd, a6000.price_per_gpu_hour_usd) == (1.98, 0.99)
    assert a6000.extras == {"p2p": "50GB/s"}

    a6000_spot = offers["verda:2A6000.20V:any:spot"]  # no location offers it as spot now
    assert (a6000_spot.region, a6000_spot.country) == (None, None)
    assert a6000_spot.availability is Availability.UNAVAILABLE
    assert (a6000_spot.price_per_hour_usd, a6000_spot.price_per_gpu_hour_usd) == (0.70, 0.35)

    v100 = offers["verda:1V100.6V:FIN-01:ondemand"]
    assert (v100.gpu_model, v100.gpu_name_raw, v100.gpu_memory_gib) == (
        "V100",
        "Tesla V100 16GB",
        16,
    )
    assert (v100.vcpus, v100.ram_gib, v100.disk_gib, v100.price_per_hour_usd) == (6, 23, 225, 0.39)
    v100_spot = offers["verda:1V100.6V:FIN-02:spot"]
    assert (v100_spot.region, v100_spot.country, v100_spot.price_per_hour_usd) == (
        "FIN-02",
        "FI",
        0.14,
    )

    b200 = offers["verda:8B200.240V:any:ondemand"]  # available nowhere; spot_price is null
    assert (b200.gpu_model, b200.gpu_count, b200.gpu_memory_gib) == ("B200", 8, 180)
    assert (b200.price_per_hour_usd, b200.price_per_gpu_hour_usd) == (39.92, 4.99)
    assert (b200.region, b200.availability) == (None, Availability.UNAVAILABLE)

    assert not any("CPU" in key for key in offers)


def test_requests_sent(http_mock: respx.MockRouter) -> None:
    routes = mock_api(http_mock)
    with client() as c:
        provider().fetch(c)

    token_req = routes["token"].calls.last.request
    assert token_req.method == "POST"
    assert json.loads(token_req.content) == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }
    assert "authorization" not in token_req.headers

    for name in ("types", "avail", "spot", "locations"):
        assert routes[name].call_count == 1, name
        req = routes[name].calls.last.request
        assert req.method == "GET"
        assert req.headers["authorization"] == f"Bearer {TOKEN}"
    assert routes["avail"].calls.last.request.url.params["is_spot"] == "false"
    assert routes["spot"].calls.last.request.url.params["is_spot"] == "true"


@pytest.mark.parametrize(
    "creds",
    [
        {},
        {"client_id": CLIENT_ID},
        {"client_secret": SECRET},
        {"client_id": "", "client_secret": ""},
    ],
)
def test_missing_credentials_make_no_request(
    http_mock: respx.MockRouter, creds: dict[str, str]
) -> None:
    routes = mock_api(http_mock)
    with client() as c, pytest.raises(MissingCredentialsError) as info:
        provider(creds).fetch(c)
    assert info.value.exit_code == 4
    hint = info.value.hint or ""
    # the hint names the environment variable of every credential that is missing
    for field, env in (("client_id", "VERDA_CLIENT_ID"), ("client_secret", "VERDA_CLIENT_SECRET")):
        assert (env in hint) == (not creds.get(field))
    assert routes["token"].call_count == 0


@pytest.mark.parametrize("status", [400, 401, 403])
def test_token_rejected_is_invalid_credentials(http_mock: respx.MockRouter, status: int) -> None:
    routes = mock_api(
        http_mock,
        token=httpx.Response(
            status, json={"code": "invalid_client", "message": f"bad client {CLIENT_ID}"}
        ),
    )
    with client() as c, pytest.raises(InvalidCredentialsError) as info:
        provider().fetch(c)
    assert info.value.exit_code == 4
    assert SECRET not in str(info.value)
    assert SECRET not in (info.value.hint or "")
    assert routes["types"].call_count == 0


def test_401_on_listing_is_invalid_credentials(http_mock: respx.MockRouter) -> None:
    mock_api(http_mock, types=httpx.Response(401, json={"message": "token expired"}))
    with client() as c, pytest.raises(InvalidCredentialsError) as info:
        provider().fetch(c)
    assert info.value.exit_code == 4
    assert TOKEN not in str(info.value)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "token_response",
    [
        httpx.Response(200, json={"token_type": "Bearer"}),
        httpx.Response(200, json={"access_token": ""}),
        httpx.Response(200, text="<html>login</html>"),
    ],
)
def test_bad_token_payload(http_mock: respx.MockRouter, token_response: httpx.Response) -> None:
    mock_api(http_mock, token=token_response)
    with client() as c, pytest.raises(ProviderResponseError) as info:
        provider().fetch(c)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "name",
    ["types", "avail", "spot", "locations"],
)
@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<!DOCTYPE html><html>maintenance</html>"),
        httpx.Response(200, json={"data": []}),
        httpx.Response(200, json="nope"),
        httpx.Response(200, headers={"content-type": "application/json"}, text='[{"instance_ty'),
    ],
)
def test_bad_payloads(http_mock: respx.MockRouter, name: str, response: httpx.Response) -> None:
    mock_api(http_mock)[name].mock(return_value=response)
    with client() as c, pytest.raises(ProviderResponseError) as info:
        provider().fetch(c)
    assert info.value.provider == "verda"
    assert SECRET not in str(info.value)
    assert TOKEN not in str(info.value)


def test_502_html(http_mock: respx.MockRouter) -> None:
    routes = mock_api(
        http_mock,
        types=httpx.Response(502, headers={"content-type": "text/html"}, text="<html>502</html>"),
    )
    with client([]) as c, pytest.raises(ProviderHTTPError) as info:
        provider().fetch(c)
    assert info.value.status_code == 502
    assert "HTML error page" in str(info.value)
    assert routes["types"].call_count == 3


def test_empty_listing_is_empty(http_mock: respx.MockRouter) -> None:
    mock_api(http_mock, types=httpx.Response(200, json=[]))
    with client() as c:
        assert provider().fetch(c).offers == []


def test_malformed_items_are_skipped_good_ones_kept(caplog: pytest.LogCaptureFixture) -> None:
    types: list[Any] = load_fixture("verda", "instance_types.json")
    types += [
        "garbage",
        {"instance_type": "1X.1V"},  # no price
        {"instance_type": "1Y.1V", "price_per_hour": "free", "gpu": {"number_of_gpus": 1}},
        {"instance_type": "1Z.1V", "price_per_hour": "1.0", "gpu": {"number_of_gpus": "many"}},
    ]
    availability: list[Any] = load_fixture("verda", "availability.json")
    availability.append({"availabilities": ["1H100.80S.30V"]})  # no location_code
    locations: list[Any] = load_fixture("verda", "locations.json")
    locations.append({"name": "Nowhere"})
    skips = Skips("verda")
    with caplog.at_level(logging.DEBUG, logger="gpubroker"):
        offers = parse_offers(
            types,
            observed_at=NOW,
            availability=availability,
            spot_availability=load_fixture("verda", "spot_availability.json"),
            locations=locations,
            skips=skips,
        )
    assert len(offers) == 8
    # Rows of the listing are counted; a bad availability or location entry only costs a
    # region or a country, so it is logged rather than counted.
    assert skips.as_dict() == {"malformed": 4, "no GPU": 1}
    assert_accounted(len(types), skips)
    assert "verda: skipped '1X.1V': malformed" in caplog.messages
    assert "verda: ignored malformed availability entry '#2'" in caplog.messages
    assert "verda: ignored malformed location '#3'" in caplog.messages


def test_numeric_prices_zero_spot_and_unknown_location() -> None:
    item = {
        "instance_type": "4L40S.80V",
        "price_per_hour": 4.4,  # a number instead of a string is accepted
        "spot_price": "0.00",  # no spot price: dropped
        "gpu": {"description": "4x L40S 48GB", "number_of_gpus": 4},
        "gpu_memory": {"size_in_gigabytes": 192},
    }
    avail = [{"location_code": "NEW-01", "availabilities": ["4L40S.80V"]}]
    (offer,) = parse_offers([item], observed_at=NOW, availability=avail)
    assert offer.id == "verda:4L40S.80V:NEW-01:ondemand"
    assert (offer.gpu_model, offer.gpu_count, offer.gpu_memory_gib) == ("L40S", 4, 48)
    assert (offer.region, offer.country, offer.availability) == (
        "NEW-01",
        None,
        Availability.AVAILABLE,
    )
    assert (offer.price_per_hour_usd, offer.price_per_gpu_hour_usd) == (4.4, 1.1)
    assert (offer.vcpus, offer.ram_gib) == (None, None)


def test_429_retry_after_then_success(http_mock: respx.MockRouter) -> None:
    routes = mock_api(http_mock)
    routes["types"].mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json=load_fixture("verda", "instance_types.json")),
        ]
    )
    sleeps: list[float] = []
    with client(sleeps) as c:
        offers = provider().fetch(c).offers
    assert sleeps == [2.0]
    assert routes["types"].call_count == 2
    assert len(offers) == 8


def test_503_persistent(http_mock: respx.MockRouter) -> None:
    routes = mock_api(http_mock, locations=httpx.Response(503, json={"message": "boom"}))
    sleeps: list[float] = []
    with client(sleeps) as c, pytest.raises(ProviderHTTPError) as info:
        provider().fetch(c)
    assert (info.value.status_code, info.value.exit_code) == (503, 5)
    assert routes["locations"].call_count == 3
    assert len(sleeps) == 2


def test_500_on_token_is_http_error(http_mock: respx.MockRouter) -> None:
    mock_api(http_mock, token=httpx.Response(500, json={"message": "boom"}))
    with client([]) as c, pytest.raises(ProviderHTTPError) as info:
        provider().fetch(c)
    assert info.value.status_code == 500
    assert SECRET not in str(info.value)


def test_timeout(http_mock: respx.MockRouter) -> None:
    routes = mock_api(http_mock)
    routes["types"].mock(side_effect=httpx.ReadTimeout("slow"))
    with client() as c, pytest.raises(ProviderTimeoutError) as info:
        provider().fetch(c)
    assert info.value.provider == "verda"


def test_base_url_override(http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUBROKER_VERDA_URL", "https://api.datacrunch.io/v1/")
    routes = mock_api(http_mock, base="https://api.datacrunch.io/v1")
    with client() as c:
        offers = provider().fetch(c).offers
    assert routes["token"].call_count == 1
    assert len(offers) == 8


def test_class_shape() -> None:
    assert VerdaProvider.name == "verda"
    assert VerdaProvider.default_base_url == BASE
    assert VerdaProvider.needs_auth() is True
    specs = {s.field: s for s in VerdaProvider.credentials}
    assert (specs["client_id"].env_var, specs["client_id"].secret) == ("VERDA_CLIENT_ID", False)
    assert (specs["client_secret"].env_var, specs["client_secret"].secret) == (
        "VERDA_CLIENT_SECRET",
        True,
    )


# --- fidelity: currency and the recorded answer (issue 11) ------------------------------


def test_instance_types_are_asked_for_in_usd(http_mock: respx.MockRouter) -> None:
    # Verda's own SDK sends currency=usd: without it an account billed in EUR gets EUR prices.
    routes = mock_api(http_mock)
    with client() as c:
        provider().fetch(c)
    assert dict(routes["types"].calls.last.request.url.params) == {"currency": "usd"}


def test_a_price_in_another_currency_is_a_counted_skip() -> None:
    item: dict[str, Any] = load_fixture("verda", "instance_types.json")[0]
    skips = Skips("verda")
    assert parse_offers([{**item, "currency": "eur"}], observed_at=NOW, skips=skips) == []
    assert skips.as_dict() == {"price not in USD": 1}


def test_recorded_answer_every_type_is_an_offer_or_a_counted_skip() -> None:
    types = load_fixture("verda", "instance_types_recorded.json")["items"]
    skips = Skips("verda")
    offers = parse_offers(
        types,
        observed_at=NOW,
        spot_availability=load_fixture("verda", "spot_availability_recorded.json"),
        locations=load_fixture("verda", "locations.json"),
        skips=skips,
    )

    assert_accounted(len(types), skips)
    assert skips.as_dict() == {"no GPU": 1}
    assert unresolved(offers) == set()
    ada = [o for o in offers if o.instance_type == "1RTX6000ADA.10V"]
    assert [(o.gpu_model, o.spot, o.region, o.price_per_hour_usd) for o in ada] == [
        ("RTX6000-ADA", False, None, 1.19),
        ("RTX6000-ADA", True, "FIN-01", 0.45),
    ]
    # spot_price null: no spot offer at all.
    assert [o.spot for o in offers if o.instance_type == "8B200.240V"] == [False]
