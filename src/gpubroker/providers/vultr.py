"""Vultr: Cloud GPU, Dedicated Metal GPU and GPU bare-metal plans (no credentials needed).

``GET {base}/plans?type=all&per_page=500`` and ``GET {base}/plans-metal?per_page=500`` list
every plan with the locations that sell it; both follow cursor pagination
(``meta.links.next`` is the ``cursor`` of the next page). A plan listed in a location is sold
there, but the API says nothing about stock, so availability is always unknown.

Units: ``ram`` is MiB-style megabytes (``122880`` = 120 GiB), converted with ``/ 1024``;
``disk`` is GB per disk, kept as given and multiplied by ``disk_count``; ``hourly_cost`` is USD
per hour for the whole plan, overridden per location by ``location_cost[<location>]`` when
that is present.

Every plan of both listings becomes offers or a counted skip (`Skips`):

* Cloud GPU plans are ``type == "vcg"`` with a ``gpu_type`` (``NVIDIA_A100``), a
  ``gpu_vram_gb`` that is the plan's total VRAM and, in current answers, a string
  ``gpu_count`` (``"1"``, or ``"1/8"`` for a slice of one GPU). Slices are skipped as
  ``fractional GPU``: a slice is not a GPU this tool can compare. Without ``gpu_count`` the
  whole-GPU count is ``gpu_vram_gb`` / the registry's memory for the GPU (`whole_gpu_count`).
* Dedicated Metal GPU plans are ``type == "vdm"`` and carry no GPU fields at all: model,
  total VRAM and hence count are in the id, ``vcg-<gpu>-<cpu>c-<ram>g-<vram>vram``
  (``vcg-a100-96c-960g-640vram`` = 8 x A100 80 GB). One id is known to disagree with the
  hardware and is corrected in `_VDM_GPU_COUNTS`.
* Bare-metal plans (``/plans-metal``) encode the GPU in the id,
  ``vbm-<cpu>c-<ram>gb-<n>-<gpu>-gpu`` (``vbm-112c-2048gb-8-h100-gpu``); an id without ``<n>``
  (``vbm-72c-480gb-gh200-gpu``) is one GPU, as gpuhunt reads it. Newer metal plans also carry
  ``gpu_count`` / ``gpu_vram_gb``, which win over the id.

``deploy_ondemand: false`` means the plan cannot be bought on demand: it gets no on-demand
offer. ``deploy_preemptible`` (missing = allowed) with a ``hourly_cost_preemptible`` above 0
gives a spot offer. A plan that is neither, or has no location, or no price, is skipped.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

import pydantic
from pydantic import BaseModel

from gpubroker import gpus
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    FRACTIONAL_GPU,
    MALFORMED,
    NO_GPU,
    NO_PRICE,
    NOT_DEPLOYABLE,
    UNKNOWN_GPU,
    UNKNOWN_SHAPE,
    CredentialSpec,
    FetchResult,
    FetchSession,
    Provider,
    Skips,
    make_offer,
    row_id,
)

_log = logging.getLogger(__name__)

PER_PAGE = 500
#: Pages followed per listing before giving up; hitting it marks the result ``truncated``.
DEFAULT_MAX_PAGES = 10

_METAL_GPU_ID = re.compile(r"^vbm-\d+c-\d+gb-(?:(\d+)-)?([a-z0-9]+)-gpu$", re.IGNORECASE)
_VDM_GPU_ID = re.compile(r"^vcg-([a-z0-9]+)-\d+c-\d+gb?-(\d+)vram$", re.IGNORECASE)
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
NO_LOCATION = "no location"

# GPU counts of a multi-GPU machine: Vultr sells 1, 2, 4, 8 or 16 GPUs per plan. Dividing
# total VRAM by the per-GPU size alone is ambiguous for some parts: 1536 GB of B200 reads as
# 8 x 192 GB (the physical size) or 9 x 171 GB, both within the registry's tolerance of 180.
_MACHINE_GPU_COUNTS = (1, 2, 4, 8, 16)

# Dedicated Metal ids whose VRAM figure contradicts the hardware. The MI325X plan's id says
# 1536 GB, i.e. 6 x 256 GB, but AMD ships MI325X only as 8-GPU OAM platforms (8 x 256 GB) and
# the plan has the same CPU and RAM as Vultr's 8 x MI355X machine; gpuhunt reads it as 8 GPUs.
_VDM_GPU_COUNTS = {"vcg-mi325x-252c-2872g-1536vram": 8}

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


class _LocationCost(BaseModel):
    hourly_cost: float | None = None
    hourly_cost_preemptible: float | None = None
    monthly_cost: float | None = None


class _Plan(BaseModel):
    """What both listings share."""

    id: str
    ram: float | None = None
    disk: float | None = None
    disk_count: int | None = None
    monthly_cost: float | None = None
    hourly_cost: float | None = None
    hourly_cost_preemptible: float | None = None
    locations: list[str]
    deploy_ondemand: bool | None = None
    deploy_preemptible: bool | None = None
    location_cost: dict[str, _LocationCost] | None = None
    gpu_vram_gb: float | None = None
    gpu_type: str | None = None
    gpu_count: int | str | None = None


class _CloudPlan(_Plan):
    type: str
    vcpu_count: float | None = None


class _MetalPlan(_Plan):
    cpu_count: float | None = None
    cpu_threads: float | None = None
    cpu_model: str | None = None


def country_for_location(location: str) -> str | None:
    """ISO-2 country of a Vultr location id (``ewr`` → ``US``), or None when not known."""
    return _COUNTRY_BY_LOCATION.get(location.lower())


def whole_gpu_count(gpu_vram_gb: float, gpu_memory_gib: float) -> int | None:
    """Whole GPUs in a plan with ``gpu_vram_gb`` of VRAM in total, or None.

    The count is 1, 2, 4, 8 or 16, whichever puts the per-GPU memory closest to the GPU's
    (within `gpus.MEMORY_TOLERANCE`). None when the plan holds less than one GPU (a fractional
    plan) or no machine-sized number of them: ``80 / 80`` → 1, ``320 / 80`` → 4,
    ``1536 / 180`` → 8, ``10 / 80`` → None, ``120 / 80`` → None.
    """
    if gpu_vram_gb <= 0 or gpu_memory_gib <= 0:
        return None
    fits = [
        (abs(gpu_vram_gb / n - gpu_memory_gib), n)
        for n in _MACHINE_GPU_COUNTS
        if abs(gpu_vram_gb / n - gpu_memory_gib) <= gpus.MEMORY_TOLERANCE * gpu_memory_gib
    ]
    return min(fits)[1] if fits else None


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


def vdm_gpu_from_id(plan_id: str) -> tuple[str, float] | None:
    """The GPU and total VRAM a Dedicated Metal plan id encodes, or None.

    ``vcg-a100-96c-960g-640vram`` → ``("A100", 640.0)``; ``vcg-h100-216c-1914gb-640vram`` →
    ``("H100", 640.0)``.
    """
    match = _VDM_GPU_ID.match(plan_id.strip())
    if not match:
        return None
    token, vram = match.groups()
    return token.upper(), float(vram)


def _disk_gib(disk: float | None, disk_count: int | None) -> float | None:
    if disk is None:
        return None
    return disk * (disk_count if disk_count and disk_count > 0 else 1)


def _declared_count(value: int | str | None) -> int | float | None:
    """``gpu_count`` as Vultr sends it: ``8``, ``"1"``, or ``"1/8"`` for a slice."""
    if value is None or isinstance(value, int):
        return value
    match = _FRACTION.match(value)
    if match:
        numerator, denominator = (int(g) for g in match.groups())
        return numerator / denominator if denominator else None
    return int(value) if value.strip().isdigit() else None


class _Shape(NamedTuple):
    """A plan's GPUs: name for the registry, count, memory per GPU, and how we know."""

    gpu_name: str
    gpu_count: int
    memory_gib: float | None
    kind: str
    extras: dict[str, Any]


def _sized(
    name: str, total_vram: float | None, declared: int | float | None
) -> tuple[int, float | None] | str:
    """(count, memory per GPU) from a declared count or the total VRAM, else a skip reason.

    The GPU is sized by name alone: a 40 GB slice of an 80 GB A100 must not read as an A100
    40GB.
    """
    if declared is not None and declared < 1:
        return FRACTIONAL_GPU
    if declared is not None and declared != int(declared):
        return FRACTIONAL_GPU
    spec = gpus.normalize(name)
    if declared is not None:
        count = int(declared)
        memory = total_vram / count if total_vram else (spec.memory_gib if spec else None)
        return count, memory
    if spec is None:
        return UNKNOWN_GPU
    if not total_vram:
        return UNKNOWN_SHAPE
    count_from_vram = whole_gpu_count(total_vram, spec.memory_gib)
    if count_from_vram is None:
        # 10 GB or 120 GB of 80 GB A100s is part of a GPU; 1536 GB of 256 GB GPUs is six
        # whole ones, which no machine has.
        ratio = total_vram / spec.memory_gib
        whole = round(ratio) >= 1 and abs(ratio - round(ratio)) <= gpus.MEMORY_TOLERANCE
        return UNKNOWN_SHAPE if whole else FRACTIONAL_GPU
    return count_from_vram, total_vram / count_from_vram


def _cloud_shape(plan: _CloudPlan) -> _Shape | str:
    """The GPUs of a ``/plans`` row, or why it has none we can offer."""
    if plan.type == "vdm" or (plan.type != "vcg" and plan.id.startswith("vcg-")):
        parsed = vdm_gpu_from_id(plan.id)
        if parsed is None:
            return UNKNOWN_SHAPE
        token, total_vram = parsed
        declared = _VDM_GPU_COUNTS.get(plan.id.strip().lower())
        sized = _sized(token, total_vram if declared is None else None, declared)
        if isinstance(sized, str):
            return sized
        count, memory = sized
        extras = {"gpu_from_id": token.lower(), "gpu_vram_gb": total_vram}
        return _Shape(token, count, memory, "dedicated-metal", extras)
    if plan.type != "vcg":
        return NO_GPU
    if not plan.gpu_type:
        return UNKNOWN_SHAPE
    sized = _sized(plan.gpu_type, plan.gpu_vram_gb, _declared_count(plan.gpu_count))
    if isinstance(sized, str):
        return sized
    count, memory = sized
    return _Shape(plan.gpu_type, count, memory, "cloud-gpu", {"gpu_vram_gb": plan.gpu_vram_gb})


def _metal_shape(plan: _MetalPlan) -> _Shape | str:
    """The GPUs of a ``/plans-metal`` row, or why it has none we can offer."""
    if not plan.id.lower().endswith("-gpu") and not plan.gpu_type:
        return NO_GPU
    from_id = metal_gpu_from_id(plan.id)
    name = plan.gpu_type or (from_id[0] if from_id else None)
    if name is None:
        return UNKNOWN_SHAPE
    declared = _declared_count(plan.gpu_count)
    if declared is None and from_id is not None:
        declared = from_id[1]
    if declared is None:
        return UNKNOWN_SHAPE
    sized = _sized(name, plan.gpu_vram_gb, declared)
    if isinstance(sized, str):
        return sized
    count, memory = sized
    if plan.gpu_vram_gb is None:
        # The id names no memory: take the registry's size for the model.
        spec = gpus.normalize(name)
        memory = spec.memory_gib if spec else None
    extras: dict[str, Any] = {"cpu_model": plan.cpu_model}
    if from_id is not None:
        extras["gpu_from_id"] = from_id[2]
    return _Shape(name, count, memory, "bare-metal", extras)


def _prices(plan: _Plan, location: str) -> list[tuple[bool, float]]:
    """(spot, USD per hour) this plan sells at in ``location``, honouring the deploy flags."""
    cost = (plan.location_cost or {}).get(location)
    hourly = cost.hourly_cost if cost and cost.hourly_cost is not None else plan.hourly_cost
    preemptible = (
        cost.hourly_cost_preemptible
        if cost and cost.hourly_cost_preemptible is not None
        else plan.hourly_cost_preemptible
    )
    prices: list[tuple[bool, float]] = []
    if plan.deploy_ondemand is not False and hourly:
        prices.append((False, hourly))
    if plan.deploy_preemptible is not False and preemptible:
        prices.append((True, preemptible))
    return prices


def _offers(plan: _CloudPlan | _MetalPlan, shape: _Shape, *, observed_at: datetime) -> list[Offer]:
    if isinstance(plan, _MetalPlan):
        # Threads are what the OS sees as CPUs, like a cloud plan's vCPUs.
        vcpus = plan.cpu_threads if plan.cpu_threads is not None else plan.cpu_count
    else:
        vcpus = plan.vcpu_count
    offers: list[Offer] = []
    for location in plan.locations:
        for spot, price in _prices(plan, location):
            offer = make_offer(
                provider=VultrProvider.name,
                native_id=f"{plan.id}:{location}:{'spot' if spot else 'ondemand'}",
                instance_type=plan.id,
                gpu_name_raw=shape.gpu_name,
                gpu_count=shape.gpu_count,
                gpu_memory_gib=shape.memory_gib,
                price_per_hour_usd=price,
                observed_at=observed_at,
                vcpus=vcpus,
                ram_gib=plan.ram / 1024 if plan.ram is not None else None,
                disk_gib=_disk_gib(plan.disk, plan.disk_count),
                spot=spot,
                region=location,
                country=country_for_location(location),
                availability=Availability.UNKNOWN,
                extras={
                    "kind": shape.kind,
                    **shape.extras,
                    "monthly_cost_usd": plan.monthly_cost,
                },
            )
            if offer is not None:
                offers.append(offer)
    return offers


def _account(
    plan: _CloudPlan | _MetalPlan, shape: _Shape | str, skips: Skips, *, observed_at: datetime
) -> list[Offer]:
    """Offers of one plan, the plan counted as kept or skipped (with the reason)."""
    if isinstance(shape, str):
        skips.add(shape, plan.id)
        return []
    if not plan.locations:
        skips.add(NO_LOCATION, plan.id)
        return []
    if plan.deploy_ondemand is False and plan.deploy_preemptible is False:
        skips.add(NOT_DEPLOYABLE, plan.id)
        return []
    offers = _offers(plan, shape, observed_at=observed_at)
    if offers:
        skips.keep(plan.id)
    elif plan.deploy_ondemand is False and not plan.hourly_cost_preemptible:
        skips.add(NOT_DEPLOYABLE, plan.id)
    else:
        skips.add(NO_PRICE, plan.id)
    return offers


def parse_offers(
    payload: object, *, observed_at: datetime, skips: Skips | None = None
) -> list[Offer]:
    """Map Vultr plans to offers (pure).

    Args:
        payload: ``{"plans": [...], "plans_metal": [...]}``: the items of every page of
            ``/plans`` and ``/plans-metal``; either key may be missing.
        observed_at: when the responses were received.
        skips: where each plan is accounted for (kept, or skipped with a reason).

    Returns:
        One offer per (GPU plan, location) that is sold on demand, plus a spot offer per
        location for plans with a preemptible price. CPU-only plans, GPU slices, GPUs the
        registry cannot size, plans sold nowhere or not at all, and malformed plans give
        nothing (and are counted in ``skips``).

    Raises:
        pydantic.ValidationError: ``plans`` or ``plans_metal`` is not a list.
    """
    notes = skips if skips is not None else Skips(VultrProvider.name)
    listing = _Listing.model_validate(payload)
    offers: list[Offer] = []
    for index, item in enumerate(listing.plans):
        try:
            plan = _CloudPlan.model_validate(item)
        except pydantic.ValidationError:
            notes.add(MALFORMED, row_id(item, "id", index=index))
            continue
        offers.extend(_account(plan, _cloud_shape(plan), notes, observed_at=observed_at))
    for index, item in enumerate(listing.plans_metal):
        try:
            metal = _MetalPlan.model_validate(item)
        except pydantic.ValidationError:
            notes.add(MALFORMED, row_id(item, "id", index=index))
            continue
        offers.extend(_account(metal, _metal_shape(metal), notes, observed_at=observed_at))
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
        skips = Skips(self.name)
        offers = parse_offers(
            {"plans": plans, "plans_metal": metal}, observed_at=self.now(), skips=skips
        )
        return FetchResult.of(offers, skips, truncated=cut1 or cut2)
