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
from functools import cached_property
from typing import NoReturn

from gpubroker.errors import UsageError

NEUTRAL_SCORE = 0.5


@dataclass(frozen=True)
class TopsisResult:
    """Scores plus the intermediate values `--explain` shows.

    Attributes:
        scores: closeness per alternative, in input order.
        weights: the normalised weights used.
        weighted_columns: the weighted normalised matrix ``v``, one list per criterion.
        ideal: ``A+`` per criterion.
        anti_ideal: ``A-`` per criterion.
    """

    scores: list[float]
    weights: list[float]
    weighted_columns: list[list[float]]
    ideal: list[float]
    anti_ideal: list[float]

    @cached_property
    def weighted(self) -> list[list[float]]:
        """The weighted normalised matrix ``v``, one row per alternative (built on first use)."""
        return [list(row) for row in zip(*self.weighted_columns, strict=True)]


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
    rows = matrix if isinstance(matrix, list) else list(matrix)
    if any(len(row) != n_crit for row in rows):
        _raise_bad_row(rows, n_crit)
    columns = [list(map(float, col)) for col in zip(*rows, strict=True)] if rows else []
    if not all(all(map(math.isfinite, col)) for col in columns):
        _raise_bad_row(rows, n_crit)
    return _closeness(columns, normalise_weights(weights), benefit)


def topsis_columns(
    columns: Sequence[Sequence[float]], weights: Sequence[float], benefit: Sequence[bool]
) -> TopsisResult:
    """`topsis_full` of a matrix given as one list of values per criterion.

    Raises:
        UsageError: mismatched shapes, non-finite values or bad weights.
    """
    if len(benefit) != len(weights) or len(columns) != len(weights):
        raise UsageError(f"{len(columns)} columns, {len(benefit)} types, {len(weights)} weights")
    cols = [list(map(float, col)) for col in columns]
    if len({len(col) for col in cols}) > 1:
        raise UsageError("columns of different lengths")
    if not all(all(map(math.isfinite, col)) for col in cols):
        raise UsageError("a non-finite value")
    return _closeness(cols, normalise_weights(weights), benefit)


def _closeness(columns: list[list[float]], w: list[float], benefit: Sequence[bool]) -> TopsisResult:
    """Steps 1 to 5 on validated columns and normalised weights.

    Column by column, so the loops run in C (zip, map, min, max, hypot); the arithmetic, and
    its order, is exactly that of the formulas in the module docstring.
    """
    n_crit = len(w)
    if not columns or not columns[0]:
        return TopsisResult([], w, [[] for _ in range(n_crit)], [0.0] * n_crit, [0.0] * n_crit)
    # math.hypot scales internally: no overflow for huge values, no underflow for tiny ones.
    norms = [math.hypot(*col) for col in columns]
    weighted_cols = [
        [wj * x / nj for x in col] if nj > 0 else [0.0] * len(col)
        for wj, nj, col in zip(w, norms, columns, strict=True)
    ]
    ideal: list[float] = []
    anti: list[float] = []
    for j, column in enumerate(weighted_cols):
        hi, lo = max(column), min(column)
        ideal.append(hi if benefit[j] else lo)
        anti.append(lo if benefit[j] else hi)

    s_plus = list(map(math.hypot, *_minus(weighted_cols, ideal)))
    s_minus = list(map(math.hypot, *_minus(weighted_cols, anti)))
    scores = [
        sm / (sp + sm) if sp + sm > 0 else NEUTRAL_SCORE
        for sp, sm in zip(s_plus, s_minus, strict=True)
    ]
    return TopsisResult(scores, w, weighted_cols, ideal, anti)


def _minus(columns: list[list[float]], point: list[float]) -> list[list[float]]:
    """Each column minus its coordinate of ``point``."""
    return [[v - a for v in col] for col, a in zip(columns, point, strict=True)]


def _raise_bad_row(rows: Sequence[Sequence[float]], n_crit: int) -> NoReturn:
    """Raise for the first row of the wrong length or with a non-finite value."""
    for i, row in enumerate(rows):
        if len(row) != n_crit:
            raise UsageError(f"row {i} has {len(row)} values, expected {n_crit}")
        if not all(math.isfinite(float(x)) for x in row):
            raise UsageError(f"row {i} has a non-finite value")
    raise AssertionError("no bad row")  # pragma: no cover


def topsis(
    matrix: Sequence[Sequence[float]], weights: Sequence[float], benefit: Sequence[bool]
) -> list[float]:
    """TOPSIS closeness scores in input order (see the module docstring).

    >>> [round(s, 4) for s in topsis([[1.5, 24, 82.6, 0.95], [3.5, 80, 19.5, 0.85],
    ...     [0.5, 10, 29.8, 0.99]], [0.3, 0.25, 0.25, 0.2], [False, True, True, True])]
    [0.565, 0.415, 0.4818]
    """
    return topsis_full(matrix, weights, benefit).scores
