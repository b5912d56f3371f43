"""Fixtures for POD tests: moto over real HTTP, a CLI runner, an AWS endpoint that fails."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from gpubroker.cli import app

#: A catalog offer (offline, so tests never depend on a live listing).
OFFER = "lambda:gpu_1x_h100_pcie:any:ondemand"


def run(*args: str, input: str | None = None) -> Any:
    """``gpubroker ARGS`` in-process, unexpected exceptions raised."""
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def set_transition(endpoint: str, model: str, transition: dict[str, Any]) -> None:
    body = json.dumps({"model_name": model, "transition": transition}).encode()
    request = urllib.request.Request(
        f"{endpoint}/moto-api/state-manager/set-transition", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


@pytest.fixture
def pods_aws(moto_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto with ECS services that report their task running, tasks pinned at RUNNING, and
    offer searches offline (the catalog)."""
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    monkeypatch.setenv("GPUBROKER_OFFLINE", "true")
    set_transition(moto_env, "ecs::task", {"progression": "manual", "times": 1_000_000_000})
    return moto_env


def aws(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]


@dataclass
class FailingAws:
    """An AWS-compatible endpoint that answers every request with one error."""

    url: str
    requests: list[str] = field(default_factory=list)
    status: int = 400
    code: str = "AccessDeniedException"
    message: str = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform this"
    html: str | None = None  # answer with this HTML page instead (a proxy's or a crash's)

    def respond(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message


@pytest.fixture
def failing_aws(hermetic_env: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[FailingAws]:
    """Point boto3 at a local server that refuses everything (JSON protocol errors)."""
    state: dict[str, FailingAws] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            fake = state["fake"]
            fake.requests.append(self.headers.get("X-Amz-Target") or self.path)
            if fake.html:
                body = fake.html.encode()
                ctype = "text/html; charset=utf-8"
            else:
                body = json.dumps({"__type": fake.code, "message": fake.message}).encode()
                ctype = "application/x-amz-json-1.1"
            self.send_response(fake.status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake = FailingAws(url=f"http://127.0.0.1:{server.server_address[1]}")
    state["fake"] = fake
    monkeypatch.setenv("AWS_ENDPOINT_URL", fake.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore would retry throttling with backoff
    monkeypatch.setenv("GPUBROKER_OFFLINE", "true")
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cli() -> Callable[..., Any]:
    return run
