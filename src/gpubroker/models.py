"""Pydantic models shared by every layer. Units live in the field names."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def short_id(offer_id: str) -> str:
    """A stable short form of an offer id: the first 7 hex digits of its SHA-1."""
    import hashlib

    return hashlib.sha1(offer_id.encode("utf-8"), usedforsecurity=False).hexdigest()[:7]


class Availability(StrEnum):
    """How available an offer is right now, as far as its provider says."""

    AVAILABLE = "available"
    LIMITED = "limited"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


class Source(StrEnum):
    """Where an offer came from: a live API call, the local cache, or the bundled catalog."""

    LIVE = "live"
    CACHE = "cache"
    CATALOG = "catalog"


class Offer(BaseModel):
    """One rentable GPU configuration at one price.

    Attributes:
        id: stable identifier, ``provider:native-id``.
        provider: registry name of the provider (``aws``, ``vastai``...).
        gpu_model: canonical GPU name from the registry (``H100-SXM``), or the raw name
            when the registry does not know it.
        gpu_name_raw: the GPU name exactly as the provider spelled it.
        gpu_count: GPUs in the offer.
        gpu_memory_gib: memory per GPU, GiB.
        price_per_hour_usd: price of the whole offer, USD per hour.
        price_per_gpu_hour_usd: ``price_per_hour_usd / gpu_count``.
        spot: True for interruptible (spot, bid, preemptible) capacity.
        observed_at: when the price was observed (for the catalog: the as-of month).
        source: ``live``, ``cache`` or ``catalog``.
        source_url: the public pricing page a catalog price comes from.
        extras: provider-specific fields that do not fit the common shape.
    """

    # Validation is built on first use (about 13 ms): a cold `browse` reads light rows and
    # the bundled catalog's trusted offers, and never validates one.
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    provider: str
    instance_type: str | None = None
    gpu_model: str
    gpu_name_raw: str
    gpu_count: int = Field(ge=1)
    gpu_memory_gib: float | None = Field(default=None, ge=0)
    vcpus: float | None = Field(default=None, ge=0)
    ram_gib: float | None = Field(default=None, ge=0)
    disk_gib: float | None = Field(default=None, ge=0)
    price_per_hour_usd: float = Field(gt=0)
    price_per_gpu_hour_usd: float = Field(gt=0)
    spot: bool = False
    region: str | None = None
    country: str | None = None
    availability: Availability = Availability.UNKNOWN
    reliability: float | None = Field(default=None, ge=0, le=1)
    cuda_version: str | None = None
    observed_at: datetime
    source: Source = Source.LIVE
    source_url: str | None = None
    extras: dict[str, Any] = Field(default_factory=dict)

    @property
    def short_id(self) -> str:
        """Seven hex digits that stand for the id in tables (`offers show` accepts them)."""
        return short_id(self.id)

    @property
    def total_gpu_memory_gib(self) -> float | None:
        """Memory of all GPUs together, GiB."""
        if self.gpu_memory_gib is None:
            return None
        return self.gpu_memory_gib * self.gpu_count


class RankedOffer(Offer):
    """An offer with its place in a ranking.

    Attributes:
        rank: 1-based position in the result.
        score: TOPSIS closeness in [0, 1] (higher is better).
        pareto_optimal: True when no other offer is at least as good on every
            criterion and better on one.
        total_cost_usd: cost for ``--hours`` hours, when asked for.
        contributions: per-criterion share of the score, when ``--explain`` is asked for.
        stale: the price was observed more than six months (183 days) before the search
            (old catalog list prices).
    """

    # Built on first use: the CLI streams light rows (`gpubroker.rows`) and never needs it.
    model_config = ConfigDict(defer_build=True)

    rank: int
    score: float
    pareto_optimal: bool = False
    total_cost_usd: float | None = None
    contributions: dict[str, float] | None = None
    stale: bool = False


class Query(BaseModel):
    """What to search for. Every filter is optional; ``None`` means "any".

    GPU names in ``gpus`` go through the registry (``h100``, ``RTX_4090`` ...); a name it
    does not know matches by name. ``NAME:COUNT`` (SkyPilot's syntax, ``H100:8``) asks for
    exactly COUNT GPUs of that model. ``where`` is an expression in the filter language
    (``vram>=80 and price<3``). ``max_age_days`` drops prices observed longer ago.
    """

    gpus: list[str] = Field(default_factory=list)
    min_gpus: int | None = Field(default=None, ge=1)
    max_gpus: int | None = Field(default=None, ge=1)
    min_vram_gib: float | None = Field(default=None, ge=0)
    max_price_usd: float | None = Field(default=None, gt=0)
    max_price_per_gpu_usd: float | None = Field(default=None, gt=0)
    providers: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    spot: bool | None = None
    min_reliability: float | None = Field(default=None, ge=0, le=1)
    min_vcpus: float | None = Field(default=None, ge=0)
    min_ram_gib: float | None = Field(default=None, ge=0)
    min_disk_gib: float | None = Field(default=None, ge=0)
    available_only: bool = False
    where: str | None = None
    max_age_days: float | None = Field(default=None, gt=0)


class ProviderState(StrEnum):
    """Outcome of asking one provider for offers."""

    OK = "ok"
    CACHED = "cached"
    STALE = "stale"
    CATALOG = "catalog"
    TIMEOUT = "timeout"
    NO_CREDENTIALS = "no-credentials"
    REJECTED = "rejected"  # the provider refused the credentials (HTTP 401/403)
    # The listing collapsed (to nothing, or by more than 90 %) against the cached one: the
    # cache was kept and is shown until the drop is confirmed.
    SUSPECT = "suspect"
    ERROR = "error"
    SKIPPED = "skipped"


class ProviderStatus(BaseModel):
    """Per-provider status carried by every search result.

    Attributes:
        count: offers this provider contributed.
        latency_ms: how long a live fetch took.
        age_s: age of the cached or catalog data shown.
        truncated: the provider has more offers than were listed.
        skipped: rows the provider returned that did not become offers, by reason.
    """

    provider: str
    status: ProviderState
    count: int = 0
    latency_ms: float | None = None
    age_s: float | None = None
    message: str | None = None
    truncated: bool = False
    skipped: dict[str, int] = Field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in (
            ProviderState.TIMEOUT,
            ProviderState.ERROR,
            ProviderState.NO_CREDENTIALS,
            ProviderState.REJECTED,
        )


class SearchResult(BaseModel):
    """Offers that matched a query, ranked, plus how each provider answered.

    Attributes:
        criteria: the criterion weights the ranking used.
        notes: things the user should know about the query (e.g. a GPU name the registry
            does not know, matched by name).
    """

    model_config = ConfigDict(defer_build=True)  # as RankedOffer

    offers: list[RankedOffer] = Field(default_factory=list)
    statuses: list[ProviderStatus] = Field(default_factory=list)
    total_matched: int = 0
    criteria: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @property
    def failures(self) -> list[ProviderStatus]:
        return [s for s in self.statuses if s.failed]
