"""The Broker facade: the public Python API, and exactly what the CLI calls.

`Broker` builds the composition root (`gpubroker.runtime.Runtime`) and exposes one service
per capability, each in its own module:

- ``broker.offers``: search, refresh, one offer, price history, provider status
  (`gpubroker.offers.service.OfferService`);
- ``broker.gpus``: the GPU registry (`gpubroker.gpus`);
- ``broker.keys``: provider credentials in the OS keyring (`gpubroker.credentials`);
- ``broker.config``: profile settings in config.toml (`gpubroker.settings`);
- ``broker.doctor``: checks of the whole set-up (`gpubroker.doctor`);
- ``broker.account``: the hosted API for customers: login, plans, geo, subscribe, pay,
  activate, POD status (`gpubroker.api.service.AccountService`);
- ``broker.admin``: the hosted API for operators: dashboard, PODs, customers, billing,
  costs, mode, and ``broker.admin.agent`` (`gpubroker.api.service.AdminService`);
- ``broker.pods``: POD configs, estimates, deploy and lifecycle on ECS Fargate
  (`gpubroker.pods.service.PodService`; configs as ``broker.pods.configs``).

The most used calls are forwarded (``broker.search(...)`` is ``broker.offers.search(...)``).
Services are built on first use, so ``Broker()`` opens nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpubroker.models import Offer, ProviderStatus, Query, SearchResult
from gpubroker.runtime import AwsClientFactory, HttpClientFactory, ProviderFactory, Runtime

if TYPE_CHECKING:
    from gpubroker.api.service import AccountService, AdminService
    from gpubroker.config_service import ConfigService
    from gpubroker.credentials import KeyService
    from gpubroker.doctor import DoctorService
    from gpubroker.gpus import GpuRegistry
    from gpubroker.offers.service import OfferService
    from gpubroker.pods.service import PodService
    from gpubroker.settings import Settings


class Broker:
    """Everything gpubroker can do, as typed Python calls.

    Args:
        home: state directory (default ``$GPUBROKER_HOME`` or the platform app dir).
        profile: settings profile (default ``$GPUBROKER_PROFILE`` or ``default``).
        settings: explicit settings (skips config.toml and env resolution).
        overrides: settings given as flags, the highest precedence.
        now: clock, injectable for tests.
        client_factory: builds the shared provider HTTP client (tests inject mocks).
        provider_factory: builds provider instances (tests inject fakes).
        aws_client_factory: builds boto3 clients, ``(service, region) -> client``.
        runtime: a ready composition root (wins over every argument above).

    Example:
        >>> from gpubroker import Broker, Query
        >>> with Broker() as broker:  # doctest: +SKIP
        ...     result = broker.search(Query(gpus=["h100"]), offline=True)
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
        client_factory: HttpClientFactory | None = None,
        provider_factory: ProviderFactory | None = None,
        aws_client_factory: AwsClientFactory | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        self.runtime = runtime or Runtime(
            home,
            profile,
            settings=settings,
            overrides=overrides,
            now=now,
            http_client_factory=client_factory,
            provider_factory=provider_factory,
            aws_client_factory=aws_client_factory,
        )

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The resolved settings of the profile."""
        return self.runtime.settings

    @property
    def profile(self) -> str:
        return self.runtime.profile

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- services -------------------------------------------------------------------------

    @cached_property
    def offers(self) -> OfferService:
        """Search, refresh, one offer, price history, provider status."""
        from gpubroker.offers.service import OfferService

        return OfferService(self.runtime)

    @cached_property
    def gpus(self) -> GpuRegistry:
        """The GPU registry: names, aliases, specs, and the cheapest known price per model."""
        from gpubroker.gpus import GpuRegistry

        return GpuRegistry(known_offers=lambda: self.offers.known_offers())

    @cached_property
    def keys(self) -> KeyService:
        """Provider credentials: where each comes from, store and delete (never shown)."""
        from gpubroker.credentials import KeyService

        return KeyService()

    @cached_property
    def doctor(self) -> DoctorService:
        """Checks of the set-up: config, home, database, keyring, providers, AWS, API."""
        from gpubroker.doctor import DoctorService

        return DoctorService(self.runtime)

    @cached_property
    def config(self) -> ConfigService:
        """The profile's settings in config.toml: show with sources, get, set, unset."""
        from gpubroker.config_service import ConfigService

        return ConfigService(self.runtime)

    @cached_property
    def account(self) -> AccountService:
        """The hosted API for customers: login, plans, geo, subscribe, pay, activate, status."""
        from gpubroker.api.service import AccountService

        return AccountService(self.runtime)

    @cached_property
    def admin(self) -> AdminService:
        """The hosted API for operators (admin token): views, PODs, mode, ``.agent``."""
        from gpubroker.api.service import AdminService

        return AdminService(self.runtime)

    @cached_property
    def pods(self) -> PodService:
        """POD configs, estimates, deploy and the lifecycle on ECS Fargate."""
        from gpubroker.pods.service import PodService

        # The offers service is built only when an offer is picked: listing PODs never
        # imports the providers.
        return PodService(self.runtime, offers=lambda: self.offers)

    # -- the most used calls, forwarded ---------------------------------------------------

    def search(self, query: Query | None = None, **kwargs: Any) -> SearchResult:
        """`OfferService.search`: offers matching ``query``, ranked best first."""
        return self.offers.search(query, **kwargs)

    def refresh(
        self,
        providers: Sequence[str] | None = None,
        *,
        on_progress: Callable[[ProviderStatus], None] | None = None,
        accept_empty: bool = False,
    ) -> list[ProviderStatus]:
        """`OfferService.refresh`: fetch live offers now."""
        return self.offers.refresh(providers, on_progress=on_progress, accept_empty=accept_empty)

    def get_offer(self, offer_id: str) -> Offer:
        """`OfferService.get`: one offer by id, from the cache or the catalog."""
        return self.offers.get(offer_id)

    def price_history(
        self, gpu: str, *, provider: str | None = None, days: float = 30
    ) -> list[dict[str, Any]]:
        """`OfferService.history`: price percentiles per refresh for a GPU."""
        return self.offers.history(gpu, provider=provider, days=days)

    def provider_info(self) -> list[dict[str, Any]]:
        """`OfferService.provider_info`: every provider's needs and last fetch."""
        return self.offers.provider_info()


def search(
    query: Query | None = None,
    *,
    home: Path | str | None = None,
    profile: str | None = None,
    **kwargs: Any,
) -> SearchResult:
    """One search with a throwaway `Broker`: ``gpubroker.search(gpus=["h100"], offline=True)``.

    Args:
        query: the filters; or pass `Query` fields as keywords (``gpus``, ``min_gpus``,
            ``max_price_usd``, ``spot``, ``where``...), not both.
        home, profile: as for `Broker`.
        **kwargs: `Query` fields, then the options of `OfferService.search` (``preset``,
            ``weights``, ``limit``, ``offline``, ``fresh``, ``explain``, ``hours``...).

    Raises:
        UsageError: an unknown keyword, a query given both ways, or bad filters.
    """
    from gpubroker.errors import UsageError

    fields = {k: kwargs.pop(k) for k in list(kwargs) if k in Query.model_fields}
    if fields:
        if query is not None:
            raise UsageError("give either a query or query fields, not both", param="query")
        query = _query_from(fields)
    options = {"preset", "weights", "explain", "hours", "sort", "limit", "fresh", "offline",
               "strict", "on_progress"}  # fmt: skip
    unknown = sorted(set(kwargs) - options)
    if unknown:
        valid = ", ".join(sorted([*Query.model_fields, *options]))
        raise UsageError(f"search() got an unknown argument {unknown[0]!r}; valid: {valid}")
    with Broker(home, profile) as broker:
        return broker.search(query, **kwargs)


def _query_from(fields: dict[str, Any]) -> Query:
    """A `Query` from keywords; a validation error becomes a one-line `UsageError`."""
    from pydantic import ValidationError

    from gpubroker.errors import UsageError

    try:
        return Query(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "query"
        raise UsageError(f"{name}: {first['msg']}", param=name) from None


__all__ = ["Broker", "search"]
