"""`gpubroker pods`: list, inspect, start, stop, destroy, logs, metrics and sync PODs."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gpubroker.commands import _options as o
from gpubroker.commands._api import note
from gpubroker.errors import CredentialsError, NotFoundError, UnavailableError

if TYPE_CHECKING:
    from gpubroker.vocabulary import OutputFormat

app = typer.Typer(
    help="Operate PODs: start, stop, destroy, logs, metrics, sync.",
    no_args_is_help=True,
)

PodArg = Annotated[str, typer.Argument(help="POD name or id (pod-xxxxxxxx).")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Wait until ECS has done it.")]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=1, help="Seconds to wait at most (exit 5 after).")
]
LocalOpt = Annotated[
    bool, typer.Option("--local", help="Do not ask ECS: the journal as last recorded.")
]

POD_COLUMNS = ["name", "pod_id", "status", "ecs", "gpu", "price_per_hour_usd"]
WIDE_COLUMNS = [*POD_COLUMNS, "public_ip", "owner", "region"]
POD_HEADERS = {
    "name": "name", "pod_id": "id", "status": "status", "ecs": "ecs", "gpu": "gpu",
    "price_per_hour_usd": "$/h", "public_ip": "public ip", "owner": "owner", "region": "region",
}  # fmt: skip
POD_DROPPABLE = ["region", "owner", "pod_id", "public_ip", "gpu"]


def _money(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.3f}"


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def pod_cells(pod: Any) -> dict[str, str]:
    """Table cells of one POD (a `gpubroker.pods.models.Pod`)."""
    from gpubroker import render

    ecs = "" if pod.running_count is None else f"{pod.running_count}/{pod.desired_count or 0}"
    gpu = f"{pod.gpu_count}x {pod.gpu_model}" if pod.gpu_model and pod.gpu_count else ""
    return {
        "name": render.sanitize(pod.name),
        "pod_id": pod.pod_id,
        "status": pod.status.value if pod.tracked else "untracked",
        "ecs": ecs,
        "gpu": render.sanitize(gpu),
        "price_per_hour_usd": _money(pod.price_per_hour_usd),
        "public_ip": pod.public_ip or "",
        "owner": render.sanitize(pod.owner or ""),
        "region": pod.region,
    }


def write_pods(
    ctx: typer.Context, pods: list[Any], output: OutputFormat, *, wide: bool = False
) -> None:
    from gpubroker import render

    rows = [p.model_dump(mode="json") for p in pods]
    if output.value not in ("table", "markdown"):
        render.write_data(rows, output)
        return
    render.write_data(
        rows,
        output,
        columns=WIDE_COLUMNS if wide else POD_COLUMNS,
        headers=POD_HEADERS,
        table_rows=[pod_cells(p) for p in pods],
        no_color=o.state(ctx).no_color,
        droppable=POD_DROPPABLE,
    )


def field_rows(data: dict[str, Any], skip: tuple[str, ...] = ()) -> list[dict[str, str]]:
    from gpubroker import render

    rows = []
    for key, value in data.items():
        if key in skip or value in (None, "", [], {}):
            continue
        text = render.sanitize(render.cell_text(value))
        if key.endswith("_arn") and text.startswith("arn:"):
            text = text.split(":", 5)[-1]  # the resource part; JSON has the whole ARN
        rows.append({"field": key, "value": text})
    return rows


@app.command("list")
def list_pods(
    ctx: typer.Context,
    remote: Annotated[
        bool,
        typer.Option("--remote", help="Also PODs in the cluster, by tag, not in this journal."),
    ] = False,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="Only these states (comma list): running, stopped, ..."),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include destroyed PODs.")] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="Also public IP, owner and region in the table.")
    ] = False,
    local: LocalOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """List PODs: the local journal joined with what ECS reports now.

    State changes ECS reports are recorded. --remote also finds PODs in the cluster by
    their gpubroker tags that this machine never recorded (status "untracked"; adopt them
    with `gpubroker pods sync --adopt`).

    \b
    Example:
      gpubroker pods list --status running --json
    """
    output = o.output_format(ctx, fmt, as_json)
    try:
        pods = (
            o.state(ctx)
            .broker()
            .pods.list(statuses=status, remote=remote, local=local, include_destroyed=show_all)
        )
    except (CredentialsError, UnavailableError) as exc:
        if not remote:
            exc.hint = (exc.hint + "; " if exc.hint else "") + (
                "`gpubroker pods list --local` shows the journal without asking ECS"
            )
        raise
    write_pods(ctx, pods, output, wide=wide)
    if not pods and output.value == "table":
        note(ctx, "no PODs; create one with `gpubroker deploy --gpu H100 --name NAME`")


@app.command("show")
def show(
    ctx: typer.Context,
    pod: PodArg,
    local: LocalOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Show one POD: its record, what ECS says now, and every state change.

    \b
    Example:
      gpubroker pods show demo
    """
    from gpubroker import render

    details = o.state(ctx).broker().pods.show(pod, local=local)
    output = o.output_format(ctx, fmt, as_json)
    data = details.model_dump(mode="json")
    if output.value not in ("table", "markdown"):
        render.write_data([data], output, json_object=data)
        return
    info = dict(data["pod"])
    info["uptime_hours"] = details.uptime_hours
    info["estimated_cost_usd"] = details.estimated_cost_usd
    render.write_data(field_rows(info), output)
    if details.ecs is not None:
        ecs = details.ecs.model_dump(mode="json")
        ecs["exists"] = details.ecs.exists
        sys.stdout.write("\nECS\n")
        render.write_data(field_rows(ecs, skip=("tags",)), output)
    sys.stdout.write("\nEvents\n")
    if output.value == "markdown":
        render.write_data(
            [e.model_dump(mode="json") for e in details.events],
            output,
            columns=["at", "kind", "old_status", "new_status", "message"],
        )
        return
    write_events(details.events)


def write_events(events: list[Any]) -> None:
    """One event per line (time, kind, new state, message), wrapped to the terminal."""
    import shutil
    import textwrap

    from gpubroker import render

    width = shutil.get_terminal_size((80, 24)).columns if render.is_tty(sys.stdout) else 80
    for e in events:
        changed = e.new_status if e.new_status and e.old_status != e.new_status else ""
        head = f"{_when(e.at)}  {e.kind:<15} {changed:<10} "
        text = render.sanitize(e.message) or "-"
        lines = textwrap.wrap(
            text,
            width=max(20, width),
            initial_indent=head,
            subsequent_indent=" " * len(head),
            break_on_hyphens=False,
        )
        sys.stdout.write("\n".join(lines) + "\n")


def _operate(ctx: typer.Context, action: str, pod: Any, output: OutputFormat) -> None:
    from gpubroker import render

    if output.value in ("table", "markdown"):
        note(ctx, f"{action}: {pod.name} ({pod.pod_id}) is {pod.status.value}")
        return
    data = pod.model_dump(mode="json")
    render.write_data([data], output, json_object=data)


def _scale(
    ctx: typer.Context,
    pod: str,
    action: str,
    *,
    yes: bool,
    wait: bool,
    timeout: float,
    fmt: o.FormatOpt,
    as_json: bool,
) -> None:
    """`pods start` and `pods stop`: confirm, scale (optionally waiting), report."""
    st = o.state(ctx)
    pods = st.broker().pods
    target = pods.get(pod)
    o.confirm(f"{action.capitalize()} POD {target.name} ({target.pod_id})?", yes, action=action)
    scale = pods.start if action == "start" else pods.stop
    gerund, done = ("starting", "started") if action == "start" else ("stopping", "stopped")
    with o.spinner(st.err, gerund) as update:
        result = scale(target.pod_id, wait=wait, timeout_s=timeout, on_progress=update)
    _operate(ctx, done, result, o.output_format(ctx, fmt, as_json))


@app.command("start")
def start(
    ctx: typer.Context,
    pod: PodArg,
    yes: o.YesOpt = False,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 600,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Start a stopped POD (ECS desiredCount 1); billable, so it asks first.

    \b
    Example:
      gpubroker pods start demo --yes --wait
    """
    _scale(ctx, pod, "start", yes=yes, wait=wait, timeout=timeout, fmt=fmt, as_json=as_json)


@app.command("stop")
def stop(
    ctx: typer.Context,
    pod: PodArg,
    yes: o.YesOpt = False,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 600,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Stop a POD's task but keep its service (ECS desiredCount 0); asks first.

    \b
    Example:
      gpubroker pods stop demo --yes --wait
    """
    _scale(ctx, pod, "stop", yes=yes, wait=wait, timeout=timeout, fmt=fmt, as_json=as_json)


@app.command("destroy")
def destroy(
    ctx: typer.Context,
    pod: PodArg,
    yes: o.YesOpt = False,
    wait: WaitOpt = False,
    purge_logs: Annotated[
        bool, typer.Option("--purge-logs", help="Also delete the POD's CloudWatch log group.")
    ] = False,
    timeout: TimeoutOpt = 600,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Destroy a POD: delete its ECS service and deregister its task definition.

    The log group is kept unless --purge-logs. Asks first.

    \b
    Example:
      gpubroker pods destroy demo --yes
    """
    st = o.state(ctx)
    pods = st.broker().pods
    target = pods.get(pod)
    what = " and its logs" if purge_logs else ""
    o.confirm(f"Destroy POD {target.name} ({target.pod_id}){what}?", yes, action="destroy")
    with o.spinner(st.err, "destroying") as update:
        result = pods.destroy(
            target.pod_id, wait=wait, purge_logs=purge_logs, timeout_s=timeout, on_progress=update
        )
    _operate(ctx, "destroyed", result, o.output_format(ctx, fmt, as_json))


@app.command("logs")
def logs(
    ctx: typer.Context,
    pod: PodArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-F", help="Keep printing new lines (Ctrl-C ends).")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only lines newer than this: 10m, 2h, 7d.")
    ] = None,
    tail: Annotated[
        int | None, typer.Option("--tail", min=1, help="Only the last N lines.")
    ] = None,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Print a POD's log lines from CloudWatch Logs, oldest first.

    Text output is `TIME  MESSAGE` per line (control characters removed); --format json,
    jsonl, csv give timestamp, stream and message (--follow streams JSON lines).

    \b
    Example:
      gpubroker pods logs demo --since 10m --tail 100
    """
    from gpubroker import render

    pods = o.state(ctx).broker().pods
    output = o.output_format(ctx, fmt, as_json)
    if not follow:
        events = pods.logs(pod, since=since, tail=tail)
        if output.value != "table":
            rows = [e.model_dump(mode="json") for e in events]
            render.write_data(rows, output, columns=["timestamp", "stream", "message"])
            return
        for event in events:
            _write_log(event, output)
        if not events:
            note(ctx, "no log lines" + (f" in the last {since}" if since else " yet"))
        return
    if output.value in ("csv", "tsv"):
        _write_log(None, output)
    for event in pods.follow_logs(pod, since=since, tail=tail):
        _write_log(event, output)


def _write_log(event: Any, output: OutputFormat) -> None:
    """One line of followed or plain-text logs (``event`` None: the csv/tsv header)."""
    import csv
    import json

    from gpubroker import render

    if output.value in ("csv", "tsv"):
        writer = csv.writer(
            sys.stdout, delimiter="," if output.value == "csv" else "\t", lineterminator="\n"
        )
        if event is None:
            writer.writerow(["timestamp", "stream", "message"])
        else:
            writer.writerow([event.timestamp.isoformat(), event.stream, event.message])
    elif output.value in ("json", "jsonl"):
        # a JSON array never ends while following: one JSON object per line instead
        sys.stdout.write(json.dumps(event.model_dump(mode="json"), ensure_ascii=False) + "\n")
    else:
        stamp = event.timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        sys.stdout.write(f"{stamp}  {render.sanitize(event.message, keep_newlines=True)}\n")
    sys.stdout.flush()


@app.command("metrics")
def metrics(
    ctx: typer.Context,
    pod: PodArg,
    since: Annotated[str, typer.Option("--since", help="How far back: 30m, 1h, 7d.")] = "1h",
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """CPU and memory utilisation of a POD (AWS/ECS, by cluster and service), with sparklines.

    \b
    Example:
      gpubroker pods metrics demo --since 6h
    """
    from gpubroker import render

    points = o.state(ctx).broker().pods.metrics(pod, since=since)
    output = o.output_format(ctx, fmt, as_json)
    rows = [p.model_dump(mode="json") for p in points]
    if not points:
        render.write_data([], output)
        raise NotFoundError(
            f"no AWS/ECS metrics for {pod} in the last {since}",
            hint="ECS publishes CPU and memory utilisation every minute while a task runs",
        )
    if output.value not in ("table", "markdown"):
        render.write_data(rows, output)
        return
    render.write_data(
        rows,
        output,
        columns=["timestamp", "cpu_utilization_pct", "memory_utilization_pct"],
        headers={
            "timestamp": "time",
            "cpu_utilization_pct": "cpu %",
            "memory_utilization_pct": "memory %",
        },
        table_rows=[
            {
                "timestamp": _when(p.timestamp),
                "cpu_utilization_pct": _pct(p.cpu_utilization_pct),
                "memory_utilization_pct": _pct(p.memory_utilization_pct),
            }
            for p in points
        ],
    )
    if output.value == "table":
        render.utilisation_sparklines(
            {
                "cpu": [p.cpu_utilization_pct for p in points if p.cpu_utilization_pct is not None],
                "memory": [
                    p.memory_utilization_pct for p in points if p.memory_utilization_pct is not None
                ],
            }
        )


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


@app.command("sync")
def sync(
    ctx: typer.Context,
    adopt: Annotated[
        bool, typer.Option("--adopt", help="Record PODs found in ECS that this journal lacks.")
    ] = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Bring the journal in line with ECS: finish or clean up interrupted deploys and
    destroys, record every state change, list (or --adopt) PODs created elsewhere.

    \b
    Example:
      gpubroker pods sync --adopt
    """
    from gpubroker import render

    lines = o.state(ctx).broker().pods.sync(adopt=adopt)
    output = o.output_format(ctx, fmt, as_json)
    rows = [line.model_dump(mode="json") for line in lines]
    render.write_data(rows, output, columns=["name", "pod_id", "action", "status", "message"])
    if not lines and output.value == "table":
        note(ctx, "no PODs in the journal or the cluster")
