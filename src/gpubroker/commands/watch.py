"""`gpubroker watch`: wait until an offer matches, for CI scripts and alerts."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from gpubroker.commands import _options as o
from gpubroker.commands.browse import build_query, print_notes
from gpubroker.errors import NotFoundError, UnavailableError


def watch(
    ctx: typer.Context,
    max_price: Annotated[
        float, typer.Option("--max-price", min=0, help="Offer price, $/h, at most (required).")
    ],
    gpu: o.GpuOpt = None,
    min_gpus: o.MinGpusOpt = None,
    max_gpus: o.MaxGpusOpt = None,
    min_vram: o.MinVramOpt = None,
    max_price_per_gpu: o.MaxPricePerGpuOpt = None,
    provider: o.ProviderOpt = None,
    region: o.RegionOpt = None,
    country: o.CountryOpt = None,
    spot: o.SpotOpt = None,
    min_reliability: o.MinReliabilityOpt = None,
    available: o.AvailableOpt = False,
    where: o.WhereOpt = None,
    interval: Annotated[
        float, typer.Option("--interval", min=1, help="Seconds between checks.")
    ] = 60,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="Give up after N seconds (exit 3).")
    ] = 3600,
    include_catalog: Annotated[
        bool, typer.Option("--include-catalog", help="Let bundled catalog prices match too.")
    ] = False,
    notify_email: Annotated[
        str | None, typer.Option("--notify-email", help="Alert this address via AWS SES.")
    ] = None,
    notify_from: Annotated[
        str | None, typer.Option("--notify-from", help="SES-verified sender for --notify-email.")
    ] = None,
    notify_sms: Annotated[
        str | None, typer.Option("--notify-sms", help="Alert this E.164 number via AWS SNS.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Offers to print.")] = 20,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Check live offers every --interval seconds until one matches, then print them.

    Exit 0 with the matches, or 3 when --timeout passes first. Catalog prices are not live,
    so they do not count unless --include-catalog.

    \b
    Example for CI:
      gpubroker watch --gpu h100 --max-price 2.5 --interval 120 --timeout 7200 --json
    """
    from gpubroker import render

    st = o.state(ctx)
    broker = st.broker()
    broker.offers.check_alert_targets(notify_email, notify_from, notify_sms)
    output = o.output_format(ctx, fmt, as_json)
    query = build_query(
        gpu=gpu, min_gpus=min_gpus, max_gpus=max_gpus, min_vram=min_vram, max_price=max_price,
        max_price_per_gpu=max_price_per_gpu, provider=provider, region=region, country=country,
        spot=spot, min_reliability=min_reliability, available=available, where=where,
    )  # fmt: skip
    if not include_catalog:
        query = query.model_copy(update={"where": _and(query.where, "source != catalog")})
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = broker.search(query, fresh=True, limit=limit)
        except UnavailableError as exc:  # every provider down this round: keep watching
            st.err().print(f"warning: {exc.message}", markup=False, highlight=False)
            result = None
        if result is not None and result.offers:
            print_notes(ctx, result)
            render.render_offers(result.offers, output, no_color=st.no_color)
            broker.offers.alert(
                result.offers, email=notify_email, sender=notify_from, sms=notify_sms
            )
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if output.value == "json":
                render.write_data([], output)
            raise NotFoundError(f"no offer matched within {timeout:g}s")
        wait = min(interval, remaining)
        st.err().print(f"no match yet; next check in {wait:.0f}s", markup=False, highlight=False)
        time.sleep(wait)


def _and(left: str | None, right: str) -> str:
    return f"({left}) and {right}" if left else right
