"""AWS EC2 GPU instances: specs from EC2, on-demand prices from the Price List API, spot from EC2.

Three boto3 calls per region, all paginated:

* ``ec2.describe_instance_types`` filtered by instance-type wildcards (`INSTANCE_TYPE_PATTERNS`;
  EC2 has no GPU filter), keeping the types that report ``GpuInfo``;
* ``pricing.get_products`` (the Price List API lives in ``us-east-1``) for Linux, shared-tenancy,
  no-pre-installed-software, on-demand "GPU instance" products in the region;
* ``ec2.describe_spot_price_history`` with ``StartTime=now``, i.e. the price in force now in each
  availability zone; the cheapest zone wins.

Credentials come from boto3's own chain (env vars, ``AWS_PROFILE``, ``~/.aws``, SSO, instance
roles), so `AwsProvider.credentials` declares none; a missing chain surfaces as botocore's
``NoCredentialsError``, which `translate_errors` maps to `MissingCredentialsError`.

Quirks handled here (each also noted where it is handled):

* AWS names the A100 of both p4d (40 GB) and p4de (80 GB) just ``A100``; the per-GPU
  ``MemoryInfo.SizeInMiB`` (40960 / 81920) is passed on so the GPU registry can tell them apart.
* p5en has been reported with the GPU name ``NVIDIA`` (the manufacturer); such names fall back to
  `_GPU_NAME_BY_FAMILY` (p5en/p5e → H200) and are skipped when the family is unknown.
* Fractional GPUs (g6f, gr6f: ``Count`` 0 and ``GpuPartitionSize`` < 1) are skipped: an offer
  needs at least one whole GPU, and a slice's memory is not the GPU's.
* Spot rows older than `SPOT_MAX_AGE` are ignored. AWS returns, per zone, the price in force at
  ``StartTime`` stamped with when it last changed, so a sane row is hours or days old; moto
  answers with placeholder rows (``0.00001`` dated 2006-01-02) that must never become offers.
  The cut-off is 30 days rather than a week because spot prices can stay flat for days.
* Availability: AWS publishes no stock level. A type with a price in a region is sold there, so
  offers are `Availability.AVAILABLE`; capacity errors and vCPU quotas can still refuse a launch.
* Instance storage is reported in decimal GB and converted to GiB; EBS-only types have no disk.

Every instance type ``describe_instance_types`` returns in a region is accounted for: kept when
it became an offer there, else skipped as ``no GPU``, ``fractional GPU``, ``unknown GPU`` (the
name is only the manufacturer's), ``no price`` (no on-demand price and no spot quote in the
region) or ``malformed``. Price list items and spot rows are prices, not rows: an unreadable
one is logged.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, Field, ValidationError

from gpubroker.errors import ProviderResponseError
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    FRACTIONAL_GPU,
    MALFORMED,
    NO_GPU,
    NO_PRICE,
    UNKNOWN_GPU,
    CredentialSpec,
    FetchResult,
    FetchSession,
    Provider,
    Skips,
    country_for_aws_style_region,
    make_offer,
    row_id,
)

log = logging.getLogger(__name__)

DEFAULT_REGIONS: tuple[str, ...] = ("us-east-1", "us-west-2", "eu-west-1")
PRICING_REGION = "us-east-1"
"""The Price List API has endpoints in us-east-1, eu-central-1 and ap-south-1 only."""
INSTANCE_TYPE_PATTERNS: tuple[str, ...] = (
    "p6*", "p5*", "p4*", "p3*", "g6*", "gr6*", "g5*", "g4dn*",
)  # fmt: skip
SPOT_MAX_AGE = timedelta(days=30)
SPOT_PRODUCT_DESCRIPTION = "Linux/UNIX"
DEFAULT_TIMEOUT_S = 10.0
_SPOT_BATCH = 100

# When GpuInfo names only the manufacturer (p5en has been seen as "NVIDIA"), the family decides.
_GPU_NAME_BY_FAMILY = {"p5en": "H200", "p5e": "H200", "p5": "H100", "p4de": "A100", "p4d": "A100"}
_MANUFACTURER_NAMES = frozenset({"", "nvidia", "amd", "habana", "xilinx"})

# Attributes every priced product must have when it carries them; the same values are sent as
# server-side filters, and re-checked here so a lax answer cannot price the wrong product.
_PRICE_ATTRIBUTES = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
    "marketoption": "OnDemand",
    "licenseModel": "No License required",
}
_PRICE_FILTERS = {
    **_PRICE_ATTRIBUTES,
    "productFamily": "Compute Instance",
    "instanceFamily": "GPU instance",
}

_BYTES_PER_GB = 1000**3
_BYTES_PER_GIB = 1024**3

ClientFactory = Callable[[str, str], Any]
"""``(service_name, region_name) -> boto3 client``."""


# --- raw payload models -------------------------------------------------------------------


class _Raw(BaseModel):
    """A raw boto3 response shape; unknown keys are ignored (pydantic's default)."""


class _MiB(_Raw):
    SizeInMiB: float


class _Gpu(_Raw):
    Name: str = ""
    Manufacturer: str = ""
    Count: int
    GpuPartitionSize: float | None = None
    MemoryInfo: _MiB | None = None


class _GpuInfo(_Raw):
    Gpus: list[_Gpu] = Field(default_factory=list)


class _VCpus(_Raw):
    DefaultVCpus: int


class _Storage(_Raw):
    TotalSizeInGB: float | None = None


class _Processor(_Raw):
    SupportedArchitectures: list[str] = Field(default_factory=list)


class _InstanceType(_Raw):
    InstanceType: str
    VCpuInfo: _VCpus | None = None
    MemoryInfo: _MiB | None = None
    InstanceStorageInfo: _Storage | None = None
    ProcessorInfo: _Processor | None = None
    GpuInfo: _GpuInfo | None = None


class _InstanceTypesPage(_Raw):
    InstanceTypes: list[Any]


class _PricePage(_Raw):
    PriceList: list[Any]


class _PriceDimension(_Raw):
    unit: str = ""
    pricePerUnit: dict[str, str]


class _OnDemandTerm(_Raw):
    priceDimensions: dict[str, _PriceDimension]


class _Terms(_Raw):
    OnDemand: dict[str, _OnDemandTerm] = Field(default_factory=dict)


class _Product(_Raw):
    attributes: dict[str, str]


class _PriceItem(_Raw):
    product: _Product
    terms: _Terms


class _SpotRow(_Raw):
    InstanceType: str
    SpotPrice: float
    Timestamp: datetime
    AvailabilityZone: str = ""
    ProductDescription: str = SPOT_PRODUCT_DESCRIPTION


class _SpotPage(_Raw):
    SpotPriceHistory: list[Any]


# --- parsed values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """What an instance type is, normalised: memory in GiB, disk in GiB."""

    instance_type: str
    gpu_name_raw: str
    gpu_count: int
    gpu_memory_gib: float | None
    vcpus: int | None
    ram_gib: float | None
    disk_gib: float | None
    architecture: str | None


class SpotQuote(NamedTuple):
    """The cheapest current spot price of an instance type in one region."""

    price_per_hour_usd: float
    availability_zone: str


# --- pure parsing -------------------------------------------------------------------------


def _family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def _gpu_name(instance_type: str, gpu: _Gpu) -> str | None:
    name = gpu.Name.strip()
    if name.lower() in _MANUFACTURER_NAMES or name.lower() == gpu.Manufacturer.strip().lower():
        return _GPU_NAME_BY_FAMILY.get(_family(instance_type))
    return name


def parse_instance_types(
    pages: Iterable[object], *, skips: Skips | None = None
) -> dict[str, InstanceSpec]:
    """Map ``describe_instance_types`` pages to GPU instance specs, keyed by instance type.

    Types without GPUs, with fractional GPUs, or whose GPU cannot be named are left out, as
    are malformed entries; each is counted in ``skips``. A page without an ``InstanceTypes``
    list raises `pydantic.ValidationError` (→ `ProviderResponseError` under `translate_errors`).
    """
    notes = skips if skips is not None else Skips("aws")
    specs: dict[str, InstanceSpec] = {}
    for page in pages:
        for index, item in enumerate(_InstanceTypesPage.model_validate(page).InstanceTypes):
            try:
                raw = _InstanceType.model_validate(item)
            except ValidationError:
                notes.add(MALFORMED, row_id(item, "InstanceType", index=index))
                continue
            spec = _spec(raw)
            if isinstance(spec, str):
                notes.add(spec, raw.InstanceType)
            else:
                specs[spec.instance_type] = spec
    return specs


def _spec(raw: _InstanceType) -> InstanceSpec | str:
    """The instance type's spec, or why it has no GPU offer to give."""
    if raw.GpuInfo is None or not raw.GpuInfo.Gpus:
        return NO_GPU
    gpu = raw.GpuInfo.Gpus[0]  # EC2 never mixes GPU models within one instance type
    if gpu.Count < 1 or (gpu.GpuPartitionSize is not None and gpu.GpuPartitionSize < 1):
        return FRACTIONAL_GPU  # g6f / gr6f GPU slices
    name = _gpu_name(raw.InstanceType, gpu)
    if name is None:
        return UNKNOWN_GPU
    storage_gb = raw.InstanceStorageInfo.TotalSizeInGB if raw.InstanceStorageInfo else None
    archs = raw.ProcessorInfo.SupportedArchitectures if raw.ProcessorInfo else []
    return InstanceSpec(
        instance_type=raw.InstanceType,
        gpu_name_raw=name,
        gpu_count=gpu.Count,
        gpu_memory_gib=gpu.MemoryInfo.SizeInMiB / 1024 if gpu.MemoryInfo else None,
        vcpus=raw.VCpuInfo.DefaultVCpus if raw.VCpuInfo else None,
        ram_gib=raw.MemoryInfo.SizeInMiB / 1024 if raw.MemoryInfo else None,
        disk_gib=storage_gb * _BYTES_PER_GB / _BYTES_PER_GIB if storage_gb else None,
        architecture=archs[0] if archs else None,
    )


def parse_prices(price_list: Iterable[object]) -> dict[str, float]:
    """Map ``get_products`` ``PriceList`` items (JSON strings) to on-demand USD per hour.

    An unreadable item is skipped; when every item is unreadable the answer is garbage and
    `ProviderResponseError` is raised. Products whose attributes contradict the requested
    filters (another OS, tenancy, capacity status...) and items without a positive hourly USD
    price are left out. If a type still appears twice, the lower price wins.
    """
    prices: dict[str, float] = {}
    total = unreadable = 0
    for raw in price_list:
        total += 1
        try:
            item = _PriceItem.model_validate(json.loads(raw) if isinstance(raw, str) else raw)
        except (ValueError, TypeError):  # JSONDecodeError and ValidationError are ValueErrors
            unreadable += 1
            continue
        attrs = item.product.attributes
        instance_type = attrs.get("instanceType")
        if not instance_type or any(
            attrs.get(key, want) != want for key, want in _PRICE_ATTRIBUTES.items()
        ):
            continue
        price = _hourly_usd(item)
        if price is not None and (instance_type not in prices or price < prices[instance_type]):
            prices[instance_type] = price
    if total and unreadable == total:
        raise ProviderResponseError("aws", f"aws: none of the {total} price list items is readable")
    if unreadable:
        log.debug("aws: skipped %d unreadable price list items", unreadable)
    return prices


def _hourly_usd(item: _PriceItem) -> float | None:
    found: list[float] = []
    for term in item.terms.OnDemand.values():
        for dim in term.priceDimensions.values():
            if dim.unit.lower() not in ("hrs", "hours", "hour"):
                continue
            try:
                usd = float(dim.pricePerUnit.get("USD", ""))
            except ValueError:
                continue
            if usd > 0:
                found.append(usd)
    return min(found) if found else None


def parse_spot(
    rows: Iterable[object], *, now: datetime, max_age: timedelta = SPOT_MAX_AGE
) -> dict[str, SpotQuote]:
    """Cheapest current Linux spot price per instance type over the region's zones.

    Rows stamped before ``now - max_age`` are stale (moto's 2006 placeholders) and ignored, as
    are malformed rows, non-positive prices and other product descriptions.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    oldest = now - max_age
    best: dict[str, SpotQuote] = {}
    for item in rows:
        try:
            row = _SpotRow.model_validate(item)
        except ValidationError:
            log.debug("aws: skipping malformed spot price row")
            continue
        stamp = row.Timestamp if row.Timestamp.tzinfo else row.Timestamp.replace(tzinfo=UTC)
        if stamp < oldest or row.SpotPrice <= 0:
            continue
        if not row.ProductDescription.startswith(SPOT_PRODUCT_DESCRIPTION):
            continue
        current = best.get(row.InstanceType)
        if current is None or row.SpotPrice < current.price_per_hour_usd:
            best[row.InstanceType] = SpotQuote(row.SpotPrice, row.AvailabilityZone)
    return best


def parse_offers(
    specs: Mapping[str, InstanceSpec],
    prices: Mapping[str, float],
    spot: Mapping[str, SpotQuote],
    *,
    region: str,
    observed_at: datetime,
    skips: Skips | None = None,
) -> list[Offer]:
    """Offers of one region: one on-demand offer per priced type, one spot offer per quote.

    Prices or quotes for types without a spec (not GPU instances) are ignored; a GPU type
    with neither is counted in ``skips`` as ``no price``. Sorted by id.
    """
    notes = skips if skips is not None else Skips("aws")
    offers: list[Offer] = []
    country = country_for_aws_style_region(region)
    for instance_type, spec in specs.items():
        quotes: list[tuple[bool, float, dict[str, Any]]] = []
        if instance_type in prices:
            quotes.append((False, prices[instance_type], {}))
        if instance_type in spot:
            quote = spot[instance_type]
            quotes.append(
                (True, quote.price_per_hour_usd, {"availability_zone": quote.availability_zone})
            )
        made = len(offers)
        for is_spot, price, extras in quotes:
            if spec.architecture:
                extras["architecture"] = spec.architecture
            offer = make_offer(
                provider="aws",
                native_id=f"{instance_type}:{region}:{'spot' if is_spot else 'ondemand'}",
                gpu_name_raw=spec.gpu_name_raw,
                gpu_count=spec.gpu_count,
                gpu_memory_gib=spec.gpu_memory_gib,
                price_per_hour_usd=price,
                observed_at=observed_at,
                instance_type=instance_type,
                vcpus=spec.vcpus,
                ram_gib=spec.ram_gib,
                disk_gib=spec.disk_gib,
                spot=is_spot,
                region=region,
                country=country,
                availability=Availability.AVAILABLE,
                extras=extras,
            )
            if offer is not None:
                offers.append(offer)
        if len(offers) > made:
            notes.keep(instance_type)
        else:
            notes.add(NO_PRICE, f"{instance_type} in {region}")
    return sorted(offers, key=lambda o: o.id)


# --- the provider -------------------------------------------------------------------------


class AwsProvider(Provider):
    """AWS EC2 GPU instances, on-demand and spot, in a few regions.

    Regions default to `DEFAULT_REGIONS`. Options (all optional):
        client_factory: ``(service_name, region_name) -> client``; wins over ``session``.
        session: a ``boto3.Session`` used to build clients; default a fresh one (standard
            credential chain).
        timeout_s: connect and read timeout of each AWS call; default 10 s.
        pricing_region: Price List API endpoint region; default ``us-east-1``.
    """

    name: ClassVar[str] = "aws"
    label: ClassVar[str] = "AWS EC2"
    # boto3 resolves AWS credentials itself (env, profile, SSO, instance role): nothing to declare.
    credentials: ClassVar[tuple[CredentialSpec, ...]] = ()
    default_regions: ClassVar[tuple[str, ...]] = DEFAULT_REGIONS
    homepage: ClassVar[str | None] = "https://aws.amazon.com/ec2/pricing/on-demand/"

    @classmethod
    def needs_auth(cls) -> bool:
        """True: listing prices needs IAM credentials, even though none are declared here.

        They come from boto3's own credential chain; when it finds none, `fetch` raises
        `MissingCredentialsError`.
        """
        return True

    def _fetch(self, session: FetchSession) -> FetchResult:
        """List GPU instance offers in every configured region.

        In each region the instance types and the Price List are asked for at once, then
        the spot price history of the GPU types found. Regions go one after the other: the
        Price List client is shared by all of them and its pages must not interleave.
        boto3 has its own HTTP stack: the session's client is unused, its deadline is
        honoured between calls.

        Raises:
            MissingCredentialsError: boto3 found no AWS credentials.
            InvalidCredentialsError: AWS refused them (AccessDenied, UnauthorizedOperation...).
            ProviderError: throttling, server errors, network failures, unreadable answers.
        """
        observed_at = self.now()
        skips = Skips(self.name)
        factory = self._client_factory()
        pricing = factory("pricing", self.options.get("pricing_region") or PRICING_REGION)
        offers: list[Offer] = []
        for region in dict.fromkeys(self.regions):
            session.check_deadline()
            ec2 = factory("ec2", region)
            specs, prices = session.parallel(
                functools.partial(_instance_types, ec2, skips),
                functools.partial(self._prices, session, pricing, region),
            )
            if not specs:
                continue
            quotes = self._spot(session, ec2, sorted(specs), observed_at)
            offers.extend(
                parse_offers(
                    specs, prices, quotes, region=region, observed_at=observed_at, skips=skips
                )
            )
        return FetchResult.of(offers, skips)

    def _prices(self, session: FetchSession, pricing: Any, region: str) -> dict[str, float]:
        session.check_deadline()
        filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}] + [
            {"Type": "TERM_MATCH", "Field": key, "Value": value}
            for key, value in _PRICE_FILTERS.items()
        ]
        items = (
            item
            for page in _pages(
                pricing, "get_products", ServiceCode="AmazonEC2", FormatVersion="aws_v1",
                Filters=filters,
            )
            for item in _PricePage.model_validate(page).PriceList
        )  # fmt: skip
        return parse_prices(items)

    def _spot(
        self, session: FetchSession, ec2: Any, instance_types: list[str], now: datetime
    ) -> dict[str, SpotQuote]:
        rows: list[Any] = []
        for start in range(0, len(instance_types), _SPOT_BATCH):
            session.check_deadline()
            for page in _pages(
                ec2,
                "describe_spot_price_history",
                InstanceTypes=instance_types[start : start + _SPOT_BATCH],
                ProductDescriptions=[SPOT_PRODUCT_DESCRIPTION],
                StartTime=now,
            ):
                rows.extend(_SpotPage.model_validate(page).SpotPriceHistory)
        return parse_spot(rows, now=now)

    def _client_factory(self) -> ClientFactory:
        factory = self.options.get("client_factory")
        if factory is not None:
            return factory  # type: ignore[no-any-return]
        session: Any = self.options.get("session")
        if session is None:
            import boto3.session

            session = boto3.session.Session()
        from botocore.config import Config

        timeout_s = float(self.options.get("timeout_s") or DEFAULT_TIMEOUT_S)
        config = Config(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"max_attempts": 3, "mode": "standard"},
        )

        def build(service_name: str, region_name: str) -> Any:
            return session.client(service_name, region_name=region_name, config=config)

        return build


def _instance_types(ec2: Any, skips: Skips) -> dict[str, InstanceSpec]:
    filters = [{"Name": "instance-type", "Values": list(INSTANCE_TYPE_PATTERNS)}]
    return parse_instance_types(
        _pages(ec2, "describe_instance_types", Filters=filters), skips=skips
    )


def _pages(client: Any, operation: str, **params: Any) -> Iterator[Any]:
    yield from client.get_paginator(operation).paginate(**params)
