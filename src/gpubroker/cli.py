"""The `gpubroker` command: global options, sub-apps, and the one error boundary."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import sys
import traceback
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup
from typer.models import TyperInfo

from gpubroker import __version__
from gpubroker.commands import (
    browse,
    config,
    costs,
    deploy,
    doctor,
    gpus,
    keys,
    offers,
    providers,
    subscription,
    watch,
)
from gpubroker.commands._options import AppState, flag_for, state
from gpubroker.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    GpubrokerError,
    UsageError,
)
from gpubroker.vocabulary import EnvVars, OutputFormat


def _debug_enabled(ctx_obj: Any = None) -> bool:
    if isinstance(ctx_obj, AppState) and ctx_obj.debug:
        return True
    return os.environ.get(EnvVars.DEBUG, "").lower() in ("1", "true", "yes")


class _DebugLog(logging.Handler):
    """``--debug``: the library's log lines on stderr, prefixed ``debug:``.

    Writes to whatever ``sys.stderr`` is when a line is emitted, so one handler serves every
    invocation of a process (and of a test runner). Only the ``gpubroker`` loggers are shown:
    their lines carry provider row ids, never request URLs or credentials.
    """

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError, ValueError):  # stderr closed: nothing to tell
            sys.stderr.write(f"debug: {self.format(record)}\n")


def _log_debug(enabled: bool) -> None:
    """Show (or stop showing) the library's debug log on stderr."""
    logger = logging.getLogger("gpubroker")
    ours = [h for h in logger.handlers if isinstance(h, _DebugLog)]
    if enabled:
        if not ours:
            logger.addHandler(_DebugLog())
        logger.setLevel(logging.DEBUG)
    else:
        for handler in ours:
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def cli_message(exc: GpubrokerError) -> str:
    """The error's message as a CLI user should read it: parameters named by their flags."""
    message = exc.message
    if isinstance(exc, UsageError):
        for param in exc.params:
            message = re.sub(rf"(?<![\w-]){re.escape(param)}(?!\w)", flag_for(param), message)
    return message


def report_error(exc: GpubrokerError, debug: bool) -> None:
    """`Error: <message>` (+ hint) on stderr; a traceback only in debug mode, never locals."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    from gpubroker.remote import redact_known
    from gpubroker.textfmt import sanitize

    print(f"Error: {sanitize(redact_known(cli_message(exc)))}", file=sys.stderr)
    if exc.hint:
        print(f"Hint: {sanitize(redact_known(exc.hint))}", file=sys.stderr)
    elif not debug and exc.exit_code not in (EXIT_USAGE, EXIT_NOT_FOUND):
        # A traceback helps with failures, not with a mistyped flag or an empty result.
        print(f"Hint: set {EnvVars.DEBUG}=1 for a traceback", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. under a test runner)
        pass


#: Sub-apps imported and built only when used: Typer builds the whole command tree on every
#: run, so a big group that is not asked for would slow down every other command.
#: name → module (its ``app``), listed after the eager commands, in this order.
LAZY_APPS = {
    "auth": "gpubroker.commands.auth",
    "pay": "gpubroker.commands.pay",
    "validate": "gpubroker.commands.validate",
    "admin": "gpubroker.commands.admin",
    "agent": "gpubroker.commands.agent",
    "configs": "gpubroker.commands.configs",
    "pods": "gpubroker.commands.pods",
}


class BoundaryGroup(TyperGroup):
    """Root group: turns every `GpubrokerError` into a message and its exit code, and builds
    the `LAZY_APPS` on first use."""

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        names = super().list_commands(ctx)
        return [*names, *(name for name in LAZY_APPS if name not in names)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:  # type: ignore[override]
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_APPS:
            module = importlib.import_module(LAZY_APPS[cmd_name])
            # Built exactly as `add_typer` would have built it under this root.
            command = typer.main.get_group_from_info(
                TyperInfo(module.app, name=cmd_name),
                pretty_exceptions_short=app.pretty_exceptions_short,
                suggest_commands=app.suggest_commands,
                rich_markup_mode=app.rich_markup_mode,
            )
            self.add_command(command, cmd_name)
        return command

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except GpubrokerError as exc:
            report_error(exc, _debug_enabled(ctx.obj))
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # stdout closed early (`| head`): the reader has what it wanted; not an error.
            _silence_stdout()
            raise typer.Exit(0) from None
        finally:
            if isinstance(ctx.obj, AppState):
                ctx.obj.flush_notes()
                ctx.obj.close()


_APP_SETTINGS: dict[str, Any] = {
    "name": "gpubroker",
    "cls": BoundaryGroup,
    "help": "GPU control tower: find, rank and deploy GPU compute across providers.",
    "no_args_is_help": True,
    "pretty_exceptions_show_locals": False,
    "pretty_exceptions_enable": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
    "rich_markup_mode": None,
}
app = typer.Typer(**_APP_SETTINGS)


def _version(value: bool) -> None:
    if value:
        print(f"gpubroker {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Settings profile from config.toml.")
    ] = None,
    fmt: Annotated[
        OutputFormat | None,
        typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (NO_COLOR).")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Tracebacks on errors; skipped rows by id.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """GPU control tower: find, rank and deploy GPU compute across providers.

    Start with `gpubroker browse --gpu h100`. Data goes to stdout, notes to stderr;
    exit codes: 0 ok, 1 error, 2 bad input, 3 nothing found, 4 auth, 5 unavailable,
    6 refused, 130 interrupted.
    """
    st = state(ctx)
    st.profile = profile
    st.format = OutputFormat.JSON if as_json else fmt
    st.no_color = no_color or bool(os.environ.get(EnvVars.NO_COLOR))
    st.debug = debug
    _log_debug(_debug_enabled(st))


app.command("browse")(browse.browse)
app.command("gpus")(gpus.list_gpus)
app.command("watch")(watch.watch)
app.add_typer(offers.app, name="offers")
app.command("providers")(providers.list_providers)
app.add_typer(keys.app, name="keys")
app.add_typer(config.app, name="config")
app.command("doctor")(doctor.doctor)
app.command("plans")(subscription.plans)
app.command("geo")(subscription.geo)
app.command("subscribe")(subscription.subscribe)
app.command("activate")(subscription.activate)
app.command("status")(subscription.status)
app.command("estimate")(deploy.estimate)
app.command("deploy")(deploy.deploy)
app.command("costs")(costs.costs)


#: Root options that take a value (the command name is the first other word).
_VALUE_OPTIONS = frozenset({"--profile", "--format", "-f"})


def app_for(args: list[str]) -> typer.Typer:
    """``app`` with only the command ``args`` invoke (Typer builds every registered command
    on each run, ~40 ms of a cold start; a `LAZY_APPS` group is built by `BoundaryGroup`);
    the whole app when the command is not clear."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "--":
            return app
        i += 2 if args[i] in _VALUE_OPTIONS else 1
    if i >= len(args):
        return app
    name = args[i]
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups and name not in LAZY_APPS:
        return app  # an unknown command: the whole app says so, with the valid ones
    slim = typer.Typer(**_APP_SETTINGS)
    slim.registered_callback = app.registered_callback
    slim.registered_commands = commands
    slim.registered_groups = groups
    return slim


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        args = sys.argv[1:] if argv is None else list(argv)
        app_for(args)(args=args, prog_name="gpubroker")
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(0)
    except GpubrokerError as exc:  # raised outside a command (e.g. while building help)
        report_error(exc, _debug_enabled())
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _debug_enabled():
            traceback.print_exception(exc, file=sys.stderr)
        print(f"Error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"Hint: set {EnvVars.DEBUG}=1 for a traceback, and report it", file=sys.stderr)
        sys.exit(EXIT_ERROR)
