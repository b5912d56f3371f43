"""Azure: GPU virtual machines from the public Retail Prices API (no credentials).

``GET {base}/api/retail/prices?$filter=...`` lists one item per meter; GPU VMs are the
N-series (``Standard_N*``). The feed carries no hardware specs, so the GPU model, count and
(where known for certain) vCPUs and RAM come from `_SKU_FAMILIES`, a table of ``armSkuName``
regexes. N-series SKUs missing from the table are skipped rather than guessed.

Every price item becomes part of an offer or a counted skip: malformed, not a Linux
pay-as-you-go hourly USD price (Windows, DevTest, Low Priority, reservations), unknown shape
(an N-series size the table does not have), fractional GPU, no price, or a duplicate meter
(another meter for the same size, region and spot-ness; the cheapest is kept).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationError

from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    DUPLICATE,
    FRACTIONAL_GPU,
    MALFORMED,
    NO_PRICE,
    UNKNOWN_SHAPE,
    CredentialSpec,
    FetchResult,
    FetchSession,
    Provider,
    Skips,
    make_offer,
    row_id,
)

logger = logging.getLogger(__name__)

#: Regions asked for when the ``regions`` option is not set: the large US and EU regions
#: that carry most N-series families (A100, H100, T4, V100, A10).
DEFAULT_REGIONS: tuple[str, ...] = (
    "eastus",
    "eastus2",
    "southcentralus",
    "westus2",
    "westus3",
    "westeurope",
    "northeurope",
    "uksouth",
)
#: Guard against a NextPageLink loop; hitting it marks the result ``truncated``.
DEFAULT_MAX_PAGES = 50

_COUNTRY_BY_REGION = {
    "eastus": "US", "eastus2": "US", "centralus": "US", "northcentralus": "US",
    "southcentralus": "US", "westcentralus": "US", "westus": "US", "westus2": "US",
    "westus3": "US", "canadacentral": "CA", "canadaeast": "CA", "brazilsouth": "BR",
    "mexicocentral": "MX", "northeurope": "IE", "westeurope": "NL", "uksouth": "GB",
    "ukwest": "GB", "francecentral": "FR", "francesouth": "FR", "germanywestcentral": "DE",
    "germanynorth": "DE", "swedencentral": "SE", "switzerlandnorth": "CH",
    "switzerlandwest": "CH", "norwayeast": "NO", "norwaywest": "NO", "polandcentral": "PL",
    "italynorth": "IT", "spaincentral": "ES", "japaneast": "JP", "japanwest": "JP",
    "koreacentral": "KR", "koreasouth": "KR", "australiaeast": "AU",
    "australiasoutheast": "AU", "southeastasia": "SG", "eastasia": "HK", "centralindia": "IN",
    "southindia": "IN", "westindia": "IN", "uaenorth": "AE", "qatarcentral": "QA",
    "southafricanorth": "ZA", "israelcentral": "IL",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Size:
    gpu_count: int
    vcpus: int | None = None
    ram_gib: float | None = None


@dataclass(frozen=True, slots=True)
class _Family:
    """GPU VM family: ``pattern`` captures the size number of ``armSkuName``."""

    pattern: re.Pattern[str]
    gpu_name_raw: str
    gpu_memory_gib: float
    sizes: dict[int, _Size]
    # Sizes that get a slice of one GPU: gpubroker models whole GPUs only, so these are skipped.
    fractional: frozenset[int] = field(default_factory=frozenset)


def _family(
    regex: str,
    gpu: str,
    memory_gib: float,
    sizes: dict[int, _Size],
    fractional: tuple[int, ...] = (),
) -> _Family:
    return _Family(re.compile(regex, re.IGNORECASE), gpu, memory_gib, sizes, frozenset(fractional))


# GPU names are chosen so that the GPU registry maps them to the right canonical model.
# vCPUs / RAM (GiB) / GPU count per size checked against the Microsoft Learn size-series pages
# (learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/<page>, "Sizes in series"
# Basics and Accelerators tabs): nca100v4-series (NC_A100_v4), ndasra100v4-series (NDasrA100_v4;
# older page nda100-v4-series lists the size as Standard_ND96asr_v4), ndma100v4-series
# (NDm_A100_v4), ndh100v5-series (ND-H100-v5), nd-h200-v5-series (ND-H200-v5),
# ncadsh100v5-series (NCads_H100_v5), ncast4v3-series (NCasT4_v3), ncv3-series (NCv3),
# ndv2-series (NDv2), nvadsa10v5-series (NVadsA10_v5: 6/12/18 are 1/6, 1/3, 1/2 of an A10),
# ndmi300xv5-series (ND-MI300X-v5). NC A10 v4 has no size-series page left on Learn: its
# vCPUs, memory and GPUs are Azure's Resource SKUs capabilities as AKS publishes them (AKS node
# size tables: NC8ads 8 vCPU / 100 GiB / 1 GPU, NC16ads 16 / 200 / 1, NC32ads 32 / 400 / 2).
_SKU_FAMILIES: tuple[_Family, ...] = (
    _family(r"^Standard_NC(\d+)ads_A100_v4$", "A100 80GB PCIe", 80,
            {24: _Size(1, 24, 220), 48: _Size(2, 48, 440), 96: _Size(4, 96, 880)}),
    _family(r"^Standard_ND(\d+)asr_v4$", "A100 SXM4 40GB", 40, {96: _Size(8, 96, 900)}),
    _family(r"^Standard_ND(\d+)amsr_A100_v4$", "A100 SXM4 80GB", 80, {96: _Size(8, 96, 1900)}),
    _family(r"^Standard_ND(\d+)isr_H100_v5$", "H100 SXM5 80GB", 80, {96: _Size(8, 96, 1900)}),
    _family(r"^Standard_ND(\d+)isr_H200_v5$", "H200 141GB", 141, {96: _Size(8, 96, 1850)}),
    _family(r"^Standard_NC(\d+)adi?s_H100_v5$", "H100 NVL 94GB", 94,
            {40: _Size(1, 40, 320), 80: _Size(2, 80, 640)}),
    _family(r"^Standard_NC(\d+)as_T4_v3$", "T4 16GB", 16,
            {4: _Size(1, 4, 28), 8: _Size(1, 8, 56), 16: _Size(1, 16, 110),
             64: _Size(4, 64, 440)}),
    _family(r"^Standard_NC(\d+)r?s_v3$", "V100 16GB", 16,
            {6: _Size(1, 6, 112), 12: _Size(2, 12, 224), 24: _Size(4, 24, 448)}),
    _family(r"^Standard_ND(\d+)rs_v2$", "V100 SXM2 32GB", 32, {40: _Size(8, 40, 672)}),
    _family(r"^Standard_NC(\d+)ads_A10_v4$", "A10 24GB", 24,
            {8: _Size(1, 8, 100), 16: _Size(1, 16, 200), 32: _Size(2, 32, 400)}),
    _family(r"^Standard_NV(\d+)ads_A10_v5$", "A10 24GB", 24,
            {36: _Size(1, 36, 440), 72: _Size(2, 72, 880)}, fractional=(6, 12, 18)),
    _family(r"^Standard_ND(\d+)isr_MI300X_v5$", "MI300X 192GB", 192, {96: _Size(8, 96, 1850)}),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AzureSku:
    """What `_SKU_FAMILIES` knows about one ``armSkuName``."""

    gpu_name_raw: str
    gpu_memory_gib: float
    gpu_count: int
    vcpus: int | None
    ram_gib: float | None


def _match(arm_sku_name: str) -> tuple[_Family, int] | None:
    for fam in _SKU_FAMILIES:
        match = fam.pattern.match(arm_sku_name)
        if match is not None:
            return fam, int(match.group(1))
    return None


def is_fractional(arm_sku_name: str) -> bool:
    """True for VM sizes that get a slice of one GPU (e.g. ``Standard_NV6ads_A10_v5``)."""
    found = _match(arm_sku_name)
    return found is not None and found[1] in found[0].fractional


def sku_spec(arm_sku_name: str) -> AzureSku | None:
    """GPU spec of an Azure VM size, or None when unknown or fractional-GPU."""
    found = _match(arm_sku_name)
    if found is None:
        return None
    fam, number = found
    size = fam.sizes.get(number)
    if size is None:
        return None
    return AzureSku(fam.gpu_name_raw, fam.gpu_memory_gib, size.gpu_count, size.vcpus, size.ram_gib)


def build_filter(regions: list[str] | tuple[str, ...]) -> str:
    """The OData ``$filter`` for Linux pay-as-you-go N-series prices in ``regions``."""
    parts = [
        "serviceName eq 'Virtual Machines'",
        "priceType eq 'Consumption'",
        "contains(productName, 'Windows') eq false",
        "contains(productName, 'Dedicated') eq false",
        "contains(meterName, 'Low Priority') eq false",
        "contains(armSkuName, 'Standard_N')",
    ]
    if regions:
        parts.append("(" + " or ".join(f"armRegionName eq '{r}'" for r in regions) + ")")
    return " and ".join(parts)


class _Page(BaseModel):
    items: list[Any] = Field(alias="Items")
    next_page_link: str | None = Field(default=None, alias="NextPageLink")


class _Item(BaseModel):
    arm_sku_name: str = Field(alias="armSkuName")
    arm_region_name: str = Field(alias="armRegionName")
    retail_price: float = Field(alias="retailPrice")
    meter_name: str = Field(alias="meterName")
    sku_name: str = Field(default="", alias="skuName")
    product_name: str = Field(default="", alias="productName")
    type: str = "Consumption"
    unit_of_measure: str = Field(default="1 Hour", alias="unitOfMeasure")
    currency_code: str = Field(default="USD", alias="currencyCode")


def _is_spot(item: _Item) -> bool:
    return item.meter_name.endswith(" Spot") or item.sku_name.endswith(" Spot")


NOT_LINUX_HOURLY_USD = "not a Linux hourly USD price"


def parse_offers(
    items: list[Any], *, observed_at: datetime, skips: Skips | None = None
) -> list[Offer]:
    """Map Retail Prices items (all pages together) to offers (pure).

    Items that fail validation, are not Linux pay-as-you-go hourly USD prices, have no
    price, or whose SKU is unknown/fractional are left out, and duplicate (SKU, region, spot)
    meters keep the cheapest; each is counted in ``skips``.
    """
    notes = skips if skips is not None else Skips(AzureProvider.name)
    best: dict[tuple[str, str, bool], tuple[_Item, AzureSku]] = {}
    for index, raw in enumerate(items):
        try:
            item = _Item.model_validate(raw)
        except ValidationError:
            notes.add(MALFORMED, row_id(raw, "meterId", "armSkuName", index=index))
            continue
        if (
            item.type != "Consumption"
            or item.unit_of_measure != "1 Hour"
            or item.currency_code != "USD"
            or "Windows" in item.product_name
            or "Low Priority" in item.meter_name
        ):
            notes.add(NOT_LINUX_HOURLY_USD, item.meter_name)
            continue
        spec = sku_spec(item.arm_sku_name)
        if spec is None:
            why = FRACTIONAL_GPU if is_fractional(item.arm_sku_name) else UNKNOWN_SHAPE
            notes.add(why, item.arm_sku_name)
            continue
        if not math.isfinite(item.retail_price) or item.retail_price <= 0:
            notes.add(NO_PRICE, f"{item.arm_sku_name} {item.arm_region_name}")
            continue
        key = (item.arm_sku_name, item.arm_region_name, _is_spot(item))
        if key in best:
            # Two meters for one size, region and spot-ness: the dearer one is the duplicate.
            notes.add(DUPLICATE, f"{item.arm_sku_name} {item.arm_region_name}")
            if item.retail_price >= best[key][0].retail_price:
                continue
        best[key] = (item, spec)

    offers: list[Offer] = []
    for (sku, region, spot), (item, spec) in best.items():
        offer = make_offer(
            provider=AzureProvider.name,
            native_id=f"{sku}:{region}:{'spot' if spot else 'ondemand'}",
            instance_type=sku,
            gpu_name_raw=spec.gpu_name_raw,
            gpu_count=spec.gpu_count,
            gpu_memory_gib=spec.gpu_memory_gib,
            vcpus=spec.vcpus,
            ram_gib=spec.ram_gib,
            price_per_hour_usd=item.retail_price,
            observed_at=observed_at,
            spot=spot,
            region=region,
            country=_COUNTRY_BY_REGION.get(region),
            # The price list says nothing about capacity.
            availability=Availability.UNKNOWN,
            extras={"meter_name": item.meter_name, "product_name": item.product_name},
        )
        if offer is None:
            notes.add(NO_PRICE, sku)
            continue
        offers.append(offer)
        notes.keep(sku)
    return offers


class AzureProvider(Provider):
    """Azure N-series VMs, priced from the public Retail Prices API.

    Options:
        max_pages: pages to follow before giving up (default `DEFAULT_MAX_PAGES`); a
            fetch that stopped there is marked ``truncated``.
    """

    name: ClassVar[str] = "azure"
    label: ClassVar[str] = "Microsoft Azure"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = ()
    default_base_url: ClassVar[str | None] = "https://prices.azure.com"
    default_regions: ClassVar[tuple[str, ...]] = DEFAULT_REGIONS
    homepage: ClassVar[str | None] = (
        "https://azure.microsoft.com/pricing/details/virtual-machines/linux/"
    )

    def _fetch(self, session: FetchSession) -> FetchResult:
        """Fetch every page of N-series prices for the configured regions.

        The region list is pushed server-side (it is part of what is cached); other
        filters are applied centrally.
        """
        max_pages = int(self.options.get("max_pages") or DEFAULT_MAX_PAGES)
        items: list[Any] = []
        url: str | None = f"{self.base_url}/api/retail/prices"
        params: dict[str, str] | None = {"$filter": build_filter(self.regions)}
        pages = 0
        truncated = False
        while url:
            if pages >= max_pages:
                truncated = True
                logger.warning("azure: stopped after %d pages", pages)
                break
            payload = session.json("GET", url, params=params)
            page = _Page.model_validate(payload)
            items.extend(page.items)
            pages += 1
            # NextPageLink is a full URL that already carries $filter and $skip.
            url, params = page.next_page_link, None
        skips = Skips(self.name)
        offers = parse_offers(items, observed_at=self.now(), skips=skips)
        return FetchResult.of(offers, skips, truncated=truncated)
