"""`gpubroker gpus`: the GPU registry."""

from __future__ import annotations

from typing import Annotated

import typer

from gpubroker.commands import _options as o
from gpubroker.errors import NotFoundError

GPU_COLUMNS = [
    "name", "display_name", "vendor", "architecture", "memory_gib", "bandwidth_gbps",
    "bf16_tflops", "fp16_tflops", "fp32_tflops", "compute_capability",
]  # fmt: skip
GPU_HEADERS = {
    "name": "name", "display_name": "model", "vendor": "vendor", "architecture": "arch",
    "memory_gib": "GiB", "bandwidth_gbps": "GB/s", "bf16_tflops": "BF16 TF",
    "fp16_tflops": "FP16 TF", "fp32_tflops": "FP32 TF", "compute_capability": "CC",
}  # fmt: skip


def list_gpus(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Show the models this name means.")] = None,
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
    """List known GPUs with their specs (dense BF16/FP16 TFLOPS, bandwidth, CC).

    \b
    Examples:
      gpubroker gpus --arch hopper
      gpubroker gpus a100 --json
    """
    from gpubroker import render

    rows = o.state(ctx).broker().gpus.list(name, arch=arch, min_vram_gib=min_vram, vendor=vendor)
    output = o.output_format(ctx, fmt, as_json)
    columns = render.parse_fields(fields, [*GPU_COLUMNS, "family", "memory_type", "aliases"])
    if columns is None and output.value not in ("json", "jsonl"):
        columns = GPU_COLUMNS
    render.write_data(
        rows,
        output,
        columns=columns,
        headers=GPU_HEADERS,
        droppable=render.GPU_DROPPABLE,
        keep=["name"],
    )
    if not rows:
        raise NotFoundError("no GPU matches those filters")
