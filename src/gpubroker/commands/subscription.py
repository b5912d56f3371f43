"""Subscriptions to the hosted service: `gpubroker plans`, `geo`, `subscribe`, `activate`
and `status`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer

from gpubroker.commands import _api as a
from gpubroker.commands import _options as o
from gpubroker.errors import CredentialsError
from gpubroker.vocabulary import EnvVars

SUBSCRIPTION_LABELS = {
    "progress_percent": "progress %",
    "amount_usd": "amount",
    "api_key_source": "API key in",
    "next_step": "next",
}


def _show_subscription(ctx: typer.Context, fmt: o.FormatOpt, as_json: bool, sub: Any) -> None:
    if sub.message:
        a.note(ctx, f"note: {sub.message}")
    a.show_record(
        ctx,
        fmt,
        as_json,
        sub,
        title="Subscription",
        labels=SUBSCRIPTION_LABELS,
        hide=("message", "next_step"),
    )
    if sub.next_step:
        a.note(ctx, f"next: {sub.next_step}")


def plans(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """List the plans with price and monthly tokens: from the hosted API when it answers,
    else the built-in table (labelled so in the source column and on stderr).

    \b
    Example:
      gpubroker plans --json
    """
    table = o.state(ctx).broker().account.plans()
    if table.note:
        a.note(ctx, f"note: {table.note}")
    a.show_rows(
        ctx,
        fmt,
        as_json,
        table.plans,
        widths={"plan": 12, "display_name": 20, "price_usd_month": 10, "tokens": 9, "source": 8},
        headers={"display_name": "name", "price_usd_month": "USD/month"},
        formatters={
            "price_usd_month": lambda v: "" if v is None else f"{v:,.2f}",
            "tokens": lambda v: "" if v is None else f"{v:,}",
        },
    )


def geo(
    ctx: typer.Context,
    country: Annotated[
        str | None,
        typer.Option("--country", help="Show this ISO-2 country's rules instead of detecting."),
    ] = None,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Show the country the hosted API detects for you and whether it needs a tax id
    (EC: RUC or cédula).

    \b
    Example:
      gpubroker geo --country EC
    """
    result = o.state(ctx).broker().account.geo(country)
    a.show_record(ctx, fmt, as_json, result, title="Country detection")


def subscribe(
    ctx: typer.Context,
    plan: Annotated[str, typer.Option("--plan", help="trial, basic, pro, corp or enterprise.")],
    email: Annotated[str, typer.Option("--email", help="The subscriber's e-mail.")],
    name: Annotated[str | None, typer.Option("--name", help="The subscriber's name.")] = None,
    country: Annotated[
        str | None,
        typer.Option("--country", help="ISO-2 country code (default: detected by the API)."),
    ] = None,
    tax_id: Annotated[
        str | None,
        typer.Option("--tax-id", help="Tax id; for EC a RUC (13 digits) or cédula (10)."),
    ] = None,
    lenient_tax_id: Annotated[
        bool,
        typer.Option(
            "--lenient-tax-id",
            help="Accept a company RUC (third digit 9) whose check digit does not verify.",
        ),
    ] = False,
    insecure_storage: a.InsecureStorageOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Subscribe to a plan. Everything is checked before any request; for EC a RUC or
    cédula is required and validated locally (missing: exit 2, invalid: exit 6).

    The free trial is created at once (its API key goes to the OS keyring); a paid plan is
    drafted and created when its payment is captured (`gpubroker pay paypal`).

    \b
    Examples:
      gpubroker subscribe --plan trial --email ana@example.com --country US
      gpubroker subscribe --plan pro --email ana@example.com --country EC --tax-id 1790869571001
    """
    sub = (
        o.state(ctx)
        .broker()
        .account.subscribe(
            plan=plan,
            email=email,
            name=name,
            country=country,
            tax_id=tax_id,
            lenient_tax_id=lenient_tax_id,
            insecure_storage=insecure_storage,
        )
    )
    _show_subscription(ctx, fmt, as_json, sub)


def activate(
    ctx: typer.Context,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", help="The subscription's API key (gpuk_...)."),
    ] = None,
    api_key_stdin: Annotated[
        bool, typer.Option("--api-key-stdin", help="Read the API key from stdin.")
    ] = False,
    insecure_storage: a.InsecureStorageOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Activate the subscription: its POD starts provisioning. The API key comes from
    --api-key, --api-key-stdin, the one stored by subscribe/pay capture (or
    GPUBROKER_API_KEY), or a hidden prompt; it is kept in the OS keyring, never in SQLite.

    \b
    Example:
      printf '%s\\n' "$KEY" | gpubroker activate --api-key-stdin
    """
    account = o.state(ctx).broker().account
    key = None
    if api_key_stdin:
        key = a.read_line()
    elif api_key is not None:
        key = api_key
        a.note(ctx, "note: other users of this machine can see command-line arguments;"
               " prefer --api-key-stdin")  # fmt: skip
    elif account.secrets.get("api_key")[0] is None and a.interactive():
        key = a.ask_secret("API key", from_stdin=False, missing="")
    sub = account.activate(key, insecure_storage=insecure_storage)
    _show_subscription(ctx, fmt, as_json, sub)


def status(
    ctx: typer.Context,
    watch: Annotated[
        bool, typer.Option("--watch", help="Poll until the POD runs (progress on a terminal).")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="With --watch: give up after N seconds.")
    ] = 600,
    interval: Annotated[
        float, typer.Option("--interval", min=0.01, help="With --watch: seconds between polls.")
    ] = 5,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Show the subscription and its POD's status (asks the hosted API with the API key).

    --watch polls until the POD runs: exit 0 running, 5 after --timeout, 1 failed.

    \b
    Example:
      gpubroker status --watch --timeout 900 --json
    """
    account = o.state(ctx).broker().account
    if not watch and not _has_key(account):
        sub = account.subscription()  # nothing to ask the server with: the local record
        a.note(ctx, "note: no API key here; showing the local record")
        _show_subscription(ctx, fmt, as_json, sub)
        return
    if not watch:
        _show_subscription(ctx, fmt, as_json, account.status())
        return
    with _progress(ctx) as update:
        sub = account.watch(timeout_s=timeout, interval_s=interval, on_update=update)
    _show_subscription(ctx, fmt, as_json, sub)


def _has_key(account: Any) -> bool:
    if os.environ.get(EnvVars.API_KEY):
        return True
    try:
        return account.secrets.get("api_key")[0] is not None
    except CredentialsError:
        return True  # let the real call report the unusable file


@contextlib.contextmanager
def _progress(ctx: typer.Context) -> Iterator[Callable[[Any, Any], None] | None]:
    """A spinner on stderr while watching, only on a terminal."""
    if not o.stderr_is_tty():
        yield None
        return
    from rich.text import Text

    with o.state(ctx).err().status("waiting for the POD…") as spinner:

        def update(sub: Any, error: Any) -> None:
            if error is not None:
                spinner.update(Text(f"waiting for the POD… server error, retrying: {error}"))
            elif sub is not None:
                spinner.update(
                    Text(f"waiting for the POD… {sub.status} ({sub.progress_percent or 0}%)")
                )

        yield update
