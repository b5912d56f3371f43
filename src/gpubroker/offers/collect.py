"""Collect offers from every selected provider: live, cache, or the bundled catalog.

For each provider, the freshest source that works is used:

1. the local cache while it is younger than the TTL (no network at all);
2. a live fetch (all providers concurrently, per-provider timeout, overall deadline,
   retries inside the HTTP transport); success refreshes the cache and appends history;
3. when the live fetch fails or credentials are missing: the stale cache, then the
   provider's rows of the bundled catalog, each labelled with its age.

Partial failure is data: every provider gets a `ProviderStatus`; one failing provider never
hides the others.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from gpubroker import credentials
from gpubroker.errors import (
    CredentialsError,
    GpubrokerError,
    InvalidCredentialsError,
    MissingCredentialsError,
    ProviderResponseError,
    ProviderTimeoutError,
    StoreError,
    UnknownProviderError,
)
from gpubroker.models import Offer, ProviderState, ProviderStatus
from gpubroker.providers import provider_names
from gpubroker.providers.base import FetchResult, Provider
from gpubroker.providers.catalog import catalog_providers, load_catalog
from gpubroker.ranking.filters import Pushdown
from gpubroker.remote import known_secrets, redact_error, redact_known
from gpubroker.rows import OfferLike
from gpubroker.settings import Settings
from gpubroker.store import CachedOffers, Store
from gpubroker.textfmt import humanize_age

if TYPE_CHECKING:
    import httpx

ProviderFactory = Callable[[type[Provider], dict[str, str]], Provider]
ClientFactory = Callable[[], "httpx.Client"]


class Mode(StrEnum):
    AUTO = "auto"  # cache within TTL, else live, else fallbacks
    FRESH = "fresh"  # always live first
    OFFLINE = "offline"  # never touch the network


def known_providers() -> list[str]:
    """Every provider name: registered live providers plus catalog-only ones."""
    return sorted(set(provider_names()) | set(catalog_providers()))


def select_providers(names: Sequence[str] | None) -> list[str]:
    """Validate provider names (comma lists allowed); empty means all."""
    valid = known_providers()
    chosen: list[str] = []
    for item in names or []:
        for part in item.split(","):
            key = part.strip().lower()
            if not key:
                continue
            if key not in valid:
                raise UnknownProviderError(part.strip(), valid)
            if key not in chosen:
                chosen.append(key)
    return chosen or valid


@dataclass
class Collected:
    """Offers from every provider (live and catalog `Offer` s, cached `OfferRow` s) and
    one status per provider."""

    offers: list[OfferLike] = field(default_factory=list)
    statuses: list[ProviderStatus] = field(default_factory=list)


@dataclass
class _Outcome:
    provider: str
    result: FetchResult | None = None
    error: GpubrokerError | None = None
    latency_ms: float | None = None


def _catalog_for(provider: str) -> list[Offer]:
    return [o for o in load_catalog() if o.provider == provider]


def _catalog_month(offers: Sequence[Offer]) -> str:
    months = sorted({o.observed_at.strftime("%Y-%m") for o in offers})
    return months[-1] if months else "?"


class OfferCollector:
    """Fan out to providers and fall back gracefully.

    Args:
        settings: timeouts, TTL.
        store: the cache and history (None: no cache, used by pure offline catalog search).
        client_factory: builds the shared HTTP client (tests inject mock transports).
        provider_factory: builds a provider from its class and credentials.
        now: clock.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store | None,
        *,
        client_factory: ClientFactory,
        provider_factory: ProviderFactory,
        now: Callable[[], datetime] | None = None,
        notes: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        #: Where problems with the cache go (a damaged database read is not a failed search).
        self.notes = notes if notes is not None else []
        self.now = now or (lambda: datetime.now(UTC))
        self.client_factory = client_factory
        self.provider_factory = provider_factory
        self._cache_reads: dict[str, CachedOffers | None] = {}
        self._pushdown: Pushdown | None = None
        self._accept_empty = False

    # -- public ---------------------------------------------------------------------------

    def collect(
        self,
        providers: Sequence[str] | None = None,
        *,
        mode: Mode = Mode.AUTO,
        on_progress: Callable[[ProviderStatus], None] | None = None,
        pushdown: Pushdown | None = None,
        accept_empty: bool = False,
    ) -> Collected:
        """Offers of every named provider, from the freshest source that works.

        Args:
            providers: provider names (default: all).
            mode: cache within its TTL (auto), always live (fresh), or never live (offline).
            on_progress: called with each live provider's status as it answers.
            pushdown: filters the cache read applies in SQL (a hint: cached rows that
                cannot match are not read; statuses still count every cached offer).
            accept_empty: take a listing that collapsed against the cached one at once
                (otherwise the cache is kept until a second fetch confirms the drop).
        """
        names = select_providers(providers)
        self._cache_reads = {}
        self._pushdown = pushdown
        self._accept_empty = accept_empty
        result = Collected()
        to_fetch: list[tuple[str, Provider]] = []
        now = self.now()
        live = set(provider_names())
        for name in names:
            if name not in live:  # catalog-only provider
                self._add_catalog(result, name)
                continue
            cached = self._cached(name) if mode is not Mode.FRESH else None
            if cached is not None:
                age = cached.age_s(now)
                if mode is Mode.OFFLINE or age <= self.settings.cache_ttl_s:
                    state = ProviderState.CACHED
                    if age > self.settings.cache_ttl_s:
                        state = ProviderState.STALE
                    self._add(
                        result, name, cached.offers, state, age_s=age, count=cached.total,
                        skipped=self._skipped_behind_cache(name),
                    )  # fmt: skip
                    continue
            if mode is Mode.OFFLINE:
                self._add_catalog(result, name)
                continue
            from gpubroker.providers import PROVIDERS  # the classes: only to go live

            cls = PROVIDERS[name]
            try:
                creds = credentials.resolve(cls)
            except MissingCredentialsError as exc:
                self._fallback(result, name, ProviderState.NO_CREDENTIALS, str(exc), exc.hint)
                continue
            to_fetch.append((name, self.provider_factory(cls, creds)))
        if to_fetch:
            self._fetch_all(result, to_fetch, on_progress)
        order = {name: i for i, name in enumerate(names)}
        result.statuses.sort(key=lambda s: order.get(s.provider, len(order)))
        return result

    # -- internals ------------------------------------------------------------------------

    def _add(
        self,
        result: Collected,
        name: str,
        offers: Sequence[OfferLike],
        state: ProviderState,
        *,
        count: int | None = None,
        age_s: float | None = None,
        latency_ms: float | None = None,
        message: str | None = None,
        truncated: bool = False,
        skipped: dict[str, int] | None = None,
    ) -> None:
        result.offers.extend(offers)
        result.statuses.append(
            ProviderStatus(
                provider=name,
                status=state,
                count=len(offers) if count is None else count,
                age_s=round(age_s, 1) if age_s is not None else None,
                latency_ms=round(latency_ms, 1) if latency_ms is not None else None,
                message=message,
                truncated=truncated,
                skipped=skipped or {},
            )
        )

    def _skipped_behind_cache(self, name: str) -> dict[str, int]:
        """Rows the fetch that filled the cache left out, by reason (for the cached status)."""
        try:
            last = self.store.last_fetch(name, ok_only=True) if self.store is not None else None
        except StoreError:
            last = None
        return dict(last["skipped"]) if last else {}

    def _cached(self, name: str) -> CachedOffers | None:
        """A provider's cache, read from the store at most once per collect."""
        if self.store is None:
            return None
        if name not in self._cache_reads:
            try:
                self._cache_reads[name] = self.store.cached_offers(name, self._pushdown)
            except StoreError as exc:
                self._cache_left_out(exc)
                self._cache_reads[name] = None
        return self._cache_reads[name]

    def _cached_total(self, name: str) -> int:
        """How many offers a provider has cached, without reading them (0 when unreadable)."""
        if self.store is None:
            return 0
        if name in self._cache_reads:
            cached = self._cache_reads[name]
            return cached.total if cached is not None else 0
        try:
            return self.store.cached_total(name)
        except StoreError as exc:
            self._cache_left_out(exc)
            return 0

    def _cache_left_out(self, exc: StoreError) -> None:
        note = f"{exc.message}; the cache is left out"
        if note not in self.notes:
            self.notes.append(note)

    def _catalog_age_s(self, offers: Sequence[Offer]) -> float | None:
        return (self.now() - max(o.observed_at for o in offers)).total_seconds() if offers else None

    def _add_catalog(self, result: Collected, name: str) -> None:
        offers = _catalog_for(name)
        note = f"bundled catalog prices as of {_catalog_month(offers)}" if offers else None
        self._add(
            result, name, offers, ProviderState.CATALOG, age_s=self._catalog_age_s(offers),
            message=note,
        )  # fmt: skip

    def _fallback(
        self,
        result: Collected,
        name: str,
        state: ProviderState,
        message: str,
        hint: str | None = None,
        latency_ms: float | None = None,
    ) -> None:
        """Record a failure, showing the stale cache or else the catalog in its place."""
        suffix = f" ({hint})" if hint else ""
        cached = self._cached(name)
        if cached is not None and cached.total:
            cache_age = cached.age_s(self.now())
            note = f"{message}; showing cached offers from {humanize_age(cache_age)} ago{suffix}"
            self._add(
                result,
                name,
                cached.offers,
                state,
                count=cached.total,
                age_s=cache_age,
                message=note,
                latency_ms=latency_ms,
            )
            return
        offers = _catalog_for(name)
        if offers:
            note = f"{message}; showing catalog prices as of {_catalog_month(offers)}{suffix}"
        else:
            note = message + suffix
        age = self._catalog_age_s(offers)
        self._add(result, name, offers, state, age_s=age, message=note, latency_ms=latency_ms)

    def _fetch_all(
        self,
        result: Collected,
        jobs: list[tuple[str, Provider]],
        on_progress: Callable[[ProviderStatus], None] | None,
    ) -> None:
        per_provider = self.settings.provider_timeout_s
        overall = self.settings.deadline_s
        started = time.monotonic()
        started_at = self.now()
        budget = min(per_provider, overall)
        deadline = started + budget
        outcomes: dict[str, _Outcome] = {}
        finished: queue.Queue[_Outcome] = queue.Queue()
        client = self.client_factory()
        try:
            # Daemon threads, not an executor: a provider stuck past its deadline must not
            # keep the process alive after we have stopped waiting for it.
            for _, provider in jobs:
                threading.Thread(
                    target=lambda p=provider: finished.put(self._fetch_one(p, client, deadline)),
                    name=f"gpubroker-fetch-{provider.name}",
                    daemon=True,
                ).start()
            # A little grace past the budget lets a provider report its own timeout.
            wait_until = started + budget + 0.5
            while len(outcomes) < len(jobs):
                remaining = wait_until - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    outcome = finished.get(timeout=remaining)
                except queue.Empty:
                    break
                outcomes[outcome.provider] = outcome
                if on_progress is not None:
                    on_progress(self._status_of(outcome))
        finally:
            if len(outcomes) == len(jobs):
                client.close()
            # else: a straggler may still use the client; it dies with the process.
        for name, _provider in jobs:
            outcome = outcomes.get(name) or _Outcome(
                name,
                error=ProviderTimeoutError(name, f"{name}: no answer within {budget:g}s"),
                latency_ms=budget * 1000,
            )
            self._settle(result, outcome, started_at)

    def _fetch_one(self, provider: Provider, client: httpx.Client, deadline: float) -> _Outcome:
        t0 = time.monotonic()
        try:
            # What we fetch is cached for every later query, so a provider returns its whole
            # listing here, never a filtered slice of it.
            result = provider.fetch(client, deadline=deadline)
        except GpubrokerError as exc:
            redact_error(exc, known_secrets())  # every later use of it shows no key
            return _Outcome(provider.name, error=exc, latency_ms=(time.monotonic() - t0) * 1000)
        except Exception as exc:  # a provider bug must not take the others down
            err = GpubrokerError(
                redact_known(f"{provider.name}: internal error ({type(exc).__name__}: {exc})")
            )
            return _Outcome(provider.name, error=err, latency_ms=(time.monotonic() - t0) * 1000)
        return _Outcome(provider.name, result=result, latency_ms=(time.monotonic() - t0) * 1000)

    @staticmethod
    def _state_of(error: GpubrokerError) -> ProviderState:
        if isinstance(error, ProviderTimeoutError):
            return ProviderState.TIMEOUT
        if isinstance(error, MissingCredentialsError):
            return ProviderState.NO_CREDENTIALS
        if isinstance(error, InvalidCredentialsError):
            return ProviderState.REJECTED
        return ProviderState.ERROR

    def _status_of(self, outcome: _Outcome) -> ProviderStatus:
        if outcome.error is not None:
            return ProviderStatus(
                provider=outcome.provider,
                status=self._state_of(outcome.error),
                message=str(outcome.error),  # redacted where it was caught
                latency_ms=outcome.latency_ms,
            )
        fetched = outcome.result or FetchResult([])
        return ProviderStatus(
            provider=outcome.provider,
            status=ProviderState.OK,
            count=len(fetched.offers),
            latency_ms=outcome.latency_ms,
            truncated=fetched.truncated,
            skipped=dict(fetched.skipped),
        )

    def _settle(self, result: Collected, outcome: _Outcome, started_at: datetime) -> None:
        outcome = _reject_all_junk(outcome)
        fetched = outcome.result or FetchResult([])
        collapse = None if outcome.error is not None else self._collapse(outcome.provider, fetched)
        status = self._status_of(outcome)
        if collapse is not None:
            status = status.model_copy(update={"status": ProviderState.SUSPECT})
        cache_note = self._store_quietly(lambda: self._store_fetch(status, started_at))
        if outcome.error is not None:
            hint = outcome.error.hint if isinstance(outcome.error, CredentialsError) else None
            self._fallback(
                result,
                outcome.provider,
                status.status,
                str(outcome.error),
                hint,
                latency_ms=outcome.latency_ms,
            )
            return
        if collapse is not None:
            # Keep and show the cached listing; the drop is only believed once confirmed.
            self._fallback(
                result, outcome.provider, ProviderState.SUSPECT, collapse,
                latency_ms=outcome.latency_ms,
            )  # fmt: skip
            return
        save_note = self._store_quietly(
            lambda: self._store_offers(outcome.provider, fetched.offers, started_at)
        )
        notes = [n for n in (cache_note, save_note) if n]
        self._add(
            result,
            outcome.provider,
            fetched.offers,
            ProviderState.OK,
            latency_ms=outcome.latency_ms,
            truncated=fetched.truncated,
            skipped=dict(fetched.skipped),
            message=notes[0] if notes else None,
        )

    # -- the cache, best effort -----------------------------------------------------------

    def _store_fetch(self, status: ProviderStatus, started_at: datetime) -> None:
        if self.store is not None:
            self.store.record_fetch(status, started_at, busy_timeout_s=CACHE_WRITE_TIMEOUT_S)

    def _store_offers(self, provider: str, offers: Sequence[Offer], started_at: datetime) -> None:
        if self.store is not None:
            self.store.save_offers(
                provider, offers, started_at,
                keep_days=self.settings.history_days, busy_timeout_s=CACHE_WRITE_TIMEOUT_S,
            )  # fmt: skip

    @staticmethod
    def _store_quietly(write: Callable[[], None]) -> str | None:
        """Run a cache write; a failure (read-only, locked, broken database) costs the cache,
        never the offers just fetched: it becomes a note on the status instead."""
        try:
            write()
        except StoreError as exc:
            return f"offers shown live but not cached ({exc.message})"
        return None

    def _collapse(self, name: str, fetched: FetchResult) -> str | None:
        """Why a listing looks collapsed against the cached one, or None when it does not."""
        if self._accept_empty or self.store is None:
            return None
        before = self._cached_total(name)
        after = len(fetched.offers)
        if before == 0 or (after > 0 and (before < MIN_COLLAPSE_BASE or after >= before / 10)):
            return None
        try:
            last = self.store.last_fetch(name)
        except StoreError:
            last = None
        if last is not None and last.get("status") == ProviderState.SUSPECT.value:
            earlier = int(last.get("count") or 0)
            if abs(earlier - after) <= max(1, after // 10):
                return None  # a second fetch agrees: the drop is real
        return (
            f"{name}: the listing dropped from {before} to {after} offers; keeping the cached "
            "listing until another fetch confirms the drop (or `gpubroker offers refresh "
            f"--provider {name} --accept-empty`)"
        )


#: Cache writes wait this long for another writer, then give up (the offers stay shown).
CACHE_WRITE_TIMEOUT_S = 5.0
#: A listing this small may shrink freely; a bigger one that loses over 90 % is suspect.
MIN_COLLAPSE_BASE = 10


def _reject_all_junk(outcome: _Outcome) -> _Outcome:
    """A listing whose every row was rejected is a payload error, not an empty market."""
    fetched = outcome.result
    if outcome.error is not None or fetched is None or fetched.offers:
        return outcome
    rejected = sum(fetched.skipped.values())
    if not rejected:
        return outcome
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(fetched.skipped.items()))
    error = ProviderResponseError(
        outcome.provider,
        f"{outcome.provider}: every one of the {rejected} rows it returned was rejected "
        f"({reasons})",
    )
    return _Outcome(outcome.provider, error=error, latency_ms=outcome.latency_ms)
