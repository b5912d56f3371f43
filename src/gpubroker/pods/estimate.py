"""POD cost estimates and budgets (pure math).

A POD costs its GPU offer's price plus the Fargate task that runs the agent. Day and month
follow the hosted backend: ``hour × 24`` and ``hour × 720``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from gpubroker.billing import HOURS_PER_DAY, HOURS_PER_MONTH
from gpubroker.errors import UsageError
from gpubroker.models import Offer
from gpubroker.pods import fargate
from gpubroker.pods.models import Budget, Estimate

_BUDGET_PART = re.compile(r"^\$?\s*(\d+(?:\.\d+)?)\s*(?:/\s*(h|hr|hour|mo|month))?$", re.IGNORECASE)


def spot_counterpart(offer: Offer, candidates: Sequence[Offer]) -> Offer | None:
    """The cheapest offer of the other kind (spot vs on-demand) for the same machine:
    same provider, GPU model, GPU count and region."""
    same = [
        o
        for o in candidates
        if o.spot != offer.spot
        and o.provider == offer.provider
        and o.gpu_model == offer.gpu_model
        and o.gpu_count == offer.gpu_count
        and o.region == offer.region
    ]
    return min(same, key=lambda o: (o.price_per_hour_usd, o.id)) if same else None


def estimate(
    offer: Offer,
    *,
    cpu_units: int,
    memory_mib: int,
    candidates: Sequence[Offer] = (),
) -> Estimate:
    """The hourly, daily and monthly cost of a POD on ``offer`` with an agent of this size.

    Args:
        offer: the GPU offer the POD manages.
        cpu_units: Fargate CPU units of the agent task.
        memory_mib: Fargate memory of the agent task.
        candidates: other offers seen with it, to find a spot/on-demand counterpart.
    """
    vcpu_usd, memory_usd = fargate.hourly_usd(cpu_units, memory_mib)
    hourly = offer.price_per_hour_usd + vcpu_usd + memory_usd
    counterpart = spot_counterpart(offer, candidates)
    savings = None
    if counterpart is not None:
        spot_price = offer.price_per_hour_usd if offer.spot else counterpart.price_per_hour_usd
        on_demand = counterpart.price_per_hour_usd if offer.spot else offer.price_per_hour_usd
        savings = max(0.0, on_demand - spot_price)
    return Estimate(
        offer_id=offer.id,
        provider=offer.provider,
        gpu_model=offer.gpu_model,
        gpu_count=offer.gpu_count,
        spot=offer.spot,
        region=offer.region,
        offer_source=offer.source.value,
        offer_observed_at=offer.observed_at,
        cpu_units=cpu_units,
        memory_mib=memory_mib,
        price_per_hour_usd=round(hourly, 6),
        price_per_day_usd=round(hourly * HOURS_PER_DAY, 4),
        price_per_month_usd=round(hourly * HOURS_PER_MONTH, 4),
        breakdown_per_hour_usd={
            "gpu_offer": round(offer.price_per_hour_usd, 6),
            "fargate_vcpu": round(vcpu_usd, 6),
            "fargate_memory": round(memory_usd, 6),
        },
        spot_counterpart_offer_id=counterpart.id if counterpart else None,
        spot_counterpart_price_per_hour_usd=(
            counterpart.price_per_hour_usd if counterpart else None
        ),
        spot_savings_per_hour_usd=round(savings, 6) if savings is not None else None,
        spot_savings_per_month_usd=(
            round(savings * HOURS_PER_MONTH, 4) if savings is not None else None
        ),
    )


def parse_budget(text: str) -> Budget:
    """``5/h``, ``3000/month`` (or ``/mo``), both comma-separated, or a bare number (per month).

    Raises:
        UsageError: anything else, or a budget that is not a positive finite amount.
    """
    per_hour: float | None = None
    per_month: float | None = None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise UsageError("budget is empty; write e.g. 5/h or 3000/month", param="budget")
    for part in parts:
        match = _BUDGET_PART.match(part)
        if not match:
            raise UsageError(
                f"budget {part!r}: write an amount per hour or per month, e.g. 5/h or "
                "3000/month (a bare number is per month)",
                param="budget",
            )
        amount = float(match.group(1))
        if not math.isfinite(amount) or amount <= 0:
            raise UsageError(f"budget {part!r} must be a positive amount", param="budget")
        if (match.group(2) or "month").lower().startswith("h"):
            per_hour = amount
        else:
            per_month = amount
    return Budget(per_hour_usd=per_hour, per_month_usd=per_month)


def format_budget(per_hour_usd: float | None, per_month_usd: float | None) -> str:
    """``$5.00/h, $3,000.00/month`` (empty when no budget)."""
    parts = []
    if per_hour_usd is not None:
        parts.append(f"${per_hour_usd:,.2f}/h")
    if per_month_usd is not None:
        parts.append(f"${per_month_usd:,.2f}/month")
    return ", ".join(parts)
