"""`gpubroker validate`: Ecuadorian RUC and cédula numbers, checked locally."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gpubroker.commands import _api as a
from gpubroker.commands import _options as o
from gpubroker.errors import GpubrokerError

app = typer.Typer(
    help="Validate Ecuadorian RUC and cédula numbers (locally; --remote asks the API too).",
    no_args_is_help=True,
)

ValueArg = Annotated[str, typer.Argument(help="The number; spaces and dashes are ignored.")]
RemoteOpt = Annotated[
    bool, typer.Option("--remote", help="Also ask the hosted API (the local result decides).")
]
LenientOpt = Annotated[
    bool,
    typer.Option("--lenient", help="Accept a company RUC (third digit 9) whose check digit fails."),
]
LABELS = {"province_code": "province code", "kind": "type"}


def _run(
    ctx: typer.Context,
    value: str,
    kind: str | None,
    remote: bool,
    lenient: bool,
    fmt: Any,
    as_json: bool,
) -> None:
    from gpubroker import render

    account = o.state(ctx).broker().account
    check = account.check_identity(value, kind, lenient=lenient)
    record: dict[str, Any] = check.as_dict()
    if remote:
        try:
            answer = account.validate_remote(value, kind)
            record["remote_valid"] = answer.valid
            record["remote_message"] = answer.message
        except GpubrokerError as exc:
            record["remote_valid"] = None
            record["remote_message"] = f"error: {exc.message}"
            a.note(ctx, f"warning: the server could not validate it: {exc.message}")
        if record["remote_valid"] is not None and record["remote_valid"] != check.valid:
            a.note(ctx, "warning: the server disagrees; its rules are laxer (admin-api.md"
                   " §6.1), the local check decides")  # fmt: skip
    cells = {k: a.text(v) for k, v in record.items() if v not in (None, "")}
    render.write_record(
        record,
        o.output_format(ctx, fmt, as_json),
        title="Identity",
        labels=LABELS,
        cells=cells,
        no_color=o.state(ctx).no_color,
    )
    if check.warning:
        a.note(ctx, f"warning: {check.warning}")
    check.raise_if_invalid()  # exit 6 with the reason


@app.command("id")
def validate_id(
    ctx: typer.Context,
    value: ValueArg,
    remote: RemoteOpt = False,
    lenient: LenientOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Validate a RUC (13 digits) or a cédula (10 digits), told apart by length.

    Exit 0 valid, 6 invalid (with the reason).

    \b
    Example:
      gpubroker validate id 1713488185
    """
    _run(ctx, value, None, remote, lenient, fmt, as_json)


@app.command("ruc")
def validate_ruc(
    ctx: typer.Context,
    value: ValueArg,
    remote: RemoteOpt = False,
    lenient: LenientOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Validate a RUC: province, third-digit class (natural person, public entity, company),
    mod-10/mod-11 check digit and establishment number.

    \b
    Example:
      gpubroker validate ruc 1790869571001 --json
    """
    _run(ctx, value, "ruc", remote, lenient, fmt, as_json)


@app.command("cedula")
def validate_cedula(
    ctx: typer.Context,
    value: ValueArg,
    remote: RemoteOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Validate a cédula: province 01–24 or 30, third digit 0–5, mod-10 check digit.

    \b
    Example:
      gpubroker validate cedula 1713488185
    """
    _run(ctx, value, "cedula", remote, False, fmt, as_json)
