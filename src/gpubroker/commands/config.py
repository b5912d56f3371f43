"""`gpubroker config`: show and change profile settings in config.toml."""

from __future__ import annotations

from typing import Annotated

import typer

from gpubroker import render, settings
from gpubroker.commands import _options as o
from gpubroker.errors import ConfigError, NotFoundError

app = typer.Typer(help="Show and change settings (config.toml profiles).", no_args_is_help=True)


def _value(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(getattr(value, "value", value))


@app.command("show")
def show(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """Show the effective settings of the profile and where each value comes from.

    Example: gpubroker --profile ci config show --json
    """
    st = o.state(ctx)
    resolved = st.settings
    name = settings.resolve_profile(st.profile)
    table = settings.read_config(settings.config_path()).get(name, {})
    rows = []
    for key in settings.Settings.names():
        env = settings.EnvVars.SETTING_PREFIX + key.upper()
        import os

        source = "env" if env in os.environ else "config" if key in table else "default"
        rows.append({"key": key, "value": resolved.model_dump(mode="json")[key], "source": source})
    output = o.output_format(ctx, fmt, as_json)
    if output.value == "json":
        render.write_data(
            rows,
            output,
            json_object={"profile": name, "settings": resolved.model_dump(mode="json")},
        )
        return
    render.write_data(rows, output, table_rows=[{**r, "value": _value(r["value"])} for r in rows])


@app.command("path")
def path() -> None:
    """Print the config file path (it may not exist yet)."""
    print(settings.config_path())


@app.command("get")
def get(ctx: typer.Context, key: Annotated[str, typer.Argument(help="Setting name.")]) -> None:
    """Print one effective setting, e.g. `gpubroker config get limit`."""
    if key not in settings.Settings.model_fields:
        raise ConfigError(f"unknown setting {key!r}; valid: {', '.join(settings.Settings.names())}")
    print(_value(getattr(o.state(ctx).settings, key)))


@app.command("set")
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Setting name.")],
    value: Annotated[str, typer.Argument(help="New value (lists: comma-separated).")],
) -> None:
    """Set a setting in the profile, e.g. `gpubroker config set limit 50`."""
    st = o.state(ctx)
    stored = settings.write_setting(st.profile, key, value)
    profile = settings.resolve_profile(st.profile)
    st.err().print(f"{key} = {_value(stored)} (profile {profile})", markup=False, highlight=False)


@app.command("unset")
def unset(ctx: typer.Context, key: Annotated[str, typer.Argument(help="Setting name.")]) -> None:
    """Remove a setting from the profile so the default applies again."""
    if not settings.unset_setting(o.state(ctx).profile, key):
        raise NotFoundError(f"{key} is not set in this profile")
