"""The whole POD lifecycle through the CLI against moto over real HTTP, ECS agreeing at
each step: deploy → list → stop → start → logs → metrics → destroy."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.pods.conftest import OFFER, aws, run


def service_of(pod_id: str) -> dict:
    resp = aws("ecs").describe_services(
        cluster="gpubroker-pods", services=[f"gpubroker-{pod_id}"], include=["TAGS"]
    )
    assert resp["services"], resp["failures"]
    return resp["services"][0]


def test_deploy_list_stop_start_logs_metrics_destroy(pods_aws: str) -> None:
    result = run(
        "deploy",
        "--offer",
        OFFER,
        "--name",
        "demo",
        "--owner",
        "ana@example.com",
        "--budget",
        "5/h",
        "--yes",
        "--json",
    )
    assert result.exit_code == 0, result.output
    pod = json.loads(result.stdout)
    pod_id = pod["pod_id"]
    assert pod["status"] == "running" and pod["name"] == "demo"
    assert pod["offer_id"] == OFFER and pod["running_count"] == 1

    # ECS has the service, its task definition and its tags
    svc = service_of(pod_id)
    assert svc["status"] == "ACTIVE" and svc["desiredCount"] == 1 and svc["runningCount"] == 1
    assert svc["launchType"] == "FARGATE"
    net = svc["networkConfiguration"]["awsvpcConfiguration"]
    assert net["assignPublicIp"] == "ENABLED" and net["subnets"] and net["securityGroups"]
    tags = {t["key"]: t["value"] for t in svc["tags"]}
    assert tags["gpubroker:pod-id"] == pod_id
    assert tags["gpubroker:owner"] == "ana@example.com"
    assert tags["gpubroker:offer"] == OFFER
    td = aws("ecs").describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    container = td["containerDefinitions"][0]
    assert container["name"] == "agent-zero" and container["memory"] == 2048
    assert (td["cpu"], td["memory"]) == ("1024", "2048")
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["POD_ID"] == pod_id and env["USER_EMAIL"] == "ana@example.com"
    assert {"PLAN", "API_KEY_HASH", "OFFER_ID", "BUDGET_PER_HOUR_USD"} <= set(env)
    logcfg = container["logConfiguration"]["options"]
    assert logcfg["awslogs-group"] == f"/gpubroker/pods/{pod_id}"
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=logcfg["awslogs-group"])
    assert [g["logGroupName"] for g in groups["logGroups"]] == [logcfg["awslogs-group"]]

    listed = json.loads(run("pods", "list", "--json").stdout)
    assert [(p["name"], p["status"], p["running_count"]) for p in listed] == [
        ("demo", "running", 1)
    ]

    result = run("pods", "stop", "demo", "--yes", "--wait")
    assert result.exit_code == 0, result.output
    svc = service_of(pod_id)
    assert (svc["desiredCount"], svc["runningCount"]) == (0, 0)
    assert json.loads(run("pods", "show", pod_id, "--json").stdout)["pod"]["status"] == "stopped"

    result = run("pods", "start", pod_id, "--yes", "--wait", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "running"
    assert service_of(pod_id)["desiredCount"] == 1

    # the agent logs through awslogs; put two lines where it would
    logs = aws("logs")
    stream = f"pod/agent-zero/{'0' * 32}"
    logs.create_log_stream(logGroupName=f"/gpubroker/pods/{pod_id}", logStreamName=stream)
    now_ms = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=f"/gpubroker/pods/{pod_id}",
        logStreamName=stream,
        logEvents=[
            {"timestamp": now_ms - 2000, "message": "agent started"},
            {"timestamp": now_ms - 1000, "message": "\x1b[31mmanaging offer\x1b[0m [bold]x[/bold]"},
        ],
    )
    result = run("pods", "logs", "demo", "--since", "10m")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("  agent started")
    assert lines[1].endswith("  managing offer [bold]x[/bold]")  # escapes gone, text kept
    tail = json.loads(run("pods", "logs", "demo", "--tail", "1", "--json").stdout)
    assert [e["message"] for e in tail] == ["\x1b[31mmanaging offer\x1b[0m [bold]x[/bold]"]

    cw = aws("cloudwatch")
    dims = [
        {"Name": "ClusterName", "Value": "gpubroker-pods"},
        {"Name": "ServiceName", "Value": f"gpubroker-{pod_id}"},
    ]
    at = datetime.now(UTC) - timedelta(minutes=5)
    cw.put_metric_data(
        Namespace="AWS/ECS",
        MetricData=[
            {"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": at, "Value": 42.5},
            {"MetricName": "MemoryUtilization", "Dimensions": dims, "Timestamp": at, "Value": 61.0},
        ],
    )
    points = json.loads(run("pods", "metrics", "demo", "--since", "1h", "--json").stdout)
    assert [(p["cpu_utilization_pct"], p["memory_utilization_pct"]) for p in points] == [
        (42.5, 61.0)
    ]
    table = run("pods", "metrics", "demo").stdout
    assert "cpu" in table and "avg 42.5%" in table

    result = run("pods", "destroy", "demo", "--yes")
    assert result.exit_code == 0, result.output
    svc = service_of(pod_id)
    assert svc["status"] == "INACTIVE"
    active = aws("ecs").list_task_definitions(familyPrefix=f"gpubroker-{pod_id}", status="ACTIVE")
    assert active["taskDefinitionArns"] == []
    assert logs.describe_log_groups(logGroupNamePrefix=f"/gpubroker/pods/{pod_id}")["logGroups"]
    assert json.loads(run("pods", "list", "--json").stdout) == []
    everything = json.loads(run("pods", "list", "--all", "--json").stdout)
    assert [p["status"] for p in everything] == ["destroyed"]

    events = json.loads(run("pods", "show", "demo", "--json").stdout)["events"]
    changes = [e["new_status"] for e in events if e["old_status"] != e["new_status"]]
    assert changes == [
        "creating",
        "starting",
        "running",
        "stopping",
        "stopped",
        "starting",
        "running",
        "destroying",
        "destroyed",
    ]


def test_the_public_ip_comes_from_the_tasks_eni(pods_aws: str) -> None:
    pod = json.loads(run("deploy", "--offer", OFFER, "--name", "demo", "--yes", "--json").stdout)
    svc = service_of(pod["pod_id"])
    ecs, ec2 = aws("ecs"), aws("ec2")
    # moto starts no task for a service: run the one ECS would, in the service's group
    task = ecs.run_task(
        cluster="gpubroker-pods",
        taskDefinition=svc["taskDefinition"],
        launchType="FARGATE",
        networkConfiguration=svc["networkConfiguration"],
        group=f"service:{svc['serviceName']}",
        tags=svc["tags"],
    )["tasks"][0]
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    eni = details["networkInterfaceId"]
    address = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=address["AllocationId"], NetworkInterfaceId=eni)
    # a task of another service in the cluster is not this POD's
    ecs.run_task(
        cluster="gpubroker-pods",
        taskDefinition=svc["taskDefinition"],
        launchType="FARGATE",
        networkConfiguration=svc["networkConfiguration"],
        group="service:someone-else",
    )

    shown = json.loads(run("pods", "show", "demo", "--json").stdout)
    assert shown["ecs"]["task_arn"] == task["taskArn"]
    assert shown["ecs"]["public_ip"] == address["PublicIp"] == shown["pod"]["public_ip"]
    assert shown["ecs"]["private_ip"] == details["privateIPv4Address"]
    wide = run("pods", "list", "--wide").stdout
    assert address["PublicIp"] in wide


def test_destroy_purge_logs_deletes_the_log_group(pods_aws: str) -> None:
    pod = json.loads(run("deploy", "--offer", OFFER, "--name", "demo", "--yes", "--json").stdout)
    group = f"/gpubroker/pods/{pod['pod_id']}"
    assert run("pods", "destroy", "demo", "--yes", "--purge-logs", "--wait").exit_code == 0
    assert aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    assert service_of(pod["pod_id"])["status"] == "INACTIVE"


def test_the_api_key_reaches_the_pod_only_as_its_hash(
    pods_aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import os
    from pathlib import Path

    key = "gpuk_0123456789abcdef0123456789abcdef"
    monkeypatch.setenv("GPUBROKER_API_KEY", key)
    result = run("--debug", "deploy", "--offer", OFFER, "--name", "demo", "--yes", "--json")
    assert result.exit_code == 0, result.output
    pod = json.loads(result.stdout)
    td = service_of(pod["pod_id"])["taskDefinition"]
    container = aws("ecs").describe_task_definition(taskDefinition=td)["taskDefinition"][
        "containerDefinitions"
    ][0]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["API_KEY_HASH"] == hashlib.sha256(key.encode()).hexdigest()[:16]
    assert key not in json.dumps(container)
    home = Path(os.environ["GPUBROKER_HOME"])
    for path in home.iterdir():
        assert key.encode() not in path.read_bytes(), path
    assert key not in result.output
    plan = run("deploy", "--offer", OFFER, "--name", "other", "--dry-run", "--json")
    assert key not in plan.output
