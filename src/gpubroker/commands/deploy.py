"""`gpubroker deploy` and `gpubroker estimate`: a POD on ECS Fargate, and what it costs."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gpubroker.commands import _options as o
from gpubroker.commands._api import note
from gpubroker.errors import RefusedError

if TYPE_CHECKING:
    from gpubroker.vocabulary import OutputFormat

ConfigArg = Annotated[
    str | None,
    typer.Argument(metavar="CONFIG", help="A config name or id (`gpubroker configs list`)."),
]
OfferOpt = Annotated[
    str | None, typer.Option("--offer", help="Deploy on this offer id (from browse).")
]
CpuOpt = Annotated[
    str | None,
    typer.Option("--cpu", help="Agent CPU: units (256–16384) or vCPUs (0.25–16). Default 1024."),
]
MemoryOpt = Annotated[
    str | None,
    typer.Option("--memory", help="Agent memory: 2GB, 0.5GB or MiB (2048). Default 2GB."),
]


def print_selection_notes(ctx: typer.Context, selection: Any) -> None:
    """Provider warnings of the search and notes on the offer (stderr)."""
    from gpubroker import render

    for line in render.status_lines(selection.statuses):
        note(ctx, line)
    for text in selection.notes:
        note(ctx, f"note: {text}")


def _usd(value: float | None) -> str:
    return "" if value is None else f"{value:,.4f}" if value < 1 else f"{value:,.2f}"


def estimate_rows(est: Any) -> list[dict[str, str]]:
    """One row per cost component, then the total and spot savings, for tables."""
    b = est.breakdown_per_hour_usd
    labels = {
        "gpu_offer": f"GPU offer ({est.gpu_count}x {est.gpu_model}, {est.provider})",
        "fargate_vcpu": f"agent vCPU ({est.cpu_units / 1024:g} vCPU)",
        "fargate_memory": f"agent memory ({est.memory_mib / 1024:g} GB)",
    }
    rows = [
        {
            "item": labels[key],
            "per_hour": _usd(b[key]),
            "per_day": _usd(b[key] * 24),
            "per_month": _usd(b[key] * 720),
        }
        for key in ("gpu_offer", "fargate_vcpu", "fargate_memory")
    ]
    rows.append(
        {
            "item": "total",
            "per_hour": _usd(est.price_per_hour_usd),
            "per_day": _usd(est.price_per_day_usd),
            "per_month": _usd(est.price_per_month_usd),
        }
    )
    if est.spot_savings_per_hour_usd is not None:
        label = "spot saves" if est.spot else "spot would save"
        rows.append(
            {
                "item": label,
                "per_hour": _usd(est.spot_savings_per_hour_usd),
                "per_day": _usd(est.spot_savings_per_hour_usd * 24),
                "per_month": _usd(est.spot_savings_per_month_usd),
            }
        )
    return rows


def write_estimate(est: Any, output: OutputFormat) -> None:
    from gpubroker import render

    if output.value not in ("table", "markdown"):
        data = est.model_dump(mode="json")
        render.write_data([data], output, json_object=data)
        return
    render.write_data(
        estimate_rows(est),
        output,
        columns=["item", "per_hour", "per_day", "per_month"],
        headers={
            "item": "cost",
            "per_hour": "$/hour",
            "per_day": "$/day (×24)",
            "per_month": "$/month (×720)",
        },
    )


@o.search_options
def estimate(
    ctx: typer.Context,
    config: ConfigArg = None,
    offer: OfferOpt = None,
    cpu: CpuOpt = None,
    memory: MemoryOpt = None,
    fresh: o.FreshOpt = False,
    offline: o.OfflineOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
    *,
    search: o.SearchArgs,
) -> None:
    """Estimate what a POD costs per hour, day and month.

    Day is hour × 24 and month hour × 720; the breakdown splits the GPU offer from the
    Fargate agent, and spot savings compare with the same machine's other kind of offer.
    Pick the offer as deploy does: a CONFIG, --offer ID, or browse's filters.

    \b
    Examples:
      gpubroker estimate --gpu H100
      gpubroker estimate --offer 'lambda:gpu_1x_h100_pcie:any:ondemand' --cpu 2 --memory 4GB
    """
    st = o.state(ctx)
    output = o.output_format(ctx, fmt, as_json)
    query = search.query()
    pods = st.broker().pods
    with o.progress(st.err, "asking providers") as update:
        est, selection = pods.estimate(
            config=config,
            offer_id=offer,
            query=query,
            preset=search.optimize,
            weights=search.weights or None,
            cpu=cpu,
            memory=memory,
            offline=offline,
            fresh=fresh,
            on_progress=update,
        )
    print_selection_notes(ctx, selection)
    if output.value == "table":
        note(ctx, f"offer {est.offer_id} ({est.offer_source})")
    write_estimate(est, output)


@o.search_options
def deploy(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="POD name (unique among live PODs).")],
    config: ConfigArg = None,
    offer: OfferOpt = None,
    image: Annotated[
        str | None, typer.Option("--image", help="Agent image (default: pod_image setting).")
    ] = None,
    cpu: CpuOpt = None,
    memory: MemoryOpt = None,
    budget: Annotated[
        str | None,
        typer.Option("--budget", help="Refuse above it: 5/h, 3000/month, or both (bare: month)."),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner e-mail (default: profile, OS user).")
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option("--plan", help="Plan whose limits apply: trial|basic|pro|corp|enterprise."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the ECS requests and the estimate; touch no AWS."),
    ] = False,
    yes: o.YesOpt = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Return once ECS has the service.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for the task (exit 5).")
    ] = 600,
    fresh: o.FreshOpt = False,
    offline: o.OfflineOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
    *,
    search: o.SearchArgs,
) -> None:
    """Deploy a POD (an agent for a GPU offer) on AWS ECS Fargate.

    The offer is picked as browse picks it (a CONFIG, --offer ID, or browse's filters and
    --optimize), re-checked, validated (Fargate size, provider and plan limits, budget) and
    estimated; the intent is recorded, then the ECS service is created and watched until its
    task runs. Asks on a terminal; --yes otherwise.

    \b
    Examples:
      gpubroker deploy --gpu H100 --name demo --dry-run
      gpubroker deploy my-config --name demo --budget 5/h --yes
    """
    from gpubroker import render

    st = o.state(ctx)
    output = o.output_format(ctx, fmt, as_json)
    query = search.query()
    pods = st.broker().pods
    with o.progress(st.err, "asking providers") as update:
        the_plan = pods.plan(
            name=name,
            config=config,
            offer_id=offer,
            query=query,
            preset=search.optimize,
            weights=search.weights or None,
            image=image,
            cpu=cpu,
            memory=memory,
            budget=budget,
            owner=owner,
            plan=plan,
            offline=offline,
            fresh=fresh,
            on_progress=update,
        )
    print_selection_notes(ctx, the_plan)
    for warning in the_plan.validation.warnings:
        note(ctx, f"warning: {warning.rule}: {warning.message}")
    if dry_run:
        write_plan(ctx, the_plan, output)
    if not the_plan.validation.is_valid:
        raise RefusedError(f"refused ({the_plan.validation.summary()})")
    if dry_run:
        return
    est = the_plan.estimate
    note(
        ctx,
        f"POD {name}: {est.gpu_count}x {est.gpu_model} on {est.provider} ({est.offer_id}); "
        f"agent {the_plan.cpu_units / 1024:g} vCPU / {the_plan.memory_mib / 1024:g} GB in "
        f"{the_plan.cluster} ({the_plan.region}); est. ${est.price_per_hour_usd:,.2f}/h, "
        f"${est.price_per_month_usd:,.2f}/month",
    )
    o.confirm(f"Deploy POD {name}? It is billed while it runs.", yes, action="deploy")
    try:
        with o.spinner(st.err, "deploying") as progress:
            pod = pods.deploy(the_plan, wait=not no_wait, timeout_s=timeout, on_progress=progress)
    except KeyboardInterrupt:
        note(
            ctx,
            f"interrupted: POD {name} ({the_plan.pod_id}) is recorded; `gpubroker pods sync` "
            "completes it or cleans it up",
        )
        raise
    data = pod.model_dump(mode="json")
    if output.value in ("table", "markdown"):
        from gpubroker.commands.pods import field_rows, pod_cells  # a lazy group of the CLI

        cells = pod_cells(pod)
        note(ctx, f"deployed: {pod.name} ({pod.pod_id}) is {cells['status']}")
        render.write_data(field_rows(data), output)
        return
    render.write_data([data], output, json_object=data)


def write_plan(ctx: typer.Context, plan: Any, output: OutputFormat) -> None:
    """A dry run: the plan, its estimate, the rules it breaks, and the exact ECS requests."""
    from gpubroker import render

    if output.value not in ("table", "markdown"):
        data = plan.model_dump(mode="json")
        render.write_data([data], output, json_object=data)
        return
    summary = {
        "pod_id": plan.pod_id,
        "name": plan.name,
        "owner": plan.owner,
        "plan": plan.plan,
        "offer": plan.offer.id,
        "image": plan.image,
        "agent": f"{plan.cpu_units} CPU units, {plan.memory_mib} MiB",
        "region": plan.region,
        "cluster": plan.cluster,
        "service": plan.service_name,
        "log group": plan.log_group,
    }
    from gpubroker.commands.pods import field_rows  # a lazy group of the CLI

    render.write_data(field_rows(summary), output)
    sys.stdout.write("\nEstimate\n")
    write_estimate(plan.estimate, output)
    if plan.validation.errors:
        sys.stdout.write("\nRefused by\n")
        render.write_data(
            [e.model_dump() for e in plan.validation.errors], output, columns=["rule", "message"]
        )
    sys.stdout.write("\nECS requests (dry run: nothing was sent)\n")
    sys.stdout.write(json.dumps(plan.requests, indent=2, ensure_ascii=False) + "\n")
    for text in plan.placeholders:
        note(ctx, f"note: <...> is looked up at deploy time: {text}")
