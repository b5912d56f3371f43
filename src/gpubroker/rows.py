"""Lightweight offer rows: what the cache reads, ranking ranks and the CLI streams.

Building a pydantic `Offer` costs about 10 µs and 3.5 KB; 50,000 of them do not fit the time
and memory a cold ``browse`` may use. So the offers cache is read into `OfferRow` objects
(``__slots__``, the same field names as `Offer`, ``extras`` decoded only when asked for), the
ranking works on anything shaped like an offer (`OfferLike`: an `Offer` or an `OfferRow`), and
its result is a list of `RankedRow` (an offer plus its place). Models are built only for the
rows handed to Python callers (`RankedRow.to_model`); data formats are written straight from
`RankedRow.json_dict`, which equals ``RankedOffer.model_dump(mode="json")`` (a property test
holds them equal).
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gpubroker.models import Availability, Offer, ProviderStatus, RankedOffer, Source, short_id

#: Offer fields in model order: the JSON contract's key order, and the cache's columns.
OFFER_FIELDS = (
    "id", "provider", "instance_type", "gpu_model", "gpu_name_raw", "gpu_count",
    "gpu_memory_gib", "vcpus", "ram_gib", "disk_gib", "price_per_hour_usd",
    "price_per_gpu_hour_usd", "spot", "region", "country", "availability", "reliability",
    "cuda_version", "observed_at", "source", "source_url", "extras",
)  # fmt: skip
_OFFER_FIELD_SET = set(OFFER_FIELDS)
#: What a ranking adds to an offer, in `RankedOffer` order.
RANK_FIELDS = ("rank", "score", "pareto_optimal", "total_cost_usd", "contributions", "stale")


class OfferLike(Protocol):
    """What filters, criteria, views and renderers read from an offer (`Offer` or `OfferRow`)."""

    @property
    def id(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def instance_type(self) -> str | None: ...
    @property
    def gpu_model(self) -> str: ...
    @property
    def gpu_name_raw(self) -> str: ...
    @property
    def gpu_count(self) -> int: ...
    @property
    def gpu_memory_gib(self) -> float | None: ...
    @property
    def vcpus(self) -> float | None: ...
    @property
    def ram_gib(self) -> float | None: ...
    @property
    def disk_gib(self) -> float | None: ...
    @property
    def price_per_hour_usd(self) -> float: ...
    @property
    def price_per_gpu_hour_usd(self) -> float: ...
    @property
    def spot(self) -> bool: ...
    @property
    def region(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def availability(self) -> Availability: ...
    @property
    def reliability(self) -> float | None: ...
    @property
    def cuda_version(self) -> str | None: ...
    @property
    def observed_at(self) -> datetime: ...
    @property
    def source(self) -> Source: ...
    @property
    def source_url(self) -> str | None: ...
    @property
    def extras(self) -> dict[str, Any]: ...
    @property
    def total_gpu_memory_gib(self) -> float | None: ...
    @property
    def short_id(self) -> str: ...


class RankedLike(OfferLike, Protocol):
    """A ranked offer: a `RankedOffer` model or a light `RankedRow`."""

    @property
    def rank(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def pareto_optimal(self) -> bool: ...
    @property
    def total_cost_usd(self) -> float | None: ...
    @property
    def contributions(self) -> dict[str, float] | None: ...
    @property
    def stale(self) -> bool: ...


_AVAILABILITY = {a.value: a for a in Availability}


def _field(index: int) -> Any:
    return property(operator.itemgetter(index))


class OfferRow(tuple[Any, ...]):
    """One cached offer as the store reads it: a tuple of `Offer`'s fields, in `OFFER_FIELDS`
    order, read by name like the model (``row.gpu_model``).

    Built in C straight from the SQLite cursor (`from_db_rows`), so 50,000 of them cost
    little. As stored: ``spot`` is 0/1 (read as a bool), ``availability`` its text (read as
    the enum), ``source`` is always ``cache``, ``observed_at_json`` is the timestamp exactly
    as the model's JSON writes it and ``extras_json`` the extras as ``json.dumps`` writes
    them; both are decoded only when read.
    """

    __slots__ = ()

    id: str = _field(0)
    provider: str = _field(1)
    instance_type: str | None = _field(2)
    gpu_model: str = _field(3)
    gpu_name_raw: str = _field(4)
    gpu_count: int = _field(5)
    gpu_memory_gib: float | None = _field(6)
    vcpus: float | None = _field(7)
    ram_gib: float | None = _field(8)
    disk_gib: float | None = _field(9)
    price_per_hour_usd: float = _field(10)
    price_per_gpu_hour_usd: float = _field(11)
    region: str | None = _field(13)
    country: str | None = _field(14)
    reliability: float | None = _field(16)
    cuda_version: str | None = _field(17)
    observed_at_json: str = _field(18)
    source_url: str | None = _field(20)
    extras_json: str = _field(21)
    source = Source.CACHE

    @property
    def spot(self) -> bool:
        return bool(self[12])

    @property
    def availability(self) -> Availability:
        return _AVAILABILITY.get(self[15], Availability.UNKNOWN)

    @property
    def observed_at(self) -> datetime:
        return _parse_datetime(self[18])

    @property
    def extras(self) -> dict[str, Any]:
        decoded = json.loads(self[21])
        return decoded if isinstance(decoded, dict) else {}

    @property
    def short_id(self) -> str:
        """Seven hex digits that stand for the id in tables (see `gpubroker.models.short_id`)."""
        return short_id(self[0])

    @property
    def total_gpu_memory_gib(self) -> float | None:
        """Memory of all GPUs together, GiB."""
        memory: float | None = self[6]
        return None if memory is None else memory * self[5]

    def json_head(self) -> dict[str, Any]:
        """`json_dict` without its last key, ``extras`` (see `extras_json`)."""
        data = dict(zip(_HEAD_FIELDS, self, strict=False))
        data["spot"] = bool(self[12])
        data["source"] = Source.CACHE.value
        return data

    def json_dict(self) -> dict[str, Any]:
        """``Offer.model_dump(mode="json")`` of this row, without building the model."""
        data = self.json_head()
        data["extras"] = self.extras
        return data

    def to_offer(self) -> Offer:
        """The validated `Offer` model of this row."""
        return Offer.model_validate(self.json_dict())

    def __repr__(self) -> str:
        return f"OfferRow(id={self.id!r}, price_per_hour_usd={self.price_per_hour_usd!r})"


_HEAD_FIELDS = OFFER_FIELDS[:-1]  # every field but the last, "extras"
_new_row = functools.partial(tuple.__new__, OfferRow)


#: Columns whose values repeat across a listing (provider, GPU names, region, country,
#: availability, CUDA version, timestamp): one string object per distinct value.
_SHARED_COLUMNS = (1, 3, 4, 13, 14, 15, 17, 18)


def from_db_rows(values: Iterable[tuple[Any, ...]]) -> list[OfferRow]:
    """`OfferRow` s from tuples of the store's columns in `OFFER_FIELDS` order.

    Rows are taken as they come (a cursor is never materialised twice), and the values
    that repeat down a listing are stored once each, which saves about a third of the
    memory of a large listing.
    """
    memo: dict[Any, Any] = {}
    share = memo.setdefault
    shared = _SHARED_COLUMNS
    new_row = _new_row
    rows: list[OfferRow] = []
    append = rows.append
    for values_row in values:
        cells = list(values_row)
        for j in shared:
            value = cells[j]
            cells[j] = share(value, value)
        append(new_row(cells))
    return rows


def _model(offer: OfferLike) -> Offer:
    if not isinstance(offer, Offer):
        raise TypeError(f"expected an Offer or an OfferRow, got {type(offer).__name__}")
    return offer


def _parse_datetime(text: str) -> datetime:
    from pydantic import TypeAdapter

    global _DATETIME
    if _DATETIME is None:
        _DATETIME = TypeAdapter(datetime).validate_python
    return _DATETIME(text)


_DATETIME: Callable[[str], datetime] | None = None


class RankedRow:
    """An offer (`Offer` or `OfferRow`) and its place in a ranking.

    Every offer field reads through (``ranked.gpu_model``), so views and renderers treat it
    like a `RankedOffer`.

    Attributes:
        offer: the ranked offer.
        rank: 1-based position in the result.
        score: TOPSIS closeness in [0, 1], rounded to 6 places.
        pareto_optimal: no other offer is at least as good on every criterion and better on one.
        total_cost_usd: cost for the asked hours, or None.
        contributions: per-criterion share of the score (explain), or None.
        stale: the price is older than the search can vouch for (see `RankedOffer`).
    """

    __slots__ = (
        "contributions", "offer", "pareto_optimal", "rank", "score", "stale", "total_cost_usd",
    )  # fmt: skip

    def __init__(
        self,
        offer: OfferLike,
        rank: int,
        score: float,
        pareto_optimal: bool,
        total_cost_usd: float | None = None,
        contributions: dict[str, float] | None = None,
        stale: bool = False,
    ) -> None:
        self.offer = offer
        self.rank = rank
        self.score = score
        self.pareto_optimal = pareto_optimal
        self.total_cost_usd = total_cost_usd
        self.contributions = contributions
        self.stale = stale

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not slots: the offer's fields and properties.
        return getattr(self.offer, name)

    def ranking_dict(self) -> dict[str, Any]:
        """The ranking's fields, as `RankedOffer`'s JSON has them (after the offer's)."""
        return {
            "rank": self.rank,
            "score": self.score,
            "pareto_optimal": self.pareto_optimal,
            "total_cost_usd": self.total_cost_usd,
            "contributions": dict(self.contributions) if self.contributions is not None else None,
            "stale": self.stale,
        }

    def json_dict(self) -> dict[str, Any]:
        """``RankedOffer.model_dump(mode="json")`` of this row, without building the model."""
        offer = self.offer
        data = (
            offer.json_dict()
            if isinstance(offer, OfferRow)
            else _model(offer).model_dump(mode="json", include=_OFFER_FIELD_SET)
        )
        data.update(self.ranking_dict())
        return data

    def to_model(self) -> RankedOffer:
        """The validated `RankedOffer`."""
        offer = self.offer
        if isinstance(offer, OfferRow):
            return RankedOffer.model_validate(self.json_dict())
        # Only the Offer fields: ranking a RankedOffer again replaces its ranking.
        return RankedOffer(
            **_model(offer).model_dump(include=_OFFER_FIELD_SET), **self.ranking_dict()
        )

    def __repr__(self) -> str:
        return f"RankedRow(rank={self.rank}, score={self.score}, offer={self.offer!r})"


@dataclass
class RankedRows:
    """A search result whose offers stay light `RankedRow` objects (`OfferService.rows`).

    Attributes:
        offers: the ranked rows shown (each has ``json_dict()`` and ``to_model()``).
        statuses: one per provider, as in `SearchResult`.
        total_matched: rows that matched, shown or not.
        criteria: the weights used.
        notes: things the user should know about the query (see `SearchResult`).
    """

    offers: list[RankedRow] = field(default_factory=list)
    statuses: list[ProviderStatus] = field(default_factory=list)
    total_matched: int = 0
    criteria: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


__all__ = [
    "OFFER_FIELDS",
    "RANK_FIELDS",
    "OfferLike",
    "OfferRow",
    "RankedLike",
    "RankedRow",
    "RankedRows",
    "from_db_rows",
]
