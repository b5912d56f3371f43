"""`gpubroker providers`: what each provider needs and how it last answered."""

from __future__ import annotations

import typer

from gpubroker.commands import _options as o


def list_providers(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """List providers: auth needs, credential source, last fetch, status, count, latency.

    Example: gpubroker providers --json
    """
    from gpubroker import render

    rows = o.state(ctx).broker().provider_info()
    render.write_data(rows, o.output_format(ctx, fmt, as_json))
