"""Plans and cost maths (admin-api.md §2.2, §5.6, §6.3)."""

from __future__ import annotations

import math

import pytest

from gpubroker import billing
from gpubroker.billing import PLANS, PlanInfo
from gpubroker.errors import UsageError


def test_plans_are_the_backends_table() -> None:
    assert PLANS == {
        "trial": ("Prueba Gratuita", 0.00, 1_000),
        "basic": ("Básico", 20.00, 5_000),
        "pro": ("Profesional", 40.00, 10_000),
        "corp": ("Corporativo", 99.00, 50_000),
        "enterprise": ("Enterprise", 299.00, 200_000),
    }
    display, price, tokens = PLANS["pro"]  # a plain tuple for other modules
    assert (display, price, tokens) == ("Profesional", 40.0, 10_000)
    assert PLANS["pro"].price_usd_month == 40.0 and isinstance(PLANS["pro"], PlanInfo)


def test_plan_names_are_checked() -> None:
    assert billing.normalise_plan(" PRO ") == "pro"
    assert billing.requires_payment("basic") and not billing.requires_payment("trial")
    with pytest.raises(UsageError) as caught:
        billing.plan_info("platinum")
    assert caught.value.param == "plan"
    assert "plan must be one of trial, basic, pro, corp, enterprise" in caught.value.message


def test_built_in_rows_are_labelled() -> None:
    rows = billing.plan_rows()
    assert [r["plan"] for r in rows] == list(PLANS)
    assert {r["source"] for r in rows} == {"built-in"}


def test_flow_helpers() -> None:
    assert billing.progress_percent("provisioning") == 50
    assert billing.progress_percent("running") == 100
    assert billing.progress_percent(None) == 0
    assert billing.next_step("pending_payment") == "gpubroker pay paypal"
    assert billing.next_step("running") is None
    assert billing.tax_id_label("ec") == "RUC/Cédula"
    assert billing.tax_id_label("US") is None


def test_cost_maths_mirror_the_backend() -> None:
    # §6.3: RTX 4090 defaults → 0.48 per hour, 11.52 per day, 345.6 per month.
    assert billing.per_day(0.48) == pytest.approx(11.52)
    assert billing.per_month(0.48) == pytest.approx(345.6)
    assert billing.spot_price(4.21) == pytest.approx(1.684)
    # §5.6: one POD on Fargate ≈ 8.89 USD per month.
    assert billing.fargate_pod_month_usd() == pytest.approx(8.8866)
    assert round(billing.fargate_pod_month_usd(), 2) == 8.89


def test_cost_summary_matches_the_verified_example() -> None:
    # One $40 sale, no active PODs → profit 30.0, margin 75.0 (§5.6, verified).
    summary = billing.cost_summary(0, 40.0)
    assert summary["profit_usd"] == 30.0 and summary["margin_percent"] == 75.0
    assert summary["is_profitable"] is True
    busy = billing.cost_summary(3, 0.0)
    assert busy["aws_costs_usd"] == 26.66 and busy["margin_percent"] == 0.0
    assert busy["total_hours"] == 2160


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0])
def test_non_finite_or_negative_prices_are_refused(bad: float) -> None:
    with pytest.raises(UsageError):
        billing.per_month(bad)
    with pytest.raises(UsageError):
        billing.cost_summary(1, bad)
