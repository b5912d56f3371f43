"""`gpubroker costs`: what PODs cost, estimated locally and billed by AWS."""

from __future__ import annotations

from typing import Annotated

import typer

from gpubroker.commands import _options as o
from gpubroker.commands._api import note

COLUMNS = [
    "name",
    "pod_id",
    "status",
    "uptime_hours",
    "estimate_usd",
    "estimate_aws_usd",
    "aws_cost_usd",
]
HEADERS = {"pod_id": "id", "uptime_hours": "hours", "estimate_usd": "est $",
           "estimate_aws_usd": "est AWS $", "aws_cost_usd": "AWS $"}  # fmt: skip


def _usd(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def costs(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help="Window ending now: 30d, 12h, 2w.")] = "30d",
    local: Annotated[
        bool, typer.Option("--local", help="Estimates only; do not ask Cost Explorer.")
    ] = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """What PODs cost: local estimates beside AWS Cost Explorer.

    Each POD's estimate is its hourly estimate × its running hours in the window (the
    Fargate part, the part AWS bills, also alone), beside Cost Explorer's ECS cost for its
    gpubroker:pod-id tag. The GPU offer itself is billed by its provider, not AWS.

    Cost Explorer charges $0.01 per request and lags by up to a day.

    \b
    Example:
      gpubroker costs --since 7d
    """
    from gpubroker import render

    report = o.state(ctx).broker().pods.costs(since=since, local=local)
    output = o.output_format(ctx, fmt, as_json)
    for text in report.notes:
        note(ctx, f"note: {text}")
    if output.value not in ("table", "markdown"):
        data = report.model_dump(mode="json")
        rows = [line.model_dump(mode="json") for line in report.lines]
        render.write_data(rows, output, columns=COLUMNS, json_object=data)
        return
    cells = [
        {
            "name": render.sanitize(line.name or ""),
            "pod_id": line.pod_id,
            "status": line.status or "",
            "uptime_hours": f"{line.uptime_hours:,.1f}",
            "estimate_usd": _usd(line.estimate_usd),
            "estimate_aws_usd": _usd(line.estimate_aws_usd),
            "aws_cost_usd": _usd(line.aws_cost_usd),
        }
        for line in report.lines
    ]
    cells.append(
        {
            "name": "total",
            "estimate_usd": _usd(report.estimate_total_usd),
            "estimate_aws_usd": _usd(sum(line.estimate_aws_usd for line in report.lines)),
            "aws_cost_usd": "" if local else _usd(report.aws_total_usd),
        }
    )
    if not local and report.aws_untagged_usd:
        cells.insert(-1, {"name": "(untagged ECS)", "aws_cost_usd": _usd(report.aws_untagged_usd)})
    rows = [line.model_dump(mode="json") for line in report.lines]
    render.write_data(rows, output, columns=COLUMNS, headers=HEADERS, table_rows=cells)
    note(ctx, f"{report.start:%Y-%m-%d %H:%M} – {report.end:%Y-%m-%d %H:%M} UTC")
