"""Classic TOPSIS (Hwang & Yoon, 1981), in pure Python.

1. Vector-normalise columns: ``r_ij = x_ij / sqrt(sum_i x_ij**2)``.
2. Weight it: ``v_ij = w_j * r_ij`` with the weights normalised to sum 1.
3. Ideal ``A+`` = best value of each column (max for benefit, min for cost);
   anti-ideal ``A-`` = the worst.
4. Distances ``S+_i = ||v_i - A+||`` and ``S-_i = ||v_i - A-||``.
5. Closeness ``C_i = S-_i / (S+_i + S-_i)`` in [0, 1]; higher is better.

Degenerate inputs have defined results, never NaN:

- a column whose norm is 0 (all zeros) is left as zeros: it separates nobody;
- a constant column contributes 0 to both distances, so it does not move any score;
- when ``S+ + S- == 0`` (the offer equals both the ideal and the anti-ideal: a single offer, or
  offers identical on every weighted criterion) the closeness is 0.5, "neither nearer to
  the best nor to the worst". (The hosted backend returns 0.0 there; 0.5 keeps such an offer
  from looking worse than a real one.)
- missing values are not handled here: callers impute them (see `gpubroker.ranking.criteria`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gpubroker.errors import UsageError

NEUTRAL_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class TopsisResult:
    """Scores plus the intermediate values `--explain` shows.

    Attributes:
        scores: closeness per alternative, in input order.
        weights: the normalised weights used.
        weighted: the weighted normalised matrix ``v``.
        ideal: ``A+`` per criterion.
        anti_ideal: ``A-`` per criterion.
    """

    scores: list[float]
    weights: list[float]
    weighted: list[list[float]]
    ideal: list[float]
    anti_ideal: list[float]


def normalise_weights(weights: Sequence[float]) -> list[float]:
    """Scale weights to sum 1.

    Raises:
        UsageError: a negative or non-finite weight, or all weights zero.
    """
    for w in weights:
        if not math.isfinite(w) or w < 0:
            raise UsageError(f"weights must be finite and non-negative, got {w}")
    largest = max(weights, default=0.0)
    if largest <= 0:
        raise UsageError("at least one weight must be positive")
    # Scale by the largest first so that huge finite weights cannot overflow the sum.
    scaled = [w / largest for w in weights]
    total = math.fsum(scaled)
    return [w / total for w in scaled]


def topsis_full(
    matrix: Sequence[Sequence[float]], weights: Sequence[float], benefit: Sequence[bool]
) -> TopsisResult:
    """Run TOPSIS and return scores plus intermediates.

    Args:
        matrix: one row per alternative, one column per criterion; finite numbers.
        weights: one non-negative weight per criterion (normalised to sum 1 here).
        benefit: per criterion, True when larger is better, False for costs.

    Raises:
        UsageError: mismatched shapes, non-finite values or bad weights.
    """
    n_crit = len(weights)
    if len(benefit) != n_crit:
        raise UsageError(f"{len(benefit)} criterion types for {n_crit} weights")
    rows = [list(map(float, row)) for row in matrix]
    for i, row in enumerate(rows):
        if len(row) != n_crit:
            raise UsageError(f"row {i} has {len(row)} values, expected {n_crit}")
        if not all(math.isfinite(x) for x in row):
            raise UsageError(f"row {i} has a non-finite value")
    w = normalise_weights(weights)
    if not rows:
        return TopsisResult([], w, [], [0.0] * n_crit, [0.0] * n_crit)

    # math.hypot scales internally: no overflow for huge values, no underflow for tiny ones.
    norms = [math.hypot(*(row[j] for row in rows)) for j in range(n_crit)]
    weighted = [
        [w[j] * row[j] / norms[j] if norms[j] > 0 else 0.0 for j in range(n_crit)] for row in rows
    ]
    ideal: list[float] = []
    anti: list[float] = []
    for j in range(n_crit):
        column = [v[j] for v in weighted]
        hi, lo = max(column), min(column)
        ideal.append(hi if benefit[j] else lo)
        anti.append(lo if benefit[j] else hi)

    scores: list[float] = []
    for v in weighted:
        s_plus = math.hypot(*(v[j] - ideal[j] for j in range(n_crit)))
        s_minus = math.hypot(*(v[j] - anti[j] for j in range(n_crit)))
        denom = s_plus + s_minus
        scores.append(s_minus / denom if denom > 0 else NEUTRAL_SCORE)
    return TopsisResult(scores, w, weighted, ideal, anti)


def topsis(
    matrix: Sequence[Sequence[float]], weights: Sequence[float], benefit: Sequence[bool]
) -> list[float]:
    """TOPSIS closeness scores in input order (see the module docstring).

    >>> [round(s, 4) for s in topsis([[1.5, 24, 82.6, 0.95], [3.5, 80, 19.5, 0.85],
    ...     [0.5, 10, 29.8, 0.99]], [0.3, 0.25, 0.25, 0.2], [False, True, True, True])]
    [0.565, 0.415, 0.4818]
    """
    return topsis_full(matrix, weights, benefit).scores
