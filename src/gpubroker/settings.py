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

import os
import sys
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpubroker.errors import ConfigError
from gpubroker.vocabulary import EnvVars, OutputFormat


class Settings(BaseModel):
    """Settings of one profile. Each field can be set in config.toml or as GPUBROKER_<FIELD>."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    format: OutputFormat = Field(OutputFormat.TABLE, description="default output format")
    limit: int = Field(20, ge=1, le=100_000, description="rows shown by browse")
    optimize: str = Field("balanced", description="default ranking preset")
    providers: list[str] = Field(default_factory=list, description="providers to ask (empty: all)")
    provider_timeout_s: float = Field(10.0, gt=0, le=600, description="per-provider timeout")
    deadline_s: float = Field(30.0, gt=0, le=3600, description="overall search deadline")
    cache_ttl_s: float = Field(300.0, ge=0, description="reuse fetched offers this long")
    offline: bool = Field(False, description="never touch the network for offers")
    regions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="regions to price per provider, e.g. aws=us-east-1,us-west-2;gcp=us-east4"
        " (a provider left out uses its own defaults)",
    )
    api_url: str = Field("https://gpubroker.site", description="hosted admin API base URL")

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
    """``$GPUBROKER_HOME`` or the app dir; created on first use."""
    env = os.environ.get(EnvVars.HOME)
    path = Path(env).expanduser() if env else app_dir()
    path.mkdir(parents=True, exist_ok=True)
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
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    return data


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
    return raw


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


def _one_line(exc: ValidationError, where: str) -> ConfigError:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    return ConfigError(f"{where}: " + "; ".join(parts))


def resolve_profile(profile: str | None) -> str:
    return profile or os.environ.get(EnvVars.PROFILE) or "default"


def load_settings(
    profile: str | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    home: Path | None = None,
) -> Settings:
    """Resolve the settings of a profile (flag > env > config.toml > defaults).

    Raises:
        ConfigError: an invalid file, an unknown profile, or an invalid value (one line each).
    """
    name = resolve_profile(profile)
    path = config_path(home)
    data = read_config(path)
    table = data.get(name, {})
    if name != "default" and name not in data:
        known = ", ".join(sorted(data)) or "none"
        raise ConfigError(f"unknown profile {name!r} in {path} (profiles: {known})")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    merged: dict[str, Any] = _fold_legacy(table)
    for old, provider in LEGACY_REGION_KEYS.items():
        raw_env = os.environ.get(EnvVars.SETTING_PREFIX + old.upper())
        if raw_env is not None:
            regions = dict(merged.get("regions") or {})
            regions[provider] = [p.strip() for p in raw_env.split(",") if p.strip()]
            merged["regions"] = regions
    for key in Settings.names():
        raw = os.environ.get(EnvVars.SETTING_PREFIX + key.upper())
        if raw is not None:
            merged[key] = _coerce_env(key, raw)
    for key, value in (overrides or {}).items():
        if value is not None:
            merged[key] = value
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise _one_line(exc, f"settings of profile {name!r}") from None


def parse_setting(key: str, raw: str) -> Any:
    """Validate one ``config set`` value; returns what to store in TOML."""
    if key not in Settings.model_fields:
        raise ConfigError(f"unknown setting {key!r}; valid: {', '.join(Settings.names())}")
    value = _coerce_env(key, raw)
    try:
        checked = Settings.model_validate({key: value})
    except ValidationError as exc:
        raise _one_line(exc, f"{key}") from None
    result = getattr(checked, key)
    return result.value if isinstance(result, StrEnum) else result


def write_setting(profile: str | None, key: str, raw: str, *, home: Path | None = None) -> Any:
    """Set ``key`` in the profile's table of config.toml, keeping everything else.

    The file is written to a temporary sibling and renamed, so a crash never leaves
    half a file.
    """
    import tomli_w

    value = parse_setting(key, raw)
    name = resolve_profile(profile)
    path = config_path(home)
    data = read_config(path)
    table = data.setdefault(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    table[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
    return value


def unset_setting(profile: str | None, key: str, *, home: Path | None = None) -> bool:
    """Remove ``key`` from the profile's table; False when it was not set."""
    import tomli_w

    if key not in Settings.model_fields:
        raise ConfigError(f"unknown setting {key!r}; valid: {', '.join(Settings.names())}")
    name = resolve_profile(profile)
    path = config_path(home)
    data = read_config(path)
    table = data.get(name)
    if not isinstance(table, dict) or key not in table:
        return False
    del table[key]
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
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
