"""Tests for ranking offers: presets, weights, imputation, tie-breaks, explain, Pareto front."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpubroker.errors import UsageError
from gpubroker.gpus import GPUS
from gpubroker.models import Availability, Offer, RankedOffer
from gpubroker.providers.base import make_offer
from gpubroker.ranking import (
    CRITERIA,
    DEFAULT_PRESET,
    PRESETS,
    Ranking,
    criteria,
    parse_weights,
    place,
    rank,
    resolve_ranking,
    resolve_weights,
)
from gpubroker.ranking.criteria import build_matrix, pareto_front, pareto_front_columns
from gpubroker.vocabulary import PRESET_NAMES

OBSERVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
_REGISTRY = object()  # memory default: the registry's marketed size


def offer(
    name: str,
    *,
    gpu: str = "H100-SXM",
    count: int = 1,
    price: float = 2.0,
    memory: object = _REGISTRY,
    reliability: float | None = None,
    availability: Availability = Availability.UNKNOWN,
    provider: str = "test",
) -> Offer:
    spec = GPUS.get(gpu)
    if memory is _REGISTRY:
        memory = spec.memory_gib if spec else None
    assert memory is None or isinstance(memory, int | float)
    return Offer(
        id=f"{provider}:{name}",
        provider=provider,
        gpu_model=gpu,
        gpu_name_raw=gpu,
        gpu_count=count,
        gpu_memory_gib=memory,
        price_per_hour_usd=price,
        price_per_gpu_hour_usd=price / count,
        observed_at=OBSERVED,
        reliability=reliability,
        availability=availability,
    )


def ids(ranked: Sequence[RankedOffer]) -> list[str]:
    return [r.id.split(":", 1)[1] for r in ranked]


def by_name(ranked: Sequence[RankedOffer]) -> dict[str, RankedOffer]:
    return {r.id.split(":", 1)[1]: r for r in ranked}


# One cheap/slow, one middle, one expensive/fast offer: a clear case for every preset.
CHEAP = offer("rtx4090", gpu="RTX4090", price=0.40)
MIDDLE = offer("a100", gpu="A100-80GB", price=1.80)
FAST = offer("h100", gpu="H100-SXM", price=3.00)
CLEAR = [FAST, MIDDLE, CHEAP]


# --------------------------------------------------------------------------------------------
# Presets and weights
# --------------------------------------------------------------------------------------------


def test_presets_exist_and_are_well_formed() -> None:
    assert set(PRESETS) == {"cost", "balanced", "performance", "reliability", "value"}
    assert tuple(PRESETS) == PRESET_NAMES
    assert DEFAULT_PRESET == "balanced"
    for preset in PRESETS.values():
        for counted in (False, True):
            weights = preset.weights(counted)
            assert set(weights) <= set(CRITERIA)
            assert math.fsum(weights.values()) == pytest.approx(1.0)
            assert all(w > 0 for w in weights.values())


PER_OFFER = {"price", "vram", "tflops", "bandwidth"}


def test_presets_weigh_per_gpu_values_unless_a_count_is_stated() -> None:
    for name, preset in PRESETS.items():
        if name == "cost":  # the cheapest whole offer, with or without a count
            assert preset.weights(False) == preset.weights(True) == {"price": 1.0}
            continue
        assert not set(preset.weights(False)) & PER_OFFER, name
        assert set(preset.weights(True)) <= set(CRITERIA), name


def test_criteria_directions() -> None:
    assert {name for name, c in CRITERIA.items() if not c.benefit} == {"price", "price_per_gpu"}
    assert set(CRITERIA) == {
        "price", "price_per_gpu", "vram", "vram_per_gpu", "tflops", "tflops_per_gpu",
        "bandwidth", "bandwidth_per_gpu", "tflops_per_usd", "vram_per_usd", "reliability",
        "availability", "on_demand",
    }  # fmt: skip
    assert {name for name, c in CRITERIA.items() if c.per_dollar} == {"price", "price_per_gpu"}


def test_default_preset_is_balanced() -> None:
    assert rank(CLEAR) == rank(CLEAR, preset="balanced")
    assert rank(CLEAR, preset=None) == rank(CLEAR, preset="balanced")


def test_cost_preset_puts_cheapest_first() -> None:
    assert ids(rank(CLEAR, preset="cost")) == ["rtx4090", "a100", "h100"]


def test_performance_preset_puts_most_tflops_first() -> None:
    ranked = rank(CLEAR, preset="performance")
    assert ids(ranked) == ["h100", "a100", "rtx4090"]


def test_reliability_preset_prefers_reliable_over_cheaper() -> None:
    reliable = offer("reliable", price=2.0, reliability=0.99)
    flaky = offer("flaky", price=1.9, reliability=0.5)
    assert ids(rank([flaky, reliable], preset="reliability")) == ["reliable", "flaky"]
    # The cost preset does not weigh reliability: the cheaper offer wins outright.
    cost = rank([flaky, reliable], preset="cost")
    assert ids(cost) == ["flaky", "reliable"]
    assert [r.score for r in cost] == [1.0, 0.0]


@pytest.mark.parametrize("preset", ["COST", "Cost"])
def test_preset_name_is_case_insensitive(preset: str) -> None:
    assert ids(rank(CLEAR, preset=preset)) == ids(rank(CLEAR, preset="cost"))


def test_presets_change_the_order() -> None:
    orders = {p: ids(rank(CLEAR, preset=p)) for p in PRESETS}
    assert orders["cost"][0] == "rtx4090"
    assert orders["performance"][0] == "h100"
    assert orders["cost"] != orders["performance"]


def test_explicit_weights_override_preset() -> None:
    ranked = rank(CLEAR, preset="cost", weights={"tflops": 1.0})
    assert ids(ranked) == ["h100", "a100", "rtx4090"]
    assert ranked == rank(CLEAR, weights={"tflops": 1.0})


def test_empty_weights_fall_back_to_preset() -> None:
    assert rank(CLEAR, preset="cost", weights={}) == rank(CLEAR, preset="cost")


def test_single_criterion_scores_are_exact() -> None:
    # One cost criterion, two values: the cheaper is the ideal (1.0), the other the anti-ideal.
    ranked = rank([offer("dear", price=2.0), offer("cheap", price=1.0)], weights={"price": 1})
    assert [(r.id, r.score) for r in ranked] == [("test:cheap", 1.0), ("test:dear", 0.0)]


def test_unknown_preset_raises() -> None:
    with pytest.raises(UsageError, match="unknown preset 'fastest'") as info:
        rank(CLEAR, preset="fastest")
    assert info.value.exit_code == 2
    assert "balanced" in str(info.value)


def test_unknown_criterion_in_weights_raises() -> None:
    with pytest.raises(UsageError, match="unknown criterion 'speed'") as info:
        rank(CLEAR, weights={"speed": 1.0})
    assert info.value.exit_code == 2
    assert "tflops" in str(info.value)


def test_resolve_weights() -> None:
    assert resolve_weights(None, None) == PRESETS["balanced"].weights()
    assert resolve_weights("cost", None) == {"price": 1.0}
    assert resolve_weights("cost", {"vram": 2, "price": 0}) == {"vram": 2.0}
    # A copy, not the preset itself.
    resolved = resolve_weights("balanced", None)
    resolved["price_per_gpu"] = 99
    assert PRESETS["balanced"].weights()["price_per_gpu"] == 0.35


def test_resolve_ranking() -> None:
    per_gpu = resolve_ranking("balanced")
    assert per_gpu == Ranking(PRESETS["balanced"].weights(False), False, "balanced", False)
    totals = resolve_ranking("Balanced", counted=True)
    assert totals.weights == PRESETS["balanced"].weights(True)
    assert "price" in totals.weights and "price_per_gpu" not in totals.weights
    assert resolve_ranking("reliability").spot_last
    explicit = resolve_ranking("reliability", {"price": 1}, counted=True)
    assert explicit == Ranking({"price": 1.0}, False, None, True)


@pytest.mark.parametrize(
    "weights",
    [{"price": -1.0, "vram": 1.0}, {"price": math.nan, "vram": 1.0}, {"price": 0.0}],
    ids=["negative", "nan", "all-zero"],
)
def test_invalid_explicit_weights_raise(weights: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        rank(CLEAR, weights=weights)


# --------------------------------------------------------------------------------------------
# parse_weights
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("price=0.5,vram=0.3", {"price": 0.5, "vram": 0.3}),
        (" price = 0.5 , vram=0.3 ", {"price": 0.5, "vram": 0.3}),
        ("tflops=1", {"tflops": 1.0}),
        ("Price-Per-GPU=2,VRAM=1", {"price_per_gpu": 2.0, "vram": 1.0}),
        ("price=1,", {"price": 1.0}),
        ("price=0,vram=1", {"price": 0.0, "vram": 1.0}),
        ("price=1,price=3", {"price": 3.0}),
        ("reliability=1e-3", {"reliability": 0.001}),
    ],
)
def test_parse_weights(text: str, expected: dict[str, float]) -> None:
    assert parse_weights(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("price", "bad weight 'price': expected NAME=NUMBER"),
        ("price=x", "bad weight for price: 'x' is not a number"),
        ("price=", "bad weight for price: '' is not a number"),
        ("foo=1", "unknown criterion 'foo'"),
        ("price=0.5,foo=1", "unknown criterion 'foo'"),
        ("price=-1", "weight for price must be a finite number ≥ 0"),
        ("price=nan", "weight for price must be a finite number ≥ 0"),
        ("price=inf", "weight for price must be a finite number ≥ 0"),
        ("price=0", "at least one positive weight"),
        ("price=0,vram=0", "at least one positive weight"),
        ("", "at least one positive weight"),
        (",", "at least one positive weight"),
    ],
)
def test_parse_weights_rejects(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_weights(text)
    assert info.value.exit_code == 2
    assert message in str(info.value)


def test_parse_weights_unknown_criterion_lists_valid_names() -> None:
    with pytest.raises(UsageError) as info:
        parse_weights("foo=1")
    for name in CRITERIA:
        assert name in str(info.value)


# --------------------------------------------------------------------------------------------
# Tie-breaks, missing values
# --------------------------------------------------------------------------------------------


def test_ties_break_on_price_then_id() -> None:
    # Same memory everywhere: the only criterion is constant, so every score is 0.5.
    offers = [
        offer("b", price=2.0),
        offer("c", price=1.0),
        offer("a", price=2.0),
        offer("d", price=3.0),
        offer("aa", price=2.0),
    ]
    ranked = rank(offers, weights={"vram": 1.0})
    assert {r.score for r in ranked} == {0.5}
    assert ids(ranked) == ["c", "a", "aa", "b", "d"]


def test_tie_break_is_independent_of_input_order() -> None:
    offers = [offer(name, price=p) for name, p in [("x", 2.0), ("y", 1.0), ("z", 2.0)]]
    expected = ["y", "x", "z"]
    for seed in range(5):
        shuffled = offers[:]
        random.Random(seed).shuffle(shuffled)
        assert ids(rank(shuffled, weights={"vram": 1.0})) == expected


@pytest.mark.parametrize(
    ("none_id", "worst_id"),
    [("a-none", "z-worst"), ("z-none", "a-worst")],
)
def test_missing_reliability_ties_with_worst_known(none_id: str, worst_id: str) -> None:
    offers = [
        offer("m-best", price=1.0, reliability=0.9),
        offer(worst_id, price=1.0, reliability=0.5),
        offer(none_id, price=1.0, reliability=None),
        offer("m-mid", price=1.0, reliability=0.7),
    ]
    ranked = rank(offers, weights={"price": 0.5, "reliability": 0.5})
    scores = {name: r.score for name, r in by_name(ranked).items()}
    assert scores[none_id] == scores[worst_id]  # imputed with the column's worst: 0.5
    assert scores[none_id] < scores["m-mid"] < scores["m-best"]
    # Equal scores and equal prices: the id decides.
    assert ids(ranked) == ["m-best", "m-mid", *sorted([none_id, worst_id])]


def test_missing_reliability_never_beats_worst_known_even_when_cheaper_elsewhere() -> None:
    # The unknown offer is never rewarded: with reliability weighed alone it scores exactly
    # like the worst known one.
    offers = [
        offer("known-bad", price=5.0, reliability=0.2),
        offer("unknown", price=1.0, reliability=None),
        offer("known-good", price=5.0, reliability=0.8),
    ]
    scores = {n: r.score for n, r in by_name(rank(offers, weights={"reliability": 1})).items()}
    assert scores == {"known-good": 1.0, "known-bad": 0.0, "unknown": 0.0}


def test_missing_memory_and_tflops_imputed_with_worst() -> None:
    offers = [
        offer("small", gpu="RTX4090", price=1.0),  # 24 GiB, 165.2 TFLOPS
        offer("big", gpu="H100-SXM", price=1.0),  # 80 GiB, 989 TFLOPS
        offer("unknown", gpu="Mystery GPU", price=1.0, memory=None),  # neither known
    ]
    matrix = build_matrix(offers, {"vram": 1.0, "tflops": 1.0})
    assert matrix.raw[2] == [None, None]
    assert matrix.rows[2] == [24.0, pytest.approx(165.2)]
    assert matrix.rows[0] == matrix.rows[2]
    scores = {
        n: r.score for n, r in by_name(rank(offers, weights={"vram": 1, "tflops": 1})).items()
    }
    assert scores["unknown"] == scores["small"] == 0.0
    assert scores["big"] == 1.0


def test_all_missing_criterion_is_dropped() -> None:
    offers = [
        offer("a", gpu="RTX4090", price=0.4),
        offer("b", gpu="A100-80GB", price=1.8),
        offer("c", gpu="H100-SXM", price=3.0),
        offer("d", gpu="A100-40GB", price=1.1),
    ]
    assert all(o.reliability is None for o in offers)
    with_rel = rank(offers, weights={"price": 0.5, "vram": 0.3, "reliability": 0.2}, explain=True)
    without = rank(offers, weights={"price": 0.5, "vram": 0.3}, explain=True)
    assert ids(with_rel) == ids(without)
    assert [r.score for r in with_rel] == pytest.approx([r.score for r in without], abs=2e-6)
    for r in with_rel:
        assert r.contributions is not None
        assert set(r.contributions) == {"price", "vram"}
    matrix = build_matrix(offers, {"price": 0.5, "vram": 0.3, "reliability": 0.2})
    assert matrix.dropped == ["reliability"]
    assert [c.name for c in matrix.criteria] == ["price", "vram"]
    assert matrix.weights == [0.5, 0.3]


def test_every_criterion_missing_gives_neutral_scores() -> None:
    offers = [offer("b", price=2.0), offer("a", price=3.0), offer("c", price=1.0)]
    ranked = rank(offers, weights={"reliability": 1.0})
    assert [r.score for r in ranked] == [0.5, 0.5, 0.5]
    assert ids(ranked) == ["c", "b", "a"]
    assert all(r.pareto_optimal for r in ranked)


# --------------------------------------------------------------------------------------------
# Explain
# --------------------------------------------------------------------------------------------

EXPLAIN_OFFERS = [
    offer("h100", gpu="H100-SXM", price=3.0, reliability=0.99, availability=Availability.LIMITED),
    offer("a100", gpu="A100-80GB", count=2, price=3.4, reliability=0.9),
    offer("rtx", gpu="RTX4090", price=0.4, reliability=None, availability=Availability.AVAILABLE),
    offer("l40s", gpu="L40S", price=1.0, reliability=0.95, availability=Availability.AVAILABLE),
]


def test_no_contributions_without_explain() -> None:
    assert all(r.contributions is None for r in rank(EXPLAIN_OFFERS))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_explain_contributions(preset: str) -> None:
    weights = PRESETS[preset].weights()
    ranked = rank(EXPLAIN_OFFERS, preset=preset, explain=True)
    matrix = build_matrix(EXPLAIN_OFFERS, weights)
    active = [c.name for c in matrix.criteria]
    total = math.fsum(matrix.weights)
    normalised = {c.name: w / total for c, w in zip(matrix.criteria, matrix.weights, strict=True)}
    position = {o.id: i for i, o in enumerate(EXPLAIN_OFFERS)}
    for r in ranked:
        assert r.contributions is not None
        assert list(r.contributions) == active  # one per active criterion, in order
        for name, value in r.contributions.items():
            assert -1e-9 <= value <= normalised[name] + 1e-6
    for j, (crit, benefit) in enumerate(zip(matrix.criteria, matrix.benefit, strict=True)):
        column = [row[j] for row in matrix.rows]
        best = max(column) if benefit else min(column)
        worst = min(column) if benefit else max(column)
        for r in ranked:
            value = column[position[r.id]]
            contribution = r.contributions[crit.name]  # type: ignore[index]
            if best == worst or value == worst:
                assert contribution == 0.0
            elif value == best:
                assert contribution == round(normalised[crit.name], 6)


def test_explain_hand_checked_values() -> None:
    # price (cost) and vram (benefit), weights 3:1 -> normalised 0.75 / 0.25.
    offers = [
        offer("cheap-small", gpu="RTX4090", price=1.0),  # 24 GiB
        offer("mid", gpu="L40S", price=2.0),  # 48 GiB
        offer("dear-big", gpu="H100-SXM", price=3.0),  # 80 GiB
    ]
    ranked = by_name(rank(offers, weights={"price": 3, "vram": 1}, explain=True))
    # share = (v - A-) / (A+ - A-): linear in 1/price for the price, in GiB for the memory.
    assert ranked["cheap-small"].contributions == {"price": 0.75, "vram": 0.0}
    mid_price = 0.75 * (1 / 2 - 1 / 3) / (1 / 1 - 1 / 3)
    mid_vram = 0.25 * (48 - 24) / (80 - 24)
    assert ranked["mid"].contributions == {"price": round(mid_price, 6), "vram": round(mid_vram, 6)}
    assert ranked["dear-big"].contributions == {"price": 0.0, "vram": 0.25}


def test_explain_constant_criterion_contributes_nothing() -> None:
    # Regression: a criterion equal for every offer used to show its full weight, so the
    # worst offer (score 0) still read "+vram 0.5".
    offers = [offer("a", price=1.0), offer("b", price=2.0)]
    ranked = by_name(rank(offers, weights={"price": 1, "vram": 1}, explain=True))
    assert ranked["a"].contributions == {"price": 0.5, "vram": 0.0}
    assert ranked["b"].contributions == {"price": 0.0, "vram": 0.0}
    assert ranked["b"].score == 0.0


def test_explain_contributions_have_no_negative_zero() -> None:
    ranked = rank(CLEAR, preset="cost", explain=True)
    for r in ranked:
        assert r.contributions is not None
        for value in r.contributions.values():
            assert math.copysign(1.0, value) == 1.0


# --------------------------------------------------------------------------------------------
# Pareto front
# --------------------------------------------------------------------------------------------


def test_pareto_flags_on_ranked_offers() -> None:
    offers = [
        offer("a", gpu="H100-SXM", price=1.0),  # $1, 80 GiB
        offer("b", gpu="H100-PCIE", price=2.0),  # $2, 80 GiB: dominated by a
        offer("c", gpu="A100-80GB", count=2, price=3.0),  # $3, 160 GiB: most memory
        offer("d", gpu="RTX4090", price=0.5),  # $0.5, 24 GiB: cheapest
        offer("e", gpu="RTX4090", price=0.5),  # duplicate of d
        offer("f", gpu="A100-40GB", price=1.0),  # $1, 40 GiB: dominated by a
    ]
    flags = {
        n: r.pareto_optimal
        for n, r in by_name(rank(offers, weights={"price": 1, "vram": 1})).items()
    }
    assert flags == {"a": True, "b": False, "c": True, "d": True, "e": True, "f": False}


def test_single_offer() -> None:
    ranked = rank([offer("only")], explain=True, hours=2)
    assert len(ranked) == 1
    only = ranked[0]
    assert (only.rank, only.score, only.pareto_optimal) == (1, 0.5, True)
    assert only.total_cost_usd == 4.0


def test_empty_input() -> None:
    assert rank([]) == []
    assert rank([], preset="cost", explain=True, hours=3) == []


@pytest.mark.parametrize(
    ("rows", "benefit", "expected"),
    [
        ([[1, 2], [2, 1], [0, 0]], [True, True], [True, True, False]),
        ([[1, 5], [2, 5], [1, 4]], [False, True], [True, False, False]),
        ([[1, 1], [1, 1]], [True, True], [True, True]),
        ([[1, 1], [1, 2]], [True, True], [False, True]),
        ([[1, 1], [1, 2]], [True, False], [True, False]),
        ([[3], [1], [3], [2]], [True], [True, False, True, False]),
        ([[3], [1], [3], [2]], [False], [False, True, False, False]),
        ([[5, 5, 5]], [True, False, True], [True]),
        ([[0, 9], [9, 0], [5, 5], [4, 4]], [True, True], [True, True, True, False]),
        ([], [True], []),
        ([[1, 2], [2, 1]], [], [True, True]),
    ],
)
def test_pareto_front_small(
    rows: list[list[float]], benefit: list[bool], expected: list[bool]
) -> None:
    assert pareto_front(rows, benefit) == expected


def brute_force_front(rows: Sequence[Sequence[float]], benefit: Sequence[bool]) -> list[bool]:
    def better_or_equal(a: float, b: float, is_benefit: bool) -> bool:
        return a >= b if is_benefit else a <= b

    def dominates(p: Sequence[float], q: Sequence[float]) -> bool:
        return all(better_or_equal(x, y, b) for x, y, b in zip(p, q, benefit, strict=True)) and any(
            x != y for x, y in zip(p, q, strict=True)
        )

    return [not any(dominates(other, row) for other in rows) for row in rows]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["integers", "floats"])
def test_pareto_front_matches_brute_force_on_1000_rows(seed: int, kind: str) -> None:
    rng = random.Random(seed)
    n_crit = 3
    benefit = [True, False, True]
    if kind == "integers":  # many ties and duplicates
        rows = [[float(rng.randint(0, 20)) for _ in range(n_crit)] for _ in range(1000)]
    else:
        rows = [[rng.uniform(0, 100) for _ in range(n_crit)] for _ in range(1000)]
    front = pareto_front(rows, benefit)
    assert front == brute_force_front(rows, benefit)
    assert 0 < sum(front) < 1000


@settings(deadline=None, max_examples=200)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda n: st.tuples(
            st.lists(
                st.lists(st.integers(0, 5).map(float), min_size=n, max_size=n),
                max_size=25,
            ),
            st.lists(st.booleans(), min_size=n, max_size=n),
        )
    )
)
def test_property_pareto_front_matches_brute_force(
    problem: tuple[list[list[float]], list[bool]],
) -> None:
    rows, benefit = problem
    assert pareto_front(rows, benefit) == brute_force_front(rows, benefit)


# --------------------------------------------------------------------------------------------
# Result shape: ranks, hours
# --------------------------------------------------------------------------------------------


def test_ranks_are_one_to_n_and_scores_descend() -> None:
    offers = [*EXPLAIN_OFFERS, *CLEAR, offer("dup", price=3.0)]
    for preset in PRESETS:
        ranked = rank(offers, preset=preset)
        assert [r.rank for r in ranked] == list(range(1, len(offers) + 1))
        assert sorted(r.id for r in ranked) == sorted(o.id for o in offers)
        scores = [r.score for r in ranked]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)


def test_ranked_offer_keeps_offer_fields() -> None:
    ranked = by_name(rank(CLEAR))
    assert isinstance(ranked["h100"], RankedOffer)
    assert ranked["h100"].model_dump(include=set(Offer.model_fields)) == FAST.model_dump()


@pytest.mark.parametrize(
    ("price", "hours", "expected"),
    [
        (2.5, 10, 25.0),
        (1.2345, 3, 3.7035),
        (0.35, 0.5, 0.175),
        (98.32, 730, 71773.6),
        (3.0, 0, 0.0),
    ],
)
def test_hours_gives_total_cost(price: float, hours: float, expected: float) -> None:
    ranked = rank([offer("x", price=price)], hours=hours)
    assert ranked[0].total_cost_usd == pytest.approx(expected, abs=1e-9)


def test_total_cost_per_offer_and_absent_without_hours() -> None:
    ranked = by_name(rank(CLEAR, hours=24))
    assert ranked["rtx4090"].total_cost_usd == pytest.approx(9.6)
    assert ranked["a100"].total_cost_usd == pytest.approx(43.2)
    assert ranked["h100"].total_cost_usd == pytest.approx(72.0)
    assert all(r.total_cost_usd is None for r in rank(CLEAR))


def test_make_offer_offers_rank_like_hand_built_ones() -> None:
    built = [
        make_offer(
            provider="test",
            native_id=name,
            gpu_name_raw=raw,
            gpu_count=1,
            price_per_hour_usd=price,
            observed_at=OBSERVED,
        )
        for name, raw, price in [
            ("rtx4090", "NVIDIA GeForce RTX 4090", 0.40),
            ("a100", "NVIDIA A100-SXM4-80GB", 1.80),
            ("h100", "NVIDIA H100 80GB HBM3", 3.00),
        ]
    ]
    offers = [o for o in built if o is not None]
    assert len(offers) == 3
    for preset in PRESETS:
        assert ids(rank(offers, preset=preset)) == ids(rank(CLEAR, preset=preset))


def test_huge_parsed_weights_rank_like_their_ratio() -> None:
    # Regression: the weight sum used to overflow in math.fsum (OverflowError, not UsageError).
    weights = parse_weights("price=1e308,vram=1e308")
    huge = rank(CLEAR, weights=weights)
    assert ids(huge) == ids(rank(CLEAR, weights={"price": 1, "vram": 1}))
    assert [r.score for r in huge] == [
        r.score for r in rank(CLEAR, weights={"price": 1, "vram": 1})
    ]


# --------------------------------------------------------------------------------------------
# Pareto front at scale: the divide and conquer gives exactly the brute-force answer
# --------------------------------------------------------------------------------------------

PARETO_VALUES = {
    "few": st.integers(0, 3).map(float),  # many ties and duplicates
    "signed zeros": st.sampled_from([0.0, -0.0, 1.0, -1.0]),
    "floats": st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
}


@st.composite
def pareto_problems(draw: st.DrawFn) -> tuple[list[list[float]], list[bool]]:
    n_crit = draw(st.integers(min_value=1, max_value=7))
    values = draw(st.sampled_from(list(PARETO_VALUES.values())))
    rows = draw(st.lists(st.lists(values, min_size=n_crit, max_size=n_crit), max_size=60))
    benefit = draw(st.lists(st.booleans(), min_size=n_crit, max_size=n_crit))
    return rows, benefit


@pytest.fixture(params=["as shipped", "always divide", "divide without pruning"])
def pareto_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Small inputs use the pairwise base cases; lowering them to 0 makes every problem go
    through the divide and conquer, its filter splits and its two-criteria sweep. Without
    the pruning step, the divide and conquer alone must find the front."""
    if request.param != "as shipped":
        monkeypatch.setattr(criteria, "_PAIRWISE_MAXIMA_BELOW", 0)
        monkeypatch.setattr(criteria, "_PAIRWISE_FILTER_BELOW", 0)
    if request.param == "divide without pruning":
        monkeypatch.setattr(criteria, "_prune", lambda points, distinct: points)
    return str(request.param)


@settings(
    deadline=None, max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(problem=pareto_problems())
def test_property_pareto_front_is_the_brute_force_front(
    pareto_mode: str, problem: tuple[list[list[float]], list[bool]]
) -> None:
    rows, benefit = problem
    assert pareto_front(rows, benefit) == brute_force_front(rows, benefit)


@pytest.mark.parametrize("seed", [3, 4])
def test_pareto_front_on_listing_shaped_data(pareto_mode: str, seed: int) -> None:
    """Price and reliability continuous, memory and TFLOPS from a few GPU models and counts,
    availability in three values: the shape the pruning step is made for."""
    rng = random.Random(seed)
    models = [(24, 165), (80, 989), (48, 362), (80, 312), (141, 989)]
    rows = []
    for _ in range(1200):
        memory, tflops = rng.choice(models)
        n = rng.choice([1, 1, 2, 4, 8])
        rows.append(
            [n * rng.uniform(0.2, 3), memory * n, tflops * n, rng.uniform(0.85, 1.0),
             rng.choice([1.0, 0.5, 0.0])]
        )  # fmt: skip
    benefit = [False, True, True, True, True]
    front = pareto_front(rows, benefit)
    assert front == brute_force_front(rows, benefit)
    assert 0 < sum(front) < 200


def test_pareto_front_columns_matches_rows_and_checks_shapes() -> None:
    rows = [[1.0, 5.0], [2.0, 5.0], [1.0, 4.0]]
    columns = [list(c) for c in zip(*rows, strict=True)]
    assert pareto_front_columns(columns, [False, True]) == pareto_front(rows, [False, True])
    with pytest.raises(ValueError, match="one value per row"):
        pareto_front_columns([[1.0, 2.0], [1.0]], [True, True])
    with pytest.raises(ValueError, match="one value per criterion"):
        pareto_front([[1.0, 2.0], [1.0]], [True, True])


# --------------------------------------------------------------------------------------------
# place(): rank's work on light rows
# --------------------------------------------------------------------------------------------


def test_place_is_rank_without_the_models() -> None:
    spot = Offer.model_validate({**offer("spot", price=0.3).model_dump(), "spot": True})
    offers = [*CLEAR, offer("twin", gpu="RTX4090", price=0.40), offer("x8", count=8, price=20),
              spot]  # fmt: skip
    for preset in PRESETS:
        for counted in (False, True):
            ranking = resolve_ranking(preset, counted=counted)
            placed = place(offers, ranking, explain=True, hours=3)
            assert [row.to_model() for row in placed] == rank(
                offers, ranking, explain=True, hours=3
            )
            assert [row.rank for row in placed] == list(range(1, len(offers) + 1))
            if ranking.spot_last:
                assert placed[-1].id == spot.id
            for limit in (1, 2, len(offers) - 1, len(offers), len(offers) + 5):
                # The top places of a limited ranking are the full ranking's, rank for rank.
                top = place(offers, ranking, explain=True, hours=3, limit=limit)
                assert [r.to_model() for r in top] == [r.to_model() for r in placed[:limit]]
