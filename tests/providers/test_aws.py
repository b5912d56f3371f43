"""AWS provider: botocore Stubber for exact requests/answers, plus one run against moto's EC2."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.stub import Stubber

from gpubroker.errors import (
    InvalidCredentialsError,
    MissingCredentialsError,
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from gpubroker.http import make_client
from gpubroker.models import Availability, Offer
from gpubroker.providers import aws
from gpubroker.providers.aws import (
    INSTANCE_TYPE_PATTERNS,
    AwsProvider,
    SpotQuote,
    parse_instance_types,
    parse_offers,
    parse_prices,
    parse_spot,
)
from gpubroker.providers.base import Skips
from gpubroker.remote import translate_errors
from tests.conftest import load_fixture
from tests.providers.rows import assert_accounted

NOW = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
TYPE_FILTERS = [{"Name": "instance-type", "Values": list(INSTANCE_TYPE_PATTERNS)}]
# Instance types in tests/fixtures/aws/describe_instance_types.json that become specs
# (g6f.large, an eighth of an L4, is left out).
FIXTURE_TYPES = sorted(
    ["p5.48xlarge", "g5.xlarge", "g6.xlarge", "g4dn.xlarge", "p4d.24xlarge", "p4de.24xlarge",
     "p5en.48xlarge", "g5g.xlarge"]
)  # fmt: skip


# --- helpers ------------------------------------------------------------------------------


def instance_type_pages() -> list[dict[str, Any]]:
    return load_fixture("aws", "describe_instance_types.json")  # type: ignore[no-any-return]


def price_pages() -> list[dict[str, Any]]:
    return load_fixture("aws", "get_products.json")  # type: ignore[no-any-return]


def spot_page() -> dict[str, Any]:
    body = load_fixture("aws", "describe_spot_price_history.json")
    for row in body["SpotPriceHistory"]:  # boto3 hands out datetimes, not strings
        row["Timestamp"] = datetime.fromisoformat(row["Timestamp"])
    return body  # type: ignore[no-any-return]


def pricing_params(region: str, next_token: str | None = None) -> dict[str, Any]:
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
        {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
        {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
        {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
        {"Type": "TERM_MATCH", "Field": "marketoption", "Value": "OnDemand"},
        {"Type": "TERM_MATCH", "Field": "licenseModel", "Value": "No License required"},
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Compute Instance"},
        {"Type": "TERM_MATCH", "Field": "instanceFamily", "Value": "GPU instance"},
    ]
    params: dict[str, Any] = {
        "ServiceCode": "AmazonEC2",
        "FormatVersion": "aws_v1",
        "Filters": filters,
    }
    if next_token:
        params["NextToken"] = next_token
    return params


def spot_params(types: list[str]) -> dict[str, Any]:
    return {"InstanceTypes": types, "ProductDescriptions": ["Linux/UNIX"], "StartTime": NOW}


_SESSIONS: list[Any] = []  # boto3.session.Session; Any keeps the stubs' overloads quiet


def raw_client(service: str, region: str) -> Any:
    """A real botocore client that never reaches the network once stubbed.

    One shared session, so the service models are loaded once for the whole module.
    """
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session())
    return _SESSIONS[0].client(
        service,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Stubs:
    """Stubbed clients handed out by a client factory, recording what was asked for."""

    def __init__(self) -> None:
        self.clients: dict[tuple[str, str], Any] = {}
        self.stubbers: dict[tuple[str, str], Stubber] = {}
        self.requested: list[tuple[str, str]] = []

    def stub(self, service: str, region: str) -> Stubber:
        key = (service, region)
        if key not in self.stubbers:
            client = raw_client(service, region)
            self.clients[key] = client
            self.stubbers[key] = Stubber(client)
            self.stubbers[key].activate()
        return self.stubbers[key]

    def factory(self, service: str, region: str) -> Any:
        self.requested.append((service, region))
        self.stub(service, region)
        return self.clients[(service, region)]

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def stub_region(stubs: Stubs, region: str, *, spot: bool = True, prices: bool = True) -> None:
    pages = instance_type_pages()
    ec2 = stubs.stub("ec2", region)
    ec2.add_response("describe_instance_types", pages[0], {"Filters": TYPE_FILTERS})
    ec2.add_response(
        "describe_instance_types", pages[1], {"Filters": TYPE_FILTERS, "NextToken": "page-2"}
    )
    if prices:
        pricing = stubs.stub("pricing", "us-east-1")
        first, second = price_pages()
        pricing.add_response("get_products", first, pricing_params(region))
        pricing.add_response(
            "get_products", second, pricing_params(region, next_token=first["NextToken"])
        )
    if spot:
        ec2.add_response("describe_spot_price_history", spot_page(), spot_params(FIXTURE_TYPES))


def provider(regions: list[str] | None = None, **options: Any) -> AwsProvider:
    return AwsProvider(now=lambda: NOW, regions=regions or ["us-east-1"], options=options)


def by_id(offers: list[Offer]) -> dict[str, Offer]:
    result = {o.id: o for o in offers}
    assert len(result) == len(offers), "duplicate offer ids"
    return result


# --- class shape --------------------------------------------------------------------------


def test_class_shape() -> None:
    assert AwsProvider.name == "aws"
    assert AwsProvider.label == "AWS EC2"
    assert AwsProvider.credentials == ()
    assert AwsProvider.needs_auth() is True
    assert AwsProvider(regions=None).regions == ["us-east-1", "us-west-2", "eu-west-1"]
    assert AwsProvider(regions=[" eu-west-1", "us-east-1", "", "eu-west-1"]).regions == [
        "eu-west-1",
        "us-east-1",
    ]


# --- full fetch against stubs -------------------------------------------------------------

X86 = {"architecture": "x86_64"}


def az(zone: str) -> dict[str, str]:
    return X86 | {"availability_zone": zone}


# id: (gpu_model, raw name, count, GiB/GPU, vcpus, ram GiB, disk GiB, $/h, spot, extras)
EXPECTED_US_EAST_1: dict[str, tuple[Any, ...]] = {
    "aws:g4dn.xlarge:us-east-1:ondemand": ("T4", "T4", 1, 16.0, 4, 16.0, 116.42, 0.526, False, X86),
    "aws:g5.xlarge:us-east-1:ondemand":
        ("A10G", "A10G", 1, 24.0, 4, 16.0, 232.83, 1.006, False, X86),
    "aws:g5.xlarge:us-east-1:spot":
        ("A10G", "A10G", 1, 24.0, 4, 16.0, 232.83, 0.3981, True, az("us-east-1b")),
    "aws:g6.xlarge:us-east-1:ondemand": ("L4", "L4", 1, 24.0, 4, 16.0, 232.83, 0.8048, False, X86),
    "aws:p4d.24xlarge:us-east-1:ondemand":
        ("A100-40GB", "A100", 8, 40.0, 96, 1152.0, 7450.58, 21.9576, False, X86),
    "aws:p4d.24xlarge:us-east-1:spot":
        ("A100-40GB", "A100", 8, 40.0, 96, 1152.0, 7450.58, 9.812, True, az("us-east-1d")),
    "aws:p4de.24xlarge:us-east-1:ondemand":
        ("A100-80GB", "A100", 8, 80.0, 96, 1152.0, 7450.58, 27.4471, False, X86),
    "aws:p5.48xlarge:us-east-1:ondemand":
        ("H100-SXM", "H100", 8, 80.0, 192, 2048.0, 28610.23, 55.04, False, X86),
    "aws:p5.48xlarge:us-east-1:spot":
        ("H100-SXM", "H100", 8, 80.0, 192, 2048.0, 28610.23, 21.54, True, az("us-east-1c")),
    "aws:p5en.48xlarge:us-east-1:ondemand":
        ("H200", "H200", 8, 141.0, 192, 2048.0, 28610.23, 63.2968, False, X86),
}  # fmt: skip


def test_fetch_gives_exact_offers_and_sends_exact_requests() -> None:
    stubs = Stubs()
    stub_region(stubs, "us-east-1")
    with make_client() as http:
        offers = provider(client_factory=stubs.factory).fetch(http).offers
    stubs.assert_done()  # every stubbed request was made, with exactly the stubbed params
    assert stubs.requested == [("pricing", "us-east-1"), ("ec2", "us-east-1")]

    assert [o.id for o in offers] == sorted(EXPECTED_US_EAST_1)
    for offer in offers:
        model, raw, count, mem, vcpus, ram, disk, price, spot, extras = EXPECTED_US_EAST_1[offer.id]
        got = (
            offer.gpu_model, offer.gpu_name_raw, offer.gpu_count, offer.gpu_memory_gib,
            offer.vcpus, offer.ram_gib, offer.disk_gib, offer.price_per_hour_usd, offer.spot,
            offer.extras,
        )  # fmt: skip
        assert got == (model, raw, count, mem, vcpus, ram, disk, price, spot, extras), offer.id
        assert offer.price_per_gpu_hour_usd == pytest.approx(price / count, abs=1e-6)
        assert offer.provider == "aws"
        assert offer.instance_type == offer.id.split(":")[1]
        assert offer.region == "us-east-1"
        assert offer.country == "US"
        assert offer.availability is Availability.AVAILABLE
        assert offer.observed_at == NOW
    assert by_id(offers)["aws:p5.48xlarge:us-east-1:ondemand"].price_per_gpu_hour_usd == 6.88


def test_rhel_item_and_unpriced_types_never_become_offers() -> None:
    stubs = Stubs()
    stub_region(stubs, "us-east-1")
    result = provider(client_factory=stubs.factory).fetch(make_client())
    offers = by_id(result.offers)
    # Every instance type of the region is accounted for: g6f.large is a GPU slice, the
    # Arm g5g.xlarge has neither an on-demand price nor a spot quote.
    assert result.skipped == {"fractional GPU": 1, "no price": 1}
    assert_accounted(sum(len(p["InstanceTypes"]) for p in instance_type_pages()), result)
    # the RHEL product in the fixture costs 0.0001: a lax filter would have picked it
    assert offers["aws:g4dn.xlarge:us-east-1:ondemand"].price_per_hour_usd == 0.526
    assert not any(o.instance_type in ("g5g.xlarge", "g6f.large") for o in offers.values())
    # g6.xlarge has only moto-style 2006 placeholder spot rows: no spot offer
    assert "aws:g6.xlarge:us-east-1:spot" not in offers


def test_two_regions_and_country() -> None:
    stubs = Stubs()
    stub_region(stubs, "eu-west-1")
    stub_region(stubs, "us-east-1")
    offers = (
        provider(regions=["eu-west-1", "us-east-1"], client_factory=stubs.factory)
        .fetch(make_client())
        .offers
    )
    stubs.assert_done()
    assert len(offers) == 2 * len(EXPECTED_US_EAST_1)
    eu = [o for o in offers if o.region == "eu-west-1"]
    assert {o.country for o in eu} == {"IE"}
    assert eu[0].id == "aws:g4dn.xlarge:eu-west-1:ondemand"


def test_no_gpu_types_in_region_means_no_spot_calls() -> None:
    stubs = Stubs()
    stubs.stub("ec2", "us-east-1").add_response(
        "describe_instance_types", {"InstanceTypes": []}, {"Filters": TYPE_FILTERS}
    )
    # The Price List is asked at the same time as the instance types; spot is not asked.
    first, second = price_pages()
    pricing = stubs.stub("pricing", "us-east-1")
    pricing.add_response("get_products", first, pricing_params("us-east-1"))
    pricing.add_response(
        "get_products", second, pricing_params("us-east-1", next_token=first["NextToken"])
    )
    assert provider(client_factory=stubs.factory).fetch(make_client()).offers == []
    stubs.assert_done()


def test_default_factory_builds_clients_from_session_with_timeouts() -> None:
    stubs = Stubs()
    stub_region(stubs, "us-east-1")
    calls: list[tuple[str, str, Any]] = []

    class FakeSession:
        def client(self, service: str, *, region_name: str, config: Any) -> Any:
            calls.append((service, region_name, config))
            return stubs.clients[(service, region_name)]

    offers = provider(session=FakeSession(), timeout_s=4).fetch(make_client()).offers
    assert len(offers) == len(EXPECTED_US_EAST_1)
    assert [(s, r) for s, r, _ in calls] == [("pricing", "us-east-1"), ("ec2", "us-east-1")]
    config: Any = calls[0][2]
    assert (config.connect_timeout, config.read_timeout) == (4.0, 4.0)
    assert config.retries == {"max_attempts": 3, "mode": "standard"}
    assert isinstance(calls[1][2], botocore.config.Config)


def test_pricing_region_option() -> None:
    stubs = Stubs()
    stubs.stub("ec2", "us-east-1").add_response(
        "describe_instance_types", {"InstanceTypes": []}, {"Filters": TYPE_FILTERS}
    )
    stubs.stub("pricing", "ap-south-1").add_response(
        "get_products", {"PriceList": [], "FormatVersion": "aws_v1"}, pricing_params("us-east-1")
    )
    provider(client_factory=stubs.factory, pricing_region="ap-south-1").fetch(make_client())
    assert stubs.requested[0] == ("pricing", "ap-south-1")
    stubs.assert_done()


# --- errors -------------------------------------------------------------------------------


def test_no_credentials_is_missing_credentials_exit_4() -> None:
    # the real default factory with the scrubbed environment of conftest: no chain at all
    start = time.monotonic()
    with pytest.raises(MissingCredentialsError) as info:
        provider().fetch(make_client())
    assert info.value.exit_code == 4
    assert "no AWS credentials" in str(info.value)
    assert time.monotonic() - start < 10  # no network attempt, no metadata-service wait


@pytest.mark.parametrize(
    ("service", "operation", "code", "status"),
    [
        ("ec2", "describe_instance_types", "UnauthorizedOperation", 403),
        ("ec2", "describe_instance_types", "AuthFailure", 401),
        ("pricing", "get_products", "AccessDeniedException", 400),
    ],
)
def test_refused_credentials_are_invalid_credentials(
    service: str, operation: str, code: str, status: int
) -> None:
    stubs = Stubs()
    ec2 = stubs.stub("ec2", "us-east-1")
    if service == "pricing":
        ec2.add_response("describe_instance_types", instance_type_pages()[1], None)
    stubs.stub(service, "us-east-1").add_client_error(
        operation, service_error_code=code, service_message="secret-free", http_status_code=status
    )
    with pytest.raises(InvalidCredentialsError) as info:
        provider(client_factory=stubs.factory).fetch(make_client())
    assert info.value.exit_code == 4
    assert code in str(info.value)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("Throttling", 400),
        ("ThrottlingException", 400),  # modeled in the pricing API: a ClientError subclass
        ("RequestLimitExceeded", 503),
        ("InternalErrorException", 500),
        ("500", 500),
    ],
)
def test_throttling_and_server_errors_are_provider_errors(code: str, status: int) -> None:
    stubs = Stubs()
    ec2 = stubs.stub("ec2", "us-east-1")
    ec2.add_response("describe_instance_types", instance_type_pages()[1], None)
    stubs.stub("pricing", "us-east-1").add_client_error(
        "get_products", service_error_code=code, http_status_code=status
    )
    with pytest.raises(ProviderError) as info:
        provider(client_factory=stubs.factory).fetch(make_client())
    assert type(info.value) is ProviderError
    assert info.value.provider == "aws"
    assert info.value.exit_code == 5
    if "Throttl" in code or "Limit" in code:
        assert str(info.value) == f"aws: AWS is throttling requests ({code}); retry in a minute"
    else:
        assert str(info.value) == f"aws: AWS error ({code})"


def test_one_malformed_price_item_is_skipped() -> None:
    stubs = Stubs()
    stubs.stub("ec2", "us-east-1").add_response(
        "describe_instance_types",
        {"InstanceTypes": instance_type_pages()[0]["InstanceTypes"]},
        None,
    )
    first = price_pages()[0]
    first["PriceList"] = ["{truncated", '{"product": 1}', *first["PriceList"]]
    del first["NextToken"]
    stubs.stub("pricing", "us-east-1").add_response("get_products", first, None)
    stubs.stub("ec2", "us-east-1").add_response(
        "describe_spot_price_history", {"SpotPriceHistory": []}, None
    )
    offers = provider(client_factory=stubs.factory).fetch(make_client()).offers
    assert [(o.id, o.price_per_hour_usd) for o in offers] == [
        ("aws:g5.xlarge:us-east-1:ondemand", 1.006),
        ("aws:p5.48xlarge:us-east-1:ondemand", 55.04),
    ]


def test_wholesale_garbage_price_list_is_response_error() -> None:
    stubs = Stubs()
    stubs.stub("ec2", "us-east-1").add_response(
        "describe_instance_types",
        {"InstanceTypes": instance_type_pages()[0]["InstanceTypes"]},
        None,
    )
    stubs.stub("pricing", "us-east-1").add_response(
        "get_products", {"PriceList": ["<html>", "not json", "[1, 2]"]}, None
    )
    with pytest.raises(ProviderResponseError) as info:
        provider(client_factory=stubs.factory).fetch(make_client())
    assert str(info.value) == "aws: none of the 3 price list items is readable"
    assert info.value.exit_code == 5


class FakeClient:
    """Hands out fixed pages, whatever their shape (a Stubber would refuse bad shapes)."""

    def __init__(self, pages: dict[str, list[Any]]) -> None:
        self.pages = pages

    def get_paginator(self, operation: str) -> Any:
        pages = self.pages[operation]

        class Paginator:
            def paginate(self, **params: Any) -> Iterator[Any]:
                return iter(pages)

        return Paginator()


@pytest.mark.parametrize(
    "page",
    [{"InstanceTypes": "p5.48xlarge"}, {"Reservations": []}, "<html>502</html>", None],
)
def test_wrong_instance_type_page_shape_is_response_error(page: object) -> None:
    fake = FakeClient({"describe_instance_types": [page]})
    p = provider(client_factory=lambda service, region: fake)
    with pytest.raises(ProviderResponseError) as info:
        p.fetch(make_client())
    assert str(info.value).startswith("aws: unexpected payload")


def test_wrong_price_page_shape_is_response_error() -> None:
    fake = FakeClient(
        {
            "describe_instance_types": instance_type_pages(),
            "get_products": [{"PriceList": {"a": 1}}],
        }
    )
    with pytest.raises(ProviderResponseError):
        provider(client_factory=lambda s, r: fake).fetch(make_client())


def test_passed_deadline_is_timeout() -> None:
    stubs = Stubs()
    p = provider(client_factory=stubs.factory)
    with pytest.raises(ProviderTimeoutError):
        p.fetch(make_client(), deadline=time.monotonic() - 1)
    assert ("ec2", "us-east-1") not in stubs.requested


# --- pure parsing -------------------------------------------------------------------------


def test_parse_instance_types_specs() -> None:
    specs = parse_instance_types(instance_type_pages())
    assert sorted(specs) == FIXTURE_TYPES
    p4d, p4de = specs["p4d.24xlarge"], specs["p4de.24xlarge"]
    # AWS calls both GPUs "A100"; memory per GPU (MiB / 1024) tells them apart
    assert (p4d.gpu_name_raw, p4d.gpu_memory_gib) == ("A100", 40.0)
    assert (p4de.gpu_name_raw, p4de.gpu_memory_gib) == ("A100", 80.0)
    # p5en reported with the manufacturer as its GPU name: the family says H200
    assert specs["p5en.48xlarge"].gpu_name_raw == "H200"
    assert specs["p5en.48xlarge"].gpu_memory_gib == 141.0
    g5g = specs["g5g.xlarge"]
    assert (g5g.architecture, g5g.disk_gib, g5g.ram_gib) == ("arm64", None, 8.0)
    g5 = specs["g5.xlarge"]
    assert g5.disk_gib == pytest.approx(250e9 / 2**30)
    assert (g5.vcpus, g5.gpu_count) == (4, 1)


def test_parse_instance_types_skips_bad_and_gpu_less_entries() -> None:
    good = instance_type_pages()[0]["InstanceTypes"][1]  # g5.xlarge
    no_gpu = {k: v for k, v in good.items() if k != "GpuInfo"} | {"InstanceType": "p3.fake"}
    bad_count = copy.deepcopy(good) | {"InstanceType": "g5.bad"}
    bad_count["GpuInfo"]["Gpus"][0]["Count"] = "eight"
    unknown_maker_name = copy.deepcopy(good) | {"InstanceType": "g9.xlarge"}
    unknown_maker_name["GpuInfo"]["Gpus"][0]["Name"] = "NVIDIA"
    nameless = {"VCpuInfo": {"DefaultVCpus": 4}}
    zero_gpus = copy.deepcopy(good) | {"InstanceType": "g6f.xlarge"}  # no GpuPartitionSize given
    zero_gpus["GpuInfo"]["Gpus"][0]["Count"] = 0
    skips = Skips("aws")
    specs = parse_instance_types(
        [
            {
                "InstanceTypes": [
                    no_gpu,
                    bad_count,
                    nameless,
                    "junk",
                    unknown_maker_name,
                    zero_gpus,
                    good,
                ]
            }
        ],
        skips=skips,
    )
    assert list(specs) == ["g5.xlarge"]
    assert skips.as_dict() == {
        "fractional GPU": 1,
        "malformed": 3,
        "no GPU": 1,
        "unknown GPU": 1,
    }


def test_parse_prices_values_and_filters() -> None:
    items = [item for page in price_pages() for item in page["PriceList"]]
    assert parse_prices(items) == {
        "p5.48xlarge": 55.04,
        "g5.xlarge": 1.006,
        "g6.xlarge": 0.8048,
        "g4dn.xlarge": 0.526,
        "p4d.24xlarge": 21.9576,
        "p4de.24xlarge": 27.4471,
        "p5en.48xlarge": 63.2968,
        "g6f.large": 0.2015,
    }
    assert parse_prices([]) == {}
    zero = json.loads(items[0])
    dims = next(iter(zero["terms"]["OnDemand"].values()))["priceDimensions"]
    next(iter(dims.values()))["pricePerUnit"]["USD"] = "0.0000000000"
    assert parse_prices([json.dumps(zero), items[1]]) == {"g5.xlarge": 1.006}


def test_parse_prices_all_garbage_raises() -> None:
    with pytest.raises(ProviderResponseError):
        parse_prices(["{", "null", '{"product": {}}'])


def test_parse_spot_cheapest_fresh_row_wins() -> None:
    rows = spot_page()["SpotPriceHistory"]
    assert parse_spot(rows, now=NOW) == {
        "g5.xlarge": SpotQuote(0.3981, "us-east-1b"),
        "p5.48xlarge": SpotQuote(21.54, "us-east-1c"),
        "p4d.24xlarge": SpotQuote(9.812, "us-east-1d"),
    }


def test_parse_spot_ignores_stale_bad_and_foreign_rows() -> None:
    def row(price: str, age: timedelta, **over: Any) -> dict[str, Any]:
        base = {
            "AvailabilityZone": "us-east-1a",
            "InstanceType": "g5.xlarge",
            "ProductDescription": "Linux/UNIX",
            "SpotPrice": price,
            "Timestamp": NOW - age,
        }
        return base | over

    rows = [
        row("0.00001", NOW - datetime(2006, 1, 2, 15, 4, 5, tzinfo=UTC)),  # moto placeholder
        row("0.01", timedelta(days=31)),  # stale
        row("0.02", timedelta(hours=1), ProductDescription="Windows"),
        row("0", timedelta(hours=1)),
        row("abc", timedelta(hours=1)),
        {"InstanceType": "g5.xlarge"},
        row("0.5", timedelta(days=29), AvailabilityZone="us-east-1f"),
    ]
    assert parse_spot(rows, now=NOW) == {"g5.xlarge": SpotQuote(0.5, "us-east-1f")}
    assert parse_spot(rows, now=NOW, max_age=timedelta(days=7)) == {}
    # a naive clock or timestamp is taken as UTC
    naive = [row("0.7", timedelta(hours=2), Timestamp=datetime(2026, 8, 20, 10, 0))]
    assert parse_spot(naive, now=NOW.replace(tzinfo=None)) == {
        "g5.xlarge": SpotQuote(0.7, "us-east-1a")
    }


def test_parse_offers_ignores_prices_without_spec() -> None:
    specs = parse_instance_types(instance_type_pages())
    offers = parse_offers(
        specs,
        {"g6f.large": 0.2, "c5.large": 0.085, "g6.xlarge": 0.8048},
        {"g6.xlarge": SpotQuote(0.3, "eu-west-1a")},
        region="eu-west-1",
        observed_at=NOW,
    )
    assert [(o.id, o.price_per_hour_usd, o.country) for o in offers] == [
        ("aws:g6.xlarge:eu-west-1:ondemand", 0.8048, "IE"),
        ("aws:g6.xlarge:eu-west-1:spot", 0.3, "IE"),
    ]


def test_translate_errors_covers_page_validation() -> None:
    with pytest.raises(ProviderResponseError), translate_errors("aws", provider=True):
        parse_instance_types([{"InstanceTypes": None}])


# --- against moto's EC2 (real HTTP to an in-process server; pricing stays stubbed) --------


def test_moto_instance_types_with_stubbed_pricing(moto_env: str) -> None:
    pricing = raw_client("pricing", "us-east-1")
    stubber = Stubber(pricing)
    first, second = price_pages()
    stubber.add_response("get_products", first, pricing_params("us-east-1"))
    stubber.add_response(
        "get_products", second, pricing_params("us-east-1", next_token=first["NextToken"])
    )
    stubber.activate()
    session: Any = boto3.session.Session()
    ec2_clients: list[Any] = []

    def factory(service: str, region: str) -> Any:
        if service == "pricing":
            return pricing
        client = session.client(service, region_name=region)
        ec2_clients.append(client)
        return client

    offers = by_id(provider(client_factory=factory).fetch(make_client()).offers)
    stubber.assert_no_pending_responses()
    assert ec2_clients[0].meta.endpoint_url == moto_env

    # moto's real catalogue: every priced GPU type; spot rows are 2006 placeholders → no spot
    assert sorted(offers) == [
        "aws:g4dn.xlarge:us-east-1:ondemand",
        "aws:g5.xlarge:us-east-1:ondemand",
        "aws:g6.xlarge:us-east-1:ondemand",
        "aws:p4d.24xlarge:us-east-1:ondemand",
        "aws:p4de.24xlarge:us-east-1:ondemand",
        "aws:p5.48xlarge:us-east-1:ondemand",
        "aws:p5en.48xlarge:us-east-1:ondemand",
    ]
    summary = {
        k: (o.gpu_model, o.gpu_count, o.gpu_memory_gib, o.vcpus, o.ram_gib)
        for k, o in offers.items()
    }
    assert summary == {
        "aws:g4dn.xlarge:us-east-1:ondemand": ("T4", 1, 16.0, 4, 16.0),
        "aws:g5.xlarge:us-east-1:ondemand": ("A10G", 1, 24.0, 4, 16.0),  # 22888 MiB snapped
        "aws:g6.xlarge:us-east-1:ondemand": ("L4", 1, 24.0, 4, 16.0),
        "aws:p4d.24xlarge:us-east-1:ondemand": ("A100-40GB", 8, 40.0, 96, 1152.0),
        "aws:p4de.24xlarge:us-east-1:ondemand": ("A100-80GB", 8, 80.0, 96, 1152.0),
        "aws:p5.48xlarge:us-east-1:ondemand": ("H100-SXM", 8, 80.0, 192, 2048.0),
        "aws:p5en.48xlarge:us-east-1:ondemand": ("H200", 8, 141.0, 192, 2048.0),
    }
    assert offers["aws:p5.48xlarge:us-east-1:ondemand"].price_per_hour_usd == 55.04


def test_moto_spot_rows_are_placeholders(moto_env: str) -> None:
    """Guards the reason stale rows are dropped: moto's spot history is not a price."""
    session: Any = boto3.session.Session()
    ec2 = session.client("ec2", region_name="us-east-1")
    rows = ec2.describe_spot_price_history(
        InstanceTypes=["g5.xlarge"], ProductDescriptions=["Linux/UNIX"], StartTime=NOW
    )["SpotPriceHistory"]
    assert rows
    assert {r["Timestamp"].year for r in rows} == {2006}
    assert parse_spot(rows, now=NOW) == {}


def test_module_does_not_import_boto3_at_import_time() -> None:
    source = Path(aws.__file__).read_text(encoding="utf-8")
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in top_level if "boto" in line]
