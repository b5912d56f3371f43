"""The provider shape: one class per provider, pure constructors, one I/O method.

A provider module defines ``class <Name>Provider(Provider)`` whose ``fetch_offers`` does only
the HTTP (or boto3) calls, and a pure module-level ``parse_offers(payload, ...)`` that maps the
raw payload to `Offer` objects, validating it with small private pydantic models.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import pydantic

from gpubroker import gpus
from gpubroker.errors import (
    GpubrokerError,
    InvalidCredentialsError,
    MissingCredentialsError,
    ProviderError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from gpubroker.http import DEADLINE_EXTENSION, parse_retry_after
from gpubroker.models import Availability, Offer, Query, Source


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


class Provider:
    """Base class of every provider.

    Subclasses set ``name`` (equal to the module name), ``label``, ``credentials`` and, for
    HTTP providers, ``default_base_url`` (overridable with ``GPUBROKER_<NAME>_URL``).
    Constructors do no I/O: they take already-resolved credentials and settings.

    Args:
        credentials: resolved credential values by field name.
        base_url: API base URL; defaults to the env override, then ``default_base_url``.
        now: clock, injectable for tests.
        options: provider-specific settings (e.g. AWS regions).
    """

    name: ClassVar[str]
    label: ClassVar[str]
    credentials: ClassVar[tuple[CredentialSpec, ...]] = ()
    default_base_url: ClassVar[str | None] = None
    homepage: ClassVar[str | None] = None

    def __init__(
        self,
        credentials: Mapping[str, str] | None = None,
        *,
        base_url: str | None = None,
        now: Callable[[], datetime] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.creds: dict[str, str] = dict(credentials or {})
        self.base_url = (base_url or self.env_base_url() or self.default_base_url or "").rstrip("/")
        self.now = now or (lambda: datetime.now(UTC))
        self.options: dict[str, Any] = dict(options or {})
        self.deadline: float | None = None

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

    def request_extensions(self) -> dict[str, Any]:
        """Extensions for each request: carries the fetch deadline to the retry transport."""
        return {DEADLINE_EXTENSION: self.deadline} if self.deadline is not None else {}

    def fetch_offers(self, client: httpx.Client, query: Query | None = None) -> list[Offer]:
        """Fetch the provider's current offers.

        Args:
            client: the shared HTTP client (timeouts, retries, User-Agent already set).
            query: a hint for server-side filtering; filters are applied again centrally.

        Returns:
            The offers, normalised (units, GPU names, whole-offer prices).

        Raises:
            ProviderError: any failure, translated by `translate_errors`.
        """
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


def _http_message(response: httpx.Response) -> str:
    """A short, secret-free description of an HTTP error response."""
    reason = response.reason_phrase or "error"
    ctype = response.headers.get("content-type", "")
    detail = ""
    if "json" in ctype:
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict):
                err = body.get("error") or body.get("message") or body.get("detail") or ""
                if isinstance(err, dict):
                    err = err.get("message") or err.get("code") or ""
                detail = str(err)[:160]
    elif "html" in ctype or response.text.lstrip().startswith("<"):
        detail = "HTML error page"
    msg = f"HTTP {response.status_code} {reason}"
    return f"{msg}: {detail}" if detail else msg


@contextlib.contextmanager
def translate_errors(provider: str) -> Iterator[None]:
    """Map library exceptions raised while fetching into the gpubroker error tree."""
    try:
        yield
    except GpubrokerError:
        raise
    except httpx.HTTPStatusError as exc:
        resp = exc.response
        if resp.status_code in (401, 403):
            raise InvalidCredentialsError(
                f"{provider}: credentials rejected ({_http_message(resp)})",
                hint=f"check the key with `gpubroker keys set {provider}`",
            ) from None
        raise ProviderHTTPError(
            provider,
            resp.status_code,
            f"{provider}: {_http_message(resp)}",
            retry_after_s=parse_retry_after(resp.headers.get("Retry-After")),
        ) from None
    except httpx.TimeoutException:
        raise ProviderTimeoutError(provider, f"{provider}: timed out") from None
    except httpx.TransportError as exc:
        raise ProviderError(provider, f"{provider}: network error ({type(exc).__name__})") from None
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        loc = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        msg = errors[0]["msg"] if errors else "invalid"
        raise ProviderResponseError(
            provider,
            f"{provider}: unexpected payload ({exc.error_count()} problems; first at "
            f"{loc or 'top level'}: {msg})",
        ) from None
    except ValueError as exc:  # json.JSONDecodeError and friends
        raise ProviderResponseError(provider, f"{provider}: unreadable payload ({exc})") from None
    except Exception as exc:
        botocore_error = _translate_botocore(provider, exc)
        if botocore_error is None:
            raise
        raise botocore_error from None


def _translate_botocore(provider: str, exc: Exception) -> ProviderError | GpubrokerError | None:
    """Map botocore exceptions without importing botocore unless it is already loaded."""
    mod = type(exc).__module__
    if not mod.startswith("botocore"):
        return None
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return MissingCredentialsError(
            f"{provider}: no AWS credentials found",
            hint="configure the AWS credential chain (AWS_PROFILE, ~/.aws/credentials, SSO)",
        )
    if any(cls.__name__ == "ClientError" for cls in type(exc).__mro__):
        # Modelled service errors (e.g. pricing's AccessDeniedException) subclass ClientError.
        error = getattr(exc, "response", {}).get("Error", {})
        code = str(error.get("Code", "ClientError"))
        if code in (
            "UnauthorizedOperation",
            "AccessDenied",
            "AccessDeniedException",
            "AuthFailure",
            "InvalidClientTokenId",
            "ExpiredToken",
            "UnrecognizedClientException",
            "SignatureDoesNotMatch",
        ):
            return InvalidCredentialsError(f"{provider}: AWS refused the credentials ({code})")
        return ProviderError(provider, f"{provider}: AWS error {code}")
    if "Timeout" in name:
        return ProviderTimeoutError(provider, f"{provider}: AWS timed out")
    return ProviderError(provider, f"{provider}: AWS error ({name})")


def get_json(provider: Provider, client: httpx.Client, method: str, url: str, **kwargs: Any) -> Any:
    """Send a request and return its decoded JSON, raising for HTTP errors.

    Decoding failures (an HTML page with status 200, a truncated body) become
    `ProviderResponseError` through `translate_errors`.
    """
    if provider.deadline is not None and "timeout" not in kwargs:
        # Never let one request outlive the provider's deadline.
        kwargs["timeout"] = max(0.05, provider.deadline - time.monotonic())
    response = client.request(method, url, extensions=provider.request_extensions(), **kwargs)
    response.raise_for_status()
    try:
        return response.json()
    except ValueError:
        snippet = "HTML page" if response.text.lstrip().startswith("<") else "invalid JSON"
        raise ProviderResponseError(
            provider.name, f"{provider.name}: expected JSON, got {snippet}"
        ) from None


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


_SLUG = re.compile(r"\s+")


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
) -> Offer | None:
    """Build a normalised `Offer`; None when the offer cannot be priced (price ≤ 0).

    The GPU name goes through the registry (unknown names are kept verbatim), memory snaps
    to the registry's marketed size when within 7 %, and the id is ``provider:native-id``.
    """
    if not price_per_hour_usd or price_per_hour_usd <= 0 or gpu_count < 1:
        return None
    spec = gpus.normalize(gpu_name_raw, gpu_memory_gib)
    if spec is not None:
        gpu_model = spec.name
        memory = gpus.snap_memory_gib(spec, gpu_memory_gib)
    else:
        gpu_model = _SLUG.sub(" ", gpu_name_raw).strip() or "unknown"
        memory = gpu_memory_gib
    return Offer(
        id=f"{provider}:{native_id}",
        provider=provider,
        instance_type=instance_type,
        gpu_model=gpu_model,
        gpu_name_raw=gpu_name_raw,
        gpu_count=gpu_count,
        gpu_memory_gib=round(memory, 2) if memory is not None else None,
        vcpus=vcpus,
        ram_gib=round(ram_gib, 2) if ram_gib is not None else None,
        disk_gib=round(disk_gib, 2) if disk_gib is not None else None,
        price_per_hour_usd=round(price_per_hour_usd, 6),
        price_per_gpu_hour_usd=round(price_per_hour_usd / gpu_count, 6),
        spot=spot,
        region=region,
        country=country.upper() if country else None,
        availability=availability,
        reliability=reliability,
        cuda_version=cuda_version,
        observed_at=observed_at,
        source=source,
        source_url=source_url,
        extras=extras or {},
    )
