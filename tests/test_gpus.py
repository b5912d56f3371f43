"""Tests for the GPU registry: spec data, provider-name normalisation and query resolution."""

from __future__ import annotations

import pytest

from gpubroker import gpus
from gpubroker.errors import AmbiguousGPUError, UnknownGPUError, UsageError
from gpubroker.gpus import (
    GPUS,
    GPUSpec,
    get,
    normalize,
    resolve_query,
    search,
    snap_memory_gib,
    tflops,
)

MIB = 1 / 1024  # MiB -> GiB


def names(specs: list[GPUSpec]) -> list[str]:
    return [spec.name for spec in specs]


# --------------------------------------------------------------------------------------------
# Provider spellings (reference: gpus.md, "Name variants by source")
# --------------------------------------------------------------------------------------------

PROVIDER_SPELLINGS: list[tuple[str, float | None, str]] = [
    # nvidia-smi / torch.cuda.get_device_name / rocm-smi
    ("NVIDIA B200", None, "B200"),
    ("B300 288GB", None, "B300"),  # Hyperstack's price page
    ("NVIDIA B300", 288 * 1024 * MIB, "B300"),
    ("NVIDIA H200", None, "H200"),
    ("NVIDIA H200 NVL", None, "H200-NVL"),
    ("NVIDIA H100 80GB HBM3", None, "H100-SXM"),
    ("NVIDIA H100 PCIe", None, "H100-PCIE"),
    ("NVIDIA H100 NVL", None, "H100-NVL"),
    ("NVIDIA A100-SXM4-80GB", None, "A100-80GB"),
    ("NVIDIA A100 80GB PCIe", None, "A100-80GB-PCIE"),
    ("NVIDIA A100-SXM4-40GB", None, "A100-40GB"),
    ("NVIDIA A100-PCIE-40GB", None, "A100-40GB"),
    ("NVIDIA L40S", None, "L40S"),
    ("NVIDIA L40", None, "L40"),
    ("NVIDIA L4", None, "L4"),
    ("NVIDIA A10G", None, "A10G"),
    ("NVIDIA A10", None, "A10"),
    ("NVIDIA RTX A6000", None, "A6000"),
    ("NVIDIA RTX A5000", None, "A5000"),
    ("NVIDIA RTX A4000", None, "A4000"),
    ("Tesla V100-SXM2-16GB", None, "V100"),
    ("Tesla V100-SXM2-32GB", None, "V100-32GB"),
    ("Tesla V100-PCIE-16GB", None, "V100"),
    ("Tesla V100-FHHL-16GB", None, "V100"),
    ("Tesla T4", None, "T4"),
    ("NVIDIA GeForce RTX 4090", None, "RTX4090"),
    ("NVIDIA GeForce RTX 3090", None, "RTX3090"),
    ("NVIDIA GeForce RTX 5090", None, "RTX5090"),
    ("AMD Instinct MI300X", None, "MI300X"),
    # AWS GpuInfo names, with the SizeInMiB they come with where it matters
    ("B200", None, "B200"),
    ("H200", None, "H200"),
    ("H100", 81920 * MIB, "H100-SXM"),
    ("A100", 40960 * MIB, "A100-40GB"),  # p4d
    ("A100", 81920 * MIB, "A100-80GB"),  # p4de
    ("L40S", 45776 * MIB, "L40S"),
    ("L4", 22888 * MIB, "L4"),
    ("A10G", 24576 * MIB, "A10G"),
    ("V100", 16384 * MIB, "V100"),  # p3
    ("V100", 32768 * MIB, "V100-32GB"),  # p3dn
    ("T4", 16384 * MIB, "T4"),
    ("T4g", 16384 * MIB, "T4"),
    # GCP accelerator types and SKU texts
    ("nvidia-b200", None, "B200"),
    ("nvidia-h200-141gb", None, "H200"),
    ("nvidia-h100-80gb", None, "H100-SXM"),
    ("nvidia-h100-mega-80gb", None, "H100-SXM"),
    ("nvidia-a100-80gb", None, "A100-80GB"),
    ("nvidia-tesla-a100", 40.0, "A100-40GB"),
    ("nvidia-l4", None, "L4"),
    ("nvidia-tesla-v100", 16.0, "V100"),
    ("nvidia-tesla-t4", None, "T4"),
    ("Nvidia H100 80GB GPU", None, "H100-SXM"),
    ("Nvidia Tesla A100 80GB GPU", None, "A100-80GB"),
    ("Nvidia Tesla A100 GPU", 40.0, "A100-40GB"),
    ("Nvidia L4 GPU", None, "L4"),
    ("Nvidia Tesla V100 GPU", None, "V100"),
    ("Nvidia Tesla T4 GPU", None, "T4"),
    # RunPod ids and displayNames (memoryInGb alongside)
    ("AMD Instinct MI300X OAM", None, "MI300X"),
    ("H200 SXM", None, "H200"),
    ("H100 SXM", None, "H100-SXM"),
    ("H100 PCIe", None, "H100-PCIE"),
    ("H100 NVL", None, "H100-NVL"),
    ("A100 SXM", 80.0, "A100-80GB"),
    ("A100 PCIe", 80.0, "A100-80GB-PCIE"),
    ("RTX A6000", 48.0, "A6000"),
    ("V100 SXM2", 16.0, "V100"),
    ("RTX 4090", 24.0, "RTX4090"),
    ("MI300X", 192.0, "MI300X"),
    # Vast gpu_name with gpu_ram (MiB)
    ("H200 NVL", 143771 * MIB, "H200-NVL"),
    ("H100 PCIE", 81559 * MIB, "H100-PCIE"),
    ("A100 SXM4", 81920 * MIB, "A100-80GB"),
    ("A100 SXM4", 40960 * MIB, "A100-40GB"),
    ("A100 PCIE", 81920 * MIB, "A100-80GB-PCIE"),
    ("A100 PCIE", 40536 * MIB, "A100-40GB"),
    ("A100X", 81920 * MIB, "A100-80GB-PCIE"),
    ("Tesla V100", 32768 * MIB, "V100-32GB"),
    ("RTX 3090", 24576 * MIB, "RTX3090"),
    ("RTX 5090", 32607 * MIB, "RTX5090"),
    # Lambda instance types and descriptions
    ("gpu_8x_b200_sxm6", None, "B200"),
    ("8x B200 (180 GB SXM6)", None, "B200"),
    ("gpu_8x_h100_sxm5", None, "H100-SXM"),
    ("8x H100 (80 GB SXM5)", None, "H100-SXM"),
    ("gpu_1x_h100_pcie", None, "H100-PCIE"),
    ("1x H100 (80 GB PCIe)", None, "H100-PCIE"),
    ("gpu_8x_a100_80gb_sxm4", None, "A100-80GB"),
    ("8x A100 (80 GB SXM4)", None, "A100-80GB"),
    ("gpu_1x_a100_sxm4", 40.0, "A100-40GB"),
    ("1x A100 (40 GB SXM4)", None, "A100-40GB"),
    ("gpu_1x_a10", None, "A10"),
    ("1x A10 (24 GB PCIe)", None, "A10"),
    ("gpu_1x_a6000", None, "A6000"),
    ("1x A6000 (48 GB)", None, "A6000"),
    ("gpu_8x_v100", None, "V100"),
    ("8x Tesla V100 (16 GB)", None, "V100"),
    # TensorDock v0Name / displayName
    ("h200-sxm5-141gb", None, "H200"),
    ("h100-sxm5-80gb", None, "H100-SXM"),
    ("H100 SXM5 80GB", None, "H100-SXM"),
    ("h100-pcie-80gb", None, "H100-PCIE"),
    ("a100-pcie-80gb", None, "A100-80GB-PCIE"),
    ("a100-sxm4-80gb", None, "A100-80GB"),
    ("l40s-pcie-48gb", None, "L40S"),
    ("l40-pcie-48gb", None, "L40"),
    ("rtxa6000-pcie-48gb", None, "A6000"),
    ("rtxa5000-pcie-24gb", None, "A5000"),
    ("rtxa4000-pcie-16gb", None, "A4000"),
    ("v100-pcie-16gb", None, "V100"),
    ("geforcertx4090-pcie-24gb", None, "RTX4090"),
    ("NVIDIA GeForce RTX 4090 PCIe 24GB", None, "RTX4090"),
    ("geforcertx3090-pcie-24gb", None, "RTX3090"),
    ("geforcertx5090-pcie-32gb", None, "RTX5090"),
    # DataCrunch / Verda gpu.description
    ("8x B200 SXM6 180GB", None, "B200"),
    ("1x H200 SXM5 141GB", None, "H200"),
    ("1x H100 SXM5 80GB", None, "H100-SXM"),
    ("8x A100 SXM4 80GB", None, "A100-80GB"),
    ("8x A100 SXM4 40GB", None, "A100-40GB"),
    ("1x L40S 48GB", None, "L40S"),
    ("2x RTX A6000 48GB", None, "A6000"),
    ("1x Tesla V100 16GB", None, "V100"),
    # FluidStack
    ("H100_SXM5_80GB", None, "H100-SXM"),
    ("H100_PCIE_80GB", None, "H100-PCIE"),
    ("A100_PCIE_80GB", None, "A100-80GB-PCIE"),
    ("A100_SXM4_80GB", None, "A100-80GB"),
    ("L40_48GB", None, "L40"),
    ("A10_PCIE_24GB", None, "A10"),
    ("RTX_A6000_48GB", None, "A6000"),
    ("RTX_A5000_24GB", None, "A5000"),
    ("RTX_A4000_16GB", None, "A4000"),
    ("Tesla_V100_SXM2_16GB", None, "V100"),
    ("T4_16GB", None, "T4"),
    ("RTX_3090_24GB", None, "RTX3090"),
    # Hyperstack, Genesis, CUDO, Paperspace, Vultr
    ("H100-80G-SXM5", None, "H100-SXM"),
    ("H100-80G-PCIe", None, "H100-PCIE"),
    ("A100-80G-PCIe", None, "A100-80GB-PCIE"),
    ("RTX-A6000", None, "A6000"),
    ("RTX-A4000", None, "A4000"),
    ("nvidia-h100-sxm5", None, "H100-SXM"),
    ("nvidia-rtx-a5000", None, "A5000"),
    ("H100", None, "H100-SXM"),
    ("A100-80G", None, "A100-80GB"),
    ("A6000", None, "A6000"),
    ("A5000", None, "A5000"),
    ("A4000", None, "A4000"),
    ("V100-32G", None, "V100-32GB"),
    ("NVIDIA_A100", 80.0, "A100-80GB"),
    ("NVIDIA_L40S", None, "L40S"),
    ("AMD_MI300X", None, "MI300X"),
    # CLI spelling
    ("RTX_4090", None, "RTX4090"),
    # "Extra entries often met"
    ("NVIDIA A40", None, "A40"),
    ("NVIDIA A30", None, "A30"),
    ("NVIDIA A16", None, "A16"),
    ("NVIDIA RTX A4500", None, "A4500"),
    ("NVIDIA RTX 6000 Ada Generation", None, "RTX6000-ADA"),
    ("RTX 6000Ada", None, "RTX6000-ADA"),
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", None, "RTX-PRO-6000-SERVER"),
    ("NVIDIA GH200 480GB", None, "GH200"),
    ("Tesla P100-PCIE-16GB", None, "P100"),
    ("NVIDIA GeForce RTX 3080", None, "RTX3080"),
    ("NVIDIA GeForce RTX 4080", None, "RTX4080"),
    # RunPod gpuTypes ids and display names, as recorded (issue 11)
    ("NVIDIA GeForce RTX 3090 Ti", None, "RTX3090TI"),
    ("NVIDIA RTX 4000 Ada Generation", None, "RTX4000-ADA"),
    ("RTX 4000 Ada", None, "RTX4000-ADA"),
    ("NVIDIA RTX 4000 SFF Ada Generation", None, "RTX4000-SFF-ADA"),
    ("RTX 4000 Ada SFF", None, "RTX4000-SFF-ADA"),
    ("RTX PRO 4000", None, "RTX-PRO-4000"),
    # Vultr plan ids (vcg-mi325x-..., vbm-...-8-mi355x-gpu) and gpu_type spellings
    ("MI325X", None, "MI325X"),
    ("AMD_MI325X", None, "MI325X"),
    ("MI355X", None, "MI355X"),
    # Vast.ai gpu_name values (and the underscore spelling its CLI uses)
    ("RTX PRO 6000 S", None, "RTX-PRO-6000-SERVER"),
    ("RTX_PRO_6000_WS", None, "RTX-PRO-6000-WS"),
    ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", None, "RTX-PRO-6000-MAXQ"),
    ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", None, "RTX-PRO-6000-WS"),
    ("RTX PRO 5000", None, "RTX-PRO-5000"),
    ("NVIDIA RTX PRO 4500 Blackwell", None, "RTX-PRO-4500"),
    ("NVIDIA RTX PRO 4000 Blackwell", None, "RTX-PRO-4000"),
    ("RTX 5880Ada", None, "RTX5880-ADA"),
    ("RTX 5000Ada", None, "RTX5000-ADA"),
    ("NVIDIA RTX 4500 Ada Generation", None, "RTX4500-ADA"),
    ("RTX_4000Ada", None, "RTX4000-ADA"),
    ("NVIDIA RTX 2000 Ada Generation", None, "RTX2000-ADA"),
    ("RTX A5500", None, "A5500"),
    ("RTX A2000", None, "A2000"),
    ("NVIDIA RTX A2000 12GB", None, "A2000-12GB"),
    ("RTX A2000", 11.99, "A2000-12GB"),
    ("NVIDIA A2", None, "A2"),
    ("A800 PCIE", 79.6, "A800-80GB"),
    ("NVIDIA A800 40GB PCIe", None, "A800-40GB"),
    ("GH200 SXM", None, "GH200"),
    ("Tesla P40", None, "P40"),
    ("Tesla_P4", None, "P4"),
    ("Titan V", None, "TITAN-V"),
    ("NVIDIA TITAN RTX", None, "TITAN-RTX"),
    ("Titan Xp", None, "TITAN-XP"),
    ("GTX_TITAN_X", None, "GTX-TITAN-X"),
    ("Q_RTX_4000", None, "QUADRO-RTX-4000"),
    ("Q RTX 5000", None, "QUADRO-RTX-5000"),
    ("Quadro RTX 6000", None, "QUADRO-RTX-6000"),
    ("Q_RTX_8000", None, "QUADRO-RTX-8000"),
    ("Quadro_P4000", None, "QUADRO-P4000"),
    ("Quadro_K2200", None, "QUADRO-K2200"),
    ("RTX 5090", None, "RTX5090"),
    ("RTX_5080", None, "RTX5080"),
    ("RTX 5070 Ti", None, "RTX5070TI"),
    ("RTX 5070", None, "RTX5070"),
    ("RTX 5060 Ti", 15.93, "RTX5060TI"),
    ("RTX 5060 Ti", 7.96, "RTX5060TI-8GB"),
    ("RTX_5060", None, "RTX5060"),
    ("RTX_4090D", None, "RTX4090D"),
    ("RTX 4090 D", None, "RTX4090D"),
    ("RTX 4080S", None, "RTX4080-SUPER"),
    ("NVIDIA GeForce RTX 4080 SUPER", None, "RTX4080-SUPER"),
    ("RTX_4070S_Ti", None, "RTX4070TI-SUPER"),
    ("RTX 4070 Ti", None, "RTX4070TI"),
    ("RTX_4070S", None, "RTX4070-SUPER"),
    ("RTX 4070", None, "RTX4070"),
    ("RTX 4060 Ti", 7.99, "RTX4060TI"),
    ("RTX 4060 Ti", 15.99, "RTX4060TI-16GB"),
    ("NVIDIA GeForce RTX 4060 Ti 16GB", None, "RTX4060TI-16GB"),
    ("RTX 4060", None, "RTX4060"),
    ("RTX 3090 Ti", None, "RTX3090TI"),
    ("RTX_3080_Ti", None, "RTX3080TI"),
    ("RTX 3070 Ti", None, "RTX3070TI"),
    ("RTX 3070", None, "RTX3070"),
    ("RTX_3070_laptop", None, "RTX3070-LAPTOP"),
    ("RTX 3060 Ti", None, "RTX3060TI"),
    ("RTX 3060", None, "RTX3060"),
    ("RTX_3060_laptop", None, "RTX3060-LAPTOP"),
    ("RTX 3050", None, "RTX3050"),
    ("RTX 2080 Ti", None, "RTX2080TI"),
    ("RTX_2080S", None, "RTX2080-SUPER"),
    ("RTX 2080", None, "RTX2080"),
    ("RTX 2070S", None, "RTX2070-SUPER"),
    ("RTX 2070", None, "RTX2070"),
    ("RTX_2060S", None, "RTX2060-SUPER"),
    ("RTX 2060", None, "RTX2060"),
    ("RTX 2060", 12.0, "RTX2060-12GB"),
    ("GTX 1660 Ti", None, "GTX1660TI"),
    ("GTX_1660_S", None, "GTX1660-SUPER"),
    ("GTX 1660", None, "GTX1660"),
    ("GTX 1650", None, "GTX1650"),
    ("GTX 1080 Ti", None, "GTX1080TI"),
    ("GTX_1080", None, "GTX1080"),
    ("GTX 1070 Ti", None, "GTX1070TI"),
    ("GTX 1070", None, "GTX1070"),
    ("GTX 1060", None, "GTX1060"),
    ("GTX_1050_Ti", None, "GTX1050TI"),
    ("P104-100", None, "P104-100"),
    ("InstinctMI50", None, "MI50"),
    ("AMD Instinct MI100", None, "MI100"),
    ("AMD Instinct MI210", None, "MI210"),
    ("AMD Instinct MI250", None, "MI250"),
    ("AMD Instinct MI250X", None, "MI250X"),
    ("AMD Instinct MI325X", None, "MI325X"),
    ("AMD Instinct MI355X", None, "MI355X"),
]


@pytest.mark.parametrize(("raw", "memory_gib", "expected"), PROVIDER_SPELLINGS)
def test_normalize_provider_spellings(raw: str, memory_gib: float | None, expected: str) -> None:
    spec = normalize(raw, memory_gib)
    assert spec is not None, raw
    assert spec.name == expected


def test_enough_provider_spellings_are_covered() -> None:
    assert len({raw for raw, _, _ in PROVIDER_SPELLINGS}) >= 40
    assert {expected for _, _, expected in PROVIDER_SPELLINGS} == set(GPUS)


@pytest.mark.parametrize("spec", list(GPUS.values()), ids=list(GPUS))
def test_own_names_and_aliases_normalize_to_the_spec(spec: GPUSpec) -> None:
    for raw in (spec.name, spec.display_name, *spec.aliases):
        assert normalize(raw) is spec, raw
        assert normalize(raw.lower().replace(" ", "_")) is spec, raw


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "NVIDIA",  # AWS p5en once reported only the vendor
        "Radeon RX 7900 XTX",
        "RTX 9090",
        "Intel Arc A770",
        "A100 MIG 1g.10gb",
        "TPU v5e",
        "H100 FOO",
    ],
)
def test_normalize_unknown_returns_none(raw: str) -> None:
    assert normalize(raw) is None
    assert normalize(raw, 80.0) is None


@pytest.mark.parametrize("memory_gib", [0.0, -1.0, float("nan"), float("inf"), 1e-320, 1e308])
def test_normalize_never_raises_on_odd_memory(memory_gib: float) -> None:
    spec = normalize("A100 PCIE", memory_gib)
    assert spec is not None
    assert spec.family == "A100"


def test_normalize_is_cached() -> None:
    normalize.cache_clear()
    normalize("NVIDIA H100 80GB HBM3", 79.6)
    normalize("NVIDIA H100 80GB HBM3", 79.6)
    info = normalize.cache_info()
    assert (info.hits, info.misses) == (1, 1)


# --------------------------------------------------------------------------------------------
# Distinct models are never merged
# --------------------------------------------------------------------------------------------


def test_h100_form_factors_stay_distinct() -> None:
    sxm = {normalize(r) for r in ("H100 SXM", "NVIDIA H100 80GB HBM3", "H100_SXM5_80GB")}
    pcie = {normalize(r) for r in ("H100 PCIe", "NVIDIA H100 PCIe", "H100-80G-PCIe")}
    nvl = {normalize(r) for r in ("H100 NVL", "NVIDIA H100 NVL")}
    assert {s.name for s in sxm if s} == {"H100-SXM"}
    assert {s.name for s in pcie if s} == {"H100-PCIE"}
    assert {s.name for s in nvl if s} == {"H100-NVL"}
    assert GPUS["H100-SXM"].bandwidth_gbps != GPUS["H100-PCIE"].bandwidth_gbps
    assert GPUS["H100-NVL"].memory_gib == 94


def test_bare_h100_reporting_nvl_memory_is_nvl() -> None:
    assert normalize("H100", 95830 * MIB) is GPUS["H100-NVL"]


@pytest.mark.parametrize(
    ("raw", "memory_gib", "expected"),
    [
        ("A100", 40.0, "A100-40GB"),
        ("A100", 80.0, "A100-80GB"),
        ("A100", 40536 * MIB, "A100-40GB"),
        ("A100 SXM4", 80.0, "A100-80GB"),
        ("A100 SXM4", 40.0, "A100-40GB"),
        ("A100 PCIE", 80.0, "A100-80GB-PCIE"),
        ("A100 PCIE", 40.0, "A100-40GB"),
        # No memory anywhere: 80 GB is assumed, keeping the form factor.
        ("A100", None, "A100-80GB"),
        ("A100 SXM4", None, "A100-80GB"),
        ("A100 PCIE", None, "A100-80GB-PCIE"),
        # Memory in the name beats reported memory (e.g. a MIG slice reported as 10 GiB).
        ("NVIDIA A100-SXM4-40GB", 80.0, "A100-40GB"),
        ("NVIDIA A100-SXM4-80GB", 10.0, "A100-80GB"),
    ],
)
def test_a100_disambiguated_by_memory(raw: str, memory_gib: float | None, expected: str) -> None:
    spec = normalize(raw, memory_gib)
    assert spec is not None
    assert spec.name == expected


@pytest.mark.parametrize(
    ("raw", "memory_gib", "expected"),
    [
        ("V100", 16.0, "V100"),
        ("V100", 32.0, "V100-32GB"),
        ("V100", 32510 * MIB, "V100-32GB"),
        ("Tesla V100-SXM2-16GB", 32.0, "V100"),
        ("Tesla V100-SXM2-32GB", None, "V100-32GB"),
        ("V100", None, "V100"),
    ],
)
def test_v100_16_and_32_stay_distinct(raw: str, memory_gib: float | None, expected: str) -> None:
    spec = normalize(raw, memory_gib)
    assert spec is not None
    assert spec.name == expected
    assert spec.memory_gib == (32 if expected == "V100-32GB" else 16)


def test_each_model_key_belongs_to_one_family() -> None:
    for key, specs in gpus._MODEL_INDEX.items():
        assert len({spec.family for spec in specs}) == 1, key


# --------------------------------------------------------------------------------------------
# resolve_query / get
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("h100", ["H100-SXM", "H100-PCIE", "H100-NVL"]),
        ("H100", ["H100-SXM", "H100-PCIE", "H100-NVL"]),
        ("A100", ["A100-80GB", "A100-80GB-PCIE", "A100-40GB"]),
        ("a100", ["A100-80GB", "A100-80GB-PCIE", "A100-40GB"]),
        ("v100", ["V100", "V100-32GB"]),
        ("h200", ["H200", "H200-NVL"]),
        ("nvidia h100", ["H100-SXM", "H100-PCIE", "H100-NVL"]),
        # Memory- or form-qualified family names narrow the family.
        ("A100 80GB", ["A100-80GB", "A100-80GB-PCIE"]),
        ("a100_80gb", ["A100-80GB", "A100-80GB-PCIE"]),
        ("A100 40GB", ["A100-40GB"]),
        ("A100 80GB SXM", ["A100-80GB"]),
        ("A100 80GB PCIe", ["A100-80GB-PCIE"]),
        ("A100 PCIe", ["A100-80GB-PCIE", "A100-40GB"]),
        ("H100 80GB", ["H100-SXM", "H100-PCIE"]),
        ("h100-sxm5", ["H100-SXM"]),
        ("H100 NVL", ["H100-NVL"]),
        ("H200 SXM", ["H200"]),
        ("V100 32GB", ["V100-32GB"]),
        # Canonical names (case-insensitive) mean exactly that model.
        ("A100-80GB", ["A100-80GB"]),
        ("a100-80gb", ["A100-80GB"]),
        ("H100-PCIE", ["H100-PCIE"]),
        ("v100-32gb", ["V100-32GB"]),
        ("rtx4090", ["RTX4090"]),
        # Aliases and provider spellings, any case and separators.
        ("rtx_4090", ["RTX4090"]),
        ("RTX 4090", ["RTX4090"]),
        ("4090", ["RTX4090"]),
        ("GeForce RTX 4090", ["RTX4090"]),
        ("NVIDIA H100 80GB HBM3", ["H100-SXM"]),
        ("rtx a6000", ["A6000"]),
        ("RTXA6000", ["A6000"]),
        ("a6000", ["A6000"]),
        ("l40", ["L40"]),
        ("l40s", ["L40S"]),
        ("L4", ["L4"]),
        ("a10", ["A10"]),
        ("mi300x", ["MI300X"]),
        ("  b200  ", ["B200"]),
    ],
)
def test_resolve_query(query: str, expected: list[str]) -> None:
    assert names(resolve_query(query)) == expected


RTX_CHOICES = sorted(
    n for n in GPUS if n.startswith(("RTX", "A2000", "A4000", "A4500", "A5000", "A5500", "A6000"))
)
A_CHOICES = sorted(n for n in GPUS if n.startswith("A"))


@pytest.mark.parametrize(
    ("query", "choices"),
    [
        ("rtx", RTX_CHOICES),
        ("l", ["L4", "L40", "L40S"]),
        ("h", ["H100-NVL", "H100-PCIE", "H100-SXM", "H200", "H200-NVL"]),
        ("a", A_CHOICES),
    ],
)
def test_resolve_query_ambiguous(query: str, choices: list[str]) -> None:
    with pytest.raises(AmbiguousGPUError) as excinfo:
        resolve_query(query)
    err = excinfo.value
    assert err.choices == choices
    assert err.choices == sorted(err.choices)
    assert err.exit_code == 2
    assert isinstance(err, UsageError)
    assert "ambiguous" in str(err)


@pytest.mark.parametrize(
    ("query", "expected_suggestion"),
    [
        ("h10", "H100"),
        ("hl00", "H100"),
        ("a1000", "A100"),
        ("rtx40900", "RTX4090"),
        ("mi300", "MI300X"),
        ("l40x", "L40S"),
    ],
)
def test_resolve_query_unknown_suggests(query: str, expected_suggestion: str) -> None:
    with pytest.raises(UnknownGPUError) as excinfo:
        resolve_query(query)
    err = excinfo.value
    assert expected_suggestion in err.suggestions
    assert 1 <= len(err.suggestions) <= 3
    assert err.exit_code == 2
    assert err.name == query
    assert "did you mean" in str(err)
    for suggestion in err.suggestions:
        assert resolve_query(suggestion), suggestion  # every suggestion is itself valid


@pytest.mark.parametrize("query", ["", "zzz", "nvidia", "H100 40GB", "rtx 4090 48gb"])
def test_resolve_query_unknown(query: str) -> None:
    with pytest.raises(UnknownGPUError) as excinfo:
        resolve_query(query)
    assert excinfo.value.exit_code == 2


def test_get_canonical_alias_and_separators() -> None:
    assert get("H100-SXM") is GPUS["H100-SXM"]
    assert get("h100_sxm") is GPUS["H100-SXM"]
    assert get("a100 80gb") is GPUS["A100-80GB"]
    assert get("A100 80GB PCIe") is GPUS["A100-80GB-PCIE"]
    assert get("RTX 4090") is GPUS["RTX4090"]
    assert get("NVIDIA RTX A6000") is GPUS["A6000"]
    # A canonical name that is also a family name is the model itself for get().
    assert get("H200") is GPUS["H200"]
    assert get("v100") is GPUS["V100"]


def test_get_family_is_ambiguous() -> None:
    with pytest.raises(AmbiguousGPUError) as excinfo:
        get("h100")
    assert excinfo.value.choices == ["H100-NVL", "H100-PCIE", "H100-SXM"]
    assert excinfo.value.exit_code == 2


def test_get_unknown() -> None:
    with pytest.raises(UnknownGPUError) as excinfo:
        get("H1OO-SXM")
    assert "H100-SXM" in excinfo.value.suggestions


# --------------------------------------------------------------------------------------------
# snap_memory_gib / search / tflops
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reported", "expected"),
    [
        ("H100-SXM", 81559 * MIB, 80.0),
        ("H100-SXM", 81920 * MIB, 80.0),
        ("A100-40GB", 40536 * MIB, 40.0),
        ("L4", 22888 * MIB, 24.0),
        ("L40S", 45776 * MIB, 48.0),
        ("H200", 143771 * MIB, 141.0),
        ("B200", 179.0, 180.0),
        ("RTX4090", 24564 * MIB, 24.0),
        ("H100-SXM", None, 80.0),
        ("A100-40GB", 10.0, 10.0),  # a MIG slice is not snapped
        ("H100-SXM", 94.0, 94.0),
    ],
)
def test_snap_memory_gib(name: str, reported: float | None, expected: float) -> None:
    assert snap_memory_gib(GPUS[name], reported) == pytest.approx(expected)


def test_search_by_architecture_is_case_and_space_insensitive() -> None:
    hopper = ["H200", "H200-NVL", "GH200", "H100-SXM", "H100-PCIE", "H100-NVL"]
    assert names(search(arch="hopper")) == hopper
    assert names(search(arch="HOPPER")) == hopper
    assert names(search(arch="cdna3")) == ["MI325X", "MI300X"]
    assert names(search(arch="CDNA 3")) == ["MI325X", "MI300X"]
    assert search(arch="kepler") == []


def test_search_filters_combine_and_keep_registry_order() -> None:
    amd = ["MI355X", "MI325X", "MI300X", "MI250X", "MI250", "MI210", "MI100", "MI50"]
    assert names(search(vendor="AMD")) == amd
    assert names(search(min_vram_gib=141)) == ["B300", "B200", "MI355X", "MI325X", "MI300X",
                                               "H200", "H200-NVL"]  # fmt: skip
    big_ampere = names(search(arch="ampere", min_vram_gib=48))
    assert big_ampere == ["A100-80GB", "A100-80GB-PCIE", "A800-80GB", "A40", "A6000"]
    nvidia_96 = names(search(min_vram_gib=96, vendor="nvidia"))
    assert nvidia_96 == ["B300", "B200", "H200", "H200-NVL", "GH200", "RTX-PRO-6000-SERVER",
                         "RTX-PRO-6000-WS", "RTX-PRO-6000-MAXQ"]  # fmt: skip
    assert search() == list(GPUS.values())
    order = list(GPUS)
    result = names(search(min_vram_gib=24))
    assert result == sorted(result, key=order.index)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("H100-SXM", 989.0),  # BF16
        ("RTX4090", 165.2),  # BF16, FP32 accumulate
        ("T4", 65.0),  # no BF16: FP16
        ("V100", 125.0),  # no BF16: FP16
        ("MI300X", 1307.4),
        ("GH200", 989.0),
        ("P40", 11.76),  # Pascal: FP16 at 1/64 rate, so FP32
        ("RTX2080TI", 53.8),  # Turing GeForce: no BF16, FP16 tensor
    ],
)
def test_tflops_prefers_bf16_then_fp16_then_fp32(name: str, expected: float | None) -> None:
    assert tflops(GPUS[name]) == expected


def test_tflops_falls_back_to_fp32() -> None:
    spec = GPUSpec("X", "X", "nvidia", "X", "Ada", 8, None, None, None, None, 12.5, None)
    assert tflops(spec) == 12.5


# --------------------------------------------------------------------------------------------
# Spec numbers (reference: gpus.md, "Spec table")
# --------------------------------------------------------------------------------------------


def test_h100_sxm_spec() -> None:
    spec = GPUS["H100-SXM"]
    assert spec.display_name == "H100 SXM"
    assert (spec.vendor, spec.family, spec.architecture) == ("nvidia", "H100", "Hopper")
    assert spec.memory_gib == 80
    assert spec.memory_type == "HBM3"
    assert spec.bandwidth_gbps == 3350
    assert spec.bf16_tflops == 989
    assert spec.fp16_tflops == 989
    assert spec.fp32_tflops == 67
    assert spec.compute_capability == "9.0"


def test_t4_has_no_bf16() -> None:
    spec = GPUS["T4"]
    assert spec.bf16_tflops is None
    assert spec.fp16_tflops == 65
    assert spec.fp32_tflops == 8.1
    assert spec.compute_capability == "7.5"
    assert spec.architecture == "Turing"


def test_mi300x_is_amd_without_compute_capability() -> None:
    spec = GPUS["MI300X"]
    assert spec.vendor == "amd"
    assert spec.compute_capability is None
    assert spec.architecture == "CDNA 3"
    assert spec.memory_gib == 192
    assert spec.bandwidth_gbps == 5300
    assert spec.bf16_tflops == 1307.4


@pytest.mark.parametrize(
    ("name", "memory", "bw", "bf16", "fp32", "cc"),
    [
        ("B200", 180, 8000, 2250, 80, "10.0"),
        ("H200", 141, 4800, 989, 67, "9.0"),
        ("H200-NVL", 141, 4800, 835, 60, "9.0"),
        ("H100-PCIE", 80, 2000, 756, 51, "9.0"),
        ("H100-NVL", 94, 3900, 835, 60, "9.0"),
        ("A100-80GB", 80, 2039, 312, 19.5, "8.0"),
        ("A100-80GB-PCIE", 80, 1935, 312, 19.5, "8.0"),
        ("A100-40GB", 40, 1555, 312, 19.5, "8.0"),
        ("L40S", 48, 864, 362, 91.6, "8.9"),
        ("L40", 48, 864, 181, 90.5, "8.9"),
        ("L4", 24, 300, 121, 30.3, "8.9"),
        ("A10G", 24, 600, 70, 31.5, "8.6"),
        ("A10", 24, 600, 125, 31.2, "8.6"),
        ("A6000", 48, 768, 154.8, 38.7, "8.6"),
        ("A5000", 24, 768, 111.1, 27.8, "8.6"),
        ("A4000", 16, 448, 76.7, 19.2, "8.6"),
        ("V100", 16, 900, None, 15.7, "7.0"),
        ("V100-32GB", 32, 900, None, 15.7, "7.0"),
        ("RTX4090", 24, 1008, 165.2, 82.6, "8.9"),
        ("RTX3090", 24, 936, 71, 35.6, "8.6"),
        ("RTX5090", 32, 1792, 209.5, 104.8, "12.0"),
        ("A40", 48, 696, 149.7, 37.4, "8.6"),
        ("A30", 24, 933, 165, 10.3, "8.0"),
        ("A16", 16, 200, 18, 4.5, "8.6"),
        ("A4500", 20, 640, 94.6, 23.65, "8.6"),
        ("RTX6000-ADA", 48, 960, 364.2, 91.06, "8.9"),
        ("RTX-PRO-6000-SERVER", 96, 1790, 504, 126, "12.0"),
        ("RTX-PRO-6000-MAXQ", 96, 1790, 438.8, 109.7, "12.0"),
        ("GH200", 96, 4000, 989, 67, "9.0"),
        ("P100", 16, 732, None, 9.53, "6.0"),
        ("RTX3080", 10, 760.3, 59.5, 29.77, "8.6"),
        ("RTX4080", 16, 716.8, 97.5, 48.74, "8.9"),
        ("RTX4060TI", 8, 288, 44.1, 22.06, "8.9"),
        ("RTX4060TI-16GB", 16, 288, 44.1, 22.06, "8.9"),
        ("RTX2080TI", 11, 616, None, 13.45, "7.5"),
        ("MI250X", 128, 3276.8, 383, 47.9, None),
    ],
)
def test_spec_table(
    name: str,
    memory: float,
    bw: float | None,
    bf16: float | None,
    fp32: float | None,
    cc: str,
) -> None:
    spec = GPUS[name]
    assert (spec.memory_gib, spec.bandwidth_gbps, spec.bf16_tflops, spec.fp32_tflops) == (
        memory,
        bw,
        bf16,
        fp32,
    )
    assert spec.compute_capability == cc


def test_registry_is_consistent() -> None:
    for name, spec in GPUS.items():
        assert spec.name == name
        assert spec.vendor in {"nvidia", "amd"}
        assert spec.memory_gib > 0
        if spec.vendor == "nvidia":
            assert spec.compute_capability is not None
            if spec.bf16_tflops is not None:
                assert spec.fp16_tflops == spec.bf16_tflops  # both dense, FP32 accumulate
        assert spec.source, name
        assert spec.fp32_tflops is not None and spec.bandwidth_gbps is not None, name
    assert len({spec.display_name for spec in GPUS.values()}) == len(GPUS)
    families = {spec.family for spec in GPUS.values()}
    assert {"H100", "A100", "V100", "H200"} <= families


def test_spec_is_frozen() -> None:
    with pytest.raises(AttributeError):
        GPUS["H100-SXM"].memory_gib = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("H100-80G-PCIe-NVLink", "H100-PCIE"),
        ("A100-80G-PCIe-NVLink", "A100-80GB-PCIE"),
        ("H100-80G-SXM5-NVLINK", "H100-SXM"),
    ],
)
def test_nvlink_bridge_is_not_the_nvl_form_factor(raw: str, expected: str) -> None:
    spec = normalize(raw)
    assert spec is not None and spec.name == expected


def test_keys_by_name_is_every_index_key_that_names_the_model() -> None:
    """Built in one pass over the index (start-up time): the same as asking, model by
    model, which keys list it."""
    from gpubroker import gpus as registry

    assert {
        spec.name: frozenset(k for k, specs in registry._MODEL_INDEX.items() if spec in specs)
        for spec in registry.GPUS.values()
    } == registry._KEYS_BY_NAME
