"""The Broker facade: the public Python API, and exactly what the CLI calls."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from gpubroker import gpus
from gpubroker import settings as settings_mod
from gpubroker.errors import (
    NoProvidersAvailableError,
    NotFoundError,
    UnavailableError,
    UsageError,
)
from gpubroker.models import Offer, ProviderStatus, Query, SearchResult
from gpubroker.offers import Mode, OfferCollector, known_providers, select_providers
from gpubroker.providers import PROVIDERS
from gpubroker.providers.base import Provider
from gpubroker.providers.catalog import load_catalog
from gpubroker.ranking import compile_query, rank, resolve_weights
from gpubroker.ranking.views import (
    GROUP_BY,
    SORT_FIELDS,
    group_columns,
    group_offers,
    sort_offers,
)
from gpubroker.settings import Settings
from gpubroker.store import Store


class Broker:
    """Everything gpubroker can do, as typed Python calls.

    Args:
        home: state directory (default ``$GPUBROKER_HOME`` or the platform app dir).
        profile: settings profile (default ``$GPUBROKER_PROFILE`` or ``default``).
        settings: explicit settings (skips config.toml and env resolution).
        now: clock, injectable for tests.
        client_factory: builds the shared provider HTTP client (tests inject mocks).
        provider_factory: builds provider instances (tests inject fakes).

    Example:
        >>> from gpubroker import Broker, Query
        >>> result = Broker().search(Query(gpus=["h100"]), offline=True)  # doctest: +SKIP
        >>> result.offers[0].provider  # doctest: +SKIP
        'lambda'
    """

    def __init__(
        self,
        home: Path | str | None = None,
        profile: str | None = None,
        *,
        settings: Settings | None = None,
        overrides: Mapping[str, Any] | None = None,
        now: Callable[[], datetime] | None = None,
        client_factory: Callable[[], httpx.Client] | None = None,
        provider_factory: Callable[[type[Provider], dict[str, str]], Provider] | None = None,
    ) -> None:
        self.home = Path(home).expanduser() if home is not None else None
        self.profile = profile
        self.settings = settings or settings_mod.load_settings(
            profile, dict(overrides or {}), home=self.home
        )
        self.now = now or (lambda: datetime.now(UTC))
        self._client_factory = client_factory
        self._provider_factory = provider_factory
        self._store: Store | None = None

    # -- state ----------------------------------------------------------------------------

    @property
    def home_dir(self) -> Path:
        if self.home is not None:
            self.home.mkdir(parents=True, exist_ok=True)
            return self.home
        return settings_mod.home_dir()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(settings_mod.db_path(self.home_dir), now=self.now)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def collector(self) -> OfferCollector:
        return OfferCollector(
            self.settings,
            self.store,
            client_factory=self._client_factory,
            provider_factory=self._provider_factory,
            now=self.now,
        )

    # -- offers ---------------------------------------------------------------------------

    def _mode(self, fresh: bool, offline: bool) -> Mode:
        if fresh and offline:
            raise UsageError("--fresh and --offline contradict each other")
        if offline or self.settings.offline:
            return Mode.OFFLINE
        return Mode.FRESH if fresh else Mode.AUTO

    def search(
        self,
        query: Query | None = None,
        *,
        preset: str | None = None,
        weights: Mapping[str, float] | None = None,
        explain: bool = False,
        hours: float | None = None,
        sort: str | None = None,
        limit: int | None = None,
        fresh: bool = False,
        offline: bool = False,
        strict: bool = False,
        on_progress: Callable[[ProviderStatus], None] | None = None,
    ) -> SearchResult:
        """Find offers matching a query, ranked with TOPSIS, best first.

        Args:
            query: filters (default: everything).
            preset: ranking preset; default from settings (``balanced``).
            weights: explicit criterion weights; win over the preset.
            explain: attach per-criterion contributions.
            hours: attach the total cost for that many hours.
            sort: a field to sort by instead of rank (``-field`` descending).
            limit: keep only the first N offers (``total_matched`` counts them all).
            fresh: ignore the cache TTL and fetch live.
            offline: never touch the network (cache, then bundled catalog).
            strict: raise when any provider fails.

        Returns:
            The ranked offers plus one status per provider.

        Raises:
            UsageError: bad filters, names or weights (exit 2).
            NoProvidersAvailableError: every provider failed and nothing could be shown.
            UnavailableError: with ``strict``, when any provider failed.
        """
        query = query or Query()
        if hours is not None and hours <= 0:
            raise UsageError("--hours must be positive")
        if limit is not None and limit < 1:
            raise UsageError("--limit must be at least 1")
        chosen_weights = resolve_weights(preset or self.settings.optimize, weights)
        predicate = compile_query(query)  # validate input before any network
        providers = select_providers(query.providers or self.settings.providers)
        mode = self._mode(fresh, offline)
        collected = self.collector().collect(providers, mode=mode, on_progress=on_progress)
        failed = [s for s in collected.statuses if s.failed]
        if strict and failed:
            names = ", ".join(f"{s.provider} ({s.status.value})" for s in failed)
            raise UnavailableError(f"--strict: providers failed: {names}")
        if failed and len(failed) == len(collected.statuses) and not collected.offers:
            raise NoProvidersAvailableError(
                "no provider could be reached and no cached or catalog offers exist for them: "
                + "; ".join(s.message or s.status.value for s in failed)
            )
        matched = [o for o in collected.offers if predicate(o)]
        ranked = rank(matched, weights=chosen_weights, explain=explain, hours=hours)
        if sort:
            ranked = sort_offers(ranked, sort)
        shown = ranked[:limit] if limit else ranked
        return SearchResult(
            offers=shown,
            statuses=collected.statuses,
            total_matched=len(ranked),
            criteria=chosen_weights,
        )

    def refresh(
        self,
        providers: Sequence[str] | None = None,
        *,
        on_progress: Callable[[ProviderStatus], None] | None = None,
    ) -> list[ProviderStatus]:
        """Fetch live offers now from the given providers (default: all live providers)."""
        names = select_providers(providers)
        live = [n for n in names if n in PROVIDERS]
        if not live:
            raise UsageError(
                f"no live provider among {', '.join(names)}; live ones: {', '.join(PROVIDERS)}"
            )
        return self.collector().collect(live, mode=Mode.FRESH, on_progress=on_progress).statuses

    def get_offer(self, offer_id: str) -> Offer:
        """One offer by id, from the cache or the catalog.

        Raises:
            NotFoundError: no such offer.
        """
        offer = self.store.get_offer(offer_id)
        if offer is not None:
            return offer
        for offer in load_catalog():
            if offer.id == offer_id:
                return offer
        raise NotFoundError(
            f"no offer {offer_id!r} in the cache or the catalog",
            hint="ids look like provider:native-id; run `gpubroker browse --fields id`",
        )

    def price_history(
        self, gpu: str, *, provider: str | None = None, days: float = 30
    ) -> list[dict[str, Any]]:
        """Price history rows (per provider, GPU model, spot) for a GPU name or family."""
        if days <= 0:
            raise UsageError("--days must be positive")
        names = [spec.name for spec in gpus.resolve_query(gpu)]
        if provider:
            select_providers([provider])
        return self.store.price_history(names, provider=provider, days=days)

    def provider_info(self) -> list[dict[str, Any]]:
        """Name, auth needs, credential source, last fetch and status for every provider."""
        from gpubroker import credentials

        rows = []
        for name in known_providers():
            cls = PROVIDERS.get(name)
            if cls is None:
                rows.append(
                    {
                        "provider": name,
                        "label": name,
                        "live": False,
                        "needs_auth": False,
                        "credentials": "n/a",
                        "last_fetch_at": None,
                        "status": "catalog",
                        "count": sum(1 for o in load_catalog() if o.provider == name),
                        "latency_ms": None,
                    }
                )
                continue
            states = credentials.states(cls)
            if not states:
                cred = "aws chain" if name == "aws" else "none needed"
            else:
                cred = ", ".join(
                    f"{s.field}={s.source}" + ("" if s.required else " (optional)") for s in states
                )
            last = self.store.last_fetch(name)
            rows.append(
                {
                    "provider": name,
                    "label": cls.label,
                    "live": True,
                    "needs_auth": cls.needs_auth(),
                    "credentials": cred,
                    "last_fetch_at": last["started_at"] if last else None,
                    "status": last["status"] if last else "never fetched",
                    "count": last["count"] if last else None,
                    "latency_ms": last["latency_ms"] if last else None,
                }
            )
        return rows


def search(query: Query | None = None, **kwargs: Any) -> SearchResult:
    """Shortcut for ``Broker().search(query, **kwargs)``."""
    with Broker() as broker:
        return broker.search(query, **kwargs)


__all__ = [
    "GROUP_BY",
    "SORT_FIELDS",
    "Broker",
    "group_columns",
    "group_offers",
    "rank",
    "search",
    "sort_offers",
]
