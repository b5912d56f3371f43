"""Hypothesis strategies shared by the tests of the offers cache, rows and rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from gpubroker.models import Availability, Offer, Source

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
#: Extras as providers hand them over: mostly plain JSON, sometimes what only the model's
#: JSON can write (NaN and infinity become null, dates become text, tuples lists).
extras = st.dictionaries(
    st.text(max_size=10),
    json_values
    | st.just(float("nan"))
    | st.just(float("inf"))
    | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
    | st.tuples(st.integers(0, 9), st.text(max_size=3)),
    max_size=5,
)
#: Text as hostile providers send it: any code point but lone surrogates (which the model
#: accepts and the store replaces, tested on their own), NUL and control characters included.
text = st.text(max_size=24)
optional_text = st.none() | text
#: Optional amounts: finite, or infinite (which the JSON cache of earlier versions stored as
#: null: the typed cache must too).
amounts = st.none() | st.floats(min_value=0, allow_nan=False) | st.just(float("inf"))
prices = st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False)
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30)), None]
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=zones
)


def offers(provider: str = "p") -> st.SearchStrategy[Offer]:
    """Valid offers of one provider, with every field exercised."""
    fields: dict[str, st.SearchStrategy[Any]] = {
        "id": text.map(lambda s: f"{provider}:{s}"),
        "provider": st.just(provider),
        "instance_type": optional_text,
        "gpu_model": text,
        "gpu_name_raw": text,
        "gpu_count": st.integers(min_value=1, max_value=1024),
        "gpu_memory_gib": amounts,
        "vcpus": amounts,
        "ram_gib": amounts,
        "disk_gib": amounts,
        "price_per_hour_usd": prices,
        "price_per_gpu_hour_usd": prices,
        "spot": st.booleans(),
        "region": optional_text,
        "country": optional_text,
        "availability": st.sampled_from(Availability),
        "reliability": st.none() | st.floats(min_value=0, max_value=1),
        "cuda_version": optional_text,
        "observed_at": moments,
        "source": st.sampled_from(Source),
        "source_url": optional_text,
        "extras": extras,
    }
    return st.fixed_dictionaries(fields).map(Offer.model_validate)


def as_cached_before(offer: Offer) -> Offer:
    """What the JSON cache of earlier versions gave back for an offer: its
    ``model_dump_json``, validated again, marked ``source=cache``. The typed cache must
    give back exactly this."""
    data = json.loads(offer.model_dump_json())
    data["source"] = Source.CACHE.value
    return Offer.model_validate(data)
