"""Translate remote failures (httpx, botocore, pydantic) into the gpubroker error tree.

Every caller that talks to something outside the process goes through this one module:
provider fetches, `watch` alerts (SES/SNS), the hosted API client and the ECS driver.

``translate_errors(service)`` is a context manager; inside it:

=========================================== =================================================
raised                                      becomes
=========================================== =================================================
`GpubrokerError`                            itself (with known secrets redacted)
``httpx.HTTPStatusError`` 401 / 403         `InvalidCredentialsError` (exit 4)
``httpx.HTTPStatusError`` other             `RemoteError` / `ProviderHTTPError` (exit 5)
``httpx.TimeoutException``                  `RemoteTimeoutError` / `ProviderTimeoutError`
``httpx.TransportError``                    `RemoteError` / `ProviderError` ("network error")
``pydantic.ValidationError``, ``ValueError`` `RemoteResponseError` / `ProviderResponseError`
botocore ``NoCredentialsError``             `MissingCredentialsError` (exit 4)
botocore ``ClientError`` (auth codes)       `InvalidCredentialsError` (exit 4)
botocore ``ClientError`` (not-found codes)  `NotFoundError` (exit 3)
botocore ``ClientError`` (invalid input)    `RefusedError` (exit 6)
botocore ``ClientError`` (other, throttle)  `RemoteError` (exit 5)
botocore timeouts / connection errors       `RemoteTimeoutError` / `RemoteError` (exit 5)
=========================================== =================================================

With ``provider=True`` the remote classes are the ``Provider*`` subclasses, which carry
``.provider`` and drive the per-provider status of a search.

Messages are built from status codes, error codes and short server texts; request headers
never reach them, and every value passed as ``secrets`` is replaced by ``<redacted>`` in
the message and hint of any error that passes through.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pydantic

from gpubroker.errors import (
    GpubrokerError,
    InvalidCredentialsError,
    MissingCredentialsError,
    NotFoundError,
    ProviderError,
    ProviderHTTPError,
    ProviderResponseError,
    ProviderTimeoutError,
    RefusedError,
    RemoteError,
    RemoteResponseError,
    RemoteTimeoutError,
)

if TYPE_CHECKING:
    # httpx is imported where a failure is translated: secrets are remembered and redacted
    # by code (the cache, the catalog) that never touches the network.
    import httpx

REDACTED = "<redacted>"
_MAX_DETAIL = 160

AWS_AUTH_CODES = frozenset(
    {
        "UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure",
        "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
        "UnrecognizedClientException", "SignatureDoesNotMatch", "MissingAuthenticationToken",
        "InvalidSignatureException", "NotAuthorized",
    }
)  # fmt: skip
AWS_THROTTLE_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
        "TooManyRequestsException", "RequestThrottled", "RequestThrottledException",
        "ProvisionedThroughputExceededException", "SlowDown", "LimitExceededException",
    }
)  # fmt: skip
AWS_NOT_FOUND_CODES = frozenset(
    {
        "ClusterNotFoundException", "ServiceNotFoundException", "ResourceNotFoundException",
        "TaskDefinitionNotFoundException", "NoSuchEntity", "NotFoundException",
        "InvalidNetworkInterfaceID.NotFound", "InvalidSubnetID.NotFound",
        "InvalidGroup.NotFound", "DataUnavailableException", "BillingViewNotFound",
    }
)  # fmt: skip
AWS_REFUSED_CODES = frozenset(
    {
        "InvalidParameterException", "InvalidParameterValue", "InvalidParameterValueException",
        "ValidationException", "ClientException", "ServiceNotActiveException",
        "PlatformUnknownException", "PlatformTaskDefinitionIncompatibilityException",
        "UnsupportedFeatureException", "InvalidParameterCombination",
    }
)  # fmt: skip


_KNOWN_SECRETS: set[str] = set()
_KNOWN_LOCK = threading.Lock()
#: Environment variables that hold secrets gpubroker never reads itself (boto3 does).
SECRET_ENV_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def remember_secret(value: str | None) -> None:
    """Add a credential value to those redacted from every error, warning and stored text.

    The credentials module calls this for every secret it resolves, so a server that echoes
    *another* service's key (a proxy, a misrouted request) cannot get it printed either.
    """
    if value and len(value) >= 4:
        with _KNOWN_LOCK:
            _KNOWN_SECRETS.add(value)


def known_secrets() -> list[str]:
    """Every secret value this process has resolved (plus AWS's from the environment)."""
    env = [os.environ.get(name) or "" for name in SECRET_ENV_VARS]
    with _KNOWN_LOCK:
        return [*_KNOWN_SECRETS, *(v for v in env if len(v) >= 4)]


def redact_known(text: str) -> str:
    """``text`` with every known secret value replaced by ``<redacted>``."""
    return redact(text, known_secrets())


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-trivial secret value replaced by ``<redacted>``."""
    for secret in secrets:
        # Very short values would redact innocent text and are not worth hiding.
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_error(exc: GpubrokerError, secrets: Iterable[str | None]) -> None:
    """Remove secret values from an error's message and hint, in place."""
    values = [s for s in secrets if s]
    if not values:
        return
    message = redact(exc.message, values)
    if message != exc.message:
        exc.message = message
        exc.args = (message,)
    if exc.hint:
        exc.hint = redact(exc.hint, values)


def _clip(text: str) -> str:
    from gpubroker.textfmt import sanitize

    text = " ".join(sanitize(text).split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def http_error_summary(response: httpx.Response) -> str:
    """A short, secret-free description of an HTTP error response.

    ``HTTP 503 Service Unavailable: <the server's own message>`` when a JSON body carries
    one (``error``, ``message``, ``detail``, ``error.message``), ``HTML error page`` for
    HTML bodies; never the request's headers.
    """
    import httpx

    reason = response.reason_phrase or "error"
    ctype = response.headers.get("content-type", "")
    detail = ""
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        text = ""
    if "json" in ctype:
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict):
                err: Any = body.get("error") or body.get("message") or body.get("detail") or ""
                if isinstance(err, dict):
                    err = err.get("message") or err.get("code") or ""
                elif isinstance(err, list) and err and isinstance(err[0], dict):
                    err = err[0].get("msg") or err[0].get("message") or ""
                detail = _clip(str(err))
    elif "html" in ctype or text.lstrip().startswith("<"):
        detail = "HTML error page"
    msg = f"HTTP {response.status_code} {reason}"
    return f"{msg}: {detail}" if detail else msg


def _retry_after(response: httpx.Response) -> float | None:
    from gpubroker.http import parse_retry_after

    return parse_retry_after(response.headers.get("Retry-After"))


def translate_exception(
    exc: BaseException,
    service: str,
    *,
    provider: bool = False,
    auth_hint: str | None = None,
) -> GpubrokerError | None:
    """The gpubroker error for a foreign exception, or None when it is not a remote failure.

    Args:
        exc: what was raised.
        service: the provider or service name, used as the message prefix.
        provider: use the ``Provider*`` classes (for provider fetches).
        auth_hint: the hint attached when credentials are refused.
    """
    if isinstance(exc, GpubrokerError):
        return exc
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        resp = exc.response
        summary = http_error_summary(resp)
        if resp.status_code in (401, 403):
            return InvalidCredentialsError(
                f"{service}: credentials rejected ({summary})",
                hint=auth_hint or f"check the key with `gpubroker keys set {service}`",
                service=service,
            )
        if provider:
            return ProviderHTTPError(
                service, resp.status_code, f"{service}: {summary}", retry_after_s=_retry_after(resp)
            )
        return RemoteError(
            service,
            f"{service}: {summary}",
            status_code=resp.status_code,
            retry_after_s=_retry_after(resp),
        )
    if isinstance(exc, httpx.TimeoutException):
        cls_t = ProviderTimeoutError if provider else RemoteTimeoutError
        return cls_t(service, f"{service}: timed out")
    if isinstance(exc, httpx.TransportError):
        cls_n = ProviderError if provider else RemoteError
        return cls_n(service, f"{service}: network error ({type(exc).__name__})")
    if isinstance(exc, pydantic.ValidationError):
        errors = exc.errors()
        loc = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        msg = errors[0]["msg"] if errors else "invalid"
        cls_r = ProviderResponseError if provider else RemoteResponseError
        return cls_r(
            service,
            f"{service}: unexpected payload ({exc.error_count()} problems; first at "
            f"{loc or 'top level'}: {msg})",
        )
    if isinstance(exc, ValueError):  # json.JSONDecodeError and friends
        cls_v = ProviderResponseError if provider else RemoteResponseError
        return cls_v(service, f"{service}: unreadable payload ({_clip(str(exc))})")
    if isinstance(exc, Exception):
        return translate_botocore(exc, service, provider=provider)
    return None


def translate_botocore(
    exc: Exception, service: str, *, provider: bool = False
) -> GpubrokerError | None:
    """Map a botocore exception without importing botocore (None for anything else)."""
    if not type(exc).__module__.startswith("botocore"):
        return None
    name = type(exc).__name__
    remote = ProviderError if provider else RemoteError
    timeout = ProviderTimeoutError if provider else RemoteTimeoutError
    if name in ("NoCredentialsError", "PartialCredentialsError", "NoRegionError"):
        what = "no AWS region configured" if name == "NoRegionError" else "no AWS credentials found"
        return MissingCredentialsError(
            f"{service}: {what}",
            hint="configure the AWS credential chain (AWS_PROFILE, ~/.aws/credentials, SSO)"
            " and AWS_REGION",
        )
    if any(cls.__name__ == "ClientError" for cls in type(exc).__mro__):
        # Modelled service errors (e.g. ecs.exceptions.ClusterNotFoundException) subclass it.
        response = getattr(exc, "response", None) or {}
        error = response.get("Error", {}) if isinstance(response, dict) else {}
        code = str(error.get("Code") or "ClientError")
        raw = str(error.get("Message") or "")
        # A proxy's or a crashed server's HTML page arrives as the "message": never show it.
        looks_html = raw.lstrip().startswith("<") or "<html" in raw.lower()
        text = "HTML error page" if looks_html else _clip(raw)
        detail = f"{code}: {text}" if text else code
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if code in AWS_AUTH_CODES:
            return InvalidCredentialsError(
                f"{service}: AWS refused the request ({detail})",
                hint="check the IAM permissions of the AWS identity"
                " (`aws sts get-caller-identity`)",
                service=service,
            )
        if code in AWS_NOT_FOUND_CODES:
            return NotFoundError(f"{service}: not found ({detail})")
        if code in AWS_REFUSED_CODES:
            return RefusedError(f"{service}: AWS rejected the request ({detail})")
        if code in AWS_THROTTLE_CODES:
            return remote(
                service, f"{service}: AWS is throttling requests ({code}); retry in a minute"
            )
        return remote(service, f"{service}: AWS error ({detail})", status_code=status)
    if "Timeout" in name:
        return timeout(service, f"{service}: AWS timed out ({name})")
    if name in ("EndpointConnectionError", "ConnectionClosedError", "ProxyConnectionError"):
        return remote(service, f"{service}: cannot reach AWS ({name})")
    return remote(service, f"{service}: AWS error ({name})")


@contextlib.contextmanager
def translate_errors(
    service: str,
    *,
    provider: bool = False,
    auth_hint: str | None = None,
    secrets: Iterable[str | None] = (),
) -> Iterator[None]:
    """Map exceptions raised inside into the gpubroker error tree (see the module doc).

    Args:
        service: the provider or service name (message prefix, ``.service``).
        provider: raise the ``Provider*`` classes (for provider fetches).
        auth_hint: hint attached to a refused credential.
        secrets: values never to show: redacted from every error's message and hint.
    """
    values = [s for s in secrets if s]
    try:
        yield
    except Exception as exc:
        mapped = translate_exception(exc, service, provider=provider, auth_hint=auth_hint)
        if mapped is None:
            raise
        redact_error(mapped, [*values, *known_secrets()])
        if mapped is exc:
            raise
        raise mapped from None
