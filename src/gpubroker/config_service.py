"""Profile settings as a service (``Broker.config``): show with sources, get, set, unset.

Setting and unsetting work on config.toml directly, so they repair a file whose current
values no longer validate.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpubroker import settings as settings_mod
from gpubroker.errors import ConfigError

if TYPE_CHECKING:
    from gpubroker.runtime import Runtime


class ConfigService:
    """Read and change the profile's settings.

    Args:
        runtime: the composition root (profile, home, resolved settings).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def profile(self) -> str:
        return self.runtime.profile

    @property
    def path(self) -> Path:
        """The config file (it may not exist yet)."""
        return self.runtime.config_path

    def show(self) -> list[dict[str, Any]]:
        """Every setting's effective value and where it comes from (env, config, default)."""
        resolved = self.runtime.settings.model_dump(mode="json")
        table = settings_mod.read_config(self.path).get(self.profile, {})
        rows = []
        for key in settings_mod.Settings.names():
            env = settings_mod.EnvVars.SETTING_PREFIX + key.upper()
            if env in os.environ:
                source = "env"
            elif isinstance(table, dict) and key in table:
                source = "config"
            else:
                source = "default"
            rows.append({"key": key, "value": resolved[key], "source": source})
        return rows

    def effective(self) -> dict[str, Any]:
        """The resolved settings, JSON-ready."""
        return self.runtime.settings.model_dump(mode="json")

    def get(self, key: str) -> Any:
        """One effective setting.

        Raises:
            ConfigError: no such setting.
        """
        if key not in settings_mod.Settings.model_fields:
            raise ConfigError(
                f"unknown setting {key!r}; valid: {', '.join(settings_mod.Settings.names())}"
            )
        return getattr(self.runtime.settings, key)

    def set(self, key: str, raw: str) -> Any:
        """Validate and store a setting in the profile; returns the stored value."""
        return settings_mod.write_setting(self.profile, key, raw, home=self.runtime.home_arg)

    def unset(self, key: str) -> bool:
        """Remove a setting from the profile; False when it was not set."""
        return settings_mod.unset_setting(self.profile, key, home=self.runtime.home_arg)
