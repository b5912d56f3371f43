"""`gpubroker costs`: running hours × the hourly estimate, beside Cost Explorer by tag."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gpubroker.broker import Broker
from tests.pods.conftest import OFFER, run


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) - timedelta(days=3)

    def __call__(self) -> datetime:
        return self.now


def seed_cost_explorer(endpoint: str, groups: list[dict[str, Any]]) -> None:
    result = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-01-01", "End": "2026-02-01"},
                "Total": {},
                "Groups": groups,
                "Estimated": True,
            }
        ]
    }
    body = json.dumps({"results": [result]}).encode()
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/ce/cost-and-usage-results", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def group(key: str, amount: str) -> dict[str, Any]:
    return {
        "Keys": [f"gpubroker:pod-id${key}"],
        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
    }


def test_uptime_times_the_estimate_beside_cost_explorer(pods_aws: str) -> None:
    clock = Clock()
    with Broker(now=clock) as broker:
        pods = broker.pods
        plan = pods.plan(name="demo", offer_id=OFFER, offline=True)
        pod = pods.deploy(plan)
        assert pod.status.value == "running"
        clock.now += timedelta(hours=2)
        pods.stop("demo")
        pods.list()  # observe: stopped
        clock.now += timedelta(hours=5)
        pods.start("demo", wait=True)
        clock.now += timedelta(hours=1)
        price = pod.price_per_hour_usd
        fargate = pod.fargate_price_per_hour_usd
        details = pods.show("demo", local=True)
        assert details.uptime_hours == pytest.approx(3.0, abs=1e-3)

        seed_cost_explorer(
            pods_aws, [group(pod.pod_id, "0.15"), group("pod-00000000", "2.5"), group("", "0.75")]
        )
        report = pods.costs(since="30d")
    assert report.tag_grouping is True
    lines = {line.pod_id: line for line in report.lines}
    mine = lines[pod.pod_id]
    assert mine.uptime_hours == pytest.approx(3.0, abs=1e-3)
    assert mine.estimate_usd == pytest.approx(3 * price, abs=1e-3)
    assert mine.estimate_aws_usd == pytest.approx(3 * fargate, abs=1e-3)
    assert mine.aws_cost_usd == 0.15
    assert lines["pod-00000000"].status == "untracked" and lines["pod-00000000"].aws_cost_usd == 2.5
    assert report.aws_untagged_usd == 0.75 and report.aws_total_usd == pytest.approx(3.4)

    # a window that starts after the first two hours counts only what ran inside it
    with Broker(now=clock) as broker:
        report = broker.pods.costs(since="90m", local=True)
    assert report.lines[0].uptime_hours == pytest.approx(1.0, abs=1e-3)
    assert report.notes == []


def test_costs_cli_notes_an_inactive_cost_allocation_tag(pods_aws: str) -> None:
    run("deploy", "--offer", OFFER, "--name", "demo", "--yes")
    result = run("costs", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["tag_grouping"] is False and report["lines"][0]["name"] == "demo"
    assert "activate it as a cost allocation tag" in result.stderr
    table = run("costs").stdout
    assert "total" in table.splitlines()[-1]


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "lots"])
def test_a_non_finite_cost_is_a_remote_response_error(pods_aws: str, amount: str) -> None:
    seed_cost_explorer(pods_aws, [group("pod-12345678", amount)])
    result = run("costs", "--since", "7d")
    assert result.exit_code == 5
    assert "ce: unreadable cost amount" in result.stderr


def test_a_window_beyond_14_months_starts_on_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    import boto3
    from botocore.stub import ANY, Stubber

    from gpubroker.pods.ecs import EcsDriver

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("ce", region_name="us-east-1")  # type: ignore[call-overload]
    stub = Stubber(client)
    for start in ("2024-03-01", "2026-08-15"):
        stub.add_response(
            "get_cost_and_usage",
            {"ResultsByTime": []},
            {
                "TimePeriod": {"Start": start, "End": "2026-09-02"},
                "Granularity": ANY,
                "Metrics": ANY,
                "GroupBy": ANY,
                "Filter": ANY,
            },
        )
    driver = EcsDriver(lambda service, region: client, region="us-east-1", cluster="c")
    with stub:
        assert driver.costs_by_pod(date(2024, 3, 15), date(2026, 9, 2)) == ({}, 0.0, False)
        assert driver.costs_by_pod(date(2026, 8, 15), date(2026, 9, 2)) == ({}, 0.0, False)
    stub.assert_no_pending_responses()
