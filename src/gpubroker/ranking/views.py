"""Pure views over ranked offers: sorting by a field and grouping for `--group-by`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from gpubroker.errors import UsageError
from gpubroker.ranking.criteria import CRITERIA
from gpubroker.rows import RankedLike
from gpubroker.vocabulary import GROUP_BY, SORT_FIELDS

R = TypeVar("R", bound=RankedLike)


def _sort_value(offer: RankedLike, name: str) -> Any:
    getters: dict[str, Callable[[RankedLike], Any]] = {
        "rank": lambda o: o.rank,
        "score": lambda o: o.score,
        "price": lambda o: o.price_per_hour_usd,
        "price_per_gpu": lambda o: o.price_per_gpu_hour_usd,
        "vram": lambda o: o.gpu_memory_gib,
        "total_vram": lambda o: o.total_gpu_memory_gib,
        "gpus": lambda o: o.gpu_count,
        "vcpus": lambda o: o.vcpus,
        "ram": lambda o: o.ram_gib,
        "disk": lambda o: o.disk_gib,
        "reliability": lambda o: o.reliability,
        "provider": lambda o: o.provider,
        "region": lambda o: o.region,
        "gpu": lambda o: o.gpu_model,
        "tflops": lambda o: CRITERIA["tflops"].value(o),
    }
    return getters[name](offer)


def sort_offers(offers: Sequence[R], spec: str) -> list[R]:
    """Sort by a field (``-field`` for descending); missing values always last; stable."""
    descending = spec.startswith("-")
    name = spec.lstrip("-+").strip().lower()
    if name not in SORT_FIELDS:
        raise UsageError(f"cannot sort by {name!r}; fields: {', '.join(SORT_FIELDS)}")
    present = [o for o in offers if _sort_value(o, name) is not None]
    missing = [o for o in offers if _sort_value(o, name) is None]
    present.sort(key=lambda o: _sort_value(o, name), reverse=descending)
    return present + missing


GROUP_STATS = (
    "count", "min_price_per_gpu_hour_usd", "median_price_per_gpu_hour_usd", "providers",
    "best_offer_id", "best_rank", "best_score", "best_price_per_hour_usd", "best_gpu_count",
)  # fmt: skip


def group_columns(by: str) -> list[str]:
    """Columns of a ``--group-by`` row (raises UsageError for an unknown grouping)."""
    if by not in GROUP_BY:
        raise UsageError(f"cannot group by {by!r}; choose one of: {', '.join(GROUP_BY)}")
    return [by, *GROUP_STATS]


def group_offers(offers: Sequence[RankedLike], by: str) -> list[dict[str, Any]]:
    """One row per group: count, min/median price per GPU-hour, and the best-ranked offer.

    ``offers`` must be in rank order; groups come out best-first.
    """
    group_columns(by)
    key: Callable[[RankedLike], str] = {
        "gpu": lambda o: o.gpu_model,
        "provider": lambda o: o.provider,
        "region": lambda o: o.region or "-",
    }[by]
    import statistics  # (with decimal and fractions: only --group-by needs it)

    groups: dict[str, list[RankedLike]] = {}
    for offer in offers:
        groups.setdefault(key(offer), []).append(offer)
    rows = []
    for name, members in groups.items():
        per_gpu = [o.price_per_gpu_hour_usd for o in members]
        best = members[0]
        rows.append(
            {
                by: name,
                "count": len(members),
                "min_price_per_gpu_hour_usd": round(min(per_gpu), 6),
                "median_price_per_gpu_hour_usd": round(statistics.median(per_gpu), 6),
                "providers": sorted({o.provider for o in members}),
                "best_offer_id": best.id,
                "best_rank": best.rank,
                "best_score": best.score,
                "best_price_per_hour_usd": best.price_per_hour_usd,
                "best_gpu_count": best.gpu_count,
            }
        )
    return rows
