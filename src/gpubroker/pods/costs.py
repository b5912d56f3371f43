"""POD costs: the local estimate (hourly estimate × running hours) beside Cost Explorer."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from gpubroker.pods.models import CostLine, CostReport
from gpubroker.pods.records import event_from_row, parse_dt, running_hours

if TYPE_CHECKING:
    from gpubroker.pods.service import PodService


def cost_report(pods: PodService, *, since: str | float = "30d", local: bool = False) -> CostReport:
    """Each POD's estimated cost (hourly estimate × running hours) over the window,
    beside Cost Explorer's ECS cost for its ``gpubroker:pod-id`` tag.

    Args:
        since: the window (``30d``, ``12h``...), ending now.
        local: skip Cost Explorer (estimates only).
    """
    start = pods._since(since)
    assert start is not None
    end = pods.runtime.now()
    store = pods.runtime.store
    lines: dict[str, CostLine] = {}
    for row in store.pods():
        events = [event_from_row(e) for e in store.pod_events(row["pod_id"])]
        if events and events[0].at > end:
            continue
        destroyed = parse_dt(row.get("destroyed_at"))
        if destroyed is not None and destroyed < start:
            continue
        hours = running_hours(events, start=start, end=end)
        price = row.get("price_per_hour_usd") or 0.0
        aws_price = row.get("fargate_price_per_hour_usd") or 0.0
        lines[row["pod_id"]] = CostLine(
            pod_id=row["pod_id"],
            name=row["name"],
            status=row["status"],
            uptime_hours=round(hours, 4),
            estimate_usd=round(hours * price, 4),
            estimate_aws_usd=round(hours * aws_price, 4),
        )
    report = CostReport(start=start, end=end)
    if not local:
        per_pod, untagged, tagged = pods.driver().costs_by_pod(
            start.date(), end.date() + timedelta(days=1)
        )
        for pod_id, amount in per_pod.items():
            line = lines.get(pod_id)
            if line is None:
                line = lines[pod_id] = CostLine(pod_id=pod_id, status="untracked")
            line.aws_cost_usd = round(amount, 4)
        report.aws_untagged_usd = round(untagged, 4)
        report.aws_total_usd = round(sum(per_pod.values()) + untagged, 4)
        report.tag_grouping = tagged
        if not tagged:
            report.notes.append(
                "Cost Explorer reported no ECS cost under the gpubroker:pod-id tag: "
                "activate it as a cost allocation tag in the Billing console (costs are "
                "grouped from then on)"
            )
        report.notes.append("Cost Explorer data lags by up to 24 hours")
    report.lines = sorted(lines.values(), key=lambda x: (-x.estimate_usd, x.pod_id))
    report.estimate_total_usd = round(sum(x.estimate_usd for x in report.lines), 4)
    return report
