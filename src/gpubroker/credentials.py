"""Provider credentials: environment variable, else the OS keyring. Never a plaintext file.

Lookup order for each declared `CredentialSpec`: the provider's conventional environment
variable (so CI can override without touching a keyring, as ``gh`` does with ``GH_TOKEN``),
then ``keyring.get_password("gpubroker", "<provider>.<field>")``.

A headless machine often has no usable keyring backend (``fail.Keyring``, ``null.Keyring``
or an empty chainer, see ``shared/reference/testing-aws-keyring.md``). Reading then simply
finds nothing; storing raises `KeyringUnavailableError` with a fix-it message instead of
silently writing plaintext or losing the secret.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpubroker.errors import CredentialsError, KeyringUnavailableError, NotFoundError
from gpubroker.providers.base import CredentialSpec, Provider, missing_credentials_error
from gpubroker.remote import remember_secret
from gpubroker.vocabulary import EnvVars

SERVICE = "gpubroker"

NO_KEYRING_HINT = (
    "no OS keyring is available here (headless machine?). Set the provider's environment "
    "variable instead, or install and unlock a keyring backend (e.g. gnome-keyring, KWallet, "
    "macOS Keychain, Windows Credential Locker)"
)


def keyring_item(provider: str, field: str) -> str:
    return f"{provider}.{field}"


def _usable_backend() -> Any | None:
    """The active keyring backend, or None when it cannot store anything."""
    try:
        import keyring
        from keyring.backends import chainer, fail

        backend = keyring.get_keyring()
    except Exception:  # a bad PYTHON_KEYRING_BACKEND raises ModuleNotFoundError etc.
        return None
    if isinstance(backend, fail.Keyring):
        return None
    if type(backend).__module__ == "keyring.backends.null":
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def keyring_available() -> bool:
    return _usable_backend() is not None


def backend_name() -> str | None:
    """``module.Class`` of the usable keyring backend, or None when there is none."""
    backend = _usable_backend()
    if backend is None:
        return None
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _keyring_get(provider: str, field: str) -> str | None:
    backend = _usable_backend()
    if backend is None:
        return None
    try:
        value = backend.get_password(SERVICE, keyring_item(provider, field))
    except Exception:  # KeyringError, EOFError from a prompting backend, RuntimeError
        return None
    return value or None


@dataclass(frozen=True, slots=True)
class CredentialState:
    """Where a credential comes from; never its value."""

    provider: str
    field: str
    env_var: str
    required: bool
    source: str  # "env" | "keyring" | "missing"


def lookup(provider: str, spec: CredentialSpec) -> tuple[str | None, str]:
    """(value, source) for one credential."""
    env = os.environ.get(spec.env_var)
    if env:
        if spec.secret:
            remember_secret(env)
        return env, "env"
    value = _keyring_get(provider, spec.field)
    if value:
        if spec.secret:
            remember_secret(value)
        return value, "keyring"
    return None, "missing"


def resolve(provider_cls: type[Provider]) -> dict[str, str]:
    """Resolved credentials of a provider.

    Raises:
        MissingCredentialsError: a required credential is not configured (with a fix-it hint).
    """
    values: dict[str, str] = {}
    missing: list[CredentialSpec] = []
    for spec in provider_cls.credentials:
        value, _ = lookup(provider_cls.name, spec)
        if value:
            values[spec.field] = value
        elif spec.required:
            missing.append(spec)
    if missing:
        raise missing_credentials_error(provider_cls.name, missing)
    return values


def states(provider_cls: type[Provider]) -> list[CredentialState]:
    return [
        CredentialState(
            provider_cls.name,
            spec.field,
            spec.env_var,
            spec.required,
            lookup(provider_cls.name, spec)[1],
        )
        for spec in provider_cls.credentials
    ]


def store(provider: str, field: str, value: str, *, env_var: str | None = None) -> None:
    """Save a secret in the OS keyring.

    Args:
        env_var: the credential's environment variable, named in the hint when storing fails.

    Raises:
        KeyringUnavailableError: no usable backend, or the backend failed.
    """
    backend = _usable_backend()
    if backend is None:
        raise KeyringUnavailableError(
            f"cannot store {provider}.{field}: {NO_KEYRING_HINT}",
            hint=f"export {env_var}=... in this shell or your CI secrets" if env_var else None,
        )
    try:
        backend.set_password(SERVICE, keyring_item(provider, field), value)
    except Exception as exc:
        raise KeyringUnavailableError(
            f"cannot store {provider}.{field} in the keyring ({type(exc).__name__}): "
            f"{NO_KEYRING_HINT}"
        ) from None


def delete(provider: str, field: str) -> None:
    """Remove a secret from the OS keyring.

    Raises:
        NotFoundError: it was not stored.
        KeyringUnavailableError: no usable backend.
    """
    backend = _usable_backend()
    if backend is None:
        raise KeyringUnavailableError(f"cannot delete {provider}.{field}: {NO_KEYRING_HINT}")
    if backend.get_password(SERVICE, keyring_item(provider, field)) is None:
        raise NotFoundError(f"{provider}.{field} is not stored in the keyring")
    try:
        backend.delete_password(SERVICE, keyring_item(provider, field))
    except Exception as exc:
        raise KeyringUnavailableError(
            f"cannot delete {provider}.{field} from the keyring ({type(exc).__name__})"
        ) from None


class KeyService:
    """Provider credentials as a service (``Broker.keys``): never returns a secret value."""

    NO_KEYRING_HINT = NO_KEYRING_HINT

    def specs(self, provider: str, field: str | None = None) -> tuple[str, list[CredentialSpec]]:
        """The provider's registered name and the credential specs to act on.

        Raises:
            UnknownProviderError: no such provider.
            UsageError: the provider takes no credentials, or has no such field.
        """
        from gpubroker.errors import UsageError
        from gpubroker.providers import get_provider

        cls = get_provider(provider)
        specs = list(cls.credentials)
        if not specs:
            extra = ""
            if cls.name == "aws":
                extra = " (it uses the AWS credential chain: `aws configure`, AWS_PROFILE, SSO)"
            raise UsageError(f"{cls.name} takes no gpubroker credentials{extra}")
        if field:
            specs = [s for s in specs if s.field == field]
            if not specs:
                valid = ", ".join(s.field for s in cls.credentials)
                raise UsageError(
                    f"field: {cls.name} has no credential {field!r}; fields: {valid}",
                    param="field",
                )
        return cls.name, specs

    def require_keyring(self, provider: str, specs: list[CredentialSpec]) -> None:
        """Raise `KeyringUnavailableError` now, before anyone is asked for a secret."""
        if not keyring_available():
            env = " and ".join(s.env_var for s in specs)
            raise KeyringUnavailableError(
                f"cannot store {provider} credentials: {NO_KEYRING_HINT}",
                hint=f"export {env}=... in this shell or your CI secrets" if env else None,
            )

    def set(self, provider: str, field: str, value: str) -> None:
        """Store one credential in the OS keyring.

        Raises:
            UsageError: empty value; KeyringUnavailableError: no usable keyring.
        """
        from gpubroker.errors import UsageError

        name, specs = self.specs(provider, field)
        if not value.strip():
            raise UsageError(f"empty value for {name} {field}; nothing stored")
        store(name, field, value.strip(), env_var=specs[0].env_var)

    def delete(self, provider: str, field: str | None = None) -> list[str]:
        """Delete the provider's stored credential(s); returns the fields deleted."""
        name, specs = self.specs(provider, field)
        for spec in specs:
            delete(name, spec.field)
        return [spec.field for spec in specs]

    def list(self) -> list[dict[str, object]]:
        """Every provider credential and where it comes from (env, keyring, missing)."""
        from gpubroker.providers import PROVIDERS

        return [
            {
                "provider": state.provider,
                "field": state.field,
                "env_var": state.env_var,
                "required": state.required,
                "source": state.source,
            }
            for cls in PROVIDERS.values()
            for state in states(cls)
        ]

    @staticmethod
    def keyring_available() -> bool:
        return keyring_available()


# --- hosted API secrets: the admin token and the subscription API key, per profile ---------

#: The hosted API's secrets and the environment variable that overrides each (for CI).
API_SECRETS: dict[str, str] = {"token": EnvVars.TOKEN, "api_key": EnvVars.API_KEY}
API_SECRET_LABELS = {"token": "API token", "api_key": "subscription API key"}
INSECURE_DIR = "insecure-secrets"


def api_keyring_item(profile: str, field: str) -> str:
    """The keyring item of a hosted-API secret: ``api.<profile>.<field>``."""
    return f"api.{profile}.{field}"


def _safe_name(profile: str) -> str:
    import hashlib
    import re

    if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", profile) and not profile.startswith("."):
        return profile
    return "p-" + hashlib.sha256(profile.encode()).hexdigest()[:16]


class ApiSecrets:
    """The hosted API's token and API key of one profile: env var, keyring, or a 0600 file.

    Lookup order: the environment variable (``GPUBROKER_TOKEN`` / ``GPUBROKER_API_KEY``),
    then the OS keyring (item ``api.<profile>.<field>``), then a file under
    ``$GPUBROKER_HOME/insecure-secrets/`` that exists only if the user asked for it with
    ``insecure=True`` (``--insecure-storage``). Without a usable keyring, storing fails with
    a message naming the environment variable and the explicit file option: never a silent
    plaintext fallback.

    Args:
        profile: the settings profile the secrets belong to.
        home: the state directory (for the explicit insecure file).
    """

    def __init__(self, profile: str, home: Path) -> None:
        self.profile = profile
        self.home = home

    @staticmethod
    def _check_field(field: str) -> str:
        if field not in API_SECRETS:
            raise ValueError(f"unknown API secret {field!r}")
        return field

    def env_var(self, field: str) -> str:
        return API_SECRETS[self._check_field(field)]

    def file_path(self, field: str) -> Path:
        """Where ``--insecure-storage`` keeps the secret (mode 0600, directory 0700)."""
        return self.home / INSECURE_DIR / f"{_safe_name(self.profile)}.{self._check_field(field)}"

    def _read_file(self, field: str) -> str | None:
        import stat

        path = self.file_path(field)
        try:
            info = path.stat()
        except OSError:
            return None
        if os.name != "nt" and stat.S_IMODE(info.st_mode) & 0o077:
            raise CredentialsError(
                f"{path} is readable by other users (mode {stat.S_IMODE(info.st_mode):04o});"
                " gpubroker will not use it",
                hint=f"run `chmod 600 {path}`, or delete it and log in again",
            )
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return value or None

    def get(self, field: str) -> tuple[str | None, str]:
        """``(value, source)``; source is ``env``, ``keyring``, ``file`` or ``missing``.

        Raises:
            CredentialsError: the insecure file is readable by others.
        """
        env = os.environ.get(self.env_var(field), "").strip()
        if env:
            remember_secret(env)
            return env, "env"
        backend = _usable_backend()
        if backend is not None:
            try:
                value = backend.get_password(SERVICE, api_keyring_item(self.profile, field))
            except Exception:  # a locked or prompting backend: fall through to the file
                value = None
            if value:
                remember_secret(value)
                return value, "keyring"
        value = self._read_file(field)
        if value:
            remember_secret(value)
            return value, "file"
        return None, "missing"

    def require_storage(self, field: str, *, insecure: bool = False) -> None:
        """Raise now, before anyone types a password or a request is made, when the secret
        could not be kept afterwards.

        Raises:
            KeyringUnavailableError: no usable keyring and no explicit ``insecure``.
        """
        if insecure or keyring_available():
            return
        raise KeyringUnavailableError(
            f"cannot store the {API_SECRET_LABELS[self._check_field(field)]}: {NO_KEYRING_HINT}",
            hint=f"set {self.env_var(field)} in the environment (CI secrets), or pass"
            " --insecure-storage to keep it in a file only you can read (mode 0600)",
        )

    def store(self, field: str, value: str, *, insecure: bool = False) -> str:
        """Keep a secret; returns where (``keyring`` or ``file``).

        Args:
            insecure: write the explicit 0600 file instead of the keyring.

        Raises:
            KeyringUnavailableError: no usable keyring (and not ``insecure``), or it failed.
        """
        value = value.strip()
        item = api_keyring_item(self.profile, field)
        if insecure:
            self._write_file(field, value)
            backend = _usable_backend()
            if backend is not None:  # a stale keyring entry would shadow the file
                with contextlib.suppress(Exception):
                    backend.delete_password(SERVICE, item)
            return "file"
        self.require_storage(field)
        backend = _usable_backend()
        try:
            backend.set_password(SERVICE, item, value)  # type: ignore[union-attr]
        except Exception as exc:
            raise KeyringUnavailableError(
                f"cannot store the {API_SECRET_LABELS[field]} in the keyring"
                f" ({type(exc).__name__}): {NO_KEYRING_HINT}",
                hint=f"set {self.env_var(field)}, or pass --insecure-storage",
            ) from None
        with contextlib.suppress(FileNotFoundError):
            self.file_path(field).unlink()  # the keyring copy is now the one in use
        return "keyring"

    def _write_file(self, field: str, value: str) -> None:
        path = self.file_path(field)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name != "nt":
            os.chmod(path.parent, 0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, value.encode("utf-8") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    def delete(self, field: str) -> list[str]:
        """Forget a stored secret; returns where it was removed from (keyring, file)."""
        removed = []
        backend = _usable_backend()
        if backend is not None:
            item = api_keyring_item(self.profile, field)
            try:
                if backend.get_password(SERVICE, item) is not None:
                    backend.delete_password(SERVICE, item)
                    removed.append("keyring")
            except Exception:
                pass
        try:
            self.file_path(field).unlink()
            removed.append("file")
        except FileNotFoundError:
            pass
        return removed
