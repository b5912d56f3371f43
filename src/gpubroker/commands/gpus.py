"""`gpubroker gpus`: the GPU registry."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gpubroker.commands import _options as o
from gpubroker.errors import NotFoundError

GPU_COLUMNS = [
    "name", "memory_gib", "bandwidth_gbps", "bf16_tflops", "fp32_tflops", "compute_capability",
    "min_price_per_gpu_hour_usd", "where",
]  # fmt: skip
GPU_HEADERS = {
    "name": "gpu", "display_name": "model", "vendor": "vendor", "architecture": "arch",
    "memory_gib": "GiB", "bandwidth_gbps": "GB/s", "bf16_tflops": "BF16 TF",
    "fp16_tflops": "FP16 TF", "fp32_tflops": "FP32 TF", "compute_capability": "CC",
    "min_price_per_gpu_hour_usd": "from $/gpu-h", "where": "cheapest at",
}  # fmt: skip
# Hidden first when the terminal is too narrow.
DROPPABLE = ["fp32_tflops", "bandwidth_gbps", "compute_capability"]


def _cell(render: Any, row: dict[str, object], column: str) -> str:
    if column == "where":
        return _where(row)
    value = row.get(column)
    if column == "min_price_per_gpu_hour_usd" and isinstance(value, float):
        return str(render.money(value))
    return str(render.cell_text(value))


def _where(row: dict[str, object]) -> str:
    if row.get("min_price_provider") is None:
        return ""
    source = str(row["min_price_source"])
    if source == "catalog":
        source = f"catalog {str(row['min_price_observed_at'])[:7]}"
    spot = " spot" if row.get("min_price_spot") else ""
    return f"{row['min_price_provider']}{spot} ({source})"


def list_gpus(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Show the models this name means (h100, 'rtx pro 6000').")
    ] = None,
    arch: Annotated[
        str | None, typer.Option("--arch", help="Architecture: hopper, ampere...")
    ] = None,
    min_vram: Annotated[
        float | None, typer.Option("--min-vram", min=0, help="GiB per GPU.")
    ] = None,
    vendor: Annotated[str | None, typer.Option("--vendor", help="nvidia or amd.")] = None,
    fields: o.FieldsOpt = None,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """List known GPUs with their specs and the cheapest known $/GPU-hour of each.

    Specs: memory, bandwidth, dense BF16/FP16/FP32 TFLOPS, CUDA compute capability, and
    the source of the figures (--json). Prices come from the local cache (after a live
    search or `offers refresh`), else the bundled catalog; no network.

    \b
    Examples:
      gpubroker gpus --arch hopper
      gpubroker gpus a100 --json
    """
    from gpubroker import render

    registry = o.state(ctx).broker().gpus
    rows = registry.list(name, arch=arch, min_vram_gib=min_vram, vendor=vendor, prices=True)
    output = o.output_format(ctx, fmt, as_json)
    valid = list(rows[0]) if rows else [*GPU_HEADERS]
    columns = render.parse_fields(fields, valid)
    table = output.value in ("table", "markdown")
    if columns is None and table:
        columns = GPU_COLUMNS
    cells = None
    if table and columns:
        cells = [{c: _cell(render, r, c) for c in columns} for r in rows]
    render.write_data(
        rows, output, columns=columns, headers=GPU_HEADERS, table_rows=cells,
        droppable=[] if fields else DROPPABLE, keep=["name", "min_price_per_gpu_hour_usd"],
    )  # fmt: skip
    if not rows:
        raise NotFoundError("no GPU matches those filters")
