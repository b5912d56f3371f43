"""Provider and plan limits a POD must respect, and the budget rule (pure).

Provider limits bound what a POD config may ask of a provider: GPUs per machine and, where
the provider publishes them, the vCPU and RAM of its largest machine. They come from each
provider's largest GPU instance type on its pricing page or API (checked 2026-08); a
provider missing from the table is not limited here.

Plan limits apply when a subscription is recorded for the profile (or ``plan`` is given on
deploy). They are gpubroker's own policy, documented in the README:

============ ====== ============ ============ =========== ===========
plan         PODs   GPUs / POD   agent vCPU   agent GB    $/h cap
============ ====== ============ ============ =========== ===========
trial        1      1            1            2           1.50
basic        1      1            1            4           4.00
pro          3      8            4            16          60.00
corp         10     16           8            60          200.00
enterprise   50     16           16           120         none
============ ====== ============ ============ =========== ===========

"PODs" counts the owner's PODs that are not failed or destroyed; the $/h cap applies to the
whole POD estimate (GPU offer plus Fargate agent). An unknown plan name of a recorded
subscription gets the ``pro`` limits, as the hosted backend does.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpubroker.errors import UsageError
from gpubroker.models import Offer
from gpubroker.pods.models import Estimate, ValidationIssue

FALLBACK_PLAN = "pro"


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    """What one provider's machines can have (None: not published, not checked)."""

    provider: str
    max_gpus: int
    max_vcpus: float | None = None
    max_ram_gib: float | None = None
    min_gpus: int = 1


PROVIDER_LIMITS: dict[str, ProviderLimits] = {
    limits.provider: limits
    for limits in (
        ProviderLimits("aws", 8, 192, 2048),  # p5.48xlarge, p4de.24xlarge
        ProviderLimits("azure", 8, 96, 1900),  # ND H100 v5, NDm A100 v4
        ProviderLimits("gcp", 16, 224, 2952),  # a2-megagpu-16g; a3-ultragpu-8g
        ProviderLimits("lambda", 8, 240, 2900),  # 8x B200 / 8x H100 SXM
        ProviderLimits("runpod", 8),  # pods rent up to 8 GPUs
        ProviderLimits("vastai", 16),  # marketplace hosts list up to 16 GPUs
        ProviderLimits("verda", 8),
        ProviderLimits("vultr", 16),  # vcg-a16-96c-960g-256vram: 16x A16 (4 boards of 4)
        ProviderLimits("hyperstack", 8),
        ProviderLimits("tensordock", 8),
    )
}


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What one plan allows (None: no cap)."""

    plan: str
    max_pods: int
    max_gpus_per_pod: int
    max_cpu_units: int
    max_memory_mib: int
    max_price_per_hour_usd: float | None


PLAN_LIMITS: dict[str, PlanLimits] = {
    limits.plan: limits
    for limits in (
        PlanLimits("trial", 1, 1, 1024, 2048, 1.50),
        PlanLimits("basic", 1, 1, 1024, 4096, 4.00),
        PlanLimits("pro", 3, 8, 4096, 16384, 60.00),
        PlanLimits("corp", 10, 16, 8192, 61440, 200.00),
        PlanLimits("enterprise", 50, 16, 16384, 122880, None),
    )
}
PLAN_NAMES: tuple[str, ...] = tuple(PLAN_LIMITS)


def check_plan_name(plan: str) -> str:
    """The plan name, lower-cased, or UsageError listing the plans."""
    name = plan.strip().lower()
    if name not in PLAN_LIMITS:
        # no param: the message names plans, and the CLI would turn each "plan" into "--plan"
        raise UsageError(f"unknown plan {plan!r}; plans: {', '.join(PLAN_NAMES)}")
    return name


def plan_limits(plan: str) -> PlanLimits:
    """The limits of a plan; unknown names get the ``pro`` limits (as the backend does)."""
    return PLAN_LIMITS.get(plan.strip().lower(), PLAN_LIMITS[FALLBACK_PLAN])


def check_request(
    provider: str | None,
    *,
    gpu_count: int | None = None,
    vcpus: float | None = None,
    ram_gib: float | None = None,
) -> list[ValidationIssue]:
    """What a config asks of a provider, against that provider's limits."""
    limits = PROVIDER_LIMITS.get(provider or "")
    if limits is None:
        return []
    issues = []
    rule = "provider_limits"
    if gpu_count is not None and not limits.min_gpus <= gpu_count <= limits.max_gpus:
        issues.append(
            ValidationIssue(
                rule=rule,
                message=f"{provider} machines have {limits.min_gpus}–{limits.max_gpus} GPUs; "
                f"{gpu_count} asked",
            )
        )
    if vcpus is not None and limits.max_vcpus is not None and vcpus > limits.max_vcpus:
        issues.append(
            ValidationIssue(
                rule=rule,
                message=f"{provider} machines have at most {limits.max_vcpus:g} vCPUs; "
                f"{vcpus:g} asked",
            )
        )
    if ram_gib is not None and limits.max_ram_gib is not None and ram_gib > limits.max_ram_gib:
        issues.append(
            ValidationIssue(
                rule=rule,
                message=f"{provider} machines have at most {limits.max_ram_gib:g} GiB RAM; "
                f"{ram_gib:g} asked",
            )
        )
    return issues


def check_offer(
    offer: Offer,
    *,
    gpu_count: int | None = None,
    vcpus: float | None = None,
    ram_gib: float | None = None,
) -> list[ValidationIssue]:
    """The chosen offer against its provider's limits and against what was asked."""
    issues = check_request(offer.provider, gpu_count=offer.gpu_count)
    if gpu_count is not None and offer.gpu_count != gpu_count:
        issues.append(
            ValidationIssue(
                rule="offer",
                message=f"offer {offer.id} has {offer.gpu_count} GPUs; {gpu_count} asked",
            )
        )
    if vcpus is not None and offer.vcpus is not None and offer.vcpus < vcpus:
        issues.append(
            ValidationIssue(
                rule="offer",
                message=f"offer {offer.id} has {offer.vcpus:g} vCPUs; at least {vcpus:g} asked",
            )
        )
    if ram_gib is not None and offer.ram_gib is not None and offer.ram_gib < ram_gib:
        issues.append(
            ValidationIssue(
                rule="offer",
                message=f"offer {offer.id} has {offer.ram_gib:g} GiB RAM; at least "
                f"{ram_gib:g} asked",
            )
        )
    return issues


def check_plan(
    plan: str,
    *,
    estimate: Estimate,
    active_pods: int,
    owner: str,
) -> list[ValidationIssue]:
    """A deploy against the plan's limits (``active_pods``: the owner's live PODs now)."""
    limits = plan_limits(plan)
    name = plan.strip().lower()
    rule = "plan"
    issues = []
    if active_pods + 1 > limits.max_pods:
        issues.append(
            ValidationIssue(
                rule=rule,
                message=f"plan {name} allows {limits.max_pods} POD(s); {owner} already has "
                f"{active_pods}",
            )
        )
    if estimate.gpu_count > limits.max_gpus_per_pod:
        issues.append(
            ValidationIssue(
                rule=rule,
                message=f"plan {name} allows {limits.max_gpus_per_pod} GPU(s) per POD; the "
                f"offer has {estimate.gpu_count}",
            )
        )
    if estimate.cpu_units > limits.max_cpu_units:
        issues.append(
            ValidationIssue(
                rule=rule,
                message=f"plan {name} allows agent CPU up to {limits.max_cpu_units} units; "
                f"{estimate.cpu_units} asked",
            )
        )
    if estimate.memory_mib > limits.max_memory_mib:
        issues.append(
            ValidationIssue(
                rule=rule,
                message=f"plan {name} allows agent memory up to "
                f"{limits.max_memory_mib / 1024:g} GB; {estimate.memory_mib / 1024:g} GB asked",
            )
        )
    cap = limits.max_price_per_hour_usd
    if cap is not None and estimate.price_per_hour_usd > cap:
        issues.append(
            ValidationIssue(
                rule=rule,
                message=f"plan {name} caps a POD at ${cap:.2f}/h; this one is estimated at "
                f"${estimate.price_per_hour_usd:.2f}/h",
            )
        )
    return issues


def check_budget(
    estimate: Estimate, *, per_hour_usd: float | None, per_month_usd: float | None
) -> list[ValidationIssue]:
    """The estimate against an hourly and/or monthly (720 h) budget."""
    issues = []
    if per_hour_usd is not None and estimate.price_per_hour_usd > per_hour_usd:
        issues.append(
            ValidationIssue(
                rule="budget",
                message=f"estimated ${estimate.price_per_hour_usd:,.2f}/h exceeds the budget "
                f"of ${per_hour_usd:,.2f}/h",
            )
        )
    if per_month_usd is not None and estimate.price_per_month_usd > per_month_usd:
        issues.append(
            ValidationIssue(
                rule="budget",
                message=f"estimated ${estimate.price_per_month_usd:,.2f}/month exceeds the "
                f"budget of ${per_month_usd:,.2f}/month",
            )
        )
    return issues
