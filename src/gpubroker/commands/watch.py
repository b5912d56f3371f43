"""`gpubroker watch`: wait until an offer matches, for CI scripts and alerts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from gpubroker.commands import _options as o
from gpubroker.commands.browse import print_notes
from gpubroker.errors import (
    NoProvidersAvailableError,
    NotFoundError,
    UnavailableError,
    UsageError,
)

if TYPE_CHECKING:
    from gpubroker.models import SearchResult


@o.search_options
def watch(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option("--interval", min=1, help="Seconds between checks.")
    ] = 60,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="Give up after N seconds (exit 3, or 5).")
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
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="Offers to print (0: every offer).")
    ] = 20,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
    *,
    search: o.SearchArgs,
) -> None:
    """Check live offers every --interval seconds until one matches, then print them.

    Takes browse's filters and ranking options, plus a price cap (--max-price or
    --max-price-per-gpu). Exit 0 with the matches ranked as browse ranks them; 3 when
    --timeout passes first; 5 when no provider could be checked during the whole window.
    Catalog prices are not live, so they do not count unless --include-catalog.

    \b
    Example for CI:
      gpubroker watch --gpu h100 --max-price 2.5 --interval 120 --timeout 7200 --json
    """
    from gpubroker import render

    st = o.state(ctx)
    broker = st.broker()
    query = search.query()
    if query.max_price_usd is None and query.max_price_per_gpu_usd is None:
        raise UsageError(
            "watch needs a price cap: max_price or max_price_per_gpu",
            param=("max_price", "max_price_per_gpu"),
        )
    broker.offers.check_alert_targets(notify_email, notify_from, notify_sms)
    output = o.output_format(ctx, fmt, as_json)
    if not include_catalog:
        query = query.model_copy(update={"where": _and(query.where, "source != catalog")})
    deadline = time.monotonic() + timeout
    checked = False  # did any provider answer live during the window?
    shown: list[str] = []  # warnings printed last round, so a long watch does not repeat them
    while True:
        result: SearchResult | None = None
        try:
            result = broker.search(
                query, preset=search.optimize, weights=search.weights or None, fresh=True,
                limit=limit,
            )  # fmt: skip
        except UnavailableError as exc:  # every provider down this round: keep watching
            statuses = exc.statuses if isinstance(exc, NoProvidersAvailableError) else []
            lines = render.status_lines(statuses) or [f"warning: {exc.message}"]
        if result is not None:
            checked = checked or any(s.status.value == "ok" for s in result.statuses)
            lines = render.result_note_lines(result)
        if result is not None and result.offers:
            print_notes(ctx, result)
            render.render_offers(result.offers, output, no_color=st.no_color)
            broker.offers.alert(
                result.offers, email=notify_email, sender=notify_from, sms=notify_sms
            )
            return
        if lines != shown:
            for line in lines:
                st.err().print(line, markup=False, highlight=False, soft_wrap=True)
            shown = lines
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if output.value == "json":
                render.write_data([], output)
            if not checked:
                raise UnavailableError(
                    f"no provider could be checked within {timeout:g}s (see the warnings above)"
                )
            raise NotFoundError(f"no offer matched within {timeout:g}s")
        wait = min(interval, remaining)
        st.err().print(f"no match yet; next check in {wait:.0f}s", markup=False, highlight=False)
        time.sleep(wait)


def _and(left: str | None, right: str) -> str:
    return f"({left}) and {right}" if left else right
