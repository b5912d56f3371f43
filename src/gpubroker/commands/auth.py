"""`gpubroker auth`: log in to the hosted API and manage the profile's token."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gpubroker.commands import _api as a
from gpubroker.commands import _options as o
from gpubroker.errors import InvalidCredentialsError, MissingCredentialsError, UsageError
from gpubroker.vocabulary import EnvVars

app = typer.Typer(
    help="Log in to the hosted API (operators) and manage the token.", no_args_is_help=True
)

STATUS_LABELS = {"source": "token from", "api_key_source": "API key from"}


def _env_note(ctx: typer.Context) -> None:
    if os.environ.get(EnvVars.TOKEN):
        a.note(ctx, f"note: {EnvVars.TOKEN} is set and overrides the stored token")


@app.command("login")
def login(
    ctx: typer.Context,
    email: Annotated[
        str | None, typer.Option("--email", help="Admin e-mail (prompted on a terminal).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    with_token: Annotated[
        bool,
        typer.Option(
            "--with-token", help="Read a token issued elsewhere from stdin (or a hidden prompt)."
        ),
    ] = False,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="With --with-token: keep it without asking.")
    ] = False,
    insecure_storage: a.InsecureStorageOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Log in and keep the token for this profile in the OS keyring.

    The password never goes on the command line: a hidden prompt, or --password-stdin.
    In CI, skip login and set GPUBROKER_TOKEN instead.

    \b
    Examples:
      gpubroker auth login --email ops@example.com
      printf '%s\\n' "$PASSWORD" | gpubroker auth login --email ops@example.com --password-stdin
      printf '%s\\n' "$TOKEN" | gpubroker auth login --with-token
    """
    account = o.state(ctx).broker().account
    account.secrets.require_storage("token", insecure=insecure_storage)  # before any prompt
    if with_token:
        token = a.ask_secret(
            "Token",
            from_stdin=not a.interactive(),
            missing="no token: pipe it on stdin",
        )
        status = account.login_with_token(
            token, insecure_storage=insecure_storage, verify=not no_verify
        )
    else:
        if not email:
            if not a.interactive():
                raise UsageError("email is required without a terminal", param="email")
            email = str(typer.prompt("E-mail", err=True))
        password = a.ask_secret(
            "Password",
            from_stdin=password_stdin,
            missing="no password: pass --password-stdin and pipe it, or run on a terminal",
        )
        status = account.login(email, password, insecure_storage=insecure_storage)
    who = status.email or "(the token names no user)"
    a.note(ctx, f"Logged in as {who}{f' ({status.role})' if status.role else ''}; token kept in"
           f" the {status.source}")  # fmt: skip
    _env_note(ctx)
    a.show_record(ctx, fmt, as_json, status, title="Hosted API login", labels=STATUS_LABELS)


@app.command("status")
def status(
    ctx: typer.Context,
    verify: Annotated[
        bool, typer.Option("--verify", help="Also ask the server whether it accepts the token.")
    ] = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Show who the token says you are, its role, expiry and source — never the token.

    Exit 4 when there is no token, it has expired, or (--verify) the server refuses it.

    \b
    Example:
      gpubroker auth status --verify --json
    """
    result = o.state(ctx).broker().account.auth_status(verify=verify)
    a.show_record(ctx, fmt, as_json, result, title="Hosted API login", labels=STATUS_LABELS)
    if not result.logged_in:
        raise MissingCredentialsError(
            "not logged in to the hosted API",
            hint="run `gpubroker auth login`, or set GPUBROKER_TOKEN",
        )
    if result.expired:
        raise InvalidCredentialsError(
            f"the token expired at {result.expires_at}",
            hint="log in again with `gpubroker auth login`",
        )
    if result.verified is False:
        raise InvalidCredentialsError(
            "the server refuses the token", hint="log in again with `gpubroker auth login`"
        )


@app.command("token")
def token(ctx: typer.Context) -> None:
    """Print the profile's token, for scripts. Exit 4 when not logged in.

    \b
    Example:
      curl -H "Authorization: Bearer $(gpubroker auth token)" "$URL"
    """
    print(o.state(ctx).broker().account.token())


@app.command("logout")
def logout(
    ctx: typer.Context,
    api_key: Annotated[
        bool, typer.Option("--api-key", help="Also forget the subscription API key.")
    ] = False,
) -> None:
    """Forget the profile's stored token (keyring and any --insecure-storage file)."""
    removed = o.state(ctx).broker().account.logout(api_key=api_key)
    for what in removed:
        a.note(ctx, f"removed the {what}")
    if not removed:
        a.note(ctx, "nothing was stored; nothing to remove")
    _env_note(ctx)
