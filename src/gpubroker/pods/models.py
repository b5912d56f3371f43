"""Typed objects of the POD lifecycle: configs, plans, estimates, PODs, events, reports.

Units live in the field names (``price_per_hour_usd``, ``memory_mib``, ``ram_gib``). Every
model is JSON-ready with ``model_dump(mode="json")``, which is the ``--format json`` contract.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gpubroker.models import Offer, ProviderStatus


class SelectionMode(StrEnum):
    """How a config picks its GPU offer (the hosted API's ``provider_selection_mode``)."""

    MANUAL = "manual"  # the config's offer id, or its provider's best match
    AUTO_CHEAPEST = "auto_cheapest"  # lowest $/h among the matches
    AUTO_BEST_VALUE = "auto_best_value"  # TOPSIS, the value preset (performance per dollar)
    AUTO_FASTEST = "auto_fastest"  # most total TFLOPS, then price


class StorageType(StrEnum):
    SSD = "ssd"
    NVME = "nvme"
    HDD = "hdd"


class ConfigStatus(StrEnum):
    """``draft`` until validated; edits make a config a draft again."""

    DRAFT = "draft"
    VALID = "valid"
    INVALID = "invalid"


class PodStatus(StrEnum):
    """A POD's state in the local journal (``untracked``: found in ECS only, by its tags)."""

    CREATING = "creating"  # intent recorded; the ECS service may not exist yet
    STARTING = "starting"  # service wants a task; none running yet
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"  # service kept with desiredCount 0
    DESTROYING = "destroying"
    DESTROYED = "destroyed"
    FAILED = "failed"
    MISSING = "missing"  # recorded here, but ECS no longer has its service
    UNTRACKED = "untracked"


class PodConfig(BaseModel):
    """A POD configuration draft (the hosted API's pod config fields, units in the names).

    Fields that pick the offer: ``gpu_type``, ``gpu_count``, ``gpu_memory_gib``,
    ``provider_selection_mode``, ``provider``, ``provider_offer_id``, ``vcpus``, ``ram_gib``,
    ``storage_gib`` (minimums), ``region``, ``spot_instance`` and ``max_spot_price_usd``.
    ``storage_type``, ``network_speed_gbps``, ``public_ip`` and ``availability_zone`` are
    recorded for the hosted API's shape; offers do not report them, so they never filter.
    ``image``, ``cpu_units``, ``memory_mib`` and the budgets size and bound the agent POD.
    """

    model_config = ConfigDict(validate_assignment=True, allow_inf_nan=False)

    id: str
    name: str
    description: str = ""
    status: ConfigStatus = ConfigStatus.DRAFT
    gpu_type: str | None = None
    gpu_model: str | None = None
    gpu_count: int = Field(1, ge=1, le=16)
    gpu_memory_gib: float | None = Field(None, gt=0)
    provider_selection_mode: SelectionMode = SelectionMode.AUTO_BEST_VALUE
    provider: str | None = None
    provider_offer_id: str | None = None
    vcpus: float | None = Field(None, ge=1, le=256)
    ram_gib: float | None = Field(None, ge=1, le=4096)
    storage_gib: float | None = Field(None, ge=10, le=10000)
    storage_type: StorageType = StorageType.SSD
    network_speed_gbps: float | None = Field(None, gt=0)
    public_ip: bool = True
    region: str | None = None
    availability_zone: str | None = None
    spot_instance: bool = False
    max_spot_price_usd: float | None = Field(None, gt=0)
    image: str | None = None
    cpu_units: int | None = None
    memory_mib: int | None = None
    budget_per_hour_usd: float | None = Field(None, gt=0)
    budget_per_month_usd: float | None = Field(None, gt=0)
    estimated_price_per_hour_usd: float | None = None
    estimated_price_per_day_usd: float | None = None
    estimated_price_per_month_usd: float | None = None
    currency: str = "USD"
    is_valid: bool | None = None
    validation_errors: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


#: Config fields a user may set (everything else is computed).
CONFIG_INPUT_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "gpu_type",
    "gpu_count",
    "gpu_memory_gib",
    "provider_selection_mode",
    "provider",
    "provider_offer_id",
    "vcpus",
    "ram_gib",
    "storage_gib",
    "storage_type",
    "network_speed_gbps",
    "public_ip",
    "region",
    "availability_zone",
    "spot_instance",
    "max_spot_price_usd",
    "image",
    "cpu_units",
    "memory_mib",
    "budget_per_hour_usd",
    "budget_per_month_usd",
    "tags",
    "metadata",
)


class Budget(BaseModel):
    """Spending limits for one POD; either may be unset."""

    model_config = ConfigDict(allow_inf_nan=False)

    per_hour_usd: float | None = Field(None, gt=0)
    per_month_usd: float | None = Field(None, gt=0)

    @classmethod
    def of(cls, config: PodConfig | None) -> Budget:
        """A config's budget (none without a config)."""
        if config is None:
            return cls()
        return cls(
            per_hour_usd=config.budget_per_hour_usd, per_month_usd=config.budget_per_month_usd
        )


class Estimate(BaseModel):
    """What a POD costs: its GPU offer plus the Fargate agent, per hour, day and month.

    ``price_per_day_usd`` is ``price_per_hour_usd × 24`` and ``price_per_month_usd`` is
    ``× 720`` (30 days), as the hosted backend computes them. ``breakdown_per_hour_usd`` splits
    the hourly price into ``gpu_offer``, ``fargate_vcpu`` and ``fargate_memory``. The spot
    fields compare the offer with its counterpart of the other kind (same provider, GPU,
    count and region): for an on-demand offer, what spot would save; for a spot offer, what
    it saves over on-demand. None when no counterpart is listed.
    """

    offer_id: str
    provider: str
    gpu_model: str
    gpu_count: int
    spot: bool
    region: str | None = None
    offer_source: str
    offer_observed_at: datetime
    cpu_units: int
    memory_mib: int
    price_per_hour_usd: float
    price_per_day_usd: float
    price_per_month_usd: float
    breakdown_per_hour_usd: dict[str, float]
    spot_counterpart_offer_id: str | None = None
    spot_counterpart_price_per_hour_usd: float | None = None
    spot_savings_per_hour_usd: float | None = None
    spot_savings_per_month_usd: float | None = None
    currency: str = "USD"


class ValidationIssue(BaseModel):
    """One finding: the rule that produced it (``fargate``, ``provider_limits``, ``offer``,
    ``plan``, ``budget``, ``name``) and a sentence saying what is wrong."""

    rule: str
    message: str


class ValidationReport(BaseModel):
    """Errors refuse a deploy (exit 6); warnings are shown and allowed."""

    errors: list[ValidationIssue] = Field(default_factory=list)
    warnings: list[ValidationIssue] = Field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """All errors on one line: ``rule: message; rule: message``."""
        return "; ".join(f"{e.rule}: {e.message}" for e in self.errors)


class DeployPlan(BaseModel):
    """Everything a deploy will do, decided before any AWS call.

    ``requests`` holds the exact ``register_task_definition`` and ``create_service``
    requests. Values only AWS can supply (the default VPC's subnets and security group, the
    account id in the execution role ARN) are written as ``<...>`` and listed in
    ``placeholders``; a real deploy looks them up first. ``notes`` say how the offer was
    found; ``statuses`` are the providers' answers to that search.
    """

    pod_id: str
    name: str
    owner: str
    plan: str | None = None
    offer: Offer
    estimate: Estimate
    validation: ValidationReport
    config_id: str | None = None
    config_name: str | None = None
    image: str
    cpu_units: int
    memory_mib: int
    budget_per_hour_usd: float | None = None
    budget_per_month_usd: float | None = None
    region: str
    cluster: str
    service_name: str
    task_family: str
    log_group: str
    subnets: list[str] = Field(default_factory=list)
    security_groups: list[str] = Field(default_factory=list)
    execution_role: str
    environment: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    requests: dict[str, Any] = Field(default_factory=dict)
    placeholders: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    statuses: list[ProviderStatus] = Field(default_factory=list)


class Pod(BaseModel):
    """A POD as the local journal knows it, refreshed from ECS when observed.

    ``price_per_hour_usd`` is the estimate recorded at deploy (offer + Fargate agent);
    ``desired_count``/``running_count``/``pending_count`` and the addresses are ECS's last
    answer (``last_synced_at``). ``tracked`` is False for a POD found in ECS by its tags
    that this machine never recorded.
    """

    pod_id: str
    name: str
    status: PodStatus
    tracked: bool = True
    owner: str | None = None
    plan: str | None = None
    offer_id: str | None = None
    provider: str | None = None
    gpu_model: str | None = None
    gpu_count: int | None = None
    spot: bool | None = None
    offer_region: str | None = None
    price_per_hour_usd: float | None = None
    offer_price_per_hour_usd: float | None = None
    fargate_price_per_hour_usd: float | None = None
    budget_per_hour_usd: float | None = None
    budget_per_month_usd: float | None = None
    image: str | None = None
    cpu_units: int | None = None
    memory_mib: int | None = None
    region: str
    cluster: str
    service_name: str
    service_arn: str | None = None
    task_definition_arn: str | None = None
    log_group: str | None = None
    config_id: str | None = None
    config_name: str | None = None
    desired_count: int | None = None
    running_count: int | None = None
    pending_count: int | None = None
    task_arn: str | None = None
    public_ip: str | None = None
    private_ip: str | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    destroyed_at: datetime | None = None
    last_synced_at: datetime | None = None


class PodEvent(BaseModel):
    """One entry of a POD's history: every state change, and what gpubroker did."""

    pod_id: str
    at: datetime
    kind: str
    old_status: str | None = None
    new_status: str | None = None
    message: str = ""


class EcsService(BaseModel):
    """What ECS says about a POD's service (and its newest task), at ``observed_at``."""

    service_name: str
    service_arn: str | None = None
    status: str | None = None  # ACTIVE | DRAINING | INACTIVE; None: no such service
    desired_count: int = 0
    running_count: int = 0
    pending_count: int = 0
    rollout_state: str | None = None
    rollout_reason: str | None = None
    task_definition_arn: str | None = None
    task_arn: str | None = None
    task_status: str | None = None
    stopped_reason: str | None = None
    public_ip: str | None = None
    private_ip: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    events: list[str] = Field(default_factory=list)
    observed_at: datetime

    @property
    def exists(self) -> bool:
        return self.status in ("ACTIVE", "DRAINING")


class PodDetails(BaseModel):
    """`pods show`: the journal row, ECS's view (None with ``local``) and the history."""

    pod: Pod
    ecs: EcsService | None = None
    events: list[PodEvent] = Field(default_factory=list)
    uptime_hours: float = 0.0
    estimated_cost_usd: float = 0.0


class LogEvent(BaseModel):
    """One line of a POD's CloudWatch log."""

    timestamp: datetime
    stream: str
    message: str
    event_id: str | None = None


class MetricPoint(BaseModel):
    """AWS/ECS utilisation of a POD's service for one period (average, percent)."""

    timestamp: datetime
    cpu_utilization_pct: float | None = None
    memory_utilization_pct: float | None = None


class SyncLine(BaseModel):
    """What `pods sync` found and did for one POD."""

    pod_id: str
    name: str
    action: str  # unchanged | updated | completed | cleaned-up | adopted | untracked | missing
    status: PodStatus
    message: str = ""


class CostLine(BaseModel):
    """One POD's costs over the window: the local estimate beside what AWS billed.

    ``estimate_usd`` is the recorded hourly estimate (GPU offer + Fargate agent) times the
    POD's running hours in the window; ``estimate_aws_usd`` is the Fargate part alone, the
    part AWS bills; ``aws_cost_usd`` is Cost Explorer's unblended cost for the POD's tag
    (None when Cost Explorer has nothing for it).
    """

    pod_id: str
    name: str | None = None
    status: str | None = None
    uptime_hours: float = 0.0
    estimate_usd: float = 0.0
    estimate_aws_usd: float = 0.0
    aws_cost_usd: float | None = None


class CostReport(BaseModel):
    """`gpubroker costs`: per-POD lines plus the AWS totals for the window."""

    start: datetime
    end: datetime
    lines: list[CostLine] = Field(default_factory=list)
    aws_untagged_usd: float = 0.0
    aws_total_usd: float = 0.0
    estimate_total_usd: float = 0.0
    tag_grouping: bool = False
    notes: list[str] = Field(default_factory=list)
