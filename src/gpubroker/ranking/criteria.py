"""Ranking criteria, presets, and turning offers into a TOPSIS decision matrix.

Criteria (benefit = larger is better, cost = smaller is better):

================== ======= =====================================================================
name               kind    value
================== ======= =====================================================================
price              cost    ``price_per_hour_usd`` (whole offer)
price_per_gpu      cost    ``price_per_gpu_hour_usd``
vram               benefit GPU memory of the whole offer, GiB
vram_per_gpu       benefit ``gpu_memory_gib``
tflops             benefit dense BF16 (else FP16, else FP32) TFLOPS of the whole offer (registry)
tflops_per_gpu     benefit the same per GPU
bandwidth          benefit memory bandwidth of the whole offer, GB/s (registry)
bandwidth_per_gpu  benefit the same per GPU
tflops_per_usd     benefit TFLOPS per $/h (the same per GPU and per offer): performance per dollar
vram_per_usd       benefit GiB per $/h: memory per dollar
reliability        benefit ``reliability`` (0–1) as the provider reports it
availability       benefit available 1.0, limited 0.6, unknown 0.5, unavailable 0.0
on_demand          benefit 1 for on-demand capacity, 0 for spot (interruptible)
================== ======= =====================================================================

Scaling: every criterion is a ratio quantity with a natural zero, so TOPSIS's vector
normalisation compares offers by relative differences. Prices span two orders of magnitude
($0.14/h to $98/h in one listing); fed as dollars, a $98/h box would squeeze every cheap offer
together near the ideal. So the two price criteria enter TOPSIS as what a dollar buys,
``1 / price`` (hours per dollar, a benefit): $0.14 and $0.28 are far apart, as a customer sees
them, while $50 and $98 boxes sit close together near the anti-ideal.

Missing values: a missing (or non-finite, or for a price non-positive) value is replaced by
the worst value observed in that column (unknown is never rewarded). A criterion
missing for every offer is dropped and its weight spread over the others; if every weighted
criterion is dropped, all scores are 0.5.

Presets feed TOPSIS different criteria depending on whether the query states how many GPUs
it needs (`gpubroker.ranking.filters.states_gpu_count`): without a count, offers compete per
GPU (a bigger box earns no rank for its size); with one, totals matter.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from gpubroker import gpus
from gpubroker.errors import UsageError
from gpubroker.models import Availability
from gpubroker.rows import OfferLike


@dataclass(frozen=True, slots=True)
class Criterion:
    """One thing offers are compared on.

    Attributes:
        name: what ``--weights`` calls it.
        benefit: True when larger is better.
        value: the raw value for an offer (None when unknown).
        description: one line for help and docs.
        per_dollar: a price that enters TOPSIS as ``1 / x`` (what a dollar buys), a benefit.
    """

    name: str
    benefit: bool
    value: Callable[[OfferLike], float | None]
    description: str
    per_dollar: bool = False


AVAILABILITY_SCORES = {
    Availability.AVAILABLE: 1.0,
    Availability.LIMITED: 0.6,
    Availability.UNKNOWN: 0.5,
    Availability.UNAVAILABLE: 0.0,
}


def _spec(offer: OfferLike) -> gpus.GPUSpec | None:
    return gpus.GPUS.get(offer.gpu_model)


def tflops_per_gpu(offer: OfferLike) -> float | None:
    """Dense BF16/FP16/FP32 TFLOPS of one GPU of the offer, from the registry."""
    return _TFLOPS.get(offer.gpu_model)


#: `gpubroker.gpus.tflops` of every registry model, by name (read once per offer ranked).
_TFLOPS: dict[str, float | None] = {name: gpus.tflops(spec) for name, spec in gpus.GPUS.items()}


def _total_tflops(offer: OfferLike) -> float | None:
    per_gpu = tflops_per_gpu(offer)
    return per_gpu * offer.gpu_count if per_gpu is not None else None


def _bandwidth_per_gpu(offer: OfferLike) -> float | None:
    spec = _spec(offer)
    return None if spec is None else spec.bandwidth_gbps


def _total_bandwidth(offer: OfferLike) -> float | None:
    per_gpu = _bandwidth_per_gpu(offer)
    return None if per_gpu is None else per_gpu * offer.gpu_count


def _tflops_per_usd(offer: OfferLike) -> float | None:
    per_gpu = tflops_per_gpu(offer)
    return None if per_gpu is None else per_gpu / offer.price_per_gpu_hour_usd


def _vram_per_usd(offer: OfferLike) -> float | None:
    memory = offer.gpu_memory_gib
    return None if memory is None else memory / offer.price_per_gpu_hour_usd


CRITERIA: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion("price", False, lambda o: o.price_per_hour_usd, "offer price, $/h", True),
        Criterion(
            "price_per_gpu", False, lambda o: o.price_per_gpu_hour_usd, "price per GPU, $/h", True
        ),
        Criterion("vram", True, lambda o: o.total_gpu_memory_gib, "GPU memory of the offer, GiB"),
        Criterion("vram_per_gpu", True, lambda o: o.gpu_memory_gib, "memory per GPU, GiB"),
        Criterion("tflops", True, _total_tflops, "dense BF16/FP16 TFLOPS of the offer"),
        Criterion("tflops_per_gpu", True, tflops_per_gpu, "dense BF16/FP16 TFLOPS per GPU"),
        Criterion("bandwidth", True, _total_bandwidth, "memory bandwidth of the offer, GB/s"),
        Criterion("bandwidth_per_gpu", True, _bandwidth_per_gpu, "bandwidth per GPU, GB/s"),
        Criterion("tflops_per_usd", True, _tflops_per_usd, "TFLOPS per $/h"),
        Criterion("vram_per_usd", True, _vram_per_usd, "GiB of GPU memory per $/h"),
        Criterion("reliability", True, lambda o: o.reliability, "provider-reported reliability"),
        Criterion(
            "availability",
            True,
            lambda o: AVAILABILITY_SCORES[o.availability],
            "stock level",
        ),
        Criterion("on_demand", True, lambda o: 0.0 if o.spot else 1.0, "1 on-demand, 0 spot"),
    )
}


@dataclass(frozen=True, slots=True)
class Preset:
    """A named ranking: the criteria it weighs, per GPU or in total.

    Attributes:
        name: what ``--optimize`` calls it.
        summary: one line for help and docs.
        per_gpu: weights when the query states no GPU count (offers compete per GPU).
        totals: weights once the query states a count (``min_gpus``, ``--gpu H100:8``).
        spot_last: every on-demand offer ranks above every spot (interruptible) one.
    """

    name: str
    summary: str
    per_gpu: Mapping[str, float]
    totals: Mapping[str, float]
    spot_last: bool = False

    def weights(self, counted: bool = False) -> dict[str, float]:
        """The weights for a query that does (``counted``) or does not state a GPU count."""
        return dict(self.totals if counted else self.per_gpu)


@dataclass(frozen=True, slots=True)
class Ranking:
    """What `gpubroker.ranking.rank` needs: resolved weights and ordering rules.

    Attributes:
        weights: criterion -> weight (positive).
        spot_last: rank every on-demand offer above every spot one.
        preset: the preset these come from, None for explicit weights.
        counted: the query stated a GPU count (totals were used).
    """

    weights: dict[str, float]
    spot_last: bool = False
    preset: str | None = None
    counted: bool = False


def _preset(
    name: str, summary: str, per_gpu: dict[str, float], *, spot_last: bool = False
) -> Preset:
    # The totals variant swaps each per-GPU criterion for its whole-offer twin.
    twins = {"price_per_gpu": "price", "vram_per_gpu": "vram", "tflops_per_gpu": "tflops",
             "bandwidth_per_gpu": "bandwidth"}  # fmt: skip
    totals = {twins.get(k, k): v for k, v in per_gpu.items()}
    return Preset(name, summary, per_gpu, totals, spot_last)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "cost",
            "the cheapest offer ($/h of the whole offer) first",
            {"price": 1.0},
            {"price": 1.0},
        ),
        _preset(
            "balanced",
            "price, speed and memory per GPU, with reliability, stock and spot risk",
            {
                "price_per_gpu": 0.35,
                "tflops_per_gpu": 0.2,
                "vram_per_gpu": 0.15,
                "reliability": 0.1,
                "availability": 0.1,
                "on_demand": 0.1,
            },
        ),
        _preset(
            "performance",
            "the fastest GPUs first: TFLOPS, bandwidth and memory, price a little",
            {
                "tflops_per_gpu": 0.4,
                "bandwidth_per_gpu": 0.2,
                "vram_per_gpu": 0.2,
                "price_per_gpu": 0.05,
                "reliability": 0.05,
                "availability": 0.05,
                "on_demand": 0.05,
            },
        ),
        _preset(
            "reliability",
            "on-demand before spot, then reliability and stock",
            {
                "reliability": 0.4,
                "availability": 0.25,
                "on_demand": 0.15,
                "price_per_gpu": 0.1,
                "vram_per_gpu": 0.1,
            },
            spot_last=True,
        ),
        _preset(
            "value",
            "performance per dollar: TFLOPS and memory per $/h",
            {
                "tflops_per_usd": 0.5,
                "vram_per_usd": 0.2,
                "price_per_gpu": 0.1,
                "availability": 0.1,
                "reliability": 0.05,
                "on_demand": 0.05,
            },
        ),
    )
}
DEFAULT_PRESET = "balanced"


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``price=0.5,vram=0.3`` into a weights dict.

    Raises:
        UsageError: unknown criterion, bad number, negative weight, or all zero.
    """
    weights: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, raw = part.partition("=")
        name = name.strip().lower().replace("-", "_")
        if not sep:
            raise UsageError(f"bad weight {part!r}: expected NAME=NUMBER")
        if name not in CRITERIA:
            raise UsageError(f"unknown criterion {name!r}; valid: {', '.join(CRITERIA)}")
        try:
            value = float(raw)
        except ValueError:
            raise UsageError(f"bad weight for {name}: {raw.strip()!r} is not a number") from None
        if value < 0 or value != value or value in (float("inf"), float("-inf")):
            raise UsageError(f"weight for {name} must be a finite number ≥ 0")
        weights[name] = value
    if not weights or sum(weights.values()) <= 0:
        raise UsageError("weights needs at least one positive weight", param="weights")
    return weights


def _check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    for name, value in weights.items():
        if name not in CRITERIA:
            raise UsageError(f"unknown criterion {name!r}; valid: {', '.join(CRITERIA)}")
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"weight for {name} must be a finite number ≥ 0, got {value}")
    chosen = {k: float(v) for k, v in weights.items() if v > 0}
    if not chosen:
        raise UsageError("at least one weight must be positive")
    return chosen


def resolve_ranking(
    preset: str | None = None,
    weights: Mapping[str, float] | None = None,
    *,
    counted: bool = False,
) -> Ranking:
    """Explicit weights win over a preset; the default preset is ``balanced``.

    Args:
        preset: a name from `PRESETS`, case-insensitive.
        weights: explicit criterion weights (no ordering rules apply to them).
        counted: the query states how many GPUs it needs (see `filters.states_gpu_count`);
            presets then weigh whole-offer totals instead of per-GPU values.

    Raises:
        UsageError: unknown preset or criterion, or invalid weights.
    """
    if weights:
        return Ranking(_check_weights(weights), counted=counted)
    name = (preset or DEFAULT_PRESET).lower()
    if name not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    chosen = PRESETS[name]
    return Ranking(chosen.weights(counted), chosen.spot_last, name, counted)


def resolve_weights(preset: str | None, weights: Mapping[str, float] | None) -> dict[str, float]:
    """The weights `resolve_ranking` picks for a query without a GPU count."""
    return resolve_ranking(preset, weights).weights


@dataclass(frozen=True)
class DecisionMatrix:
    """Imputed values for the active criteria, ready for TOPSIS.

    Attributes:
        criteria: the active criteria, in weight order.
        weights: their weights.
        columns: one list per active criterion, one value per offer: imputed values,
            prices as ``1 / price`` (see `benefit`).
        raw_columns: the values before imputation and inversion (None = unknown).
        dropped: criteria missing for every offer.
    """

    criteria: list[Criterion]
    weights: list[float]
    columns: list[list[float]]
    raw_columns: list[list[float | None]]
    dropped: list[str] = field(default_factory=list)
    n_offers: int = 0

    @property
    def benefit(self) -> list[bool]:
        """Per column, larger is better: true of every benefit and of every inverted price."""
        return [c.benefit or c.per_dollar for c in self.criteria]

    @cached_property
    def rows(self) -> list[list[float]]:
        """`columns` as one row per offer (built on first use)."""
        if not self.columns:
            return [[] for _ in range(self.n_offers)]
        return [list(row) for row in zip(*self.columns, strict=True)]

    @cached_property
    def raw(self) -> list[list[float | None]]:
        """`raw_columns` as one row per offer (built on first use)."""
        if not self.raw_columns:
            return [[] for _ in range(self.n_offers)]
        return [list(row) for row in zip(*self.raw_columns, strict=True)]


def _usable(crit: Criterion, value: float | None) -> bool:
    if value is None or not math.isfinite(value):
        return False
    return value > 0 if crit.per_dollar else True


def _all_usable(crit: Criterion, col: list[float | None]) -> bool:
    """`_usable` for a whole column, in C: the usual case, so the slow path is rare."""
    if None in col:
        return False
    values = cast(list[float], col)
    return all(map(math.isfinite, values)) and (not crit.per_dollar or min(values, default=1) > 0)


def build_matrix(offers: Sequence[OfferLike], weights: Mapping[str, float]) -> DecisionMatrix:
    """Evaluate criteria on offers, impute missing values, scale, drop all-missing criteria."""
    active: list[Criterion] = []
    active_w: list[float] = []
    columns: list[list[float | None]] = []
    dropped: list[str] = []
    for name, weight in weights.items():
        if weight <= 0:
            continue
        crit = CRITERIA[name]
        col = list(map(crit.value, offers))
        if offers and not any(_usable(crit, v) for v in col):
            dropped.append(name)
            continue
        active.append(crit)
        active_w.append(weight)
        columns.append(col)
    scaled: list[list[float]] = []
    for crit, col in zip(active, columns, strict=True):
        if _all_usable(crit, col):
            filled = list(map(float, col))  # type: ignore[arg-type]
        else:
            # `_usable`, inlined: None, NaN and infinities fail the comparisons.
            low = 0.0 if crit.per_dollar else -math.inf
            present = [float(v) for v in col if v is not None and low < v < math.inf]
            worst = (min(present) if crit.benefit else max(present)) if present else 0.0
            filled = [float(v) if v is not None and low < v < math.inf else worst for v in col]
        scaled.append([1.0 / v for v in filled] if crit.per_dollar else filled)
    return DecisionMatrix(active, active_w, scaled, columns, dropped, len(offers))


Point = tuple[float, ...]


def pareto_front(rows: Sequence[Sequence[float]], benefit: Sequence[bool]) -> list[bool]:
    """Flag rows no other row dominates (≥ on every criterion, > on one).

    Identical rows are merged first (they never dominate each other), which turns the
    question into finding the maximal vectors of distinct points under plain ≥. Those come
    from Kung, Luccio and Preparata's divide and conquer (J. ACM 22(4), 1975): points
    sorted lexicographically, best first, can only be dominated by points before them, so
    the maxima of the second half are filtered against those of the first half on the
    remaining criteria, splitting at a median per criterion, down to a sweep on the last
    two. O(n log n) for two criteria and O(n log^(d-1) n) for d ≥ 3 in the worst case; far
    less when criteria take few distinct values (GPU memory, TFLOPS and availability do),
    since `_prune` first drops what a sort and a sweep can. Small subproblems are compared
    pairwise. The tests check it against a brute-force oracle. Values must be finite.
    """
    if not rows or not benefit:
        return [True] * len(rows)
    if any(len(row) != len(benefit) for row in rows):
        raise ValueError("every row needs one value per criterion")
    return pareto_front_columns([list(col) for col in zip(*rows, strict=True)], benefit)


def pareto_front_columns(columns: Sequence[Sequence[float]], benefit: Sequence[bool]) -> list[bool]:
    """`pareto_front` of a matrix given as one list of values per criterion."""
    n = len(columns[0]) if columns else 0
    if not columns or not benefit:
        return [True] * n
    if len(columns) != len(benefit) or any(len(col) != n for col in columns):
        raise ValueError("every criterion needs one value per row")
    # Orient every criterion so larger is better (-0.0 == 0.0: negating never splits a tie).
    oriented = [col if b else [-v for v in col] for col, b in zip(columns, benefit, strict=True)]
    keys = list(zip(*oriented, strict=True))
    # Identical rows share their point: merged here, flagged together below.
    points = sorted(set(_prune(keys, [len(set(col)) for col in oriented])), reverse=True)
    front = set(_maxima(points, len(benefit)))
    return list(map(front.__contains__, keys))


def _no_group(point: Point) -> tuple[()]:
    return ()


def _prune(points: list[Point], distinct: list[int]) -> list[Point]:
    """Drop points dominated within their group of equal values on all criteria but the two
    with the most distinct values (in real listings: the price and the reliability; GPU
    memory, TFLOPS and availability take few values). Inside a group this is a sweep on
    those two; what it drops is dominated (or a copy of a point it keeps), so the maxima of
    what is left are unchanged.
    """
    if len(distinct) < 2:
        return points
    a, b = sorted(range(len(distinct)), key=distinct.__getitem__)[-2:]
    rest = [j for j in range(len(distinct)) if j not in (a, b)]
    group_of: Callable[[Point], Any] = operator.itemgetter(*rest) if rest else _no_group
    groups: dict[Any, list[Point]] = {}
    for point in points:
        groups.setdefault(group_of(point), []).append(point)
    if len(groups) * 2 > len(points):  # hardly any grouping: nothing to gain
        return points
    kept: list[Point] = []
    by_a_then_b = operator.itemgetter(a, b)
    for group in groups.values():
        group.sort(key=by_a_then_b, reverse=True)
        best = -math.inf
        for point in group:  # every earlier point has a ≥ this one's
            if point[b] > best:
                kept.append(point)
                best = point[b]
    return kept


#: Below these sizes the Pareto front compares pairwise (tests lower them to 0 so the
#: divide and conquer runs on small inputs too).
_PAIRWISE_MAXIMA_BELOW = 48
_PAIRWISE_FILTER_BELOW = 512


def _maxima(points: list[Point], d: int) -> list[Point]:
    """The points no other dominates; ``points`` distinct and sorted descending."""
    if len(points) <= 1 or len(points) < _PAIRWISE_MAXIMA_BELOW:
        front: list[Point] = []
        ge = operator.ge
        for q in points:  # only an earlier point can dominate q
            for p in front:
                if all(map(ge, p, q)):
                    break
            else:
                front.append(q)
        return front
    mid = len(points) // 2
    first = _maxima(points[:mid], d)
    # Every point of the first half is ≥ every point of the second on criterion 0.
    return first + _undominated(first, _maxima(points[mid:], d), 1, d)


def _undominated(ps: list[Point], qs: list[Point], k: int, d: int) -> list[Point]:
    """The ``qs`` that no ``ps`` dominates on criteria ``k..d-1``."""
    if not ps or not qs:
        return qs
    if k == d:
        return []
    if k == d - 1:
        best = max(p[k] for p in ps)
        return [q for q in qs if q[k] > best]
    if len(ps) * len(qs) < _PAIRWISE_FILTER_BELOW:
        return _undominated_pairwise(ps, qs, k)
    if k == d - 2:
        return _undominated_2d(ps, qs, k)
    values = sorted([p[k] for p in ps] + [q[k] for q in qs])
    low = values[0]
    if values[-1] == low:  # criterion k ties everywhere: it decides nothing
        return _undominated(ps, qs, k + 1, d)
    split = values[len(values) // 2]
    if split == low:
        split = next(v for v in values if v > low)
    ps_hi = [p for p in ps if p[k] >= split]
    ps_lo = [p for p in ps if p[k] < split]
    qs_hi = [q for q in qs if q[k] >= split]
    qs_lo = [q for q in qs if q[k] < split]
    # ps_lo cannot dominate qs_hi; ps_hi beats qs_lo on k, so only k+1.. is left to check.
    kept_lo = _undominated(ps_hi, qs_lo, k + 1, d)
    return _undominated(ps_hi, qs_hi, k, d) + _undominated(ps_lo, kept_lo, k, d)


def _undominated_pairwise(ps: list[Point], qs: list[Point], k: int) -> list[Point]:
    ge = operator.ge
    tails = [p[k:] for p in ps]
    kept = []
    for q in qs:
        tail = q[k:]
        for p in tails:
            if all(map(ge, p, tail)):
                break
        else:
            kept.append(q)
    return kept


def _undominated_2d(ps: list[Point], qs: list[Point], k: int) -> list[Point]:
    """`_undominated` on the last two criteria: one sweep down criterion ``k``."""
    ps_desc = sorted(ps, key=lambda p: p[k], reverse=True)
    kept: list[Point] = []
    best = -math.inf  # the best criterion k+1 among ps with p[k] >= q[k]
    i = 0
    for q in sorted(qs, key=lambda q: q[k], reverse=True):
        while i < len(ps_desc) and ps_desc[i][k] >= q[k]:
            best = max(best, ps_desc[i][k + 1])
            i += 1
        if best < q[k + 1]:
            kept.append(q)
    return kept
