"""Google Cloud: accelerator-optimized VMs priced from the Cloud Billing Catalog API.

``GET {base}/services/6F81-5844-456A/skus?currencyCode=USD&pageSize=5000`` lists every Compute
Engine SKU, following ``nextPageToken``. It needs ``GCP_API_KEY``. The key is sent in the
``X-Goog-Api-Key`` header, which Google recommends over the ``key=`` query parameter because a
key in the URL ends up in logs, proxies and exception texts (httpx logs every request URL at
INFO and puts it in ``HTTPStatusError`` messages). Error texts are still scrubbed of the key,
in case a server echoes it. A bad key is answered with HTTP 400 ``API_KEY_INVALID`` (not 401);
it is mapped to `InvalidCredentialsError` like a 401/403.

The catalog prices resources, not machines: one machine-hour is

    GPU SKU × GPUs + "<Family> Instance Core" SKU × vCPUs + "<Family> Instance Ram" SKU × GiB

for the machine types in `MACHINE_TYPES` (families whose GPUs come with the machine: A2, A3,
G2). Their vCPU/RAM/GPU numbers come from the Compute Engine machine-type docs; types not
listed there are not offered. An offer is made for a (machine, region, on-demand/spot) only
when all three parts have a price there. The a2-ultragpu and a3 types come with local SSD that
is billed on its own SKU and is *not* included in the price (``extras["price_excludes"]``).

SKU rules (the first three as in gpuhunt):

* ``usageType`` ``OnDemand`` is on-demand and ``Preemptible`` is spot; a description that says
  ``Spot Preemptible`` is spot whatever the usage type. Commitments are skipped.
* Descriptions naming ``Sole Tenancy``, ``Reserved``, ``Premium``, ``Custom``, ``Commitment``
  or ``DWS`` (Dynamic Workload Scheduler) are other prices for the same hardware: skipped.
* The unit price is ``int(units) + nanos / 1e9`` of the tier starting at usage 0 of the latest
  ``pricingInfo`` entry (compute SKUs have that single tier). GPU and core SKUs must be per
  hour (``h``), RAM per GiB-hour (``GiBy.h``); other units are skipped.
* Two SKUs for the same part, region and usage keep the lower price, whatever their order.

Every SKU of the catalog is accounted for: kept when it prices a part of a machine in
`MACHINE_TYPES`, else skipped as ``not a GPU machine part`` (storage, network, other
families...), ``other pricing`` (commitments, reservations, sole tenancy, DWS...),
``unexpected unit``, ``no price`` or ``malformed``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx
import pydantic
from pydantic import BaseModel, Field

from gpubroker.errors import (
    InvalidCredentialsError,
)
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    MALFORMED,
    NO_PRICE,
    CredentialSpec,
    FetchResult,
    FetchSession,
    Provider,
    Skips,
    make_offer,
    row_id,
)

_log = logging.getLogger(__name__)

COMPUTE_SERVICE_ID = "6F81-5844-456A"
PAGE_SIZE = 5000
#: Regions offered when the ``regions`` option is not set.
DEFAULT_REGIONS: tuple[str, ...] = ("us-central1", "us-east4", "europe-west4")
#: Guard against a ``nextPageToken`` loop; hitting it marks the result ``truncated``.
DEFAULT_MAX_PAGES = 20


@dataclass(frozen=True, slots=True)
class MachineType:
    """A GCP machine type whose GPUs are part of the machine.

    Attributes:
        name: machine type, e.g. ``g2-standard-4``.
        family: billing family in the core/RAM SKU descriptions (``G2`` → "G2 Instance Core").
        gpu: key of the GPU SKU in `_GPU_SKUS` (the accelerator type name).
        gpu_memory_gib: memory per GPU.
        gpu_count: GPUs in the machine.
        vcpus: vCPUs.
        ram_gib: memory, GiB (GCP's "GB" for machine types are GiB).
        local_ssd_gib: local SSD that comes with the machine, not priced here.
    """

    name: str
    family: str
    gpu: str
    gpu_memory_gib: float
    gpu_count: int
    vcpus: int
    ram_gib: float
    local_ssd_gib: int | None = None


def _types(
    family: str, gpu: str, memory: float, rows: Iterable[tuple[str, int, int, float, int | None]]
) -> list[MachineType]:
    return [MachineType(n, family, gpu, memory, g, c, r, ssd) for n, g, c, r, ssd in rows]


# (name, GPUs, vCPUs, RAM GiB, bundled local SSD GiB). a3-megagpu is billed as "A3Plus"
# (core/RAM SKUs). Numbers (vCPU count, instance memory, attached Local SSD, GPU count and
# memory) checked against the A2 Standard, A2 Ultra, A3 Mega, A3 High and G2 machine-type
# tables of "GPU machine types" and "Accelerator-optimized machine family":
#   https://cloud.google.com/compute/docs/gpus
#   https://cloud.google.com/compute/docs/accelerator-optimized-machines
MACHINE_TYPES: tuple[MachineType, ...] = (
    *_types("A2", "nvidia-tesla-a100", 40, [
        ("a2-highgpu-1g", 1, 12, 85, None),
        ("a2-highgpu-2g", 2, 24, 170, None),
        ("a2-highgpu-4g", 4, 48, 340, None),
        ("a2-highgpu-8g", 8, 96, 680, None),
        ("a2-megagpu-16g", 16, 96, 1360, None),
    ]),
    *_types("A2", "nvidia-a100-80gb", 80, [
        ("a2-ultragpu-1g", 1, 12, 170, 375),
        ("a2-ultragpu-2g", 2, 24, 340, 750),
        ("a2-ultragpu-4g", 4, 48, 680, 1500),
        ("a2-ultragpu-8g", 8, 96, 1360, 3000),
    ]),
    *_types("A3", "nvidia-h100-80gb", 80, [("a3-highgpu-8g", 8, 208, 1872, 6000)]),
    *_types("A3Plus", "nvidia-h100-mega-80gb", 80, [("a3-megagpu-8g", 8, 208, 1872, 6000)]),
    *_types("G2", "nvidia-l4", 24, [
        ("g2-standard-4", 1, 4, 16, None),
        ("g2-standard-8", 1, 8, 32, None),
        ("g2-standard-12", 1, 12, 48, None),
        ("g2-standard-16", 1, 16, 64, None),
        ("g2-standard-24", 2, 24, 96, None),
        ("g2-standard-32", 1, 32, 128, None),
        ("g2-standard-48", 4, 48, 192, None),
        ("g2-standard-96", 8, 96, 384, None),
    ]),
)  # fmt: skip

# GPU SKU description (before " running in ...", lower-case) → accelerator type. The Mega
# H100 has been listed under three spellings.
_GPU_SKUS = {
    "nvidia l4 gpu": "nvidia-l4",
    "nvidia tesla a100 gpu": "nvidia-tesla-a100",
    "nvidia tesla a100 80gb gpu": "nvidia-a100-80gb",
    "nvidia a100 80gb gpu": "nvidia-a100-80gb",
    "nvidia h100 80gb gpu": "nvidia-h100-80gb",
    "nvidia h100 80gb mega gpu": "nvidia-h100-mega-80gb",
    "nvidia h100 mega 80gb gpu": "nvidia-h100-mega-80gb",
    "nvidia h100 80gb plus gpu": "nvidia-h100-mega-80gb",
}
_FAMILIES = frozenset(m.family for m in MACHINE_TYPES)
_SKIP_WORDS = ("sole tenancy", "reserved", "premium", "custom", "commitment", "dws")
_DESCRIPTION = re.compile(
    r"^(?:spot preemptible )?(?P<part>.+?)(?P<spot> attached to spot preemptible vms)?"
    r" running in .+$",
    re.IGNORECASE,
)
_INSTANCE_PART = re.compile(r"^(?P<family>[a-z0-9]+) instance (?P<kind>core|ram)$", re.IGNORECASE)
_USAGE_UNIT = {"gpu": "h", "core": "h", "ram": "GiBy.h"}
NOT_A_PART = "not a GPU machine part"
OTHER_PRICING = "other pricing"
UNEXPECTED_UNIT = "unexpected unit"

# ISO-2 country of each GCP region; any ``us-*`` region is US.
_COUNTRY_BY_REGION = {
    "northamerica-northeast1": "CA", "northamerica-northeast2": "CA",
    "northamerica-south1": "MX", "southamerica-east1": "BR", "southamerica-west1": "CL",
    "europe-west1": "BE", "europe-west2": "GB", "europe-west3": "DE", "europe-west4": "NL",
    "europe-west6": "CH", "europe-west8": "IT", "europe-west9": "FR", "europe-west10": "DE",
    "europe-west12": "IT", "europe-north1": "FI", "europe-central2": "PL",
    "europe-southwest1": "ES", "asia-east1": "TW", "asia-east2": "HK",
    "asia-northeast1": "JP", "asia-northeast2": "JP", "asia-northeast3": "KR",
    "asia-south1": "IN", "asia-south2": "IN", "asia-southeast1": "SG",
    "asia-southeast2": "ID", "australia-southeast1": "AU", "australia-southeast2": "AU",
    "me-west1": "IL", "me-central1": "QA", "me-central2": "SA", "africa-south1": "ZA",
}  # fmt: skip


def country_for_region(region: str) -> str | None:
    """ISO-2 country of a GCP region (``europe-west4`` → ``NL``), when known."""
    if region.startswith("us-"):
        return "US"
    return _COUNTRY_BY_REGION.get(region)


class _Money(BaseModel):
    currency_code: str | None = Field(default=None, alias="currencyCode")
    units: int = 0
    nanos: int = 0


class _Tier(BaseModel):
    start_usage_amount: float = Field(default=0, alias="startUsageAmount")
    unit_price: _Money = Field(alias="unitPrice")


class _Expression(BaseModel):
    usage_unit: str = Field(alias="usageUnit")
    tiered_rates: list[_Tier] = Field(alias="tieredRates")


class _PricingInfo(BaseModel):
    pricing_expression: _Expression = Field(alias="pricingExpression")


class _Category(BaseModel):
    resource_family: str | None = Field(default=None, alias="resourceFamily")
    usage_type: str = Field(alias="usageType")


class _Sku(BaseModel):
    sku_id: str = Field(default="", alias="skuId")
    description: str
    category: _Category
    service_regions: list[str] = Field(default_factory=list, alias="serviceRegions")
    pricing_info: list[_PricingInfo] = Field(alias="pricingInfo", min_length=1)


class _Page(BaseModel):
    skus: list[Any]
    next_page_token: str = Field(default="", alias="nextPageToken")


# (part, region, spot) → USD per unit; part is ("gpu", accelerator) or ("core"|"ram", family)
_Part = tuple[str, str]
_Prices = dict[tuple[_Part, str, bool], float]


def _unit_price(sku: _Sku) -> float | None:
    latest = sku.pricing_info[-1].pricing_expression
    for tier in latest.tiered_rates:
        if tier.start_usage_amount == 0:
            money = tier.unit_price
            if money.currency_code not in (None, "USD"):
                return None
            return money.units + money.nanos / 1e9
    return None


def classify(description: str) -> tuple[_Part, bool] | None:
    """The priced part of a SKU description and whether the text marks it spot.

    ``"Spot Preemptible Nvidia L4 GPU running in Americas"`` → ``(("gpu", "nvidia-l4"), True)``;
    ``"A2 Instance Ram running in Belgium"`` → ``(("ram", "A2"), False)``. Returns None for
    SKUs that price nothing `MACHINE_TYPES` needs, or another kind of price (reserved, DWS...).
    """
    lowered = description.lower()
    if any(word in lowered for word in _SKIP_WORDS):
        return None
    match = _DESCRIPTION.match(description.strip())
    if match is None:
        return None
    spot = lowered.startswith("spot preemptible ") or match.group("spot") is not None
    part = match.group("part").strip()
    gpu = _GPU_SKUS.get(part.lower())
    if gpu is not None:
        return ("gpu", gpu), spot
    instance = _INSTANCE_PART.match(part)
    if instance is None:
        return None
    family = next((f for f in _FAMILIES if f.lower() == instance.group("family").lower()), None)
    if family is None:
        return None
    return (instance.group("kind").lower(), family), spot


def collect_prices(skus: Iterable[Any], *, skips: Skips | None = None) -> _Prices:
    """Unit prices of the GPU, core and RAM parts by region and usage (pure).

    Each SKU is counted in ``skips``: kept when it prices a part, else skipped with the
    reason it prices nothing `MACHINE_TYPES` needs.
    """
    notes = skips if skips is not None else Skips(GcpProvider.name)
    prices: _Prices = {}
    for index, raw in enumerate(skus):
        try:
            sku = _Sku.model_validate(raw)
        except pydantic.ValidationError:
            notes.add(MALFORMED, row_id(raw, "skuId", "description", index=index))
            continue
        usage = sku.category.usage_type
        if usage not in ("OnDemand", "Preemptible"):
            notes.add(OTHER_PRICING, sku.sku_id)
            continue
        if sku.category.resource_family not in (None, "Compute"):
            notes.add(NOT_A_PART, sku.sku_id)
            continue
        found = classify(sku.description)
        if found is None:
            lowered = sku.description.lower()
            other = any(word in lowered for word in _SKIP_WORDS)
            notes.add(OTHER_PRICING if other else NOT_A_PART, sku.sku_id)
            continue
        part, spot_text = found
        expression = sku.pricing_info[-1].pricing_expression
        if expression.usage_unit != _USAGE_UNIT[part[0]]:
            notes.add(UNEXPECTED_UNIT, f"{sku.sku_id} ({expression.usage_unit})")
            continue
        price = _unit_price(sku)
        if price is None or price <= 0:
            notes.add(NO_PRICE, sku.sku_id)
            continue
        notes.keep(sku.sku_id)
        spot = spot_text or usage == "Preemptible"
        for region in sku.service_regions:
            key = (part, region, spot)
            if key not in prices or price < prices[key]:
                prices[key] = price
    return prices


def parse_offers(
    skus: Iterable[Any],
    *,
    observed_at: datetime,
    regions: Iterable[str] = DEFAULT_REGIONS,
    skips: Skips | None = None,
) -> list[Offer]:
    """Map catalog SKUs (all pages together) to machine offers (pure).

    Args:
        skus: raw SKU objects from every page.
        observed_at: when the catalog was read.
        regions: regions to make offers for.
        skips: where each SKU is accounted for (kept, or skipped with a reason).

    Returns:
        One offer per (machine type, region, on-demand/spot) whose GPU, core and RAM parts all
        have a price there, in `MACHINE_TYPES` order, then region order, on-demand first.
    """
    prices = collect_prices(skus, skips=skips)
    offers: list[Offer] = []
    for machine in MACHINE_TYPES:
        for region in regions:
            for spot in (False, True):
                gpu = prices.get((("gpu", machine.gpu), region, spot))
                core = prices.get((("core", machine.family), region, spot))
                ram = prices.get((("ram", machine.family), region, spot))
                if gpu is None or core is None or ram is None:
                    continue
                total = gpu * machine.gpu_count + core * machine.vcpus + ram * machine.ram_gib
                extras: dict[str, Any] = {
                    "family": machine.family,
                    "gpu_price_per_hour_usd": gpu,
                    "core_price_per_hour_usd": core,
                    "ram_price_per_gib_hour_usd": ram,
                }
                if machine.local_ssd_gib:
                    extras["price_excludes"] = f"{machine.local_ssd_gib} GiB bundled local SSD"
                offer = make_offer(
                    provider=GcpProvider.name,
                    native_id=f"{machine.name}:{region}:{'spot' if spot else 'ondemand'}",
                    instance_type=machine.name,
                    gpu_name_raw=machine.gpu,
                    gpu_count=machine.gpu_count,
                    gpu_memory_gib=machine.gpu_memory_gib,
                    price_per_hour_usd=total,
                    observed_at=observed_at,
                    vcpus=machine.vcpus,
                    ram_gib=machine.ram_gib,
                    disk_gib=machine.local_ssd_gib,
                    spot=spot,
                    region=region,
                    country=country_for_region(region),
                    # The catalog says nothing about capacity.
                    availability=Availability.UNKNOWN,
                    extras=extras,
                )
                if offer is not None:
                    offers.append(offer)
    return offers


def is_invalid_key_response(response: httpx.Response) -> bool:
    """True for Google's answer to a bad API key: HTTP 400 (not 401) with ``API_KEY_INVALID``."""
    if response.status_code != 400:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    details = error.get("details")
    reasons = (
        [d.get("reason") for d in details if isinstance(d, dict)]
        if isinstance(details, list)
        else []
    )
    message = str(error.get("message") or "")
    return "API_KEY_INVALID" in reasons or message.startswith("API key not valid")


class GcpProvider(Provider):
    """Google Cloud A2/A3/G2 machines, priced from the Cloud Billing Catalog API.

    Options:
        max_pages: catalog pages to read before giving up (default `DEFAULT_MAX_PAGES`);
            a fetch that stopped there is marked ``truncated``.
    """

    name: ClassVar[str] = "gcp"
    label: ClassVar[str] = "Google Cloud"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "GCP_API_KEY", required=True),
    )
    default_base_url: ClassVar[str | None] = "https://cloudbilling.googleapis.com/v1"
    default_regions: ClassVar[tuple[str, ...]] = DEFAULT_REGIONS
    homepage: ClassVar[str | None] = "https://cloud.google.com/compute/gpus-pricing"

    def _fetch(self, session: FetchSession) -> FetchResult:
        """Read every catalog page of Compute Engine SKUs and price the known machines.

        The catalog API has no filter; the pages follow ``nextPageToken`` one by one.
        """
        (key,) = self.credential("api_key")
        max_pages = int(self.options.get("max_pages") or DEFAULT_MAX_PAGES)
        url = f"{self.base_url}/services/{COMPUTE_SERVICE_ID}/skus"
        skus: list[Any] = []
        token = ""
        pages = 0
        truncated = False
        while True:
            if pages >= max_pages:
                truncated = True
                _log.warning("gcp: stopped after %d catalog pages", pages)
                break
            params = {"currencyCode": "USD", "pageSize": str(PAGE_SIZE)}
            if token:
                params["pageToken"] = token
            try:
                payload = session.json("GET", url, params=params, headers={"X-Goog-Api-Key": key})
            except httpx.HTTPStatusError as exc:
                if is_invalid_key_response(exc.response):
                    raise InvalidCredentialsError(
                        "gcp: API key rejected (HTTP 400: API key not valid)",
                        hint="check the key with `gpubroker keys set gcp`",
                        service=self.name,
                    ) from None
                raise
            page = _Page.model_validate(payload)
            skus.extend(page.skus)
            pages += 1
            token = page.next_page_token
            if not token:
                break
        skips = Skips(self.name)
        offers = parse_offers(skus, observed_at=self.now(), regions=self.regions, skips=skips)
        return FetchResult.of(offers, skips, truncated=truncated)
