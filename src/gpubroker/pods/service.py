"""The POD service (``broker.pods``): plan, deploy, observe, operate and account for PODs.

Deploy runs plan → validate → estimate → record intent → create → wait → record:

1. the offer is picked the way ``browse`` picks it (`gpubroker.offers.service.OfferService`:
   live, then cache, then catalog; a failing provider is a note, not a failure) and an
   explicit offer is re-checked against its provider's current listing;
2. the Fargate size, the provider's limits, the plan's limits and the budget are checked,
   and the exact ECS requests are built, all before any AWS call (`plan`);
3. the intent is written to SQLite, then ECS is asked to create the task definition and the
   service, then the service is watched until its task runs (`deploy`).

Every state change lands in ``pod_events``; billable and destructive actions in ``audit``.
An interrupted deploy is finished or cleaned up by `PodService.sync`, which also rebuilds
the local view from ECS tags.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import math
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gpubroker.errors import (
    GpubrokerError,
    NotFoundError,
    RefusedError,
    RemoteError,
    RemoteTimeoutError,
    UsageError,
)
from gpubroker.models import Availability, Offer, ProviderStatus, Query, RankedOffer, Source
from gpubroker.pods import ecs as ecs_mod
from gpubroker.pods import fargate, limits
from gpubroker.pods.ecs import EcsDriver
from gpubroker.pods.estimate import estimate as make_estimate
from gpubroker.pods.estimate import parse_budget
from gpubroker.pods.models import (
    Budget,
    CostReport,
    DeployPlan,
    EcsService,
    Estimate,
    LogEvent,
    MetricPoint,
    Pod,
    PodConfig,
    PodDetails,
    PodEvent,
    PodStatus,
    SelectionMode,
    SyncLine,
    ValidationIssue,
    ValidationReport,
)
from gpubroker.pods.records import (
    api_key_hash,
    check_name,
    check_statuses,
    check_text,
    counts_text,
    derive_status,
    event_from_row,
    iso,
    log_key,
    os_user,
    pod_from_row,
    running_hours,
    split_list,
)
from gpubroker.textfmt import humanize_age, parse_duration_s
from gpubroker.vocabulary import EnvVars

if TYPE_CHECKING:
    from gpubroker.offers.service import OfferService
    from gpubroker.pods.configs import PodConfigService
    from gpubroker.runtime import Runtime

Progress = Callable[[str], None]

DEFAULT_TIMEOUT_S = 600.0
POLL_S = 5.0
FOLLOW_POLL_S = 2.0
DEFAULT_REGION = "us-east-1"

_PRESET_FOR_MODE = {
    SelectionMode.MANUAL: "balanced",
    SelectionMode.AUTO_CHEAPEST: "cost",
    SelectionMode.AUTO_BEST_VALUE: "value",
    SelectionMode.AUTO_FASTEST: "performance",
}


@dataclass(frozen=True, slots=True)
class PodSettings:
    """Where PODs go and what they run, resolved from flags, env and the profile.

    ``ECS_CLUSTER``, ``ECS_SUBNETS`` and ``ECS_SECURITY_GROUP`` (the hosted backend's names)
    are honoured after the ``GPUBROKER_*`` variables and before config.toml.
    """

    region: str
    cluster: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    execution_role: str
    image: str


@dataclass
class Selection:
    """The offer a deploy or estimate uses, the offers seen with it, and what was asked."""

    offer: Offer
    candidates: Sequence[Offer]
    notes: list[str] = field(default_factory=list)
    statuses: list[ProviderStatus] = field(default_factory=list)
    gpu_count: int | None = None
    vcpus: float | None = None
    ram_gib: float | None = None
    config: PodConfig | None = None

    def estimate(self, cpu_units: int, memory_mib: int) -> Estimate:
        """What a POD on the selected offer with an agent of this size costs."""
        return make_estimate(
            self.offer, cpu_units=cpu_units, memory_mib=memory_mib, candidates=self.candidates
        )


def _plain_offer(offer: Offer) -> Offer:
    """An `Offer` (not a `RankedOffer`), so that it serialises as one."""
    if type(offer) is Offer:
        return offer
    return Offer.model_validate(offer.model_dump(include=set(Offer.model_fields)))


class PodService:
    """Deploy and operate PODs on ECS Fargate.

    Args:
        runtime: the composition root (settings, store, clock, AWS client factory).
        offers: the offer service used to pick offers, or a function returning it
            (default: a new one on ``runtime``).
    """

    def __init__(
        self,
        runtime: Runtime,
        offers: OfferService | Callable[[], OfferService] | None = None,
    ) -> None:
        self.runtime = runtime
        self._offers_arg = offers
        self._offers: OfferService | None = None
        self.sleep: Callable[[float], None] = time.sleep
        self.monotonic: Callable[[], float] = time.monotonic
        self.poll_s = POLL_S
        self._drivers: dict[tuple[str, str], EcsDriver] = {}

    @property
    def offers(self) -> OfferService:
        """The offer service that picks offers (built on first use)."""
        if self._offers is None:
            from gpubroker.offers.service import OfferService

            given = self._offers_arg
            if isinstance(given, OfferService):
                self._offers = given
            elif given is not None:
                self._offers = given()
            else:
                self._offers = OfferService(self.runtime)
        return self._offers

    @cached_property
    def configs(self) -> PodConfigService:
        """POD config drafts: create, list, show, update, delete, validate, estimate."""
        from gpubroker.pods.configs import PodConfigService

        return PodConfigService(self.runtime, self)

    # -- settings -------------------------------------------------------------------------

    def settings(self) -> PodSettings:
        """Cluster, region, network, role and image for new PODs."""
        s = self.runtime.settings
        env = os.environ

        def pick(key: str, backend_env: str, value: Any) -> Any:
            if EnvVars.SETTING_PREFIX + key.upper() in env:
                return value  # the settings already hold GPUBROKER_<KEY>
            raw = env.get(backend_env)
            return raw.strip() if raw and raw.strip() else value

        cluster = str(pick("ecs_cluster", "ECS_CLUSTER", s.ecs_cluster))
        subnets = pick("ecs_subnets", "ECS_SUBNETS", s.ecs_subnets)
        groups = pick("ecs_security_group", "ECS_SECURITY_GROUP", s.ecs_security_group)
        return PodSettings(
            region=s.pod_region or self._default_region(),
            cluster=cluster,
            subnets=split_list(subnets) if isinstance(subnets, str) else tuple(subnets),
            security_groups=split_list(groups) if isinstance(groups, str) or groups is None else (),
            execution_role=s.ecs_execution_role,
            image=s.pod_image,
        )

    @staticmethod
    def _default_region() -> str:
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            if os.environ.get(name):
                return os.environ[name].strip()
        try:
            import botocore.session

            region = botocore.session.get_session().get_config_variable("region")
        except Exception:  # an unreadable ~/.aws/config must not stop a dry run
            region = None
        return str(region) if region else DEFAULT_REGION

    def driver(self, region: str | None = None, cluster: str | None = None) -> EcsDriver:
        """The ECS driver for a region and cluster (default: the profile's)."""
        if region is None or cluster is None:
            ps = self.settings()
            region = region or ps.region
            cluster = cluster or ps.cluster
        key = (region, cluster)
        if key not in self._drivers:  # one driver, hence one set of boto3 clients, per cluster
            self._drivers[key] = EcsDriver(self.runtime.aws_client, region=region, cluster=cluster)
        return self._drivers[key]

    def _driver_for(self, row: dict[str, Any]) -> EcsDriver:
        return self.driver(row["region"], row["cluster"])

    # -- choosing the offer ---------------------------------------------------------------

    def select(
        self,
        *,
        config: str | PodConfig | None = None,
        offer_id: str | None = None,
        query: Query | None = None,
        preset: str | None = None,
        weights: Mapping[str, float] | str | None = None,
        offline: bool = False,
        fresh: bool = False,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Selection:
        """Pick the offer: a config's selection, an explicit offer id (re-checked), or the
        best match of ``query`` ranked with ``preset``, the way ``browse`` does.

        Raises:
            UsageError: nothing to select by, or contradicting selections.
            NotFoundError: no offer matches, or the offer is no longer listed.
        """
        filtered = query is not None and query != Query()
        if offer_id and filtered:
            raise UsageError(
                "offer_id names one offer; drop the filters or the offer id",
                param=("offer_id",),
            )
        cfg = self.configs.get(config) if isinstance(config, str) else config
        if cfg is not None and filtered:
            raise UsageError(
                f"filters cannot be combined with config {cfg.name!r}; change the config with "
                "`gpubroker configs update`, or use the filters alone"
            )
        if cfg is None and not offer_id and not filtered:
            raise UsageError(
                "choose the offer: a CONFIG, offer_id, or filters such as gpus",
                hint="e.g. `--gpu H100`, `--offer ID` or a config from `gpubroker configs list`",
                param=("offer_id", "gpus"),
            )
        search = {"offline": offline, "fresh": fresh, "on_progress": on_progress}
        if offer_id or (
            cfg is not None
            and cfg.provider_offer_id
            and cfg.provider_selection_mode is SelectionMode.MANUAL
        ):
            chosen = offer_id or (cfg.provider_offer_id if cfg else None) or ""
            selection = self._recheck(chosen, **search)
        elif cfg is not None:
            selection = self._best(
                config_query(cfg), cfg.provider_selection_mode, None, search, cfg=cfg
            )
        else:
            assert query is not None
            selection = self._best(query, None, preset, search, weights=weights)
        if cfg is not None:
            selection.config = cfg
            selection.gpu_count = cfg.gpu_count
            selection.vcpus = cfg.vcpus
            selection.ram_gib = cfg.ram_gib
        return selection

    def _recheck(self, offer_id: str, **search: Any) -> Selection:
        known = self.offers.get(offer_id)
        result = self.offers.search(Query(providers=[known.provider]), limit=None, **search)
        current: Offer | None = next((o for o in result.offers if o.id == offer_id), None)
        status = next((s for s in result.statuses if s.provider == known.provider), None)
        notes: list[str] = []
        if current is None:
            if status is not None and status.status.value in ("ok", "cached"):
                # a listing fetched now, or within the cache TTL, that lacks the offer
                raise NotFoundError(
                    f"offer {offer_id} is no longer listed by {known.provider}",
                    hint=f"pick another: `gpubroker browse --provider {known.provider}`",
                )
            notes.append(
                f"could not re-check offer {offer_id} with {known.provider} "
                f"({status.status.value if status else 'not asked'}); using its "
                f"{known.source.value} price"
            )
            current = known
        elif current.price_per_hour_usd != known.price_per_hour_usd:
            notes.append(
                f"offer {offer_id} now costs ${current.price_per_hour_usd:.4g}/h "
                f"(was ${known.price_per_hour_usd:.4g}/h)"
            )
        return Selection(
            offer=_plain_offer(current),
            candidates=result.offers,
            notes=notes,
            statuses=list(result.statuses),
        )

    def _best(
        self,
        query: Query,
        mode: SelectionMode | None,
        preset: str | None,
        search: dict[str, Any],
        cfg: PodConfig | None = None,
        weights: Mapping[str, float] | str | None = None,
    ) -> Selection:
        if not query.available_only:
            query = query.model_copy(update={"available_only": True})
        chosen_preset = _PRESET_FOR_MODE[mode] if mode is not None else preset
        result = self.offers.search(
            query, preset=chosen_preset, weights=weights, limit=None, **search
        )
        if not result.offers:
            what = f"config {cfg.name!r}" if cfg else "the filters"
            raise NotFoundError(
                f"no available offer matches {what}",
                hint="loosen a filter; `gpubroker browse` shows what is listed",
            )
        ranked = list(result.offers)
        if mode is SelectionMode.AUTO_CHEAPEST:
            ranked.sort(key=lambda o: (o.price_per_hour_usd, o.rank, o.id))
        elif mode is SelectionMode.AUTO_FASTEST:
            from gpubroker.ranking.criteria import CRITERIA

            def speed(o: RankedOffer) -> float:
                value = CRITERIA["tflops"].value(o)
                return -value if value is not None else math.inf

            ranked.sort(key=lambda o: (speed(o), o.price_per_hour_usd, o.id))
        return Selection(
            offer=_plain_offer(ranked[0]),
            candidates=ranked,
            statuses=list(result.statuses),
            gpu_count=query.min_gpus if query.min_gpus == query.max_gpus else None,
            vcpus=query.min_vcpus,
            ram_gib=query.min_ram_gib,
        )

    # -- estimate, validation, plan -------------------------------------------------------

    def size(
        self,
        cpu: str | int | float | None = None,
        memory: str | int | float | None = None,
        config: PodConfig | None = None,
    ) -> tuple[int, int]:
        """Agent CPU units and memory (MiB): flags, else the config's, else the defaults."""
        cpu_units = (
            fargate.parse_cpu(cpu)
            if cpu is not None
            else (config.cpu_units if config and config.cpu_units else fargate.DEFAULT_CPU_UNITS)
        )
        if memory is not None:
            memory_mib = fargate.parse_memory(memory)
        elif config and config.memory_mib:
            memory_mib = config.memory_mib
        else:
            choices = fargate.memory_choices_mib(cpu_units)
            default = fargate.DEFAULT_MEMORY_MIB
            memory_mib = default if default in choices or not choices else choices[0]
        return cpu_units, memory_mib

    def checked_size(
        self,
        cpu: str | int | float | None = None,
        memory: str | int | float | None = None,
        config: PodConfig | None = None,
    ) -> tuple[int, int]:
        """`size`, refused (RefusedError) when Fargate does not offer it."""
        cpu_units, memory_mib = self.size(cpu, memory, config)
        problem = fargate.size_error(cpu_units, memory_mib)
        if problem:
            raise RefusedError(f"refused (fargate): {problem}")
        return cpu_units, memory_mib

    def estimate(
        self,
        *,
        config: str | PodConfig | None = None,
        offer_id: str | None = None,
        query: Query | None = None,
        preset: str | None = None,
        weights: Mapping[str, float] | str | None = None,
        cpu: str | int | float | None = None,
        memory: str | int | float | None = None,
        offline: bool = False,
        fresh: bool = False,
        on_progress: Callable[[Any], None] | None = None,
    ) -> tuple[Estimate, Selection]:
        """What a POD would cost (per hour, day, month; breakdown; spot savings).

        Returns:
            The estimate, and the selection it was made for (offer, notes, provider statuses).

        Raises:
            UsageError: bad selection or size (the size is checked before any search).
            RefusedError: an agent size Fargate does not offer.
        """
        cfg = self.configs.get(config) if isinstance(config, str) else config
        cpu_units, memory_mib = self.checked_size(cpu, memory, cfg)
        selection = self.select(
            config=cfg,
            offer_id=offer_id,
            query=query,
            preset=preset,
            weights=weights,
            offline=offline,
            fresh=fresh,
            on_progress=on_progress,
        )
        return selection.estimate(cpu_units, memory_mib), selection

    def effective_plan(self, plan: str | None) -> str | None:
        """``plan`` (checked), else the recorded subscription's plan, else None."""
        if plan:
            return limits.check_plan_name(plan)
        sub = self.runtime.store.current_subscription(self.runtime.profile)
        if sub and sub.get("plan"):
            return str(sub["plan"]).strip().lower() or None
        return None

    def effective_owner(self, owner: str | None) -> str:
        """``owner``, else the profile's ``owner`` setting, else the subscription's e-mail,
        else the OS user."""
        if owner is not None:
            return check_text(owner, "owner")
        configured = self.runtime.settings.owner
        if configured:
            return configured
        sub = self.runtime.store.current_subscription(self.runtime.profile)
        if sub and sub.get("email"):
            return str(sub["email"])
        return os_user()

    def validate(
        self,
        selection: Selection,
        est: Estimate,
        *,
        owner: str,
        plan: str | None,
        budget: Budget,
        name: str | None = None,
    ) -> ValidationReport:
        """Every rule a deploy must pass (none of them calls AWS)."""
        report = ValidationReport()
        offer = selection.offer
        live = self._live_named(name) if name is not None else None
        if live is not None:
            report.errors.append(
                ValidationIssue(
                    rule="name",
                    message=f"{name!r} is in use by POD {live['pod_id']} ({live['status']})",
                )
            )
        problem = fargate.size_error(est.cpu_units, est.memory_mib)
        if problem:
            report.errors.append(ValidationIssue(rule="fargate", message=problem))
        report.errors.extend(
            limits.check_request(
                offer.provider,
                gpu_count=selection.gpu_count,
                vcpus=selection.vcpus,
                ram_gib=selection.ram_gib,
            )
        )
        report.errors.extend(
            limits.check_offer(
                offer,
                gpu_count=selection.gpu_count,
                vcpus=selection.vcpus,
                ram_gib=selection.ram_gib,
            )
        )
        if offer.availability is Availability.UNAVAILABLE:
            report.errors.append(
                ValidationIssue(
                    rule="offer", message=f"{offer.provider} lists {offer.id} as unavailable"
                )
            )
        if plan:
            report.errors.extend(
                limits.check_plan(
                    plan,
                    estimate=est,
                    active_pods=self.runtime.store.count_live_pods(owner),
                    owner=owner,
                )
            )
        report.errors.extend(
            limits.check_budget(
                est, per_hour_usd=budget.per_hour_usd, per_month_usd=budget.per_month_usd
            )
        )
        now = self.runtime.now()
        if offer.source is Source.CATALOG:
            report.warnings.append(
                ValidationIssue(
                    rule="offer",
                    message=f"published list price from {offer.observed_at:%Y-%m}; the live "
                    "price may differ",
                )
            )
        elif offer.source is Source.CACHE:
            age = humanize_age(max(0.0, (now - offer.observed_at).total_seconds()))
            report.warnings.append(
                ValidationIssue(rule="offer", message=f"price from the cache, {age} old")
            )
        if offer.spot:
            report.warnings.append(
                ValidationIssue(rule="offer", message="spot capacity can be interrupted")
            )
        return report

    def _api_key(self) -> str | None:
        """The profile's subscription API key (env, keyring or the explicit file), if any."""
        from gpubroker.credentials import ApiSecrets

        value, _ = ApiSecrets(self.runtime.profile, self.runtime.home).get("api_key")
        return value

    def _live_named(self, name: str) -> dict[str, Any] | None:
        return self.runtime.store.live_pod_named(name)

    def plan(
        self,
        *,
        name: str,
        config: str | PodConfig | None = None,
        offer_id: str | None = None,
        query: Query | None = None,
        preset: str | None = None,
        weights: Mapping[str, float] | str | None = None,
        image: str | None = None,
        cpu: str | int | float | None = None,
        memory: str | int | float | None = None,
        budget: str | Budget | None = None,
        owner: str | None = None,
        plan: str | None = None,
        offline: bool = False,
        fresh: bool = False,
        on_progress: Callable[[Any], None] | None = None,
    ) -> DeployPlan:
        """Decide everything a deploy does, without touching AWS.

        What needs no offer is checked before any search: the name (syntax, and not in use),
        the Fargate size, the budget and plan syntax. The offer is then picked and re-checked,
        estimated and validated; those rule violations do not raise here but are in
        ``plan.validation`` (``deploy`` refuses an invalid plan).

        Raises:
            UsageError: a malformed name, size, budget or plan, or a bad selection.
            RefusedError: an invalid Fargate size, or a name in use (exit 6).
            NotFoundError: no offer matches.
        """
        check_name(name)
        cfg = self.configs.get(config) if isinstance(config, str) else config
        # Refuse what needs no offer before searching (the aws provider itself calls AWS).
        cpu_units, memory_mib = self.checked_size(cpu, memory, cfg)
        live = self._live_named(name)
        if live is not None:
            raise RefusedError(
                f"refused (name): {name!r} is in use by POD {live['pod_id']} ({live['status']})",
                hint="pick another name, or destroy that POD first",
            )
        if isinstance(budget, str):
            budget = parse_budget(budget)
        if budget is None:
            budget = Budget.of(cfg)
        plan_name = self.effective_plan(plan)
        who = self.effective_owner(owner)
        if image is not None:
            image = check_text(image, "image")
        ps = self.settings()
        selection = self.select(
            config=cfg,
            offer_id=offer_id,
            query=query,
            preset=preset,
            weights=weights,
            offline=offline,
            fresh=fresh,
            on_progress=on_progress,
        )
        est = selection.estimate(cpu_units, memory_mib)
        report = self.validate(selection, est, owner=who, plan=plan_name, budget=budget, name=name)
        pod_id = "pod-" + secrets.token_hex(4)
        offer = selection.offer
        environment = {
            "POD_ID": pod_id,
            "POD_NAME": name,
            "USER_EMAIL": who,
            "PLAN": plan_name or "",
            "API_KEY_HASH": api_key_hash(self._api_key()),
            "OFFER_ID": offer.id,
            "OFFER_PROVIDER": offer.provider,
            "OFFER_GPU_MODEL": offer.gpu_model,
            "OFFER_GPU_COUNT": str(offer.gpu_count),
            "OFFER_REGION": offer.region or "",
            "OFFER_SPOT": "true" if offer.spot else "false",
            "OFFER_PRICE_PER_HOUR_USD": str(round(offer.price_per_hour_usd, 6)),
        }
        if budget.per_hour_usd is not None:
            environment["BUDGET_PER_HOUR_USD"] = str(budget.per_hour_usd)
        if budget.per_month_usd is not None:
            environment["BUDGET_PER_MONTH_USD"] = str(budget.per_month_usd)
        tags = {
            ecs_mod.TAG_POD_ID: pod_id,
            ecs_mod.TAG_OWNER: who,
            ecs_mod.TAG_OFFER: offer.id,
            ecs_mod.TAG_NAME: name,
        }
        if plan_name:
            tags[ecs_mod.TAG_PLAN] = plan_name
        placeholders = []
        subnets = list(ps.subnets)
        groups = list(ps.security_groups)
        if not subnets:
            subnets = ["<default VPC subnets>"]
            placeholders.append("subnets: the default-for-AZ subnets of the VPC")
        if not groups:
            groups = ["<default security group>"]
            placeholders.append("security group: the VPC's default security group")
        role = ps.execution_role
        if not role.startswith("arn:"):
            role = ecs_mod.role_arn(role, account="<account-id>", region=ps.region)
            placeholders.append("execution role: the ARN in this AWS account")
        deploy_plan = DeployPlan(
            pod_id=pod_id,
            name=name,
            owner=who,
            plan=plan_name,
            offer=offer,
            estimate=est,
            validation=report,
            config_id=cfg.id if cfg else None,
            config_name=cfg.name if cfg else None,
            image=image or (cfg.image if cfg and cfg.image else ps.image),
            cpu_units=cpu_units,
            memory_mib=memory_mib,
            budget_per_hour_usd=budget.per_hour_usd,
            budget_per_month_usd=budget.per_month_usd,
            region=ps.region,
            cluster=ps.cluster,
            service_name=ecs_mod.service_name(pod_id),
            task_family=ecs_mod.service_name(pod_id),
            log_group=ecs_mod.log_group_name(pod_id),
            subnets=list(ps.subnets),
            security_groups=list(ps.security_groups),
            execution_role=ps.execution_role,
            placeholders=placeholders,
            notes=selection.notes,
            statuses=selection.statuses,
            environment=environment,
            tags=tags,
        )
        deploy_plan.requests = build_requests(deploy_plan, subnets, groups, role)
        return deploy_plan

    # -- deploy ---------------------------------------------------------------------------

    def deploy(
        self,
        plan: DeployPlan,
        *,
        wait: bool = True,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        on_progress: Progress | None = None,
    ) -> Pod:
        """Create the POD a plan describes: record intent, create in ECS, wait, record.

        Raises:
            RefusedError: the plan breaks a rule, or its name is taken (exit 6).
            RemoteTimeoutError: the task was not running within ``timeout_s`` (the POD keeps
                starting in ECS; `sync` records the outcome).
            RemoteError / CredentialsError / NotFoundError: AWS failures, translated.
            KeyboardInterrupt: recorded in the journal first; `sync` completes or cleans up.
        """
        if not plan.validation.is_valid:
            raise RefusedError(f"refused ({plan.validation.summary()})")
        if timeout_s <= 0:
            raise UsageError("timeout must be positive", param="timeout")
        store = self.runtime.store
        est = plan.estimate
        row = {
            "pod_id": plan.pod_id,
            "name": plan.name,
            "status": PodStatus.CREATING.value,
            "owner": plan.owner,
            "plan": plan.plan,
            "offer_id": plan.offer.id,
            "provider": plan.offer.provider,
            "gpu_model": plan.offer.gpu_model,
            "gpu_count": plan.offer.gpu_count,
            "spot": int(plan.offer.spot),
            "offer_region": plan.offer.region,
            "price_per_hour_usd": est.price_per_hour_usd,
            "offer_price_per_hour_usd": est.breakdown_per_hour_usd["gpu_offer"],
            "fargate_price_per_hour_usd": round(
                est.breakdown_per_hour_usd["fargate_vcpu"]
                + est.breakdown_per_hour_usd["fargate_memory"],
                6,
            ),
            "budget_per_hour_usd": plan.budget_per_hour_usd,
            "budget_per_month_usd": plan.budget_per_month_usd,
            "image": plan.image,
            "cpu_units": plan.cpu_units,
            "memory_mib": plan.memory_mib,
            "region": plan.region,
            "cluster": plan.cluster,
            "service_name": plan.service_name,
            "log_group": plan.log_group,
            "config_id": plan.config_id,
            "config_name": plan.config_name,
            "offer_json": plan.offer.model_dump_json(),
            "deploy_request": json.dumps(plan.requests, sort_keys=True),
            "deploy_pid": os.getpid(),
            "deploy_host": socket.gethostname(),
        }
        store.insert_pod(
            row,
            kind="intent",
            message=f"deploy requested: {plan.offer.gpu_count}x {plan.offer.gpu_model} on "
            f"{plan.offer.provider}, est. ${est.price_per_hour_usd:.2f}/h",
        )
        self._audit("deploy", row, "requested", f"offer {plan.offer.id}")
        driver = self.driver(plan.region, plan.cluster)
        td_arn: str | None = None
        try:
            if driver.ensure_cluster():
                store.add_pod_event(plan.pod_id, "cluster", f"created ECS cluster {plan.cluster}")
            subnets, groups = driver.resolve_network(plan.subnets, plan.security_groups)
            role = plan.execution_role
            if not role.startswith("arn:"):
                role = ecs_mod.role_arn(role, account=driver.account_id(), region=plan.region)
            requests = build_requests(plan, subnets, groups, role)
            driver.ensure_log_group(plan.log_group, _log_tags(plan))
            td_arn = driver.register_task_definition(requests["register_task_definition"])
            store.update_pod(
                plan.pod_id,
                {
                    "task_definition_arn": td_arn,
                    "deploy_request": json.dumps(requests, sort_keys=True),
                },
                kind="task-definition",
                message=f"registered {td_arn.rsplit('/', 1)[-1]}",
                record=True,
            )
            service = driver.create_service(requests["create_service"])
            store.update_pod(
                plan.pod_id,
                {"status": PodStatus.STARTING.value, "service_arn": service.get("serviceArn")},
                kind="service",
                message=f"created ECS service {plan.service_name} (desiredCount 1)",
            )
        except KeyboardInterrupt:
            store.update_pod(
                plan.pod_id,
                {"deploy_pid": None},
                kind="interrupted",
                message="deploy interrupted while creating; `gpubroker pods sync` finishes "
                "or cleans up",
                record=True,
            )
            self._audit("deploy", row, "interrupted", "while creating")
            raise
        except GpubrokerError as exc:
            self._fail_creation(plan, driver, td_arn, exc)
            self._audit("deploy", row, "failed", exc.message)
            raise
        if not wait:
            store.update_pod(plan.pod_id, {"deploy_pid": None})
            self._audit("deploy", row, "ok", "created; not waiting")
            return self.get(plan.pod_id)
        try:
            self._wait(
                plan.pod_id, want=PodStatus.RUNNING, timeout_s=timeout_s, on_progress=on_progress
            )
        except KeyboardInterrupt:
            store.update_pod(
                plan.pod_id,
                {"deploy_pid": None},
                kind="interrupted",
                message="wait interrupted; the ECS service exists, `gpubroker pods sync` "
                "records its state",
                record=True,
            )
            self._audit("deploy", row, "interrupted", "while waiting")
            raise
        except GpubrokerError as exc:
            store.update_pod(plan.pod_id, {"deploy_pid": None, "last_error": exc.message})
            self._audit("deploy", row, "failed", exc.message)
            raise
        store.update_pod(plan.pod_id, {"deploy_pid": None})
        self._audit("deploy", row, "ok", "running")
        return self.get(plan.pod_id)

    def _fail_creation(
        self, plan: DeployPlan, driver: EcsDriver, td_arn: str | None, exc: GpubrokerError
    ) -> None:
        """Undo a half-made deploy (best effort) and mark it failed."""
        note = ""
        if td_arn:
            try:
                driver.deregister_task_definition(td_arn)
                note = "; task definition deregistered"
            except GpubrokerError:
                note = "; the task definition is left for `gpubroker pods sync`"
        self.runtime.store.update_pod(
            plan.pod_id,
            {"status": PodStatus.FAILED.value, "last_error": exc.message, "deploy_pid": None},
            kind="failed",
            message=f"deploy failed: {exc.message}{note}",
        )

    def _audit(self, action: str, row: dict[str, Any], outcome: str, message: str = "") -> None:
        self.runtime.store.record_audit(
            {
                "action": action,
                "pod_id": row["pod_id"],
                "name": row.get("name"),
                "actor": os_user(),
                "owner": row.get("owner"),
                "outcome": outcome,
                "price_per_hour_usd": row.get("price_per_hour_usd"),
                "message": message,
            }
        )

    # -- observing ------------------------------------------------------------------------

    def _observe_rows(self, rows: Sequence[dict[str, Any]]) -> dict[str, EcsService]:
        """ECS's view of each row's service, one batch per region and cluster."""
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault((row["region"], row["cluster"]), []).append(row)
        views: dict[str, EcsService] = {}
        now = self.runtime.now()
        for (region, cluster), members in groups.items():
            driver = self.driver(region, cluster)
            found = driver.observe([r["service_name"] for r in members], now=now)
            for r in members:
                views[r["pod_id"]] = found[r["service_name"]]
        return views

    def _apply(
        self, row: dict[str, Any], view: EcsService, *, kind: str = "observed"
    ) -> dict[str, Any]:
        """Record what ECS says about a POD; a state change becomes an event."""
        current = PodStatus(row["status"])
        new = derive_status(view, current)
        stamp = iso(view.observed_at)
        changes: dict[str, Any] = {"status": new.value, "last_synced_at": stamp}
        if view.exists:
            changes.update(
                desired_count=view.desired_count,
                running_count=view.running_count,
                pending_count=view.pending_count,
                service_arn=view.service_arn or row.get("service_arn"),
                task_arn=view.task_arn,
                public_ip=view.public_ip,
                private_ip=view.private_ip,
            )
        elif new in (PodStatus.DESTROYED, PodStatus.MISSING):
            changes.update(
                running_count=0, pending_count=0, task_arn=None, public_ip=None, private_ip=None
            )
        if new is PodStatus.RUNNING and current is not PodStatus.RUNNING:
            changes["started_at"] = stamp
        if new is PodStatus.STOPPED and current is not PodStatus.STOPPED:
            changes["stopped_at"] = stamp
        if new is PodStatus.DESTROYED and current is not PodStatus.DESTROYED:
            changes["destroyed_at"] = stamp
        if new is PodStatus.FAILED and view.rollout_reason:
            changes["last_error"] = view.rollout_reason
        if view.exists:
            message = f"ECS: {counts_text(view)}" + (
                f", {view.public_ip}" if view.public_ip else ""
            )
        elif new is PodStatus.MISSING:
            message = f"ECS has no service {row['service_name']} in {row['cluster']}"
        else:
            message = "ECS service is gone"
        return self.runtime.store.update_pod(row["pod_id"], changes, kind=kind, message=message)

    def _wait(
        self,
        pod_id: str,
        *,
        want: PodStatus,
        timeout_s: float,
        on_progress: Progress | None,
    ) -> dict[str, Any]:
        """Poll ECS until the POD is running (or stopped, or destroyed), recording each change."""
        deadline = self.monotonic() + timeout_s
        row = self._row(pod_id)
        driver = self._driver_for(row)
        last_reason: str | None = None
        while True:
            view = driver.observe([row["service_name"]], now=self.runtime.now())[
                row["service_name"]
            ]
            row = self._apply(row, view)
            status = PodStatus(row["status"])
            if status is want:
                return row
            if want is PodStatus.RUNNING:
                if status is PodStatus.FAILED:
                    reason = view.rollout_reason or driver.stopped_reason(row["service_name"])
                    self.runtime.store.update_pod(
                        pod_id,
                        {"last_error": reason or "deployment failed"},
                        kind="failed",
                        message=f"ECS: {reason or 'deployment failed'}",
                        record=True,
                    )
                    raise RemoteError(
                        "ecs",
                        f"POD {row['name']} failed to start: {reason or 'deployment failed'}",
                        hint=f"see `gpubroker pods logs {row['name']}` and "
                        f"`gpubroker pods show {row['name']}`",
                    )
                if status in (PodStatus.MISSING, PodStatus.DESTROYED):
                    raise NotFoundError(f"POD {row['name']}: its ECS service disappeared")
                if view.running_count == 0:
                    last_reason = driver.stopped_reason(row["service_name"]) or last_reason
            if want is PodStatus.DESTROYED and status is PodStatus.MISSING:
                return row
            if on_progress is not None:
                extra = f"; last task stopped: {last_reason}" if last_reason else ""
                on_progress(f"{row['name']}: {status.value}, {counts_text(view)}{extra}")
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                raise RemoteTimeoutError(
                    "ecs",
                    f"POD {row['name']} is not {want.value} after {timeout_s:g}s "
                    f"({counts_text(view)}"
                    + (f"; last task stopped: {last_reason}" if last_reason else "")
                    + ")",
                    hint="ECS keeps working on it: `gpubroker pods sync` records the outcome, "
                    f"`gpubroker pods destroy {row['name']}` removes it",
                )
            self.sleep(min(self.poll_s, remaining))

    # -- reading --------------------------------------------------------------------------

    def _row(self, ref: str) -> dict[str, Any]:
        store = self.runtime.store
        row = store.pod(ref) or store.live_pod_named(ref)
        if row is not None:
            return row
        rows = store.pods_named(ref)  # only failed or destroyed ones: the newest
        if rows:
            return rows[0]
        raise NotFoundError(
            f"no POD named {ref!r} or with that id in the journal",
            hint="`gpubroker pods list --all` lists them; `gpubroker pods sync --adopt` "
            "records PODs created elsewhere",
        )

    def get(self, ref: str) -> Pod:
        """A POD from the journal by name or id (no AWS call).

        Raises:
            NotFoundError: no such POD.
        """
        return pod_from_row(self._row(ref))

    def events(self, ref: str) -> list[PodEvent]:
        row = self._row(ref)
        return [event_from_row(e) for e in self.runtime.store.pod_events(row["pod_id"])]

    def list(
        self,
        *,
        statuses: Sequence[str] | None = None,
        remote: bool = False,
        local: bool = False,
        include_destroyed: bool = False,
    ) -> builtins.list[Pod]:
        """PODs in the journal, refreshed from ECS (changes are recorded).

        Args:
            statuses: only these states (after refreshing).
            remote: also PODs found in the profile's cluster by tag that this journal never
                recorded (``tracked=False``).
            local: do not ask ECS (the journal as last recorded).
            include_destroyed: also destroyed PODs.

        Raises:
            UsageError: an unknown status, or ``remote`` with ``local``.
        """
        wanted = check_statuses(statuses)
        if remote and local:
            raise UsageError("remote and local contradict each other", param=("remote", "local"))
        rows = journal = self.runtime.store.pods()
        if not include_destroyed and PodStatus.DESTROYED.value not in wanted:
            rows = [r for r in rows if r["status"] != PodStatus.DESTROYED.value]
        if not local:
            active = [r for r in rows if r["status"] != PodStatus.DESTROYED.value]
            views = self._observe_rows(active)
            refreshed = {r["pod_id"]: self._apply(r, views[r["pod_id"]]) for r in active}
            rows = [refreshed.get(r["pod_id"], r) for r in rows]
        pods = [pod_from_row(r) for r in rows]
        if remote:
            pods.extend(self._untracked({r["pod_id"] for r in journal}))
        if wanted:
            pods = [p for p in pods if p.status.value in wanted]
        return pods

    def _untracked(self, known: set[str]) -> builtins.list[Pod]:
        """PODs in the profile's cluster, by tag, that the journal does not know."""
        driver = self.driver()
        names = driver.pod_service_names()
        views = driver.observe(names, now=self.runtime.now())
        found = []
        for name in names:
            view = views[name]
            pod_id = view.tags.get(ecs_mod.TAG_POD_ID, "")
            if not pod_id or pod_id in known:
                continue
            found.append(self._pod_from_view(view, driver))
        return found

    def _pod_from_view(self, view: EcsService, driver: EcsDriver) -> Pod:
        tags = view.tags
        pod_id = tags.get(ecs_mod.TAG_POD_ID, view.service_name)
        return Pod(
            pod_id=pod_id,
            name=tags.get(ecs_mod.TAG_NAME) or pod_id,
            status=derive_status(view, PodStatus.STARTING),
            tracked=False,
            owner=tags.get(ecs_mod.TAG_OWNER),
            plan=tags.get(ecs_mod.TAG_PLAN),
            offer_id=tags.get(ecs_mod.TAG_OFFER),
            region=driver.region,
            cluster=driver.cluster,
            service_name=view.service_name,
            service_arn=view.service_arn,
            task_definition_arn=view.task_definition_arn,
            log_group=ecs_mod.log_group_name(pod_id),
            desired_count=view.desired_count,
            running_count=view.running_count,
            pending_count=view.pending_count,
            task_arn=view.task_arn,
            public_ip=view.public_ip,
            private_ip=view.private_ip,
            last_synced_at=view.observed_at,
        )

    def show(self, ref: str, *, local: bool = False) -> PodDetails:
        """One POD: journal row (refreshed from ECS unless ``local``), ECS view, history."""
        row = self._row(ref)
        view = None
        if not local and row["status"] != PodStatus.DESTROYED.value:
            view = self._observe_rows([row])[row["pod_id"]]
            row = self._apply(row, view)
        events = [event_from_row(e) for e in self.runtime.store.pod_events(row["pod_id"])]
        hours = running_hours(events, start=None, end=self.runtime.now())
        price = row.get("price_per_hour_usd") or 0.0
        return PodDetails(
            pod=pod_from_row(row),
            ecs=view,
            events=events,
            uptime_hours=round(hours, 4),
            estimated_cost_usd=round(hours * price, 4),
        )

    # -- operating ------------------------------------------------------------------------

    def _operable(self, ref: str, action: str) -> dict[str, Any]:
        row = self._row(ref)
        status = PodStatus(row["status"])
        if status is PodStatus.DESTROYED:
            raise RefusedError(f"POD {row['name']} ({row['pod_id']}) is destroyed")
        if status is PodStatus.CREATING:
            raise RefusedError(
                f"POD {row['name']} is still being created (or its deploy was interrupted)",
                hint="`gpubroker pods sync` finishes or cleans up interrupted deploys",
            )
        if status is PodStatus.FAILED and not row.get("service_arn") and action != "destroy":
            raise RefusedError(
                f"POD {row['name']} failed before its ECS service existed; nothing to {action}",
                hint=f"`gpubroker deploy` a new one; `gpubroker pods destroy {row['name']}` "
                "clears this one",
            )
        return row

    def start(
        self,
        ref: str,
        *,
        wait: bool = False,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        on_progress: Progress | None = None,
    ) -> Pod:
        """Run the POD's task again (desiredCount 1).

        Raises:
            RefusedError: a destroyed POD, or one still being created.
            NotFoundError: no such POD, or its service is gone from ECS.
        """
        return self._scale(
            ref, "start", 1, PodStatus.STARTING, PodStatus.RUNNING,
            wait=wait, timeout_s=timeout_s, on_progress=on_progress,
        )  # fmt: skip

    def stop(
        self,
        ref: str,
        *,
        wait: bool = False,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        on_progress: Progress | None = None,
    ) -> Pod:
        """Stop the POD's task but keep its service (desiredCount 0).

        Raises:
            RefusedError: a destroyed POD, or one still being created.
            NotFoundError: no such POD, or its service is gone from ECS.
        """
        return self._scale(
            ref, "stop", 0, PodStatus.STOPPING, PodStatus.STOPPED,
            wait=wait, timeout_s=timeout_s, on_progress=on_progress,
        )  # fmt: skip

    def _scale(
        self,
        ref: str,
        action: str,
        desired: int,
        moving: PodStatus,
        settled: PodStatus,
        *,
        wait: bool,
        timeout_s: float,
        on_progress: Progress | None,
    ) -> Pod:
        """Start or stop: set the service's desiredCount, journal it, audit it, maybe wait."""
        row = self._operable(ref, action)
        driver = self._driver_for(row)
        driver.set_desired_count(row["service_name"], desired)
        row = self.runtime.store.update_pod(
            row["pod_id"],
            {"status": moving.value, "desired_count": desired},
            kind=action,
            message=f"{action} requested (desiredCount {desired})",
            record=True,
        )
        self._audit(action, row, "ok")
        if wait:
            self._wait(row["pod_id"], want=settled, timeout_s=timeout_s, on_progress=on_progress)
        return self.get(row["pod_id"])

    def destroy(
        self,
        ref: str,
        *,
        wait: bool = False,
        purge_logs: bool = False,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        on_progress: Progress | None = None,
    ) -> Pod:
        """Delete the POD's service and deregister its task definition (the log group is
        kept unless ``purge_logs``).

        Raises:
            RefusedError: a POD still being created.
            NotFoundError: no such POD.
        """
        row = self._row(ref)
        if row["status"] == PodStatus.DESTROYED.value and not purge_logs:
            return pod_from_row(row)
        if row["status"] == PodStatus.CREATING.value:
            self._operable(ref, "destroy")
        row = self.runtime.store.update_pod(
            row["pod_id"],
            {"status": PodStatus.DESTROYING.value, "desired_count": 0},
            kind="destroy",
            message="destroy requested" + (" (logs too)" if purge_logs else ""),
            record=True,
        )
        try:
            self._teardown(row, purge_logs=purge_logs)
        except GpubrokerError as exc:
            self._audit("destroy", row, "failed", exc.message)
            raise
        if wait:
            self._wait(
                row["pod_id"],
                want=PodStatus.DESTROYED,
                timeout_s=timeout_s,
                on_progress=on_progress,
            )
        row = self.runtime.store.update_pod(
            row["pod_id"],
            {
                "status": PodStatus.DESTROYED.value,
                "destroyed_at": iso(self.runtime.now()),
                "running_count": 0,
                "pending_count": 0,
                "task_arn": None,
                "public_ip": None,
                "private_ip": None,
            },
            kind="destroyed",
            message="service deleted, task definition deregistered"
            + ("; log group deleted" if purge_logs else "; log group kept"),
        )
        self._audit("destroy", row, "ok")
        return pod_from_row(row)

    def _teardown(self, row: dict[str, Any], *, purge_logs: bool) -> None:
        driver = self._driver_for(row)
        with contextlib.suppress(NotFoundError):  # already gone: that is the goal
            driver.delete_service(row["service_name"])
        self._deregister_task_definitions(row, driver)
        if purge_logs and row.get("log_group"):
            driver.delete_log_group(row["log_group"])

    @staticmethod
    def _deregister_task_definitions(row: dict[str, Any], driver: EcsDriver) -> set[str]:
        """Deregister every task definition of the POD's family (and the one it recorded);
        the ARNs tried."""
        arns = set(driver.task_definition_arns(row["service_name"]))
        if row.get("task_definition_arn"):
            arns.add(row["task_definition_arn"])
        for arn in sorted(arns):
            with contextlib.suppress(NotFoundError):  # already gone: that is the goal
                driver.deregister_task_definition(arn)
        return arns

    # -- logs and metrics -----------------------------------------------------------------

    def logs(
        self, ref: str, *, since: str | float | None = None, tail: int | None = None
    ) -> builtins.list[LogEvent]:
        """The POD's CloudWatch log lines, oldest first.

        Args:
            since: only lines newer than this (``10m``, ``2h``, ``7d`` or seconds).
            tail: only the last N lines.

        Raises:
            UsageError: a bad ``since`` or ``tail``.
            NotFoundError: no such POD, or it has not logged anything yet.
        """
        if tail is not None and tail < 1:
            raise UsageError("tail must be at least 1", param="tail")
        start = self._since(since)
        row = self._row(ref)
        driver = self._driver_for(row)
        group = row.get("log_group") or ecs_mod.log_group_name(row["pod_id"])
        try:
            events = list(driver.log_events(group, start=start))
        except NotFoundError:
            raise NotFoundError(
                f"POD {row['name']} has no logs yet (log group {group} does not exist)"
            ) from None
        return events[-tail:] if tail else events

    def follow_logs(
        self,
        ref: str,
        *,
        since: str | float | None = None,
        tail: int | None = None,
        poll_s: float = FOLLOW_POLL_S,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[LogEvent]:
        """The lines `logs` gives, then new ones as they arrive, until ``stop()`` is true
        (checked after each poll) or forever. A log group that does not exist yet is waited
        for."""
        row = self._row(ref)
        driver = self._driver_for(row)
        group = row.get("log_group") or ecs_mod.log_group_name(row["pod_id"])
        try:
            initial = self.logs(ref, since=since, tail=tail)
        except NotFoundError:
            initial = []
        yield from initial
        start = initial[-1].timestamp if initial else self._since(since)
        start = start or self.runtime.now()
        # startTime is inclusive: lines at the last timestamp come again and are skipped.
        seen = {log_key(e) for e in initial if e.timestamp >= start}
        while True:
            if stop is not None and stop():
                return
            self.sleep(poll_s)
            try:
                batch = list(driver.log_events(group, start=start))
            except NotFoundError:
                batch = []
            for event in batch:
                if log_key(event) not in seen:
                    yield event
            if batch:
                start = batch[-1].timestamp
                seen = {log_key(e) for e in batch if e.timestamp >= start}

    def _since(self, since: str | float | None) -> datetime | None:
        if since is None or since == "":
            return None
        seconds = since if isinstance(since, (int, float)) else parse_duration_s(since)
        if seconds is None or not math.isfinite(seconds) or seconds <= 0:
            raise UsageError(
                f"since: expected a duration such as 10m, 2h or 7d, got {since!r}", param="since"
            )
        return self.runtime.now() - timedelta(seconds=seconds)

    def metrics(self, ref: str, *, since: str | float = "1h") -> builtins.list[MetricPoint]:
        """AWS/ECS CPU and memory utilisation of the POD's service, oldest first.

        The period is chosen to give at most about 120 points (at least 60 s).
        """
        start = self._since(since)
        assert start is not None
        row = self._row(ref)
        end = self.runtime.now()
        span = (end - start).total_seconds()
        period = max(60, math.ceil(span / 120 / 60) * 60)
        return self._driver_for(row).utilisation(
            row["service_name"], start=start, end=end, period_s=period
        )

    # -- sync and costs -------------------------------------------------------------------

    def sync(self, *, adopt: bool = False) -> builtins.list[SyncLine]:
        """Bring the journal in line with ECS (see `gpubroker.pods.reconcile`).

        Args:
            adopt: record PODs found in the cluster by tag that the journal lacks.
        """
        from gpubroker.pods.reconcile import Reconciler

        return Reconciler(self).sync(adopt=adopt)

    def costs(self, *, since: str | float = "30d", local: bool = False) -> CostReport:
        """Each POD's estimated cost (hourly estimate × running hours) over the window,
        beside Cost Explorer's ECS cost for its ``gpubroker:pod-id`` tag.

        Args:
            since: the window (``30d``, ``12h``...), ending now.
            local: skip Cost Explorer (estimates only).
        """
        from gpubroker.pods.costs import cost_report

        return cost_report(self, since=since, local=local)


def config_query(cfg: PodConfig) -> Query:
    """The search a config stands for (exact GPU count; minimums for the rest)."""
    return Query(
        gpus=[cfg.gpu_type] if cfg.gpu_type else [],
        min_gpus=cfg.gpu_count,
        max_gpus=cfg.gpu_count,
        min_vram_gib=cfg.gpu_memory_gib,
        providers=[cfg.provider] if cfg.provider else [],
        regions=[cfg.region] if cfg.region else [],
        spot=cfg.spot_instance,
        min_vcpus=cfg.vcpus,
        min_ram_gib=cfg.ram_gib,
        min_disk_gib=cfg.storage_gib,
        max_price_usd=cfg.max_spot_price_usd if cfg.spot_instance else None,
        available_only=True,
    )


def build_requests(
    plan: DeployPlan, subnets: Sequence[str], groups: Sequence[str], role: str
) -> dict[str, Any]:
    """The exact ``register_task_definition`` and ``create_service`` requests of a plan."""
    return {
        "register_task_definition": ecs_mod.task_definition_request(
            family=plan.task_family,
            image=plan.image,
            cpu_units=plan.cpu_units,
            memory_mib=plan.memory_mib,
            environment=plan.environment,
            log_group=plan.log_group,
            region=plan.region,
            execution_role_arn=role,
            tags=plan.tags,
        ),
        "create_service": ecs_mod.service_request(
            cluster=plan.cluster,
            service=plan.service_name,
            family=plan.task_family,
            subnets=subnets,
            security_groups=groups,
            tags=plan.tags,
        ),
    }


def _log_tags(plan: DeployPlan) -> dict[str, str]:
    return {k: ecs_mod.tag_value(v) for k, v in plan.tags.items() if v}


__all__ = ["PodService", "PodSettings", "Selection", "build_requests", "config_query"]
