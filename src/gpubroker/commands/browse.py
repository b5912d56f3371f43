"""`gpubroker browse`: find and rank GPU offers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from gpubroker._gc import paused
from gpubroker.commands import _options as o
from gpubroker.errors import NotFoundError
from gpubroker.vocabulary import GROUP_BY

if TYPE_CHECKING:
    from gpubroker.models import SearchResult


def print_notes(ctx: typer.Context, result: SearchResult | Any) -> None:
    """The result's notes and provider warnings on stderr (a `SearchResult`, or the
    light rows of ``broker.offers.rows``)."""
    from gpubroker import render

    render.write_notes(render.result_note_lines(result), o.state(ctx).err)


@o.search_options
def browse(
    ctx: typer.Context,
    sort: Annotated[
        str | None, typer.Option("--sort", help="Sort by FIELD instead of rank; -FIELD descends.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=0, help="Rows to show (0: every row).")
    ] = None,
    hours: Annotated[
        float | None, typer.Option("--hours", min=0, help="Add the total cost for N hours.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show each criterion's share of the score.")
    ] = False,
    group_by: Annotated[
        str | None, typer.Option("--group-by", help=f"One row per {'|'.join(GROUP_BY)}.")
    ] = None,
    fresh: o.FreshOpt = False,
    accept_empty: o.AcceptEmptyOpt = False,
    offline: o.OfflineOpt = False,
    strict: o.StrictOpt = False,
    fields: o.FieldsOpt = None,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
    *,
    search: o.SearchArgs,
) -> None:
    """Find GPU offers across providers, ranked best-first with TOPSIS.

    \b
    Examples:
      gpubroker browse --gpu h100
      gpubroker browse --gpu a100 --min-gpus 2 --format json
      gpubroker browse --gpu H100:8 --optimize cost
      gpubroker browse --where 'vram>=80 and price<3' --optimize cost --explain
      gpubroker browse --group-by gpu
    """
    from gpubroker import render

    st = o.state(ctx)
    output = o.output_format(ctx, fmt, as_json)
    query = search.query()
    broker = st.broker()
    # Validate presentation flags before any network traffic.
    valid = broker.offers.group_columns(group_by) if group_by else render.OFFER_FIELDS
    columns = render.parse_fields(fields, valid)
    # One pause of the cyclic collector for the search and its output, and the rows dropped
    # before it resumes: a collection would otherwise walk every row read (0.06 s at 50,000).
    with paused():
        with o.progress(st.err, "asking providers") as update:
            # Light rows, not models: `--limit 0` over 50,000 cached offers streams in seconds.
            result = broker.offers.rows(
                query, preset=search.optimize, weights=search.weights or None,
                explain=explain, hours=hours, sort=sort,
                limit=None if group_by else (broker.settings.limit if limit is None else limit),
                fresh=fresh, offline=offline, strict=strict, on_progress=update,
                accept_empty=accept_empty,
            )  # fmt: skip
        print_notes(ctx, result)
        if group_by:
            rows = broker.offers.group(result.offers, group_by)
            shown = rows[:limit] if limit else rows
            render.render_groups(shown, output, group_by, columns=columns, no_color=st.no_color)
            del rows, shown
        else:
            render.render_offers(
                result.offers, output, fields=columns, hours=hours, explain=explain,
                no_color=st.no_color,
            )  # fmt: skip
        count, total_matched = len(result.offers), result.total_matched
        del result
    if not count:
        raise NotFoundError(
            "no offer matched the filters", hint="loosen a filter, or see `browse --group-by gpu`"
        )
    if output.value == "table" and not group_by:
        more = total_matched - count
        tail = f"; {more} more with --limit" if more > 0 else ""
        legend = f"{count} of {total_matched} offers{tail}"
        if columns is None or "rank" in columns:
            legend += "; * = Pareto-optimal"
        st.err().print(legend, markup=False, highlight=False)
