from __future__ import annotations

from datetime import UTC, datetime

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
from gpubroker.models import Availability, Offer
from gpubroker.providers import azure
from gpubroker.providers.azure import DEFAULT_REGIONS, AzureProvider, build_filter, parse_offers
from gpubroker.providers.base import Skips
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted, unresolved

URL = "https://prices.azure.com/api/retail/prices"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def provider(regions: list[str] | None = None, **options: object) -> AzureProvider:
    return AzureProvider(now=lambda: NOW, regions=regions, options=options)


def client(sleeps: list[float] | None = None) -> httpx.Client:
    return make_client(sleep=(sleeps.append if sleeps is not None else lambda s: None))


def two_pages(request: httpx.Request) -> httpx.Response:
    if request.url.params.get("$skip") == "1000":
        return httpx.Response(200, json=load_fixture("azure", "azure_last_page.json"))
    return httpx.Response(200, json=load_fixture("azure", "azure.json"))


def by_id(offers: list[Offer]) -> dict[str, Offer]:
    result = {o.id: o for o in offers}
    assert len(result) == len(offers), "duplicate offer ids"
    return result


def test_two_pages_give_exact_offers(http_mock: respx.MockRouter) -> None:
    route = http_mock.get(URL).mock(side_effect=two_pages)
    with client() as c:
        result = provider().fetch(c)
    offers = by_id(result.offers)

    assert route.call_count == 2
    assert result.truncated is False
    assert sorted(offers) == [
        "azure:Standard_NC24ads_A100_v4:eastus:ondemand",
        "azure:Standard_NC24ads_A100_v4:eastus:spot",
        "azure:Standard_NC4as_T4_v3:eastus:ondemand",
        "azure:Standard_NC64as_T4_v3:northeurope:spot",
        "azure:Standard_NC8ads_A10_v4:eastus:ondemand",
        "azure:Standard_ND96isr_H100_v5:eastus:ondemand",
        "azure:Standard_ND96isr_H200_v5:westeurope:ondemand",
        "azure:Standard_NV36ads_A10_v5:eastus:ondemand",
    ]

    a100 = offers["azure:Standard_NC24ads_A100_v4:eastus:ondemand"]
    assert a100.provider == "azure"
    assert a100.instance_type == "Standard_NC24ads_A100_v4"
    assert a100.gpu_model == "A100-80GB-PCIE"
    assert a100.gpu_count == 1
    assert a100.gpu_memory_gib == 80
    assert a100.vcpus == 24
    assert a100.ram_gib == 220
    # the 3.9 duplicate meter on page 2 loses to the cheaper one on page 1
    assert a100.price_per_hour_usd == 3.673
    assert a100.price_per_gpu_hour_usd == 3.673
    assert a100.spot is False
    assert a100.region == "eastus"
    assert a100.country == "US"
    assert a100.availability is Availability.UNKNOWN
    assert a100.observed_at == NOW
    assert a100.extras == {
        "meter_name": "NC24ads A100 v4",
        "product_name": "Virtual Machines NCads A100 v4 Series",
    }

    spot = offers["azure:Standard_NC24ads_A100_v4:eastus:spot"]
    assert (spot.spot, spot.price_per_hour_usd, spot.gpu_model) == (True, 0.9915, "A100-80GB-PCIE")

    h100 = offers["azure:Standard_ND96isr_H100_v5:eastus:ondemand"]
    assert (h100.gpu_model, h100.gpu_count, h100.gpu_memory_gib) == ("H100-SXM", 8, 80)
    assert (h100.price_per_hour_usd, h100.price_per_gpu_hour_usd) == (98.32, 12.29)
    assert (h100.vcpus, h100.ram_gib) == (96, 1900)

    t4 = offers["azure:Standard_NC4as_T4_v3:eastus:ondemand"]
    assert (t4.gpu_model, t4.gpu_count, t4.gpu_memory_gib, t4.price_per_hour_usd) == (
        "T4",
        1,
        16,
        0.526,
    )
    assert (t4.vcpus, t4.ram_gib) == (4, 28)

    t4x4 = offers["azure:Standard_NC64as_T4_v3:northeurope:spot"]
    assert (t4x4.gpu_count, t4x4.spot, t4x4.country) == (4, True, "IE")
    assert (t4x4.price_per_hour_usd, t4x4.price_per_gpu_hour_usd) == (1.2, 0.3)

    a10 = offers["azure:Standard_NV36ads_A10_v5:eastus:ondemand"]
    assert (a10.gpu_model, a10.gpu_count, a10.gpu_memory_gib, a10.price_per_hour_usd) == (
        "A10",
        1,
        24,
        1.326,
    )

    h200 = offers["azure:Standard_ND96isr_H200_v5:westeurope:ondemand"]
    assert (h200.gpu_model, h200.gpu_count, h200.gpu_memory_gib) == ("H200", 8, 141)
    assert (h200.region, h200.country, h200.price_per_gpu_hour_usd) == ("westeurope", "NL", 13.78)


def test_request_filter_and_pagination(http_mock: respx.MockRouter) -> None:
    route = http_mock.get(URL).mock(side_effect=two_pages)
    with client() as c:
        provider().fetch(c)

    first, second = (call.request for call in route.calls)
    assert first.method == "GET"
    assert "authorization" not in first.headers
    flt = first.url.params["$filter"]
    assert flt == build_filter(DEFAULT_REGIONS)
    assert flt.startswith(
        "serviceName eq 'Virtual Machines' and priceType eq 'Consumption'"
        " and contains(productName, 'Windows') eq false"
        " and contains(productName, 'Dedicated') eq false"
        " and contains(meterName, 'Low Priority') eq false"
        " and contains(armSkuName, 'Standard_N')"
    )
    assert flt.endswith(
        "(armRegionName eq 'eastus' or armRegionName eq 'eastus2'"
        " or armRegionName eq 'southcentralus' or armRegionName eq 'westus2'"
        " or armRegionName eq 'westus3' or armRegionName eq 'westeurope'"
        " or armRegionName eq 'northeurope' or armRegionName eq 'uksouth')"
    )
    # page 2 is the NextPageLink exactly: its own filter and $skip, nothing added
    assert second.url.params["$skip"] == "1000"
    assert second.url.params["$filter"] == (
        "serviceName eq 'Virtual Machines' and armRegionName eq 'eastus'"
    )
    assert "authorization" not in second.headers


def test_regions_option_narrows_filter(http_mock: respx.MockRouter) -> None:
    route = http_mock.get(URL).mock(
        return_value=httpx.Response(200, json={"Items": [], "NextPageLink": None})
    )
    with client() as c:
        assert provider(regions=["swedencentral"]).fetch(c).offers == []
    flt = route.calls.last.request.url.params["$filter"]
    assert flt.endswith(" and (armRegionName eq 'swedencentral')")
    assert "eastus" not in flt


def test_max_pages_guard_sets_truncated(http_mock: respx.MockRouter) -> None:
    page = load_fixture("azure", "azure_last_page.json")
    page["NextPageLink"] = URL + "?$skip=1000"  # a server that never stops
    route = http_mock.get(URL).mock(return_value=httpx.Response(200, json=page))
    with client() as c:
        result = provider(max_pages=3).fetch(c)
    assert route.call_count == 3
    assert result.truncated is True
    assert len(result.offers) == 4  # the same page three times, deduplicated


@pytest.mark.parametrize(
    ("sku", "expected"),
    [
        ("Standard_NC24ads_A100_v4", ("A100 80GB PCIe", 1, 24, 220)),
        ("Standard_NC48ads_A100_v4", ("A100 80GB PCIe", 2, 48, 440)),
        ("Standard_NC96ads_A100_v4", ("A100 80GB PCIe", 4, 96, 880)),
        ("Standard_ND96asr_v4", ("A100 SXM4 40GB", 8, 96, 900)),
        ("Standard_ND96amsr_A100_v4", ("A100 SXM4 80GB", 8, 96, 1900)),
        ("Standard_ND96isr_H100_v5", ("H100 SXM5 80GB", 8, 96, 1900)),
        ("Standard_ND96isr_H200_v5", ("H200 141GB", 8, 96, 1850)),
        ("Standard_NC40ads_H100_v5", ("H100 NVL 94GB", 1, 40, 320)),
        ("Standard_NC80adis_H100_v5", ("H100 NVL 94GB", 2, 80, 640)),
        ("Standard_NC4as_T4_v3", ("T4 16GB", 1, 4, 28)),
        ("Standard_NC16as_T4_v3", ("T4 16GB", 1, 16, 110)),
        ("Standard_NC64as_T4_v3", ("T4 16GB", 4, 64, 440)),
        ("Standard_NC6s_v3", ("V100 16GB", 1, 6, 112)),
        ("Standard_NC24rs_v3", ("V100 16GB", 4, 24, 448)),
        ("Standard_ND40rs_v2", ("V100 SXM2 32GB", 8, 40, 672)),
        ("Standard_NV36ads_A10_v5", ("A10 24GB", 1, 36, 440)),
        ("Standard_NV72ads_A10_v5", ("A10 24GB", 2, 72, 880)),
        ("Standard_ND96isr_MI300X_v5", ("MI300X 192GB", 8, 96, 1850)),
        # NC A10 v4 (issue 11): Azure's Resource SKUs give 1, 1 and 2 GPUs.
        ("Standard_NC8ads_A10_v4", ("A10 24GB", 1, 8, 100)),
        ("Standard_NC16ads_A10_v4", ("A10 24GB", 1, 16, 200)),
        ("Standard_NC32ads_A10_v4", ("A10 24GB", 2, 32, 400)),
    ],
)
def test_sku_table(sku: str, expected: tuple[str, int, int, int]) -> None:
    spec = azure.sku_spec(sku)
    assert spec is not None
    assert (spec.gpu_name_raw, spec.gpu_count, spec.vcpus, spec.ram_gib) == expected


@pytest.mark.parametrize(
    "sku",
    [
        "Standard_NV6ads_A10_v5",  # 1/6 of an A10
        "Standard_NV12ads_A10_v5",
        "Standard_NV18ads_A10_v5",
        "Standard_NC12ads_A100_v4",  # known family, unknown size
        "Standard_NC64ads_A10_v4",  # known family, unknown size
        "Standard_NP10s",
        "Standard_D4s_v5",
    ],
)
def test_unknown_and_fractional_skus_are_skipped(sku: str) -> None:
    assert azure.sku_spec(sku) is None
    assert azure.is_fractional(sku) is ("_A10_v5" in sku)


def test_parse_skips_bad_items_and_keeps_good_ones() -> None:
    items = load_fixture("azure", "azure.json")["Items"]
    items += load_fixture("azure", "azure_last_page.json")["Items"]
    windows = dict(items[0], productName="Virtual Machines NCads A100 v4 Series Windows")
    reservation = dict(items[0], type="Reservation", retailPrice=1.0)
    items += [windows, reservation, "not an object", {"armSkuName": "Standard_NC6s_v3"}]
    skips = Skips("azure")
    offers = parse_offers(items, observed_at=NOW, skips=skips)
    assert len(offers) == 8  # the NC8ads A10 v4 is now known
    assert skips.as_dict() == {
        "duplicate": 1,  # the dearer NC24ads A100 v4 meter of page 2
        "fractional GPU": 1,  # NV6ads A10 v5
        "malformed": 3,  # retailPrice "n/a", a string, an item without fields
        "not a Linux hourly USD price": 2,  # Windows, Reservation
    }
    assert_accounted(len(items), skips)
    prices = {o.id: o.price_per_hour_usd for o in offers}
    assert prices["azure:Standard_NC24ads_A100_v4:eastus:ondemand"] == 3.673


def test_zero_price_is_dropped() -> None:
    item = dict(load_fixture("azure", "azure.json")["Items"][0], retailPrice=0)
    assert parse_offers([item], observed_at=NOW) == []


def test_empty_listing_is_empty(http_mock: respx.MockRouter) -> None:
    http_mock.get(URL).mock(return_value=httpx.Response(200, json={"Items": [], "Count": 0}))
    with client() as c:
        assert provider().fetch(c).offers == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html><body>Service down</body></html>"),
        httpx.Response(200, headers={"content-type": "text/html"}, text="<!doctype html><p>x"),
        httpx.Response(200, json={"Items": "nope"}),
        httpx.Response(200, json={"Items": [], "NextPageLink": 7}),
        httpx.Response(200, json={"BillingCurrency": "USD"}),
        httpx.Response(200, json=[{"armSkuName": "Standard_NC6s_v3"}]),
        httpx.Response(
            200, headers={"content-type": "application/json"}, text='{"Items": [{"armSku'
        ),
    ],
)
def test_bad_payloads(http_mock: respx.MockRouter, response: httpx.Response) -> None:
    http_mock.get(URL).mock(return_value=response)
    with client() as c, pytest.raises(ProviderResponseError) as info:
        provider().fetch(c)
    assert info.value.provider == "azure"


def test_bad_second_page_fails_the_fetch(http_mock: respx.MockRouter) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("$skip") == "1000":
            return httpx.Response(200, text="<html>oops</html>")
        return httpx.Response(200, json=load_fixture("azure", "azure.json"))

    http_mock.get(URL).mock(side_effect=pages)
    with client() as c, pytest.raises(ProviderResponseError):
        provider().fetch(c)


def test_502_html_after_retries(http_mock: respx.MockRouter) -> None:
    route = http_mock.get(URL).mock(
        return_value=httpx.Response(
            502, headers={"content-type": "text/html"}, text="<html>Bad Gateway</html>"
        )
    )
    with client([]) as c, pytest.raises(ProviderHTTPError) as info:
        provider().fetch(c)
    assert info.value.status_code == 502
    assert "HTML error page" in str(info.value)
    assert route.call_count == 3


def test_401_is_invalid_credentials(http_mock: respx.MockRouter) -> None:
    http_mock.get(URL).mock(return_value=httpx.Response(401, json={"error": "denied"}))
    with client() as c, pytest.raises(InvalidCredentialsError) as info:
        provider().fetch(c)
    assert info.value.exit_code == 4


def test_429_retry_after_then_success(http_mock: respx.MockRouter) -> None:
    route = http_mock.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json=load_fixture("azure", "azure_last_page.json")),
        ]
    )
    sleeps: list[float] = []
    with client(sleeps) as c:
        offers = provider().fetch(c).offers
    assert sleeps == [3.0]
    assert route.call_count == 2
    assert len(offers) == 4


def test_503_persistent(http_mock: respx.MockRouter) -> None:
    route = http_mock.get(URL).mock(return_value=httpx.Response(503, json={"message": "boom"}))
    sleeps: list[float] = []
    with client(sleeps) as c, pytest.raises(ProviderHTTPError) as info:
        provider().fetch(c)
    assert info.value.status_code == 503
    assert info.value.exit_code == 5
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_timeout(http_mock: respx.MockRouter) -> None:
    http_mock.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with client() as c, pytest.raises(ProviderTimeoutError) as info:
        provider().fetch(c)
    assert info.value.provider == "azure"


def test_base_url_override(http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUBROKER_AZURE_URL", "http://localhost:8123/")
    route = http_mock.get("http://localhost:8123/api/retail/prices").mock(
        return_value=httpx.Response(200, json=load_fixture("azure", "azure_last_page.json"))
    )
    with client() as c:
        offers = provider().fetch(c).offers
    assert route.call_count == 1
    assert len(offers) == 4


def test_class_shape() -> None:
    assert AzureProvider.name == "azure"
    assert AzureProvider.credentials == ()
    assert AzureProvider.needs_auth() is False
    assert AzureProvider.default_base_url == "https://prices.azure.com"


def test_duplicate_meters_keep_the_cheapest_in_any_order() -> None:
    base = load_fixture("azure", "azure.json")["Items"][0]
    dear, cheap = dict(base, retailPrice=4.1), dict(base, retailPrice=3.5)
    for items in ([dear, cheap], [cheap, dear]):
        (offer,) = parse_offers(items, observed_at=NOW)
        assert offer.price_per_hour_usd == 3.5


# --- fidelity: NC A10 v4 and the recorded answer (issue 11) -----------------------------


def test_recorded_answer_every_item_is_an_offer_or_a_counted_skip() -> None:
    items = load_fixture("azure", "prices_recorded.json")["Items"]
    skips = Skips("azure")
    offers = parse_offers(items, observed_at=NOW, skips=skips)

    assert_accounted(len(items), skips)
    assert skips.as_dict() == {
        "duplicate": 1,  # the older, dearer NC16ads A10 v4 meter
        "fractional GPU": 1,
        "no price": 1,
        "not a Linux hourly USD price": 2,  # DevTest and Low Priority meters
        "unknown shape": 2,  # NVv3 (M60) and NGads V620: not in the size table
    }
    assert unresolved(offers) == set()


def test_nc_a10_v4_sizes_are_offered() -> None:
    offers = parse_offers(load_fixture("azure", "prices_recorded.json")["Items"], observed_at=NOW)
    a10 = sorted(
        (o.id, o.gpu_model, o.gpu_count, o.vcpus, o.ram_gib, o.price_per_hour_usd)
        for o in offers
        if o.instance_type and o.instance_type.endswith("_A10_v4")
    )
    assert a10 == [
        ("azure:Standard_NC16ads_A10_v4:eastus:ondemand", "A10", 1, 16, 200, 1.816),
        ("azure:Standard_NC32ads_A10_v4:eastus:ondemand", "A10", 2, 32, 400, 3.632),
        ("azure:Standard_NC32ads_A10_v4:westeurope:ondemand", "A10", 2, 32, 400, 3.996),
        ("azure:Standard_NC32ads_A10_v4:westeurope:spot", "A10", 2, 32, 400, 0.7992),
        ("azure:Standard_NC8ads_A10_v4:eastus:ondemand", "A10", 1, 8, 100, 0.908),
        ("azure:Standard_NC8ads_A10_v4:eastus:spot", "A10", 1, 8, 100, 0.1816),
    ]


def test_fetch_reports_skips(http_mock: respx.MockRouter) -> None:
    http_mock.get(URL).mock(
        return_value=httpx.Response(200, json=load_fixture("azure", "prices_recorded.json"))
    )
    with make_client(sleep=lambda s: None) as c:
        result = provider().fetch(c)
    assert sum(result.skipped.values()) == 7
    assert_accounted(len(load_fixture("azure", "prices_recorded.json")["Items"]), result)
