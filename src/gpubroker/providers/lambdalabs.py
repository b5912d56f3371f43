"""Lambda Cloud: ``GET /instance-types`` (the module is ``lambdalabs``: ``lambda`` is a keyword).

Needs ``LAMBDA_API_KEY`` (sent as ``Authorization: Bearer``). ``price_cents_per_hour`` is US
cents for the whole instance. The listing names only regions that have capacity right now, so
an instance type with an empty ``regions_with_capacity_available`` becomes one offer with no
region, marked unavailable. The GPU model and per-GPU memory come from the description
(``"8x A100 (80 GB SXM4)"``); the form factor is kept in the raw name (``"A100 SXM4"``).
A region's country comes from its name (``us-*``) or its description, which is
``"City, Country"`` or, for some regions, just the country (``"Germany"``, ``"India"``).
Every instance type becomes offers or a counted skip (CPU-only, no price, malformed).
Lambda has no spot market.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

import pydantic
from pydantic import BaseModel

from gpubroker.errors import ProviderResponseError
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    MALFORMED,
    NO_GPU,
    NO_PRICE,
    CredentialSpec,
    FetchResult,
    FetchSession,
    Provider,
    Skips,
    country_from_place,
    make_offer,
)

_DESCRIPTION = re.compile(r"^(\d+)x (?:Tesla )?(.+) \((\d+) GB(?: ([^)]+))?\)")
_GPU_DESCRIPTION = re.compile(r"^(?:Tesla )?(.+) \((\d+) GB(?: ([^)]+))?\)")


class _Specs(BaseModel):
    vcpus: float | None = None
    memory_gib: float | None = None
    storage_gib: float | None = None
    gpus: int


class _InstanceType(BaseModel):
    name: str
    description: str
    gpu_description: str | None = None
    price_cents_per_hour: float
    specs: _Specs


class _Region(BaseModel):
    name: str
    description: str | None = None


class _Entry(BaseModel):
    instance_type: _InstanceType
    regions_with_capacity_available: list[_Region]


class _ErrorDetail(BaseModel):
    code: str | None = None
    message: str | None = None


class _Listing(BaseModel):
    data: dict[str, Any] | None = None
    error: _ErrorDetail | None = None


def gpu_from_description(
    description: str, gpu_description: str | None = None
) -> tuple[str, float | None]:
    """The raw GPU name (with form factor) and per-GPU memory from Lambda's descriptions.

    ``"8x A100 (80 GB SXM4)"`` → ``("A100 SXM4", 80.0)``; ``"8x Tesla V100 (16 GB)"`` →
    ``("V100", 16.0)``. Unparseable text is returned without its ``"<n>x "`` prefix and
    without memory.
    """
    match = _DESCRIPTION.match(description.strip())
    if match:
        _, model, memory, form = match.groups()
    elif gpu_description and (match := _GPU_DESCRIPTION.match(gpu_description.strip())):
        model, memory, form = match.groups()
    else:
        return re.sub(r"^\d+x\s+", "", description.strip()), None
    raw = f"{model.strip()} {form.strip()}" if form else model.strip()
    return raw, float(memory)


def country_for_region(name: str, description: str | None = None) -> str | None:
    """ISO-2 country of a Lambda region: ``us-*`` → ``US``, else from its description.

    ``"Virginia, USA"`` → ``US``; ``"Germany"`` → ``DE``; ``"Sydney, Australia"`` → ``AU``.
    """
    if name.lower().startswith("us-"):
        return "US"
    return country_from_place(description)


def _offers_for(entry: _Entry, *, observed_at: datetime) -> list[Offer]:
    it = entry.instance_type
    gpu_name_raw, memory = gpu_from_description(it.description, it.gpu_description)
    price = it.price_cents_per_hour / 100
    regions: list[_Region | None] = list(entry.regions_with_capacity_available) or [None]
    offers: list[Offer] = []
    for region in regions:
        offer = make_offer(
            provider=LambdaProvider.name,
            native_id=f"{it.name}:{region.name if region else 'any'}:ondemand",
            instance_type=it.name,
            gpu_name_raw=gpu_name_raw,
            gpu_count=it.specs.gpus,
            gpu_memory_gib=memory,
            price_per_hour_usd=price,
            observed_at=observed_at,
            vcpus=it.specs.vcpus,
            ram_gib=it.specs.memory_gib,
            disk_gib=it.specs.storage_gib,
            region=region.name if region else None,
            country=country_for_region(region.name, region.description) if region else None,
            availability=Availability.AVAILABLE if region else Availability.UNAVAILABLE,
            extras={
                "description": it.description,
                "region_description": region.description if region else None,
            },
        )
        if offer is not None:
            offers.append(offer)
    return offers


def parse_offers(
    payload: object, *, observed_at: datetime, skips: Skips | None = None
) -> list[Offer]:
    """Map the ``/instance-types`` response to offers (pure).

    Args:
        payload: the decoded JSON body, ``{"data": {"<type>": {...}}}``.
        observed_at: when the response was received.
        skips: where each instance type is accounted for (kept, or skipped with a reason).

    Returns:
        One offer per (GPU instance type, region with capacity); sold-out types give one
        unavailable offer without a region. CPU-only, unpriced and malformed entries give
        nothing (and are counted in ``skips``).

    Raises:
        ProviderResponseError: the body is a Lambda error object.
        pydantic.ValidationError: the body is not ``{"data": {...}}``.
    """
    listing = _Listing.model_validate(payload)
    if listing.data is None:
        if listing.error is not None:
            detail = (listing.error.message or listing.error.code or "unknown error")[:160]
            raise ProviderResponseError(LambdaProvider.name, f"lambda: API error: {detail}")
        raise ProviderResponseError(LambdaProvider.name, "lambda: response has no data")
    notes = skips if skips is not None else Skips(LambdaProvider.name)
    offers: list[Offer] = []
    for key, item in listing.data.items():
        try:
            entry = _Entry.model_validate(item)
        except pydantic.ValidationError:
            notes.add(MALFORMED, key)
            continue
        if entry.instance_type.specs.gpus < 1:
            notes.add(NO_GPU, key)
            continue
        made = _offers_for(entry, observed_at=observed_at)
        if made:
            notes.keep(key)
            offers.extend(made)
        else:
            notes.add(NO_PRICE, key)
    return offers


class LambdaProvider(Provider):
    """Lambda Cloud on-demand instances, one offer per region with capacity."""

    name: ClassVar[str] = "lambda"
    label: ClassVar[str] = "Lambda"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "LAMBDA_API_KEY", required=True),
    )
    default_base_url: ClassVar[str | None] = "https://cloud.lambda.ai/api/v1"
    homepage: ClassVar[str | None] = "https://lambda.ai/pricing"

    def _fetch(self, session: FetchSession) -> FetchResult:
        (key,) = self.credential("api_key")
        payload = session.json(
            "GET", f"{self.base_url}/instance-types", headers={"Authorization": f"Bearer {key}"}
        )
        skips = Skips(self.name)
        return FetchResult.of(parse_offers(payload, observed_at=self.now(), skips=skips), skips)
