"""TensorDock (API v2): ``GET /locations`` lists every location with the GPUs deployable there.

``TENSORDOCK_API_KEY`` is sent as ``Authorization: Bearer`` when configured. ``/locations``
may answer without one, so without a key TensorDock is asked anonymously; if it then refuses
(401/403), that is reported as missing credentials, with the usual fix-it hint. A virtual
machine is priced
per resource: ``price_per_hr`` is USD per GPU-hour, and vCPUs, RAM and storage are added at the
location's ``pricing`` rates. The listing has no fixed instance shapes, so each offer assumes
`DEFAULT_SHAPE` per GPU (8 vCPU, 32 GB RAM), capped at the location's ``resources.max_*``, plus
100 GB of storage per VM, the minimum TensorDock documents for a new instance. The assumed shape
is in the offer's ``vcpus`` / ``ram_gib`` / ``disk_gib`` and in ``extras``.

Each (location, GPU) gives a 1-GPU offer and, when ``max_count`` > 1, a second offer with
``max_count`` GPUs, so that multi-GPU searches see TensorDock too. ``max_count`` is the number
of GPUs deployable now: 0 gives one unavailable 1-GPU offer (still listed, for prices).
TensorDock v2 documents no spot market. Every GPU entry of every location becomes offers or a
counted skip (no price, malformed; a malformed location counts once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx
import pydantic
from pydantic import BaseModel, Field

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
    missing_credentials_error,
    row_id,
)


@dataclass(frozen=True, slots=True)
class Shape:
    """The VM size assumed for pricing.

    Attributes:
        vcpus_per_gpu: vCPUs per GPU, capped at the location's ``max_vcpus``.
        ram_gb_per_gpu: RAM per GPU (TensorDock's GB, taken as GiB), capped at ``max_ram_gb``.
        storage_gb: storage per VM, whatever the GPU count (TensorDock's minimum is 100 GB).
    """

    vcpus_per_gpu: int = 8
    ram_gb_per_gpu: int = 32
    storage_gb: int = 100


DEFAULT_SHAPE = Shape()

# ISO-2 codes for the country names TensorDock spells out; unknown names give no country.
_COUNTRY_BY_NAME = {
    "united states": "US", "united states of america": "US", "usa": "US", "canada": "CA",
    "united kingdom": "GB", "germany": "DE", "netherlands": "NL", "france": "FR",
    "finland": "FI", "sweden": "SE", "norway": "NO", "poland": "PL", "spain": "ES",
    "italy": "IT", "czech republic": "CZ", "czechia": "CZ", "japan": "JP", "singapore": "SG",
    "india": "IN", "australia": "AU", "brazil": "BR",
}  # fmt: skip
_MEMORY_IN_NAME = re.compile(r"(\d+)\s*gb", re.IGNORECASE)


class _Resources(BaseModel):
    max_vcpus: int | None = Field(default=None, ge=0)
    max_ram_gb: float | None = Field(default=None, ge=0)
    max_storage_gb: float | None = Field(default=None, ge=0)


class _Pricing(BaseModel):
    per_vcpu_hr: float = Field(ge=0)
    per_gb_ram_hr: float = Field(ge=0)
    per_gb_storage_hr: float = Field(ge=0)


class _Gpu(BaseModel):
    v0_name: str = Field(alias="v0Name", min_length=1)
    display_name: str | None = Field(default=None, alias="displayName")
    max_count: int = Field(ge=0)
    price_per_hr: float
    resources: _Resources = Field(default_factory=_Resources)
    pricing: _Pricing


class _Location(BaseModel):
    id: str = Field(min_length=1)
    city: str | None = None
    stateprovince: str | None = None
    country: str | None = None
    tier: int | None = None
    gpus: list[Any]


class _Data(BaseModel):
    locations: list[Any]


class _Listing(BaseModel):
    data: _Data


def country_code(country: str | None) -> str | None:
    """ISO-2 code of a TensorDock country name (``"United States"`` → ``US``), when known.

    Two-letter values are taken to be codes already.
    """
    if not country:
        return None
    text = country.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _COUNTRY_BY_NAME.get(text.lower())


def _region(loc: _Location) -> str:
    parts = [p.strip() for p in (loc.city, loc.stateprovince) if p and p.strip()]
    return ", ".join(parts) if parts else loc.id


def _memory_gib(gpu: _Gpu) -> float | None:
    for text in (gpu.v0_name, gpu.display_name or ""):
        match = _MEMORY_IN_NAME.search(text)
        if match:
            return float(match.group(1))
    return None


def _capped(value: float, cap: float | None) -> float:
    return min(value, cap) if cap is not None and cap > 0 else value


def _offer(
    loc: _Location, gpu: _Gpu, count: int, *, shape: Shape, observed_at: datetime
) -> Offer | None:
    if gpu.price_per_hr <= 0:  # a free GPU is a placeholder, not a price
        return None
    vcpus = _capped(shape.vcpus_per_gpu * count, gpu.resources.max_vcpus)
    ram_gb = _capped(shape.ram_gb_per_gpu * count, gpu.resources.max_ram_gb)
    storage_gb = _capped(shape.storage_gb, gpu.resources.max_storage_gb)
    p = gpu.pricing
    price = (
        count * gpu.price_per_hr
        + vcpus * p.per_vcpu_hr
        + ram_gb * p.per_gb_ram_hr
        + storage_gb * p.per_gb_storage_hr
    )
    instance_type = f"{gpu.v0_name}-{count}x"
    return make_offer(
        provider=TensordockProvider.name,
        native_id=f"{instance_type}:{loc.id}:ondemand",
        instance_type=instance_type,
        gpu_name_raw=gpu.v0_name,
        gpu_count=count,
        gpu_memory_gib=_memory_gib(gpu),
        price_per_hour_usd=price,
        observed_at=observed_at,
        vcpus=vcpus,
        ram_gib=ram_gb,
        disk_gib=storage_gb,
        region=_region(loc),
        country=country_code(loc.country),
        availability=Availability.AVAILABLE if gpu.max_count > 0 else Availability.UNAVAILABLE,
        extras={
            "location_id": loc.id,
            "display_name": gpu.display_name,
            "tier": loc.tier,
            "max_count": gpu.max_count,
            "gpu_price_per_hour_usd": gpu.price_per_hr,
            "assumed_shape": {"vcpus": vcpus, "ram_gb": ram_gb, "storage_gb": storage_gb},
        },
    )


def parse_offers(
    payload: object,
    *,
    observed_at: datetime,
    shape: Shape = DEFAULT_SHAPE,
    skips: Skips | None = None,
) -> list[Offer]:
    """Map the ``/locations`` response to offers (pure).

    Args:
        payload: the decoded JSON body, ``{"data": {"locations": [...]}}``.
        observed_at: when the response was received.
        shape: the VM size assumed for pricing.
        skips: where each GPU entry is accounted for (kept, or skipped with a reason).

    Returns:
        Per (location, GPU): a 1-GPU offer and, when ``max_count`` > 1, a ``max_count``-GPU
        offer. Unpriced and malformed entries give nothing (and are counted in ``skips``).

    Raises:
        pydantic.ValidationError: the body is not ``{"data": {"locations": [...]}}``.
    """
    notes = skips if skips is not None else Skips(TensordockProvider.name)
    listing = _Listing.model_validate(payload)
    offers: list[Offer] = []
    for loc_index, raw_loc in enumerate(listing.data.locations):
        try:
            loc = _Location.model_validate(raw_loc)
        except pydantic.ValidationError:
            notes.add(MALFORMED, row_id(raw_loc, "id", "city", index=loc_index))
            continue
        for index, raw_gpu in enumerate(loc.gpus):
            try:
                gpu = _Gpu.model_validate(raw_gpu)
            except pydantic.ValidationError:
                notes.add(MALFORMED, row_id(raw_gpu, "v0Name", index=index))
                continue
            counts = [1, gpu.max_count] if gpu.max_count > 1 else [1]
            made = [
                offer
                for count in counts
                if (offer := _offer(loc, gpu, count, shape=shape, observed_at=observed_at))
            ]
            if made:
                offers.extend(made)
                notes.keep(gpu.v0_name)
            else:
                notes.add(NO_PRICE, f"{gpu.v0_name} @ {loc.id}")
    return offers


class TensordockProvider(Provider):
    """TensorDock virtual machines (API v2), priced for an assumed per-GPU shape."""

    name: ClassVar[str] = "tensordock"
    label: ClassVar[str] = "TensorDock"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "TENSORDOCK_API_KEY", required=False),
    )
    default_base_url: ClassVar[str | None] = "https://dashboard.tensordock.com/api/v2"
    homepage: ClassVar[str | None] = "https://tensordock.com"

    def _fetch(self, session: FetchSession) -> FetchResult:
        """Fetch ``/locations``; filters are applied centrally, not server-side."""
        key = self.creds.get("api_key")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            payload = session.json("GET", f"{self.base_url}/locations", headers=headers)
        except httpx.HTTPStatusError as exc:
            if not key and exc.response.status_code in (401, 403):
                # Asked anonymously and refused: the fix is a key, not a better one.
                raise missing_credentials_error(self.name, self.credentials) from None
            raise
        skips = Skips(self.name)
        return FetchResult.of(parse_offers(payload, observed_at=self.now(), skips=skips), skips)
