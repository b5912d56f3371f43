"""The ECS driver: every AWS call a POD needs (ECS, EC2, CloudWatch Logs and metrics, Cost
Explorer, STS), over boto3 clients from `gpubroker.runtime.Runtime.aws_client`.

One ECS service per POD (``gpubroker-<pod_id>``) running one task definition of the same
family: Fargate, awsvpc with a public IP, container ``agent-zero``, awslogs to the POD's own
log group. Everything is tagged ``gpubroker:pod-id``, ``gpubroker:owner``,
``gpubroker:offer`` (and ``gpubroker:name``), and the service propagates its tags to its
tasks, so the local journal can be rebuilt from ECS alone.

Reads paginate; ``describe_services`` asks for at most 10 services and ``describe_tasks``
for at most 100 tasks per call, both with their tags. Every call runs inside
`gpubroker.remote.translate_errors`; a missing cluster or service becomes a
`NotFoundError` that names it.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from gpubroker.errors import ConfigError, NotFoundError, RemoteResponseError
from gpubroker.pods.models import EcsService, LogEvent, MetricPoint
from gpubroker.remote import translate_errors

TAG_POD_ID = "gpubroker:pod-id"
TAG_OWNER = "gpubroker:owner"
TAG_OFFER = "gpubroker:offer"
TAG_NAME = "gpubroker:name"
TAG_PLAN = "gpubroker:plan"
CONTAINER_NAME = "agent-zero"
CONTAINER_PORT = 80
LOG_RETENTION_DAYS = 30
SERVICE_BATCH = 10  # describe_services limit
TASK_BATCH = 100  # describe_tasks limit
FEW_SERVICES = 3  # up to this many, list tasks per service instead of the whole cluster
COST_EXPLORER_REGION = "us-east-1"  # Cost Explorer has one endpoint
ECS_SERVICE_NAME_CE = "Amazon Elastic Container Service"

ClientFactory = Callable[[str, str | None], Any]

# ECS tag values: letters, digits, spaces and _ . : / = + - @ ; at most 256 characters.
_TAG_UNSAFE = re.compile(r"[^\w .:/=+\-@]", re.UNICODE)


class ClusterNotFoundError(NotFoundError):
    """The ECS cluster does not exist (exit 3)."""


def service_name(pod_id: str) -> str:
    return f"gpubroker-{pod_id}"


def log_group_name(pod_id: str) -> str:
    return f"/gpubroker/pods/{pod_id}"


def tag_value(text: str) -> str:
    """``text`` made safe for an ECS tag value (unsafe characters become ``_``)."""
    return _TAG_UNSAFE.sub("_", text)[:256]


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": tag_value(v)} for k, v in tags.items() if v]


def tag_dict(tags: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in tags or () if "key" in t}


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def role_arn(role: str, *, account: str, region: str) -> str:
    """A role name (or path/name) as an ARN; an ARN is returned unchanged."""
    if role.startswith("arn:"):
        return role
    return f"arn:{partition(region)}:iam::{account}:role/{role.lstrip('/')}"


def task_definition_request(
    *,
    family: str,
    image: str,
    cpu_units: int,
    memory_mib: int,
    environment: Mapping[str, str],
    log_group: str,
    region: str,
    execution_role_arn: str,
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """The ``register_task_definition`` request of a POD.

    The container sets its own ``memory`` (equal to the task's): valid on Fargate, and
    what moto needs to run the task.
    """
    return {
        "family": family,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": str(cpu_units),
        "memory": str(memory_mib),
        "executionRoleArn": execution_role_arn,
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
        "containerDefinitions": [
            {
                "name": CONTAINER_NAME,
                "image": image,
                "essential": True,
                "memory": memory_mib,
                "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": log_group,
                        "awslogs-region": region,
                        "awslogs-stream-prefix": "pod",
                    },
                },
            }
        ],
        "tags": tag_list(tags),
    }


def service_request(
    *,
    cluster: str,
    service: str,
    family: str,
    subnets: Sequence[str],
    security_groups: Sequence[str],
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """The ``create_service`` request of a POD: one Fargate task with a public IP.

    Never two copies at once (0–100 % healthy during a redeploy: one agent per offer), and
    the deployment circuit breaker marks a task that keeps failing as a failed rollout.
    """
    return {
        "cluster": cluster,
        "serviceName": service,
        "taskDefinition": family,
        "desiredCount": 1,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(subnets),
                "securityGroups": list(security_groups),
                "assignPublicIp": "ENABLED",
            }
        },
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": False},
            "minimumHealthyPercent": 0,
            "maximumPercent": 100,
        },
        "propagateTags": "SERVICE",
        "enableECSManagedTags": True,
        "tags": tag_list(tags),
    }


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


class EcsDriver:
    """AWS calls for PODs in one region and cluster.

    Args:
        client_factory: ``(service, region) -> boto3 client`` (the runtime's).
        region: the AWS region of the cluster.
        cluster: the ECS cluster name.
    """

    def __init__(self, client_factory: ClientFactory, *, region: str, cluster: str) -> None:
        self._factory = client_factory
        self.region = region
        self.cluster = cluster
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            region = COST_EXPLORER_REGION if service == "ce" else self.region
            with translate_errors(service):
                self._clients[service] = self._factory(service, region)
        return self._clients[service]

    @contextlib.contextmanager
    def call(self, service: str = "ecs", *, what: str | None = None) -> Iterator[None]:
        """Translate errors; a missing cluster, service or log group is named."""
        try:
            with translate_errors(service):
                yield
        except NotFoundError as exc:
            if "ClusterNotFoundException" in exc.message:
                raise ClusterNotFoundError(
                    f"ECS cluster {self.cluster!r} not found in {self.region}",
                    hint="`gpubroker deploy` creates it; or point ECS_CLUSTER (or "
                    "`gpubroker config set ecs_cluster NAME`) at the cluster your PODs are in",
                ) from None
            if what and ("ServiceNotFound" in exc.message or "ResourceNotFound" in exc.message):
                raise NotFoundError(f"{what} not found in {self.region}", hint=exc.hint) from None
            raise

    # -- cluster, network, roles, logs ----------------------------------------------------

    def cluster_status(self) -> str | None:
        """ACTIVE, INACTIVE..., or None when the cluster does not exist."""
        with self.call():
            resp = self.client("ecs").describe_clusters(clusters=[self.cluster])
        clusters = resp.get("clusters") or []
        return str(clusters[0].get("status")) if clusters else None

    def ensure_cluster(self) -> bool:
        """Create the cluster unless it is active; True when it was created."""
        if self.cluster_status() == "ACTIVE":
            return False
        with self.call():
            self.client("ecs").create_cluster(
                clusterName=self.cluster, tags=[{"key": "gpubroker:managed", "value": "true"}]
            )
        return True

    def account_id(self) -> str:
        with self.call("sts"):
            return str(self.client("sts").get_caller_identity()["Account"])

    def resolve_network(
        self, subnets: Sequence[str], security_groups: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """Fill what is not configured from the VPC: its default-for-AZ subnets (else all of
        them) and its ``default`` security group. The VPC is that of the configured subnet
        or security group, else the region's default VPC.

        Raises:
            ConfigError: nothing configured and the region has no default VPC.
        """
        subnets, groups = list(subnets), list(security_groups)
        if subnets and groups:
            return subnets, groups
        ec2 = self.client("ec2")
        with self.call("ec2"):
            if subnets:
                found = ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"]
                vpc = found[0]["VpcId"] if found else None
            elif groups:
                found = ec2.describe_security_groups(GroupIds=groups[:1])["SecurityGroups"]
                vpc = found[0].get("VpcId") if found else None
            else:
                vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
                vpc = vpcs["Vpcs"][0]["VpcId"] if vpcs.get("Vpcs") else None
            if vpc is None:
                raise ConfigError(
                    f"no subnets configured for PODs and {self.region} has no default VPC",
                    hint="set ECS_SUBNETS and ECS_SECURITY_GROUP (or `gpubroker config set "
                    "ecs_subnets subnet-a,subnet-b` and `... ecs_security_group sg-...`)",
                )
            if not subnets:
                rows = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
                    "Subnets"
                ]
                default = [s for s in rows if s.get("DefaultForAz")]
                subnets = sorted(s["SubnetId"] for s in (default or rows))
            if not groups:
                rows = ec2.describe_security_groups(
                    Filters=[
                        {"Name": "vpc-id", "Values": [vpc]},
                        {"Name": "group-name", "Values": ["default"]},
                    ]
                )["SecurityGroups"]
                groups = [g["GroupId"] for g in rows[:1]]
        if not subnets or not groups:
            raise ConfigError(
                f"VPC {vpc} has no subnets or no default security group for PODs",
                hint="set ECS_SUBNETS and ECS_SECURITY_GROUP",
            )
        return subnets, groups

    def ensure_log_group(self, name: str, tags: Mapping[str, str]) -> None:
        logs = self.client("logs")
        try:
            with self.call("logs"):
                logs.create_log_group(logGroupName=name, tags=dict(tags))
        except Exception as exc:  # already there: fine
            if "ResourceAlreadyExists" not in str(exc):
                raise
        with self.call("logs"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=LOG_RETENTION_DAYS)

    def delete_log_group(self, name: str) -> bool:
        """Delete a log group; False when it did not exist."""
        try:
            with self.call("logs"):
                self.client("logs").delete_log_group(logGroupName=name)
        except NotFoundError:
            return False
        return True

    # -- task definitions and services ----------------------------------------------------

    def register_task_definition(self, request: Mapping[str, Any]) -> str:
        with self.call():
            resp = self.client("ecs").register_task_definition(**request)
        return str(resp["taskDefinition"]["taskDefinitionArn"])

    def task_definition_arns(self, family: str) -> list[str]:
        """ACTIVE revisions of a family."""
        arns: list[str] = []
        with self.call():
            pages = self.client("ecs").get_paginator("list_task_definitions")
            for page in pages.paginate(familyPrefix=family, status="ACTIVE"):
                arns.extend(page.get("taskDefinitionArns") or [])
        return arns

    def task_definition_environment(self, arn: str) -> dict[str, str]:
        """The ``agent-zero`` container's environment of a task definition."""
        with self.call(what=f"task definition {arn}"):
            td = self.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
        for container in td.get("containerDefinitions") or []:
            if container.get("name") == CONTAINER_NAME:
                return {e["name"]: e.get("value", "") for e in container.get("environment") or []}
        return {}

    def deregister_task_definition(self, arn: str) -> None:
        with self.call(what=f"task definition {arn}"):
            self.client("ecs").deregister_task_definition(taskDefinition=arn)

    def create_service(self, request: Mapping[str, Any]) -> dict[str, Any]:
        with self.call():
            resp = self.client("ecs").create_service(**request)
        return dict(resp["service"])

    def set_desired_count(self, service: str, count: int) -> None:
        with self.call(what=f"ECS service {service}"):
            self.client("ecs").update_service(
                cluster=self.cluster, service=service, desiredCount=count
            )

    def delete_service(self, service: str) -> None:
        """Delete a service (``force``: its task is stopped too)."""
        with self.call(what=f"ECS service {service}"):
            self.client("ecs").delete_service(cluster=self.cluster, service=service, force=True)

    def pod_service_names(self) -> list[str]:
        """Every active service of the cluster tagged with a POD id."""
        arns: list[str] = []
        with self.call():
            for page in (
                self.client("ecs").get_paginator("list_services").paginate(cluster=self.cluster)
            ):
                arns.extend(page.get("serviceArns") or [])
        names = [arn.rsplit("/", 1)[-1] for arn in arns]
        found = self._describe_services(names)
        return sorted(
            name
            for name, svc in found.items()
            if svc.get("status") in ("ACTIVE", "DRAINING")
            and TAG_POD_ID in tag_dict(svc.get("tags"))
        )

    def _describe_services(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        ecs = self.client("ecs")
        for batch in _chunks(list(dict.fromkeys(names)), SERVICE_BATCH):
            with self.call():
                resp = ecs.describe_services(cluster=self.cluster, services=batch, include=["TAGS"])
            for svc in resp.get("services") or []:
                found[str(svc["serviceName"])] = svc
        return found

    def _running_tasks(self, services: set[str]) -> dict[str, dict[str, Any]]:
        """The newest task of each service (by ``group``), tags included."""
        ecs = self.client("ecs")
        arns: list[str] = []
        # A few services: ask per service; many: list the cluster's tasks once.
        filters = (
            [{"serviceName": name} for name in sorted(services)]
            if len(services) <= FEW_SERVICES
            else [{}]
        )
        with self.call():
            for extra in filters:
                for page in ecs.get_paginator("list_tasks").paginate(
                    cluster=self.cluster, desiredStatus="RUNNING", **extra
                ):
                    arns.extend(page.get("taskArns") or [])
        arns = list(dict.fromkeys(arns))
        newest: dict[str, dict[str, Any]] = {}
        for batch in _chunks(arns, TASK_BATCH):
            with self.call():
                resp = ecs.describe_tasks(cluster=self.cluster, tasks=batch, include=["TAGS"])
            for task in resp.get("tasks") or []:
                group = str(task.get("group") or "")
                name = group.removeprefix("service:")
                if not group.startswith("service:") or name not in services:
                    continue
                current = newest.get(name)
                started = _utc(task.get("startedAt") or task.get("createdAt"))
                if current is None or (
                    started is not None
                    and started
                    >= (_utc(current.get("startedAt") or current.get("createdAt")) or started)
                ):
                    newest[name] = task
        return newest

    def _stopped_reason(self, service: str) -> str | None:
        """Why the service's last task stopped, when it did."""
        ecs = self.client("ecs")
        with self.call():
            arns = ecs.list_tasks(
                cluster=self.cluster, serviceName=service, desiredStatus="STOPPED"
            ).get("taskArns")
        for batch in _chunks(arns or [], TASK_BATCH):
            with self.call():
                tasks = ecs.describe_tasks(cluster=self.cluster, tasks=batch).get("tasks") or []
            for task in tasks:
                if task.get("group") == f"service:{service}" and task.get("stoppedReason"):
                    return str(task["stoppedReason"])
        return None

    def _eni_addresses(self, eni_ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        if not eni_ids:
            return {}
        with self.call("ec2"):
            resp = self.client("ec2").describe_network_interfaces(
                Filters=[{"Name": "network-interface-id", "Values": list(eni_ids)}]
            )
        out: dict[str, tuple[str | None, str | None]] = {}
        for eni in resp.get("NetworkInterfaces") or []:
            public = (eni.get("Association") or {}).get("PublicIp")
            out[str(eni["NetworkInterfaceId"])] = (public, eni.get("PrivateIpAddress"))
        return out

    def observe(self, names: Sequence[str], *, now: datetime) -> dict[str, EcsService]:
        """ECS's view of these POD services (a missing one, or one whose cluster is gone,
        has ``status=None``)."""
        if not names:
            return {}
        try:
            services = self._describe_services(names)
        except ClusterNotFoundError:
            services = {}  # no cluster, no services: each POD is reported missing
        live = {n for n, s in services.items() if s.get("status") in ("ACTIVE", "DRAINING")}
        tasks = self._running_tasks(live) if live else {}
        enis: dict[str, str] = {}
        for name, task in tasks.items():
            for attachment in task.get("attachments") or []:
                if attachment.get("type") != "ElasticNetworkInterface":
                    continue
                details = {d.get("name"): d.get("value") for d in attachment.get("details") or []}
                if details.get("networkInterfaceId"):
                    enis[name] = str(details["networkInterfaceId"])
        addresses = self._eni_addresses(sorted(set(enis.values())))
        views: dict[str, EcsService] = {}
        for name in names:
            svc = services.get(name)
            if svc is None:
                views[name] = EcsService(service_name=name, observed_at=now)
                continue
            primary: dict[str, Any] = next(
                (d for d in svc.get("deployments") or [] if d.get("status") == "PRIMARY"), {}
            )
            task = tasks.get(name) or {}
            public, private = addresses.get(enis.get(name, ""), (None, None))
            views[name] = EcsService(
                service_name=name,
                service_arn=svc.get("serviceArn"),
                status=svc.get("status"),
                desired_count=int(svc.get("desiredCount") or 0),
                running_count=int(svc.get("runningCount") or 0),
                pending_count=int(svc.get("pendingCount") or 0),
                rollout_state=primary.get("rolloutState"),
                rollout_reason=primary.get("rolloutStateReason"),
                task_definition_arn=svc.get("taskDefinition"),
                task_arn=task.get("taskArn"),
                task_status=task.get("lastStatus"),
                public_ip=public,
                private_ip=private,
                tags=tag_dict(svc.get("tags")),
                events=[str(e.get("message", "")) for e in (svc.get("events") or [])[:3]],
                observed_at=now,
            )
        return views

    def stopped_reason(self, service: str) -> str | None:
        return self._stopped_reason(service)

    # -- logs, metrics, costs -------------------------------------------------------------

    def log_events(
        self, group: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[LogEvent]:
        """Every event of a log group in the window, oldest first (paginated).

        Raises:
            NotFoundError: the log group does not exist (yet).
        """
        kwargs: dict[str, Any] = {"logGroupName": group}
        if start is not None:
            kwargs["startTime"] = int(start.timestamp() * 1000)
        if end is not None:
            kwargs["endTime"] = int(end.timestamp() * 1000)
        with self.call("logs", what=f"log group {group}"):
            pages = self.client("logs").get_paginator("filter_log_events").paginate(**kwargs)
            events: list[LogEvent] = []
            for page in pages:
                for e in page.get("events") or []:
                    ts = e.get("timestamp")
                    if not isinstance(ts, (int, float)) or not math.isfinite(ts):
                        continue
                    events.append(
                        LogEvent(
                            timestamp=datetime.fromtimestamp(ts / 1000, UTC),
                            stream=str(e.get("logStreamName") or ""),
                            message=str(e.get("message") or "").rstrip("\n"),
                            event_id=e.get("eventId"),
                        )
                    )
        events.sort(key=lambda e: (e.timestamp, e.event_id or ""))
        yield from events

    def utilisation(
        self, service: str, *, start: datetime, end: datetime, period_s: int
    ) -> list[MetricPoint]:
        """AWS/ECS CPU and memory utilisation (average per period) of a service."""
        dims = [
            {"Name": "ClusterName", "Value": self.cluster},
            {"Name": "ServiceName", "Value": service},
        ]
        queries = [
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/ECS", "MetricName": metric, "Dimensions": dims},
                    "Period": period_s,
                    "Stat": "Average",
                },
                "ReturnData": True,
            }
            for qid, metric in (("cpu", "CPUUtilization"), ("memory", "MemoryUtilization"))
        ]
        values: dict[datetime, dict[str, float]] = {}
        with self.call("cloudwatch"):
            pages = (
                self.client("cloudwatch")
                .get_paginator("get_metric_data")
                .paginate(
                    MetricDataQueries=queries,
                    StartTime=start,
                    EndTime=end,
                    ScanBy="TimestampAscending",
                )
            )
            for page in pages:
                for result in page.get("MetricDataResults") or []:
                    qid = result.get("Id")
                    for ts, value in zip(
                        result.get("Timestamps") or [], result.get("Values") or [], strict=False
                    ):
                        when = _utc(ts)
                        if when is None or not isinstance(value, (int, float)):
                            continue
                        if not math.isfinite(value):
                            continue
                        values.setdefault(when, {})[str(qid)] = float(value)
        return [
            MetricPoint(
                timestamp=ts,
                cpu_utilization_pct=round(v["cpu"], 2) if "cpu" in v else None,
                memory_utilization_pct=round(v["memory"], 2) if "memory" in v else None,
            )
            for ts, v in sorted(values.items())
        ]

    def costs_by_pod(self, start: date, end: date) -> tuple[dict[str, float], float, bool]:
        """ECS costs per ``gpubroker:pod-id`` tag value from Cost Explorer, ``start`` to
        ``end`` (exclusive; at most the first of next month, as Cost Explorer requires).

        Returns:
            (cost per POD id, untagged ECS cost, whether any cost carried the tag).

        Raises:
            RemoteResponseError: an amount that is not a finite number.
        """
        ce = self.client("ce")
        if (end - start).days > 14 * 30:
            # Cost Explorer takes a range beyond 14 months only from the first of a month.
            start = start.replace(day=1)
        request: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "TAG", "Key": TAG_POD_ID}],
            "Filter": {"Dimensions": {"Key": "SERVICE", "Values": [ECS_SERVICE_NAME_CE]}},
        }
        per_pod: dict[str, float] = {}
        untagged = 0.0
        tagged = False
        while True:
            with self.call("ce"):
                resp = ce.get_cost_and_usage(**request)
            for period in resp.get("ResultsByTime") or []:
                for group in period.get("Groups") or []:
                    keys = group.get("Keys") or [""]
                    amount_text = ((group.get("Metrics") or {}).get("UnblendedCost") or {}).get(
                        "Amount", "0"
                    )
                    try:
                        amount = float(amount_text)
                    except (TypeError, ValueError):
                        amount = math.nan
                    if not math.isfinite(amount):
                        raise RemoteResponseError(
                            "ce", f"ce: unreadable cost amount {str(amount_text)[:40]!r}"
                        )
                    _, _, value = str(keys[0]).partition("$")
                    if value:
                        tagged = True
                        per_pod[value] = per_pod.get(value, 0.0) + amount
                    else:
                        untagged += amount
                total = ((period.get("Total") or {}).get("UnblendedCost") or {}).get("Amount")
                if not period.get("Groups") and total is not None:
                    with contextlib.suppress(TypeError, ValueError):
                        value_total = float(total)
                        if math.isfinite(value_total):
                            untagged += value_total
            token = resp.get("NextPageToken")
            if not token:
                break
            request["NextPageToken"] = token
        return per_pod, untagged, tagged
