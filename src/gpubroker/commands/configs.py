"""`gpubroker configs`: POD config drafts (create, list, show, update, delete, validate)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from gpubroker.commands import _options as o
from gpubroker.commands._api import note
from gpubroker.commands.deploy import CpuOpt, MemoryOpt, print_selection_notes, write_estimate
from gpubroker.commands.pods import field_rows
from gpubroker.errors import RefusedError

app = typer.Typer(
    help="POD configs: which offer and how to pick it, agent size, budget.",
    no_args_is_help=True,
)

ConfigArg = Annotated[str, typer.Argument(help="Config name or id.")]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Free text.")]
GpuTypeOpt = Annotated[
    str | None, typer.Option("--gpu", "-g", help="GPU name or family: h100, 'A100 80GB'.")
]
GpuCountOpt = Annotated[
    int | None, typer.Option("--gpu-count", min=1, max=16, help="GPUs per machine (default 1).")
]
GpuMemoryOpt = Annotated[
    float | None, typer.Option("--gpu-memory", min=0, help="Memory per GPU, GiB, at least.")
]
ModeOpt = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="Offer selection: manual | auto_cheapest | auto_best_value (TOPSIS) | auto_fastest.",
    ),
]
ProviderOpt = Annotated[str | None, typer.Option("--provider", "-p", help="Only this provider.")]
OfferOpt = Annotated[str | None, typer.Option("--offer", help="This offer id (manual mode).")]
VcpusOpt = Annotated[float | None, typer.Option("--vcpus", min=1, help="vCPUs, at least.")]
RamOpt = Annotated[float | None, typer.Option("--ram", min=1, help="RAM, GiB, at least.")]
StorageOpt = Annotated[float | None, typer.Option("--storage", min=10, help="Disk, GiB, at least.")]
StorageTypeOpt = Annotated[
    str | None, typer.Option("--storage-type", help="ssd | nvme | hdd (recorded only).")
]
NetworkOpt = Annotated[
    float | None, typer.Option("--network-speed", min=0, help="Gbps (recorded only).")
]
PublicIpOpt = Annotated[
    bool | None, typer.Option("--public-ip/--no-public-ip", help="Recorded only.")
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="Only offers in this region.")]
ZoneOpt = Annotated[str | None, typer.Option("--zone", help="Availability zone (recorded only).")]
SpotOpt = Annotated[
    bool | None, typer.Option("--spot/--on-demand", help="Spot offers only, or on-demand only.")
]
MaxSpotOpt = Annotated[
    float | None, typer.Option("--max-spot-price", min=0, help="Spot offers up to $/h.")
]
ImageOpt = Annotated[str | None, typer.Option("--image", help="Agent image for PODs of it.")]
BudgetOpt = Annotated[
    str | None, typer.Option("--budget", help="5/h, 3000/month, or both (bare: per month).")
]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="A label; repeat for more.")]

LIST_COLUMNS = ["name", "mode", "gpu", "status", "price", "budget"]
LIST_HEADERS = {"price": "$/h"}


#: Each config flag's parameter name, and the library field it sets.
_FLAG_FIELDS = {
    "description": "description", "gpu": "gpu_type", "gpu_count": "gpu_count",
    "gpu_memory": "gpu_memory_gib", "mode": "provider_selection_mode",
    "provider": "provider", "offer": "provider_offer_id", "vcpus": "vcpus", "ram": "ram_gib",
    "storage": "storage_gib", "storage_type": "storage_type",
    "network_speed": "network_speed_gbps", "public_ip": "public_ip", "region": "region",
    "zone": "availability_zone", "spot": "spot_instance",
    "max_spot_price": "max_spot_price_usd", "image": "image", "cpu": "cpu_units",
    "memory": "memory_mib", "tag": "tags",
}  # fmt: skip


def _fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """Library field names and values for the config flags given, picked out of a
    command's parameters (``locals()`` on entry)."""
    return {field: params[flag] for flag, field in _FLAG_FIELDS.items() if params[flag] is not None}


def _write_config(ctx: typer.Context, cfg: Any, fmt: o.FormatOpt, as_json: bool) -> None:
    from gpubroker import render

    output = o.output_format(ctx, fmt, as_json)
    data = cfg.model_dump(mode="json")
    if output.value in ("table", "markdown"):
        render.write_data(field_rows(data), output)
        return
    render.write_data([data], output, json_object=data)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A new, unique config name.")],
    description: DescriptionOpt = None,
    gpu: GpuTypeOpt = None,
    gpu_count: GpuCountOpt = None,
    gpu_memory: GpuMemoryOpt = None,
    mode: ModeOpt = None,
    provider: ProviderOpt = None,
    offer: OfferOpt = None,
    vcpus: VcpusOpt = None,
    ram: RamOpt = None,
    storage: StorageOpt = None,
    storage_type: StorageTypeOpt = None,
    network_speed: NetworkOpt = None,
    public_ip: PublicIpOpt = None,
    region: RegionOpt = None,
    zone: ZoneOpt = None,
    spot: SpotOpt = None,
    max_spot_price: MaxSpotOpt = None,
    image: ImageOpt = None,
    cpu: CpuOpt = None,
    memory: MemoryOpt = None,
    budget: BudgetOpt = None,
    tag: TagOpt = None,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Create a config draft (stored locally; nothing is deployed).

    \b
    Examples:
      gpubroker configs create h100-agent --gpu H100 --mode auto_cheapest --budget 5/h
      gpubroker configs create pinned --mode manual --offer 'lambda:gpu_1x_h100_pcie:any:ondemand'
    """
    fields = _fields(locals())
    cfg = o.state(ctx).broker().pods.configs.create(name, budget=budget, **fields)
    note(
        ctx,
        f"created config {cfg.name} ({cfg.id}); check it with `gpubroker configs validate "
        f"{cfg.name}`",
    )
    _write_config(ctx, cfg, fmt, as_json)


@app.command("list")
def list_configs(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """List config drafts with their selection, status and last estimate."""
    from gpubroker import render

    configs = o.state(ctx).broker().pods.configs.list()
    output = o.output_format(ctx, fmt, as_json)
    rows = [c.model_dump(mode="json") for c in configs]
    if output.value not in ("table", "markdown"):
        render.write_data(rows, output)
        return
    cells = []
    for c in configs:
        budget = ", ".join(
            part
            for part in (
                f"{c.budget_per_hour_usd:g}/h" if c.budget_per_hour_usd else "",
                f"{c.budget_per_month_usd:g}/mo" if c.budget_per_month_usd else "",
            )
            if part
        )
        price = c.estimated_price_per_hour_usd
        cells.append(
            {
                "name": render.sanitize(c.name),
                "mode": c.provider_selection_mode.value.removeprefix("auto_"),
                "gpu": f"{c.gpu_count}x {c.gpu_model or c.gpu_type or 'any'}"
                + (f" ({c.provider})" if c.provider else ""),
                "status": c.status.value,
                "price": "" if price is None else f"{price:,.3f}",
                "budget": budget,
            }
        )
    render.write_data(rows, output, columns=LIST_COLUMNS, headers=LIST_HEADERS, table_rows=cells)


@app.command("show")
def show(
    ctx: typer.Context, config: ConfigArg, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False
) -> None:
    """Show every field of one config."""
    cfg = o.state(ctx).broker().pods.configs.get(config)
    _write_config(ctx, cfg, fmt, as_json)


@app.command("update")
def update(
    ctx: typer.Context,
    config: ConfigArg,
    rename: Annotated[str | None, typer.Option("--rename", help="A new name.")] = None,
    description: DescriptionOpt = None,
    gpu: GpuTypeOpt = None,
    gpu_count: GpuCountOpt = None,
    gpu_memory: GpuMemoryOpt = None,
    mode: ModeOpt = None,
    provider: ProviderOpt = None,
    offer: OfferOpt = None,
    vcpus: VcpusOpt = None,
    ram: RamOpt = None,
    storage: StorageOpt = None,
    storage_type: StorageTypeOpt = None,
    network_speed: NetworkOpt = None,
    public_ip: PublicIpOpt = None,
    region: RegionOpt = None,
    zone: ZoneOpt = None,
    spot: SpotOpt = None,
    max_spot_price: MaxSpotOpt = None,
    image: ImageOpt = None,
    cpu: CpuOpt = None,
    memory: MemoryOpt = None,
    budget: BudgetOpt = None,
    tag: TagOpt = None,
    clear: Annotated[
        list[str] | None,
        typer.Option("--clear", help="Reset a field to its default (e.g. provider); repeat."),
    ] = None,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Change some fields of a config; it becomes a draft again.

    \b
    Example:
      gpubroker configs update h100-agent --gpu-count 2 --clear provider
    """
    fields = _fields(locals())
    if rename is not None:
        fields["name"] = rename
    cfg = (
        o.state(ctx)
        .broker()
        .pods.configs.update(
            config, budget=budget, clear=[c.replace("-", "_") for c in clear or []], **fields
        )
    )
    _write_config(ctx, cfg, fmt, as_json)


@app.command("delete")
def delete(ctx: typer.Context, config: ConfigArg, yes: o.YesOpt = False) -> None:
    """Delete a config (PODs deployed from it are not affected). Asks first."""
    configs = o.state(ctx).broker().pods.configs
    cfg = configs.get(config)
    o.confirm(f"Delete config {cfg.name}?", yes, action="delete")
    configs.delete(cfg.id)
    note(ctx, f"deleted config {cfg.name}")


@app.command("validate")
def validate(
    ctx: typer.Context,
    config: ConfigArg,
    owner: Annotated[str | None, typer.Option("--owner", help="Owner whose PODs count.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Check this plan's limits.")] = None,
    fresh: o.FreshOpt = False,
    offline: o.OfflineOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Pick the config's offer and check every deploy rule (Fargate size, provider limits,
    plan limits, budget) without touching AWS; records the verdict and estimate.

    Exit 6 when a rule refuses it.

    \b
    Example:
      gpubroker configs validate h100-agent
    """
    from gpubroker import render

    st = o.state(ctx)
    with o.progress(st.err, "asking providers") as update:
        check = st.broker().pods.configs.validate(
            config, owner=owner, plan=plan, offline=offline, fresh=fresh, on_progress=update
        )
    if check.selection is not None:
        print_selection_notes(ctx, check.selection)
    output = o.output_format(ctx, fmt, as_json)
    report = check.report
    issues = [{"level": "error", **e.model_dump()} for e in report.errors] + [
        {"level": "warning", **w.model_dump()} for w in report.warnings
    ]
    if output.value not in ("table", "markdown"):
        data = {
            "config": check.config.model_dump(mode="json"),
            "is_valid": report.is_valid,
            "errors": [e.model_dump() for e in report.errors],
            "warnings": [w.model_dump() for w in report.warnings],
            "estimate": check.estimate.model_dump(mode="json") if check.estimate else None,
        }
        render.write_data(issues, output, json_object=data)
    else:
        if issues:
            render.write_data(issues, output, columns=["level", "rule", "message"])
        if check.estimate is not None:
            if issues:
                print()
            write_estimate(check.estimate, output)
    if not report.is_valid:
        raise RefusedError(f"config {check.config.name} is invalid ({report.summary()})")
    note(ctx, f"config {check.config.name} is valid")
