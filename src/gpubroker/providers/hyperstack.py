"""Hyperstack (NexGen Cloud): GPU flavors joined with the GPU price book.

Needs ``HYPERSTACK_API_KEY``, sent as the header ``api_key: <key>`` (no prefix).
``GET {base}/core/flavors`` groups flavors by GPU and region inside a
``{"status", "message", "data"}`` envelope; ``GET {base}/pricebook`` is a bare array of
``{"name": <GPU model>, "value": <USD per GPU-hour>}``. A flavor's price is
``gpu_count × pricebook[flavor.gpu].value``; flavors without GPUs or without a price are
skipped. Hyperstack reports errors as ``{"status": false, "message": ...}``, sometimes with
HTTP 200.

Spot capacity is published as its own flavor groups, ``<gpu>-spot`` (``H100-80G-PCIe-spot``,
flavors ``n3-H100x1-spot``), priced by their own price book entries: those flavors are spot
offers of the GPU named without the suffix. A spot flavor whose ``-spot`` entry is missing is
not priced at the on-demand rate: it is skipped.

Units: ``ram``, ``disk`` (root volume) and ``ephemeral`` (local NVMe) are GB, kept as given;
the offer's disk is root plus ephemeral, since both are usable storage on the VM.
``stock_available`` is the only stock signal: True → available, False → unavailable.

Every flavor becomes an offer or a counted skip (CPU-only, no price, malformed; a group
whose flavors are not a list counts once). Price book entries are prices, not rows: the
non-GPU ones (``vCPU``, ``RAM``, inference models) are simply never joined.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

import pydantic
from pydantic import BaseModel

from gpubroker import gpus
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
    make_offer,
    row_id,
)

_REGION_SUFFIX = re.compile(r"-\d+$")
_SPOT_SUFFIX = re.compile(r"-spot$", re.IGNORECASE)
# Region name without its "-<n>" suffix -> ISO-2 country (CANADA-1, NORWAY-1, US-1).
_COUNTRY_BY_REGION = {"CANADA": "CA", "NORWAY": "NO", "US": "US"}


class _Envelope(BaseModel):
    status: bool | None = None
    message: str | None = None


class _Flavor(BaseModel):
    id: int | None = None
    name: str
    region_name: str | None = None
    cpu: float | None = None
    ram: float | None = None
    disk: float | None = None
    ephemeral: float | None = None
    gpu: str | None = None
    gpu_count: int
    stock_available: bool | None = None


class _Group(BaseModel):
    gpu: str | None = None
    region_name: str | None = None
    flavors: list[Any]


class _Flavors(BaseModel):
    status: bool | None = None
    message: str | None = None
    data: list[Any]


class _Price(BaseModel):
    name: str
    value: float
    discount_applied: bool | None = None


def _raise_if_error_envelope(payload: object) -> None:
    """Raise for ``{"status": false, "message": ...}``, which Hyperstack may send with 200."""
    if not isinstance(payload, dict) or payload.get("status") is not False:
        return
    envelope = _Envelope.model_validate(payload)
    detail = (envelope.message or "unknown error")[:160]
    raise ProviderResponseError(HyperstackProvider.name, f"hyperstack: API error: {detail}")


def country_for_region(region: str | None) -> str | None:
    """ISO-2 country of a Hyperstack region (``CANADA-1`` → ``CA``), or None when unknown."""
    if not region:
        return None
    return _COUNTRY_BY_REGION.get(_REGION_SUFFIX.sub("", region.strip().upper()))


def parse_pricebook(payload: object) -> dict[str, tuple[float, bool | None]]:
    """GPU name → (USD per GPU-hour, discount applied) from the ``/pricebook`` array (pure).

    The first entry of a name wins; entries that are malformed or priced at 0 or less are
    left out. ``start_time``/``end_time`` are not interpreted.

    Raises:
        ProviderResponseError: the body is a Hyperstack error envelope.
        pydantic.ValidationError: the body is not an array.
    """
    _raise_if_error_envelope(payload)
    items = pydantic.TypeAdapter(list[Any]).validate_python(payload)
    prices: dict[str, tuple[float, bool | None]] = {}
    for item in items:
        try:
            price = _Price.model_validate(item)
        except pydantic.ValidationError:
            continue
        if price.value > 0:
            prices.setdefault(price.name, (price.value, price.discount_applied))
    return prices


def split_spot(gpu_name: str) -> tuple[str, bool]:
    """The GPU of a flavor group and whether it is the spot group.

    ``"H100-80G-PCIe-spot"`` → ``("H100-80G-PCIe", True)``; ``"L40"`` → ``("L40", False)``.
    """
    model = _SPOT_SUFFIX.sub("", gpu_name.strip())
    return model, model != gpu_name.strip()


def _offer_for(
    flavor: _Flavor,
    gpu_name: str,
    price_per_gpu_hour_usd: float,
    discount: bool | None,
    *,
    spot: bool,
    region: str | None,
    observed_at: datetime,
) -> Offer | None:
    spec = gpus.normalize(gpu_name)
    if flavor.stock_available is None:
        availability = Availability.UNKNOWN
    elif flavor.stock_available:
        availability = Availability.AVAILABLE
    else:
        availability = Availability.UNAVAILABLE
    disks = [d for d in (flavor.disk, flavor.ephemeral) if d is not None]
    return make_offer(
        provider=HyperstackProvider.name,
        native_id=f"{flavor.name}:{region or 'any'}:{'spot' if spot else 'ondemand'}",
        instance_type=flavor.name,
        gpu_name_raw=gpu_name,
        gpu_count=flavor.gpu_count,
        # Flavors carry no VRAM figure: the registry's size for the model (the "80G" in
        # "A100-80G-PCIe" already picks the model).
        gpu_memory_gib=spec.memory_gib if spec else None,
        price_per_hour_usd=flavor.gpu_count * price_per_gpu_hour_usd,
        observed_at=observed_at,
        spot=spot,
        vcpus=flavor.cpu,
        ram_gib=flavor.ram,
        disk_gib=sum(disks) if disks else None,
        region=region,
        country=country_for_region(region),
        availability=availability,
        extras={
            "flavor_id": flavor.id,
            "root_disk_gb": flavor.disk,
            "ephemeral_disk_gb": flavor.ephemeral,
            "discount_applied": discount,
        },
    )


def parse_offers(
    flavors: object, pricebook: object, *, observed_at: datetime, skips: Skips | None = None
) -> list[Offer]:
    """Join ``/core/flavors`` with ``/pricebook`` into offers (pure).

    Args:
        flavors: the decoded ``/core/flavors`` body.
        pricebook: the decoded ``/pricebook`` body.
        observed_at: when the responses were received.
        skips: where each flavor is accounted for (kept, or skipped with a reason).

    Returns:
        One offer per GPU flavor with a price; flavors of ``<gpu>-spot`` groups are spot
        offers. CPU-only, unpriced and malformed flavors give nothing (and are counted).

    Raises:
        ProviderResponseError: either body is a Hyperstack error envelope.
        pydantic.ValidationError: either body is not in the documented shape.
    """
    notes = skips if skips is not None else Skips(HyperstackProvider.name)
    _raise_if_error_envelope(flavors)
    listing = _Flavors.model_validate(flavors)
    prices = parse_pricebook(pricebook)
    offers: list[Offer] = []
    for group_index, group_item in enumerate(listing.data):
        try:
            group = _Group.model_validate(group_item)
        except pydantic.ValidationError:
            notes.add(MALFORMED, row_id(group_item, "gpu", "region_name", index=group_index))
            continue
        for index, item in enumerate(group.flavors):
            try:
                flavor = _Flavor.model_validate(item)
            except pydantic.ValidationError:
                notes.add(MALFORMED, row_id(item, "name", "id", index=index))
                continue
            listed_gpu = flavor.gpu or group.gpu
            if flavor.gpu_count < 1 or not listed_gpu:
                notes.add(NO_GPU, flavor.name)
                continue
            if listed_gpu not in prices:
                notes.add(NO_PRICE, flavor.name)
                continue
            price, discount = prices[listed_gpu]
            gpu_name, spot = split_spot(listed_gpu)
            offer = _offer_for(
                flavor,
                gpu_name,
                price,
                discount,
                spot=spot,
                region=flavor.region_name or group.region_name,
                observed_at=observed_at,
            )
            if offer is None:
                notes.add(NO_PRICE, flavor.name)
                continue
            offers.append(offer)
            notes.keep(flavor.name)
    return offers


class HyperstackProvider(Provider):
    """Hyperstack GPU flavors, priced per GPU from the price book."""

    name: ClassVar[str] = "hyperstack"
    label: ClassVar[str] = "Hyperstack"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "HYPERSTACK_API_KEY", required=True),
    )
    default_base_url: ClassVar[str | None] = "https://infrahub-api.nexgencloud.com/v1"
    homepage: ClassVar[str | None] = "https://www.hyperstack.cloud/gpu-pricing"

    def _fetch(self, session: FetchSession) -> FetchResult:
        """Flavors and the pricebook, asked for at once (both are plain GETs)."""
        (key,) = self.credential("api_key")
        headers = {"api_key": key}
        flavors, pricebook = session.parallel(
            lambda: session.json("GET", f"{self.base_url}/core/flavors", headers=headers),
            lambda: session.json("GET", f"{self.base_url}/pricebook", headers=headers),
        )
        # An error envelope in the flavors answer explains a failure better than the rest.
        _raise_if_error_envelope(flavors)
        skips = Skips(self.name)
        offers = parse_offers(flavors, pricebook, observed_at=self.now(), skips=skips)
        return FetchResult.of(offers, skips)
