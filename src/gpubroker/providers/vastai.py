"""Vast.ai: the public marketplace search (``POST /api/v0/bundles/``).

Search needs no key; a configured ``VAST_API_KEY`` is sent as ``Authorization: Bearer``.
Two searches run per fetch: ``type: "on-demand"`` and ``type: "bid"`` (interruptible).
The two searches are independent and run concurrently. The server returns at most ``limit``
rows and has no pagination cursor, so when a search returns exactly ``limit`` rows the
listing is incomplete and the fetch's result is marked ``truncated``.

Units: ``gpu_ram`` and ``cpu_ram`` are MB as nvidia-smi reports MiB (24564 for an RTX 4090),
so they are divided by 1024 to get GiB. ``cpu_ram`` is the whole host's RAM; an offer gets the
share ``cpu_ram * cpu_cores_effective / cpu_cores``. ``disk_space`` is Vast's "GB" and is passed
through unconverted as the disk available to rent (the price only includes
``allocated_storage`` of it).

``geolocation`` is ``"Region, CC"`` (``"Texas, US"``) or just a country (``"Norway"``); both
give the ISO-2 country. Every row of each search becomes an offer or a counted skip: no GPU,
no CPU count (the RAM share cannot be computed; gpuhunt skips these too), no price (for a
bid search: no ``min_bid``), listed twice, malformed.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, ClassVar

import pydantic
from pydantic import BaseModel

from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    DUPLICATE,
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
    row_id,
)

DEFAULT_LIMIT = 3000
# GB of disk the search prices in (Vast's own default); ``dph_total`` includes it.
ALLOCATED_STORAGE_GB = 5.0
# ``storage_cost`` is $/GB/month; Vast bills a month as 30 days.
_HOURS_PER_MONTH = 30 * 24
# The vast-cli default filters: verified, non-external, rentable and not rented hosts.
_BASE_QUERY: dict[str, Any] = {
    "verified": {"eq": True},
    "external": {"eq": False},
    "rentable": {"eq": True},
    "rented": {"eq": False},
    "order": [["score", "desc"]],
}
NO_CPU_COUNT = "no CPU count"


class _Bundles(BaseModel):
    offers: list[Any]


class _VastOffer(BaseModel):
    id: int
    gpu_name: str
    num_gpus: int
    gpu_ram: float | None = None
    cpu_cores: float | None = None
    cpu_cores_effective: float | None = None
    cpu_ram: float | None = None
    disk_space: float | None = None
    dph_total: float | None = None
    dph_base: float | None = None
    min_bid: float | None = None
    storage_cost: float | None = None
    storage_total_cost: float | None = None
    geolocation: str | None = None
    reliability: float | None = None
    reliability2: float | None = None
    cuda_max_good: float | None = None
    rentable: bool | None = None
    rented: bool | None = None
    machine_id: int | None = None
    host_id: int | None = None
    verification: str | None = None
    dlperf: float | None = None
    gpu_arch: str | None = None


_ROW_FIELDS = frozenset(_VastOffer.model_fields)


def _slim_row(obj: dict[str, Any]) -> dict[str, Any]:
    """A bundles row with only the fields `_VastOffer` reads (a real row has about 75): a
    50,000-row listing then takes a third of the memory while it is parsed."""
    if "gpu_name" in obj and "num_gpus" in obj:
        return {k: v for k, v in obj.items() if k in _ROW_FIELDS}
    return obj


def search_body(*, spot: bool, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The JSON body of one bundles search: the CLI default filters plus type and limit."""
    return {
        **_BASE_QUERY,
        "type": "bid" if spot else "on-demand",
        "limit": limit,
        "allocated_storage": ALLOCATED_STORAGE_GB,
    }


def _storage_usd_per_hour(o: _VastOffer) -> float:
    if o.storage_total_cost is not None:
        return o.storage_total_cost
    if o.storage_cost is not None:
        return o.storage_cost * ALLOCATED_STORAGE_GB / _HOURS_PER_MONTH
    return 0.0


def _country(geolocation: str | None) -> str | None:
    """ISO-2 country of ``"Texas, US"``, ``"Norway"`` or ``"us"``; None for ``"Texas"``."""
    return country_from_place(geolocation)


def _reliability(o: _VastOffer) -> float | None:
    value = o.reliability2 if o.reliability2 is not None else o.reliability
    if value is None or not 0 <= value <= 1:
        return None
    return value


def _to_offer(o: _VastOffer, *, spot: bool, observed_at: datetime) -> Offer | str:
    """The offer of one row, or why it gives none."""
    if o.num_gpus < 1:
        return NO_GPU
    # Without host CPU info the RAM share cannot be computed (gpuhunt skips these too).
    if not o.cpu_cores:
        return NO_CPU_COUNT
    if spot:
        if o.min_bid is None:
            return NO_PRICE
        price = o.min_bid + _storage_usd_per_hour(o)
    else:
        if o.dph_total is None:
            return NO_PRICE
        price = o.dph_total
    vcpus = o.cpu_cores_effective
    ram_gib = None
    if o.cpu_ram is not None and vcpus is not None:
        ram_gib = o.cpu_ram * vcpus / o.cpu_cores / 1024
    available = bool(o.rentable) and not o.rented
    offer = make_offer(
        provider=VastaiProvider.name,
        native_id=f"{o.id}:{'spot' if spot else 'ondemand'}",
        gpu_name_raw=o.gpu_name,
        gpu_count=o.num_gpus,
        gpu_memory_gib=o.gpu_ram / 1024 if o.gpu_ram else None,
        price_per_hour_usd=price,
        observed_at=observed_at,
        vcpus=vcpus,
        ram_gib=ram_gib,
        disk_gib=o.disk_space,
        spot=spot,
        region=o.geolocation or None,
        country=_country(o.geolocation),
        availability=Availability.AVAILABLE if available else Availability.UNAVAILABLE,
        reliability=_reliability(o),
        cuda_version=str(round(o.cuda_max_good, 2)) if o.cuda_max_good else None,
        extras={
            "offer_id": o.id,
            "machine_id": o.machine_id,
            "host_id": o.host_id,
            "verification": o.verification,
            "dlperf": o.dlperf,
            "priced_disk_gb": ALLOCATED_STORAGE_GB,
        },
    )
    return offer if offer is not None else NO_PRICE


def parse_offers(
    payload: object, *, observed_at: datetime, spot: bool = False, skips: Skips | None = None
) -> list[Offer]:
    """Map one bundles-search response to offers (pure).

    Args:
        payload: the decoded JSON body, ``{"offers": [...]}``.
        observed_at: when the response was received.
        spot: True for a ``type: "bid"`` search (priced at ``min_bid`` plus storage).
        skips: where each row is accounted for (kept, or skipped with a reason).

    Returns:
        The priceable offers. Rows without GPUs, without ``cpu_cores``, without a price
        (for spot: without ``min_bid``), listed twice or malformed give nothing (and are
        counted in ``skips``).

    Raises:
        pydantic.ValidationError: the body is not ``{"offers": [...]}``.
    """
    notes = skips if skips is not None else Skips(VastaiProvider.name)
    bundles = _Bundles.model_validate(payload)
    offers: list[Offer] = []
    seen: set[str] = set()
    for index, item in enumerate(bundles.offers):
        try:
            row = _VastOffer.model_validate(item)
            made = _to_offer(row, spot=spot, observed_at=observed_at)
        except (pydantic.ValidationError, ValueError, TypeError, ZeroDivisionError):
            notes.add(MALFORMED, row_id(item, "id", index=index))
            continue
        if isinstance(made, str):
            notes.add(made, row.id)
        elif made.id in seen:
            notes.add(DUPLICATE, row.id)
        else:
            seen.add(made.id)
            offers.append(made)
            notes.keep(row.id)
    return offers


class VastaiProvider(Provider):
    """Vast.ai marketplace offers, on-demand and interruptible.

    Options:
        limit: rows asked for per search (default 3000).
    """

    name: ClassVar[str] = "vastai"
    label: ClassVar[str] = "Vast.ai"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "VAST_API_KEY", required=False),
    )
    default_base_url: ClassVar[str | None] = "https://console.vast.ai"
    homepage: ClassVar[str | None] = "https://vast.ai/pricing"

    @property
    def limit(self) -> int:
        return int(self.options.get("limit") or DEFAULT_LIMIT)

    def _fetch(self, session: FetchSession) -> FetchResult:
        # No push-down: the listing stays query-independent, so it can be cached as a whole.
        headers = {}
        if key := self.creds.get("api_key"):
            headers["Authorization"] = f"Bearer {key}"
        url = f"{self.base_url}/api/v0/bundles/"

        skips = Skips(self.name)
        # Decoding and parsing hold the GIL anyway: one search at a time costs no time,
        # halves the memory a large listing needs while it is parsed, and lets both
        # searches account into one Skips.
        lock = threading.Lock()

        def search(spot: bool) -> tuple[list[Offer], bool]:
            body = search_body(spot=spot, limit=self.limit)
            response = session.response("POST", url, json=body, headers=headers, idempotent=True)
            with lock:
                payload = session.decode(response, object_hook=_slim_row)
                del response  # its body: as large as the payload
                rows = payload.get("offers") if isinstance(payload, dict) else None
                cut = isinstance(rows, list) and len(rows) >= self.limit
                del rows
                offers = parse_offers(payload, observed_at=self.now(), spot=spot, skips=skips)
            return offers, cut

        (on_demand, cut1), (bid, cut2) = session.parallel(
            lambda: search(False), lambda: search(True)
        )
        return FetchResult.of(on_demand + bid, skips, truncated=cut1 or cut2)
