"""Fargate task sizes and list prices (pure).

Valid CPU/memory pairs, from the ECS task-definition reference ("Task CPU and memory"):

========== =============================== =========
CPU units  memory                          steps
========== =============================== =========
256        0.5, 1, 2 GB                    —
512        1–4 GB                          1 GB
1024       2–8 GB                          1 GB
2048       4–16 GB                         1 GB
4096       8–30 GB                         1 GB
8192       16–60 GB                        4 GB
16384      32–120 GB                       8 GB
========== =============================== =========

(1 GB here is 1024 MiB, as ECS counts it.) Prices are the us-east-1 Linux/x86 on-demand list
prices the hosted backend uses for its cost view: $0.04048 per vCPU-hour and $0.004445 per
GB-hour; other regions differ by a few percent.
"""

from __future__ import annotations

import math
import re

from gpubroker.billing import FARGATE_GB_HOUR_USD, FARGATE_VCPU_HOUR_USD
from gpubroker.errors import UsageError

CPU_UNITS: tuple[int, ...] = (256, 512, 1024, 2048, 4096, 8192, 16384)
VCPU_HOUR_USD = FARGATE_VCPU_HOUR_USD
GB_HOUR_USD = FARGATE_GB_HOUR_USD
DEFAULT_CPU_UNITS = 1024
DEFAULT_MEMORY_MIB = 2048

_GB = 1024
#: cpu units → (min MiB, max MiB, step MiB)
_RANGES: dict[int, tuple[int, int, int]] = {
    512: (1 * _GB, 4 * _GB, _GB),
    1024: (2 * _GB, 8 * _GB, _GB),
    2048: (4 * _GB, 16 * _GB, _GB),
    4096: (8 * _GB, 30 * _GB, _GB),
    8192: (16 * _GB, 60 * _GB, 4 * _GB),
    16384: (32 * _GB, 120 * _GB, 8 * _GB),
}
_SMALLEST = (512, 1024, 2048)  # the 256-unit task: 0.5, 1 or 2 GB

_NUMBER = r"(\d+(?:\.\d+)?)"
_CPU_TEXT = re.compile(rf"^{_NUMBER}\s*(vcpus?|units?)?$", re.IGNORECASE)
_MEMORY_TEXT = re.compile(rf"^{_NUMBER}\s*(gib|gb|g|mib|mb|m)?$", re.IGNORECASE)


def memory_choices_mib(cpu_units: int) -> list[int]:
    """Every memory size (MiB) Fargate accepts with ``cpu_units``; empty for invalid CPU."""
    if cpu_units == 256:
        return list(_SMALLEST)
    if cpu_units not in _RANGES:
        return []
    low, high, step = _RANGES[cpu_units]
    return list(range(low, high + 1, step))


def _gb(mib: int) -> str:
    return f"{mib / _GB:g} GB"


def describe_choices(cpu_units: int) -> str:
    """``2–8 GB in 1 GB steps`` for one CPU size."""
    if cpu_units == 256:
        return "0.5, 1 or 2 GB"
    low, high, step = _RANGES[cpu_units]
    return f"{_gb(low)}–{_gb(high)} in {_gb(step)} steps"


def size_error(cpu_units: int, memory_mib: int) -> str | None:
    """Why a CPU/memory pair is not a Fargate task size, or None when it is one."""
    if cpu_units not in CPU_UNITS:
        valid = ", ".join(str(c) for c in CPU_UNITS)
        return f"cpu {cpu_units} is not a Fargate size; valid CPU units: {valid}"
    if memory_mib not in memory_choices_mib(cpu_units):
        return (
            f"memory {_gb(memory_mib)} ({memory_mib} MiB) does not fit cpu {cpu_units} "
            f"({cpu_units / 1024:g} vCPU); Fargate allows {describe_choices(cpu_units)}"
        )
    return None


def parse_cpu(value: str | float | int) -> int:
    """CPU units from ``1024``, ``"1024"``, ``1``, ``"0.25"``, ``"2 vCPU"``.

    Numbers up to 16 are vCPUs, numbers from 256 up are CPU units; nothing Fargate offers
    lies between, so the two readings never collide.

    Raises:
        UsageError: text that is neither (names the ``cpu`` parameter).
    """
    text = str(value).strip()
    match = _CPU_TEXT.match(text)
    if not match:
        raise UsageError(
            f"cpu: expected CPU units (1024) or vCPUs (1, 0.5), got {text!r}", param="cpu"
        )
    number = float(match.group(1))
    unit = (match.group(2) or "").lower()
    if unit.startswith("vcpu") or (not unit and number <= 16):
        units = number * 1024
    elif number >= 256 or unit.startswith("unit"):
        units = number
    else:
        raise UsageError(
            f"cpu: {text!r} is neither vCPUs (0.25–16) nor CPU units (256–16384)", param="cpu"
        )
    if not math.isclose(units, round(units)):
        raise UsageError(f"cpu: {text!r} is not a whole number of CPU units", param="cpu")
    return round(units)


def parse_memory(value: str | float | int) -> int:
    """Memory in MiB from ``"4GB"``, ``"0.5 GiB"``, ``"2048MiB"`` or a bare number.

    A bare number up to 120 is GB (Fargate's largest task has 120 GB), from 512 up it is
    MiB (as in the ECS API); GB and GiB both mean 1024 MiB, as ECS counts them.

    Raises:
        UsageError: text that is not a size (names the ``memory`` parameter).
    """
    text = str(value).strip()
    match = _MEMORY_TEXT.match(text)
    if not match:
        raise UsageError(
            f"memory: expected a size such as 4GB, 0.5GB or 4096 (MiB), got {text!r}",
            param="memory",
        )
    number = float(match.group(1))
    unit = (match.group(2) or "").lower()
    if unit.startswith("g") or (not unit and number <= 120):
        mib = number * _GB
    elif unit.startswith("m") or number >= 512:
        mib = number
    else:
        raise UsageError(
            f"memory: {text!r} is ambiguous; write it with a unit, e.g. {text}GB or {text}MiB",
            param="memory",
        )
    if not math.isclose(mib, round(mib)) or mib <= 0:
        raise UsageError(f"memory: {text!r} is not a whole number of MiB", param="memory")
    return round(mib)


def hourly_usd(cpu_units: int, memory_mib: int) -> tuple[float, float]:
    """(vCPU part, memory part) of a task's on-demand price per hour, USD."""
    return (cpu_units / 1024 * VCPU_HOUR_USD, memory_mib / _GB * GB_HOUR_USD)
