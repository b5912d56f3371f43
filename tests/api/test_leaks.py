"""After every hosted-API command has run with a fake token and API key, neither appears in
stdout, stderr, --debug output (tracebacks included) or any file of the state directory, even
when the server echoes them back in its error pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpubroker.cli import app
from tests.api.contract_server import ContractServer
from tests.test_meta import _commands

runner = CliRunner()


def test_no_command_leaks_the_token_or_the_api_key(
    api_server: ContractServer, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = api_server.issue_token()
    sub = api_server.add_subscription(
        email="ana@example.com", plan="pro", amount_usd=40.0, transaction_id="T-1"
    )
    key = sub["api_key"]
    monkeypatch.setenv("GPUBROKER_TOKEN", token)
    monkeypatch.setenv("GPUBROKER_API_KEY", key)
    api_server.defects = {"echo_secrets", "status_500", "lookup_500", "dict_body_422"}
    api_server.provisioning_polls = 1
    seen: list[str] = []
    ran: set[str] = set()

    def run(*args: str, input: str | None = None) -> tuple[int, str]:
        for debug in ((), ("--debug",)):
            result = runner.invoke(app, [*debug, *args], input=input, catch_exceptions=False)
            seen.append(f"$ {' '.join(args)}\n{result.stdout}\n{result.stderr}")
        words = [a for a in args if not a.startswith("-")]
        ran.update(" ".join(words[:n]) for n in (1, 2, 3))
        return result.exit_code, result.stdout

    run("plans")
    run("geo")
    run("validate", "id", "1713488185", "--remote")
    run("validate", "ruc", "1790869571001", "--remote")
    run("validate", "cedula", "1713488184", "--remote")
    run("auth", "login", "--with-token", input=token + "\n")
    run("auth", "status", "--verify")
    run("subscribe", "--plan", "pro", "--email", "bo@example.com", "--country", "US")
    _, out = run("pay", "paypal", "--json")
    order_id = json.loads(out)["order_id"]
    run("pay", "capture", order_id)  # not approved: refused
    api_server.approve(order_id)
    run("pay", "capture", order_id)
    run("activate")
    run("activate", "--api-key-stdin", input=key + "\n")
    run("activate", "--api-key", key[:-4] + "0000")  # an unknown key, echoed back
    run("status")  # the 500 page echoing ?key=... while provisioning
    run("status", "--watch", "--interval", "0.01", "--timeout", "5")
    for args in (
        ["dashboard"], ["pods"], ["customers"], ["customer", "ana@example.com"],
        ["customer", "nobody@example.com"], ["billing"], ["transaction", "T-1"],
        ["transaction", "T-404"], ["costs"], ["resend-receipt", "ana@example.com"], ["mode"],
        ["mode", "--config"], ["mode", "live", "--confirm"], ["pod", "metrics", sub["pod_id"]],
        ["pod", "start", sub["pod_id"], "--yes"], ["pod", "destroy", sub["pod_id"], "--yes"],
        ["pod", "destroy", "pod-00000000"],
    ):  # fmt: skip
        run("admin", *args)
    pod = sub["pod_id"]
    for args in (
        ["start", pod, "--budget", "50"], ["status", pod], ["decisions", pod],
        ["approve", pod, "dec-1"], ["reject", pod, "dec-9"], ["budget", pod, "60"],
        ["message", pod, "hola"], ["pause", pod], ["resume", pod], ["stop", pod],
    ):  # fmt: skip
        run("agent", *args)
    # The server refuses the token now, echoing the Authorization header it got.
    api_server.state.tokens.clear()
    run("admin", "pods")
    run("agent", "status", pod)
    run("auth", "status", "--verify")
    run("auth", "logout", "--api-key")

    # `auth token` exists to print the token: it does, and only it.
    result = runner.invoke(app, ["auth", "token"], catch_exceptions=False)
    assert result.stdout == token + "\n"
    ran.add("auth token")

    transcript = "\n".join(seen)
    assert token not in transcript and key not in transcript
    assert "<redacted>" in transcript, "the echoing server should have been redacted"
    assert "Traceback" in transcript  # --debug printed tracebacks, and they are clean
    for path in hermetic_env.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert token.encode() not in data and key.encode() not in data, path

    hosted = {"plans", "geo", "subscribe", "activate", "status"}
    groups = ("auth ", "pay ", "validate ", "admin ", "agent ")
    every = {p for p, _ in _commands(app) if p in hosted or p.startswith(groups)}
    assert every <= ran, f"commands the leak test never ran: {sorted(every - ran)}"
