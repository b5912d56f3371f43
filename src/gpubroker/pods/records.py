"""The POD journal's rows as typed objects, what its history means, and input checks (pure).

The journal (``pods`` and ``pod_events`` in SQLite) is the local record of every POD; ECS is
the truth about what runs. `derive_status` says what an ECS answer means for a POD in a given
state; `running_hours` reads the running time off a POD's events.
"""

from __future__ import annotations

import getpass
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from gpubroker.errors import UsageError
from gpubroker.pods.models import EcsService, LogEvent, Pod, PodEvent, PodStatus
from gpubroker.textfmt import sanitize

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
POD_ID_RE = re.compile(r"^pod-[0-9a-f]{8}$")


def split_list(raw: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (raw or "").split(",") if p.strip())


def os_user() -> str:
    """The OS user name, or ``unknown`` where there is none (containers without a passwd)."""
    try:
        return getpass.getuser()
    except Exception:  # getpass raises OSError/KeyError when no user can be determined
        return "unknown"


def api_key_hash(api_key: str | None) -> str:
    """``sha256(api_key)[:16]``, as the hosted backend passes it to PODs; ``""`` without one."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16] if api_key else ""


def check_name(name: str) -> str:
    """A POD name: 1–63 letters, digits, ``.``, ``_`` or ``-``, starting with a letter or
    digit, and not shaped like a POD id.

    Raises:
        UsageError: any other name.
    """
    if not NAME_RE.match(name):
        raise UsageError(
            f"name {name!r} must be 1–63 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
            param="name",
        )
    if POD_ID_RE.match(name):
        raise UsageError(f"name {name!r} looks like a POD id; pick another name", param="name")
    return name


def check_text(value: str, param: str, *, limit: int = 255) -> str:
    """``value`` stripped, refused when empty, too long, or holding control characters or
    whitespace inside (owners and image references go into ECS tags and environment)."""
    text = value.strip()
    if not text or len(text) > limit or any(c.isspace() for c in text) or sanitize(text) != text:
        raise UsageError(
            f"{param} {value!r} must be 1–{limit} printable characters without spaces",
            param=param,
        )
    return text


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt else None


def parse_dt(text: Any) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(str(text))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def pod_from_row(row: dict[str, Any]) -> Pod:
    """A journal row as a `Pod`."""
    data = {k: row.get(k) for k in Pod.model_fields if k in row}
    for key in (
        "created_at",
        "updated_at",
        "started_at",
        "stopped_at",
        "destroyed_at",
        "last_synced_at",
    ):
        data[key] = parse_dt(row.get(key))
    if row.get("spot") is not None:
        data["spot"] = bool(row["spot"])
    return Pod.model_validate(data)


def event_from_row(row: dict[str, Any]) -> PodEvent:
    return PodEvent(
        pod_id=row["pod_id"],
        at=parse_dt(row["at"]) or datetime.now(UTC),
        kind=row["kind"],
        old_status=row.get("old_status"),
        new_status=row.get("new_status"),
        message=row.get("message") or "",
    )


def running_hours(events: Sequence[PodEvent], *, start: datetime | None, end: datetime) -> float:
    """Hours the POD was ``running`` between ``start`` and ``end``, from its events."""
    total = 0.0
    since: datetime | None = None
    for event in events:
        if event.at > end:
            break
        if event.new_status == PodStatus.RUNNING.value and since is None:
            since = event.at
        elif event.new_status != PodStatus.RUNNING.value and since is not None:
            total += _overlap_h(since, event.at, start, end)
            since = None
    if since is not None:
        total += _overlap_h(since, end, start, end)
    return round(total, 6)


def _overlap_h(a: datetime, b: datetime, start: datetime | None, end: datetime) -> float:
    lo = max(a, start) if start else a
    hi = min(b, end)
    return max(0.0, (hi - lo).total_seconds() / 3600)


def derive_status(view: EcsService, current: PodStatus) -> PodStatus:
    """The state ECS's answer implies for a POD that the journal says is ``current``."""
    if not view.exists:
        if current in (PodStatus.CREATING, PodStatus.FAILED):
            return current
        if current in (PodStatus.DESTROYING, PodStatus.DESTROYED) or view.status == "INACTIVE":
            return PodStatus.DESTROYED
        return PodStatus.MISSING
    if view.status == "DRAINING":
        return PodStatus.DESTROYING
    if view.desired_count == 0:
        return PodStatus.STOPPED if view.running_count == 0 else PodStatus.STOPPING
    if view.rollout_state == "FAILED" and view.running_count == 0:
        return PodStatus.FAILED
    if view.running_count >= view.desired_count:
        return PodStatus.RUNNING
    return PodStatus.STARTING


def counts_text(view: EcsService) -> str:
    return f"{view.running_count}/{view.desired_count} running"


def log_key(event: LogEvent) -> str:
    return event.event_id or f"{event.timestamp.isoformat()}|{event.stream}|{event.message}"


def check_statuses(statuses: Sequence[str] | None) -> set[str]:
    wanted: set[str] = set()
    valid = [s.value for s in PodStatus]
    for item in statuses or ():
        for part in item.split(","):
            key = part.strip().lower()
            if not key:
                continue
            if key not in valid:
                raise UsageError(
                    f"unknown status {part.strip()!r}; valid: {', '.join(valid)}", param="status"
                )
            wanted.add(key)
    return wanted
