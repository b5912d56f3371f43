"""After every command has run with fake provider keys, a hosted-API token and API key and
AWS credentials, none of them appears in stdout, stderr, --debug output (tracebacks
included), the SQLite file, config.toml or any other file of the state directory, even when
every provider echoes the keys back in its error bodies.

(tests/api/test_leaks.py does the same for the hosted-API commands against a server that
speaks the contract; together they cover every command.)"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from gpubroker.cli import app
from gpubroker.providers import PROVIDERS
from tests.pods.conftest import OFFER
from tests.test_meta import _commands

runner = CliRunner()
SECRETS = {
    "VAST_API_KEY": "vast-leak-check-0001",
    "RUNPOD_API_KEY": "runpod-leak-check-0002",
    "LAMBDA_API_KEY": "lambda-leak-check-0003",
    "VERDA_CLIENT_SECRET": "verda-leak-check-0004",
    "VULTR_API_KEY": "vultr-leak-check-0005",
    "HYPERSTACK_API_KEY": "hyperstack-leak-check-0006",
    "TENSORDOCK_API_KEY": "tensordock-leak-check-0007",
    "GCP_API_KEY": "gcp-leak-check-0008",
    "GPUBROKER_TOKEN": "eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImxlYWtAZXhhbXBsZS5jb20ifQ.bGVhaw",
    "GPUBROKER_API_KEY": "gpuk_leakcheck00000000000000000009",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-leak-check-0010",
}
HOSTED = ("plans", "geo", "subscribe", "activate", "status", "auth ", "pay ", "validate ",
          "admin ", "agent ")  # fmt: skip


def echo_everything(request: httpx.Request) -> httpx.Response:
    """A hostile world: every provider refuses, quoting every key it ever heard of."""
    quoted = " ".join(SECRETS.values())
    body = {"error": {"message": f"bad credentials {quoted}"}, "detail": quoted}
    status = 401 if "token" not in str(request.url) else 500
    return httpx.Response(status, json=body, headers={"X-Echo": SECRETS["GCP_API_KEY"]})


@pytest.fixture
def hostile(http_mock: respx.MockRouter, moto_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VERDA_CLIENT_ID", "verda-client-id")
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    http_mock.route(host="127.0.0.1").pass_through()  # moto
    http_mock.route().mock(side_effect=echo_everything)


def test_no_command_leaks_a_secret(hostile: None, hermetic_env: Path) -> None:
    seen: list[str] = []
    ran: set[str] = set()

    def run(*args: str, input: str | None = None) -> str:
        out = ""
        for debug in ((), ("--debug",)):
            result = runner.invoke(app, [*debug, *args], input=input, catch_exceptions=False)
            seen.append(
                f"$ {' '.join(args)} -> {result.exit_code}\n{result.stdout}\n{result.stderr}"
            )
            out = result.stdout
        words = [a for a in args if not a.startswith("-")]
        ran.update(" ".join(words[:n]) for n in (1, 2))
        return out

    run("browse", "--fresh", "--json", "--limit", "0")
    run("browse", "--fresh", "--strict", "--provider", "vastai,lambda,gcp,hyperstack")
    run("browse", "--offline", "--explain", "--group-by", "gpu")
    run("watch", "--gpu", "h100", "--max-price", "0.01", "--timeout", "0", "--interval", "1")
    run("offers", "refresh", "--json")
    run("offers", "show", OFFER)
    run("offers", "history", "h100")
    run("providers", "--json")
    run("gpus", "h100")
    run("doctor", "--timeout", "1")
    run("keys", "list")
    run("keys", "set", "lambda", input=SECRETS["LAMBDA_API_KEY"] + "\n")
    run("keys", "delete", "lambda")
    run("config", "set", "limit", "7")
    run("config", "set", "api_url", "https://api.example.test")
    run("config", "get", "limit")
    run("config", "show", "--json")
    run("config", "unset", "limit")
    run("config", "path")
    run("configs", "create", "leaky", "--gpu", "H100", "--mode", "auto_cheapest",
        "--cpu", "1", "--memory", "2GB")  # fmt: skip
    run("configs", "list")
    run("configs", "show", "leaky")
    run("configs", "update", "leaky", "--gpu-count", "2")
    run("configs", "validate", "leaky")
    run("estimate", "--gpu", "H100", "--offline")
    run("deploy", "--gpu", "H100", "--name", "dry", "--dry-run", "--offline", "--json")
    deployed = run("deploy", "--offer", OFFER, "--name", "leak", "--yes", "--json", "--offline")
    pod_id = json.loads(deployed)["pod_id"] if deployed.strip() else "leak"
    run("pods", "list", "--json")
    run("pods", "show", "leak")
    run("pods", "stop", "leak", "--yes")
    run("pods", "start", "leak", "--yes")
    run("pods", "logs", "leak")
    run("pods", "metrics", "leak")
    run("pods", "sync")
    run("costs")
    run("pods", "destroy", pod_id, "--yes")
    run("configs", "delete", "leaky", "--yes")

    transcript = "\n".join(seen)
    for name, value in SECRETS.items():
        assert value not in transcript, f"{name} leaked"
    assert "Traceback" in transcript or "Hint" in transcript
    for path in hermetic_env.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for name, value in SECRETS.items():
                assert value.encode() not in data, f"{name} stored in {path}"

    every = {p for p, _ in _commands(app) if not p.startswith(HOSTED) and p not in HOSTED}
    assert every <= ran, f"commands the leak test never ran: {sorted(every - ran)}"
    # every live provider was really asked (and refused, echoing the keys)
    for name in PROVIDERS:
        assert f"{name}: " in transcript, f"{name} was never asked"
