"""Pure ranking: filters, the `--where` language, TOPSIS, presets, explain, Pareto front."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from gpubroker.models import RankedOffer
from gpubroker.ranking.criteria import (
    CRITERIA,
    DEFAULT_PRESET,
    PRESETS,
    Preset,
    Ranking,
    build_matrix,
    pareto_front_columns,
    parse_weights,
    resolve_ranking,
    resolve_weights,
)
from gpubroker.ranking.filters import (
    Pushdown,
    compile_query,
    matches,
    parse_where,
    pushdown,
    states_gpu_count,
)
from gpubroker.ranking.topsis import NEUTRAL_SCORE, topsis, topsis_columns
from gpubroker.rows import OfferLike, RankedRow


def rank(
    offers: Sequence[OfferLike],
    preset: str | Ranking | None = None,
    weights: Mapping[str, float] | None = None,
    *,
    explain: bool = False,
    hours: float | None = None,
) -> list[RankedOffer]:
    """Rank offers with TOPSIS, best first.

    Ties break on price (ascending), then id (ascending), so the order is deterministic.
    Under a preset with ``spot_last`` (``reliability``), every on-demand offer ranks above
    every spot offer; the score orders offers within each group.

    Args:
        offers: the candidates (already filtered).
        preset: ``cost``, ``balanced`` (default), ``performance``, ``reliability`` or
            ``value``, weighed per GPU; or a `Ranking` from `resolve_ranking`, which knows
            whether the query stated a GPU count.
        weights: explicit criterion weights (``{"price": 0.5, "vram": 0.5}``); win over preset.
        explain: attach each criterion's weighted position (0 = worst, weight = best; 0 for
            a criterion on which every offer is equal).
        hours: when given, attach ``total_cost_usd = price_per_hour_usd * hours``.

    Returns:
        `RankedOffer` objects with ``rank``, ``score`` and ``pareto_optimal`` set.

    Raises:
        UsageError: unknown preset or criterion, or invalid weights.
    """
    if isinstance(preset, Ranking):
        ranking = resolve_ranking(weights=weights) if weights else preset
    else:
        ranking = resolve_ranking(preset, weights)
    return [row.to_model() for row in place(offers, ranking, explain=explain, hours=hours)]


def place(
    offers: Sequence[OfferLike],
    ranking: Ranking,
    *,
    explain: bool = False,
    hours: float | None = None,
    limit: int | None = None,
) -> list[RankedRow]:
    """`rank`'s work without building models: each offer's place, best first.

    Args:
        offers: the candidates (already filtered): `Offer` models or cached `OfferRow` s.
        ranking: resolved weights and ordering rules (`resolve_ranking`).
        explain: attach each criterion's weighted position.
        hours: attach ``total_cost_usd`` for that many hours.
        limit: only the best ``limit`` places (None or 0: every offer). Scores still come
            from every offer; only the ordering and the rows built stop early.
    """
    matrix = build_matrix(offers, ranking.weights)
    benefit = matrix.benefit
    names = [c.name for c in matrix.criteria]
    if matrix.criteria:
        result = topsis_columns(matrix.columns, matrix.weights, benefit)
        scores = result.scores
        front = pareto_front_columns(matrix.columns, benefit)
    else:
        result = None
        scores = [NEUTRAL_SCORE] * len(offers)
        front = [True] * len(offers)
    del matrix
    order_by = [[-round(s, 12) for s in scores], [o.price_per_hour_usd for o in offers],
                [o.id for o in offers]]  # fmt: skip
    if ranking.spot_last:  # every on-demand offer first
        order_by.insert(0, [1 if o.spot else 0 for o in offers])
    keys = list(zip(*order_by, strict=True))
    if limit and limit < len(offers):  # the keys are unique (the id is last): no ties to keep
        order = heapq.nsmallest(limit, range(len(offers)), key=keys.__getitem__)
    else:
        order = sorted(range(len(offers)), key=keys.__getitem__)
    del keys, order_by
    ranked: list[RankedRow] = []
    for position, i in enumerate(order, start=1):
        offer = offers[i]
        contributions: dict[str, float] | None = None
        if explain and result is not None:
            contributions = {}
            for j, name in enumerate(names):
                span = result.ideal[j] - result.anti_ideal[j]
                value = result.weighted_columns[j][i]
                # A criterion on which every offer is equal separates nobody: it gets 0.
                share = 0.0 if span == 0 else (value - result.anti_ideal[j]) / span
                # max(0.0, ...) + 0.0 turns the -0.0 of a cost criterion's worst offer into 0.0
                contributions[name] = max(0.0, round(result.weights[j] * share, 6)) + 0.0
        total = round(offer.price_per_hour_usd * hours, 4) if hours is not None else None
        ranked.append(
            RankedRow(offer, position, round(scores[i], 6), front[i], total, contributions)
        )
    return ranked


__all__ = [
    "CRITERIA",
    "DEFAULT_PRESET",
    "PRESETS",
    "Preset",
    "Pushdown",
    "Ranking",
    "compile_query",
    "matches",
    "parse_weights",
    "parse_where",
    "place",
    "pushdown",
    "rank",
    "resolve_ranking",
    "resolve_weights",
    "states_gpu_count",
    "topsis",
]
