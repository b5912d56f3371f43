"""Waiting on ECS: states moto never produces (a failing rollout), through botocore's Stubber."""

from __future__ import annotations

from typing import Any

import pytest

from gpubroker.broker import Broker
from gpubroker.errors import RemoteError

SERVICE = "gpubroker-pod-0000abcd"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/gpubroker-pods"


def stubbed_ecs(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    import boto3
    from botocore.stub import Stubber

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("ecs", region_name="us-east-1")  # type: ignore[call-overload]
    return client, Stubber(client)


def test_a_failing_rollout_fails_the_wait_with_the_tasks_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, stub = stubbed_ecs(monkeypatch)
    stub.add_response("update_service", {"service": {"serviceName": SERVICE}})
    stub.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICE,
                    "serviceArn": f"arn:aws:ecs:us-east-1:123456789012:service/{SERVICE}",
                    "status": "ACTIVE",
                    "desiredCount": 1,
                    "runningCount": 0,
                    "pendingCount": 0,
                    "deployments": [{"status": "PRIMARY", "rolloutState": "FAILED"}],
                }
            ],
            "failures": [],
        },
    )
    stub.add_response("list_tasks", {"taskArns": []})
    stub.add_response("list_tasks", {"taskArns": ["arn:aws:ecs:us-east-1:1:task/x"]})
    stub.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "group": f"service:{SERVICE}",
                    "stoppedReason": "CannotPullContainerError: pull access denied",
                }
            ]
        },
    )
    with stub, Broker(aws_client_factory=lambda service, region: client) as broker:
        broker.runtime.store.insert_pod(
            {
                "pod_id": "pod-0000abcd",
                "name": "demo",
                "status": "stopped",
                "region": "us-east-1",
                "cluster": "gpubroker-pods",
                "service_name": SERVICE,
                "service_arn": "arn",
            },
            kind="adopted",
            message="test",
        )
        with pytest.raises(RemoteError) as err:
            broker.pods.start("demo", wait=True)
        pod = broker.pods.get("demo")
    assert err.value.exit_code == 5
    assert err.value.message == (
        "POD demo failed to start: CannotPullContainerError: pull access denied"
    )
    assert pod.status.value == "failed"
    assert pod.last_error == "CannotPullContainerError: pull access denied"
    stub.assert_no_pending_responses()
