"""Pure ranking: filters, the `--where` language, TOPSIS, presets, explain, Pareto front."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gpubroker.models import Offer, RankedOffer
from gpubroker.ranking.criteria import (
    CRITERIA,
    DEFAULT_PRESET,
    PRESETS,
    Preset,
    Ranking,
    build_matrix,
    pareto_front,
    parse_weights,
    resolve_ranking,
    resolve_weights,
)
from gpubroker.ranking.filters import compile_query, matches, parse_where, states_gpu_count
from gpubroker.ranking.topsis import NEUTRAL_SCORE, topsis, topsis_full

_OFFER_FIELDS = set(Offer.model_fields)


def rank(
    offers: Sequence[Offer],
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
    matrix = build_matrix(offers, ranking.weights)
    benefit = matrix.benefit
    if matrix.criteria:
        result = topsis_full(matrix.rows, matrix.weights, benefit)
        scores = result.scores
    else:
        result = None
        scores = [NEUTRAL_SCORE] * len(offers)
    front = pareto_front(matrix.rows, benefit) if matrix.criteria else [True] * len(offers)

    def tier(i: int) -> int:
        return 1 if ranking.spot_last and offers[i].spot else 0

    order = sorted(
        range(len(offers)),
        key=lambda i: (tier(i), -round(scores[i], 12), offers[i].price_per_hour_usd, offers[i].id),
    )
    ranked: list[RankedOffer] = []
    for position, i in enumerate(order, start=1):
        contributions: dict[str, float] | None = None
        if explain and result is not None:
            contributions = {}
            for j, crit in enumerate(matrix.criteria):
                span = result.ideal[j] - result.anti_ideal[j]
                # A criterion on which every offer is equal separates nobody: it gets 0.
                share = 0.0 if span == 0 else (result.weighted[i][j] - result.anti_ideal[j]) / span
                # max(0.0, ...) + 0.0 turns the -0.0 of a cost criterion's worst offer into 0.0
                contributions[crit.name] = max(0.0, round(result.weights[j] * share, 6)) + 0.0
        ranked.append(
            RankedOffer(
                # Only the Offer fields: ranking a RankedOffer again replaces its rank.
                **offers[i].model_dump(include=_OFFER_FIELDS),
                rank=position,
                score=round(scores[i], 6),
                pareto_optimal=front[i],
                total_cost_usd=(
                    round(offers[i].price_per_hour_usd * hours, 4) if hours is not None else None
                ),
                contributions=contributions,
            )
        )
    return ranked


__all__ = [
    "CRITERIA",
    "DEFAULT_PRESET",
    "PRESETS",
    "Preset",
    "Ranking",
    "compile_query",
    "matches",
    "parse_weights",
    "parse_where",
    "rank",
    "resolve_ranking",
    "resolve_weights",
    "states_gpu_count",
    "topsis",
]
