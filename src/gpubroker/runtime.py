"""The composition root: the one object that owns what every service needs.

A `Runtime` holds the profile, the settings, the home directory, the store, the clock, and
the factories for HTTP clients, providers and AWS clients. `gpubroker.broker.Broker` builds
one and hands it to each service (offers, pods, account, admin); tests inject fakes here and
nowhere else. Nothing is opened or read until first used, so ``Broker()`` is cheap and a
broken config file does not stop the commands that repair it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpubroker import settings as settings_mod
from gpubroker.settings import Settings

if TYPE_CHECKING:
    import httpx

    from gpubroker.providers.base import Provider, TokenCache
    from gpubroker.store import Store

Clock = Callable[[], datetime]
HttpClientFactory = Callable[[], "httpx.Client"]
ProviderFactory = Callable[[type["Provider"], dict[str, str]], "Provider"]
#: ``(service_name, region_name or None) -> boto3 client``
AwsClientFactory = Callable[[str, str | None], Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    """Settings, state and I/O factories for one `Broker`.

    Args:
        home: state directory (default ``$GPUBROKER_HOME`` or the platform app dir).
        profile: settings profile (default ``$GPUBROKER_PROFILE`` or ``default``).
        settings: explicit settings (skips config.toml and env resolution).
        overrides: settings given as flags, the highest precedence.
        now: the clock.
        http_client_factory: builds the shared HTTP client for provider fetches.
        provider_factory: builds a provider from its class and resolved credentials.
        aws_client_factory: builds boto3 clients (``(service, region)``).
    """

    def __init__(
        self,
        home: Path | str | None = None,
        profile: str | None = None,
        *,
        settings: Settings | None = None,
        overrides: Mapping[str, Any] | None = None,
        now: Clock | None = None,
        http_client_factory: HttpClientFactory | None = None,
        provider_factory: ProviderFactory | None = None,
        aws_client_factory: AwsClientFactory | None = None,
    ) -> None:
        self._home = Path(home).expanduser() if home is not None else None
        self.profile = settings_mod.resolve_profile(profile)
        self._profile_arg = profile
        self._settings = settings
        self._overrides = dict(overrides or {})
        self.now: Clock = now or utc_now
        self._http_client_factory = http_client_factory
        self._provider_factory = provider_factory
        self._aws_client_factory = aws_client_factory
        self._store: Store | None = None
        self._tokens: TokenCache | None = None
        #: Warnings found while reading settings (unknown keys, renamed settings).
        self.notes: list[str] = []
        self._lock = threading.Lock()

    # -- settings and paths ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The resolved settings (flag > env > config.toml > defaults), read on first use.

        Raises:
            ConfigError: an invalid config file, profile or value.
        """
        if self._settings is None:
            self._settings = settings_mod.load_settings(
                self._profile_arg, self._overrides, home=self._home, notes=self.notes
            )
        return self._settings

    @property
    def home(self) -> Path:
        """The state directory, created on first use."""
        if self._home is not None:
            self._home.mkdir(parents=True, exist_ok=True)
            return self._home
        return settings_mod.home_dir()

    @property
    def home_arg(self) -> Path | None:
        """The explicitly given home (None: ``$GPUBROKER_HOME`` or the app dir)."""
        return self._home

    @property
    def config_path(self) -> Path:
        return settings_mod.config_path(self._home)

    @property
    def db_path(self) -> Path:
        return settings_mod.db_path(self.home)

    # -- state ----------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The SQLite store, opened (and migrated) on first use."""
        with self._lock:
            if self._store is None:
                from gpubroker.store import Store

                self._store = Store(self.db_path, now=self.now)
                self.notes.extend(self._store.notes)
            return self._store

    def store_or_none(self) -> Store | None:
        """The store, or None (with a note) when it cannot be opened: for work the cache
        only speeds up, such as a search that can answer from the providers or the
        catalog."""
        from gpubroker.errors import StoreError

        try:
            return self.store
        except StoreError as exc:
            note = f"{exc.message}; working without the cache"
            if note not in self.notes:
                self.notes.append(note)
            return None

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # -- I/O factories --------------------------------------------------------------------

    @property
    def tokens(self) -> TokenCache:
        """OAuth tokens shared by every provider built here (in memory only)."""
        if self._tokens is None:
            from gpubroker.providers.base import TokenCache

            self._tokens = TokenCache()
        return self._tokens

    def http_client(self) -> httpx.Client:
        """A new shared client for one fan-out (timeouts, retries, User-Agent)."""
        if self._http_client_factory is not None:
            return self._http_client_factory()
        from gpubroker.http import make_client

        return make_client(timeout_s=self.settings.provider_timeout_s)

    def provider(self, cls: type[Provider], creds: dict[str, str]) -> Provider:
        """A provider instance with its credentials, regions, clock and token cache."""
        if self._provider_factory is not None:
            return self._provider_factory(cls, creds)
        regions = self.settings.regions.get(cls.name) or None  # None: the provider's defaults
        limit = self.settings.row_limits.get(cls.name)
        options = {"limit": limit} if limit is not None else None
        return cls(creds, now=self.now, regions=regions, tokens=self.tokens, options=options)

    def aws_client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client from the standard credential chain (``AWS_ENDPOINT_URL`` honoured)."""
        if self._aws_client_factory is not None:
            return self._aws_client_factory(service, region)
        import boto3

        return boto3.client(service, region_name=region)  # type: ignore[call-overload]
