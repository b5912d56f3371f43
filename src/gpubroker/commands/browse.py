"""`gpubroker browse`: find and rank GPU offers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gpubroker.commands import _options as o
from gpubroker.errors import NotFoundError
from gpubroker.vocabulary import GROUP_BY, PRESET_NAMES

if TYPE_CHECKING:
    from gpubroker.models import Query, SearchResult


def build_query(
    *,
    gpu: list[str] | None = None,
    min_gpus: int | None = None,
    max_gpus: int | None = None,
    min_vram: float | None = None,
    max_price: float | None = None,
    max_price_per_gpu: float | None = None,
    provider: list[str] | None = None,
    region: list[str] | None = None,
    country: list[str] | None = None,
    spot: bool | None = None,
    min_reliability: float | None = None,
    min_vcpus: float | None = None,
    min_ram: float | None = None,
    min_disk: float | None = None,
    available: bool = False,
    where: str | None = None,
) -> Query:
    """The `Query` for the filter flags shared by browse and watch (names as on the CLI)."""
    from gpubroker.models import Query

    return Query(
        gpus=gpu or [], min_gpus=min_gpus, max_gpus=max_gpus, min_vram_gib=min_vram,
        max_price_usd=max_price or None, max_price_per_gpu_usd=max_price_per_gpu or None,
        providers=provider or [], regions=region or [], countries=country or [], spot=spot,
        min_reliability=min_reliability, min_vcpus=min_vcpus, min_ram_gib=min_ram,
        min_disk_gib=min_disk, available_only=available, where=where,
    )  # fmt: skip


def print_notes(ctx: typer.Context, result: SearchResult) -> None:
    from gpubroker import render

    err = o.state(ctx).err()
    render.render_result_notes(result, err)


def browse(
    ctx: typer.Context,
    gpu: o.GpuOpt = None,
    min_gpus: o.MinGpusOpt = None,
    max_gpus: o.MaxGpusOpt = None,
    min_vram: o.MinVramOpt = None,
    max_price: o.MaxPriceOpt = None,
    max_price_per_gpu: o.MaxPricePerGpuOpt = None,
    provider: o.ProviderOpt = None,
    region: o.RegionOpt = None,
    country: o.CountryOpt = None,
    spot: o.SpotOpt = None,
    min_reliability: o.MinReliabilityOpt = None,
    min_vcpus: o.MinVcpusOpt = None,
    min_ram: o.MinRamOpt = None,
    min_disk: o.MinDiskOpt = None,
    available: o.AvailableOpt = False,
    where: o.WhereOpt = None,
    optimize: Annotated[
        str | None,
        typer.Option(
            "--optimize",
            "-O",
            help=f"Ranking preset: {', '.join(PRESET_NAMES)}.",
            autocompletion=lambda: list(PRESET_NAMES),
        ),
    ] = None,
    weights: Annotated[
        str | None, typer.Option("--weights", help="Criterion weights: price=0.5,vram=0.3,...")
    ] = None,
    sort: Annotated[
        str | None, typer.Option("--sort", help="Sort by FIELD instead of rank; -FIELD descends.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Rows to show.")] = None,
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
    offline: o.OfflineOpt = False,
    strict: o.StrictOpt = False,
    fields: o.FieldsOpt = None,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Find GPU offers across providers, ranked best-first with TOPSIS.

    \b
    Examples:
      gpubroker browse --gpu h100
      gpubroker browse --gpu a100 --min-gpus 2 --format json
      gpubroker browse --where 'vram>=80 and price<3' --optimize cost --explain
      gpubroker browse --group-by gpu
    """
    from gpubroker import render

    st = o.state(ctx)
    output = o.output_format(ctx, fmt, as_json)
    query = build_query(
        gpu=gpu, min_gpus=min_gpus, max_gpus=max_gpus, min_vram=min_vram, max_price=max_price,
        max_price_per_gpu=max_price_per_gpu, provider=provider, region=region, country=country,
        spot=spot, min_reliability=min_reliability, min_vcpus=min_vcpus, min_ram=min_ram,
        min_disk=min_disk, available=available, where=where,
    )  # fmt: skip
    broker = st.broker()
    # Validate presentation flags before any network traffic.
    valid = broker.offers.group_columns(group_by) if group_by else render.OFFER_FIELDS
    columns = render.parse_fields(fields, valid)
    with o.progress(st.err(), "asking providers") as update:
        result = broker.search(
            query, preset=optimize, weights=weights or None,
            explain=explain, hours=hours, sort=sort,
            limit=None if group_by else (limit or broker.settings.limit),
            fresh=fresh, offline=offline, strict=strict, on_progress=update,
        )  # fmt: skip
    print_notes(ctx, result)
    if group_by:
        rows = broker.offers.group(result.offers, group_by)
        shown = rows[:limit] if limit else rows
        render.render_groups(shown, output, group_by, columns=columns, no_color=st.no_color)
    else:
        render.render_offers(result.offers, output, fields=columns, hours=hours, explain=explain,
                             no_color=st.no_color)  # fmt: skip
    if not result.offers:
        raise NotFoundError(
            "no offer matched the filters", hint="loosen a filter, or see `browse --group-by gpu`"
        )
    if output.value == "table" and not group_by:
        more = result.total_matched - len(result.offers)
        tail = f"; {more} more with --limit" if more > 0 else ""
        legend = f"{len(result.offers)} of {result.total_matched} offers{tail}"
        if columns is None or "rank" in columns:
            legend += "; * = Pareto-optimal"
        st.err().print(legend, markup=False, highlight=False)
