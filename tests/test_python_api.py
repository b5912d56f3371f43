"""The Python API as a user meets it: the search shortcut, re-ranking, help()."""

from __future__ import annotations

import pydoc

import pytest

import gpubroker
from gpubroker.errors import UsageError


def test_search_takes_the_query_fields_as_keywords() -> None:
    result = gpubroker.search(gpus=["h100"], min_gpus=8, offline=True, preset="cost")
    assert result.offers
    assert all(o.gpu_model.startswith("H100") and o.gpu_count >= 8 for o in result.offers)
    prices = [o.price_per_hour_usd for o in result.offers]
    assert prices[0] == min(prices)


def test_search_rejects_unknown_keywords_and_double_queries() -> None:
    with pytest.raises(UsageError, match="unknown argument 'gpu'"):
        gpubroker.search(gpu="h100", offline=True)
    with pytest.raises(UsageError, match="either a query or query fields"):
        gpubroker.search(gpubroker.Query(), gpus=["h100"], offline=True)
    with pytest.raises(UsageError) as info:
        gpubroker.search(min_gpus=0, offline=True)
    assert info.value.params == ("min_gpus",)


def test_ranked_offers_can_be_ranked_again() -> None:
    """README's `rank(result.offers, ...)` used to raise TypeError (rank given twice)."""
    result = gpubroker.search(gpus=["a100"], offline=True, limit=0)
    again = gpubroker.rank(result.offers, weights={"price": 1})
    assert [o.rank for o in again] == list(range(1, len(again) + 1))
    assert again[0].price_per_hour_usd == min(o.price_per_hour_usd for o in result.offers)


def test_help_is_short_and_names_the_entry_points() -> None:
    text = pydoc.render_doc(gpubroker, renderer=pydoc.plaintext)
    assert len(text.splitlines()) < 400
    for name in ("Broker", "search", "Query", "Offer", "rank", "topsis", "GpubrokerError"):
        assert name in text
    assert "model_validate_json" not in text  # no pydantic boilerplate
    assert "Offer" in gpubroker.__all__  # still exported and importable
    assert gpubroker.Offer.__name__ == "Offer"
