"""`gpubroker offers`: refresh the cache, show one offer, price history."""

from __future__ import annotations

from typing import Annotated

import typer

from gpubroker.commands import _options as o
from gpubroker.errors import NoProvidersAvailableError, NotFoundError

app = typer.Typer(help="Refresh live offers, inspect one, and see price history.")


@app.command("refresh")
def refresh(
    ctx: typer.Context,
    provider: o.ProviderOpt = None,
    accept_empty: o.AcceptEmptyOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Fetch live offers now and update the cache and price history.

    Per provider: the offers kept and the rows skipped, by reason (`--debug` names each
    skipped row).

    \b
    Example:
      gpubroker offers refresh --provider vastai,runpod
    """
    from gpubroker import render

    st = o.state(ctx)
    broker = st.broker()
    with o.progress(st.err, "fetching offers") as update:
        statuses = broker.refresh(provider, on_progress=update, accept_empty=accept_empty)
    rows = [s.model_dump(mode="json") for s in statuses]
    render.write_data(
        rows,
        o.output_format(ctx, fmt, as_json),
        table_rows=render.fetch_table_rows(rows),
        droppable=render.REFRESH_DROPPABLE,
        keep=("provider", "status", "count"),
    )
    if all(s.status.value not in ("ok", "suspect") for s in statuses):
        raise NoProvidersAvailableError("no provider answered the refresh")


@app.command("show")
def show(
    ctx: typer.Context,
    offer_id: Annotated[str, typer.Argument(help="Offer id, e.g. aws:p5.48xlarge:us-east-1:...")],
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Show every field of one offer (from the cache or the bundled catalog)."""
    from gpubroker import render

    offer = o.state(ctx).broker().get_offer(offer_id)
    output = o.output_format(ctx, fmt, as_json)
    data = offer.model_dump(mode="json")
    if output.value in ("table", "markdown"):
        rows = [{"field": k, "value": render.cell_text(v)} for k, v in data.items()]
        render.write_data(rows, output)
        return
    render.write_data([data], output, json_object=data)


@app.command("history")
def history(
    ctx: typer.Context,
    gpu: Annotated[str, typer.Argument(help="GPU name or family, e.g. h100, 'A100 80GB'.")],
    provider: Annotated[str | None, typer.Option("--provider", "-p", help="One provider.")] = None,
    days: Annotated[float, typer.Option("--days", min=0, help="How far back.")] = 30,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Price history per provider, GPU and spot: $/GPU-hour percentiles per refresh.

    The table ends with a sparkline of the median per series.

    \b
    Example:
      gpubroker offers history h100 --days 7
    """
    from gpubroker import render

    offers = o.state(ctx).broker().offers
    rows = offers.history(gpu, provider=provider, days=days)
    output = o.output_format(ctx, fmt, as_json)
    if not rows:
        render.write_data([], output)
        raise NotFoundError(
            f"no price history for {gpu!r} in the last {days:g} days",
            hint="history grows with each live refresh: `gpubroker offers refresh`",
        )
    render.write_data(rows, output)
    if output.value == "table":
        render.history_sparklines(offers.history_series(rows))
