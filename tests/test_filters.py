"""Tests for `Query` filters and the `--where` expression language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gpubroker.errors import QuerySyntaxError, UsageError
from gpubroker.models import Availability, Offer, Query, Source
from gpubroker.ranking import compile_query, matches, parse_where
from gpubroker.ranking.filters import Predicate, gpu_notes, is_stale, match_all, states_gpu_count

OBSERVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _offer(
    name: str,
    provider: str,
    gpu: str,
    count: int,
    memory: float | None,
    price: float,
    region: str | None,
    country: str | None,
    spot: bool,
    availability: Availability,
    reliability: float | None,
    vcpus: float | None,
    ram: float | None,
    disk: float | None,
    cuda: str | None,
) -> Offer:
    return Offer(
        id=f"{provider}:{name}",
        provider=provider,
        gpu_model=gpu,
        gpu_name_raw=gpu,
        gpu_count=count,
        gpu_memory_gib=memory,
        price_per_hour_usd=price,
        price_per_gpu_hour_usd=round(price / count, 6),
        spot=spot,
        region=region,
        country=country,
        availability=availability,
        reliability=reliability,
        vcpus=vcpus,
        ram_gib=ram,
        disk_gib=disk,
        cuda_version=cuda,
        observed_at=OBSERVED,
        source=Source.LIVE,
    )


AV, LIM, UNAV, UNK = (
    Availability.AVAILABLE,
    Availability.LIMITED,
    Availability.UNAVAILABLE,
    Availability.UNKNOWN,
)

# fmt: off
OFFERS = [
    #      name        provider      gpu               n  mem   price  region        cc    spot   avail rel   vcpu ram   disk  cuda  # noqa: E501
    _offer("h100sxm",  "aws",        "H100-SXM",       8, 80,   98.32, "us-east-1",  "US", False, AV,   0.99, 192, 2048, 7600, "12.4"),  # noqa: E501
    _offer("h100pcie", "lambda",     "H100-PCIE",      1, 80,   2.49,  "us-west-1",  "US", False, LIM,  None, 26,  225,  512,  "12.2"),  # noqa: E501
    _offer("h100nvl",  "vastai",     "H100-NVL",       2, 94,   5.00,  "eu-central", "DE", True,  UNAV, 0.95, 64,  512,  1000, "12.8"),  # noqa: E501
    _offer("a100sxm",  "runpod",     "A100-80GB",      4, 80,   7.60,  "ca-mtl-1",   "CA", True,  AV,   0.90, 64,  1024, None, None),    # noqa: E501
    _offer("a100pcie", "verda",      "A100-80GB-PCIE", 1, 80,   1.50,  "fin-01",     "FI", False, UNK,  0.98, 12,  120,  200,  None),    # noqa: E501
    _offer("a10040",   "lambda",     "A100-40GB",      1, 40,   1.10,  "us-east-1",  "US", False, AV,   None, 30,  200,  512,  None),    # noqa: E501
    _offer("rtx4090",  "vastai",     "RTX4090",        1, 24,   0.35,  "se-sto",     "SE", True,  AV,   0.80, 16,  64,   500,  "12.2"),  # noqa: E501
    _offer("mystery",  "tensordock", "Mystery GPU",    1, None, 0.20,  None,         None, False, UNK,  None, None, None, None, None),   # noqa: E501
]
# fmt: on
ALL = frozenset(o.id.split(":", 1)[1] for o in OFFERS)
H100 = {"h100sxm", "h100pcie", "h100nvl"}
A100 = {"a100sxm", "a100pcie", "a10040"}
SPOT = {"h100nvl", "a100sxm", "rtx4090"}
WITH_RELIABILITY = {"h100sxm", "h100nvl", "a100sxm", "a100pcie", "rtx4090"}


def selected(predicate: Predicate) -> set[str]:
    return {o.id.split(":", 1)[1] for o in OFFERS if predicate(o)}


def query(**kwargs: Any) -> set[str]:
    return selected(compile_query(Query(**kwargs)))


def where(text: str) -> set[str]:
    return selected(parse_where(text))


# --------------------------------------------------------------------------------------------
# Query filters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({}, ALL, id="empty"),
        # GPUs, through the registry
        pytest.param({"gpus": ["h100"]}, H100, id="gpu-family-h100"),
        pytest.param({"gpus": ["H100"]}, H100, id="gpu-family-upper"),
        pytest.param({"gpus": ["a100"]}, A100, id="gpu-family-a100"),
        pytest.param({"gpus": ["A100 80GB"]}, {"a100sxm", "a100pcie"}, id="gpu-a100-80gb"),
        pytest.param({"gpus": ["A100-80GB"]}, {"a100sxm"}, id="gpu-canonical"),
        pytest.param({"gpus": ["H100 PCIe"]}, {"h100pcie"}, id="gpu-form-factor"),
        pytest.param({"gpus": ["4090"]}, {"rtx4090"}, id="gpu-alias"),
        pytest.param({"gpus": ["h100,a100"]}, H100 | A100, id="gpu-comma-list"),
        pytest.param({"gpus": [" h100 , rtx_4090 "]}, H100 | {"rtx4090"}, id="gpu-comma-spaces"),
        pytest.param({"gpus": ["h100", "a100"]}, H100 | A100, id="gpu-repeated"),
        # counts
        pytest.param({"min_gpus": 2}, {"h100sxm", "h100nvl", "a100sxm"}, id="min-gpus"),
        pytest.param({"max_gpus": 1}, ALL - {"h100sxm", "h100nvl", "a100sxm"}, id="max-gpus"),
        pytest.param({"min_gpus": 2, "max_gpus": 4}, {"h100nvl", "a100sxm"}, id="gpus-range"),
        pytest.param({"min_gpus": 8, "max_gpus": 8}, {"h100sxm"}, id="gpus-exact"),
        # memory per GPU (None never passes)
        pytest.param(
            {"min_vram_gib": 80},
            {"h100sxm", "h100pcie", "h100nvl", "a100sxm", "a100pcie"},
            id="min-vram-80",
        ),
        pytest.param({"min_vram_gib": 80.5}, {"h100nvl"}, id="min-vram-per-gpu"),
        pytest.param({"min_vram_gib": 0}, ALL - {"mystery"}, id="min-vram-0"),
        # prices (inclusive caps)
        pytest.param(
            {"max_price_usd": 2.49},
            {"h100pcie", "a100pcie", "a10040", "rtx4090", "mystery"},
            id="max-price-inclusive",
        ),
        pytest.param({"max_price_usd": 0.3}, {"mystery"}, id="max-price-low"),
        pytest.param(
            {"max_price_per_gpu_usd": 1.9},
            {"a100sxm", "a100pcie", "a10040", "rtx4090", "mystery"},
            id="max-price-per-gpu",
        ),
        # providers / regions / countries: case-insensitive, comma lists
        pytest.param({"providers": ["LAMBDA"]}, {"h100pcie", "a10040"}, id="provider-upper"),
        pytest.param(
            {"providers": ["lambda,VastAI"]},
            {"h100pcie", "a10040", "h100nvl", "rtx4090"},
            id="provider-comma",
        ),
        pytest.param({"providers": ["aws", "Runpod"]}, {"h100sxm", "a100sxm"}, id="provider-list"),
        pytest.param({"providers": ["nobody"]}, set(), id="provider-none"),
        pytest.param({"regions": ["US-EAST-1"]}, {"h100sxm", "a10040"}, id="region-upper"),
        pytest.param(
            {"regions": ["us-east-1, se-sto"]}, {"h100sxm", "a10040", "rtx4090"}, id="region-comma"
        ),
        pytest.param({"countries": ["us"]}, {"h100sxm", "h100pcie", "a10040"}, id="country-lower"),
        pytest.param({"countries": ["de,FI"]}, {"h100nvl", "a100pcie"}, id="country-comma"),
        pytest.param({"countries": ["de", "se"]}, {"h100nvl", "rtx4090"}, id="country-list"),
        # spot
        pytest.param({"spot": True}, SPOT, id="spot-true"),
        pytest.param({"spot": False}, ALL - SPOT, id="spot-false"),
        pytest.param({"spot": None}, ALL, id="spot-any"),
        # reliability (None never passes)
        pytest.param(
            {"min_reliability": 0.95}, {"h100sxm", "h100nvl", "a100pcie"}, id="min-reliability"
        ),
        pytest.param({"min_reliability": 0}, WITH_RELIABILITY, id="min-reliability-0"),
        pytest.param({"min_reliability": 1}, set(), id="min-reliability-1"),
        # host resources (None never passes)
        pytest.param({"min_vcpus": 64}, {"h100sxm", "h100nvl", "a100sxm"}, id="min-vcpus"),
        pytest.param({"min_vcpus": 0}, ALL - {"mystery"}, id="min-vcpus-0"),
        pytest.param({"min_ram_gib": 512}, {"h100sxm", "h100nvl", "a100sxm"}, id="min-ram"),
        pytest.param({"min_disk_gib": 1000}, {"h100sxm", "h100nvl"}, id="min-disk"),
        pytest.param({"min_disk_gib": 0}, ALL - {"a100sxm", "mystery"}, id="min-disk-0"),
        # availability
        pytest.param({"available_only": True}, ALL - {"h100nvl"}, id="available-only"),
        pytest.param({"available_only": False}, ALL, id="available-any"),
        # combinations are ANDed
        pytest.param(
            {"gpus": ["h100"], "spot": False, "max_price_usd": 10}, {"h100pcie"}, id="combined"
        ),
        pytest.param(
            {"providers": ["lambda"], "where": "vram>=80"}, {"h100pcie"}, id="combined-where"
        ),
        pytest.param({"gpus": ["a100"], "min_gpus": 2, "countries": ["us"]}, set(), id="nothing"),
    ],
)
def test_query_filters(kwargs: dict[str, Any], expected: set[str]) -> None:
    assert query(**kwargs) == expected


def test_matches_agrees_with_compile_query() -> None:
    q = Query(gpus=["h100,a100"], max_price_usd=8, spot=True)
    predicate = compile_query(q)
    for o in OFFERS:
        assert matches(o, q) is predicate(o)
    assert query(gpus=["h100,a100"], max_price_usd=8, spot=True) == {"h100nvl", "a100sxm"}


def test_query_unknown_gpu_matches_by_name_with_a_note() -> None:
    # Regression: a name the registry lacks used to be "unknown GPU" (exit 2), even when a
    # provider listed offers under exactly that name.
    assert query(gpus=["mystery gpu"]) == {"mystery"}
    assert query(gpus=["MYSTERY_GPU"]) == {"mystery"}
    assert query(gpus=["  Mystery   GPU "]) == {"mystery"}
    assert query(gpus=["h1000"]) == set()
    assert query(gpus=["h100,mystery gpu"]) == H100 | {"mystery"}
    notes = gpu_notes(Query(gpus=["h1000", "h100"]))
    assert len(notes) == 1
    assert "'h1000' is not in the registry" in notes[0] and "H100" in notes[0]


@pytest.mark.parametrize(
    ("gpus", "expected"),
    [
        (["h100:8"], {"h100sxm"}),
        (["H100:1"], {"h100pcie"}),
        (["h100 : 2"], {"h100nvl"}),
        (["h100:8,a100:4"], {"h100sxm", "a100sxm"}),
        (["h100:8", "rtx4090"], {"h100sxm", "rtx4090"}),
        (["a100:3"], set()),
    ],
)
def test_gpu_count_in_skypilot_syntax(gpus: list[str], expected: set[str]) -> None:
    assert query(gpus=gpus) == expected
    assert states_gpu_count(Query(gpus=gpus))


@pytest.mark.parametrize("bad", ["h100:0", "h100:x", "h100:1.5", "h100:", ":8", "h100:-2"])
def test_gpu_count_must_be_a_whole_number(bad: str) -> None:
    with pytest.raises(UsageError, match="expected NAME or NAME:COUNT") as info:
        compile_query(Query(gpus=[bad]))
    assert info.value.params == ("gpus",)


def test_states_gpu_count() -> None:
    assert not states_gpu_count(Query())
    assert not states_gpu_count(Query(gpus=["h100", "a100"], max_gpus=1))
    assert states_gpu_count(Query(min_gpus=2))
    assert states_gpu_count(Query(gpus=["h100,a100:2"]))


def test_max_age_drops_old_prices() -> None:
    now = OBSERVED + timedelta(days=200)
    fresh = OFFERS[0].model_copy(update={"id": "aws:fresh", "observed_at": now})
    kept = compile_query(Query(max_age_days=30), now=now)
    assert [o.id for o in [*OFFERS, fresh] if kept(o)] == ["aws:fresh"]
    assert all(compile_query(Query(max_age_days=201), now=now)(o) for o in OFFERS)
    assert is_stale(OFFERS[0], now) and not is_stale(fresh, now)
    assert not is_stale(OFFERS[0], OBSERVED + timedelta(days=183))


def test_query_min_gpus_above_max_gpus_raises() -> None:
    with pytest.raises(UsageError, match="min_gpus 4 is above max_gpus 2") as info:
        compile_query(Query(min_gpus=4, max_gpus=2))
    assert info.value.exit_code == 2


def test_query_bad_where_raises_at_compile_time() -> None:
    with pytest.raises(QuerySyntaxError):
        compile_query(Query(where="vrm>=80"))


# --------------------------------------------------------------------------------------------
# The --where language
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the documented example
        ("vram>=80 and price<3 and gpu in [h100,a100]", {"h100pcie", "a100pcie"}),
        ("vram >= 80 and price < 3 and gpu in [ h100 , a100 ]", {"h100pcie", "a100pcie"}),
        # every operator
        ("price==1.5", {"a100pcie"}),
        ("price=1.5", {"a100pcie"}),
        ("price!=1.5", ALL - {"a100pcie"}),
        ("price<1.5", {"a10040", "rtx4090", "mystery"}),
        ("price<=1.5", {"a100pcie", "a10040", "rtx4090", "mystery"}),
        ("price>7.6", {"h100sxm"}),
        ("price>=7.6", {"h100sxm", "a100sxm"}),
        ("gpus in [1, 2]", ALL - {"h100sxm", "a100sxm"}),
        ("gpus notin [1,2]", {"h100sxm", "a100sxm"}),
        ("gpus=8", {"h100sxm"}),
        ("price_per_gpu<=1.5", {"a100pcie", "a10040", "rtx4090", "mystery"}),
        ("tflops>=1000", {"h100sxm", "h100nvl", "a100sxm"}),  # 8×989, 2×835, 4×312
        ("tflops<1000", {"h100pcie", "a100pcie", "a10040", "rtx4090"}),
        ("cuda>=12.4", {"h100sxm", "h100nvl"}),
        ("total_vram>=300", {"h100sxm", "a100sxm"}),  # 640 and 320 GiB
        # ranges, inclusive
        ("vram=24..80", ALL - {"h100nvl", "mystery"}),
        ("vram==24..80", ALL - {"h100nvl", "mystery"}),
        ("vram in 24..80", ALL - {"h100nvl", "mystery"}),
        ("vram in 25..79", {"a10040"}),
        ("vram notin 24..80", {"h100nvl", "mystery"}),
        ("price in 1.1..2.49", {"a10040", "a100pcie", "h100pcie"}),
        ("vram=24GB..40GB", {"a10040", "rtx4090"}),
        # units (GB and GiB both mean GiB; TB = 1024; MB = 1/1024)
        ("vram>=80GB", {"h100sxm", "h100pcie", "h100nvl", "a100sxm", "a100pcie"}),
        ("vram>=80GiB", {"h100sxm", "h100pcie", "h100nvl", "a100sxm", "a100pcie"}),
        ("vram>=80gb", {"h100sxm", "h100pcie", "h100nvl", "a100sxm", "a100pcie"}),
        ("vram>80GB", {"h100nvl"}),
        ("ram>=1TB", {"h100sxm", "a100sxm"}),
        ("ram>1TB", {"h100sxm"}),
        ("ram>=1024GB", {"h100sxm", "a100sxm"}),
        ("ram=1TiB", {"a100sxm"}),
        ("disk>=7TB", {"h100sxm"}),  # 7168 GiB
        ("vram=40960MB", {"a10040"}),
        ("vram=40960MiB", {"a10040"}),
        ("vram<512MB", set()),
        ("vram>=512MB", ALL - {"mystery"}),
        ("vram in [24GB, 40GB]", {"a10040", "rtx4090"}),
        # or / not / parentheses / precedence
        ("provider=aws or provider=runpod", {"h100sxm", "a100sxm"}),
        ("not spot=true", ALL - SPOT),
        ("not not spot=true", SPOT),
        ("not (price<2 or spot=true)", {"h100sxm", "h100pcie"}),
        ("not price<2 and not spot=true", {"h100sxm", "h100pcie"}),
        # `and` binds tighter than `or`
        ("spot=true or provider=lambda and price<2", SPOT | {"a10040"}),
        ("price<2 and provider=lambda or spot=true", SPOT | {"a10040"}),
        ("(spot=true or provider=lambda) and price<2", {"rtx4090", "a10040"}),
        ("((spot=true))", SPOT),
        ("provider=lambda AND price<2", {"a10040"}),
        ("provider=aws OR NOT spot=false", {"h100sxm"} | SPOT),
        # text fields: case-insensitive
        ("provider=AWS", {"h100sxm"}),
        ("provider==Aws", {"h100sxm"}),
        ('provider="Lambda"', {"h100pcie", "a10040"}),
        ("provider='lambda'", {"h100pcie", "a10040"}),
        ("provider in [AWS, Lambda]", {"h100sxm", "h100pcie", "a10040"}),
        ("provider notin [aws,lambda,vastai]", {"a100sxm", "a100pcie", "mystery"}),
        ("provider!=vastai", ALL - {"h100nvl", "rtx4090"}),
        ("region=US-EAST-1", {"h100sxm", "a10040"}),
        ("country=us", {"h100sxm", "h100pcie", "a10040"}),
        ("availability=unavailable", {"h100nvl"}),
        ("availability=Available", {"h100sxm", "a100sxm", "a10040", "rtx4090"}),
        ("source=live", ALL),
        ("source=catalog", set()),
        # booleans
        ("spot=true", SPOT),
        ("spot==TRUE", SPOT),
        ("spot=yes", SPOT),
        ("spot=1", SPOT),
        ("spot=false", ALL - SPOT),
        ("spot=no", ALL - SPOT),
        ("spot!=true", ALL - SPOT),
        # field names and aliases
        ("VRAM>=90", {"h100nvl"}),
        ("memory>=90", {"h100nvl"}),
        ("mem>=90", {"h100nvl"}),
        ("count>=4", {"h100sxm", "a100sxm"}),
        ("gpu_count>=4", {"h100sxm", "a100sxm"}),
        ("cpus>=64", {"h100sxm", "h100nvl", "a100sxm"}),
        ("cpu<20", {"a100pcie", "rtx4090"}),
        ("price_per_hour<0.3", {"mystery"}),
        ("model=h100", H100),
        # GPUs, through the registry
        ("gpu=h100", H100),
        ("gpu=H100", H100),
        ("gpu=a100", A100),
        ('gpu="A100 80GB"', {"a100sxm", "a100pcie"}),
        ("gpu=A100-80GB", {"a100sxm"}),
        ("gpu=h100-nvl", {"h100nvl"}),
        ("gpu=4090", {"rtx4090"}),
        ("gpu=rtx_4090", {"rtx4090"}),
        ("gpu!=h100", ALL - H100),
        ("gpu in [h100, a100]", H100 | A100),
        ("gpu in [h100]", H100),
        ("gpu notin [h100, a100]", {"rtx4090", "mystery"}),
        # None never matches a comparison, except !=
        ("reliability>=0", WITH_RELIABILITY),
        ("reliability<1", WITH_RELIABILITY),
        ("reliability=0.99", {"h100sxm"}),
        ("reliability!=0.99", ALL - {"h100sxm"}),
        ("vcpus<20", {"a100pcie", "rtx4090"}),
        ("vcpus!=16", ALL - {"rtx4090"}),
        ("region=us-east-1", {"h100sxm", "a10040"}),
        ("country!=us", ALL - {"h100sxm", "h100pcie", "a10040"}),
        ("country in [us, de]", {"h100sxm", "h100pcie", "a10040", "h100nvl"}),
        ("disk in 0..100000", ALL - {"a100sxm", "mystery"}),
        ("cuda<99", {"h100sxm", "h100pcie", "h100nvl", "rtx4090"}),
        ("not reliability>=0", ALL - WITH_RELIABILITY),
    ],
)
def test_where(text: str, expected: set[str]) -> None:
    assert where(text) == expected


def test_none_value_matches_only_not_equal() -> None:
    mystery = next(o for o in OFFERS if o.id == "tensordock:mystery")
    for field, value in [
        ("vram", "10"),
        ("reliability", "0.5"),
        ("vcpus", "4"),
        ("ram", "8"),
        ("disk", "10"),
        ("tflops", "1"),
        ("cuda", "12"),
    ]:
        for op in ("=", "==", "<", "<=", ">", ">="):
            assert parse_where(f"{field}{op}{value}")(mystery) is False, (field, op)
        assert parse_where(f"{field}!={value}")(mystery) is True, field
        assert parse_where(f"{field} in [{value}]")(mystery) is False, field
        assert parse_where(f"{field} in 0..1000")(mystery) is False, field
    for field in ("region", "country"):
        assert parse_where(f"{field}=x")(mystery) is False
        assert parse_where(f"{field}!=x")(mystery) is True
        assert parse_where(f"{field} in [x, y]")(mystery) is False


# --------------------------------------------------------------------------------------------
# Errors: QuerySyntaxError (exit code 2) naming the token and its position
# --------------------------------------------------------------------------------------------


# (expression, offending token, 1-based position, text the message must contain)
TOKEN_ERRORS = [
    pytest.param("vrm>=80", "vrm", 1, "unknown field 'vrm'", id="unknown-field"),
    pytest.param("price<3 and vrm>=80", "vrm", 13, "unknown field 'vrm'", id="unknown-field-2"),
    pytest.param("vram => 80", ">", 7, "expected a value", id="bad-operator"),
    pytest.param("vram ~ 80", "~", 6, "unexpected '~'", id="bad-character"),
    pytest.param("price<3 & vram>1", "&", 9, "unexpected '&'", id="ampersand"),
    pytest.param("vram 80", "80", 6, "expected an operator", id="missing-operator"),
    pytest.param("price<3GB", "3GB", 7, "unit 'GB' not allowed", id="unit-on-price"),
    pytest.param("gpus>=2GB", "2GB", 7, "unit 'GB' not allowed", id="unit-on-count"),
    pytest.param("vram>=80XB", "80XB", 7, "unit 'XB' not allowed", id="unknown-unit"),
    pytest.param("price<abc", "abc", 7, "expected a number", id="word-for-number"),
    pytest.param('price<"3"', '"3"', 7, "expected a number", id="string-for-number"),
    pytest.param("spot=maybe", "maybe", 6, "expected true or false", id="bad-boolean"),
    pytest.param("price<3 extra", "extra", 9, "expected 'and', 'or' or the end", id="trailing"),
    pytest.param("price<3 vram>1", "vram", 9, "expected 'and', 'or' or the end", id="no-and"),
    pytest.param("(price<3))", ")", 10, "expected 'and', 'or' or the end", id="extra-paren"),
    pytest.param("()", ")", 2, "expected a field name", id="empty-parens"),
    pytest.param("price<3 and or vram>1", "or", 13, "unknown field 'or'", id="and-or"),
    pytest.param("gpu in [h100 a100]", "a100", 14, "expected ',' or ']'", id="list-no-comma"),
    pytest.param("gpu in []", "]", 9, "expected a value", id="empty-list"),
    pytest.param("(price<3 vram>1)", "vram", 10, "expected ')'", id="paren-garbage"),
    pytest.param("provider in a..b", "a", 13, "a range needs numbers", id="text-range"),
    pytest.param("vram in 24", None, None, "expected a [list] or a LOW..HIGH range", id="no-dots"),
    pytest.param("gpu=rtx", "rtx", 5, "ambiguous", id="ambiguous-gpu"),
    pytest.param(
        "provider<aws",
        "<",
        9,
        "needs a numeric field",
        id="text-less-than",
    ),
    pytest.param(
        "spot>=true",
        ">=",
        5,
        "needs a numeric field",
        id="bool-greater",
    ),
    pytest.param("gpu<h100", "<", 4, "gpu supports", id="gpu-less-than"),
]


def _raise(text: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as info:
        parse_where(text)
    err = info.value
    assert isinstance(err, UsageError)
    assert err.exit_code == 2
    assert str(err).startswith("where: ")
    assert err.params == ("where",)
    return err


def _strip_marks(params: list[Any]) -> list[Any]:
    return [pytest.param(*p.values, id=p.id) for p in params]


@pytest.mark.parametrize(("text", "token", "position", "needle"), _strip_marks(TOKEN_ERRORS))
def test_where_error_names_token(
    text: str, token: str | None, position: int | None, needle: str
) -> None:
    err = _raise(text)
    assert needle in str(err)
    if token is None:  # "vram in 24": nothing after the value
        assert "end of expression" in str(err)
        return
    assert err.token == token
    assert err.position == position - 1  # type: ignore[operator]
    assert f"{token!r}" in str(err)


@pytest.mark.parametrize(
    ("text", "token", "position", "needle"), [p for p in TOKEN_ERRORS if p.values[1] is not None]
)
def test_where_error_message_gives_position(
    text: str, token: str, position: int, needle: str
) -> None:
    assert f"position {position}" in str(_raise(text))


def test_unknown_field_lists_valid_fields() -> None:
    message = str(_raise("vrm>=80"))
    for name in ("gpu", "vram", "price", "provider", "spot", "reliability"):
        assert name in message


def test_where_unknown_gpu_matches_by_name() -> None:
    assert where("gpu=h1000") == set()
    assert where("gpu='mystery gpu'") == {"mystery"}
    assert where("gpu in [h100, mystery_gpu]") == H100 | {"mystery"}
    assert where("gpu != mystery_gpu") == ALL - {"mystery"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("price<", "expected a value"),
        ("price", "expected an operator after 'price'"),
        ("price<3 and", "expected a field name"),
        ("price<3 or", "expected a field name"),
        ("not", "expected a field name"),
        ("(price<3", "expected ')'"),
        ("((price<3)", "expected ')'"),
        ("gpu in [h100, a100", "expected ',' or ']'"),
        ("gpu in [h100,", "expected a value"),
        ("vram=24..", "expected a value"),
        ("vram in 24..", "expected a value"),
    ],
)
def test_where_error_at_end_of_expression(text: str, needle: str) -> None:
    err = _raise(text)
    assert needle in str(err)
    assert "at end of expression" in str(err)


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_where_empty_expression(text: str) -> None:
    assert "it is empty" in str(_raise(text))


@pytest.mark.parametrize(
    "fields",
    [{"providers": [""]}, {"gpus": [" , "]}, {"regions": [""]}, {"countries": [","]}],
)
def test_blank_lists_are_usage_errors_not_any(fields: dict[str, list[str]]) -> None:
    name = next(iter(fields))
    with pytest.raises(UsageError, match="empty value") as info:
        compile_query(Query(**fields))
    assert info.value.params == (name,)


@pytest.mark.parametrize("code", ["USA", "U", "1A", "Ü S"])
def test_countries_must_be_iso2(code: str) -> None:
    with pytest.raises(UsageError, match="not an ISO 3166-1 alpha-2 code"):
        compile_query(Query(countries=[code]))


def test_full_width_input_is_folded() -> None:
    wide = compile_query(Query(gpus=["ｈ１００"], where="ｇｐｕｓ＞＝１"))
    plain = compile_query(Query(gpus=["h100"], where="gpus>=1"))
    assert [wide(o) for o in OFFERS] == [plain(o) for o in OFFERS]
    assert any(plain(o) for o in OFFERS)


@pytest.mark.parametrize("depth", [51, 400, 5000])
def test_deep_nesting_is_a_syntax_error_not_a_recursion_error(depth: int) -> None:
    with pytest.raises(QuerySyntaxError, match="nested more than 50 levels"):
        parse_where("(" * depth + "gpus=1" + ")" * depth)
    with pytest.raises(QuerySyntaxError, match="nested more than 50 levels"):
        parse_where("not " * depth + "gpus=1")
    parse_where("(" * 50 + "gpus=1" + ")" * 50)  # the limit itself parses


def test_long_input_is_clipped_in_messages() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_where("x" * 10_000 + " = 1")
    assert len(str(info.value)) < 400
    assert "x" * 80 not in str(info.value)


def test_a_query_without_filters_compiles_to_match_all() -> None:
    """The search skips calling it for each of 50,000 cached rows when it is `match_all`."""
    assert compile_query(Query()) is match_all
    assert compile_query(Query(min_gpus=2)) is not match_all


def test_a_search_without_filters_never_calls_a_predicate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gpubroker import Broker
    from gpubroker.ranking import filters

    def refuse(offer: Any) -> bool:
        raise AssertionError("called")

    monkeypatch.setattr(filters, "match_all", refuse)  # a call would now raise
    from gpubroker.offers import service

    monkeypatch.setattr(service, "match_all", refuse)
    monkeypatch.setattr(service, "compile_query", lambda query, now=None: refuse)
    found = Broker().offers.rows(offline=True, limit=0)
    assert found.total_matched == len(found.offers) > 0


@pytest.mark.parametrize(
    "gpus",
    [["h100"], ["h100,a100"], ["H100:8"], ["h100", "a100:2"], ["mystery gpu"], ["h100,mystery gpu"],
     ["rtx4090"], []],
)  # fmt: skip
@pytest.mark.parametrize("extra", [{}, {"min_gpus": 2}, {"min_gpus": 1, "spot": False},
                                   {"max_price_usd": 8, "spot": True, "min_gpus": 1}])  # fmt: skip
def test_compiled_predicate_agrees_with_each_filter_alone(
    gpus: list[str], extra: dict[str, Any]
) -> None:
    """The fast paths (a GPU set lookup, a pair of checks) decide as the filters one by one:
    a GPU request's own `matches`, and each other filter compiled alone."""
    from gpubroker.ranking.filters import parse_gpu_requests

    requests = parse_gpu_requests(gpus)
    alone = [compile_query(Query(**{key: value})) for key, value in extra.items()]
    predicate = compile_query(Query(gpus=gpus, **extra))
    for o in OFFERS:
        expected = (not requests or any(r.matches(o) for r in requests)) and all(
            check(o) for check in alone
        )
        assert predicate(o) is expected, (gpus, extra, o.id)
