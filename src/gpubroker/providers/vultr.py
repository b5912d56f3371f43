"""Vultr: Cloud GPU plans and GPU bare-metal plans (no credentials needed).

``GET {base}/plans?type=all&per_page=500`` and ``GET {base}/plans-metal?per_page=500`` list
every plan with the locations that sell it; both follow cursor pagination
(``meta.links.next`` is the ``cursor`` of the next page). A plan listed in a location is sold
there, but the API says nothing about stock, so availability is always unknown.

Units: ``ram`` is MiB-style megabytes (``122880`` = 120 GiB), converted with ``/ 1024``;
``disk`` is GB per disk, kept as given and multiplied by ``disk_count``; ``hourly_cost`` is USD
per hour for the whole plan. Plans with ``hourly_cost == 0`` are not priced and are dropped.

* Cloud GPU plans are ``type == "vcg"`` with a ``gpu_type`` (``NVIDIA_A100``). ``gpu_vram_gb``
  is the plan's total VRAM, which for Vultr's fractional plans is a slice of one GPU (an A100
  with 10 GB). Those plans are skipped: a slice is not a GPU this tool can compare. The whole-GPU
  count is ``gpu_vram_gb`` / the registry's memory for the GPU, kept only when it divides
  cleanly (within `gpus.MEMORY_TOLERANCE` of a whole number of GPUs).
* Bare-metal plans carry no GPU fields: the GPU is encoded in the id,
  ``vbm-<cpu>c-<ram>gb-<n>-<gpu>-gpu`` (``vbm-112c-2048gb-8-h100-gpu``). An id without ``<n>``
  (``vbm-72c-480gb-gh200-gpu``) is one GPU, as gpuhunt reads it. ``hourly_cost_preemptible``
  gives an extra spot offer. A GPU the registry does not know is kept under its own name
  (the count comes from the id), whereas an unknown cloud GPU is skipped: without its memory
  size the whole-GPU count cannot be worked out.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, ClassVar

import pydantic
from pydantic import BaseModel

from gpubroker import gpus
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    CredentialSpec,
    FetchResult,
    FetchSession,
    Provider,
    make_offer,
)

_log = logging.getLogger(__name__)

PER_PAGE = 500
#: Pages followed per listing before giving up; hitting it marks the result ``truncated``.
DEFAULT_MAX_PAGES = 10

_METAL_GPU_ID = re.compile(r"^vbm-\d+c-\d+gb-(?:(\d+)-)?([a-z0-9]+)-gpu$", re.IGNORECASE)

# GPU token of a bare-metal id -> the name handed to the registry. Vultr's 8-GPU "l40" bare
# metal (vbm-64c-2048gb-8-l40-gpu) is sold as 8x L40S; the id keeps an older spelling.
# gpuhunt's Vultr table maps the same plan to L40S.
_METAL_GPU_NAMES = {"l40": "L40S"}

# Vultr location ids (airport codes) -> ISO-2 country. Only ids whose country is certain;
# anything else gets no country. Osaka is "itm" in Vultr's list; "osa" is kept as well.
_COUNTRY_BY_LOCATION = {
    "ewr": "US", "ord": "US", "dfw": "US", "sea": "US", "lax": "US", "atl": "US",
    "sjc": "US", "mia": "US", "hnl": "US",
    "yto": "CA", "mex": "MX", "sao": "BR", "scl": "CL",
    "ams": "NL", "fra": "DE", "lhr": "GB", "man": "GB", "cdg": "FR", "waw": "PL",
    "mad": "ES", "sto": "SE",
    "nrt": "JP", "itm": "JP", "osa": "JP", "icn": "KR", "sgp": "SG",
    "bom": "IN", "del": "IN", "blr": "IN",
    "syd": "AU", "mel": "AU",
    "tlv": "IL", "jnb": "ZA",
}  # fmt: skip


class _Links(BaseModel):
    next: str | None = None


class _Meta(BaseModel):
    total: int | None = None
    links: _Links | None = None


class _PlansPage(BaseModel):
    plans: list[Any]
    meta: _Meta | None = None


class _MetalPage(BaseModel):
    plans_metal: list[Any]
    meta: _Meta | None = None


class _Listing(BaseModel):
    plans: list[Any] = []
    plans_metal: list[Any] = []


class _CloudPlan(BaseModel):
    id: str
    type: str
    vcpu_count: float | None = None
    ram: float | None = None
    disk: float | None = None
    disk_count: int | None = None
    monthly_cost: float | None = None
    hourly_cost: float
    locations: list[str]
    gpu_vram_gb: float | None = None
    gpu_type: str | None = None


class _MetalPlan(BaseModel):
    id: str
    cpu_count: float | None = None
    cpu_threads: float | None = None
    cpu_model: str | None = None
    ram: float | None = None
    disk: float | None = None
    disk_count: int | None = None
    monthly_cost: float | None = None
    hourly_cost: float
    hourly_cost_preemptible: float | None = None
    locations: list[str]


def country_for_location(location: str) -> str | None:
    """ISO-2 country of a Vultr location id (``ewr`` → ``US``), or None when not known."""
    return _COUNTRY_BY_LOCATION.get(location.lower())


def whole_gpu_count(gpu_vram_gb: float, gpu_memory_gib: float) -> int | None:
    """Whole GPUs in a plan with ``gpu_vram_gb`` of VRAM in total, or None.

    None when the plan holds less than one GPU (a fractional plan) or a number of GPUs that
    is not whole: ``80 / 80`` → 1, ``320 / 80`` → 4, ``10 / 80`` → None, ``120 / 80`` → None.
    """
    if gpu_vram_gb <= 0 or gpu_memory_gib <= 0:
        return None
    count = round(gpu_vram_gb / gpu_memory_gib)
    if count < 1:
        return None
    if abs(gpu_vram_gb - count * gpu_memory_gib) > gpus.MEMORY_TOLERANCE * count * gpu_memory_gib:
        return None
    return count


def metal_gpu_from_id(plan_id: str) -> tuple[str, int, str] | None:
    """The GPU a bare-metal plan id encodes: (registry name, count, token as in the id).

    ``vbm-112c-2048gb-8-h100-gpu`` → ``("H100", 8, "h100")``; ``vbm-64c-2048gb-8-l40-gpu`` →
    ``("L40S", 8, "l40")``; ``vbm-72c-480gb-gh200-gpu`` → ``("GH200", 1, "gh200")``; a plan
    without a GPU → None.
    """
    match = _METAL_GPU_ID.match(plan_id.strip())
    if not match:
        return None
    count_text, token = match.groups()
    token = token.lower()
    count = int(count_text) if count_text else 1
    return _METAL_GPU_NAMES.get(token, token.upper()), count, token


def _disk_gib(disk: float | None, disk_count: int | None) -> float | None:
    if disk is None:
        return None
    return disk * (disk_count if disk_count and disk_count > 0 else 1)


def _cloud_offers(
    plan: _CloudPlan, gpu_type: str, gpu_vram_gb: float, gpu_count: int, *, observed_at: datetime
) -> list[Offer]:
    offers: list[Offer] = []
    for location in plan.locations:
        offer = make_offer(
            provider=VultrProvider.name,
            native_id=f"{plan.id}:{location}:ondemand",
            instance_type=plan.id,
            gpu_name_raw=gpu_type,
            gpu_count=gpu_count,
            gpu_memory_gib=gpu_vram_gb / gpu_count,
            price_per_hour_usd=plan.hourly_cost,
            observed_at=observed_at,
            vcpus=plan.vcpu_count,
            ram_gib=plan.ram / 1024 if plan.ram is not None else None,
            disk_gib=_disk_gib(plan.disk, plan.disk_count),
            region=location,
            country=country_for_location(location),
            availability=Availability.UNKNOWN,
            extras={
                "kind": "cloud-gpu",
                "gpu_vram_gb": gpu_vram_gb,
                "monthly_cost_usd": plan.monthly_cost,
            },
        )
        if offer is not None:
            offers.append(offer)
    return offers


def _metal_offers(
    plan: _MetalPlan, gpu: tuple[str, int, str], *, observed_at: datetime
) -> list[Offer]:
    gpu_name, gpu_count, token = gpu
    spec = gpus.normalize(gpu_name)
    prices = [(False, plan.hourly_cost), (True, plan.hourly_cost_preemptible or 0.0)]
    offers: list[Offer] = []
    for location in plan.locations:
        for spot, price in prices:
            offer = make_offer(
                provider=VultrProvider.name,
                native_id=f"{plan.id}:{location}:{'spot' if spot else 'ondemand'}",
                instance_type=plan.id,
                gpu_name_raw=gpu_name,
                gpu_count=gpu_count,
                # The id names no memory: take the registry's size for the model.
                gpu_memory_gib=spec.memory_gib if spec else None,
                price_per_hour_usd=price,
                observed_at=observed_at,
                # Threads are what the OS sees as CPUs, like a cloud plan's vCPUs.
                vcpus=plan.cpu_threads if plan.cpu_threads is not None else plan.cpu_count,
                ram_gib=plan.ram / 1024 if plan.ram is not None else None,
                disk_gib=_disk_gib(plan.disk, plan.disk_count),
                spot=spot,
                region=location,
                country=country_for_location(location),
                availability=Availability.UNKNOWN,
                extras={
                    "kind": "bare-metal",
                    "gpu_from_id": token,
                    "cpu_model": plan.cpu_model,
                    "monthly_cost_usd": plan.monthly_cost,
                },
            )
            if offer is not None:
                offers.append(offer)
    return offers


def parse_offers(payload: object, *, observed_at: datetime) -> list[Offer]:
    """Map Vultr plans to offers (pure).

    Args:
        payload: ``{"plans": [...], "plans_metal": [...]}``: the items of every page of
            ``/plans`` and ``/plans-metal``; either key may be missing.
        observed_at: when the responses were received.

    Returns:
        One offer per (GPU plan, location), plus a spot offer per location for bare-metal
        plans with a preemptible price. CPU-only plans give nothing; fractional GPU plans,
        GPUs the registry cannot size and malformed plans are skipped (and counted in a log
        line).

    Raises:
        pydantic.ValidationError: ``plans`` or ``plans_metal`` is not a list.
    """
    listing = _Listing.model_validate(payload)
    offers: list[Offer] = []
    malformed = fractional = unsized = 0
    for item in listing.plans:
        if isinstance(item, dict) and item.get("type") != "vcg":
            continue  # vc2, vhf, vhp, voc: CPU-only plans
        try:
            plan = _CloudPlan.model_validate(item)
        except pydantic.ValidationError:
            malformed += 1
            continue
        if not plan.gpu_type or not plan.gpu_vram_gb:
            malformed += 1
            continue
        # Size the GPU by name alone: a 40 GB slice of an 80 GB A100 must not read as an
        # A100 40GB.
        spec = gpus.normalize(plan.gpu_type)
        if spec is None:
            unsized += 1
            continue
        gpu_count = whole_gpu_count(plan.gpu_vram_gb, spec.memory_gib)
        if gpu_count is None:
            fractional += 1
            continue
        offers.extend(
            _cloud_offers(plan, plan.gpu_type, plan.gpu_vram_gb, gpu_count, observed_at=observed_at)
        )
    for item in listing.plans_metal:
        plan_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(plan_id, str) and not plan_id.lower().endswith("-gpu"):
            continue  # CPU-only bare metal
        try:
            metal = _MetalPlan.model_validate(item)
        except pydantic.ValidationError:
            malformed += 1
            continue
        gpu = metal_gpu_from_id(metal.id)
        if gpu is None:
            malformed += 1
            continue
        offers.extend(_metal_offers(metal, gpu, observed_at=observed_at))
    if malformed or fractional or unsized:
        _log.info(
            "vultr: skipped %d malformed, %d fractional-GPU and %d unknown-GPU plan(s)",
            malformed,
            fractional,
            unsized,
        )
    return offers


class VultrProvider(Provider):
    """Vultr Cloud GPU and GPU bare-metal plans, one offer per plan and location.

    The two listings are read concurrently; each follows its cursor page by page.

    Options:
        max_pages: pages followed per listing (default `DEFAULT_MAX_PAGES`); a listing
            that still has a next page after that marks the result ``truncated``.
    """

    name: ClassVar[str] = "vultr"
    label: ClassVar[str] = "Vultr"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "VULTR_API_KEY", required=False),
    )
    default_base_url: ClassVar[str | None] = "https://api.vultr.com/v2"
    homepage: ClassVar[str | None] = "https://www.vultr.com/pricing/"

    def _pages(
        self,
        session: FetchSession,
        path: str,
        params: dict[str, str | int],
        page_model: type[_PlansPage] | type[_MetalPage],
    ) -> tuple[list[Any], bool]:
        """Every item of a cursor-paged listing, and whether the page cap cut it short."""
        headers = {}
        if key := self.creds.get("api_key"):
            headers["Authorization"] = f"Bearer {key}"
        max_pages = int(self.options.get("max_pages") or DEFAULT_MAX_PAGES)
        items: list[Any] = []
        cursor: str | None = None
        for _ in range(max_pages):
            page_params = {**params, "cursor": cursor} if cursor else params
            payload = session.json(
                "GET", f"{self.base_url}{path}", params=page_params, headers=headers
            )
            page = page_model.model_validate(payload)
            items.extend(page.plans if isinstance(page, _PlansPage) else page.plans_metal)
            links = page.meta.links if page.meta else None
            cursor = links.next if links else None
            if not cursor:
                return items, False
        _log.warning("vultr: %s stopped after %d pages", path, max_pages)
        return items, True

    def _fetch(self, session: FetchSession) -> FetchResult:
        # No push-down: the listing is small and query-independent, so it caches as a whole.
        (plans, cut1), (metal, cut2) = session.parallel(
            lambda: self._pages(
                session, "/plans", {"type": "all", "per_page": PER_PAGE}, _PlansPage
            ),
            lambda: self._pages(session, "/plans-metal", {"per_page": PER_PAGE}, _MetalPage),
        )
        offers = parse_offers({"plans": plans, "plans_metal": metal}, observed_at=self.now())
        return FetchResult(offers, truncated=cut1 or cut2)
