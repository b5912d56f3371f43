"""What ECS answers mean for a POD, and uptime read off its events (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gpubroker.errors import UsageError
from gpubroker.pods.models import EcsService, PodEvent, PodStatus
from gpubroker.pods.records import check_name, check_statuses, derive_status, running_hours

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def view(
    status: str | None = "ACTIVE", desired: int = 1, running: int = 1, rollout: str | None = None
) -> EcsService:
    return EcsService(
        service_name="gpubroker-pod-00000001",
        status=status,
        desired_count=desired,
        running_count=running,
        rollout_state=rollout,
        observed_at=T0,
    )


@pytest.mark.parametrize(
    ("ecs", "current", "expected"),
    [
        (view(), PodStatus.STARTING, PodStatus.RUNNING),
        (view(running=0), PodStatus.STARTING, PodStatus.STARTING),
        (view(desired=0, running=0), PodStatus.STOPPING, PodStatus.STOPPED),
        (view(desired=0, running=1), PodStatus.RUNNING, PodStatus.STOPPING),
        (view(running=0, rollout="FAILED"), PodStatus.STARTING, PodStatus.FAILED),
        (view(status="DRAINING"), PodStatus.RUNNING, PodStatus.DESTROYING),
        (view(status="INACTIVE"), PodStatus.RUNNING, PodStatus.DESTROYED),
        (view(status=None), PodStatus.RUNNING, PodStatus.MISSING),
        (view(status=None), PodStatus.CREATING, PodStatus.CREATING),
        (view(status=None), PodStatus.FAILED, PodStatus.FAILED),
        (view(status=None), PodStatus.DESTROYING, PodStatus.DESTROYED),
    ],
)
def test_derive_status(ecs: EcsService, current: PodStatus, expected: PodStatus) -> None:
    assert derive_status(ecs, current) is expected


def event(hours: float, new: str) -> PodEvent:
    return PodEvent(pod_id="p", at=T0 + timedelta(hours=hours), kind="k", new_status=new)


def test_running_hours_sums_the_running_intervals_inside_the_window() -> None:
    events = [
        event(0, "creating"),
        event(0.5, "running"),
        event(2.5, "stopping"),
        event(2.6, "stopped"),
        event(10, "starting"),
        event(11, "running"),
    ]
    end = T0 + timedelta(hours=12)
    assert running_hours(events, start=None, end=end) == pytest.approx(2 + 1)
    assert running_hours(events, start=T0 + timedelta(hours=2), end=end) == pytest.approx(0.5 + 1)
    assert running_hours(events, start=None, end=T0 + timedelta(hours=1)) == pytest.approx(0.5)
    assert running_hours([], start=None, end=end) == 0
    # an observation repeating "running" does not restart the clock
    assert running_hours(
        [event(0, "running"), event(1, "running")], start=None, end=T0 + timedelta(hours=3)
    ) == pytest.approx(3)


@pytest.mark.parametrize("name", ["demo", "a", "team-a.agent_1", "X" * 63])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 64, "pod-0123abcd", "é", "a\x00", "[b]"])
def test_bad_names(name: str) -> None:
    with pytest.raises(UsageError):
        check_name(name)


def test_statuses_are_checked() -> None:
    assert check_statuses(["running,stopped", " Failed "]) == {"running", "stopped", "failed"}
    with pytest.raises(UsageError, match="unknown status 'runing'"):
        check_statuses(["runing"])
