"""Broker facade: search over catalog data, sorting, grouping, errors and exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from gpubroker.broker import Broker
from gpubroker.errors import (
    NoProvidersAvailableError,
    NotFoundError,
    ProviderHTTPError,
    UnavailableError,
    UnknownProviderError,
    UsageError,
)
from gpubroker.models import Offer, ProviderState, Query, RankedOffer, Source
from gpubroker.offers import known_providers
from gpubroker.providers import PROVIDERS
from gpubroker.providers.base import CredentialSpec, FetchResult, FetchSession, Provider, make_offer
from gpubroker.providers.catalog import catalog_providers, load_catalog
from gpubroker.ranking.views import group_offers, sort_offers
from gpubroker.settings import Settings
from gpubroker.vocabulary import SORT_FIELDS

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
H100_MODELS = {"H100-SXM", "H100-PCIE", "H100-NVL"}


def offer(provider: str, native_id: str, price: float, **kw: Any) -> Offer:
    o = make_offer(
        provider=provider,
        native_id=native_id,
        gpu_name_raw=kw.pop("gpu", "H100 SXM"),
        gpu_count=kw.pop("count", 1),
        gpu_memory_gib=kw.pop("memory", 80),
        price_per_hour_usd=price,
        observed_at=T0,
        **kw,
    )
    assert o is not None
    return o


def ranked(o: Offer, rank: int, score: float = 0.5, **update: Any) -> RankedOffer:
    data = o.model_dump()
    data.update(update)
    return RankedOffer(**data, rank=rank, score=score)


@pytest.fixture
def no_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only catalog data: no live provider is registered."""
    for name in list(PROVIDERS):
        monkeypatch.delitem(PROVIDERS, name)


class Failing(Provider):
    name: ClassVar[str] = "fake"
    label: ClassVar[str] = "Fake"
    calls: ClassVar[int] = 0

    def _fetch(self, session: FetchSession) -> FetchResult:
        type(self).calls += 1
        raise ProviderHTTPError(self.name, 503, f"{self.name}: HTTP 503 Service Unavailable")


class Working(Provider):
    name: ClassVar[str] = "fake"
    label: ClassVar[str] = "Fake"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (CredentialSpec("api_key", "FAKE_API_KEY"),)

    def _fetch(self, session: FetchSession) -> FetchResult:
        return FetchResult(
            [
                offer("fake", "a", 2.0),
                offer("fake", "b", 6.0, count=2),
                offer("fake", "c", 1.0, gpu="A100 80GB"),
            ]
        )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with Broker(home=tmp_path, settings=Settings(cache_ttl_s=300), now=lambda: T0) as b:
        yield b


def catalog_h100() -> list[Offer]:
    return [o for o in load_catalog() if o.gpu_model.startswith("H100")]


# --- search over the catalog ---------------------------------------------------------------


def test_offline_search_returns_only_h100_ranked(no_live: None, broker: Broker) -> None:
    expected = catalog_h100()
    assert len(expected) > 3

    result = broker.search(Query(gpus=["h100"]), offline=True)

    assert result.total_matched == len(expected)
    assert len(result.offers) == len(expected)
    assert sorted(o.id for o in result.offers) == sorted(o.id for o in expected)
    assert {o.gpu_model for o in result.offers} <= H100_MODELS
    assert [o.rank for o in result.offers] == list(range(1, len(expected) + 1))
    scores = [o.score for o in result.offers]
    assert scores == sorted(scores, reverse=True)
    assert {o.source for o in result.offers} == {Source.CATALOG}
    assert [s.provider for s in result.statuses] == catalog_providers()
    assert {s.status for s in result.statuses} == {ProviderState.CATALOG}
    assert result.failures == []


def test_live_registry_empty_search_is_catalog_even_without_offline(
    no_live: None, broker: Broker
) -> None:
    result = broker.search(Query(gpus=["h100"]))
    assert result.total_matched == len(catalog_h100())


def test_limit_keeps_first_n_and_counts_all(no_live: None, broker: Broker) -> None:
    full = broker.search(Query(gpus=["h100"]), offline=True)

    limited = broker.search(Query(gpus=["h100"]), offline=True, limit=3)

    assert [o.id for o in limited.offers] == [o.id for o in full.offers[:3]]
    assert [o.rank for o in limited.offers] == [1, 2, 3]
    assert limited.total_matched == full.total_matched == len(catalog_h100())


def test_negative_limit_is_usage_error_and_zero_means_every_offer(
    no_live: None, broker: Broker
) -> None:
    with pytest.raises(UsageError) as info:
        broker.search(offline=True, limit=-1)
    assert str(info.value) == "limit must be 0 (every offer) or more"
    assert info.value.params == ("limit",)
    assert info.value.exit_code == 2
    every = broker.search(offline=True, limit=0)
    assert len(every.offers) == every.total_matched == len(load_catalog())


def test_sort_by_price_ascending(no_live: None, broker: Broker) -> None:
    result = broker.search(Query(gpus=["h100"]), offline=True, sort="price")

    prices = [o.price_per_hour_usd for o in result.offers]
    assert prices == sorted(o.price_per_hour_usd for o in catalog_h100())
    # Ranks are kept from the ranking, only the order changes.
    assert sorted(o.rank for o in result.offers) == list(range(1, len(prices) + 1))
    assert result.total_matched == len(prices)


def test_sort_descending_by_vram_in_search(no_live: None, broker: Broker) -> None:
    result = broker.search(offline=True, sort="-vram")

    vram = [o.gpu_memory_gib for o in result.offers]
    assert vram == sorted((o.gpu_memory_gib for o in load_catalog()), reverse=True)


def test_sort_offers_descending_puts_missing_last_and_is_stable() -> None:
    rows = [
        ranked(offer("p", "a", 1.0, memory=24), 1),
        ranked(offer("p", "b", 2.0), 2, gpu_memory_gib=None),
        ranked(offer("p", "c", 3.0, memory=80), 3),
        ranked(offer("p", "d", 4.0, memory=24), 4),
        ranked(offer("p", "e", 5.0), 5, gpu_memory_gib=None),
    ]

    assert [o.id for o in sort_offers(rows, "-vram")] == ["p:c", "p:a", "p:d", "p:b", "p:e"]
    assert [o.id for o in sort_offers(rows, "vram")] == ["p:a", "p:d", "p:c", "p:b", "p:e"]
    assert [o.id for o in sort_offers(rows, "-price")] == ["p:e", "p:d", "p:c", "p:b", "p:a"]
    assert [o.id for o in sort_offers(rows, "+Price")] == ["p:a", "p:b", "p:c", "p:d", "p:e"]


def test_bad_sort_field_is_usage_error(no_live: None, broker: Broker) -> None:
    with pytest.raises(UsageError) as info:
        broker.search(Query(gpus=["h100"]), offline=True, sort="-bogus")
    assert info.value.exit_code == 2
    assert str(info.value) == f"cannot sort by 'bogus'; fields: {', '.join(SORT_FIELDS)}"


# --- grouping --------------------------------------------------------------------------------


def test_group_offers_by_gpu() -> None:
    rows = [
        ranked(offer("x", "1", 16.0, count=8), 1, 0.9),  # H100 2.0/GPU-h
        ranked(offer("y", "2", 1.2, gpu="A100 80GB"), 2, 0.8),  # A100 1.2
        ranked(offer("y", "3", 3.0), 3, 0.7),  # H100 3.0
        ranked(offer("z", "4", 1.5), 4, 0.6),  # H100 1.5
        ranked(offer("x", "5", 5.0), 5, 0.5),  # H100 5.0
    ]

    groups = group_offers(rows, "gpu")

    assert groups == [
        {
            "gpu": "H100-SXM",
            "count": 4,
            "min_price_per_gpu_hour_usd": 1.5,
            "median_price_per_gpu_hour_usd": 2.5,
            "providers": ["x", "y", "z"],
            "best_offer_id": "x:1",
            "best_rank": 1,
            "best_score": 0.9,
            "best_price_per_hour_usd": 16.0,
            "best_gpu_count": 8,
        },
        {
            "gpu": "A100-80GB",
            "count": 1,
            "min_price_per_gpu_hour_usd": 1.2,
            "median_price_per_gpu_hour_usd": 1.2,
            "providers": ["y"],
            "best_offer_id": "y:2",
            "best_rank": 2,
            "best_score": 0.8,
            "best_price_per_hour_usd": 1.2,
            "best_gpu_count": 1,
        },
    ]


def test_group_offers_by_region_uses_dash_for_missing() -> None:
    rows = [
        ranked(offer("x", "1", 2.0, region="us-east-1"), 1),
        ranked(offer("x", "2", 3.0), 2),
        ranked(offer("x", "3", 1.0, region="us-east-1"), 3),
    ]
    groups = group_offers(rows, "region")
    assert [(g["region"], g["count"], g["best_offer_id"]) for g in groups] == [
        ("us-east-1", 2, "x:1"),
        ("-", 1, "x:2"),
    ]


def test_group_offers_of_a_real_search(no_live: None, broker: Broker) -> None:
    result = broker.search(Query(gpus=["h100"]), offline=True)

    groups = group_offers(result.offers, "gpu")

    assert sum(g["count"] for g in groups) == result.total_matched
    for g in groups:
        members = [o for o in result.offers if o.gpu_model == g["gpu"]]
        assert g["best_offer_id"] == members[0].id
        assert g["best_rank"] == min(o.rank for o in members)
        assert g["min_price_per_gpu_hour_usd"] == min(o.price_per_gpu_hour_usd for o in members)
    assert [g["best_rank"] for g in groups] == sorted(g["best_rank"] for g in groups)


def test_bad_group_is_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        group_offers([], "color")
    assert info.value.exit_code == 2
    assert str(info.value) == "cannot group by 'color'; choose one of: gpu, provider, region"


# --- failures ------------------------------------------------------------------------------


def test_strict_with_a_failing_provider_raises_unavailable(
    no_live: None, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PROVIDERS, "fake", Failing)

    with pytest.raises(UnavailableError) as info:
        broker.search(Query(gpus=["h100"]), strict=True)

    assert info.value.exit_code == 5
    assert str(info.value) == "providers failed (strict): fake (error)"


def test_failing_provider_without_strict_still_returns_the_others(
    no_live: None, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PROVIDERS, "fake", Failing)

    result = broker.search(Query(gpus=["h100"]))

    assert result.total_matched == len(catalog_h100())
    (failure,) = result.failures
    assert (failure.provider, failure.status) == ("fake", ProviderState.ERROR)
    assert failure.message == "fake: HTTP 503 Service Unavailable"


def test_all_providers_failing_with_nothing_to_show(
    no_live: None, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = type("Other", (Failing,), {"name": "other"})
    monkeypatch.setitem(PROVIDERS, "fake", Failing)
    monkeypatch.setitem(PROVIDERS, "other", other)

    with pytest.raises(NoProvidersAvailableError) as info:
        broker.search(Query(providers=["fake", "other"]))

    assert info.value.exit_code == 5
    assert str(info.value) == (
        "no provider could be reached and no cached or catalog offers exist for them: "
        "fake: HTTP 503 Service Unavailable; other: HTTP 503 Service Unavailable"
    )


def test_all_providers_failing_over_a_cache_the_filters_empty_is_no_match_not_an_outage(
    no_live: None, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cached offers exist, just none that match: that is "no match" (exit 3 in the CLI),
    not "no provider could be reached and no cached offers exist" (exit 5)."""
    monkeypatch.setitem(PROVIDERS, "fake", Working)
    monkeypatch.setenv("FAKE_API_KEY", "k")
    broker.refresh(["fake"])
    monkeypatch.setitem(PROVIDERS, "fake", Failing)

    result = broker.search(Query(providers=["fake"], gpus=["l40s"]), fresh=True)

    assert (result.total_matched, result.offers) == (0, [])
    (status,) = result.statuses
    assert (status.status, status.count) == (ProviderState.ERROR, 3)
    assert status.message == (
        "fake: HTTP 503 Service Unavailable; showing cached offers from 0s ago"
    )


def test_failing_provider_with_catalog_rows_is_not_fatal(
    no_live: None, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    lam = type("Lam", (Failing,), {"name": "lambda"})
    monkeypatch.setitem(PROVIDERS, "lambda", lam)

    result = broker.search(Query(providers=["lambda"]))

    expected = [o for o in load_catalog() if o.provider == "lambda"]
    assert result.total_matched == len(expected)
    (status,) = result.statuses
    assert status.status is ProviderState.ERROR
    assert status.message is not None
    assert status.message.startswith("lambda: HTTP 503 Service Unavailable; showing catalog")


# --- get_offer -----------------------------------------------------------------------------


def test_get_offer_from_catalog_and_unknown(no_live: None, broker: Broker) -> None:
    target = load_catalog()[0]

    assert broker.get_offer(target.id) == target

    with pytest.raises(NotFoundError) as info:
        broker.get_offer("nope:missing")
    assert info.value.exit_code == 3
    assert str(info.value) == "no offer 'nope:missing' in the cache or the catalog"


def test_get_offer_from_cache(
    no_live: None, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PROVIDERS, "fake", Working)
    monkeypatch.setenv("FAKE_API_KEY", "k")
    broker.refresh(["fake"])

    got = broker.get_offer("fake:b")

    assert got == offer("fake", "b", 6.0, count=2).model_copy(update={"source": Source.CACHE})


# --- usage errors --------------------------------------------------------------------------


def test_fresh_and_offline_contradict(no_live: None, broker: Broker) -> None:
    with pytest.raises(UsageError) as info:
        broker.search(Query(gpus=["h100"]), fresh=True, offline=True)
    assert info.value.exit_code == 2
    assert str(info.value) == "fresh and offline contradict each other"


def test_unknown_provider_lists_valid_names(no_live: None, broker: Broker) -> None:
    with pytest.raises(UnknownProviderError) as info:
        broker.search(Query(providers=["lambda", "Nope"]), offline=True)

    valid = known_providers()
    assert valid == catalog_providers()
    assert info.value.exit_code == 2
    assert info.value.name == "Nope"
    assert info.value.valid == valid
    assert str(info.value) == f"unknown provider 'Nope'; valid providers: {', '.join(valid)}"


def test_unknown_provider_with_live_registry_lists_live_ones_too(broker: Broker) -> None:
    with pytest.raises(UnknownProviderError) as info:
        broker.search(Query(providers=["nope"]), offline=True)
    assert set(PROVIDERS) <= set(info.value.valid)
    assert set(catalog_providers()) <= set(info.value.valid)


# --- refresh, history, provider info -------------------------------------------------------


def test_refresh_requires_a_live_provider(no_live: None, broker: Broker) -> None:
    with pytest.raises(UsageError) as info:
        broker.refresh(["lambda"])
    assert info.value.exit_code == 2


def test_refresh_history_and_provider_info(
    no_live: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PROVIDERS, "fake", Working)
    monkeypatch.delenv("FAKE_API_KEY", raising=False)
    clock = {"t": T0}
    with Broker(home=tmp_path, settings=Settings(), now=lambda: clock["t"]) as b:
        info = {row["provider"]: row for row in b.provider_info()}
        assert sorted(info) == sorted([*catalog_providers(), "fake"])
        assert {k: info["fake"][k] for k in ("live", "needs_auth", "credentials", "status")} == {
            "live": True,
            "needs_auth": True,
            "credentials": "api_key=missing",
            "status": "never fetched",
        }
        assert info["lambda"]["status"] == "catalog"
        assert info["lambda"]["count"] == sum(1 for o in load_catalog() if o.provider == "lambda")

        (missing,) = b.refresh(["fake"])
        assert missing.status is ProviderState.NO_CREDENTIALS

        monkeypatch.setenv("FAKE_API_KEY", "k")
        (ok,) = b.refresh(["fake"])
        assert (ok.status, ok.count) == (ProviderState.OK, 3)
        clock["t"] = T0 + timedelta(hours=1)
        b.refresh(["fake"])

        row = next(r for r in b.provider_info() if r["provider"] == "fake")
        assert (row["credentials"], row["status"], row["count"]) == ("api_key=env", "ok", 3)
        assert row["last_fetch_at"] == (T0 + timedelta(hours=1)).isoformat()

        history = b.price_history("h100", provider="fake")
        assert [
            (r["observed_at"], r["gpu_model"], r["n"], r["min_usd"], r["max_usd"]) for r in history
        ] == [
            (T0.isoformat(), "H100-SXM", 2, 2.0, 3.0),
            ((T0 + timedelta(hours=1)).isoformat(), "H100-SXM", 2, 2.0, 3.0),
        ]
        with pytest.raises(UsageError):
            b.price_history("h100", days=0)
        with pytest.raises(UnknownProviderError):
            b.price_history("h100", provider="nope")
