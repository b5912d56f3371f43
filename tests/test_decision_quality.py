"""Issue 9: rankings a customer agrees with, pinned with offers whose right answer is obvious."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gpubroker.broker import Broker
from gpubroker.cli import app
from gpubroker.gpus import GPUS, normalize
from gpubroker.models import Availability, Offer, Query, RankedOffer
from gpubroker.providers.base import make_offer
from gpubroker.providers.catalog import load_catalog
from gpubroker.ranking import PRESETS, compile_query, rank, resolve_ranking, states_gpu_count
from gpubroker.ranking.criteria import AVAILABILITY_SCORES

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def offer(
    name: str,
    gpu: str = "RTX4090",
    count: int = 1,
    price: float = 1.0,
    *,
    spot: bool = False,
    reliability: float | None = None,
    availability: Availability = Availability.UNKNOWN,
    memory: float | None = None,
) -> Offer:
    spec = GPUS.get(gpu)
    return Offer(
        id=f"t:{name}",
        provider="t",
        gpu_model=gpu,
        gpu_name_raw=gpu,
        gpu_count=count,
        gpu_memory_gib=memory if memory is not None else (spec.memory_gib if spec else None),
        price_per_hour_usd=price,
        price_per_gpu_hour_usd=price / count,
        spot=spot,
        reliability=reliability,
        availability=availability,
        observed_at=NOW,
    )


def names(ranked: Sequence[RankedOffer]) -> list[str]:
    return [r.id.removeprefix("t:") for r in ranked]


# What the issue saw live: eight 8xH100 boxes at $5.37-6.97/h and a 1xRTX 4090 at $0.14/h.
LIVE_MIX = [
    *(offer(f"8xh100-{i}", "H100-SXM", 8, p) for i, p in enumerate([5.37, 5.9, 6.2, 6.97])),
    offer("4x4090", "RTX4090", 4, 0.50),
    offer("1x4090", "RTX4090", 1, 0.14),
    offer("1xl40s", "L40S", 1, 2.10),
    offer("1xa100", "A100-80GB", 1, 0.28),
]


# --------------------------------------------------------------------------------------------
# 1. Presets that mean what they say
# --------------------------------------------------------------------------------------------


def test_cost_puts_the_cheapest_offer_first() -> None:
    ranked = rank(LIVE_MIX, "cost")
    assert names(ranked)[:3] == ["1x4090", "1xa100", "4x4090"]
    prices = [r.price_per_hour_usd for r in ranked]
    assert prices == sorted(prices)


def test_cost_ranks_a_one_gpu_rtx4090_above_a_four_gpu_box() -> None:
    # Regression: `--gpu rtx4090 --optimize cost` put the 4-GPU box at $0.50/h first.
    rtx = [o for o in LIVE_MIX if o.gpu_model == "RTX4090"]
    assert names(rank(rtx, "cost")) == ["1x4090", "4x4090"]


def test_cheap_offers_are_not_squeezed_together_by_a_dear_one() -> None:
    # Regression: the top scores under `cost` were squeezed into 0.8285-0.8308.
    offers = [offer("a", price=0.14), offer("b", price=0.28), offer("c", price=98.0)]
    ranked = rank(offers, "cost")
    scores = dict(zip(names(ranked), (r.score for r in ranked), strict=True))
    assert scores["a"] == 1.0 and scores["c"] == 0.0
    # Prices enter as hours per dollar: 1/0.28 is halfway between 1/0.14 and 1/98.
    assert scores["b"] == pytest.approx((1 / 0.28 - 1 / 98) / (1 / 0.14 - 1 / 98), abs=1e-6)
    assert scores["a"] - scores["b"] > 0.4


def test_a_small_memory_edge_does_not_outweigh_a_large_price_gap() -> None:
    # An H100 NVL's 94 GB against the SXM's 80 GB must not beat a 40 % lower price.
    dearer = [offer(f"sxm{i}", "H100-SXM", 1, p) for i, p in enumerate([2.69, 3.25, 4.29])]
    offers = [offer("sxm", "H100-SXM", 1, 1.63), offer("nvl", "H100-NVL", 1, 2.59), *dearer]
    for preset in ("balanced", "value", "reliability"):
        assert names(rank(offers, preset))[0] == "sxm", preset


@pytest.mark.parametrize("preset", ["balanced", "performance", "reliability", "value"])
def test_a_bigger_box_earns_no_rank_for_its_size(preset: str) -> None:
    # Same model, same $/GPU-hour: per GPU the 8x box is no better than the 1x one.
    one = offer("1x", "H100-SXM", 1, 2.5)
    eight = offer("8x", "H100-SXM", 8, 20.0)
    cheaper = offer("1x-cheaper", "H100-SXM", 1, 2.4)
    ranked = rank([eight, one, cheaper], preset)
    assert names(ranked)[0] == "1x-cheaper"
    by = {r.id: r.score for r in ranked}
    assert by["t:1x"] == by["t:8x"]


def test_a_stated_count_makes_totals_matter() -> None:
    one = offer("1x", "H100-SXM", 1, 2.5)
    eight = offer("8x", "H100-SXM", 8, 20.0)
    assert names(rank([one, eight], resolve_ranking("performance")))[0] == "1x"
    assert names(rank([one, eight], resolve_ranking("performance", counted=True)))[0] == "8x"
    assert states_gpu_count(Query(gpus=["H100:8"])) and states_gpu_count(Query(min_gpus=2))


def test_reliability_never_puts_spot_first_while_on_demand_matches() -> None:
    # Regression: `--gpu a100 --optimize reliability` put an interruptible VM first.
    spot = offer("spot", "A100-80GB", 1, 0.9, spot=True, reliability=0.999,
                 availability=Availability.AVAILABLE)  # fmt: skip
    od = offer("on-demand", "A100-80GB", 1, 4.0, reliability=0.5,
               availability=Availability.UNAVAILABLE)  # fmt: skip
    ranked = rank([spot, od], "reliability")
    assert names(ranked) == ["on-demand", "spot"]
    assert ranked[0].score < ranked[1].score  # the group rule, not the score, decides
    assert names(rank([spot], "reliability")) == ["spot"]


def test_value_is_performance_per_dollar() -> None:
    # RTX 4090 at $0.30: 165 TFLOPS / 0.30 = 551 per $/h; H100 at $2.50: 989 / 2.5 = 396.
    ranked = rank([offer("h100", "H100-SXM", 1, 2.5), offer("4090", "RTX4090", 1, 0.30)], "value")
    assert names(ranked) == ["4090", "h100"]


def test_performance_puts_the_fastest_gpu_first() -> None:
    offers = [offer("4090", "RTX4090", 1, 0.3), offer("h100", "H100-SXM", 1, 2.5),
              offer("a100", "A100-80GB", 1, 1.2)]  # fmt: skip
    assert names(rank(offers, "performance")) == ["h100", "a100", "4090"]


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

PRICES = st.sampled_from([0.14, 0.2, 0.28, 0.5, 0.79, 1.0, 1.39, 2.1, 2.49, 5.37, 19.9, 98.32])
MODELS = st.sampled_from(["RTX4090", "H100-SXM", "A100-80GB", "L40S", "T4", "Mystery GPU"])
RELIABILITY = st.sampled_from([None, 0.5, 0.9, 0.99])
AVAILABILITY = st.sampled_from(list(Availability))


@st.composite
def offers_strategy(draw: st.DrawFn) -> list[Offer]:
    n = draw(st.integers(min_value=1, max_value=12))
    return [
        offer(
            f"o{i}",
            draw(MODELS),
            draw(st.sampled_from([1, 2, 4, 8])),
            draw(PRICES),
            spot=draw(st.booleans()),
            reliability=draw(RELIABILITY),
            availability=draw(AVAILABILITY),
            memory=draw(st.sampled_from([None, 16.0, 24.0, 80.0])),
        )
        for i in range(n)
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offers_strategy())
def test_property_cost_order_is_ascending_price(offers: list[Offer]) -> None:
    prices = [r.price_per_hour_usd for r in rank(offers, "cost")]
    assert prices == sorted(prices)


def _per_gpu(o: Offer) -> tuple[float | None, ...]:
    """An offer's per-GPU criteria, oriented so larger is better (None = unknown)."""
    return (
        -o.price_per_gpu_hour_usd,
        o.gpu_memory_gib,
        o.reliability,
        AVAILABILITY_SCORES[o.availability],
        0.0 if o.spot else 1.0,
    )


def _dominates(a: Offer, b: Offer) -> bool:
    """At least as good on every per-GPU criterion and better on one.

    A criterion known for one offer and unknown for the other does not compare (the ranking
    counts an unknown as the worst value observed, which may equal the known one).
    """
    pa, pb = _per_gpu(a), _per_gpu(b)
    if any((x is None) != (y is None) for x, y in zip(pa, pb, strict=True)):
        return False
    pairs = [(x, y) for x, y in zip(pa, pb, strict=True) if x is not None and y is not None]
    return all(x >= y for x, y in pairs) and any(x > y for x, y in pairs)


@pytest.mark.parametrize("preset", [p for p in PRESETS if p != "cost"])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offers=offers_strategy())
def test_property_no_offer_outranks_a_better_one_of_the_same_model(
    preset: str, offers: list[Offer]
) -> None:
    ranked = rank(offers, preset)
    position = {r.id: r.rank for r in ranked}
    for a in offers:
        for b in offers:
            if a.gpu_model == b.gpu_model and _dominates(a, b):
                assert position[a.id] < position[b.id], (preset, a.id, b.id)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offers_strategy())
def test_property_reliability_ranks_on_demand_first(offers: list[Offer]) -> None:
    spots = [r.spot for r in rank(offers, "reliability")]
    assert spots == sorted(spots)


# --------------------------------------------------------------------------------------------
# 2. --explain
# --------------------------------------------------------------------------------------------


def test_explain_gives_zero_to_criteria_that_separate_nobody() -> None:
    # Regression: a row with score 0.0000 showed "+tflops 0.400": every offer here is an
    # H100 SXM, so TFLOPS, bandwidth and memory per GPU separate nobody.
    offers = [offer("a", "H100-SXM", 1, 2.0), offer("b", "H100-SXM", 1, 3.0)]
    for preset in PRESETS:
        worst = rank(offers, preset, explain=True)[-1]
        assert worst.contributions is not None
        assert set(worst.contributions.values()) == {0.0}, preset


# --------------------------------------------------------------------------------------------
# CLI: NAME:COUNT, unknown names, stale prices, explain columns (offline, bundled catalog)
# --------------------------------------------------------------------------------------------

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUBROKER_OFFLINE", "true")


@pytest.mark.usefixtures("offline")
def test_browse_gpu_with_count_keeps_exactly_that_count_and_ranks_on_totals() -> None:
    code, out, _ = cli("browse", "--gpu", "H100:8", "--optimize", "cost", "--json", "-n", "200")
    assert code == 0
    rows = json.loads(out)
    assert rows and all(r["gpu_count"] == 8 and r["gpu_model"].startswith("H100") for r in rows)
    prices = [r["price_per_hour_usd"] for r in rows]
    assert prices == sorted(prices)
    code, _, err = cli("browse", "--gpu", "H100:0")
    assert code == 2 and "--gpu: bad GPU request 'H100:0'" in err


@pytest.mark.usefixtures("offline")
def test_browse_unknown_gpu_is_a_note_not_an_error() -> None:
    code, out, err = cli("browse", "--gpu", "h1000", "--json")
    assert code == 3
    assert json.loads(out) == []
    assert "note: GPU 'h1000' is not in the registry" in err and "H100" in err
    assert "unknown GPU" not in err


@pytest.mark.usefixtures("offline")
def test_stale_catalog_prices_are_marked_and_max_age_hides_them() -> None:
    code, out, _ = cli("browse", "--gpu", "l4", "--json", "-n", "200")
    rows = json.loads(out)
    stale = {r["id"] for r in rows if r["stale"]}
    cutoff = datetime.now(UTC) - timedelta(days=183)
    assert stale == {r["id"] for r in rows if datetime.fromisoformat(r["observed_at"]) < cutoff}
    assert stale  # the GCP rows are from 2025-03
    code, out, err = cli("browse", "--gpu", "l4", "-n", "200")
    assert "stale" in out and "older than 6 months (marked stale)" in err
    code, out, _ = cli("browse", "--gpu", "l4", "--json", "-n", "200", "--max-age", "6mo")
    kept = {r["id"] for r in json.loads(out)}
    assert kept and not kept & stale
    code, _, err = cli("browse", "--max-age", "soon")
    assert code == 2 and "--max-age: bad age 'soon'" in err


@pytest.mark.usefixtures("offline")
def test_explain_table_leaves_out_criteria_that_separate_none_shown() -> None:
    code, out, _ = cli("browse", "--gpu", "H100-SXM", "--on-demand", "--explain")
    assert code == 0
    header = out.splitlines()[0]
    assert "+$/gpu" in header
    assert "+tf/gpu" not in header and "+mem/gpu" not in header


# --------------------------------------------------------------------------------------------
# 4. Every GPU a provider lists is findable, and distinct models stay distinct
# --------------------------------------------------------------------------------------------

# gpu_name values Vast.ai lists, one per distinct model.
VAST_NAMES = [
    "A10", "A100 PCIE", "A100 SXM4", "A40", "A800 PCIE", "B200", "GH200 SXM", "GTX 1050 Ti",
    "GTX 1060", "GTX 1070", "GTX 1070 Ti", "GTX 1080", "GTX 1080 Ti", "GTX 1650", "GTX 1660",
    "GTX 1660 S", "GTX 1660 Ti", "GTX TITAN X", "H100 NVL", "H100 PCIE", "H100 SXM", "H200",
    "H200 NVL", "InstinctMI50", "L4", "L40", "L40S", "P104-100", "Q RTX 4000", "Q RTX 6000",
    "Q RTX 8000", "Quadro K2200", "Quadro P4000", "RTX 2060", "RTX 2060S", "RTX 2070",
    "RTX 2070S", "RTX 2080", "RTX 2080S", "RTX 2080 Ti", "RTX 3050", "RTX 3060",
    "RTX 3060 laptop", "RTX 3060 Ti", "RTX 3070", "RTX 3070 laptop", "RTX 3070 Ti", "RTX 3080",
    "RTX 3080 Ti", "RTX 3090", "RTX 3090 Ti", "RTX 4060", "RTX 4060 Ti", "RTX 4070",
    "RTX 4070S", "RTX 4070S Ti", "RTX 4070 Ti", "RTX 4080", "RTX 4080S", "RTX 4090",
    "RTX 4090D", "RTX 4500Ada", "RTX 5000Ada", "RTX 5060", "RTX 5060 Ti", "RTX 5070",
    "RTX 5070 Ti", "RTX 5080", "RTX 5090", "RTX 5880Ada", "RTX 6000Ada", "RTX A2000",
    "RTX A4000", "RTX A4500", "RTX A5000", "RTX A6000", "RTX PRO 6000 S", "RTX PRO 6000 WS",
    "Tesla P100", "Tesla P4", "Tesla P40", "Tesla T4", "Tesla V100", "Titan V", "Titan Xp",
]  # fmt: skip


def test_every_model_vast_lists_is_in_the_registry_and_none_share_an_entry() -> None:
    specs = {name: normalize(name) for name in VAST_NAMES}
    assert [n for n, s in specs.items() if s is None] == []
    by_entry: dict[str, list[str]] = {}
    for name, spec in specs.items():
        assert spec is not None
        by_entry.setdefault(spec.name, []).append(name)
    assert {k: v for k, v in by_entry.items() if len(v) > 1} == {}
    assert len(GPUS) >= 100


def test_registry_entries_are_distinct_models() -> None:
    seen: dict[tuple[str, str, float], str] = {}
    for spec in GPUS.values():
        for raw in (spec.name, spec.display_name, *spec.aliases):
            assert normalize(raw) is spec, (raw, spec.name)
        key = (spec.display_name.lower(), spec.architecture, spec.memory_gib)
        assert key not in seen, (spec.name, seen.get(key))
        seen[key] = spec.name
    editions = [normalize(n) for n in ("RTX PRO 6000 S", "RTX PRO 6000 WS", "RTX PRO 6000 Max-Q")]
    assert len({s.name for s in editions if s is not None}) == 3


def listed(raw: str, memory: float | None = None) -> Offer:
    built = make_offer(provider="vastai", native_id=f"{raw}/{memory or ''}", gpu_name_raw=raw,
                       gpu_count=1, gpu_memory_gib=memory, price_per_hour_usd=0.3,
                       observed_at=NOW)  # fmt: skip
    assert built is not None
    return built


LISTING = [
    listed("RTX 4060 Ti", 7.99), listed("RTX 4060 Ti", 16.0), listed("RTX 4060"),
    listed("RTX 4070 Ti"), listed("RTX PRO 6000 S", 95.6), listed("RTX PRO 6000 WS", 95.6),
    listed("RTX 6000Ada"), listed("RTX 4090"), listed("RTX 4090D"), listed("Radeon RX 7900 XTX"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("gpu", "expected"),
    [
        ("RTX 4060 Ti", {"RTX 4060 Ti/7.99", "RTX 4060 Ti/16.0"}),
        ("rtx_4060_ti", {"RTX 4060 Ti/7.99", "RTX 4060 Ti/16.0"}),
        ("RTX 4060 Ti 16GB", {"RTX 4060 Ti/16.0"}),
        ("RTX PRO 6000 S", {"RTX PRO 6000 S/95.6"}),
        ("rtx pro 6000", {"RTX PRO 6000 S/95.6", "RTX PRO 6000 WS/95.6"}),
        ("RTX 4090", {"RTX 4090/"}),
        ("radeon rx 7900 xtx", {"Radeon RX 7900 XTX/"}),
    ],
)
def test_gpu_filter_returns_exactly_that_models_offers(gpu: str, expected: set[str]) -> None:
    # Regression: Vast listed "RTX 4060 Ti" and "RTX PRO 6000 S" offers, yet --gpu with those
    # names was "unknown GPU" (exit 2) or matched nothing.
    predicate = compile_query(Query(gpus=[gpu]))
    assert {o.id.removeprefix("vastai:") for o in LISTING if predicate(o)} == expected


# --------------------------------------------------------------------------------------------
# 5. `gpubroker gpus`: the cheapest known $/GPU-hour per model, and where
# --------------------------------------------------------------------------------------------


def test_gpus_shows_the_cheapest_known_price_from_the_catalog() -> None:
    code, out, _ = cli("gpus", "h100", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    sxm = rows["H100-SXM"]
    catalog = [o for o in load_catalog() if o.gpu_model == "H100-SXM"]
    assert sxm["min_price_per_gpu_hour_usd"] == min(o.price_per_gpu_hour_usd for o in catalog)
    assert sxm["min_price_source"] == "catalog"
    assert sxm["source"].startswith("https://www.nvidia.com/")
    code, out, _ = cli("gpus", "h100")
    assert "from $/gpu-h" in out and "(catalog 20" in out


def test_gpus_prefers_a_cheaper_cached_offer_and_lists_unknown_models() -> None:
    cached = [listed("RTX 4060 Ti", 16.0), listed("Radeon RX 7900 XTX")]
    cheap_h100 = make_offer(provider="vastai", native_id="h", gpu_name_raw="H100 SXM",
                            gpu_count=8, price_per_hour_usd=8.0, observed_at=NOW)  # fmt: skip
    assert cheap_h100 is not None
    with Broker() as broker:
        broker.runtime.store.save_offers("vastai", [*cached, cheap_h100], NOW)
    code, out, _ = cli("gpus", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["H100-SXM"]["min_price_per_gpu_hour_usd"] == 1.0
    assert (rows["H100-SXM"]["min_price_provider"], rows["H100-SXM"]["min_price_source"]) == (
        "vastai",
        "cache",
    )
    assert rows["RTX4060TI-16GB"]["min_price_per_gpu_hour_usd"] == 0.3
    assert rows["RTX4060TI"]["min_price_per_gpu_hour_usd"] is None
    unknown = rows["Radeon RX 7900 XTX"]
    assert unknown["memory_gib"] is None and unknown["min_price_offer_id"].startswith("vastai:")
    code, out, _ = cli("gpus", "radeon rx 7900 xtx", "--json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["Radeon RX 7900 XTX"]
    code, out, _ = cli("gpus", "--arch", "ada", "--json")
    assert "Radeon RX 7900 XTX" not in {r["name"] for r in json.loads(out)}


def test_an_ambiguous_name_lists_a_readable_number_of_choices() -> None:
    code, _, err = cli("browse", "--gpu", "rtx")
    assert code == 2
    assert "Error: GPU 'rtx' is ambiguous; choose one of: A2000," in err
    assert " more" in err and "Hint: `gpubroker gpus` lists every model" in err
    assert len(err.splitlines()[0]) < 250


@pytest.mark.parametrize(
    ("stale", "expected"),
    [(1, "note: 1 offer shown carries a list price older than 6 months"),
     (2, "note: 2 offers shown carry list prices older than 6 months")],
)  # fmt: skip
def test_the_stale_note_agrees_with_its_count(stale: int, expected: str) -> None:
    from types import SimpleNamespace

    from gpubroker.render import result_note_lines

    offers = [SimpleNamespace(stale=True)] * stale + [SimpleNamespace(stale=False)]
    lines = result_note_lines(SimpleNamespace(notes=[], offers=offers, statuses=[]))  # type: ignore[arg-type]
    assert lines[0].startswith(expected), lines
