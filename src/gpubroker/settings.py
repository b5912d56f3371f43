"""Paths, profiles, ``config.toml`` and environment overrides.

Precedence, highest first: CLI flag > ``GPUBROKER_<KEY>`` env var > the profile's table in
``config.toml`` > defaults. A profile is a top-level table of ``config.toml``::

    [default]
    limit = 30

    [ci]
    format = "json"
    offline = true

The profile comes from ``--profile``, else ``GPUBROKER_PROFILE``, else ``default``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gpubroker.errors import ConfigError
from gpubroker.vocabulary import PRESET_NAMES, EnvVars, OutputFormat

#: Providers whose search API takes a row limit (`Settings.row_limits`; their ``limit`` option).
ROW_LIMIT_PROVIDERS = ("vastai",)


def _known_providers() -> list[str]:
    from gpubroker.offers.collect import known_providers

    return known_providers()


class Settings(BaseModel):
    """Settings of one profile. Each field can be set in config.toml or as GPUBROKER_<FIELD>."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    format: OutputFormat = Field(OutputFormat.TABLE, description="default output format")
    limit: int = Field(20, ge=0, le=1_000_000, description="rows shown by browse (0: every row)")
    optimize: str = Field("balanced", description="default ranking preset")
    providers: list[str] = Field(default_factory=list, description="providers to ask (empty: all)")
    provider_timeout_s: float = Field(10.0, gt=0, le=600, description="per-provider timeout")
    deadline_s: float = Field(30.0, gt=0, le=3600, description="overall search deadline")
    cache_ttl_s: float = Field(
        300.0, ge=0, le=30 * 86400, description="reuse fetched offers this long"
    )
    offline: bool = Field(False, description="never touch the network for offers")
    regions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="regions to price per provider, e.g. aws=us-east-1,us-west-2;gcp=us-east4"
        " (a provider left out uses its own defaults)",
    )
    history_days: float = Field(
        90.0, gt=0, le=3650, description="keep price history and fetch logs this many days"
    )
    row_limits: dict[str, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict,
        description="rows asked for per search from providers whose API takes a row limit,"
        " e.g. vastai=20000 (vastai: default 3000 per search, on-demand and interruptible)",
    )
    api_url: str = Field("https://gpubroker.site", description="hosted admin API base URL")
    ecs_cluster: str = Field(
        "gpubroker-pods", min_length=1, description="ECS cluster for PODs (env ECS_CLUSTER too)"
    )
    ecs_subnets: list[str] = Field(
        default_factory=list,
        description="subnets for PODs (env ECS_SUBNETS too; empty: the default VPC's)",
    )
    ecs_security_group: str | None = Field(
        None, description="security group for PODs (env ECS_SECURITY_GROUP too; default VPC's)"
    )
    ecs_execution_role: str = Field(
        "ecsTaskExecutionRole", min_length=1, description="task execution role (name or ARN)"
    )
    pod_region: str | None = Field(None, description="AWS region for PODs (default: AWS_REGION)")
    pod_image: str = Field(
        "agent0ai/agent-zero:latest", min_length=1, description="the POD agent's image"
    )
    owner: str | None = Field(None, description="owner recorded on PODs (default: the OS user)")

    @field_validator("optimize")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        name = value.strip().lower()
        if name not in PRESET_NAMES:
            raise ValueError(f"unknown preset {value!r}; valid: {', '.join(PRESET_NAMES)}")
        return name

    @field_validator("providers")
    @classmethod
    def _known_provider_list(cls, value: list[str]) -> list[str]:
        names = [v.strip().lower() for v in value if v.strip()]
        valid = _known_providers()
        unknown = [n for n in names if n not in valid]
        if unknown:
            raise ValueError(f"unknown provider {unknown[0]!r}; valid: {', '.join(valid)}")
        return list(dict.fromkeys(names))

    @field_validator("row_limits")
    @classmethod
    def _limited_providers(cls, value: dict[str, int]) -> dict[str, int]:
        cleaned = {name.strip().lower(): limit for name, limit in value.items()}
        unknown = [n for n in cleaned if n not in ROW_LIMIT_PROVIDERS]
        if unknown:
            raise ValueError(
                f"{unknown[0]!r} takes no row limit; providers that do: "
                + ", ".join(ROW_LIMIT_PROVIDERS)
            )
        return cleaned

    @field_validator("regions")
    @classmethod
    def _known_region_providers(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        valid = _known_providers()
        cleaned: dict[str, list[str]] = {}
        for name, regions in value.items():
            key = name.strip().lower()
            if key not in valid:
                raise ValueError(f"unknown provider {name!r}; valid: {', '.join(valid)}")
            cleaned[key] = [r.strip() for r in regions if r.strip()]
        return cleaned

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        text = value.strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
            raise ValueError(
                f"expected an http(s) URL such as https://gpubroker.site, got {value!r}"
            )
        return text.rstrip("/")

    @classmethod
    def names(cls) -> list[str]:
        return list(cls.model_fields)


def app_dir(name: str = "gpubroker") -> Path:
    """The platform's per-user app directory (as Click's ``get_app_dir`` computes it)."""
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~")
        return Path(base) / name
    if sys.platform == "darwin":
        return Path(os.path.expanduser("~/Library/Application Support")) / name
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / name


def home_dir() -> Path:
    """``$GPUBROKER_HOME`` or the app dir; created (private to the user) on first use.

    A home that cannot be created is returned as it is: commands that need no state still
    work, and the store reports the problem when it is really needed.
    """
    env = os.environ.get(EnvVars.HOME)
    path = Path(env).expanduser() if env else app_dir()
    with contextlib.suppress(OSError):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def config_path(home: Path | None = None) -> Path:
    env = os.environ.get(EnvVars.CONFIG)
    if env:
        return Path(env).expanduser()
    return (home or home_dir()) / "config.toml"


def db_path(home: Path | None = None) -> Path:
    return (home or home_dir()) / "gpubroker.db"


def read_config(path: Path) -> dict[str, Any]:
    """The whole config file as a dict of profiles (empty when the file does not exist)."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (FileNotFoundError, NotADirectoryError):  # no file, or no usable home at all
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint=_FIX_HINT) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 (byte {exc.start})", hint=_FIX_HINT) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    return data


_FIX_HINT = "fix or remove the file; `gpubroker config path` shows where it is"


#: Settings of earlier versions, read into their replacement (``aws_regions`` → ``regions``).
LEGACY_REGION_KEYS = {"aws_regions": "aws", "azure_regions": "azure", "gcp_regions": "gcp"}


def parse_mapping(raw: str) -> dict[str, list[str]]:
    """``aws=us-east-1,us-west-2;gcp=us-east4`` → ``{"aws": [...], "gcp": [...]}``.

    Raises:
        ConfigError: a part without ``NAME=``.
    """
    mapping: dict[str, list[str]] = {}
    for part in raw.split(";"):
        if not part.strip():
            continue
        name, sep, values = part.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"expected NAME=VALUE[,VALUE...] separated by ';', got {part!r}")
        mapping[name.strip().lower()] = [v.strip() for v in values.split(",") if v.strip()]
    return mapping


def _coerce_env(key: str, raw: str) -> Any:
    field = Settings.model_fields[key]
    if field.annotation == list[str]:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if field.annotation == dict[str, list[str]]:
        return parse_mapping(raw)
    if key == "row_limits":
        return parse_limits(raw)
    return raw


def parse_limits(raw: str) -> dict[str, str]:
    """``vastai=20000;other=500`` → ``{"vastai": "20000", ...}`` (validated as ints after).

    Raises:
        ConfigError: a part without ``NAME=``, or with more than one value.
    """
    limits: dict[str, str] = {}
    for name, values in parse_mapping(raw).items():
        if len(values) != 1:
            raise ConfigError(
                f"expected NAME=NUMBER separated by ';', got {name}={','.join(values)}"
            )
        limits[name] = values[0]
    return limits


def _fold_legacy(table: dict[str, Any]) -> dict[str, Any]:
    """Move ``<provider>_regions`` keys of older config files into ``regions``."""
    merged = dict(table)
    for old, provider in LEGACY_REGION_KEYS.items():
        if old in merged:
            value = merged.pop(old)
            regions = dict(merged.get("regions") or {})
            regions.setdefault(provider, value)
            merged["regions"] = regions
    return merged


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err["loc"][1:])  # the key itself is named already
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _check(key: str, value: Any, where: str) -> Any:
    """One setting validated with the same rules wherever it comes from.

    Raises:
        ConfigError: naming ``where`` (file, profile and key, or the env var).
    """
    try:
        checked = Settings.model_validate({key: value})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_reason(exc)}") from None
    return getattr(checked, key)


def resolve_profile(profile: str | None) -> str:
    return profile or os.environ.get(EnvVars.PROFILE) or "default"


def load_settings(
    profile: str | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    home: Path | None = None,
    notes: list[str] | None = None,
) -> Settings:
    """Resolve the settings of a profile (flag > env > config.toml > defaults).

    Args:
        notes: receives one line per thing worth a warning (an unknown key ignored,
            a renamed setting read under its old name).

    Raises:
        ConfigError: an unreadable file, an unknown profile, or an invalid value; the
            message names the file, profile and key (or the environment variable).
    """
    notes = notes if notes is not None else []
    name = resolve_profile(profile)
    path = config_path(home)
    data = read_config(path)
    if name != "default" and name not in data:
        known = ", ".join(sorted(data)) or "none"
        raise ConfigError(f"unknown profile {name!r} in {path} (profiles: {known})")
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table", hint=_FIX_HINT)
    for old, provider in LEGACY_REGION_KEYS.items():
        if old in table:
            notes.append(
                f"{path} [{name}]: {old} is read as regions.{provider}; "
                f"`gpubroker config set regions '{provider}=...'` to update it"
            )
    merged: dict[str, Any] = {}
    for key, value in _fold_legacy(table).items():
        if key not in Settings.model_fields:
            notes.append(f"{path} [{name}]: unknown setting {key!r} ignored")
            continue
        merged[key] = _check(key, value, f"{path} [{name}] {key}")
    for old, provider in LEGACY_REGION_KEYS.items():
        raw_env = os.environ.get(EnvVars.SETTING_PREFIX + old.upper())
        if raw_env is not None:
            regions = dict(merged.get("regions") or {})
            regions[provider] = [p.strip() for p in raw_env.split(",") if p.strip()]
            merged["regions"] = regions
    for key in Settings.names():
        env = EnvVars.SETTING_PREFIX + key.upper()
        raw = os.environ.get(env)
        if raw is not None:
            try:
                value = _coerce_env(key, raw)
            except ConfigError as exc:
                raise ConfigError(f"{env}: {exc.message}") from None
            merged[key] = _check(key, value, env)
    for key, value in (overrides or {}).items():
        if value is not None:
            merged[key] = _check(key, value, f"setting {key}")
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:  # pragma: no cover - every key was checked above
        raise ConfigError(f"settings of profile {name!r}: {_reason(exc)}") from None


def _split_key(key: str) -> tuple[str, str | None]:
    """``regions.aws`` → (``regions``, ``aws``); plain keys have no sub-key."""
    base, _, sub = key.partition(".")
    if base not in Settings.model_fields:
        raise ConfigError(f"unknown setting {key!r}; valid: {', '.join(Settings.names())}")
    annotation = Settings.model_fields[base].annotation
    if sub and annotation != dict[str, list[str]]:
        raise ConfigError(f"{base} has no sub-keys (got {key!r})")
    return base, sub or None


def parse_setting(key: str, raw: str) -> Any:
    """Validate one ``config set`` value exactly as it would be validated on read.

    Returns what to store in TOML.
    """
    base, sub = _split_key(key)
    if sub is not None:
        value: Any = {sub: [p.strip() for p in raw.split(",") if p.strip()]}
    else:
        value = _coerce_env(base, raw)
    result = _check(base, value, key)
    if sub is not None:
        return result[sub.strip().lower()]
    if isinstance(result, StrEnum):
        return result.value
    return result


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<config>.lock`` so concurrent writers never lose each other."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a", encoding="utf-8") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: best effort, no lock
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write to a uniquely named temporary sibling (0600), then rename over the file."""
    import tomli_w

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(tomli_w.dumps(data))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_setting(profile: str | None, key: str, raw: str, *, home: Path | None = None) -> Any:
    """Set ``key`` (or ``regions.<provider>``) in the profile's table, keeping everything else.

    The value is validated first; the file is rewritten atomically under a lock.
    """
    value = parse_setting(key, raw)
    base, sub = _split_key(key)
    name = resolve_profile(profile)
    path = config_path(home)
    with _locked(path):
        data = read_config(path)
        table = data.setdefault(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{name}] must be a table", hint=_FIX_HINT)
        if sub is not None:
            mapping = table.get(base)
            mapping = dict(mapping) if isinstance(mapping, dict) else {}
            mapping[sub.strip().lower()] = value
            table[base] = mapping
        else:
            table[base] = value
        _write_atomically(path, data)
    return value


def unset_setting(profile: str | None, key: str, *, home: Path | None = None) -> bool:
    """Remove ``key`` (or ``regions.<provider>``) from the profile; False when it was not set."""
    base, sub = _split_key(key)
    name = resolve_profile(profile)
    path = config_path(home)
    with _locked(path):
        data = read_config(path)
        table = data.get(name)
        if not isinstance(table, dict) or base not in table:
            return False
        if sub is not None:
            mapping = table[base]
            if not isinstance(mapping, dict) or sub not in mapping:
                return False
            del mapping[sub]
        else:
            del table[base]
        _write_atomically(path, data)
    return True


__all__ = [
    "EnvVars",
    "OutputFormat",
    "Settings",
    "config_path",
    "db_path",
    "home_dir",
    "load_settings",
    "parse_setting",
    "read_config",
    "resolve_profile",
    "unset_setting",
    "write_setting",
]
