"""Estimates, budgets, provider and plan limits (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gpubroker.errors import UsageError
from gpubroker.models import Availability, Offer
from gpubroker.pods import limits
from gpubroker.pods.estimate import estimate, format_budget, parse_budget

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def offer(
    price: float = 4.0,
    *,
    spot: bool = False,
    count: int = 1,
    provider: str = "gcp",
    region: str | None = "us-central1",
    oid: str | None = None,
) -> Offer:
    return Offer(
        id=oid or f"{provider}:x{count}:{region}:{'spot' if spot else 'ondemand'}",
        provider=provider,
        gpu_model="H100-SXM",
        gpu_name_raw="H100",
        gpu_count=count,
        vcpus=26,
        ram_gib=234,
        price_per_hour_usd=price,
        price_per_gpu_hour_usd=price / count,
        spot=spot,
        region=region,
        availability=Availability.AVAILABLE,
        observed_at=NOW,
    )


def test_day_and_month_are_hour_times_24_and_720() -> None:
    est = estimate(offer(4.0), cpu_units=1024, memory_mib=2048)
    fargate_h = 0.04048 + 2 * 0.004445
    assert est.breakdown_per_hour_usd == {
        "gpu_offer": 4.0,
        "fargate_vcpu": 0.04048,
        "fargate_memory": 0.00889,
    }
    assert est.price_per_hour_usd == pytest.approx(4.0 + fargate_h)
    assert est.price_per_day_usd == pytest.approx(est.price_per_hour_usd * 24, abs=1e-4)
    assert est.price_per_month_usd == pytest.approx(est.price_per_hour_usd * 720, abs=1e-4)
    assert est.spot_savings_per_hour_usd is None


def test_on_demand_offer_shows_what_spot_would_save() -> None:
    od = offer(11.06)
    candidates = [
        od,
        offer(4.42, spot=True),
        offer(5.0, spot=True, oid="gcp:other:spot"),
        offer(1.0, spot=True, region="us-east4"),
    ]
    est = estimate(od, cpu_units=1024, memory_mib=2048, candidates=candidates)
    assert est.spot_counterpart_offer_id == "gcp:x1:us-central1:spot"
    assert est.spot_savings_per_hour_usd == pytest.approx(6.64)
    assert est.spot_savings_per_month_usd == pytest.approx(6.64 * 720)


def test_spot_offer_shows_what_it_saves_over_on_demand() -> None:
    sp = offer(4.42, spot=True)
    est = estimate(sp, cpu_units=256, memory_mib=512, candidates=[sp, offer(11.06)])
    assert est.spot and est.spot_savings_per_hour_usd == pytest.approx(6.64)


def test_counterpart_must_be_the_same_machine() -> None:
    od = offer(11.0)
    others = [offer(2.0, spot=True, count=8), offer(2.0, spot=True, provider="aws")]
    assert (
        estimate(od, cpu_units=256, memory_mib=512, candidates=others).spot_savings_per_hour_usd
        is None
    )


@pytest.mark.parametrize(
    ("text", "hour", "month"),
    [
        ("5/h", 5.0, None),
        ("3000/month", None, 3000.0),
        ("3000", None, 3000.0),
        ("$2.5/hour, 1500/mo", 2.5, 1500.0),
        ("7/HR", 7.0, None),
    ],
)
def test_budget_syntax(text: str, hour: float | None, month: float | None) -> None:
    budget = parse_budget(text)
    assert (budget.per_hour_usd, budget.per_month_usd) == (hour, month)


@pytest.mark.parametrize("text", ["", "five", "5/week", "-3/h", "0/h", "nan/h", "inf", "1e400"])
def test_bad_budget_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_budget(text)
    assert err.value.param == "budget"


def test_budget_rule_names_the_period() -> None:
    est = estimate(offer(4.0), cpu_units=1024, memory_mib=2048)
    assert limits.check_budget(est, per_hour_usd=5, per_month_usd=None) == []
    hour = limits.check_budget(est, per_hour_usd=3, per_month_usd=None)
    month = limits.check_budget(est, per_hour_usd=None, per_month_usd=1000)
    assert [i.rule for i in hour + month] == ["budget", "budget"]
    assert "/h" in hour[0].message and "/month" in month[0].message
    assert format_budget(3, 1000) == "$3.00/h, $1,000.00/month"


def test_provider_limits() -> None:
    assert limits.check_request("lambda", gpu_count=8) == []
    too_many = limits.check_request("lambda", gpu_count=16, vcpus=500, ram_gib=9000)
    assert [i.rule for i in too_many] == ["provider_limits"] * 3
    assert "1–8 GPUs" in too_many[0].message
    assert limits.check_request("gcp", gpu_count=16) == []
    assert limits.check_request("unknown-provider", gpu_count=64) == []


def test_offer_must_satisfy_what_was_asked() -> None:
    o = offer(4.0, count=2)
    issues = limits.check_offer(o, gpu_count=1, vcpus=64, ram_gib=512)
    assert [i.rule for i in issues] == ["offer", "offer", "offer"]
    assert limits.check_offer(o, gpu_count=2, vcpus=8, ram_gib=64) == []


def test_every_catalog_offer_is_within_its_providers_limits() -> None:
    from gpubroker.providers.catalog import load_catalog

    for o in load_catalog():
        assert (
            limits.check_request(
                o.provider, gpu_count=o.gpu_count, vcpus=o.vcpus, ram_gib=o.ram_gib
            )
            == []
        ), o.id


def test_plan_limits() -> None:
    est = estimate(offer(4.0, count=2), cpu_units=2048, memory_mib=4096)
    trial = limits.check_plan("trial", estimate=est, active_pods=1, owner="ana@example.com")
    assert {i.rule for i in trial} == {"plan"}
    messages = " | ".join(i.message for i in trial)
    assert "allows 1 POD(s); ana@example.com already has 1" in messages
    assert "1 GPU(s) per POD" in messages and "$1.50/h" in messages
    assert limits.check_plan("enterprise", estimate=est, active_pods=3, owner="x") == []
    # an unknown plan of a recorded subscription gets the pro limits, like the backend
    assert limits.plan_limits("gold") == limits.PLAN_LIMITS["pro"]
    with pytest.raises(UsageError):
        limits.check_plan_name("gold")
    assert limits.check_plan_name(" PRO ") == "pro"
