"""Ranking criteria, presets, and turning offers into a TOPSIS decision matrix.

Criteria (benefit = larger is better, cost = smaller is better):

============== ======= ==========================================================
name           kind    value
============== ======= ==========================================================
price          cost    ``price_per_hour_usd`` (whole offer)
price_per_gpu  cost    ``price_per_gpu_hour_usd``
vram           benefit total GPU memory, GiB (``gpu_count * gpu_memory_gib``)
tflops         benefit total dense BF16 (else FP16, else FP32) TFLOPS, from the GPU registry
reliability    benefit ``reliability`` (0–1) as the provider reports it
availability   benefit available 1.0, limited 0.6, unknown 0.5, unavailable 0.0
bandwidth      benefit total memory bandwidth, GB/s, from the GPU registry
============== ======= ==========================================================

Missing values: a missing value is replaced by the worst value observed in that column
(unknown is never rewarded). A criterion missing for every offer is dropped and its weight
spread over the others; if every weighted criterion is dropped, all scores are 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gpubroker import gpus
from gpubroker.errors import UsageError
from gpubroker.models import Availability, Offer


@dataclass(frozen=True, slots=True)
class Criterion:
    name: str
    benefit: bool
    value: Callable[[Offer], float | None]
    description: str


AVAILABILITY_SCORES = {
    Availability.AVAILABLE: 1.0,
    Availability.LIMITED: 0.6,
    Availability.UNKNOWN: 0.5,
    Availability.UNAVAILABLE: 0.0,
}


def _spec(offer: Offer) -> gpus.GPUSpec | None:
    return gpus.GPUS.get(offer.gpu_model)


def _total_tflops(offer: Offer) -> float | None:
    spec = _spec(offer)
    per_gpu = gpus.tflops(spec) if spec else None
    return per_gpu * offer.gpu_count if per_gpu is not None else None


def _total_bandwidth(offer: Offer) -> float | None:
    spec = _spec(offer)
    if spec is None or spec.bandwidth_gbps is None:
        return None
    return spec.bandwidth_gbps * offer.gpu_count


CRITERIA: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion("price", False, lambda o: o.price_per_hour_usd, "offer price, $/h"),
        Criterion("price_per_gpu", False, lambda o: o.price_per_gpu_hour_usd, "price per GPU, $/h"),
        Criterion("vram", True, lambda o: o.total_gpu_memory_gib, "total GPU memory, GiB"),
        Criterion("tflops", True, _total_tflops, "total dense BF16/FP16 TFLOPS"),
        Criterion("reliability", True, lambda o: o.reliability, "provider-reported reliability"),
        Criterion(
            "availability", True, lambda o: AVAILABILITY_SCORES[o.availability], "stock level"
        ),
        Criterion("bandwidth", True, _total_bandwidth, "total memory bandwidth, GB/s"),
    )
}

PRESETS: dict[str, dict[str, float]] = {
    "cost": {"price": 0.5, "price_per_gpu": 0.2, "vram": 0.1, "tflops": 0.1, "availability": 0.1},
    "balanced": {
        "price": 0.3,
        "vram": 0.2,
        "tflops": 0.25,
        "reliability": 0.1,
        "availability": 0.15,
    },
    "performance": {
        "tflops": 0.4,
        "bandwidth": 0.2,
        "vram": 0.2,
        "price": 0.1,
        "availability": 0.1,
    },
    "reliability": {"reliability": 0.4, "availability": 0.3, "price": 0.2, "vram": 0.1},
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


def resolve_weights(preset: str | None, weights: Mapping[str, float] | None) -> dict[str, float]:
    """Explicit weights win over a preset; default preset is ``balanced``."""
    if weights:
        for name, value in weights.items():
            if name not in CRITERIA:
                raise UsageError(f"unknown criterion {name!r}; valid: {', '.join(CRITERIA)}")
            if not math.isfinite(value) or value < 0:
                raise UsageError(f"weight for {name} must be a finite number ≥ 0, got {value}")
        chosen = {k: float(v) for k, v in weights.items() if v > 0}
        if not chosen:
            raise UsageError("at least one weight must be positive")
        return chosen
    name = (preset or DEFAULT_PRESET).lower()
    if name not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    return dict(PRESETS[name])


@dataclass(frozen=True, slots=True)
class DecisionMatrix:
    """Imputed values for the active criteria, ready for TOPSIS."""

    criteria: list[Criterion]
    weights: list[float]
    rows: list[list[float]]
    raw: list[list[float | None]]
    dropped: list[str]


def build_matrix(offers: Sequence[Offer], weights: Mapping[str, float]) -> DecisionMatrix:
    """Evaluate criteria on offers, impute missing values, drop all-missing criteria."""
    active: list[Criterion] = []
    active_w: list[float] = []
    columns: list[list[float | None]] = []
    dropped: list[str] = []
    for name, weight in weights.items():
        if weight <= 0:
            continue
        crit = CRITERIA[name]
        col = [crit.value(o) for o in offers]
        if offers and all(v is None for v in col):
            dropped.append(name)
            continue
        active.append(crit)
        active_w.append(weight)
        columns.append(col)
    imputed: list[list[float]] = []
    for crit, col in zip(active, columns, strict=True):
        present = [v for v in col if v is not None]
        worst = (min(present) if crit.benefit else max(present)) if present else 0.0
        imputed.append([worst if v is None else float(v) for v in col])
    rows = [[imputed[j][i] for j in range(len(active))] for i in range(len(offers))]
    raw = [[columns[j][i] for j in range(len(active))] for i in range(len(offers))]
    return DecisionMatrix(active, active_w, rows, raw, dropped)


def pareto_front(rows: Sequence[Sequence[float]], benefit: Sequence[bool]) -> list[bool]:
    """Flag rows no other row dominates (≥ on every criterion, > on one).

    Skyline algorithm: visit rows best-first on a monotone key, compare only with the
    current front, so the cost is O(n · front) rather than O(n²).
    """
    if not rows or not benefit:
        return [True] * len(rows)
    # Orient every criterion so larger is better.
    oriented = [[v if b else -v for v, b in zip(row, benefit, strict=True)] for row in rows]
    order = sorted(range(len(rows)), key=lambda i: [-x for x in oriented[i]])
    front: list[int] = []
    flags = [False] * len(rows)
    for i in order:
        candidate = oriented[i]
        dominated = False
        for k in front:
            other = oriented[k]
            if all(a >= b for a, b in zip(other, candidate, strict=True)) and any(
                a > b for a, b in zip(other, candidate, strict=True)
            ):
                dominated = True
                break
        if not dominated:
            front.append(i)
            flags[i] = True
    return flags
