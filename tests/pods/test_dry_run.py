"""`deploy --dry-run` and `estimate`: the exact requests and the cost, no AWS at all."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.pods.conftest import OFFER, FailingAws, run


def test_dry_run_needs_no_aws_credentials_at_all(failing_aws: FailingAws) -> None:
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "GPUBROKER_OFFLINE",
    ):
        os.environ.pop(key, None)
    assert not [k for k in os.environ if k.startswith("AWS_") and "KEY" in k]
    result = run("deploy", "--gpu", "H100", "--name", "demo", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "ECS requests (dry run: nothing was sent)" in result.stdout
    assert '"serviceName": "gpubroker-pod-' in result.stdout
    assert "$/month (×720)" in result.stdout
    assert failing_aws.requests == []  # not one request reached an AWS endpoint


def test_dry_run_json_is_the_plan(failing_aws: FailingAws) -> None:
    result = run(
        "deploy",
        "--offer",
        OFFER,
        "--name",
        "demo",
        "--dry-run",
        "--json",
        "--cpu",
        "2",
        "--memory",
        "4GB",
        "--plan",
        "pro",
        "--owner",
        "ana@example.com",
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    td = plan["requests"]["register_task_definition"]
    svc = plan["requests"]["create_service"]
    assert (td["cpu"], td["memory"]) == ("2048", "4096")
    assert td["requiresCompatibilities"] == ["FARGATE"] and td["networkMode"] == "awsvpc"
    container = td["containerDefinitions"][0]
    assert container["name"] == "agent-zero" and container["memory"] == 4096
    assert container["image"] == "agent0ai/agent-zero:latest"
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["POD_ID"] == plan["pod_id"] and env["PLAN"] == "pro"
    assert env["USER_EMAIL"] == "ana@example.com" and env["OFFER_ID"] == OFFER
    assert svc["serviceName"] == f"gpubroker-{plan['pod_id']}" == svc["taskDefinition"]
    assert svc["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"
    assert svc["propagateTags"] == "SERVICE"
    keys = {t["key"] for t in svc["tags"]}
    assert {"gpubroker:pod-id", "gpubroker:owner", "gpubroker:offer"} <= keys
    assert plan["estimate"]["price_per_month_usd"] == pytest.approx(
        plan["estimate"]["price_per_hour_usd"] * 720, abs=1e-3
    )
    assert plan["validation"] == {"errors": [], "warnings": plan["validation"]["warnings"]}
    assert failing_aws.requests == []
    # a dry run records nothing
    assert json.loads(run("pods", "list", "--local", "--all", "--json").stdout) == []


def test_configured_network_and_role_are_exact(
    failing_aws: FailingAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECS_SUBNETS", "subnet-a, subnet-b")
    monkeypatch.setenv("ECS_SECURITY_GROUP", "sg-1")
    monkeypatch.setenv("ECS_CLUSTER", "team-pods")
    monkeypatch.setenv("GPUBROKER_ECS_EXECUTION_ROLE", "arn:aws:iam::111122223333:role/exec")
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--dry-run", "--json")
    plan = json.loads(result.stdout)
    net = plan["requests"]["create_service"]["networkConfiguration"]["awsvpcConfiguration"]
    assert net["subnets"] == ["subnet-a", "subnet-b"] and net["securityGroups"] == ["sg-1"]
    assert plan["requests"]["create_service"]["cluster"] == "team-pods"
    td = plan["requests"]["register_task_definition"]
    assert td["executionRoleArn"] == "arn:aws:iam::111122223333:role/exec"
    assert plan["placeholders"] == []
    # GPUBROKER_ECS_CLUSTER wins over the backend's ECS_CLUSTER
    monkeypatch.setenv("GPUBROKER_ECS_CLUSTER", "mine")
    plan = json.loads(run("deploy", "--offer", OFFER, "--name", "d", "--dry-run", "--json").stdout)
    assert plan["cluster"] == "mine"


@pytest.mark.parametrize(
    ("cpu", "memory", "words"),
    [
        ("1024", "512", "does not fit cpu 1024"),
        ("3", "8GB", "cpu 3072 is not a Fargate size"),
        ("8192", "18GB", "16 GB–60 GB in 4 GB steps"),
    ],
)
def test_invalid_fargate_sizes_are_refused_before_any_aws_call(
    failing_aws: FailingAws, cpu: str, memory: str, words: str
) -> None:
    result = run(
        "deploy", "--offer", OFFER, "--name", "demo", "--cpu", cpu, "--memory", memory, "--yes"
    )
    assert result.exit_code == 6
    assert words in result.stderr and "refused (fargate)" in result.stderr
    assert result.stderr.count("Error:") == 1
    assert failing_aws.requests == []


def test_malformed_sizes_are_usage_errors_naming_the_flag(failing_aws: FailingAws) -> None:
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--memory", "lots", "--yes")
    assert result.exit_code == 2
    assert "Error: --memory: expected a size" in result.stderr
    result = run("deploy", "--gpu", "H100", "--offer", OFFER, "--name", "demo", "--dry-run")
    assert result.exit_code == 2 and "--offer names one offer" in result.stderr
    result = run("deploy", "--name", "demo", "--dry-run")
    assert (
        result.exit_code == 2
        and "choose the offer: a CONFIG, --offer, or filters such as --gpu" in result.stderr
    )
    result = run("deploy", "--offer", OFFER, "--name", "bad name!", "--dry-run")
    assert result.exit_code == 2 and "--name" in result.stderr
    result = run("deploy", "--offer", OFFER, "--name", "pod-0123abcd", "--dry-run")
    assert result.exit_code == 2 and "looks like a POD id" in result.stderr
    result = run("deploy", "--offer", OFFER, "--name", "x", "--owner", "a\x1b[2Jb", "--dry-run")
    assert result.exit_code == 2 and "--owner" in result.stderr and "\x1b" not in result.stderr
    result = run("deploy", "--offer", OFFER, "--name", "x", "--image", "my image", "--dry-run")
    assert result.exit_code == 2 and "--image" in result.stderr
    result = run("deploy", "--offer", OFFER, "--name", "x", "--plan", "gold", "--dry-run")
    assert result.exit_code == 2 and "unknown plan 'gold'" in result.stderr
    assert failing_aws.requests == []


def test_budget_and_plan_refusals_say_which_rule(failing_aws: FailingAws) -> None:
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--budget", "2/h", "--dry-run")
    assert result.exit_code == 6
    assert "Refused by" in result.stdout
    assert "refused (budget: estimated $3.34/h exceeds the budget of $2.00/h)" in result.stderr
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--plan", "trial", "--yes")
    assert result.exit_code == 6
    assert "plan: plan trial caps a POD at $1.50/h" in result.stderr
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--budget", "100/month", "--yes")
    assert result.exit_code == 6 and "/month exceeds the budget of $100.00/month" in result.stderr
    assert failing_aws.requests == []


def test_a_recorded_subscription_applies_its_plan(failing_aws: FailingAws) -> None:
    from gpubroker.broker import Broker

    with Broker() as broker, broker.runtime.store.write() as db:
        db.table("subscriptions").insert(
            {
                "subscription_id": "sub_1",
                "profile": "default",
                "email": "cli@example.com",
                "plan": "trial",
                "status": "running",
                "updated_at": "2026-09-01T00:00:00+00:00",
            }
        )
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--dry-run", "--json")
    assert result.exit_code == 6
    plan = json.loads(result.stdout)
    assert plan["plan"] == "trial" and plan["owner"] == "cli@example.com"
    assert [e["rule"] for e in plan["validation"]["errors"]] == ["plan"]
    # an operator deploying for a customer on another plan says so
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--dry-run", "--plan", "pro")
    assert result.exit_code == 0, result.output


def test_estimate_breakdown_and_spot_savings(failing_aws: FailingAws) -> None:
    result = run("estimate", "--offer", "gcp:a3-highgpu-1g:us-central1:ondemand", "--json")
    assert result.exit_code == 0, result.output
    est = json.loads(result.stdout)
    assert est["breakdown_per_hour_usd"]["gpu_offer"] == 11.06125
    assert est["price_per_day_usd"] == pytest.approx(est["price_per_hour_usd"] * 24, abs=1e-3)
    assert est["spot_counterpart_offer_id"] == "gcp:a3-highgpu-1g:us-central1:spot"
    assert est["spot_savings_per_hour_usd"] == pytest.approx(11.06125 - 4.424469)
    table = run("estimate", "--offer", "gcp:a3-highgpu-1g:us-central1:ondemand")
    assert "spot would save" in table.stdout and "total" in table.stdout
    for line in table.stdout.splitlines():
        assert len(line) <= 80, line


def test_estimate_picks_like_browse(failing_aws: FailingAws) -> None:
    browse = json.loads(run("browse", "--gpu", "A100", "--optimize", "cost", "--json").stdout)
    est = json.loads(run("estimate", "--gpu", "A100", "--optimize", "cost", "--json").stdout)
    available = [o for o in browse if o["availability"] != "unavailable"]
    assert est["offer_id"] == available[0]["id"]


def test_an_explicit_offer_is_rechecked_with_its_provider(
    failing_aws: FailingAws, http_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import load_fixture

    monkeypatch.delenv("GPUBROKER_OFFLINE")
    monkeypatch.setenv("LAMBDA_API_KEY", "secret_lambda_key")
    http_mock.get("https://cloud.lambda.ai/api/v1/instance-types").respond(
        json=load_fixture("lambda", "instance_types.json")
    )
    # listed by both: the live answer wins, and the change is said; Lambda has no capacity
    result = run("deploy", "--offer", OFFER, "--name", "d", "--dry-run", "--json")
    assert result.exit_code == 6, result.output
    plan = json.loads(result.stdout)
    assert plan["offer"]["source"] == "live" and plan["offer"]["price_per_hour_usd"] == 2.49
    assert "now costs $2.49/h (was $3.29/h)" in result.stderr
    assert "refused (offer: lambda lists lambda:gpu_1x_h100_pcie:any:ondemand as unavailable)" in (
        result.stderr
    )
    # listed in the bundled catalog, but not by Lambda's API (fetched just now, so cached)
    result = run(
        "deploy", "--offer", "lambda:gpu_1x_h100_sxm5:any:ondemand", "--name", "d", "--dry-run"
    )
    assert result.exit_code == 3
    assert "offer lambda:gpu_1x_h100_sxm5:any:ondemand is no longer listed by lambda" in (
        result.stderr
    )
    assert "secret_lambda_key" not in result.output
    assert failing_aws.requests == []


def test_the_api_key_hash_comes_from_the_profiles_stored_key(
    failing_aws: FailingAws, memory_keyring: Any
) -> None:
    import hashlib

    key = "gpuk_" + "ab" * 16
    memory_keyring.set_password("gpubroker", "api.default.api_key", key)
    plan = json.loads(run("deploy", "--offer", OFFER, "--name", "d", "--dry-run", "--json").stdout)
    env = plan["requests"]["register_task_definition"]["containerDefinitions"][0]["environment"]
    assert {"name": "API_KEY_HASH", "value": hashlib.sha256(key.encode()).hexdigest()[:16]} in env
    assert key not in json.dumps(plan)
