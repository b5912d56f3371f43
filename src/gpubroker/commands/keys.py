"""`gpubroker keys`: provider credentials in the OS keyring (never printed)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gpubroker.commands import _options as o

app = typer.Typer(help="Store, list and delete provider credentials.", no_args_is_help=True)

ProviderArg = Annotated[str, typer.Argument(help="Provider name, e.g. lambda, verda, vastai.")]
FieldOpt = Annotated[
    str | None, typer.Option("--field", help="Only this credential (e.g. client_secret).")
]


@app.command("set")
def set_key(ctx: typer.Context, provider: ProviderArg, field: FieldOpt = None) -> None:
    """Store a provider's credential(s) in the OS keyring.

    Prompts with hidden input on a terminal; otherwise reads one line per credential from
    stdin.

    \b
    Examples:
      gpubroker keys set lambda
      printf '%s' "$KEY" | gpubroker keys set lambda
    """
    keys = o.state(ctx).broker().keys
    name, specs = keys.specs(provider, field)
    keys.require_keyring(name, specs)  # before asking for any secret
    interactive = sys.stdin.isatty()
    for spec in specs:
        if interactive:
            value = typer.prompt(f"{name} {spec.field}", hide_input=spec.secret)
        else:
            value = sys.stdin.readline()
        keys.set(name, spec.field, value)
        print(f"stored {name}.{spec.field} in the keyring", file=sys.stderr)


@app.command("list")
def list_keys(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """Show where each provider credential comes from (env, keyring, missing) — never values."""
    from gpubroker import render

    keys = o.state(ctx).broker().keys
    render.write_data(keys.list(), o.output_format(ctx, fmt, as_json))
    if not keys.keyring_available():
        print(f"note: {keys.NO_KEYRING_HINT}", file=sys.stderr)


@app.command("delete")
def delete_key(ctx: typer.Context, provider: ProviderArg, field: FieldOpt = None) -> None:
    """Delete a provider's stored credential(s) from the OS keyring."""
    keys = o.state(ctx).broker().keys
    name, _ = keys.specs(provider, field)
    for deleted in keys.delete(provider, field):
        print(f"deleted {name}.{deleted} from the keyring", file=sys.stderr)
