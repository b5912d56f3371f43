"""Interrupted deploys completed or cleaned up by `pods sync`; PODs created elsewhere found
by `pods list --remote` and adopted; PODs whose service vanished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pods.conftest import OFFER, aws, run


def journal(name: str) -> dict[str, Any]:
    pods = json.loads(run("pods", "list", "--local", "--all", "--json").stdout)
    return next(p for p in pods if p["name"] == name)


def test_ctrl_c_during_the_wait_leaves_a_deploy_that_sync_completes(
    pods_aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "0")  # the service's task never starts
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gpubroker",
            "deploy",
            "--offer",
            OFFER,
            "--name",
            "demo",
            "--yes",
            "--timeout",
            "120",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            home = Path(os.environ["GPUBROKER_HOME"]) / "gpubroker.db"
            if home.exists():
                pods = json.loads(run("pods", "list", "--local", "--json").stdout)
                if pods and pods[0]["status"] == "starting":
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the deploy never reached 'starting'")
        time.sleep(0.5)  # inside the wait now
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "is recorded; `gpubroker pods sync` completes it or cleans it up" in stderr
    pod = journal("demo")
    assert pod["status"] == "starting"
    svc = f"gpubroker-{pod['pod_id']}"
    assert aws("ecs").describe_services(cluster="gpubroker-pods", services=[svc])["services"]

    # nothing changed in ECS yet: sync records that and leaves it
    lines = json.loads(run("pods", "sync", "--json").stdout)
    assert [(x["name"], x["action"], x["status"]) for x in lines] == [
        ("demo", "unchanged", "starting")
    ]
    # ECS gets the task running; sync completes the deploy
    aws("ecs").update_service(cluster="gpubroker-pods", service=svc, desiredCount=1)
    lines = json.loads(run("pods", "sync", "--json").stdout)
    assert [(x["name"], x["action"], x["status"]) for x in lines] == [
        ("demo", "completed", "running")
    ]
    kinds = [e["kind"] for e in json.loads(run("pods", "show", "demo", "--json").stdout)["events"]]
    assert kinds[0] == "intent" and "interrupted" in kinds and kinds[-1] == "completed"
    audit_outcomes = _audit(pod["pod_id"])
    assert audit_outcomes[:2] == ["requested", "interrupted"]


def _audit(pod_id: str) -> list[str]:
    from gpubroker.broker import Broker

    with Broker() as broker:
        return [r["outcome"] for r in broker.runtime.store.audit_log(pod_id)]


def test_interrupted_before_the_service_exists_is_cleaned_up(pods_aws: str) -> None:
    import boto3

    from gpubroker.broker import Broker

    def clients(service: str, region: str | None) -> Any:
        client = boto3.client(service, region_name=region)  # type: ignore[call-overload]

        def ctrl_c(**_: Any) -> None:
            raise KeyboardInterrupt

        client.meta.events.register("before-call.ecs.CreateService", ctrl_c)
        return client

    with Broker(aws_client_factory=clients) as broker:
        plan = broker.pods.plan(name="half", offer_id=OFFER, offline=True)
        with pytest.raises(KeyboardInterrupt):
            broker.pods.deploy(plan)
        pod = broker.pods.get("half")
    assert pod.status.value == "creating" and pod.task_definition_arn
    family = f"gpubroker-{pod.pod_id}"
    ecs = aws("ecs")
    assert ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]

    result = run("pods", "sync")
    assert result.exit_code == 0, result.output
    assert "cleaned-up" in result.stdout
    assert (
        ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"] == []
    )
    after = journal("half")
    assert after["status"] == "failed"
    assert after["last_error"] == "deploy interrupted before its ECS service was created"
    # the name is free again
    assert run("deploy", "--offer", OFFER, "--name", "half", "--yes").exit_code == 0


def test_a_deploy_in_progress_elsewhere_is_left_alone(pods_aws: str) -> None:
    from gpubroker.broker import Broker

    with Broker() as broker:
        plan = broker.pods.plan(name="busy", offer_id=OFFER, offline=True)
        row = {
            "pod_id": plan.pod_id,
            "name": "busy",
            "status": "creating",
            "region": "us-east-1",
            "cluster": "gpubroker-pods",
            "service_name": plan.service_name,
            "deploy_pid": os.getpid(),
            "deploy_host": os.uname().nodename,
        }
        broker.runtime.store.insert_pod(row, kind="intent", message="test")
    lines = json.loads(run("pods", "sync", "--json").stdout)
    assert [(x["action"], x["status"]) for x in lines] == [("unchanged", "creating")]
    assert "deploy in progress" in lines[0]["message"]


def test_a_pod_created_elsewhere_is_found_by_remote_and_adopted(
    pods_aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = os.environ["GPUBROKER_HOME"]
    monkeypatch.setenv("GPUBROKER_HOME", str(tmp_path / "other-machine"))
    result = run(
        "deploy",
        "--offer",
        OFFER,
        "--name",
        "theirs",
        "--owner",
        "bo@example.com",
        "--yes",
        "--json",
    )
    assert result.exit_code == 0, result.output
    theirs = json.loads(result.stdout)
    monkeypatch.setenv("GPUBROKER_HOME", here)
    run("deploy", "--offer", OFFER, "--name", "mine", "--yes")

    assert [p["name"] for p in json.loads(run("pods", "list", "--json").stdout)] == ["mine"]
    remote = json.loads(run("pods", "list", "--remote", "--json").stdout)
    found = {p["name"]: p for p in remote}
    assert set(found) == {"mine", "theirs"}
    assert found["mine"]["tracked"] is True
    assert found["theirs"]["tracked"] is False
    assert found["theirs"]["pod_id"] == theirs["pod_id"]
    assert found["theirs"]["owner"] == "bo@example.com"
    assert found["theirs"]["offer_id"] == OFFER
    assert found["theirs"]["status"] == "running"
    table = run("pods", "list", "--remote").stdout
    assert "untracked" in table

    lines = json.loads(run("pods", "sync", "--json").stdout)
    assert ("theirs", "untracked") in [(x["name"], x["action"]) for x in lines]
    lines = json.loads(run("pods", "sync", "--adopt", "--json").stdout)
    assert ("theirs", "adopted") in [(x["name"], x["action"]) for x in lines]
    adopted = json.loads(run("pods", "show", "theirs", "--json").stdout)["pod"]
    assert adopted["tracked"] is True and adopted["gpu_model"] == "H100-PCIE"
    assert adopted["provider"] == "lambda" and adopted["status"] == "running"
    assert json.loads(run("pods", "sync", "--adopt", "--json").stdout)[-1]["action"] == "unchanged"
    # once adopted it is operated like any other
    assert run("pods", "stop", "theirs", "--yes").exit_code == 0


def test_a_service_deleted_outside_gpubroker_is_recorded_destroyed(pods_aws: str) -> None:
    pod = json.loads(run("deploy", "--offer", OFFER, "--name", "gone", "--yes", "--json").stdout)
    aws("ecs").delete_service(
        cluster="gpubroker-pods", service=f"gpubroker-{pod['pod_id']}", force=True
    )
    listed = json.loads(run("pods", "list", "--json").stdout)
    assert [(p["name"], p["status"]) for p in listed] == [("gone", "destroyed")]


def test_a_missing_service_is_reported_and_destroy_clears_it(pods_aws: str) -> None:
    pod = json.loads(run("deploy", "--offer", OFFER, "--name", "lost", "--yes", "--json").stdout)
    from gpubroker.broker import Broker

    # as if ECS had never heard of the service (another account, a rebuilt cluster)
    with Broker() as broker:
        broker.runtime.store.update_pod(pod["pod_id"], {"service_name": "gpubroker-pod-ffffffff"})
    lines = json.loads(run("pods", "sync", "--json").stdout)
    assert [(x["name"], x["action"], x["status"]) for x in lines] == [
        ("lost", "missing", "missing")
    ]
    result = run("pods", "start", "lost", "--yes")
    assert result.exit_code == 3 and "not found" in result.stderr
    assert run("pods", "destroy", "lost", "--yes").exit_code == 0
    assert journal("lost")["status"] == "destroyed"


def test_an_interrupted_destroy_is_finished_by_sync(pods_aws: str) -> None:
    pod = json.loads(
        run("deploy", "--offer", OFFER, "--name", "half-gone", "--yes", "--json").stdout
    )
    from gpubroker.broker import Broker

    with Broker() as broker:
        broker.runtime.store.update_pod(pod["pod_id"], {"status": "destroying"})
    lines = json.loads(run("pods", "sync", "--json").stdout)
    assert [(x["action"], x["status"]) for x in lines] == [("completed", "destroyed")]
    svc = aws("ecs").describe_services(
        cluster="gpubroker-pods", services=[f"gpubroker-{pod['pod_id']}"]
    )["services"][0]
    assert svc["status"] == "INACTIVE"
