"""Fargate sizes: the documented CPU/memory pairs, and how --cpu/--memory are read."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpubroker.errors import UsageError
from gpubroker.pods import fargate

GB = 1024


@pytest.mark.parametrize(
    ("cpu", "low_gb", "high_gb", "step_gb"),
    [
        (512, 1, 4, 1),
        (1024, 2, 8, 1),
        (2048, 4, 16, 1),
        (4096, 8, 30, 1),
        (8192, 16, 60, 4),
        (16384, 32, 120, 8),
    ],
)
def test_memory_ranges_match_the_ecs_table(
    cpu: int, low_gb: int, high_gb: int, step_gb: int
) -> None:
    choices = fargate.memory_choices_mib(cpu)
    assert choices == list(range(low_gb * GB, high_gb * GB + 1, step_gb * GB))
    assert fargate.size_error(cpu, low_gb * GB) is None
    assert fargate.size_error(cpu, high_gb * GB) is None
    assert fargate.size_error(cpu, (low_gb - 1) * GB) is not None if low_gb > 1 else True
    assert fargate.size_error(cpu, (high_gb + step_gb) * GB) is not None


def test_the_smallest_task_takes_half_one_or_two_gb() -> None:
    assert fargate.memory_choices_mib(256) == [512, 1024, 2048]
    assert fargate.size_error(256, 3 * GB) is not None


def test_off_step_memory_is_refused_with_the_allowed_range() -> None:
    message = fargate.size_error(8192, 18 * GB)
    assert message is not None
    assert "16 GB–60 GB in 4 GB steps" in message
    assert "cpu 8192" in message


def test_unknown_cpu_lists_the_valid_sizes() -> None:
    message = fargate.size_error(3072, 8 * GB)
    assert message is not None
    assert "256, 512, 1024, 2048, 4096, 8192, 16384" in message


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("1024", 1024),
        ("1", 1024),
        ("0.25", 256),
        ("2 vCPU", 2048),
        ("16", 16384),
        (4096, 4096),
        ("0.5vcpu", 512),
    ],
)
def test_cpu_reads_units_or_vcpus(text: str | int, units: int) -> None:
    assert fargate.parse_cpu(text) == units


@pytest.mark.parametrize("text", ["", "fast", "100", "-1", "nan", "inf", "1e9", "0.1"])
def test_bad_cpu_is_a_usage_error_naming_cpu(text: str) -> None:
    with pytest.raises(UsageError) as err:
        fargate.parse_cpu(text)
    assert err.value.param == "cpu"


@pytest.mark.parametrize(
    ("text", "mib"),
    [
        ("4GB", 4096),
        ("0.5 GiB", 512),
        ("2048", 2048),
        ("2048MiB", 2048),
        ("8", 8192),
        ("120", 122880),
        ("1g", 1024),
    ],
)
def test_memory_reads_gb_or_mib(text: str, mib: int) -> None:
    assert fargate.parse_memory(text) == mib


@pytest.mark.parametrize("text", ["", "lots", "200", "4TB", "nan", "-2GB", "0"])
def test_bad_memory_is_a_usage_error_naming_memory(text: str) -> None:
    with pytest.raises(UsageError) as err:
        fargate.parse_memory(text)
    assert err.value.param == "memory"


def test_price_is_the_backends_list_price() -> None:
    cpu, mem = fargate.hourly_usd(256, 512)
    # The hosted backend's per-pod figure: 720 h × (0.25 × 0.04048 + 0.5 × 0.004445) ≈ 8.89
    assert round(720 * (cpu + mem), 2) == 8.89


@given(st.sampled_from(fargate.CPU_UNITS), st.integers(min_value=1, max_value=200 * GB))
def test_size_error_is_none_exactly_for_listed_pairs(cpu: int, memory: int) -> None:
    listed = memory in fargate.memory_choices_mib(cpu)
    assert (fargate.size_error(cpu, memory) is None) is listed


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_parse_memory_never_returns_a_non_positive_or_odd_value(value: float) -> None:
    try:
        mib = fargate.parse_memory(str(value))
    except UsageError:
        return
    assert mib > 0 and isinstance(mib, int) and math.isfinite(mib)
