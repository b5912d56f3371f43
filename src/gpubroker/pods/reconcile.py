"""`pods sync`: bring the local journal in line with ECS.

Interrupted deploys are completed (their service exists) or cleaned up (it never did);
interrupted destroys are finished; every POD's state is refreshed; PODs in the cluster
tagged by gpubroker that this journal never recorded are listed, or adopted.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
from typing import TYPE_CHECKING, Any

from gpubroker.errors import NotFoundError, UsageError
from gpubroker.pods import ecs as ecs_mod
from gpubroker.pods.models import EcsService, Pod, PodStatus, SyncLine
from gpubroker.pods.records import check_name, iso, parse_dt

if TYPE_CHECKING:
    from gpubroker.pods.service import PodService

#: A ``creating`` POD whose deploying process cannot be checked counts as abandoned after this.
ABANDONED_AFTER_S = 900.0


class Reconciler:
    """`pods sync` over one `PodService`'s journal and clusters.

    Args:
        pods: the POD service (journal, drivers, observation).
    """

    def __init__(self, pods: PodService) -> None:
        self.pods = pods
        self.runtime = pods.runtime

    def sync(self, *, adopt: bool = False) -> list[SyncLine]:
        """Bring the journal in line with ECS.

        - a deploy interrupted after its service was created is completed (its state
          recorded); one interrupted before is cleaned up (task definitions deregistered,
          the POD marked failed), unless its process is still running;
        - an interrupted destroy is finished;
        - every other POD's state is refreshed (a POD whose service vanished is ``missing``);
        - PODs in the profile's cluster tagged by gpubroker but unknown here are listed as
          ``untracked``, or recorded with ``adopt``.
        """
        store = self.runtime.store
        journal = store.pods()
        rows = [r for r in journal if r["status"] != PodStatus.DESTROYED.value]
        views = self.pods._observe_rows(rows)
        lines: list[SyncLine] = []
        for row in rows:
            lines.append(self._sync_one(row, views[row["pod_id"]]))
        known = {r["pod_id"] for r in journal}  # syncing adds no POD; adopting comes next
        try:
            untracked = self.pods._untracked(known)
        except ecs_mod.ClusterNotFoundError:
            untracked = []  # no cluster yet: nothing was created elsewhere either
        for pod in untracked:
            if adopt:
                lines.append(self._adopt(pod))
            else:
                lines.append(
                    SyncLine(
                        pod_id=pod.pod_id,
                        name=pod.name,
                        action="untracked",
                        status=pod.status,
                        message="in ECS, not in this journal (`pods sync --adopt` records it)",
                    )
                )
        return lines

    def _deployer_alive(self, row: dict[str, Any]) -> bool:
        pid = row.get("deploy_pid")
        if not pid:
            return False
        if row.get("deploy_host") != socket.gethostname():
            created = parse_dt(row.get("updated_at")) or self.runtime.now()
            return (self.runtime.now() - created).total_seconds() < ABANDONED_AFTER_S
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except (PermissionError, OSError):
            return True
        return True

    def _sync_one(self, row: dict[str, Any], view: EcsService) -> SyncLine:
        status = PodStatus(row["status"])
        store = self.runtime.store

        def line(action: str, after: dict[str, Any], message: str = "") -> SyncLine:
            return SyncLine(
                pod_id=after["pod_id"],
                name=after["name"],
                action=action,
                status=PodStatus(after["status"]),
                message=message,
            )

        if status is PodStatus.CREATING:
            if view.exists:
                after = self.pods._apply(row, view, kind="completed")
                store.update_pod(row["pod_id"], {"deploy_pid": None})
                return line("completed", after, "interrupted deploy: service found in ECS")
            if self._deployer_alive(row):
                return line("unchanged", row, f"deploy in progress (pid {row['deploy_pid']})")
            arns = self.pods._deregister_task_definitions(row, self.pods._driver_for(row))
            after = store.update_pod(
                row["pod_id"],
                {
                    "status": PodStatus.FAILED.value,
                    "deploy_pid": None,
                    "last_error": "deploy interrupted before its ECS service was created",
                },
                kind="cleaned-up",
                message="interrupted deploy cleaned up"
                + (f": {len(arns)} task definition(s) deregistered" if arns else ""),
            )
            self.pods._audit("cleanup", after, "ok", "interrupted deploy")
            return line("cleaned-up", after, "interrupted before its service existed")
        if status is PodStatus.DESTROYING:
            self.pods._teardown(row, purge_logs=False)
            after = store.update_pod(
                row["pod_id"],
                {
                    "status": PodStatus.DESTROYED.value,
                    "destroyed_at": iso(self.runtime.now()),
                    "running_count": 0,
                    "task_arn": None,
                    "public_ip": None,
                },
                kind="completed",
                message="interrupted destroy finished",
            )
            self.pods._audit("destroy", after, "ok", "finished by sync")
            return line("completed", after, "interrupted destroy finished")
        finishing = status is PodStatus.STARTING and view.exists  # CREATING returned above
        after = self.pods._apply(row, view, kind="completed" if finishing else "observed")
        new = PodStatus(after["status"])
        if finishing and new is PodStatus.RUNNING:
            store.update_pod(row["pod_id"], {"deploy_pid": None})
            return line("completed", after, f"deploy completed: {status.value} → running")
        if new is not status:
            if new is PodStatus.MISSING:
                return line("missing", after, "its ECS service is gone (`pods destroy` clears it)")
            return line("updated", after, f"{status.value} → {new.value}")
        return line("unchanged", after)

    def _adopt(self, pod: Pod) -> SyncLine:
        """Record an untracked POD from its ECS tags and task definition."""
        driver = self.pods.driver(pod.region, pod.cluster)
        env: dict[str, str] = {}
        if pod.task_definition_arn:
            with contextlib.suppress(NotFoundError):
                env = driver.task_definition_environment(pod.task_definition_arn)
        name = pod.name
        store = self.runtime.store
        message = "adopted from ECS tags"
        try:
            check_name(name)
            taken = store.live_pod_named(name) is not None
        except UsageError:
            taken = True
        if taken:
            message += f" (name {name!r} unusable here; named by its id)"
            name = pod.pod_id

        def number(key: str) -> float | None:
            try:
                value = float(env.get(key, ""))
            except ValueError:
                return None
            return value if math.isfinite(value) and value >= 0 else None

        count = number("OFFER_GPU_COUNT")
        row = {
            "pod_id": pod.pod_id,
            "name": name,
            "status": pod.status.value,
            "owner": pod.owner or env.get("USER_EMAIL"),
            "plan": pod.plan or env.get("PLAN") or None,
            "offer_id": pod.offer_id or env.get("OFFER_ID"),
            "provider": env.get("OFFER_PROVIDER"),
            "gpu_model": env.get("OFFER_GPU_MODEL"),
            "gpu_count": int(count) if count else None,
            "spot": int(env.get("OFFER_SPOT") == "true") if "OFFER_SPOT" in env else None,
            "offer_region": env.get("OFFER_REGION") or None,
            "offer_price_per_hour_usd": number("OFFER_PRICE_PER_HOUR_USD"),
            "price_per_hour_usd": number("OFFER_PRICE_PER_HOUR_USD"),
            "budget_per_hour_usd": number("BUDGET_PER_HOUR_USD"),
            "budget_per_month_usd": number("BUDGET_PER_MONTH_USD"),
            "region": pod.region,
            "cluster": pod.cluster,
            "service_name": pod.service_name,
            "service_arn": pod.service_arn,
            "task_definition_arn": pod.task_definition_arn,
            "log_group": pod.log_group,
            "desired_count": pod.desired_count,
            "running_count": pod.running_count,
            "pending_count": pod.pending_count,
            "task_arn": pod.task_arn,
            "public_ip": pod.public_ip,
            "private_ip": pod.private_ip,
            "last_synced_at": iso(pod.last_synced_at),
            "started_at": iso(self.runtime.now()) if pod.status is PodStatus.RUNNING else None,
        }
        store.insert_pod(row, kind="adopted", message=message)
        self.pods._audit("adopt", row, "ok", message)
        return SyncLine(
            pod_id=pod.pod_id, name=name, action="adopted", status=pod.status, message=message
        )
