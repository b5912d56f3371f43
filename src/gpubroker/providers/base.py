"""The provider contract: one class per provider, pure constructors, one I/O method.

A provider module defines ``class <Name>Provider(Provider)`` whose ``_fetch(session)`` does
only the HTTP (or boto3) calls and returns a `FetchResult`, and a pure module-level
``parse_offers(payload, ...)`` that maps the raw payload to `Offer` objects, validating it
with small private pydantic models and counting every row it leaves out in a `Skips`.

Callers use `Provider.fetch(client, deadline=...)`: it opens a `FetchSession` (the shared
client, the deadline, concurrency) and translates every failure into the error tree through
`gpubroker.remote`, with the provider's secrets redacted. Results come back only through
the returned `FetchResult`; nothing is handed back through attributes.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from gpubroker import gpus
from gpubroker.errors import (
    MissingCredentialsError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from gpubroker.models import Availability, Offer, Source
from gpubroker.textfmt import sanitize

if TYPE_CHECKING:
    # Imported where used: the catalog and the cache need this module, not the network.
    import httpx

_log = logging.getLogger("gpubroker.providers")
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class CredentialSpec:
    """A credential a provider declares; resolved by `gpubroker.credentials`.

    Attributes:
        field: the credential's name within the provider (``api_key``, ``client_id``).
        env_var: the provider's conventional environment variable.
        required: False when the provider works without it (e.g. Vast.ai search).
        secret: False for identifiers that are safe to show (a client id).
    """

    field: str
    env_var: str
    required: bool = True
    secret: bool = True


# Reasons a parser gives for leaving a row out. Parsers may use others; these keep the common
# ones spelled alike across providers (they are keys of `FetchResult.skipped` and of the JSON
# status users and scripts read).
MALFORMED = "malformed"
NO_GPU = "no GPU"
NO_PRICE = "no price"
UNKNOWN_SHAPE = "unknown shape"
UNKNOWN_GPU = "unknown GPU"
FRACTIONAL_GPU = "fractional GPU"
NOT_DEPLOYABLE = "not deployable"
NOT_USD = "price not in USD"
DUPLICATE = "duplicate"

_ROW_ID_CHARS = 120


def _printable(row_id: object) -> str:
    """A row id safe for a log line: control characters escaped (``repr``), length capped."""
    text = repr(row_id) if isinstance(row_id, str) else repr(str(row_id))
    return text if len(text) <= _ROW_ID_CHARS else text[: _ROW_ID_CHARS - 3] + "..."


def row_id(item: object, *keys: str, index: int | None = None) -> str | None:
    """How to name a raw row in a log line: its first non-empty ``keys`` value, else ``#index``.

    For rows that failed validation, where no model is there to ask.
    """
    if isinstance(item, dict):
        for key in keys:
            value = item.get(key)
            if value not in (None, ""):
                return str(value)
    return f"#{index}" if index is not None else None


class Skips:
    """Every row of a listing, accounted for: kept (it became offers) or skipped, by reason.

    Parsers call `keep` for each row that produced at least one offer (or, for catalogs of
    parts, that priced one) and `add` for each row they leave out. The skipped row's id goes
    to the debug log (``--debug``), the counts to the fetch's `FetchResult.skipped`; tests
    check that ``kept + len(skips)`` equals the rows the provider returned.

    Attributes:
        provider: the provider's name, for log lines.
        counts: skipped rows by reason.
        kept: rows that were used.
    """

    def __init__(self, provider: str = "") -> None:
        self.provider = provider
        self.counts: Counter[str] = Counter()
        self.kept = 0

    def add(self, reason: str, row_id: object = None) -> None:
        """Count one row left out for ``reason``; its id (if any) goes to the debug log."""
        self.counts[reason] += 1
        if row_id is not None:
            _log.debug(
                "%s: skipped %s: %s", self.provider or "provider", _printable(row_id), reason
            )

    def keep(self, row_id: object = None) -> None:
        """Count one row that was used."""
        del row_id  # accepted for symmetry with `add`; kept rows are not logged
        self.kept += 1

    def as_dict(self) -> dict[str, int]:
        """Skipped rows by reason, sorted by reason."""
        return dict(sorted(self.counts.items()))

    def __len__(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch of a provider's whole listing produced.

    Attributes:
        offers: the normalised offers.
        truncated: True when the provider has more offers than were listed (a page cap,
            a server-side row limit).
        skipped: rows left out, counted by reason.
        kept: rows of the listing that became offers (with ``skipped``: every row returned).
    """

    offers: list[Offer]
    truncated: bool = False
    skipped: Mapping[str, int] = field(default_factory=dict)
    kept: int = 0

    @classmethod
    def of(cls, offers: list[Offer], skips: Skips, *, truncated: bool = False) -> FetchResult:
        """The result of a parse that accounted for its rows in ``skips``."""
        return cls(offers, truncated=truncated, skipped=skips.as_dict(), kept=skips.kept)


MAX_REDIRECTS = 5


def _finite_or_none(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def decode_json(
    data: bytes | str, *, object_hook: Callable[[dict[str, Any]], Any] | None = None
) -> Any:
    """JSON with every non-finite number (NaN, ±Infinity, overflowing literals) as None.

    Args:
        object_hook: called with each object as it is decoded (``json.loads``'s).

    Raises:
        ValueError: not JSON.
    """
    import json

    return json.loads(
        data, parse_float=_finite_or_none, parse_constant=lambda _: None, object_hook=object_hook
    )


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Scheme, host and port equal (the web's definition of an origin)."""
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def carries_secret(request: httpx.Request, secrets: Sequence[str]) -> bool:
    """True when any secret value appears in the request's URL, headers or body."""
    if not secrets:
        return False
    texts = [str(request.url), *(v for _, v in request.headers.items())]
    try:
        texts.append(request.read().decode("utf-8", "replace"))
    except (httpx.StreamError, TypeError):
        return True  # a body that cannot be read twice cannot be checked: assume the worst
    return any(secret in text for secret in secrets for text in texts)


class FetchSession:
    """The I/O of one fetch: the shared client, a deadline, concurrency, safe redirects.

    Redirects are followed here, not by the client: within the same origin always, to
    another origin only when the redirected request would carry none of the provider's
    secrets (httpx drops ``Authorization`` across origins, but not custom key headers such
    as ``api_key`` or ``X-Goog-Api-Key``, nor a re-sent body holding a client secret).

    Args:
        client: the shared, thread-safe HTTP client (timeouts, retries, User-Agent set).
        provider: the provider's name (for timeout messages).
        deadline: a ``time.monotonic()`` value no request may outlive (None: no deadline).
        secrets: credential values that must never be sent to another origin.
    """

    def __init__(
        self,
        client: httpx.Client,
        provider: str,
        *,
        deadline: float | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.provider = provider
        self.deadline = deadline
        self.secrets = [s for s in secrets if s]

    def remaining_s(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic()

    def check_deadline(self) -> None:
        """Raise `ProviderTimeoutError` once the deadline has passed."""
        remaining = self.remaining_s()
        if remaining is not None and remaining <= 0:
            raise ProviderTimeoutError(self.provider, f"{self.provider}: ran out of time")

    def response(
        self, method: str, url: str, *, idempotent: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """Send a request and return the response, raising ``HTTPStatusError`` on 4xx/5xx.

        Args:
            idempotent: mark a POST as safe to retry (a search); GET and HEAD always are.
        """
        from gpubroker.http import DEADLINE_EXTENSION, IDEMPOTENT_EXTENSION

        remaining = self.remaining_s()
        if remaining is not None and "timeout" not in kwargs:
            # Never let one request outlive the fetch's deadline.
            kwargs["timeout"] = max(0.05, remaining)
        extensions: dict[str, Any] = {}
        if self.deadline is not None:
            extensions[DEADLINE_EXTENSION] = self.deadline
        if idempotent:
            extensions[IDEMPOTENT_EXTENSION] = True
        request = self.client.build_request(method, url, extensions=extensions, **kwargs)
        response = self.client.send(request, follow_redirects=False)
        for _ in range(MAX_REDIRECTS):
            following = response.next_request
            if not response.is_redirect or following is None:
                break
            response.close()
            if not same_origin(following.url, request.url) and carries_secret(
                following, self.secrets
            ):
                raise ProviderResponseError(
                    self.provider,
                    f"{self.provider}: redirected to another origin ({following.url.host}); "
                    "not sending credentials there",
                )
            following.extensions = dict(extensions)
            response = self.client.send(following, follow_redirects=False)
        else:
            if response.is_redirect:
                response.close()
                raise ProviderResponseError(
                    self.provider, f"{self.provider}: more than {MAX_REDIRECTS} redirects"
                )
        response.raise_for_status()
        return response

    def json(self, method: str, url: str, *, idempotent: bool = False, **kwargs: Any) -> Any:
        """Send a request and return its decoded JSON, raising for HTTP errors.

        Numbers that are not finite (``NaN``, ``Infinity``, ``1e400``) decode as null, so a
        row carrying one is skipped by its parser like a row without that value, never
        stored or ranked. An HTML page or a truncated body with status 200 raises
        `ProviderResponseError`.
        """
        return self.decode(self.response(method, url, idempotent=idempotent, **kwargs))

    def decode(
        self,
        response: httpx.Response,
        *,
        object_hook: Callable[[dict[str, Any]], Any] | None = None,
    ) -> Any:
        """A response's JSON body (see `json`).

        Args:
            object_hook: called with each JSON object as it is decoded (``json.loads``'s):
                a large listing can keep only the fields it reads.
        """
        try:
            return decode_json(response.content, object_hook=object_hook)
        except ValueError:
            snippet = "HTML page" if response.text.lstrip().startswith("<") else "invalid JSON"
            raise ProviderResponseError(
                self.provider, f"{self.provider}: expected JSON, got {snippet}"
            ) from None

    @overload
    def parallel(self, a: Callable[[], A], b: Callable[[], B], /) -> tuple[A, B]: ...

    @overload
    def parallel(
        self, a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], d: Callable[[], D], /
    ) -> tuple[A, B, C, D]: ...

    @overload
    def parallel(self, *calls: Callable[[], T]) -> tuple[T, ...]: ...

    def parallel(self, *calls: Callable[[], Any]) -> tuple[Any, ...]:
        """Run independent calls concurrently (threads sharing the client); results in order.

        The first failure, in call order, is raised once every call has ended. Threads are
        daemons and are waited for only until the deadline, so a hung call cannot outlive it.
        """
        if len(calls) <= 1:
            return tuple(call() for call in calls)
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException | None] = [None] * len(calls)

        def run(i: int) -> None:
            try:
                results[i] = calls[i]()
            except BaseException as exc:  # re-raised in the caller's thread
                errors[i] = exc

        threads = [
            threading.Thread(target=run, args=(i,), name=f"gpubroker-{self.provider}-{i}",
                             daemon=True)
            for i in range(len(calls))
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            remaining = self.remaining_s()
            thread.join(None if remaining is None else max(0.0, remaining) + 0.5)
            if thread.is_alive():
                raise ProviderTimeoutError(self.provider, f"{self.provider}: timed out")
        for error in errors:
            if error is not None:
                raise error
        return tuple(results)


class TokenCache:
    """OAuth access tokens kept in memory until shortly before they expire.

    Keys include a digest of the credentials, so a changed secret never reuses a token.
    Tokens never go to SQLite or to disk.
    """

    MARGIN_S = 30.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(*parts: str) -> tuple[str, ...]:
        import hashlib

        return tuple(hashlib.sha256(p.encode()).hexdigest()[:16] for p in parts)

    def get(self, key: tuple[str, ...]) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
            if entry is None:
                return None
            token, expires = entry
            if self._clock() >= expires - self.MARGIN_S:
                del self._tokens[key]
                return None
            return token

    def put(self, key: tuple[str, ...], token: str, expires_in_s: float | None) -> None:
        lifetime = expires_in_s if expires_in_s and expires_in_s > 0 else 300.0
        with self._lock:
            self._tokens[key] = (token, self._clock() + lifetime)

    def drop(self, key: tuple[str, ...]) -> None:
        with self._lock:
            self._tokens.pop(key, None)


class Provider:
    """Base class of every provider.

    Subclasses set ``name`` (equal to the module name), ``label``, ``credentials``,
    ``default_regions`` when they price per region, and, for HTTP providers,
    ``default_base_url`` (overridable with ``GPUBROKER_<NAME>_URL``), and implement
    `_fetch`. Constructors do no I/O: they take already-resolved credentials and settings.

    Args:
        credentials: resolved credential values by field name.
        base_url: API base URL; defaults to the env override, then ``default_base_url``.
        now: clock, injectable for tests.
        regions: regions to price (empty or None: ``default_regions``).
        tokens: where OAuth tokens are reused across fetches (default: a private cache).
        options: provider-specific knobs (a row limit, a page cap, a boto3 client factory).
    """

    name: ClassVar[str]
    label: ClassVar[str]
    credentials: ClassVar[tuple[CredentialSpec, ...]] = ()
    default_base_url: ClassVar[str | None] = None
    default_regions: ClassVar[tuple[str, ...]] = ()
    homepage: ClassVar[str | None] = None

    def __init__(
        self,
        credentials: Mapping[str, str] | None = None,
        *,
        base_url: str | None = None,
        now: Callable[[], datetime] | None = None,
        regions: Sequence[str] | None = None,
        tokens: TokenCache | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.creds: dict[str, str] = dict(credentials or {})
        self.base_url = (base_url or self.env_base_url() or self.default_base_url or "").rstrip("/")
        self.now = now or (lambda: datetime.now(UTC))
        chosen = [r.strip() for r in regions or () if r and r.strip()]
        self.regions: list[str] = list(dict.fromkeys(chosen)) or list(self.default_regions)
        self.tokens = tokens or TokenCache()
        self.options: dict[str, Any] = dict(options or {})

    @classmethod
    def env_base_url(cls) -> str | None:
        """The ``GPUBROKER_<NAME>_URL`` override, if set."""
        return os.environ.get(f"GPUBROKER_{cls.name.upper()}_URL") or None

    @classmethod
    def needs_auth(cls) -> bool:
        """True when some credential is required to list offers."""
        return any(spec.required for spec in cls.credentials)

    def credential(self, *fields: str) -> tuple[str, ...]:
        """The resolved values of these credentials, in order.

        Raises:
            MissingCredentialsError: any of them is empty, with the usual fix-it hint.
        """
        missing = [f for f in fields if not self.creds.get(f)]
        if missing:
            specs = [s for s in self.credentials if s.field in missing]
            raise missing_credentials_error(self.name, specs or missing)
        return tuple(self.creds[f] for f in fields)

    def secret_values(self) -> list[str]:
        """Every secret credential value this provider holds (to redact from errors)."""
        secret_fields = {s.field for s in self.credentials if s.secret}
        return [v for k, v in self.creds.items() if v and (k in secret_fields or not secret_fields)]

    def fetch(self, client: httpx.Client, *, deadline: float | None = None) -> FetchResult:
        """Fetch the provider's whole current listing.

        Args:
            client: the shared HTTP client (timeouts, retries, User-Agent already set).
            deadline: a ``time.monotonic()`` value no request may outlive.

        Returns:
            The normalised offers (units, GPU names, whole-offer prices), whether the
            listing was truncated, and the rows left out by reason.

        Raises:
            ProviderError: any remote failure; CredentialsError: missing or refused keys.
        """
        from gpubroker.remote import translate_errors

        secrets = self.secret_values()
        session = FetchSession(client, self.name, deadline=deadline, secrets=secrets)
        with translate_errors(self.name, provider=True, secrets=secrets):
            return self._fetch(session)

    def _fetch(self, session: FetchSession) -> FetchResult:
        """The provider's requests and parsing; see `fetch`."""
        raise NotImplementedError


def missing_credentials_error(
    provider: str, missing: Sequence[CredentialSpec] | Sequence[str]
) -> MissingCredentialsError:
    """The one message for missing provider credentials, with its fix-it hint."""
    fields = [m.field if isinstance(m, CredentialSpec) else m for m in missing]
    env_vars = [m.env_var for m in missing if isinstance(m, CredentialSpec)]
    hint = f"run `gpubroker keys set {provider}`"
    if env_vars:
        hint += f" or set {' and '.join(env_vars)}"
    return MissingCredentialsError(
        f"{provider}: missing credentials ({', '.join(fields)})", hint=hint
    )


_COUNTRY_BY_REGION_PREFIX = {
    "us-": "US", "ca-": "CA", "eu-west-1": "IE", "eu-west-2": "GB", "eu-west-3": "FR",
    "eu-central-1": "DE", "eu-central-2": "CH", "eu-north-1": "SE", "eu-south-1": "IT",
    "eu-south-2": "ES", "ap-northeast-1": "JP", "ap-northeast-2": "KR", "ap-northeast-3": "JP",
    "ap-south-1": "IN", "ap-south-2": "IN", "ap-southeast-1": "SG", "ap-southeast-2": "AU",
    "ap-southeast-3": "ID", "ap-southeast-4": "AU", "ap-east-1": "HK", "sa-east-1": "BR",
    "me-south-1": "BH", "me-central-1": "AE", "af-south-1": "ZA", "il-central-1": "IL",
}  # fmt: skip


def country_for_aws_style_region(region: str | None) -> str | None:
    """ISO-2 country of an AWS-style region name (``us-east-1`` → ``US``), when known."""
    if not region:
        return None
    for prefix in sorted(_COUNTRY_BY_REGION_PREFIX, key=len, reverse=True):
        if region.startswith(prefix):
            return _COUNTRY_BY_REGION_PREFIX[prefix]
    return None


# Country names (and common short forms) as providers spell them -> ISO 3166-1 alpha-2. Lambda
# describes regions as "Virginia, USA" or just "Germany"; Vast's geolocation is "Texas, US" or
# just "Norway"; TensorDock spells countries out. Lower-case keys.
_COUNTRY_BY_NAME = {
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.": "US",
    "america": "US", "canada": "CA", "mexico": "MX", "brazil": "BR", "chile": "CL",
    "argentina": "AR", "colombia": "CO", "peru": "PE", "uruguay": "UY",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "ireland": "IE", "iceland": "IS", "norway": "NO",
    "sweden": "SE", "finland": "FI", "denmark": "DK", "estonia": "EE", "latvia": "LV",
    "lithuania": "LT", "germany": "DE", "netherlands": "NL", "the netherlands": "NL",
    "holland": "NL", "belgium": "BE", "luxembourg": "LU", "france": "FR", "spain": "ES",
    "portugal": "PT", "italy": "IT", "switzerland": "CH", "austria": "AT", "poland": "PL",
    "czechia": "CZ", "czech republic": "CZ", "slovakia": "SK", "hungary": "HU",
    "romania": "RO", "bulgaria": "BG", "greece": "GR", "croatia": "HR", "slovenia": "SI",
    "serbia": "RS", "ukraine": "UA", "moldova": "MD", "belarus": "BY", "russia": "RU",
    "russian federation": "RU", "turkey": "TR", "türkiye": "TR", "turkiye": "TR",
    "cyprus": "CY", "malta": "MT", "israel": "IL", "united arab emirates": "AE",
    "uae": "AE", "saudi arabia": "SA", "qatar": "QA", "bahrain": "BH", "kuwait": "KW",
    "oman": "OM", "jordan": "JO", "egypt": "EG", "south africa": "ZA", "nigeria": "NG",
    "kenya": "KE", "morocco": "MA", "india": "IN", "pakistan": "PK", "bangladesh": "BD",
    "sri lanka": "LK", "nepal": "NP", "kazakhstan": "KZ", "georgia": "GE",
    "armenia": "AM", "china": "CN", "hong kong": "HK", "taiwan": "TW", "japan": "JP",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR",
    "korea, republic of": "KR", "singapore": "SG", "malaysia": "MY", "thailand": "TH",
    "vietnam": "VN", "viet nam": "VN", "philippines": "PH", "indonesia": "ID",
    "australia": "AU", "new zealand": "NZ",
}  # fmt: skip
# Three-letter ISO codes seen where a name is expected (Lambda's API lists "USA", "DEU"...).
_COUNTRY_BY_ISO3 = {
    "usa": "US", "can": "CA", "deu": "DE", "ind": "IN", "isr": "IL", "ita": "IT",
    "jpn": "JP", "aus": "AU", "gbr": "GB", "fra": "FR", "nld": "NL", "swe": "SE",
    "nor": "NO", "fin": "FI", "esp": "ES", "pol": "PL", "che": "CH", "kor": "KR",
    "sgp": "SG", "bra": "BR", "mex": "MX", "isl": "IS", "irl": "IE", "aut": "AT",
}  # fmt: skip
# Two-letter values that are not the ISO code they look like.
_COUNTRY_CODE_FIXES = {"UK": "GB", "EL": "GR"}


def country_code(text: str | None) -> str | None:
    """ISO-2 country code of a country name or code, when it is recognised.

    ``"Norway"`` → ``NO``; ``"USA"`` → ``US``; ``"se"`` → ``SE``; ``"UK"`` → ``GB``; an
    unknown name (``"Atlantis"``) → None. Two letters are taken to be a code already.
    """
    if not text:
        return None
    value = " ".join(text.strip().split())
    if len(value) == 2 and value.isascii() and value.isalpha():
        code = value.upper()
        return _COUNTRY_CODE_FIXES.get(code, code)
    key = value.lower().rstrip(".")
    return _COUNTRY_BY_NAME.get(key) or _COUNTRY_BY_ISO3.get(key)


def country_from_place(place: str | None) -> str | None:
    """ISO-2 country of a place written as ``"Region, Country"`` or just ``"Country"``.

    ``"Texas, US"`` → ``US``; ``"Virginia, USA"`` → ``US``; ``"Norway"`` → ``NO``;
    ``"Sydney, Australia"`` → ``AU``; ``"Texas"`` → None.
    """
    if not place:
        return None
    last = place.rsplit(",", 1)[-1]
    return country_code(last) or country_code(place)


_SLUG = re.compile(r"\s+")


def _sanitize_value(value: Any) -> Any:
    """Every string inside a JSON-like value, sanitized (keys too)."""
    if isinstance(value, str):
        return sanitize(value)
    if isinstance(value, dict):
        return {sanitize(str(k)): _sanitize_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitize_value(v) for v in value]
    return value


#: Beyond these, a number from a provider is a bug or an attack, not a machine.
MAX_GPUS = 256
MAX_PRICE_PER_GPU_HOUR_USD = 1_000.0
MAX_GPU_MEMORY_GIB = 4_096.0
MAX_VCPUS = 16_384.0
MAX_RAM_GIB = 1_048_576.0
MAX_DISK_GIB = 1e8


def _plausible_price(price: float, gpu_count: int) -> bool:
    """A price that can be ranked: finite, positive, and not absurd per GPU."""
    if not isinstance(gpu_count, int) or not 1 <= gpu_count <= MAX_GPUS:
        return False
    if price is None or not math.isfinite(price) or price <= 0:
        return False
    return price / gpu_count <= MAX_PRICE_PER_GPU_HOUR_USD


def _plausible(value: float | None, limit: float) -> float | None:
    """An optional number kept only when finite and within [0, limit]; else unknown."""
    if value is None or not math.isfinite(value) or not 0 <= value <= limit:
        return None
    return value


def make_offer(
    *,
    provider: str,
    native_id: str,
    gpu_name_raw: str,
    gpu_count: int,
    price_per_hour_usd: float,
    observed_at: datetime,
    gpu_memory_gib: float | None = None,
    instance_type: str | None = None,
    vcpus: float | None = None,
    ram_gib: float | None = None,
    disk_gib: float | None = None,
    spot: bool = False,
    region: str | None = None,
    country: str | None = None,
    availability: Availability = Availability.UNKNOWN,
    reliability: float | None = None,
    cuda_version: str | None = None,
    source: Source = Source.LIVE,
    source_url: str | None = None,
    extras: dict[str, Any] | None = None,
    trusted: bool = False,
) -> Offer | None:
    """Build a normalised `Offer`; None when it cannot be priced.

    A price that is not finite, not positive, or absurd (over `MAX_PRICE_PER_GPU_HOUR_USD`
    per GPU), or a GPU count outside 1–`MAX_GPUS`, gives None: the parser counts the row as
    skipped. Other numbers that are not finite, negative or absurd become unknown (None).

    The GPU name goes through the registry (unknown names are kept verbatim), memory snaps
    to the registry's marketed size when within 7 %, and the id is ``provider:native-id``.

    ``trusted`` skips pydantic's validation of the result, for data whose every field is
    already of its type (the bundled catalog, parsed here and checked by its tests): it
    saves building the validator in a process that needs no other.
    """
    if not _plausible_price(price_per_hour_usd, gpu_count):
        return None
    gpu_memory_gib = _plausible(gpu_memory_gib, MAX_GPU_MEMORY_GIB)
    vcpus = _plausible(vcpus, MAX_VCPUS)
    ram_gib = _plausible(ram_gib, MAX_RAM_GIB)
    disk_gib = _plausible(disk_gib, MAX_DISK_GIB)
    reliability = _plausible(reliability, 1.0)
    # Provider strings are untrusted: no escape sequences or bidi overrides get stored.
    gpu_name_raw = sanitize(gpu_name_raw)
    native_id = sanitize(native_id)
    instance_type = sanitize(instance_type) if instance_type else instance_type
    region = sanitize(region) if region else region
    country = sanitize(country) if country else country
    cuda_version = sanitize(cuda_version) if cuda_version else cuda_version
    extras = _sanitize_value(extras) if extras else extras
    spec = gpus.normalize(gpu_name_raw, gpu_memory_gib)
    if spec is not None:
        gpu_model = spec.name
        memory = gpus.snap_memory_gib(spec, gpu_memory_gib)
    else:
        gpu_model = _SLUG.sub(" ", gpu_name_raw).strip() or "unknown"
        memory = gpu_memory_gib
    fields: dict[str, Any] = {
        "id": f"{provider}:{native_id}",
        "provider": provider,
        "instance_type": instance_type,
        "gpu_model": gpu_model,
        "gpu_name_raw": gpu_name_raw,
        "gpu_count": gpu_count,
        "gpu_memory_gib": round(memory, 2) if memory is not None else None,
        "vcpus": vcpus,
        "ram_gib": round(ram_gib, 2) if ram_gib is not None else None,
        "disk_gib": round(disk_gib, 2) if disk_gib is not None else None,
        "price_per_hour_usd": round(price_per_hour_usd, 6),
        "price_per_gpu_hour_usd": round(price_per_hour_usd / gpu_count, 6),
        "spot": spot,
        "region": region,
        "country": country.upper() if country else None,
        "availability": availability,
        "reliability": reliability,
        "cuda_version": cuda_version,
        "observed_at": observed_at,
        "source": source,
        "source_url": source_url,
        "extras": extras or {},
    }
    # Every field was passed, so every offer's "fields set" is the same: share one set
    # instead of a 2 KB set per offer (a 50,000-offer listing: 110 MB less). Offer is
    # frozen, so nothing adds to it; model_copy copies it before updating.
    if trusted:
        return Offer.model_construct(_EVERY_OFFER_FIELD, **fields)
    offer = Offer(**fields)
    object.__setattr__(offer, "__pydantic_fields_set__", _EVERY_OFFER_FIELD)
    return offer


_EVERY_OFFER_FIELD = set(Offer.model_fields)
