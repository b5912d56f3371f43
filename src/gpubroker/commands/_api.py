"""Helpers shared by the hosted-API commands: confirmation, secrets from stdin or a hidden
prompt, and rendering of payload models (records and tables that fit 80 columns)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gpubroker.commands import _options as o
from gpubroker.errors import RefusedError, UsageError

if TYPE_CHECKING:
    from pydantic import BaseModel

YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Do it without asking (needed without a terminal).")
]
InsecureStorageOpt = Annotated[
    bool,
    typer.Option(
        "--insecure-storage",
        help="No OS keyring here: keep the secret in a file only you can read (0600) under"
        " GPUBROKER_HOME.",
    ),
]
PodArg = Annotated[str, typer.Argument(help="POD id, e.g. pod-1a2b3c4d.", show_default=False)]


def interactive() -> bool:
    """True when a person can answer a prompt (stdin and stderr are terminals)."""
    from gpubroker import render

    return render.is_tty(sys.stdin) and render.is_tty(sys.stderr)


def confirm(question: str, yes: bool, *, flag: str = "--yes") -> None:
    """Go on when ``yes``; ask on a terminal; otherwise refuse (exit 6).

    Raises:
        RefusedError: no terminal to ask and no ``flag``, or the answer was no.
    """
    if yes:
        return
    if not interactive():
        raise RefusedError(f"{question.rstrip('?')}: needs confirmation", hint=f"pass {flag}")
    if not typer.confirm(question, default=False, err=True):
        raise RefusedError("cancelled; nothing was done", hint=f"answer y, or pass {flag}")


def read_line() -> str:
    """One line of stdin without its line ending (nothing else is stripped)."""
    return sys.stdin.readline().rstrip("\r\n")


def ask_secret(label: str, *, from_stdin: bool, missing: str) -> str:
    """A secret from stdin (``from_stdin``) or a hidden prompt on a terminal.

    Raises:
        UsageError: no terminal to prompt on and ``from_stdin`` not asked for.
    """
    if from_stdin:
        return read_line()
    if interactive():
        return str(typer.prompt(label, hide_input=True, err=True))
    raise UsageError(missing)


def note(ctx: typer.Context, text: str) -> None:
    """A note on stderr (never markup, never data)."""
    o.state(ctx).err().print(text, markup=False, highlight=False, soft_wrap=True)


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def money(value: float | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def text(value: Any) -> str:
    from gpubroker import render

    return render.cell_text(value)


def show_record(
    ctx: typer.Context,
    fmt: Any,
    as_json: bool,
    model: BaseModel,
    *,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    cells: Mapping[str, str] | None = None,
    skip_empty: bool = True,
    hide: Sequence[str] = (),
) -> None:
    """Render one payload model: JSON object, or a field/value panel (without ``hide``)."""
    from gpubroker import render

    record = dump(model)
    if cells is None and skip_empty:
        cells = {
            k: money(v) if k.endswith("_usd") and isinstance(v, (int, float)) else text(v)
            for k, v in record.items()
            # "success": a failure is an error instead
            if v not in (None, "", [], {}) and k != "success" and k not in hide
        }
    render.write_record(
        record,
        o.output_format(ctx, fmt, as_json),
        title=title,
        labels=labels,
        cells=cells,
        no_color=o.state(ctx).no_color,
    )


def show_rows(
    ctx: typer.Context,
    fmt: Any,
    as_json: bool,
    models: Sequence[BaseModel],
    *,
    widths: Mapping[str, int],
    headers: Mapping[str, str] | None = None,
    formatters: Mapping[str, Any] | None = None,
    droppable: Sequence[str] = (),
    title: str | None = None,
) -> None:
    """Render payload models as rows: every field in data formats; in a table the columns
    of ``widths``, each cell clipped to its width so that the table fits 80 columns.

    A formatter gets the cell's value, or the whole row for a column that is not a field.
    """
    from gpubroker import render

    rows = [dump(model) for model in models]
    output = o.output_format(ctx, fmt, as_json)
    if output.value not in ("table", "markdown"):
        render.write_data(rows, output, columns=list(rows[0]) if rows else None)
        return
    formatters = formatters or {}

    def cell(row: dict[str, Any], col: str) -> str:
        if col not in row:  # a column made from the whole row, e.g. "used/limit"
            return str(formatters[col](row))
        return str(formatters[col](row[col])) if col in formatters else text(row[col])

    cells = [{col: render.clip(cell(row, col), w) for col, w in widths.items()} for row in rows]
    render.write_data(
        rows,
        output,
        columns=list(widths),
        headers=headers,
        table_rows=cells,
        droppable=droppable,
        title=title,
        no_color=o.state(ctx).no_color,
    )
