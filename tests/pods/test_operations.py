"""Confirmation, names, failures and timeouts of POD operations, against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pods.conftest import OFFER, aws, run


def services() -> list[str]:
    try:
        return aws("ecs").list_services(cluster="gpubroker-pods")["serviceArns"]
    except Exception:  # no cluster yet
        return []


def test_deploy_without_yes_and_without_a_terminal_is_refused(pods_aws: str) -> None:
    result = run("deploy", "--offer", OFFER, "--name", "demo")
    assert result.exit_code == 6
    assert "Error: deploy needs confirmation: pass --yes" in result.stderr
    assert json.loads(run("pods", "list", "--local", "--all", "--json").stdout) == []
    assert services() == []


def test_a_terminal_is_asked(pods_aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from gpubroker import render

    monkeypatch.setattr(render, "is_tty", lambda stream: True)
    result = run("deploy", "--offer", OFFER, "--name", "demo", input="n\n")
    assert result.exit_code == 6 and "deploy cancelled" in result.stderr
    assert "Deploy POD demo? It is billed while it runs." in result.stderr
    assert services() == []
    result = run("deploy", "--offer", OFFER, "--name", "demo", input="y\n")
    assert result.exit_code == 0, result.output
    assert len(services()) == 1
    result = run("pods", "destroy", "demo", input="n\n")
    assert result.exit_code == 6 and "destroy cancelled" in result.stderr
    assert (
        aws("ecs").describe_services(cluster="gpubroker-pods", services=services())["services"][0][
            "status"
        ]
        == "ACTIVE"
    )


@pytest.mark.parametrize("action", ["start", "stop", "destroy"])
def test_operations_need_yes(pods_aws: str, action: str) -> None:
    pod = json.loads(run("deploy", "--offer", OFFER, "--name", "demo", "--yes", "--json").stdout)
    before = aws("ecs").describe_services(cluster="gpubroker-pods", services=services())
    result = run("pods", action, "demo")
    assert result.exit_code == 6 and f"{action} needs confirmation" in result.stderr
    after = aws("ecs").describe_services(cluster="gpubroker-pods", services=services())
    assert [(s["status"], s["desiredCount"]) for s in after["services"]] == [
        (s["status"], s["desiredCount"]) for s in before["services"]
    ]
    assert (
        json.loads(run("pods", "show", pod["pod_id"], "--local", "--json").stdout)["pod"]["status"]
        == "running"
    )


def test_a_name_in_use_is_refused_and_freed_by_destroy(pods_aws: str) -> None:
    first = json.loads(run("deploy", "--offer", OFFER, "--name", "demo", "--yes", "--json").stdout)
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--yes")
    assert result.exit_code == 6
    assert f"refused (name): 'demo' is in use by POD {first['pod_id']} (running)" in result.stderr
    assert len(services()) == 1
    run("pods", "destroy", "demo", "--yes")
    second = json.loads(run("deploy", "--offer", OFFER, "--name", "demo", "--yes", "--json").stdout)
    assert second["pod_id"] != first["pod_id"]
    # the name now means the live POD; the destroyed one is still there by id
    assert (
        json.loads(run("pods", "show", "demo", "--json").stdout)["pod"]["pod_id"]
        == (second["pod_id"])
    )
    shown = json.loads(run("pods", "show", first["pod_id"], "--json").stdout)["pod"]
    assert shown["status"] == "destroyed"


def test_an_unknown_pod_is_exit_3(pods_aws: str) -> None:
    for args in (
        ("pods", "show", "nope"),
        ("pods", "stop", "nope", "--yes"),
        ("pods", "logs", "nope"),
        ("pods", "metrics", "nope"),
    ):
        result = run(*args)
        assert result.exit_code == 3, args
        assert "no POD named 'nope'" in result.stderr


def test_an_ecs_refusal_marks_the_pod_failed_and_undoes_the_task_definition(
    pods_aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECS_SUBNETS", "subnet-0000000000nope")
    monkeypatch.setenv("ECS_SECURITY_GROUP", "sg-0000000000nope")
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--yes")
    assert result.exit_code == 6
    assert "ecs: AWS rejected the request (InvalidParameterException" in result.stderr
    pod = json.loads(run("pods", "list", "--local", "--json").stdout)[0]
    assert pod["status"] == "failed" and "InvalidParameterException" in pod["last_error"]
    family = f"gpubroker-{pod['pod_id']}"
    ecs = aws("ecs")
    assert (
        ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"] == []
    )
    events = json.loads(run("pods", "show", "demo", "--local", "--json").stdout)["events"]
    assert "task definition deregistered" in events[-1]["message"]


def test_a_task_that_never_runs_times_out_with_exit_5(
    pods_aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "0")
    result = run("deploy", "--offer", OFFER, "--name", "slow", "--yes", "--timeout", "1")
    assert result.exit_code == 5
    assert "POD slow is not running after 1s (0/1 running)" in result.stderr
    assert "gpubroker pods sync" in result.stderr
    assert json.loads(run("pods", "show", "slow", "--local", "--json").stdout)["pod"]["status"] == (
        "starting"
    )
    result = run("deploy", "--offer", OFFER, "--name", "quick", "--yes", "--no-wait", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["status"] == "starting"


def test_logs_of_a_pod_that_has_not_logged(pods_aws: str) -> None:
    run("deploy", "--offer", OFFER, "--name", "demo", "--yes")
    result = run("pods", "logs", "demo")
    assert result.exit_code == 0 and result.stdout == ""
    assert "no log lines yet" in result.stderr
    result = run("pods", "metrics", "demo")
    assert result.exit_code == 3 and "no AWS/ECS metrics for demo" in result.stderr
    result = run("pods", "logs", "demo", "--since", "soon")
    assert result.exit_code == 2 and "--since: expected a duration" in result.stderr
    result = run("pods", "list", "--status", "runing")
    assert result.exit_code == 2 and "unknown --status 'runing'" in result.stderr


def test_follow_streams_new_lines_once(pods_aws: str) -> None:
    import time

    from gpubroker.broker import Broker

    pod = json.loads(run("deploy", "--offer", OFFER, "--name", "demo", "--yes", "--json").stdout)
    group = f"/gpubroker/pods/{pod['pod_id']}"
    logs = aws("logs")
    logs.create_log_stream(logGroupName=group, logStreamName="pod/agent-zero/1")
    base = int(time.time() * 1000)

    def put(offset_ms: int, message: str) -> None:
        logs.put_log_events(
            logGroupName=group,
            logStreamName="pod/agent-zero/1",
            logEvents=[{"timestamp": base + offset_ms, "message": message}],
        )

    put(0, "one")
    polls: list[int] = []
    with Broker() as broker:
        pods = broker.pods

        def sleep(_: float) -> None:
            polls.append(1)
            if len(polls) == 1:
                put(0, "one-bis")  # same millisecond as the last line seen
                put(5, "two")

        pods.sleep = sleep
        seen = [e.message for e in pods.follow_logs("demo", stop=lambda: len(polls) >= 3)]
    assert seen == ["one", "one-bis", "two"]


def test_tables_fit_80_columns(pods_aws: str) -> None:
    run("deploy", "--offer", OFFER, "--name", "agent-for-team-a", "--yes")
    run("configs", "create", "h100-agent-config", "--gpu", "H100", "--budget", "5/h,2000/month")
    outputs: list[Any] = [
        run("pods", "list"),
        run("pods", "sync"),
        run("configs", "list"),
        run("costs", "--local"),
        run("estimate", "--offer", OFFER),
        run("pods", "show", "agent-for-team-a"),
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
        for line in result.stdout.splitlines():
            assert len(line) <= 80, line
