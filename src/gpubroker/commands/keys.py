"""`gpubroker keys`: provider credentials in the OS keyring (never printed)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from gpubroker import render
from gpubroker.commands import _options as o
from gpubroker.errors import UsageError

if TYPE_CHECKING:
    from gpubroker.providers.base import CredentialSpec

app = typer.Typer(help="Store, list and delete provider credentials.", no_args_is_help=True)

ProviderArg = Annotated[str, typer.Argument(help="Provider name, e.g. lambda, verda, vastai.")]
FieldOpt = Annotated[
    str | None, typer.Option("--field", help="Only this credential (e.g. client_secret).")
]


def _specs(provider: str, field: str | None) -> tuple[str, list[CredentialSpec]]:
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
            raise UsageError(f"{cls.name} has no credential {field!r}; fields: {valid}")
    return cls.name, specs


@app.command("set")
def set_key(provider: ProviderArg, field: FieldOpt = None) -> None:
    """Store a provider's credential(s) in the OS keyring.

    Prompts with hidden input on a terminal; otherwise reads one line per credential from
    stdin, e.g. `printf '%s' "$KEY" | gpubroker keys set lambda`.
    """
    from gpubroker import credentials

    name, specs = _specs(provider, field)
    interactive = sys.stdin.isatty()
    for spec in specs:
        if interactive:
            value = typer.prompt(f"{name} {spec.field}", hide_input=spec.secret).strip()
        else:
            value = sys.stdin.readline().strip()
        if not value:
            raise UsageError(f"empty value for {name} {spec.field}; nothing stored")
        credentials.store(name, spec.field, value, env_var=spec.env_var)
        print(f"stored {name}.{spec.field} in the keyring", file=sys.stderr)


@app.command("list")
def list_keys(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """Show where each provider credential comes from (env, keyring, missing) — never values."""
    from gpubroker import credentials
    from gpubroker.providers import PROVIDERS

    rows = []
    for cls in PROVIDERS.values():
        for state in credentials.states(cls):
            rows.append(
                {
                    "provider": state.provider,
                    "field": state.field,
                    "env_var": state.env_var,
                    "required": state.required,
                    "source": state.source,
                }
            )
    render.write_data(rows, o.output_format(ctx, fmt, as_json))
    if not credentials.keyring_available():
        print(f"note: {credentials.NO_KEYRING_HINT}", file=sys.stderr)


@app.command("delete")
def delete_key(provider: ProviderArg, field: FieldOpt = None) -> None:
    """Delete a provider's stored credential(s) from the OS keyring."""
    from gpubroker import credentials

    name, specs = _specs(provider, field)
    for spec in specs:
        credentials.delete(name, spec.field)
        print(f"deleted {name}.{spec.field} from the keyring", file=sys.stderr)
