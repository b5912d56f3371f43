"""The GPU registry: specs of known GPU models and a normaliser for provider spellings.

Data source: ``/work/shared/reference/gpus.md`` (vendor datasheet figures). Units live in
the field names: memory in GiB as marketed, bandwidth in GB/s, throughput in dense TFLOPS.

Three ways in:

* :func:`normalize` maps whatever a provider calls a GPU (``NVIDIA H100 80GB HBM3``,
  ``H100_SXM5_80GB``, ``geforcertx4090-pcie-24gb``, ``8x A100 (80 GB SXM4)``...) to exactly one
  spec, or ``None``. It never raises and is cached, because it runs once per offer.
* :func:`resolve_query` maps what a user types in ``--gpu`` to the list of specs it means:
  a family name (``h100``) means every model of the family.
* :func:`get` maps a canonical name or an unambiguous alias to one spec, or raises.

Distinct models are never merged: H100 SXM / PCIe / NVL, A100 40 GB / 80 GB SXM4 /
80 GB PCIe and V100 16 GB / 32 GB are separate entries; the memory in the name, or the VRAM the
provider reports, picks between them.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from gpubroker.errors import AmbiguousGPUError, UnknownGPUError

if TYPE_CHECKING:
    from gpubroker.rows import OfferLike as Offer

__all__ = [
    "GPUS",
    "MEMORY_TOLERANCE",
    "PRICE_FIELDS",
    "GPUSpec",
    "GpuRegistry",
    "get",
    "normalize",
    "resolve_query",
    "search",
    "snap_memory_gib",
    "tflops",
]

MEMORY_TOLERANCE = 0.07
"""Relative gap between reported and marketed memory still treated as the same size."""


@dataclass(frozen=True, slots=True)
class GPUSpec:
    """One GPU model.

    Attributes:
        name: canonical key, e.g. ``H100-SXM``.
        display_name: human name, e.g. ``H100 SXM``.
        vendor: ``nvidia`` or ``amd``.
        family: what a user means by a bare model name (``H100`` covers SXM, PCIe and NVL).
        architecture: ``Hopper``, ``Ampere``, ``Ada``, ``Blackwell``, ``CDNA 3``...
        memory_gib: marketed memory per GPU.
        memory_type: ``HBM3``, ``GDDR6X``...; ``None`` where the reference does not give it.
        bandwidth_gbps: peak memory bandwidth, GB/s.
        bf16_tflops: dense BF16 tensor TFLOPS, FP32 accumulate; ``None`` without BF16.
        fp16_tflops: dense FP16 tensor TFLOPS, FP32 accumulate.
        fp32_tflops: peak non-tensor FP32 TFLOPS.
        compute_capability: CUDA compute capability (``"9.0"``); ``None`` for AMD.
        source: where the figures come from (a datasheet or spec-database page), with how
            any derived figure was derived.
        aliases: extra spellings, raw, that mean exactly this model.
    """

    name: str
    display_name: str
    vendor: str
    family: str
    architecture: str
    memory_gib: float
    memory_type: str | None
    bandwidth_gbps: float | None
    bf16_tflops: float | None
    fp16_tflops: float | None
    fp32_tflops: float | None
    compute_capability: str | None
    source: str = ""
    aliases: tuple[str, ...] = ()


_ALIASES: dict[str, tuple[str, ...]] = {
    "H200": ("H200 SXM", "H200 SXM5"),
    "H100-SXM": ("H100 SXM5", "H100 80GB HBM3"),
    "H100-PCIE": ("H100 PCIe 80GB",),
    "H100-NVL": ("H100 NVL 94GB",),
    "A100-80GB": ("A100-SXM4-80GB", "A100 SXM4 80GB"),
    "A100-80GB-PCIE": ("A100 80GB PCIe", "A100X"),
    "A100-40GB": ("A100-SXM4-40GB", "A100-PCIE-40GB"),
    "A6000": ("RTX A6000", "RTXA6000"),
    "A5000": ("RTX A5000", "RTXA5000"),
    "A4500": ("RTX A4500", "RTXA4500"),
    "A4000": ("RTX A4000", "RTXA4000"),
    "RTX6000-ADA": ("RTX 6000 Ada Generation", "RTX 6000Ada"),
    "RTX5090": ("RTX 5090", "GeForce RTX 5090", "5090"),
    "RTX4090": ("RTX 4090", "GeForce RTX 4090", "4090"),
    "RTX4080": ("RTX 4080", "GeForce RTX 4080", "4080"),
    "RTX3090": ("RTX 3090", "GeForce RTX 3090", "3090"),
    "RTX3090TI": ("GeForce RTX 3090 Ti", "3090 Ti"),
    "RTX3080": ("RTX 3080", "GeForce RTX 3080", "3080"),
    "V100": ("Tesla V100", "V100-SXM2-16GB", "V100-PCIE-16GB"),
    "V100-32GB": ("V100-SXM2-32GB", "V100-32G"),
    "T4": ("Tesla T4", "T4g"),
    "P100": ("Tesla P100",),
    "MI300X": ("AMD Instinct MI300X", "MI300X OAM"),
    "GTX1050TI": ("GTX 1050 Ti",),
    "GTX1060": ("GTX 1060",),
    "GTX1070": ("GTX 1070",),
    "GTX1070TI": ("GTX 1070 Ti",),
    "GTX1080": ("GTX 1080",),
    "GTX1080TI": ("GTX 1080 Ti",),
    "TITAN-XP": ("Titan Xp",),
    "QUADRO-P4000": ("Quadro P4000",),
    "P40": ("Tesla P40",),
    "P4": ("Tesla P4",),
    "GTX1650": ("GTX 1650",),
    "GTX1660": ("GTX 1660",),
    "GTX1660-SUPER": ("GTX 1660 S", "GTX 1660S"),
    "GTX1660TI": ("GTX 1660 Ti",),
    "RTX2060": ("GeForce RTX 2060",),
    "RTX2060-SUPER": ("RTX 2060S",),
    "RTX2070-SUPER": ("RTX 2070S",),
    "RTX2080-SUPER": ("RTX 2080S",),
    "TITAN-RTX": ("Titan RTX",),
    "QUADRO-RTX-4000": ("Q RTX 4000",),
    "QUADRO-RTX-5000": ("Q RTX 5000",),
    "QUADRO-RTX-6000": ("Q RTX 6000",),
    "QUADRO-RTX-8000": ("Q RTX 8000",),
    "RTX3060-LAPTOP": ("RTX 3060 laptop", "RTX 3060 Mobile"),
    "RTX3070-LAPTOP": ("RTX 3070 laptop", "RTX 3070 Mobile"),
    "RTX4070-SUPER": ("RTX 4070S",),
    "RTX4070TI-SUPER": ("RTX 4070S Ti", "RTX 4070 TiS"),
    "RTX4080-SUPER": ("RTX 4080S",),
    "RTX4090D": ("RTX 4090D",),
    "A2000": ("RTX A2000", "RTXA2000"),
    "A5500": ("RTX A5500", "RTXA5500"),
    "RTX2000-ADA": ("RTX 2000 Ada Generation", "RTX 2000Ada"),
    "RTX4000-ADA": ("RTX 4000 Ada Generation", "RTX 4000Ada"),
    # RunPod's "NVIDIA RTX 4000 SFF Ada Generation": a distinct, lower-power card.
    "RTX4000-SFF-ADA": ("RTX 4000 SFF Ada Generation", "RTX 4000 Ada SFF", "RTX 4000 SFF Ada"),
    "RTX4500-ADA": ("RTX 4500 Ada Generation", "RTX 4500Ada"),
    "RTX5000-ADA": ("RTX 5000 Ada Generation", "RTX 5000Ada"),
    "RTX5880-ADA": ("RTX 5880 Ada Generation", "RTX 5880Ada"),
    "RTX-PRO-6000-SERVER": ("RTX PRO 6000 S", "RTX PRO 6000 Blackwell Server Edition"),
    "RTX-PRO-6000-WS": ("RTX PRO 6000 WS", "RTX PRO 6000 Blackwell Workstation Edition"),
    "RTX-PRO-6000-MAXQ": ("RTX PRO 6000 Blackwell Max-Q Workstation Edition", "RTX PRO 6000 MaxQ"),
    "RTX-PRO-5000": ("RTX PRO 5000 Blackwell",),
    "RTX-PRO-4500": ("RTX PRO 4500 Blackwell",),
    "RTX-PRO-4000": ("RTX PRO 4000 Blackwell", "RTX PRO 4000"),
    "MI355X": ("AMD Instinct MI355X",),
    "MI325X": ("AMD Instinct MI325X",),
    "MI250X": ("AMD Instinct MI250X",),
    "MI250": ("AMD Instinct MI250",),
    "MI210": ("AMD Instinct MI210",),
    "MI100": ("AMD Instinct MI100",),
    "MI50": ("AMD Instinct MI50", "Radeon Instinct MI50"),
    "A800-80GB": ("A800 PCIe 80GB", "A800 80GB"),
    "A800-40GB": ("A800 PCIe 40GB", "A800 40GB"),
    "TITAN-V": ("Titan V",),
    "GTX-TITAN-X": ("GeForce GTX TITAN X",),
    "QUADRO-K2200": ("Quadro K2200",),
}


def _spec(
    vendor: str,
    name: str,
    display: str,
    family: str,
    arch: str,
    gib: float,
    mem_type: str | None,
    bw: float | None,
    bf16: float | None,
    fp16: float | None,
    fp32: float | None,
    cc: str | None,
    source: str,
) -> GPUSpec:
    return GPUSpec(
        name=name,
        display_name=display,
        vendor=vendor,
        family=family,
        architecture=arch,
        memory_gib=float(gib),
        memory_type=mem_type,
        bandwidth_gbps=None if bw is None else float(bw),
        bf16_tflops=None if bf16 is None else float(bf16),
        fp16_tflops=None if fp16 is None else float(fp16),
        fp32_tflops=None if fp32 is None else float(fp32),
        compute_capability=cc,
        source=source,
        aliases=_ALIASES.get(name, ()),
    )


_N, _A = "nvidia", "amd"

# Order is display order: data-centre parts newest first, then workstation and consumer cards.
# The first model of a family is its default when neither name nor memory disambiguates.
#
# Dense BF16/FP16 are tensor-core TFLOPS with FP32 accumulate, no sparsity. Vendor datasheets
# give them for data-centre parts; for workstation and GeForce cards the source is the spec
# database page (memory, bandwidth, FP32, CC) and the tensor rate follows the architecture
# whitepapers' ratio to FP32, named in each source: GeForce Ampere/Ada/Blackwell 2x (NVIDIA
# halves FP32 accumulate there), GeForce Turing 4x, Turing pro 8x, Ampere/Ada/Blackwell pro
# 4x. Turing, Volta and older have no BF16; Pascal and older GeForce have no usable FP16.
# fmt: off
_SPECS: tuple[GPUSpec, ...] = (
    # Data centre, newest first (vendor datasheet figures).
    _spec(_N, "B300", "B300", "B300", "Blackwell",
          288, "HBM3e", 8000, 2250, 2250, 75, "10.3",
          "https://www.nvidia.com/en-us/data-center/hgx/ (HGX B300, 8 GPUs: 2.3 TB HBM3e, 8 "
          "TB/s per GPU, FP16/BF16 36 PFLOPS with sparsity = 2250 dense per GPU, FP32 600 "
          "TFLOPS = 75 per GPU)"),
    _spec(_N, "B200", "B200", "B200", "Blackwell",
          180, "HBM3e", 8000, 2250, 2250, 80, "10.0",
          "https://www.nvidia.com/en-us/data-center/dgx-b200/ (HGX B200; ~7.7-8 TB/s, ~75-80 "
          "FP32: upper ends)"),
    _spec(_A, "MI355X", "MI355X", "MI355X", "CDNA 4",
          288, "HBM3e", 8000, 2516.6, 2516.6, 157.3, None,
          "https://www.amd.com/en/products/accelerators/instinct/mi350/mi355x.html (~2.5 PFLOPS "
          "dense FP16/BF16)"),
    _spec(_A, "MI325X", "MI325X", "MI325X", "CDNA 3",
          256, "HBM3e", 6000, 1307.4, 1307.4, 163.4, None,
          "https://www.amd.com/en/products/accelerators/instinct/mi300/mi325x.html"),
    _spec(_A, "MI300X", "MI300X", "MI300X", "CDNA 3",
          192, "HBM3", 5300, 1307.4, 1307.4, 163.4, None,
          "https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html"),
    _spec(_N, "H200", "H200 SXM", "H200", "Hopper",
          141, "HBM3e", 4800, 989, 989, 67, "9.0",
          "https://www.nvidia.com/en-us/data-center/h200/"),
    _spec(_N, "H200-NVL", "H200 NVL", "H200", "Hopper",
          141, "HBM3e", 4800, 835, 835, 60, "9.0",
          "https://www.nvidia.com/en-us/data-center/h200/"),
    _spec(_N, "GH200", "GH200", "GH200", "Hopper",
          96, "HBM3", 4000, 989, 989, 67, "9.0",
          "https://www.nvidia.com/en-us/data-center/grace-hopper-superchip/ (96 GB HBM3 part; "
          "144 GB HBM3e: 4.9 TB/s)"),
    _spec(_N, "H100-SXM", "H100 SXM", "H100", "Hopper",
          80, "HBM3", 3350, 989, 989, 67, "9.0",
          "https://www.nvidia.com/en-us/data-center/h100/"),
    _spec(_N, "H100-PCIE", "H100 PCIe", "H100", "Hopper",
          80, "HBM2e", 2000, 756, 756, 51, "9.0",
          "https://www.nvidia.com/en-us/data-center/h100/"),
    _spec(_N, "H100-NVL", "H100 NVL", "H100", "Hopper",
          94, "HBM3", 3900, 835, 835, 60, "9.0",
          "https://www.nvidia.com/en-us/data-center/h100/"),
    _spec(_A, "MI250X", "MI250X", "MI250X", "CDNA 2",
          128, "HBM2e", 3276.8, 383, 383, 47.9, None,
          "https://www.amd.com/en/products/accelerators/instinct/mi200/mi250x.html"),
    _spec(_A, "MI250", "MI250", "MI250", "CDNA 2",
          128, "HBM2e", 3276.8, 362.1, 362.1, 45.3, None,
          "https://www.amd.com/en/products/accelerators/instinct/mi200/mi250.html"),
    _spec(_N, "A100-80GB", "A100 80GB SXM4", "A100", "Ampere",
          80, "HBM2e", 2039, 312, 312, 19.5, "8.0",
          "https://www.nvidia.com/en-us/data-center/a100/"),
    _spec(_N, "A100-80GB-PCIE", "A100 80GB PCIe", "A100", "Ampere",
          80, "HBM2e", 1935, 312, 312, 19.5, "8.0",
          "https://www.nvidia.com/en-us/data-center/a100/"),
    _spec(_N, "A100-40GB", "A100 40GB", "A100", "Ampere",
          40, "HBM2", 1555, 312, 312, 19.5, "8.0",
          "https://www.nvidia.com/en-us/data-center/a100/"),
    _spec(_N, "A800-80GB", "A800 80GB PCIe", "A800", "Ampere",
          80, "HBM2e", 1935, 312, 312, 19.5, "8.0",
          "https://www.techpowerup.com/gpu-specs/a800-pcie-80-gb.c3965 (A100 silicon, NVLink "
          "cut)"),
    _spec(_N, "A800-40GB", "A800 40GB PCIe", "A800", "Ampere",
          40, "HBM2e", 1555, 312, 312, 19.5, "8.0",
          "https://www.techpowerup.com/gpu-specs/a800-pcie-40-gb.c3964 (A100 silicon, NVLink "
          "cut)"),
    _spec(_A, "MI210", "MI210", "MI210", "CDNA 2",
          64, "HBM2e", 1638.4, 181, 181, 22.6, None,
          "https://www.amd.com/en/products/accelerators/instinct/mi200/mi210.html"),
    _spec(_A, "MI100", "MI100", "MI100", "CDNA",
          32, "HBM2", 1228.8, 92.3, 184.6, 23.1, None,
          "https://www.amd.com/en/products/accelerators/instinct/mi100.html"),
    _spec(_A, "MI50", "MI50", "MI50", "GCN 5.1",
          16, "HBM2", 1024, None, 26.5, 13.3, None,
          "https://www.techpowerup.com/gpu-specs/radeon-instinct-mi50.c3335 (no BF16; packed "
          "FP16)"),
    _spec(_N, "L40S", "L40S", "L40S", "Ada",
          48, "GDDR6", 864, 362, 362, 91.6, "8.9",
          "https://www.nvidia.com/en-us/data-center/l40s/"),
    _spec(_N, "L40", "L40", "L40", "Ada",
          48, "GDDR6", 864, 181, 181, 90.5, "8.9",
          "https://www.nvidia.com/en-us/data-center/l40/ (BF16 181 dense: half the L40S rate)"),
    _spec(_N, "L4", "L4", "L4", "Ada",
          24, "GDDR6", 300, 121, 121, 30.3, "8.9",
          "https://www.nvidia.com/en-us/data-center/l4/"),
    _spec(_N, "A40", "A40", "A40", "Ampere",
          48, "GDDR6", 696, 149.7, 149.7, 37.4, "8.6",
          "https://www.nvidia.com/en-us/data-center/a40/"),
    _spec(_N, "A30", "A30", "A30", "Ampere",
          24, "HBM2e", 933, 165, 165, 10.3, "8.0",
          "https://www.nvidia.com/en-us/data-center/products/a30-gpu/"),
    _spec(_N, "A10", "A10", "A10", "Ampere",
          24, "GDDR6", 600, 125, 125, 31.2, "8.6",
          "https://www.nvidia.com/en-us/data-center/products/a10-gpu/"),
    _spec(_N, "A10G", "A10G", "A10G", "Ampere",
          24, "GDDR6", 600, 70, 70, 31.5, "8.6",
          "AWS g5 documentation; no NVIDIA datasheet (figures approximate)"),
    _spec(_N, "A16", "A16", "A16", "Ampere",
          16, "GDDR6", 200, 18, 18, 4.5, "8.6",
          "https://www.nvidia.com/en-us/data-center/products/a16-gpu/ (one of the board's four "
          "GPUs)"),
    _spec(_N, "A2", "A2", "A2", "Ampere",
          16, "GDDR6", 200, 18, 18, 4.5, "8.6",
          "https://www.nvidia.com/en-us/data-center/products/a2/"),
    _spec(_N, "V100", "V100 16GB", "V100", "Volta",
          16, "HBM2", 900, None, 125, 15.7, "7.0",
          "https://www.nvidia.com/en-us/data-center/v100/ (SXM2 figures; PCIe: 112 FP16, 14 "
          "FP32)"),
    _spec(_N, "V100-32GB", "V100 32GB", "V100", "Volta",
          32, "HBM2", 900, None, 125, 15.7, "7.0",
          "https://www.nvidia.com/en-us/data-center/v100/ (SXM2 figures)"),
    _spec(_N, "T4", "T4", "T4", "Turing",
          16, "GDDR6", 320, None, 65, 8.1, "7.5",
          "https://www.nvidia.com/en-us/data-center/tesla-t4/"),
    _spec(_N, "P100", "P100", "P100", "Pascal",
          16, "HBM2", 732, None, 19.05, 9.53, "6.0",
          "https://www.techpowerup.com/gpu-specs/tesla-p100-pcie-16-gb.c2888 (PCIe; no tensor "
          "cores, FP16 = 2x FP32)"),
    _spec(_N, "P40", "Tesla P40", "P40", "Pascal",
          24.0, "GDDR5", 347.1, None, None, 11.76, "6.1",
          "https://www.techpowerup.com/gpu-specs/tesla-p40.c2878 (FP16 at 1/64 rate: ranks on "
          "FP32)"),
    _spec(_N, "P4", "Tesla P4", "P4", "Pascal",
          8.0, "GDDR5", 192.3, None, None, 5.7, "6.1",
          "https://www.techpowerup.com/gpu-specs/tesla-p4.c2879 (FP16 at 1/64 rate: ranks on "
          "FP32)"),
    # Workstation: Blackwell RTX PRO, Ada, Ampere RTX A-series, Turing Quadro and TITAN.
    _spec(_N, "RTX-PRO-6000-SERVER", "RTX PRO 6000 Server", "RTX-PRO-6000", "Blackwell",
          96.0, "GDDR7", 1790.0, 504.0, 504.0, 126.0, "12.0",
          "https://www.techpowerup.com/gpu-specs/rtx-pro-6000-blackwell-server.c4274 (tensor "
          "FP16/BF16 = 4x FP32 (Blackwell pro))"),
    _spec(_N, "RTX-PRO-6000-WS", "RTX PRO 6000 Workstation", "RTX-PRO-6000", "Blackwell",
          96.0, "GDDR7", 1790.0, 504.0, 504.0, 126.0, "12.0",
          "https://www.techpowerup.com/gpu-specs/rtx-pro-6000-blackwell.c4272 (tensor FP16/BF16"
          " = 4x FP32 (Blackwell pro))"),
    _spec(_N, "RTX-PRO-6000-MAXQ", "RTX PRO 6000 Max-Q", "RTX-PRO-6000", "Blackwell",
          96.0, "GDDR7", 1790.0, 438.8, 438.8, 109.7, "12.0",
          "https://www.techpowerup.com/gpu-specs/rtx-pro-6000-blackwell-max-q.c4273 (tensor "
          "FP16/BF16 = 4x FP32 (Blackwell pro))"),
    _spec(_N, "RTX-PRO-5000", "RTX PRO 5000", "RTX-PRO-5000", "Blackwell",
          48.0, "GDDR7", 1340.0, 267.8, 267.8, 66.94, "12.0",
          "https://www.techpowerup.com/gpu-specs/rtx-pro-5000-blackwell.c4276 (tensor FP16/BF16"
          " = 4x FP32 (Blackwell pro))"),
    _spec(_N, "RTX-PRO-4500", "RTX PRO 4500", "RTX-PRO-4500", "Blackwell",
          32.0, "GDDR7", 896.0, 202.1, 202.1, 50.53, "12.0",
          "https://www.techpowerup.com/gpu-specs/rtx-pro-4500-blackwell.c4278 (tensor FP16/BF16"
          " = 4x FP32 (Blackwell pro))"),
    _spec(_N, "RTX-PRO-4000", "RTX PRO 4000", "RTX-PRO-4000", "Blackwell",
          24.0, "GDDR7", 672.0, 147.3, 147.3, 36.83, "12.0",
          "https://www.techpowerup.com/gpu-specs/rtx-pro-4000-blackwell.c4279 (tensor FP16/BF16"
          " = 4x FP32 (Blackwell pro))"),
    _spec(_N, "RTX6000-ADA", "RTX 6000 Ada", "RTX6000-ADA", "Ada",
          48.0, "GDDR6", 960.0, 364.2, 364.2, 91.06, "8.9",
          "https://www.techpowerup.com/gpu-specs/rtx-6000-ada-generation.c3933 (tensor "
          "FP16/BF16 = 4x FP32 (Ada pro))"),
    _spec(_N, "RTX5880-ADA", "RTX 5880 Ada", "RTX5880-ADA", "Ada",
          48.0, "GDDR6", 864.0, 277.1, 277.1, 69.27, "8.9",
          "https://www.techpowerup.com/gpu-specs/rtx-5880-ada-generation.c4191 (tensor "
          "FP16/BF16 = 4x FP32 (Ada pro))"),
    _spec(_N, "RTX5000-ADA", "RTX 5000 Ada", "RTX5000-ADA", "Ada",
          32.0, "GDDR6", 576.0, 261.1, 261.1, 65.28, "8.9",
          "https://www.techpowerup.com/gpu-specs/rtx-5000-ada-generation.c4152 (tensor "
          "FP16/BF16 = 4x FP32 (Ada pro))"),
    _spec(_N, "RTX4500-ADA", "RTX 4500 Ada", "RTX4500-ADA", "Ada",
          24.0, "GDDR6", 432.0, 158.5, 158.5, 39.63, "8.9",
          "https://www.techpowerup.com/gpu-specs/rtx-4500-ada-generation.c4172 (tensor "
          "FP16/BF16 = 4x FP32 (Ada pro))"),
    _spec(_N, "RTX4000-ADA", "RTX 4000 Ada", "RTX4000-ADA", "Ada",
          20.0, "GDDR6", 360.0, 106.9, 106.9, 26.73, "8.9",
          "https://www.techpowerup.com/gpu-specs/rtx-4000-ada-generation.c4171 (tensor "
          "FP16/BF16 = 4x FP32 (Ada pro))"),
    _spec(_N, "RTX4000-SFF-ADA", "RTX 4000 SFF Ada", "RTX4000-SFF-ADA", "Ada",
          20.0, "GDDR6", 280.0, 76.7, 76.7, 19.17, "8.9",
          "https://www.techpowerup.com/gpu-specs/rtx-4000-sff-ada-generation.c4139 (tensor "
          "FP16/BF16 = 4x FP32 (Ada pro))"),
    _spec(_N, "RTX2000-ADA", "RTX 2000 Ada", "RTX2000-ADA", "Ada",
          16.0, "GDDR6", 256.0, 48.0, 48.0, 12.0, "8.9",
          "https://www.techpowerup.com/gpu-specs/rtx-2000-ada-generation.c4199 (tensor "
          "FP16/BF16 = 4x FP32 (Ada pro))"),
    _spec(_N, "A6000", "RTX A6000", "A6000", "Ampere",
          48, "GDDR6", 768, 154.8, 154.8, 38.7, "8.6",
          "https://www.nvidia.com/en-us/design-visualization/rtx-a6000/"),
    _spec(_N, "A5500", "RTX A5500", "A5500", "Ampere",
          24.0, "GDDR6", 768.0, 136.4, 136.4, 34.1, "8.6",
          "https://www.techpowerup.com/gpu-specs/rtx-a5500.c3901 (tensor FP16/BF16 = 4x FP32 "
          "(Ampere pro))"),
    _spec(_N, "A5000", "RTX A5000", "A5000", "Ampere",
          24, "GDDR6", 768, 111.1, 111.1, 27.8, "8.6",
          "https://www.nvidia.com/en-us/design-visualization/rtx-a5000/"),
    _spec(_N, "A4500", "RTX A4500", "A4500", "Ampere",
          20.0, "GDDR6", 640.0, 94.6, 94.6, 23.65, "8.6",
          "https://www.techpowerup.com/gpu-specs/rtx-a4500.c3849 (tensor FP16/BF16 = 4x FP32 "
          "(Ampere pro))"),
    _spec(_N, "A4000", "RTX A4000", "A4000", "Ampere",
          16, "GDDR6", 448, 76.7, 76.7, 19.2, "8.6",
          "https://www.nvidia.com/en-us/design-visualization/rtx-a4000/"),
    _spec(_N, "A2000", "RTX A2000", "A2000", "Ampere",
          6.0, "GDDR6", 288.0, 32.0, 32.0, 7.99, "8.6",
          "https://www.techpowerup.com/gpu-specs/rtx-a2000.c3820 (tensor FP16/BF16 = 4x FP32 "
          "(Ampere pro))"),
    _spec(_N, "A2000-12GB", "RTX A2000 12GB", "A2000", "Ampere",
          12.0, "GDDR6", 288.0, 32.0, 32.0, 7.99, "8.6",
          "https://www.techpowerup.com/gpu-specs/rtx-a2000-12-gb.c3853 (tensor FP16/BF16 = 4x "
          "FP32 (Ampere pro))"),
    _spec(_N, "TITAN-RTX", "TITAN RTX", "TITAN-RTX", "Turing",
          24.0, "GDDR6", 672.0, None, 130.5, 16.31, "7.5",
          "https://www.techpowerup.com/gpu-specs/titan-rtx.c3311 (tensor FP16 = 8x FP32 (Turing"
          " pro); no BF16)"),
    _spec(_N, "QUADRO-RTX-8000", "Quadro RTX 8000", "QUADRO-RTX-8000", "Turing",
          48.0, "GDDR6", 672.0, None, 130.5, 16.31, "7.5",
          "https://www.techpowerup.com/gpu-specs/quadro-rtx-8000.c3306 (tensor FP16 = 8x FP32 "
          "(Turing pro); no BF16)"),
    _spec(_N, "QUADRO-RTX-6000", "Quadro RTX 6000", "QUADRO-RTX-6000", "Turing",
          24.0, "GDDR6", 672.0, None, 130.5, 16.31, "7.5",
          "https://www.techpowerup.com/gpu-specs/quadro-rtx-6000.c3307 (tensor FP16 = 8x FP32 "
          "(Turing pro); no BF16)"),
    _spec(_N, "QUADRO-RTX-5000", "Quadro RTX 5000", "QUADRO-RTX-5000", "Turing",
          16.0, "GDDR6", 448.0, None, 89.2, 11.15, "7.5",
          "https://www.techpowerup.com/gpu-specs/quadro-rtx-5000.c3308 (tensor FP16 = 8x FP32 "
          "(Turing pro); no BF16)"),
    _spec(_N, "QUADRO-RTX-4000", "Quadro RTX 4000", "QUADRO-RTX-4000", "Turing",
          8.0, "GDDR6", 416.0, None, 57.0, 7.12, "7.5",
          "https://www.techpowerup.com/gpu-specs/quadro-rtx-4000.c3336 (tensor FP16 = 8x FP32 "
          "(Turing pro); no BF16)"),
    _spec(_N, "TITAN-V", "TITAN V", "TITAN-V", "Volta",
          12, "HBM2", 651.3, None, 110, 14.9, "7.0",
          "https://www.techpowerup.com/gpu-specs/titan-v.c3051 (110 tensor TFLOPS per NVIDIA)"),
    _spec(_N, "TITAN-XP", "TITAN Xp", "TITAN-XP", "Pascal",
          12.0, "GDDR5X", 547.6, None, None, 12.15, "6.1",
          "https://www.techpowerup.com/gpu-specs/titan-xp.c2948 (FP16 at 1/64 rate: ranks on "
          "FP32)"),
    _spec(_N, "QUADRO-P4000", "Quadro P4000", "QUADRO-P4000", "Pascal",
          8.0, "GDDR5", 243.3, None, None, 5.3, "6.1",
          "https://www.techpowerup.com/gpu-specs/quadro-p4000.c2930 (FP16 at 1/64 rate: ranks "
          "on FP32)"),
    _spec(_N, "QUADRO-K2200", "Quadro K2200", "QUADRO-K2200", "Maxwell",
          4, "GDDR5", 80.2, None, None, 1.44, "5.0",
          "https://www.techpowerup.com/gpu-specs/quadro-k2200.c2601 (no usable FP16: ranks on "
          "FP32)"),
    # GeForce, newest first.
    _spec(_N, "RTX5090", "RTX 5090", "RTX5090", "Blackwell",
          32, "GDDR7", 1792, 209.5, 209.5, 104.8, "12.0",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-5090.c4216 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX5080", "RTX 5080", "RTX5080", "Blackwell",
          16.0, "GDDR7", 960.0, 112.6, 112.6, 56.28, "12.0",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-5080.c4217 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX5070TI", "RTX 5070 Ti", "RTX5070TI", "Blackwell",
          16.0, "GDDR7", 896.0, 87.9, 87.9, 43.94, "12.0",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-5070-ti.c4243 (tensor FP16/BF16 "
          "(FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX5070", "RTX 5070", "RTX5070", "Blackwell",
          12.0, "GDDR7", 672.0, 61.7, 61.7, 30.87, "12.0",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-5070.c4218 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX5060TI", "RTX 5060 Ti 16GB", "RTX5060TI", "Blackwell",
          16.0, "GDDR7", 448.0, 47.4, 47.4, 23.7, "12.0",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-5060-ti-16-gb.c4292 (tensor "
          "FP16/BF16 (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX5060TI-8GB", "RTX 5060 Ti 8GB", "RTX5060TI", "Blackwell",
          8.0, "GDDR7", 448.0, 47.4, 47.4, 23.7, "12.0",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-5060-ti-8-gb.c4246 (tensor "
          "FP16/BF16 (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX5060", "RTX 5060", "RTX5060", "Blackwell",
          8.0, "GDDR7", 448.0, 38.4, 38.4, 19.18, "12.0",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-5060.c4219 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4090", "RTX 4090", "RTX4090", "Ada",
          24, "GDDR6X", 1008, 165.2, 165.2, 82.6, "8.9",
          "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-"
          "architecture.pdf (FP16-acc. dense 330.3)"),
    _spec(_N, "RTX4090D", "RTX 4090 D", "RTX4090D", "Ada",
          24.0, "GDDR6X", 1010.0, 147.1, 147.1, 73.54, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4090-d.c4189 (tensor FP16/BF16 "
          "(FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4080-SUPER", "RTX 4080 SUPER", "RTX4080-SUPER", "Ada",
          16.0, "GDDR6X", 736.3, 104.4, 104.4, 52.22, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4080-super.c4182 (tensor FP16/BF16"
          " (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4080", "RTX 4080", "RTX4080", "Ada",
          16.0, "GDDR6X", 716.8, 97.5, 97.5, 48.74, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4080.c3888 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4070TI-SUPER", "RTX 4070 Ti SUPER", "RTX4070TI-SUPER", "Ada",
          16.0, "GDDR6X", 672.3, 88.2, 88.2, 44.1, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4070-ti-super.c4187 (tensor "
          "FP16/BF16 (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4070TI", "RTX 4070 Ti", "RTX4070TI", "Ada",
          12.0, "GDDR6X", 504.2, 80.2, 80.2, 40.09, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4070-ti.c3950 (tensor FP16/BF16 "
          "(FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4070-SUPER", "RTX 4070 SUPER", "RTX4070-SUPER", "Ada",
          12.0, "GDDR6X", 504.2, 71.0, 71.0, 35.48, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4070-super.c4186 (tensor FP16/BF16"
          " (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4070", "RTX 4070", "RTX4070", "Ada",
          12.0, "GDDR6X", 504.2, 58.3, 58.3, 29.15, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4070.c3924 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4060TI", "RTX 4060 Ti 8GB", "RTX4060TI", "Ada",
          8.0, "GDDR6", 288.0, 44.1, 44.1, 22.06, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4060-ti-8-gb.c3890 (tensor "
          "FP16/BF16 (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4060TI-16GB", "RTX 4060 Ti 16GB", "RTX4060TI", "Ada",
          16.0, "GDDR6", 288.0, 44.1, 44.1, 22.06, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4060-ti-16-gb.c4155 (tensor "
          "FP16/BF16 (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX4060", "RTX 4060", "RTX4060", "Ada",
          8.0, "GDDR6", 272.0, 30.2, 30.2, 15.11, "8.9",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-4060.c4107 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3090TI", "RTX 3090 Ti", "RTX3090TI", "Ampere",
          24.0, "GDDR6X", 1010.0, 80.0, 80.0, 40.0, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3090-ti.c3829 (tensor FP16/BF16 "
          "(FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3090", "RTX 3090", "RTX3090", "Ampere",
          24, "GDDR6X", 936, 71, 71, 35.6, "8.6",
          "https://www.nvidia.com/content/PDF/nvidia-ampere-ga-102-gpu-architecture-"
          "whitepaper-v2.pdf (FP16-acc. dense 142)"),
    _spec(_N, "RTX3080TI", "RTX 3080 Ti", "RTX3080TI", "Ampere",
          12.0, "GDDR6X", 912.4, 68.2, 68.2, 34.1, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3080-ti.c3735 (tensor FP16/BF16 "
          "(FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3080", "RTX 3080", "RTX3080", "Ampere",
          10.0, "GDDR6X", 760.3, 59.5, 59.5, 29.77, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3080.c3621 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3070TI", "RTX 3070 Ti", "RTX3070TI", "Ampere",
          8.0, "GDDR6X", 608.3, 43.5, 43.5, 21.75, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3070-ti.c3675 (tensor FP16/BF16 "
          "(FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3070", "RTX 3070", "RTX3070", "Ampere",
          8.0, "GDDR6", 448.0, 40.6, 40.6, 20.31, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3070.c3674 (tensor FP16/BF16 (FP32"
          " acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3070-LAPTOP", "RTX 3070 Laptop", "RTX3070-LAPTOP", "Ampere",
          8.0, "GDDR6", 448.0, 31.9, 31.9, 15.97, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3070-mobile.c3712 (tensor "
          "FP16/BF16 (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3060TI", "RTX 3060 Ti", "RTX3060TI", "Ampere",
          8.0, "GDDR6", 448.0, 32.4, 32.4, 16.2, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3060-ti.c3681 (tensor FP16/BF16 "
          "(FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3060", "RTX 3060", "RTX3060", "Ampere",
          12.0, "GDDR6", 360.0, 25.5, 25.5, 12.74, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3060-12-gb.c3682 (tensor FP16/BF16"
          " (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3060-LAPTOP", "RTX 3060 Laptop", "RTX3060-LAPTOP", "Ampere",
          6.0, "GDDR6", 336.0, 21.9, 21.9, 10.94, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3060-mobile.c3757 (tensor "
          "FP16/BF16 (FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX3050", "RTX 3050", "RTX3050", "Ampere",
          8.0, "GDDR6", 224.0, 18.2, 18.2, 9.1, "8.6",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-3050-8-gb.c3858 (tensor FP16/BF16 "
          "(FP32 acc.) = 2x FP32 on GeForce)"),
    _spec(_N, "RTX2080TI", "RTX 2080 Ti", "RTX2080TI", "Turing",
          11.0, "GDDR6", 616.0, None, 53.8, 13.45, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-2080-ti.c3305 (tensor FP16 (FP32 "
          "acc.) = 4x FP32 on GeForce Turing; no BF16)"),
    _spec(_N, "RTX2080-SUPER", "RTX 2080 SUPER", "RTX2080-SUPER", "Turing",
          8.0, "GDDR6", 495.9, None, 44.6, 11.15, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-2080-super.c3439 (tensor FP16 "
          "(FP32 acc.) = 4x FP32 on GeForce Turing; no BF16)"),
    _spec(_N, "RTX2080", "RTX 2080", "RTX2080", "Turing",
          8.0, "GDDR6", 448.0, None, 40.3, 10.07, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-2080.c3224 (tensor FP16 (FP32 "
          "acc.) = 4x FP32 on GeForce Turing; no BF16)"),
    _spec(_N, "RTX2070-SUPER", "RTX 2070 SUPER", "RTX2070-SUPER", "Turing",
          8.0, "GDDR6", 448.0, None, 36.2, 9.06, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-2070-super.c3440 (tensor FP16 "
          "(FP32 acc.) = 4x FP32 on GeForce Turing; no BF16)"),
    _spec(_N, "RTX2070", "RTX 2070", "RTX2070", "Turing",
          8.0, "GDDR6", 448.0, None, 29.8, 7.46, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-2070.c3252 (tensor FP16 (FP32 "
          "acc.) = 4x FP32 on GeForce Turing; no BF16)"),
    _spec(_N, "RTX2060-SUPER", "RTX 2060 SUPER", "RTX2060-SUPER", "Turing",
          8.0, "GDDR6", 448.0, None, 28.7, 7.18, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-2060-super.c3441 (tensor FP16 "
          "(FP32 acc.) = 4x FP32 on GeForce Turing; no BF16)"),
    _spec(_N, "RTX2060", "RTX 2060", "RTX2060", "Turing",
          6.0, "GDDR6", 336.0, None, 25.8, 6.45, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-2060.c3310 (tensor FP16 (FP32 "
          "acc.) = 4x FP32 on GeForce Turing; no BF16)"),
    _spec(_N, "RTX2060-12GB", "RTX 2060 12GB", "RTX2060", "Turing",
          12.0, "GDDR6", 336.0, None, 28.7, 7.18, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-rtx-2060-12-gb.c3836 (tensor FP16 "
          "(FP32 acc.) = 4x FP32 on GeForce Turing; no BF16)"),
    _spec(_N, "GTX1660TI", "GTX 1660 Ti", "GTX1660TI", "Turing",
          6.0, "GDDR6", 288.0, None, 10.87, 5.44, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1660-ti.c3364 (no tensor cores: "
          "FP16 = 2x FP32)"),
    _spec(_N, "GTX1660-SUPER", "GTX 1660 SUPER", "GTX1660-SUPER", "Turing",
          6.0, "GDDR6", 336.0, None, 10.05, 5.03, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1660-super.c3458 (no tensor cores:"
          " FP16 = 2x FP32)"),
    _spec(_N, "GTX1660", "GTX 1660", "GTX1660", "Turing",
          6.0, "GDDR5", 192.1, None, 10.05, 5.03, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1660.c3365 (no tensor cores: FP16 "
          "= 2x FP32)"),
    _spec(_N, "GTX1650", "GTX 1650", "GTX1650", "Turing",
          4.0, "GDDR5", 128.1, None, 5.97, 2.98, "7.5",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1650.c3366 (no tensor cores: FP16 "
          "= 2x FP32)"),
    _spec(_N, "GTX1080TI", "GTX 1080 Ti", "GTX1080TI", "Pascal",
          11.0, "GDDR5X", 484.4, None, None, 11.34, "6.1",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1080-ti.c2877 (FP16 at 1/64 rate: "
          "ranks on FP32)"),
    _spec(_N, "GTX1080", "GTX 1080", "GTX1080", "Pascal",
          8.0, "GDDR5X", 320.3, None, None, 8.87, "6.1",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1080.c2839 (FP16 at 1/64 rate: "
          "ranks on FP32)"),
    _spec(_N, "GTX1070TI", "GTX 1070 Ti", "GTX1070TI", "Pascal",
          8.0, "GDDR5", 256.3, None, None, 8.19, "6.1",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1070-ti.c3010 (FP16 at 1/64 rate: "
          "ranks on FP32)"),
    _spec(_N, "GTX1070", "GTX 1070", "GTX1070", "Pascal",
          8.0, "GDDR5", 256.3, None, None, 6.46, "6.1",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1070.c2840 (FP16 at 1/64 rate: "
          "ranks on FP32)"),
    _spec(_N, "GTX1060", "GTX 1060 6GB", "GTX1060", "Pascal",
          6.0, "GDDR5", 192.2, None, None, 4.38, "6.1",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1060-6-gb.c2862 (FP16 at 1/64 "
          "rate: ranks on FP32)"),
    _spec(_N, "GTX1050TI", "GTX 1050 Ti", "GTX1050TI", "Pascal",
          4.0, "GDDR5", 112.1, None, None, 2.14, "6.1",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-1050-ti.c2885 (FP16 at 1/64 rate: "
          "ranks on FP32)"),
    _spec(_N, "P104-100", "P104-100", "P104-100", "Pascal",
          4.0, "GDDR5X", 320.3, None, None, 6.66, "6.1",
          "https://www.techpowerup.com/gpu-specs/p104-100.c2981 (FP16 at 1/64 rate: ranks on "
          "FP32)"),
    _spec(_N, "GTX-TITAN-X", "GTX TITAN X", "GTX-TITAN-X", "Maxwell",
          12, "GDDR5", 336.6, None, None, 6.69, "5.2",
          "https://www.techpowerup.com/gpu-specs/geforce-gtx-titan-x.c2632 (no usable FP16: "
          "ranks on FP32)"),
)
# fmt: on

GPUS: dict[str, GPUSpec] = {spec.name: spec for spec in _SPECS}
"""Canonical name -> spec, in display order."""

# Form factor of the models that have siblings differing only by it; absent means "any".
_FORM: dict[str, str] = {
    "H200": "SXM",
    "H200-NVL": "NVL",
    "H100-SXM": "SXM",
    "H100-PCIE": "PCIE",
    "H100-NVL": "NVL",
    "A100-80GB": "SXM",
    "A100-80GB-PCIE": "PCIE",
}

# ---------------------------------------------------------------------------------------------
# Parsing a raw name into (model key, form factor, memory)
# ---------------------------------------------------------------------------------------------

_SEPARATORS_RE = re.compile(r"[\s_\-/(),]+")
_MEMORY_RE = re.compile(r"(?<![A-Z0-9.])(\d+(?:\.\d+)?) ?(?:GIB|GB|G)(?![A-Z0-9])")
_COUNT_RE = re.compile(r"\d+X")  # "8x" in "8x H100 (80 GB SXM5)" or "gpu_8x_h100_sxm5"
_GLUED_FORM_RE = re.compile(r"(.*\d)(SXM\d?|PCIE|NVL)")  # "H100SXM5", "A100PCIE"

_NOISE = frozenset(
    {
        "NVIDIA", "GEFORCE", "TESLA", "AMD", "INSTINCT", "OAM", "GPU", "GPUS",
        "MEGA",  # GCP "nvidia-h100-mega-80gb" is an ordinary H100 SXM
        "HBM2", "HBM2E", "HBM3E", "GDDR6", "GDDR6X", "GDDR7", "ECC",
        "GENERATION", "EDITION", "BLACKWELL",
        # Hyperstack "H100-80G-PCIe-NVLink": PCIe cards with an NVLink bridge, not the H100 NVL.
        "NVLINK",
    }
)  # fmt: skip

_GLUED_PREFIXES = ("GEFORCE", "INSTINCT")

_FORM_TOKENS: dict[str, str] = {
    **dict.fromkeys(("SXM", "SXM2", "SXM3", "SXM4", "SXM5", "SXM6", "HGX"), "SXM"),
    # RunPod's "H100 80GB HBM3" is the SXM part: the PCIe H100 has HBM2e.
    "HBM3": "SXM",
    **dict.fromkeys(("PCIE", "PCI", "FHHL"), "PCIE"),
    "NVL": "NVL",
}


class _Parsed(NamedTuple):
    model: str
    form: str | None
    memory_gib: float | None


def _tokens(raw: str) -> list[str]:
    return _SEPARATORS_RE.sub(" ", raw.upper()).split()


def _parse(raw: str) -> _Parsed:
    """Split a raw GPU name into a separator-free model key, a form factor and a memory size."""
    text = _SEPARATORS_RE.sub(" ", raw.upper())
    memory: float | None = None
    match = _MEMORY_RE.search(text)
    if match:
        memory = float(match.group(1))
        text = _MEMORY_RE.sub(" ", text)
    form: str | None = None
    model: list[str] = []
    for token in text.split():
        if token in _NOISE or _COUNT_RE.fullmatch(token):
            continue
        if token in _FORM_TOKENS:
            form = _FORM_TOKENS[token]
            continue
        glued = _GLUED_FORM_RE.fullmatch(token)
        if glued and glued.group(2) in _FORM_TOKENS:
            token, form = glued.group(1), _FORM_TOKENS[glued.group(2)]
        for prefix in _GLUED_PREFIXES:  # TensorDock "geforcertx4090", Vast "InstinctMI50"
            if token.startswith(prefix) and len(token) > len(prefix):
                token = token[len(prefix) :]
        model.append(token)
    return _Parsed("".join(model), form, memory)


def _compact(raw: str) -> str:
    return "".join(t for t in _tokens(raw) if t not in _NOISE and not _COUNT_RE.fullmatch(t))


def _build_model_index() -> dict[str, tuple[GPUSpec, ...]]:
    index: dict[str, list[GPUSpec]] = {}
    for spec in GPUS.values():
        for raw in (spec.name, spec.display_name, spec.family, *spec.aliases):
            bucket = index.setdefault(_parse(raw).model, [])
            if spec not in bucket:
                bucket.append(spec)
    return {key: tuple(specs) for key, specs in index.items()}


# Model key ("H100", "RTXA6000", "4090"...) -> the specs it can mean, in GPUS order.
_MODEL_INDEX: dict[str, tuple[GPUSpec, ...]] = _build_model_index()


def _build_families() -> dict[str, tuple[GPUSpec, ...]]:
    families: dict[str, list[GPUSpec]] = {}
    for spec in GPUS.values():
        families.setdefault(spec.family, []).append(spec)
    return {family: tuple(specs) for family, specs in families.items()}


_FAMILIES: dict[str, tuple[GPUSpec, ...]] = _build_families()

# A canonical name that is also a family name ("H200", "V100") is a family in a query.
_EXACT: dict[str, GPUSpec] = {
    name.upper(): spec for name, spec in GPUS.items() if len(_FAMILIES.get(name, ())) < 2
}

# Canonical names compared without separators, for get().
_EXACT_COMPACT: dict[str, GPUSpec] = {_compact(name): spec for name, spec in GPUS.items()}


def _keys_by_name() -> dict[str, frozenset[str]]:
    # One pass over the index (comparing specs by dataclass equality, name by name, costs a
    # cold start 20 ms).
    keys: dict[str, set[str]] = {name: set() for name in GPUS}
    for key, specs in _MODEL_INDEX.items():
        for spec in specs:
            keys[spec.name].add(key)
    return {name: frozenset(found) for name, found in keys.items()}


_KEYS_BY_NAME: dict[str, frozenset[str]] = _keys_by_name()

# Compact spelling -> what to suggest: multi-model family names (valid --gpu values that cover
# the most offers) first, then canonical names.
_SUGGESTIONS: dict[str, str] = {
    **{_compact(fam): fam for fam, specs in _FAMILIES.items() if len(specs) > 1},
    **{_compact(name): name for name in GPUS},
}


def _within_tolerance(marketed: float, reported: float) -> bool:
    return abs(reported - marketed) <= MEMORY_TOLERANCE * marketed


def _form_matches(spec: GPUSpec, form: str | None) -> bool:
    return form is None or _FORM.get(spec.name, form) == form


def _pick(group: tuple[GPUSpec, ...], form: str | None, memory: float | None) -> GPUSpec:
    candidates = tuple(s for s in group if _form_matches(s, form)) or group
    if memory is not None and 0 < memory < math.inf and len(candidates) > 1:
        target = math.log(memory)
        # min() keeps the first of equals, so ties go to the family default (GPUS order).
        return min(candidates, key=lambda s: abs(math.log(s.memory_gib) - target))
    return candidates[0]


def _suggest(raw: str) -> list[str]:
    query = _compact(raw)
    if not query:
        return []
    # A truncated name ("h10") is best answered by what it is a prefix of; difflib alone
    # ranks "A10" above "H100-SXM" for it.
    prefixed = [label for key, label in _SUGGESTIONS.items() if key.startswith(query)]
    close = difflib.get_close_matches(query, list(_SUGGESTIONS), n=3, cutoff=0.5)
    return list(dict.fromkeys([*prefixed, *(_SUGGESTIONS[key] for key in close)]))[:3]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def normalize(raw: str, memory_gib: float | None = None) -> GPUSpec | None:
    """Map a provider's GPU name to the one spec it denotes.

    The memory in the name wins over ``memory_gib``; either one picks between models that
    differ only by memory (A100 40/80 GB, V100 16/32 GB), choosing the closest size. A bare
    ``H100`` (AWS, GCP, Lambda) is the SXM part. An A100 with no memory anywhere is taken as
    80 GB, the size most listings carry today; a ``40`` in the name or reported memory near
    40 GiB selects A100-40GB instead.

    Args:
        raw: the name as the provider spells it, e.g. ``NVIDIA A100-SXM4-80GB``.
        memory_gib: VRAM per GPU as the provider reports it, GiB (40960 MiB -> 40.0).

    Returns:
        The matching spec, or ``None`` for a name the registry does not know. Never raises.
    """
    if not raw:
        return None
    parsed = _parse(raw)
    group = _MODEL_INDEX.get(parsed.model)
    if group is None:
        return None
    memory = parsed.memory_gib if parsed.memory_gib is not None else memory_gib
    return _pick(group, parsed.form, memory)


def resolve_query(name: str) -> list[GPUSpec]:
    """Resolve a user's ``--gpu`` value to every model it means.

    A canonical name (``A100-80GB``, case-insensitive) or an alias that names one model
    (``rtx_4090``, ``4090``, ``NVIDIA H100 80GB HBM3``) gives that model. A family name
    (``h100``, ``a100``, ``v100``, ``h200``) gives all models of the family, and a form factor
    or memory size narrows it: ``A100 80GB`` gives both 80 GB A100s (SXM4 and PCIe), while
    ``A100 80GB SXM`` or the canonical ``A100-80GB`` give only the SXM4 model.

    Args:
        name: what the user typed.

    Returns:
        The matching specs, in :data:`GPUS` order; never empty.

    Raises:
        AmbiguousGPUError: ``name`` is a prefix of models from several families (``rtx``, ``l``).
        UnknownGPUError: nothing matches; carries up to three suggestions.
    """
    text = name.strip()
    exact = _EXACT.get(text.upper())
    if exact is not None:
        return [exact]
    parsed = _parse(text)
    group = _MODEL_INDEX.get(parsed.model)
    if group is not None:
        matches = [
            spec
            for spec in group
            if _form_matches(spec, parsed.form)
            and (parsed.memory_gib is None or _within_tolerance(spec.memory_gib, parsed.memory_gib))
        ]
        if matches:
            return matches
    elif parsed.model:
        prefixed = [
            spec
            for spec in GPUS.values()
            if any(key.startswith(parsed.model) for key in _KEYS_BY_NAME[spec.name])
        ]
        if len({spec.family for spec in prefixed}) > 1:
            raise AmbiguousGPUError(name, sorted(spec.name for spec in prefixed))
    raise UnknownGPUError(name, _suggest(text))


def get(name: str) -> GPUSpec:
    """Return the one spec a canonical name or alias denotes.

    Unlike :func:`resolve_query`, a canonical name matches with any separators
    (``a100 80gb`` is ``A100-80GB``) and a canonical name that is also a family name
    (``H200``, ``V100``) means that model, not the family.

    Args:
        name: canonical name or alias, case- and separator-insensitive.

    Returns:
        The spec.

    Raises:
        AmbiguousGPUError: ``name`` means several models (``H100``); lists them.
        UnknownGPUError: nothing matches; carries up to three suggestions.
    """
    spec = GPUS.get(name) or _EXACT_COMPACT.get(_compact(name))
    if spec is not None:
        return spec
    matches = resolve_query(name)
    if len(matches) > 1:
        raise AmbiguousGPUError(name, sorted(s.name for s in matches))
    return matches[0]


def snap_memory_gib(spec: GPUSpec, reported_gib: float | None) -> float | None:
    """Snap a provider-reported memory size to the marketed one when they are close.

    Providers report a little less than marketed (81559 MiB for an 80 GB H100, 22888 MiB for
    an L4), so a value within 7 % of ``spec.memory_gib`` becomes ``spec.memory_gib``.

    Args:
        spec: the GPU the offer carries.
        reported_gib: memory per GPU as reported, GiB; ``None`` if unknown.

    Returns:
        ``spec.memory_gib`` when ``reported_gib`` is ``None`` or within tolerance, otherwise
        ``reported_gib`` unchanged (e.g. a MIG slice).
    """
    if reported_gib is None or _within_tolerance(spec.memory_gib, reported_gib):
        return spec.memory_gib
    return reported_gib


def search(
    arch: str | None = None, min_vram_gib: float | None = None, vendor: str | None = None
) -> list[GPUSpec]:
    """List known GPUs matching every given filter.

    Args:
        arch: architecture, case- and space-insensitive (``hopper``, ``cdna3``).
        min_vram_gib: minimum marketed memory per GPU, GiB.
        vendor: ``nvidia`` or ``amd``, case-insensitive.

    Returns:
        The matching specs in :data:`GPUS` order.
    """
    arch_key = None if arch is None else arch.replace(" ", "").lower()
    vendor_key = None if vendor is None else vendor.strip().lower()
    return [
        spec
        for spec in GPUS.values()
        if (arch_key is None or spec.architecture.replace(" ", "").lower() == arch_key)
        and (min_vram_gib is None or spec.memory_gib >= min_vram_gib)
        and (vendor_key is None or spec.vendor == vendor_key)
    ]


def tflops(spec: GPUSpec) -> float | None:
    """Return the throughput figure ranking uses.

    Args:
        spec: the GPU.

    Returns:
        Dense BF16 TFLOPS, else dense FP16, else FP32; ``None`` if the registry has none.
    """
    for value in (spec.bf16_tflops, spec.fp16_tflops, spec.fp32_tflops):
        if value is not None:
            return value
    return None


PRICE_FIELDS = (
    "min_price_per_gpu_hour_usd", "min_price_provider", "min_price_source", "min_price_spot",
    "min_price_observed_at", "min_price_offer_id",
)  # fmt: skip
"""Columns `GpuRegistry.list` adds with ``prices=True``: the cheapest known offer per model."""


class GpuRegistry:
    """The registry as a service (``Broker.gpus``): list and resolve GPU models.

    Args:
        known_offers: returns every offer known without touching the network (the cache,
            else the bundled catalog, per provider); used for the cheapest price per model.
    """

    def __init__(self, known_offers: Callable[[], Sequence[Offer]] | None = None) -> None:
        self._known_offers = known_offers

    def list(
        self,
        name: str | None = None,
        *,
        arch: str | None = None,
        min_vram_gib: float | None = None,
        vendor: str | None = None,
        prices: bool = False,
    ) -> list[dict[str, object]]:
        """Known GPUs matching every given filter, as JSON-ready rows (specs + aliases).

        Args:
            name: a name or family (``a100``): only the models it means. A name the registry
                does not know lists the offers' GPUs of that name (with prices only).
            arch, min_vram_gib, vendor: as in `search`.
            prices: add the cheapest known $/GPU-hour per model and where it is offered
                (`PRICE_FIELDS`), like ``sky show-gpus``; GPU names that offers carry but the
                registry lacks get rows of their own (specs empty) when no spec filter is given.

        Raises:
            AmbiguousGPUError: ``name`` means models of several families.
        """
        from dataclasses import asdict

        specs = search(arch=arch, min_vram_gib=min_vram_gib, vendor=vendor)
        unknown_key: str | None = None
        if name:
            try:
                wanted = {s.name for s in resolve_query(name)}
            except UnknownGPUError:
                if not prices:
                    raise
                wanted, unknown_key = set(), _compact(name)
            specs = [s for s in specs if s.name in wanted]
        rows: list[dict[str, object]] = [{**asdict(s), "aliases": list(s.aliases)} for s in specs]
        if not prices:
            return rows
        cheapest = self._cheapest()
        for row in rows:
            row.update(cheapest.pop(str(row["name"]), dict.fromkeys(PRICE_FIELDS)))
        if arch is None and min_vram_gib is None and vendor is None:
            for model, price in sorted(cheapest.items()):
                if model in GPUS or (name and _compact(model) != unknown_key):
                    continue
                blank: dict[str, object] = dict.fromkeys(_SPEC_FIELDS)
                rows.append({**blank, "name": model, "display_name": model, "aliases": [],
                             **price})  # fmt: skip
        return rows

    def _cheapest(self) -> dict[str, dict[str, object]]:
        best: dict[str, Offer] = {}
        for offer in self._known_offers() if self._known_offers else ():
            held = best.get(offer.gpu_model)
            key = (offer.price_per_gpu_hour_usd, offer.spot, offer.id)
            if held is None or key < (held.price_per_gpu_hour_usd, held.spot, held.id):
                best[offer.gpu_model] = offer
        return {
            model: {
                "min_price_per_gpu_hour_usd": o.price_per_gpu_hour_usd,
                "min_price_provider": o.provider,
                "min_price_source": o.source.value,
                "min_price_spot": o.spot,
                "min_price_observed_at": o.observed_at.isoformat(),
                "min_price_offer_id": o.id,
            }
            for model, o in best.items()
        }

    def get(self, name: str) -> GPUSpec:
        """One model by canonical name or unambiguous alias (see `get`)."""
        return get(name)


_SPEC_FIELDS = tuple(GPUSpec.__dataclass_fields__)
