"""`gpubroker providers`: what each provider needs and how it last answered."""

from __future__ import annotations

import typer

from gpubroker.commands import _options as o


def list_providers(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """List providers: auth needs, credential source, last fetch, status, count, latency,
    and the rows the last fetch skipped, by reason.

    \b
    Example:
      gpubroker providers --json
    """
    from gpubroker import render

    st = o.state(ctx)
    rows = st.broker().provider_info()
    render.render_providers(rows, o.output_format(ctx, fmt, as_json), no_color=st.no_color)
