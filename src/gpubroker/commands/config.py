"""`gpubroker config`: show and change profile settings in config.toml."""

from __future__ import annotations

from typing import Annotated

import typer

from gpubroker.commands import _options as o
from gpubroker.errors import NotFoundError

app = typer.Typer(help="Show and change settings (config.toml profiles).", no_args_is_help=True)


def _value(value: object) -> str:
    if isinstance(value, dict):
        return ";".join(f"{k}={_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(getattr(value, "value", value))


@app.command("show")
def show(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """Show the effective settings of the profile and where each value comes from.

    Example: gpubroker --profile ci config show --json
    """
    from gpubroker import render

    config = o.state(ctx).broker().config
    rows = config.show()
    output = o.output_format(ctx, fmt, as_json)
    if output.value == "json":
        obj = {"profile": config.profile, "settings": config.effective()}
        render.write_data(rows, output, json_object=obj)
        return
    render.write_data(rows, output, table_rows=[{**r, "value": _value(r["value"])} for r in rows])


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print the config file path (it may not exist yet)."""
    print(o.state(ctx).broker().config.path)


@app.command("get")
def get(ctx: typer.Context, key: Annotated[str, typer.Argument(help="Setting name.")]) -> None:
    """Print one effective setting, e.g. `gpubroker config get limit`."""
    print(_value(o.state(ctx).broker().config.get(key)))


@app.command("set")
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Setting name.")],
    value: Annotated[str, typer.Argument(help="New value (lists: comma-separated).")],
) -> None:
    """Set a setting in the profile (validated as it is when read).

    Mappings use NAME=VALUE pairs separated by ';'; one provider's regions can be set
    alone with a dotted key.

    \b
    Examples:
      gpubroker config set limit 50
      gpubroker config set regions 'aws=us-east-1,us-west-2;gcp=us-east4'
      gpubroker config set regions.aws us-east-1,eu-west-1
    """
    st = o.state(ctx)
    config = st.broker().config
    stored = config.set(key, value)
    st.err().print(
        f"{key} = {_value(stored)} (profile {config.profile})", markup=False, highlight=False
    )


@app.command("unset")
def unset(ctx: typer.Context, key: Annotated[str, typer.Argument(help="Setting name.")]) -> None:
    """Remove a setting from the profile so the default applies again."""
    if not o.state(ctx).broker().config.unset(key):
        raise NotFoundError(f"{key} is not set in this profile")
