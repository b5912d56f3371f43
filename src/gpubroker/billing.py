"""Plans, the subscription flow, and cost maths: pure, no I/O.

`PLANS` is the hosted backend's plan table (admin-api.md §2.2), built in so that `gpubroker
plans` answers offline and the CLI can check a plan name and its price before any request.
The cost formulas mirror the backend's (§5.6, §6.3) so that local estimates and the
operator's cost view agree.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from gpubroker.errors import UsageError


class PlanInfo(NamedTuple):
    """One plan: its display name (as the backend shows it), price and monthly tokens."""

    display_name: str
    price_usd_month: float
    tokens: int


#: plan → (display name, USD per month, tokens per month), as the backend defines them.
PLANS: dict[str, PlanInfo] = {
    "trial": PlanInfo("Prueba Gratuita", 0.00, 1_000),
    "basic": PlanInfo("Básico", 20.00, 5_000),
    "pro": PlanInfo("Profesional", 40.00, 10_000),
    "corp": PlanInfo("Corporativo", 99.00, 50_000),
    "enterprise": PlanInfo("Enterprise", 299.00, 200_000),
}

#: Where a plan table came from.
SOURCE_API = "api"
SOURCE_BUILT_IN = "built-in"

#: The backend's subscription statuses, and the local ones before it knows the subscription.
STATUS_PENDING_PAYMENT = "pending_payment"  # local: drafted by `subscribe`, not paid yet
STATUS_PAID = "paid"  # local: payment captured, subscription not created yet
STATUS_PENDING_ACTIVATION = "pending_activation"
STATUS_PROVISIONING = "provisioning"
RUNNING_STATUSES = frozenset({"running", "active"})
FAILED_STATUSES = frozenset({"failed", "destroyed", "expired"})

#: The backend's progress figure per status (anything else: 0).
PROGRESS_PERCENT = {"pending_activation": 0, "provisioning": 50, "running": 100, "active": 100}

#: Countries whose subscriptions need a tax id, and what it is called there.
TAX_ID_COUNTRIES = {"EC": "RUC/Cédula"}

HOURS_PER_DAY = 24
HOURS_PER_MONTH = 720  # 24 × 30, as the backend counts a month
SPOT_FACTOR = 0.4  # the backend prices spot capacity at 40 % of on-demand

#: AWS Fargate us-east-1 prices and the POD size the backend's cost view assumes (§5.6).
FARGATE_VCPU_HOUR_USD = 0.04048
FARGATE_GB_HOUR_USD = 0.004445
POD_VCPU = 0.25
POD_MEMORY_GIB = 0.5
OTHER_MONTHLY_COSTS_USD = 10.0


def plan_info(plan: str) -> PlanInfo:
    """The built-in entry of a plan.

    Raises:
        UsageError: an unknown plan, naming the valid ones. (The backend silently stores
            unknown plan names with the ``pro`` limits; gpubroker refuses them instead.)
    """
    key = plan.strip().lower()
    if key not in PLANS:
        raise UsageError(
            f"plan must be one of {', '.join(PLANS)}, not {plan!r}",
            param="plan",
            hint="see `gpubroker plans`",
        )
    return PLANS[key]


def normalise_plan(plan: str) -> str:
    """The plan's canonical name (lower case); raises like `plan_info`."""
    plan_info(plan)
    return plan.strip().lower()


def requires_payment(plan: str) -> bool:
    """True when the plan costs money (every plan but ``trial``)."""
    return plan_info(plan).price_usd_month > 0


def plan_rows(source: str = SOURCE_BUILT_IN) -> list[dict[str, object]]:
    """The built-in table as rows (``plan, display_name, price_usd_month, tokens, source``)."""
    return [
        {
            "plan": name,
            "display_name": info.display_name,
            "price_usd_month": info.price_usd_month,
            "tokens": info.tokens,
            "source": source,
        }
        for name, info in PLANS.items()
    ]


def tax_id_label(country: str | None) -> str | None:
    """What the tax id is called in ``country``, or None when none is required."""
    return TAX_ID_COUNTRIES.get((country or "").upper())


def progress_percent(status: str | None) -> int:
    """The backend's progress figure for a subscription status (0, 50 or 100)."""
    return PROGRESS_PERCENT.get(status or "", 0)


def next_step(status: str | None) -> str | None:
    """The command that moves a subscription forward from ``status``, if any."""
    return {
        STATUS_PENDING_PAYMENT: "gpubroker pay paypal",
        STATUS_PAID: "gpubroker pay capture ORDER_ID",
        STATUS_PENDING_ACTIVATION: "gpubroker activate",
        STATUS_PROVISIONING: "gpubroker status --watch",
    }.get(status or "")


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{name} must be a finite number >= 0, not {value}", param=name)
    return value


def per_day(price_per_hour_usd: float) -> float:
    """Hourly price × 24."""
    return _finite(price_per_hour_usd, "price_per_hour_usd") * HOURS_PER_DAY


def per_month(price_per_hour_usd: float) -> float:
    """Hourly price × 720 (30 days of 24 hours, as the backend counts)."""
    return _finite(price_per_hour_usd, "price_per_hour_usd") * HOURS_PER_MONTH


def spot_price(price_per_hour_usd: float) -> float:
    """The backend's spot estimate: 40 % of the on-demand price (a 60 % discount)."""
    return _finite(price_per_hour_usd, "price_per_hour_usd") * SPOT_FACTOR


def fargate_pod_month_usd(
    vcpu: float = POD_VCPU, memory_gib: float = POD_MEMORY_GIB, hours: float = HOURS_PER_MONTH
) -> float:
    """What one POD costs on Fargate for ``hours`` (default a 720-hour month): 8.8866 USD."""
    _finite(vcpu, "vcpu")
    _finite(memory_gib, "memory_gib")
    _finite(hours, "hours")
    return hours * (vcpu * FARGATE_VCPU_HOUR_USD + memory_gib * FARGATE_GB_HOUR_USD)


def cost_summary(active_pods: int, revenue_usd: float) -> dict[str, float | int | bool]:
    """The operator's monthly cost view, as the backend's ``/admin/costs`` computes it.

    Args:
        active_pods: PODs running, active or provisioning.
        revenue_usd: revenue of every subscription, all time (as the backend sums it).

    Returns:
        ``aws_costs_usd``, ``other_costs_usd``, ``total_costs_usd``, ``profit_usd``,
        ``margin_percent`` (1 dp, 0 without revenue), ``is_profitable``, ``total_hours``.
    """
    if active_pods < 0:
        raise UsageError("active_pods must be >= 0", param="active_pods")
    _finite(revenue_usd, "revenue_usd")
    aws = active_pods * fargate_pod_month_usd()
    total = aws + OTHER_MONTHLY_COSTS_USD
    profit = revenue_usd - total
    margin = round(profit / revenue_usd * 100, 1) if revenue_usd else 0.0
    return {
        "aws_costs_usd": round(aws, 2),
        "other_costs_usd": OTHER_MONTHLY_COSTS_USD,
        "total_costs_usd": round(total, 2),
        "profit_usd": round(profit, 2),
        "margin_percent": margin,
        "is_profitable": profit > 0,
        "total_hours": active_pods * HOURS_PER_MONTH,
    }


__all__ = [
    "HOURS_PER_MONTH",
    "PLANS",
    "PlanInfo",
    "cost_summary",
    "fargate_pod_month_usd",
    "next_step",
    "normalise_plan",
    "per_day",
    "per_month",
    "plan_info",
    "plan_rows",
    "progress_percent",
    "requires_payment",
    "spot_price",
    "tax_id_label",
]
