"""AWS failures give one clear line and the documented exit code; the journal says why."""

from __future__ import annotations

import json

import pytest

from tests.pods.conftest import OFFER, FailingAws, run


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_access_denied_is_exit_4(failing_aws: FailingAws) -> None:
    from gpubroker.broker import Broker

    with Broker() as broker:  # a POD in the journal, so that the list asks ECS
        broker.runtime.store.insert_pod(
            {
                "pod_id": "pod-00000001",
                "name": "demo",
                "status": "running",
                "region": "us-east-1",
                "cluster": "gpubroker-pods",
                "service_name": "gpubroker-pod-00000001",
            },
            kind="adopted",
            message="test",
        )
    result = run("pods", "list")
    assert result.exit_code == 4
    assert "`gpubroker pods list --local` shows the journal" in result.stderr
    assert run("pods", "list", "--local").exit_code == 0
    result = run("pods", "list", "--remote")
    assert result.exit_code == 4
    line = one_error_line(result.stderr)
    assert "ecs: AWS refused the request (AccessDeniedException" in line
    assert "Hint: check the IAM permissions" in result.stderr
    assert "testing" not in result.stderr  # the dummy secret never shows


def test_access_denied_during_deploy_marks_the_pod_failed(failing_aws: FailingAws) -> None:
    result = run("deploy", "--offer", OFFER, "--name", "demo", "--yes")
    assert result.exit_code == 4
    one_error_line(result.stderr)
    pods = json.loads(run("pods", "list", "--local", "--json").stdout)
    assert [(p["name"], p["status"]) for p in pods] == [("demo", "failed")]
    assert "AccessDeniedException" in pods[0]["last_error"]
    # the failed POD frees its name
    failing_aws.respond(400, "ThrottlingException", "Rate exceeded")
    assert run("deploy", "--offer", OFFER, "--name", "demo", "--yes").exit_code == 5


@pytest.mark.parametrize(
    ("status", "code", "exit_code", "words"),
    [
        (400, "ThrottlingException", 5, "AWS is throttling requests (ThrottlingException)"),
        (500, "ServerException", 5, "ecs: AWS error (ServerException"),
        (400, "UnrecognizedClientException", 4, "AWS refused the request"),
        (400, "ClusterNotFoundException", 3, "ECS cluster 'gpubroker-pods' not found in us-east-1"),
    ],
)
def test_aws_errors_map_to_exit_codes(
    failing_aws: FailingAws, status: int, code: str, exit_code: int, words: str
) -> None:
    failing_aws.respond(status, code, "nope")
    result = run("pods", "list", "--remote")
    assert result.exit_code == exit_code, result.output
    assert words in one_error_line(result.stderr)


def test_a_missing_cluster_is_named(moto_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECS_CLUSTER", "no-such-cluster")
    result = run("pods", "list", "--remote")
    assert result.exit_code == 3
    line = one_error_line(result.stderr)
    assert line == "Error: ECS cluster 'no-such-cluster' not found in us-east-1"
    assert "Hint: `gpubroker deploy` creates it" in result.stderr


def test_operating_a_pod_whose_cluster_is_gone_names_the_cluster(
    moto_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gpubroker.broker import Broker
    from tests.pods.conftest import set_transition

    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    monkeypatch.setenv("GPUBROKER_OFFLINE", "true")
    set_transition(moto_env, "ecs::task", {"progression": "manual", "times": 1_000_000_000})
    pod = json.loads(run("deploy", "--offer", OFFER, "--name", "demo", "--yes", "--json").stdout)
    with Broker() as broker:  # as if the POD had been deployed to a cluster since deleted
        broker.runtime.store.update_pod(pod["pod_id"], {"cluster": "old-cluster"})
    result = run("pods", "stop", "demo", "--yes")
    assert result.exit_code == 3
    assert one_error_line(result.stderr) == (
        "Error: ECS cluster 'old-cluster' not found in us-east-1"
    )
    # listing still works: the POD is reported missing, not an error
    listed = json.loads(run("pods", "list", "--json").stdout)
    assert [(p["name"], p["status"]) for p in listed] == [("demo", "missing")]


def test_an_html_error_page_is_not_dumped_into_the_message(failing_aws: FailingAws) -> None:
    failing_aws.status = 502
    failing_aws.html = (
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad "
        "Gateway</h1><script>alert(1)</script>" + "x" * 500 + "</body></html>"
    )
    result = run("pods", "list", "--remote")
    assert result.exit_code == 5
    line = one_error_line(result.stderr)
    assert "HTML error page" in line
    assert "<" not in line and "script" not in line
