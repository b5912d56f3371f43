"""The offers service: search, refresh, one offer, price history, provider status.

`gpubroker.broker.Broker` exposes it as ``broker.offers`` (and forwards its most used calls).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gpubroker import gpus
from gpubroker._gc import paused
from gpubroker.errors import (
    InvalidCredentialsError,
    NoProvidersAvailableError,
    NotFoundError,
    UnavailableError,
    UsageError,
)
from gpubroker.models import (
    Offer,
    ProviderState,
    ProviderStatus,
    Query,
    RankedOffer,
    SearchResult,
)
from gpubroker.models import short_id as short_id_of
from gpubroker.offers.collect import Mode, OfferCollector, known_providers, select_providers
from gpubroker.providers.catalog import load_catalog
from gpubroker.ranking import compile_query, parse_weights, place, pushdown, resolve_ranking
from gpubroker.ranking.filters import gpu_notes, is_stale, match_all, states_gpu_count
from gpubroker.ranking.views import group_columns, group_offers, sort_offers
from gpubroker.rows import OfferLike, OfferRow, RankedRow, RankedRows

if TYPE_CHECKING:
    from gpubroker.runtime import Runtime

Progress = Callable[[ProviderStatus], None]


def _mark_stale(rows: Sequence[RankedRow], now: datetime) -> None:
    """Flag rows whose price is older than `ranking.filters.STALE_AFTER` (a listing shares
    its timestamps: each distinct one is read once)."""
    seen: dict[str, bool] = {}
    for row in rows:
        offer = row.offer
        if isinstance(offer, OfferRow):
            key = offer.observed_at_json
            if key not in seen:
                seen[key] = is_stale(offer, now)
            row.stale = seen[key]
        else:
            row.stale = is_stale(offer, now)


class OfferService:
    """Find, rank and track GPU offers.

    Args:
        runtime: the composition root (settings, store, clock, factories).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collector(self) -> OfferCollector:
        rt = self.runtime
        return OfferCollector(
            rt.settings,
            rt.store_or_none(),
            client_factory=rt.http_client,
            provider_factory=rt.provider,
            now=rt.now,
            notes=rt.notes,
        )

    def _mode(self, fresh: bool, offline: bool) -> Mode:
        if fresh and offline:
            raise UsageError("fresh and offline contradict each other", param=("fresh", "offline"))
        if offline or self.runtime.settings.offline:
            return Mode.OFFLINE
        return Mode.FRESH if fresh else Mode.AUTO

    def search(
        self,
        query: Query | None = None,
        *,
        preset: str | None = None,
        weights: Mapping[str, float] | str | None = None,
        explain: bool = False,
        hours: float | None = None,
        sort: str | None = None,
        limit: int | None = None,
        fresh: bool = False,
        offline: bool = False,
        strict: bool = False,
        on_progress: Progress | None = None,
        accept_empty: bool = False,
    ) -> SearchResult:
        """Find offers matching a query, ranked with TOPSIS, best first.

        Args:
            query: filters (default: everything).
            preset: ranking preset; default from settings (``balanced``). Presets weigh
                per-GPU values unless the query states a GPU count (``min_gpus`` or
                ``gpus=["H100:8"]``), then whole-offer totals.
            weights: explicit criterion weights (a mapping, or ``"price=0.5,vram=0.5"``);
                they win over the preset.
            explain: attach per-criterion contributions.
            hours: attach the total cost for that many hours.
            sort: a field to sort by instead of rank (``-field`` descending).
            limit: keep only the first N offers (``total_matched`` counts them all);
                None or 0 keeps every offer.
            fresh: ignore the cache TTL and fetch live.
            offline: never touch the network (cache, then bundled catalog).
            strict: raise when any provider fails.
            on_progress: called with each provider's status as it answers.
            accept_empty: take a listing that collapsed against the cache (to nothing, or
                by over 90 %) at once; otherwise the cached listing is kept and shown until
                another fetch confirms the drop.

        Returns:
            The ranked offers plus one status per provider.

        Raises:
            UsageError: bad filters, names or weights (exit 2).
            NoProvidersAvailableError: every provider failed and nothing could be shown.
            UnavailableError: with ``strict``, when any provider failed.
        """
        found = self.rows(
            query, preset=preset, weights=weights, explain=explain, hours=hours, sort=sort,
            limit=limit, fresh=fresh, offline=offline, strict=strict, on_progress=on_progress,
            accept_empty=accept_empty,
        )  # fmt: skip
        return SearchResult(
            offers=[row.to_model() for row in found.offers],
            statuses=found.statuses,
            total_matched=found.total_matched,
            criteria=found.criteria,
            notes=found.notes,
        )

    @paused()
    def rows(
        self,
        query: Query | None = None,
        *,
        preset: str | None = None,
        weights: Mapping[str, float] | str | None = None,
        explain: bool = False,
        hours: float | None = None,
        sort: str | None = None,
        limit: int | None = None,
        fresh: bool = False,
        offline: bool = False,
        strict: bool = False,
        on_progress: Progress | None = None,
        accept_empty: bool = False,
    ) -> RankedRows:
        """`search`, with the offers left as light `RankedRow` objects (no pydantic models).

        What the CLI streams: at 50,000 offers, building every `RankedOffer` would cost
        seconds and hundreds of MiB. Same arguments, errors and ranking as `search`; each
        row's ``json_dict()`` equals the model's ``model_dump(mode="json")``.
        """
        query = query or Query()
        if hours is not None and hours <= 0:
            raise UsageError("hours must be positive", param="hours")
        if limit is not None and limit < 0:
            raise UsageError("limit must be 0 (every offer) or more", param="limit")
        if isinstance(weights, str):
            weights = parse_weights(weights)
        ranking = resolve_ranking(
            preset or self.runtime.settings.optimize, weights, counted=states_gpu_count(query)
        )
        now = self.runtime.now()
        predicate = compile_query(query, now=now)  # validate input before any network
        if sort:
            sort_offers([], sort)  # validate the field before any network
        providers = select_providers(query.providers or self.runtime.settings.providers)
        mode = self._mode(fresh, offline)
        collected = self.collector().collect(
            providers, mode=mode, on_progress=on_progress, pushdown=pushdown(query),
            accept_empty=accept_empty,
        )  # fmt: skip
        failed = [s for s in collected.statuses if s.failed]
        auth = (ProviderState.REJECTED, ProviderState.NO_CREDENTIALS)
        # Refused keys are an auth problem (exit 4), not an outage (exit 5).
        only_auth = bool(failed) and all(s.status in auth for s in failed)
        if strict and failed:
            names = ", ".join(f"{s.provider} ({s.status.value})" for s in failed)
            if only_auth:
                raise InvalidCredentialsError(
                    f"providers refused or lack credentials (strict): {names}",
                    hint="check them with `gpubroker keys list` and `gpubroker doctor`",
                )
            raise UnavailableError(f"providers failed (strict): {names}")
        # Nothing to show at all: no cached or catalog offer (the filters pushed into the
        # cache read may leave none that match: that is "no match", not an outage).
        nothing = not any(s.count for s in collected.statuses)
        if failed and len(failed) == len(collected.statuses) and nothing:
            detail = "; ".join(s.message or s.status.value for s in failed)
            if only_auth:
                raise InvalidCredentialsError(
                    f"no offers: the providers refused the credentials or have none: {detail}",
                    hint="check them with `gpubroker keys list` and `gpubroker doctor`",
                )
            raise NoProvidersAvailableError(
                "no provider could be reached and no cached or catalog offers exist for them: "
                + detail,
                statuses=collected.statuses,
            )
        if predicate is match_all:
            matched, collected.offers = collected.offers, []
        else:
            matched = [o for o in collected.offers if predicate(o)]
            collected.offers.clear()  # only the matches are kept
        total_matched = len(matched)
        # A --sort reorders every place, so only a ranking-ordered result stops at the limit.
        ranked = place(
            matched, ranking, explain=explain, hours=hours, limit=None if sort else limit
        )
        del matched
        if sort:
            ranked = sort_offers(ranked, sort)
        shown = ranked[:limit] if limit else ranked
        _mark_stale(shown, now)
        return RankedRows(
            offers=shown,
            statuses=collected.statuses,
            total_matched=total_matched,
            criteria=ranking.weights,
            notes=gpu_notes(query),
        )

    def known_offers(self) -> list[OfferLike]:
        """Every offer known without touching the network: per provider its cache (any age,
        as light rows), else its bundled catalog rows."""
        return self.collector().collect(mode=Mode.OFFLINE).offers

    def refresh(
        self,
        providers: Sequence[str] | None = None,
        *,
        on_progress: Progress | None = None,
        accept_empty: bool = False,
    ) -> list[ProviderStatus]:
        """Fetch live offers now from the given providers (default: all live providers).

        A listing that collapsed against the cache is kept out of it (status ``suspect``)
        until a second fetch agrees, unless ``accept_empty``.

        Raises:
            UsageError: none of the names is a live provider.
        """
        from gpubroker.providers import PROVIDERS

        names = select_providers(providers)
        live = [n for n in names if n in PROVIDERS]
        if not live:
            raise UsageError(
                f"providers: no live provider among {', '.join(names)}; "
                f"live ones: {', '.join(PROVIDERS)}",
                param="providers",
            )
        collected = self.collector().collect(
            live, mode=Mode.FRESH, on_progress=on_progress, accept_empty=accept_empty
        )
        return collected.statuses

    def get(self, offer_id: str) -> Offer:
        """One offer by id (or the short id tables show), from the cache or the catalog.

        Raises:
            NotFoundError: no such offer.
            UsageError: a short id that several offers share.
        """
        store = self.runtime.store_or_none()
        offer = store.get_offer(offer_id) if store is not None else None
        if offer is not None:
            return offer
        for offer in load_catalog():
            if offer.id == offer_id:
                return offer
        if re.fullmatch(r"[0-9a-f]{4,7}", offer_id):
            cached = store.offer_ids() if store is not None else []
            ids = [*cached, *(o.id for o in load_catalog())]
            found = sorted({i for i in ids if short_id_of(i).startswith(offer_id)})
            if len(found) > 1:
                raise UsageError(
                    f"short id {offer_id} matches {len(found)} offers: {', '.join(found[:5])}",
                    hint="give more digits or the full id",
                )
            if found:
                return self.get(found[0])
        raise NotFoundError(
            f"no offer {offer_id!r} in the cache or the catalog",
            hint="ids look like provider:native-id; run `gpubroker browse --fields id`",
        )

    def history(
        self, gpu: str, *, provider: str | None = None, days: float = 30
    ) -> list[dict[str, Any]]:
        """Price history rows (per provider, GPU model, spot) for a GPU name or family.

        Each row: ``observed_at, provider, gpu_model, spot, n, min_usd, p10_usd,
        median_usd, p90_usd, max_usd`` ($/GPU-hour), oldest first.

        Raises:
            UsageError: ``days`` not positive, an unknown GPU or provider.
        """
        if days <= 0:
            raise UsageError("days must be positive", param="days")
        names = [spec.name for spec in gpus.resolve_query(gpu)]
        if provider:
            select_providers([provider])
        rows = self.runtime.store.price_history(names, provider=provider, days=days)
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]

    @staticmethod
    def history_series(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Medians per (provider, GPU model, spot) series, oldest first, from `history` rows."""
        series: dict[tuple[str, str, bool], list[float]] = {}
        for row in rows:
            key = (row["provider"], row["gpu_model"], bool(row["spot"]))
            series.setdefault(key, []).append(row["median_usd"])
        return [
            {"provider": p, "gpu_model": m, "spot": spot, "medians_usd": medians}
            for (p, m, spot), medians in series.items()
        ]

    @staticmethod
    def group(offers: Sequence[RankedOffer | RankedRow], by: str) -> list[dict[str, Any]]:
        """One row per GPU model, provider or region (see `ranking.views.group_offers`)."""
        return group_offers(offers, by)

    @staticmethod
    def group_columns(by: str) -> list[str]:
        """Columns of a grouping (raises `UsageError` for an unknown one)."""
        return group_columns(by)

    @staticmethod
    def check_alert_targets(
        email: str | None = None, sender: str | None = None, sms: str | None = None
    ) -> None:
        """Validate alert destinations before any watching starts.

        Raises:
            UsageError: an e-mail without a sender, or a phone number not in E.164 form.
        """
        from gpubroker import notify

        if email and not sender:
            raise UsageError(
                "notify_email needs notify_from (an SES-verified sender)", param="notify_email"
            )
        if sms:
            notify.check_phone_number(sms)

    def alert(
        self,
        offers: Sequence[Offer],
        *,
        email: str | None = None,
        sender: str | None = None,
        sms: str | None = None,
    ) -> list[str]:
        """Send a match alert by e-mail (AWS SES) and/or SMS (AWS SNS); returns message ids."""
        from gpubroker import notify

        return notify.alert(
            offers,
            email=email,
            sender=sender,
            sms=sms,
            client_factory=lambda service: self.runtime.aws_client(service, None),
        )

    def provider_info(self) -> list[dict[str, Any]]:
        """Name, auth needs, credential source, last fetch and status for every provider."""
        from gpubroker import credentials
        from gpubroker.providers import PROVIDERS

        store = self.runtime.store_or_none()
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
                        "skipped": {},
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
            last = store.last_fetch(name) if store is not None else None
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
                    "skipped": last["skipped"] if last else {},
                }
            )
        return rows
