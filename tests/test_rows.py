"""Light offer rows: a cached `OfferRow` reads, dumps and ranks exactly like its model.

The fast paths (`RankedRow.json_dict`, `render.jsonl_lines`) build the JSON contract
without pydantic; these tests hold them equal to ``RankedOffer.model_dump(mode="json")``
and to ``json.dumps`` of it, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpubroker import render
from gpubroker.models import Offer, RankedOffer, Source
from gpubroker.rows import OFFER_FIELDS, RANK_FIELDS, OfferRow, RankedRow
from gpubroker.store import Store
from tests.strategies import as_cached_before, offers

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
rankings = st.fixed_dictionaries(
    {
        "rank": st.integers(min_value=1, max_value=10**6),
        "score": st.floats(min_value=0, max_value=1),
        "pareto_optimal": st.booleans(),
        "total_cost_usd": st.none() | st.floats(min_value=0, max_value=1e9),
        "contributions": st.none()
        | st.dictionaries(st.sampled_from(["price", "vram", "tflops"]), st.floats(0, 1)),
        "stale": st.booleans(),
    }
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(Path(tmp_path_factory.mktemp("rows")) / "db.sqlite", now=lambda: T0) as s:
        yield s


def cached(store: Store, offer: Offer) -> OfferRow:
    store.save_offers("p", [offer], T0)
    result = store.cached_offers("p")
    assert result is not None
    (row,) = result.offers
    return row


def old_json(offer: Offer, ranking: dict[str, object]) -> dict[str, object]:
    """The JSON contract as the model path builds it."""
    return RankedOffer(**offer.model_dump(), **ranking).model_dump(mode="json")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offer=offers(), ranking=rankings)
def test_cached_row_is_the_offer_the_json_cache_gave_back(
    store: Store, offer: Offer, ranking: dict[str, object]
) -> None:
    before = as_cached_before(offer)
    row = cached(store, offer)

    assert row.to_offer() == before
    for name in OFFER_FIELDS:  # every field reads like the model's
        assert getattr(row, name) == getattr(before, name), name
    assert row.total_gpu_memory_gib == before.total_gpu_memory_gib
    assert row.source is Source.CACHE

    ranked = RankedRow(row, **ranking)  # type: ignore[arg-type]
    expected = old_json(before, ranking)
    assert ranked.json_dict() == expected
    assert list(ranked.json_dict()) == [*OFFER_FIELDS, *RANK_FIELDS]
    assert ranked.to_model().model_dump(mode="json") == expected
    assert render.offer_json(ranked) == expected
    # The JSON line, and the batch encoder's, are byte for byte what json.dumps writes for
    # the model's dump.
    assert render.offer_jsonl(ranked) == json.dumps(expected, ensure_ascii=False) + "\n"
    assert list(render.jsonl_lines([ranked])) == [render.offer_jsonl(ranked)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(st.tuples(offers(), rankings), min_size=2, max_size=12))
def test_column_wise_jsonl_equals_the_row_by_row_lines(
    tmp_path_factory: pytest.TempPathFactory, batch: list[tuple[Offer, dict[str, object]]]
) -> None:
    """`jsonl_lines` encodes a chunk column by column; columns mix nulls, ints and floats
    across rows (and models with cached rows), and every line must still be exact."""
    with Store(Path(tmp_path_factory.mktemp("batch")) / "db.sqlite", now=lambda: T0) as s:
        unique = {o.id: (o, r) for o, r in batch}
        s.save_offers("p", [o for o, _ in unique.values()], T0)
        result = s.cached_offers("p")
        assert result is not None
        rows = {row.id: row for row in result.offers}
    ranked = [RankedRow(rows[i], **r) for i, (_, r) in unique.items()]  # type: ignore[arg-type]
    ranked.insert(1, RankedRow(next(iter(unique.values()))[0], **next(iter(unique.values()))[1]))  # type: ignore[arg-type]
    expected = [render.offer_jsonl(r) for r in ranked]
    assert list(render.jsonl_lines(ranked, chunk=3)) == expected
    assert list(render.jsonl_lines(ranked)) == expected


@settings(max_examples=100, deadline=None)
@given(offer=offers(), ranking=rankings)
def test_ranked_row_of_a_model_dumps_like_the_model(
    offer: Offer, ranking: dict[str, object]
) -> None:
    ranked = RankedRow(offer, **ranking)  # type: ignore[arg-type]
    expected = old_json(offer, ranking)
    assert ranked.json_dict() == expected
    assert ranked.to_model() == RankedOffer(**offer.model_dump(), **ranking)
    assert render.offer_jsonl(ranked) == json.dumps(expected, ensure_ascii=False) + "\n"
    # attributes read through to the offer
    assert (ranked.gpu_model, ranked.price_per_hour_usd) == (
        offer.gpu_model,
        offer.price_per_hour_usd,
    )


def test_ranked_row_json_dict_is_a_fresh_dict(store: Store) -> None:
    from tests.test_store import offer as make

    row = cached(store, make("p", "1", extras={"k": [1, 2]}))
    ranked = RankedRow(row, 1, 0.5, True, None, {"price": 0.5})
    first = ranked.json_dict()
    first["extras"]["k"].append(3)
    first["contributions"]["price"] = 9.0
    assert ranked.json_dict()["extras"] == {"k": [1, 2]}
    assert ranked.contributions == {"price": 0.5}


def test_a_row_is_a_small_tuple(store: Store) -> None:
    from tests.test_store import offer as make

    row = cached(store, make("p", "1"))
    assert isinstance(row, tuple) and len(row) == len(OFFER_FIELDS)
    assert not hasattr(row, "__dict__")
    assert repr(row) == "OfferRow(id='p:1', price_per_hour_usd=2.0)"


SHAPES = [("H100 SXM", 8, 80.0, 192.0, 2048.0, "US", "us-east-1"),
          ("RTX 4090", 1, 24.0, 16.0, 64.0, "DE", None),
          ("RTX 4090", 2, 24.0, 32.0, 128.0, None, "eu-1"),
          ("A100 80GB PCIe", 4, 80.0, None, 512.0, "JP", "ap-1")]  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    # monkeypatch sets the same value on every example (the one drawn for it), and undoes it
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    picks=st.lists(
        st.tuples(st.sampled_from(SHAPES), st.floats(0.1, 50), st.booleans(), rankings),
        min_size=3, max_size=25,
    ),
    chunk=st.integers(1, 6),
    memo=st.integers(1, 4),
)  # fmt: skip
def test_grouped_columns_encode_repeats_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    picks: list[tuple[tuple[object, ...], float, bool, dict[str, object]]],
    chunk: int,
    memo: int,
) -> None:
    """Rows that share a GPU and machine shape, a place or a timestamp reuse one encoding of
    those columns (across chunks, and after the memo starts afresh): every line still equals
    the row-by-row line."""
    from gpubroker.providers.base import make_offer

    monkeypatch.setattr(render, "_SEGMENT_MEMO", memo)
    made = []
    for n, ((gpu, count, memory, vcpus, ram, country, region), price, spot, _) in enumerate(picks):
        o = make_offer(
            provider="p", native_id=str(n), gpu_name_raw=gpu, gpu_count=count,
            gpu_memory_gib=memory, vcpus=vcpus, ram_gib=ram, country=country, region=region,
            spot=spot, price_per_hour_usd=price, observed_at=T0,
        )  # fmt: skip
        assert o is not None
        made.append(o)
    with Store(Path(tmp_path_factory.mktemp("groups")) / "db.sqlite", now=lambda: T0) as s:
        s.save_offers("p", made, T0)
        result = s.cached_offers("p")
        assert result is not None
        rows = {row.id: row for row in result.offers}
    ranked = [RankedRow(rows[o.id], **r) for o, (*_, r) in zip(made, picks, strict=True)]  # type: ignore[arg-type]
    expected = [render.offer_jsonl(r) for r in ranked]
    assert list(render.jsonl_lines(ranked, chunk=chunk)) == expected


def test_a_cached_negative_zero_reads_back_as_zero(store: Store) -> None:
    """The grouped JSON encoding relies on it: equal keys must encode equally, and -0.0 ==
    0.0 would otherwise share an encoding. SQLite's REAL columns give back 0.0."""
    import math

    from tests.test_store import offer as make

    row = cached(store, make("p", "negzero", ram_gib=-0.0, vcpus=-0.0, memory=-0.0))
    for value in (row.ram_gib, row.vcpus):
        assert value == 0.0 and math.copysign(1.0, value) == 1.0
