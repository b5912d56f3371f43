"""The gpubroker error tree. Every class carries the exit code the CLI uses for it.

::

    GpubrokerError (1)
    ├── UsageError (2)                      bad input: flags, expressions, weights, config values
    │   ├── UnknownGPUError (2)             with "did you mean"
    │   ├── AmbiguousGPUError (2)           with the choices
    │   ├── QuerySyntaxError (2)            names the offending token
    │   ├── UnknownProviderError (2)        lists the valid names
    │   └── ConfigError (2)
    ├── NotFoundError (3)                   nothing matched / no such record
    ├── CredentialsError (4)
    │   ├── MissingCredentialsError (4)     carries a fix-it hint
    │   ├── InvalidCredentialsError (4)
    │   └── KeyringUnavailableError (4)
    ├── UnavailableError (5)                network, 5xx, timeouts, AWS
    │   ├── RemoteError (5)                 a remote service failed; carries .service
    │   │   ├── RemoteTimeoutError (5)
    │   │   ├── RemoteResponseError (5)     answer not in the expected shape
    │   │   └── ProviderError (5)           a GPU provider failed; carries .provider
    │   │       ├── ProviderHTTPError (5)
    │   │       ├── ProviderTimeoutError (5)
    │   │       └── ProviderResponseError (5)
    │   └── NoProvidersAvailableError (5)   every provider failed
    ├── RefusedError (6)                    validation, limits, budget, confirmation missing
    └── StoreError (1)                      local database problems

Messages never contain secrets: remote errors are built from status codes and payload
shapes, never from request headers, and `gpubroker.remote` redacts every known credential
value from the text a server sends back.

Library errors speak of parameters (``hours must be positive``); `UsageError.param` names
the parameter so that the CLI can speak of its flag instead (``--hours must be positive``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_AUTH = 4
EXIT_UNAVAILABLE = 5
EXIT_REFUSED = 6
EXIT_INTERRUPTED = 130


def clip(text: str, limit: int = 60) -> str:
    """User input as quoted in a message: control characters out, long text shortened."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


class GpubrokerError(Exception):
    """Base class of every error gpubroker raises on purpose.

    Attributes:
        exit_code: the process exit code the CLI uses for this error.
        hint: an optional one-line suggestion shown after the message.
    """

    exit_code: ClassVar[int] = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(GpubrokerError):
    """Bad input from the user: a parameter, an expression, a weight, a config value.

    Attributes:
        params: the library parameters the message names (``hours``, ``where``); the CLI
            swaps each for the flag it came from.
    """

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        param: str | tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.params: tuple[str, ...] = (param,) if isinstance(param, str) else tuple(param or ())

    @property
    def param(self) -> str | None:
        """The first parameter the message is about, if any."""
        return self.params[0] if self.params else None


class UnknownGPUError(UsageError):
    """A GPU name the registry does not know."""

    def __init__(self, name: str, suggestions: list[str] | None = None) -> None:
        self.name = name
        self.suggestions = suggestions or []
        msg = f"unknown GPU {clip(name)!r}"
        if self.suggestions:
            msg += f"; did you mean {', '.join(self.suggestions)}?"
        super().__init__(msg, hint="run `gpubroker gpus` to list the known GPUs")


class AmbiguousGPUError(UsageError):
    """A GPU name that matches several distinct models."""

    def __init__(self, name: str, choices: list[str]) -> None:
        self.name = name
        self.choices = choices
        shown = ", ".join(choices[:12])
        more = f" and {len(choices) - 12} more" if len(choices) > 12 else ""
        super().__init__(
            f"GPU {clip(name)!r} is ambiguous; choose one of: {shown}{more}",
            hint="`gpubroker gpus` lists every model" if more else None,
        )


class QuerySyntaxError(UsageError):
    """A ``where`` expression that does not parse; names the offending token."""

    def __init__(self, message: str, token: str | None = None, position: int | None = None) -> None:
        self.token = token
        self.position = position
        super().__init__(message, param="where")


class UnknownProviderError(UsageError):
    """A provider name that is not registered."""

    def __init__(self, name: str, valid: list[str]) -> None:
        self.name = name
        self.valid = valid
        super().__init__(f"unknown provider {clip(name)!r}; valid providers: {', '.join(valid)}")


class ConfigError(UsageError):
    """An invalid configuration file, key or value."""


class NotFoundError(GpubrokerError):
    """Nothing matched, or the record asked for does not exist."""

    exit_code = EXIT_NOT_FOUND


class CredentialsError(GpubrokerError):
    """A credential is missing, wrong, or cannot be stored."""

    exit_code = EXIT_AUTH


class MissingCredentialsError(CredentialsError):
    """A provider needs a credential that is not configured."""


class InvalidCredentialsError(CredentialsError):
    """A remote service rejected the credential (HTTP 401/403, AWS AccessDenied).

    Attributes:
        service: the provider or service that refused (``lambda``, ``ecs``, ``api``).
    """

    def __init__(
        self, message: str, *, hint: str | None = None, service: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.service = service


class KeyringUnavailableError(CredentialsError):
    """No usable OS keyring backend; gpubroker refuses to store secrets in plaintext."""


class UnavailableError(GpubrokerError):
    """A remote service could not be reached or failed (network, 5xx, timeout)."""

    exit_code = EXIT_UNAVAILABLE


class RemoteError(UnavailableError):
    """A remote service (a provider, AWS, the hosted API) failed or could not be reached.

    Attributes:
        service: who failed: a provider name, an AWS service (``ecs``), or ``api``.
        status_code: the HTTP status, when the service answered with one.
        retry_after_s: the server's ``Retry-After``, when it sent one.
    """

    def __init__(
        self,
        service: str,
        message: str,
        *,
        hint: str | None = None,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.service = service
        self.status_code = status_code
        self.retry_after_s = retry_after_s
        super().__init__(message, hint=hint)


class RemoteTimeoutError(RemoteError):
    """The remote service did not answer in time."""


class RemoteResponseError(RemoteError):
    """The remote service answered, but not with what its contract documents."""


class ProviderError(RemoteError):
    """A provider fetch failed. Carries the provider's name."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        hint: str | None = None,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(
            provider, message, hint=hint, status_code=status_code, retry_after_s=retry_after_s
        )

    @property
    def provider(self) -> str:
        return self.service


class ProviderHTTPError(ProviderError):
    """The provider answered with an HTTP error status."""

    status_code: int

    def __init__(
        self, provider: str, status_code: int, message: str, *, retry_after_s: float | None = None
    ) -> None:
        super().__init__(provider, message, status_code=status_code, retry_after_s=retry_after_s)


class ProviderTimeoutError(ProviderError, RemoteTimeoutError):
    """The provider did not answer in time."""


class ProviderResponseError(ProviderError, RemoteResponseError):
    """The provider answered, but not with the payload it documents."""


class NoProvidersAvailableError(UnavailableError):
    """Every selected provider failed, so nothing at all could be shown.

    Attributes:
        statuses: each provider's `ProviderStatus`, for per-provider warnings.
    """

    def __init__(
        self, message: str, *, hint: str | None = None, statuses: Sequence[Any] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.statuses = list(statuses)


class RefusedError(GpubrokerError):
    """gpubroker refuses: validation, limits, budget, or a missing confirmation."""

    exit_code = EXIT_REFUSED


class StoreError(GpubrokerError):
    """The local database could not be read or written."""
