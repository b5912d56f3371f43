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
from dataclasses import dataclass
from typing import NamedTuple

from gpubroker.errors import AmbiguousGPUError, UnknownGPUError

__all__ = [
    "GPUS",
    "MEMORY_TOLERANCE",
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
    "RTX-PRO-6000": ("RTX PRO 6000", "RTX PRO 6000 Blackwell Server Edition"),
    "RTX5090": ("RTX 5090", "GeForce RTX 5090", "5090"),
    "RTX4090": ("RTX 4090", "GeForce RTX 4090", "4090"),
    "RTX4080": ("RTX 4080", "GeForce RTX 4080", "4080"),
    "RTX3090": ("RTX 3090", "GeForce RTX 3090", "3090"),
    "RTX3080": ("RTX 3080", "GeForce RTX 3080", "3080"),
    "V100": ("Tesla V100", "V100-SXM2-16GB", "V100-PCIE-16GB"),
    "V100-32GB": ("V100-SXM2-32GB", "V100-32G"),
    # AWS g5g instances report "T4g": the same T4 GPU on an Arm host.
    "T4": ("Tesla T4", "T4g"),
    "P100": ("Tesla P100",),
    "MI300X": ("AMD Instinct MI300X", "MI300X OAM"),
    # RunPod's short display names for its "NVIDIA RTX 4000 SFF Ada Generation" and
    # "NVIDIA RTX PRO 4000 Blackwell" ids.
    "RTX4000-SFF-ADA": ("RTX 4000 SFF Ada Generation", "RTX 4000 Ada SFF"),
    "RTX-PRO-4000": ("RTX PRO 4000",),
    "RTX3090TI": ("GeForce RTX 3090 Ti", "3090 Ti"),
    "RTX4000-ADA": ("RTX 4000 Ada Generation",),
    "MI325X": ("AMD Instinct MI325X",),
    "MI355X": ("AMD Instinct MI355X",),
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
        aliases=_ALIASES.get(name, ()),
    )


_N, _A = "nvidia", "amd"

# Order is display order: data-centre parts newest first, then workstation and consumer cards.
# The first model of a family is its default when neither name nor memory disambiguates.
# Entries from the reference's "extra entries" list leave figures it does not give as None.
# fmt: off
_SPECS: tuple[GPUSpec, ...] = (
    # B200: the reference gives ~7,700-8,000 GB/s and ~75-80 FP32; the upper ends are used.
    _spec(_N, "B200", "B200", "B200", "Blackwell", 180, "HBM3e", 8000, 2250, 2250, 80, "10.0"),
    _spec(_A, "MI300X", "MI300X", "MI300X", "CDNA 3", 192, "HBM3", 5300, 1307.4, 1307.4, 163.4,
          None),
    # MI355X / MI325X (AMD Instinct datasheets): Vultr lists both as 8-GPU machines. MI325X is
    # the MI300X compute die with 256 GB HBM3E at 6 TB/s; MI355X's tensor figures are left to
    # the registry's next revision.
    _spec(_A, "MI355X", "MI355X", "MI355X", "CDNA 4", 288, "HBM3e", 8000, None, None, None,
          None),
    _spec(_A, "MI325X", "MI325X", "MI325X", "CDNA 3", 256, "HBM3e", 6000, 1307.4, 1307.4, 163.4,
          None),
    _spec(_N, "H200", "H200 SXM", "H200", "Hopper", 141, "HBM3e", 4800, 989, 989, 67, "9.0"),
    _spec(_N, "H200-NVL", "H200 NVL", "H200", "Hopper", 141, "HBM3e", 4800, 835, 835, 60, "9.0"),
    _spec(_N, "GH200", "GH200", "GH200", "Hopper", 96, None, None, None, None, None, "9.0"),
    _spec(_N, "H100-SXM", "H100 SXM", "H100", "Hopper", 80, "HBM3", 3350, 989, 989, 67, "9.0"),
    _spec(_N, "H100-PCIE", "H100 PCIe", "H100", "Hopper", 80, "HBM2e", 2000, 756, 756, 51, "9.0"),
    _spec(_N, "H100-NVL", "H100 NVL", "H100", "Hopper", 94, "HBM3", 3900, 835, 835, 60, "9.0"),
    _spec(_N, "A100-80GB", "A100 80GB SXM4", "A100", "Ampere", 80, "HBM2e", 2039, 312, 312,
          19.5, "8.0"),
    _spec(_N, "A100-80GB-PCIE", "A100 80GB PCIe", "A100", "Ampere", 80, "HBM2e", 1935, 312, 312,
          19.5, "8.0"),
    _spec(_N, "A100-40GB", "A100 40GB", "A100", "Ampere", 40, "HBM2", 1555, 312, 312, 19.5,
          "8.0"),
    _spec(_N, "RTX-PRO-6000", "RTX PRO 6000 Blackwell", "RTX-PRO-6000", "Blackwell", 96, None,
          None, None, None, None, "12.0"),
    # Workstation cards RunPod lists (NVIDIA product datasheets: memory, type, bandwidth, CC);
    # throughput figures are left to the registry's next revision.
    _spec(_N, "RTX-PRO-4000", "RTX PRO 4000 Blackwell", "RTX-PRO-4000", "Blackwell", 24,
          "GDDR7", 672, None, None, None, "12.0"),
    _spec(_N, "RTX5090", "RTX 5090", "RTX5090", "Blackwell", 32, "GDDR7", 1792, 209.5, 209.5,
          104.8, "12.0"),
    _spec(_N, "L40S", "L40S", "L40S", "Ada", 48, "GDDR6", 864, 362, 362, 91.6, "8.9"),
    _spec(_N, "RTX6000-ADA", "RTX 6000 Ada", "RTX6000-ADA", "Ada", 48, None, None, None, None,
          None, "8.9"),
    _spec(_N, "L40", "L40", "L40", "Ada", 48, "GDDR6", 864, 181, 181, 90.5, "8.9"),
    _spec(_N, "A40", "A40", "A40", "Ampere", 48, None, 696, 149.7, 149.7, 37.4, "8.6"),
    _spec(_N, "RTX4000-ADA", "RTX 4000 Ada", "RTX4000-ADA", "Ada", 20, "GDDR6", 360, None, None,
          None, "8.9"),
    _spec(_N, "RTX4000-SFF-ADA", "RTX 4000 SFF Ada", "RTX4000-SFF-ADA", "Ada", 20, "GDDR6", 280,
          None, None, None, "8.9"),
    _spec(_N, "RTX4090", "RTX 4090", "RTX4090", "Ada", 24, "GDDR6X", 1008, 165.2, 165.2, 82.6,
          "8.9"),
    _spec(_N, "RTX4080", "RTX 4080", "RTX4080", "Ada", 16, None, None, None, None, None, "8.9"),
    _spec(_N, "A6000", "RTX A6000", "A6000", "Ampere", 48, "GDDR6", 768, 154.8, 154.8, 38.7,
          "8.6"),
    _spec(_N, "L4", "L4", "L4", "Ada", 24, "GDDR6", 300, 121, 121, 30.3, "8.9"),
    _spec(_N, "A10", "A10", "A10", "Ampere", 24, "GDDR6", 600, 125, 125, 31.2, "8.6"),
    # A10G: AWS-only part without an NVIDIA datasheet; the reference marks its figures "~".
    _spec(_N, "A10G", "A10G", "A10G", "Ampere", 24, "GDDR6", 600, 70, 70, 31.5, "8.6"),
    _spec(_N, "A30", "A30", "A30", "Ampere", 24, None, None, None, None, None, "8.0"),
    _spec(_N, "RTX3090TI", "RTX 3090 Ti", "RTX3090TI", "Ampere", 24, "GDDR6X", 1008, None, None,
          None, "8.6"),
    _spec(_N, "RTX3090", "RTX 3090", "RTX3090", "Ampere", 24, "GDDR6X", 936, 71, 71, 35.6,
          "8.6"),
    _spec(_N, "RTX3080", "RTX 3080", "RTX3080", "Ampere", 10, None, None, None, None, None,
          "8.6"),
    _spec(_N, "A5000", "RTX A5000", "A5000", "Ampere", 24, "GDDR6", 768, 111.1, 111.1, 27.8,
          "8.6"),
    _spec(_N, "A4500", "RTX A4500", "A4500", "Ampere", 20, None, None, None, None, None, "8.6"),
    _spec(_N, "A4000", "RTX A4000", "A4000", "Ampere", 16, "GDDR6", 448, 76.7, 76.7, 19.2,
          "8.6"),
    _spec(_N, "A16", "A16", "A16", "Ampere", 16, None, None, None, None, None, "8.6"),
    # V100 figures are the SXM2 ones; the entry also covers the (slightly slower) PCIe card.
    _spec(_N, "V100", "V100 16GB", "V100", "Volta", 16, "HBM2", 900, None, 125, 15.7, "7.0"),
    _spec(_N, "V100-32GB", "V100 32GB", "V100", "Volta", 32, "HBM2", 900, None, 125, 15.7,
          "7.0"),
    _spec(_N, "T4", "T4", "T4", "Turing", 16, "GDDR6", 320, None, 65, 8.1, "7.5"),
    _spec(_N, "P100", "P100", "P100", "Pascal", 16, None, None, None, None, None, "6.0"),
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
        "GENERATION", "EDITION", "SERVER", "WORKSTATION",
        # Hyperstack "H100-80G-PCIe-NVLink": PCIe cards with an NVLink bridge, not the H100 NVL.
        "NVLINK",
    }
)  # fmt: skip

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
        if token.startswith("GEFORCE") and len(token) > len("GEFORCE"):
            token = token[len("GEFORCE") :]  # TensorDock "geforcertx4090-pcie-24gb"
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

_KEYS_BY_NAME: dict[str, frozenset[str]] = {
    spec.name: frozenset(key for key, specs in _MODEL_INDEX.items() if spec in specs)
    for spec in GPUS.values()
}

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


class GpuRegistry:
    """The registry as a service (``Broker.gpus``): list and resolve GPU models."""

    def list(
        self,
        name: str | None = None,
        *,
        arch: str | None = None,
        min_vram_gib: float | None = None,
        vendor: str | None = None,
    ) -> list[dict[str, object]]:
        """Known GPUs matching every given filter, as JSON-ready rows (specs + aliases).

        Args:
            name: a name or family (``a100``): only the models it means.
            arch, min_vram_gib, vendor: as in `search`.

        Raises:
            UnknownGPUError / AmbiguousGPUError: ``name`` means nothing / too much.
        """
        from dataclasses import asdict

        specs = search(arch=arch, min_vram_gib=min_vram_gib, vendor=vendor)
        if name:
            wanted = {s.name for s in resolve_query(name)}
            specs = [s for s in specs if s.name in wanted]
        return [{**asdict(s), "aliases": list(s.aliases)} for s in specs]

    def get(self, name: str) -> GPUSpec:
        """One model by canonical name or unambiguous alias (see `get`)."""
        return get(name)
